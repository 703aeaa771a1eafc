//! RBAC kinds: names are path segments, not DNS names.

use k8s_openapi::api::rbac::v1 as rbac;

use super::{Plain, Strategy, Untyped};
use crate::api::names::NameRule;

/// The strategy for an RBAC resource by plural.
pub fn strategy(plural: &str) -> Box<dyn Strategy> {
    let rule = NameRule::PathSegment;
    match plural {
        "roles" => Box::new(Plain::<rbac::Role>::new(rule, false)),
        "rolebindings" => Box::new(Plain::<rbac::RoleBinding>::new(rule, false)),
        "clusterroles" => Box::new(Plain::<rbac::ClusterRole>::new(rule, false)),
        "clusterrolebindings" => Box::new(Plain::<rbac::ClusterRoleBinding>::new(rule, false)),
        _ => Box::new(Untyped),
    }
}
