//! `Impersonate-User` and `Impersonate-Group`: a user allowed to `impersonate` users,
//! groups or service accounts acts as another (kubectl's `--as` and `--as-group`).

use super::attributes::{Attributes, Target};
use super::policy::Policy;
use crate::api::request::{Request, UserInfo};
use crate::api::status::StatusError;

const USER_HEADER: &str = "Impersonate-User";
const GROUP_HEADER: &str = "Impersonate-Group";
const ALL_AUTHENTICATED: &str = "system:authenticated";
const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
const ANONYMOUS: &str = "system:anonymous";

/// The service account a username names (`system:serviceaccount:NAMESPACE:NAME`).
fn service_account(username: &str) -> Option<(&str, &str)> {
    username
        .strip_prefix("system:serviceaccount:")?
        .split_once(':')
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains(':'))
}

/// The user `req` acts as when it impersonates someone, once `policy` has allowed
/// the requester each `impersonate`; `None` when it impersonates no one.
pub fn impersonated(policy: &Policy, req: &Request) -> Result<Option<UserInfo>, StatusError> {
    let username = req.header(USER_HEADER);
    let groups: Vec<String> = req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(GROUP_HEADER))
        .map(|(_, v)| v.clone())
        .collect();
    let Some(username) = username else {
        if groups.is_empty() {
            return Ok(None);
        }
        return Err(StatusError::internal(format!(
            "requested {groups:?} without impersonating a user"
        )));
    };
    let check = |resource: &str, namespace: &str, name: &str| {
        let attributes = Attributes {
            user: &req.user,
            verb: "impersonate",
            target: Target::Resource {
                group: "",
                resource,
                subresource: "",
                namespace,
                name,
            },
        };
        policy
            .authorize(&attributes)
            .map(|_| ())
            .map_err(|reason| attributes.forbidden(&reason))
    };
    let mut effective_groups = groups.clone();
    match service_account(username) {
        Some((namespace, name)) => {
            check("serviceaccounts", namespace, name)?;
            if groups.is_empty() {
                effective_groups = vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                ];
            }
        }
        None => check("users", "", username)?,
    }
    for group in &groups {
        check("groups", "", group)?;
    }
    if username == ANONYMOUS {
        if !effective_groups.iter().any(|g| g == ALL_UNAUTHENTICATED) {
            effective_groups.push(ALL_UNAUTHENTICATED.into());
        }
    } else if !effective_groups
        .iter()
        .any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED)
    {
        effective_groups.push(ALL_AUTHENTICATED.into());
    }
    Ok(Some(UserInfo {
        username: username.to_string(),
        groups: effective_groups,
    }))
}
