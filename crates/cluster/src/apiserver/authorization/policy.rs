//! The RBAC authorizer: Roles, ClusterRoles and their bindings, parsed once from
//! storage, and upstream's rule and subject matching over them.

use std::collections::HashMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::attributes::{Attributes, Target};
use crate::api::request::UserInfo;

/// The group whose members may do anything, whatever RBAC says.
pub const PRIVILEGED_GROUP: &str = "system:masters";

fn is_privileged(user: &UserInfo) -> bool {
    user.groups.iter().any(|g| g == PRIVILEGED_GROUP)
}

/// One binding's grant, named as upstream names it.
#[derive(Clone, Debug)]
pub struct Binding {
    /// Set for RoleBindings.
    namespace: Option<String>,
    name: String,
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

/// Everything RBAC decides with.
#[derive(Debug, Default)]
pub struct Policy {
    /// ClusterRole name → its rules (for aggregated roles, as the
    /// clusterrole-aggregation controller last wrote them).
    cluster_rules: HashMap<String, Vec<PolicyRule>>,
    /// (namespace, name) → rules.
    roles: HashMap<(String, String), Vec<PolicyRule>>,
    cluster_bindings: Vec<Binding>,
    namespace_bindings: HashMap<String, Vec<Binding>>,
}

/// Why a request was allowed.
#[derive(Clone, Copy, Debug)]
pub enum Grant<'p> {
    /// The user is in `system:masters`.
    Privileged,
    /// A binding's rule; with the subject that matched.
    Binding(&'p Binding, &'p Subject),
}

impl Grant<'_> {
    /// Upstream's reason: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`.
    pub fn reason(&self) -> String {
        match self {
            Grant::Privileged => String::new(),
            Grant::Binding(binding, subject) => {
                let namespace = binding.namespace.as_deref().unwrap_or("");
                let (kind, name) = match &binding.namespace {
                    Some(ns) => ("RoleBinding", format!("{}/{ns}", binding.name)),
                    None => ("ClusterRoleBinding", binding.name.clone()),
                };
                format!(
                    "RBAC: allowed by {kind} {name:?} of {} {:?} to {}",
                    binding.role_ref.kind,
                    binding.role_ref.name,
                    describe_subject(subject, namespace)
                )
            }
        }
    }
}

/// `User "jane"`, `Group "dev"`, `ServiceAccount "default/ns"`.
fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    if subject.kind == "ServiceAccount" {
        let namespace = subject.namespace.as_deref().unwrap_or(binding_namespace);
        return format!(
            "{} {:?}",
            subject.kind,
            format!("{}/{namespace}", subject.name)
        );
    }
    format!("{} {:?}", subject.kind, subject.name)
}

/// The name a service account authenticates as.
pub fn service_account_username(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

fn applies_to(user: &UserInfo, subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.username == subject.name,
        "Group" => user.groups.contains(&subject.name),
        "ServiceAccount" => {
            let namespace = subject.namespace.as_deref().unwrap_or(namespace);
            !namespace.is_empty()
                && user
                    .username
                    .strip_prefix("system:serviceaccount:")
                    .and_then(|rest| rest.split_once(':'))
                    .is_some_and(|(ns, name)| ns == namespace && name == subject.name)
        }
        _ => false,
    }
}

fn has_or_star(list: &[String], value: &str) -> bool {
    list.iter().any(|item| item == "*" || item == value)
}

/// Upstream's `RuleAllows`.
pub fn rule_allows(attributes: &Attributes, rule: &PolicyRule) -> bool {
    if !has_or_star(&rule.verbs, attributes.verb) {
        return false;
    }
    match attributes.target {
        Target::Resource {
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            let groups = rule.api_groups.as_deref().unwrap_or_default();
            let resources = rule.resources.as_deref().unwrap_or_default();
            let names = rule.resource_names.as_deref().unwrap_or_default();
            has_or_star(groups, group)
                && resources.iter().any(|r| {
                    r == "*"
                        || (subresource.is_empty() && r == resource)
                        || (!subresource.is_empty()
                            && (r
                                .strip_prefix(resource)
                                .and_then(|rest| rest.strip_prefix('/'))
                                == Some(subresource)
                                || r.strip_prefix("*/") == Some(subresource)))
                })
                && (names.is_empty() || names.iter().any(|n| n == name))
        }
        Target::Path(path) => rule
            .non_resource_urls
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|url| {
                url == "*"
                    || url == path
                    || url
                        .strip_suffix('*')
                        .is_some_and(|prefix| path.starts_with(prefix))
            }),
    }
}

impl Policy {
    /// Builds the policy from the stored objects' JSON text.
    pub fn from_objects<'a>(
        cluster_roles: impl Iterator<Item = &'a str>,
        roles: impl Iterator<Item = &'a str>,
        cluster_bindings: impl Iterator<Item = &'a str>,
        bindings: impl Iterator<Item = &'a str>,
    ) -> Policy {
        let mut policy = Policy::default();
        for role in cluster_roles.filter_map(|j| serde_json::from_str::<ClusterRole>(j).ok()) {
            let name = role.metadata.name.unwrap_or_default();
            policy
                .cluster_rules
                .insert(name, role.rules.unwrap_or_default());
        }
        for role in roles.filter_map(|j| serde_json::from_str::<Role>(j).ok()) {
            let key = (
                role.metadata.namespace.clone().unwrap_or_default(),
                role.metadata.name.clone().unwrap_or_default(),
            );
            policy.roles.insert(key, role.rules.unwrap_or_default());
        }
        let binding = |namespace, name: Option<String>, role_ref, subjects: Option<_>| Binding {
            namespace,
            name: name.unwrap_or_default(),
            role_ref,
            subjects: subjects.unwrap_or_default(),
        };
        for b in cluster_bindings.filter_map(|j| serde_json::from_str::<ClusterRoleBinding>(j).ok())
        {
            let b = binding(None, b.metadata.name, b.role_ref, b.subjects);
            policy.cluster_bindings.push(b);
        }
        for b in bindings.filter_map(|j| serde_json::from_str::<RoleBinding>(j).ok()) {
            let namespace = b.metadata.namespace.unwrap_or_default();
            let b = binding(
                Some(namespace.clone()),
                b.metadata.name,
                b.role_ref,
                b.subjects,
            );
            policy
                .namespace_bindings
                .entry(namespace)
                .or_default()
                .push(b);
        }
        policy
    }

    fn rules_of(&self, role_ref: &RoleRef, namespace: &str) -> Result<&[PolicyRule], String> {
        match role_ref.kind.as_str() {
            "ClusterRole" => self
                .cluster_rules
                .get(&role_ref.name)
                .map(Vec::as_slice)
                .ok_or_else(|| {
                    format!(
                        "clusterrole.rbac.authorization.k8s.io {:?} not found",
                        role_ref.name
                    )
                }),
            "Role" => self
                .roles
                .get(&(namespace.to_string(), role_ref.name.clone()))
                .map(Vec::as_slice)
                .ok_or_else(|| {
                    format!(
                        "role.rbac.authorization.k8s.io {:?} not found",
                        role_ref.name
                    )
                }),
            other => Err(format!("unsupported role reference kind: {other:?}")),
        }
    }

    /// Every (binding, subject, rules) that applies to `user` in `namespace` (cluster
    /// bindings first), with the errors met resolving role references.
    fn visit<'p>(
        &'p self,
        user: &UserInfo,
        namespace: &str,
        mut each: impl FnMut(Grant<'p>, &'p [PolicyRule]) -> bool,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let namespaced = self
            .namespace_bindings
            .get(namespace)
            .filter(|_| !namespace.is_empty())
            .into_iter()
            .flatten();
        for binding in self.cluster_bindings.iter().chain(namespaced) {
            let binding_namespace = binding.namespace.as_deref().unwrap_or("");
            let Some(subject) = binding
                .subjects
                .iter()
                .find(|s| applies_to(user, s, binding_namespace))
            else {
                continue;
            };
            match self.rules_of(&binding.role_ref, binding_namespace) {
                Ok(rules) => {
                    if !each(Grant::Binding(binding, subject), rules) {
                        return errors;
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// Decides a request: the grant that allows it, or the reason it has none (empty
    /// unless role references could not be resolved).
    pub fn authorize<'p>(&'p self, attributes: &Attributes) -> Result<Grant<'p>, String> {
        if is_privileged(attributes.user) {
            return Ok(Grant::Privileged);
        }
        let namespace = match attributes.target {
            Target::Resource { namespace, .. } => namespace,
            Target::Path(_) => "",
        };
        let mut grant = None;
        let errors = self.visit(attributes.user, namespace, |source, rules| {
            if rules.iter().any(|rule| rule_allows(attributes, rule)) {
                grant = Some(source);
                return false;
            }
            true
        });
        match grant {
            Some(grant) => Ok(grant),
            None if errors.is_empty() => Err(String::new()),
            None if errors.len() == 1 => Err(format!("RBAC: {}", errors[0])),
            None => Err(format!("RBAC: [{}]", errors.join(", "))),
        }
    }

    /// Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview), with
    /// the errors met.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        if is_privileged(user) {
            rules.push(PolicyRule {
                api_groups: Some(vec!["*".into()]),
                resources: Some(vec!["*".into()]),
                verbs: vec!["*".into()],
                ..Default::default()
            });
            rules.push(PolicyRule {
                non_resource_urls: Some(vec!["*".into()]),
                verbs: vec!["*".into()],
                ..Default::default()
            });
        }
        let errors = self.visit(user, namespace, |_, found| {
            rules.extend(found.iter().cloned());
            true
        });
        (rules, errors)
    }
}
