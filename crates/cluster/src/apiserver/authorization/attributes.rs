//! What a request asks to do, as upstream's `authorizer.Attributes` describe it.

use crate::api::request::UserInfo;
use crate::api::status::StatusError;

/// A request's user, verb and target.
#[derive(Clone, Copy, Debug)]
pub struct Attributes<'a> {
    pub user: &'a UserInfo,
    /// `get`, `list`, `create`, … for resources; the lower-case HTTP method for paths.
    pub verb: &'a str,
    pub target: Target<'a>,
}

/// A resource (possibly one object or subresource of it) or a non-resource path.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Resource {
        group: &'a str,
        resource: &'a str,
        subresource: &'a str,
        /// Empty for cluster-scoped resources and requests across all namespaces.
        namespace: &'a str,
        /// Empty for collections.
        name: &'a str,
    },
    Path(&'a str),
}

impl Attributes<'_> {
    /// Upstream's forbidden message (`User "jane" cannot list resource "pods" in API
    /// group "" in the namespace "default"`), without the resource prefix.
    pub fn forbidden_message(&self) -> String {
        let username = &self.user.username;
        let verb = self.verb;
        match self.target {
            Target::Path(path) => format!("User {username:?} cannot {verb} path {path:?}"),
            Target::Resource {
                group,
                resource,
                subresource,
                namespace,
                ..
            } => {
                let resource = if subresource.is_empty() {
                    resource.to_string()
                } else {
                    format!("{resource}/{subresource}")
                };
                if namespace.is_empty() {
                    format!(
                        "User {username:?} cannot {verb} resource {resource:?} in API group {group:?} at the cluster scope"
                    )
                } else {
                    format!(
                        "User {username:?} cannot {verb} resource {resource:?} in API group {group:?} in the namespace {namespace:?}"
                    )
                }
            }
        }
    }

    /// Upstream's 403 for these attributes, with the authorizer's `reason` (if any)
    /// after the message.
    pub fn forbidden(&self, reason: &str) -> StatusError {
        let mut why = self.forbidden_message();
        if !reason.is_empty() {
            why = format!("{why}: {reason}");
        }
        match self.target {
            Target::Resource {
                group,
                resource,
                name,
                ..
            } => StatusError::forbidden_request(group, resource, name, &why),
            Target::Path(_) => StatusError::forbidden_request("", "", "", &why),
        }
    }
}
