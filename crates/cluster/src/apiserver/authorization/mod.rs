//! Authorization, as kube-apiserver does it: impersonation first, then members of
//! `system:masters` may do anything and everyone else what RBAC grants them.
//! Refusals are 403 Forbidden in upstream's words.

pub mod access_review;
pub mod attributes;
pub mod bootstrap;
mod impersonation;
pub mod policy;

use attributes::{Attributes, Target};
use policy::Policy;

use super::route::Route;
use super::ApiServer;
use crate::api::request::{Request, UserInfo};
use crate::api::status::StatusError;

/// The resource ids of the four RBAC kinds, whose writes change the policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct RbacResources {
    pub cluster_roles: usize,
    pub roles: usize,
    pub cluster_bindings: usize,
    pub bindings: usize,
}

impl RbacResources {
    fn contains(&self, resource: usize) -> bool {
        [
            self.cluster_roles,
            self.roles,
            self.cluster_bindings,
            self.bindings,
        ]
        .contains(&resource)
    }
}

/// What a routed request asks to do, as upstream's RequestInfo gives it to authorizers.
pub fn request_attributes<'a>(
    req: &'a Request,
    user: &'a UserInfo,
    route: Option<&'a Route>,
) -> Attributes<'a> {
    let target = match route {
        Some(Route::Resource(rr)) => {
            let name = rr.name.as_deref().unwrap_or("");
            // A namespace's own requests are in that namespace.
            let namespace = match rr.namespace.as_deref() {
                Some(ns) => ns,
                None if rr.group.is_empty() && rr.resource == "namespaces" => name,
                None => "",
            };
            return Attributes {
                user,
                verb: rr.verb,
                target: Target::Resource {
                    group: &rr.group,
                    resource: &rr.resource,
                    subresource: rr.subresource.as_deref().unwrap_or(""),
                    namespace,
                    name,
                },
            };
        }
        _ => Target::Path(req.path.split('?').next().unwrap_or("")),
    };
    Attributes {
        user,
        verb: req.method.verb(),
        target,
    }
}

impl ApiServer {
    /// The RBAC policy, parsed from storage again after any RBAC object changed.
    pub(super) fn policy(&mut self) -> &Policy {
        if self.policy.is_none() {
            let rbac = self.rbac;
            let texts = |resource: usize| {
                self.served[resource]
                    .table
                    .scan("", None)
                    .map(|stored| &*stored.json)
            };
            self.policy = Some(Policy::from_objects(
                texts(rbac.cluster_roles),
                texts(rbac.roles),
                texts(rbac.cluster_bindings),
                texts(rbac.bindings),
            ));
        }
        self.policy.as_ref().expect("just built")
    }

    /// Forgets the parsed policy when `resource` is an RBAC kind.
    pub(super) fn note_policy_change(&mut self, resource: usize) {
        if self.rbac.contains(resource) {
            self.policy = None;
        }
    }

    /// Impersonation, then authorization of `req`; the user it acts as when that is
    /// not its own.
    pub(super) fn authorize_request(
        &mut self,
        req: &Request,
        route: Option<&Route>,
    ) -> Result<Option<UserInfo>, StatusError> {
        let policy = self.policy();
        let impersonated = impersonation::impersonated(policy, req)?;
        let user = impersonated.as_ref().unwrap_or(&req.user);
        let attributes = request_attributes(req, user, route);
        match policy.authorize(&attributes) {
            Ok(_) => Ok(impersonated),
            Err(reason) => Err(attributes.forbidden(&reason)),
        }
    }
}
