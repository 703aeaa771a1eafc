//! `kubectl create role|clusterrole NAME --verb=... --resource=...` and
//! `kubectl create rolebinding|clusterrolebinding NAME --role|--clusterrole=...
//! --user|--group|--serviceaccount=...`: the objects kubectl builds, with its checks.

use kubecraft_cluster::api::ResourceInfo;
use serde_json::{json, Value};

use crate::discovery::resolve;
use crate::flags::{value, Flag, Parsed};

const RBAC_API_VERSION: &str = "rbac.authorization.k8s.io/v1";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The flags of `create role` (and, with `--non-resource-url`, `create clusterrole`).
pub const ROLE_FLAGS: &[Flag] = &[
    value("verb", None),
    value("resource", None),
    value("resource-name", None),
    value("non-resource-url", None),
];

/// The flags of `create rolebinding`.
pub const BINDING_FLAGS: &[Flag] = &[
    value("role", None),
    value("clusterrole", None),
    value("user", None),
    value("group", None),
    value("serviceaccount", None),
];

/// The flags of `create clusterrolebinding` (no `--role`).
pub const CLUSTER_BINDING_FLAGS: &[Flag] = &[
    value("clusterrole", None),
    value("user", None),
    value("group", None),
    value("serviceaccount", None),
];

/// Verbs kubectl accepts without a warning.
const STANDARD_VERBS: &[&str] = &[
    "*",
    "get",
    "delete",
    "list",
    "create",
    "update",
    "patch",
    "watch",
    "proxy",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
];
const NON_RESOURCE_VERBS: &[&str] = &[
    "*", "get", "post", "put", "delete", "patch", "head", "options",
];

/// Verbs that only make sense on particular resources: (verb, [(group, resource)]).
const SPECIAL_VERBS: &[(&str, &[(&str, &str)])] = &[
    (
        "use",
        &[
            ("policy", "podsecuritypolicies"),
            ("extensions", "podsecuritypolicies"),
        ],
    ),
    (
        "bind",
        &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
    ),
    (
        "escalate",
        &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
    ),
    (
        "impersonate",
        &[
            ("", "users"),
            ("", "serviceaccounts"),
            ("", "groups"),
            ("authentication.k8s.io", "userextras"),
            ("authentication.k8s.io", "uids"),
        ],
    ),
];

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// One `--resource` value: `pods`, `deployments.apps`, `pods/log`.
struct ResourceArg {
    resource: String,
    group: String,
    subresource: String,
}

fn parse_resource(text: &str) -> ResourceArg {
    let (main, subresource) = match text.split_once('/') {
        Some((main, sub)) => (main, sub),
        None => (text, ""),
    };
    let (resource, group) = match main.split_once('.') {
        Some((resource, group)) => (resource, group),
        None => (main, ""),
    };
    ResourceArg {
        resource: resource.to_string(),
        group: group.to_string(),
        subresource: subresource.to_string(),
    }
}

/// A Role or ClusterRole (`kind`), with the warnings kubectl prints for unusual verbs.
pub fn role(
    kind: &str,
    name: &str,
    parsed: &Parsed,
    resources: &[ResourceInfo],
) -> Result<(Value, Vec<String>), String> {
    let mut verbs = Vec::new();
    for verb in parsed.get_slice("verb") {
        if verb == "*" {
            verbs = vec![verb];
            break;
        }
        push_unique(&mut verbs, verb);
    }
    let mut targets: Vec<ResourceArg> = Vec::new();
    for text in parsed.get_slice("resource") {
        let arg = parse_resource(&text);
        if !targets.iter().any(|t| {
            (&t.resource, &t.group, &t.subresource) == (&arg.resource, &arg.group, &arg.subresource)
        }) {
            targets.push(arg);
        }
    }
    let mut names = Vec::new();
    for name in parsed.get_all("resource-name") {
        push_unique(&mut names, name);
    }
    let urls = parsed.get_slice("non-resource-url");
    if verbs.is_empty() {
        return Err("error: at least one verb must be specified\n".into());
    }
    if kind == "Role" && targets.is_empty() {
        return Err("error: at least one resource must be specified\n".into());
    }
    if targets.is_empty() && urls.is_empty() {
        return Err("error: one of resource or nonResourceURL must be specified\n".into());
    }
    let mut warnings = Vec::new();
    if !targets.is_empty() {
        for verb in &verbs {
            if !STANDARD_VERBS.contains(&verb.as_str()) {
                warnings.push(format!(
                    "Warning: '{verb}' is not a standard resource verb\n"
                ));
            }
        }
    }
    // Each resource as the server names it, grouped by API group (groups sorted).
    let mut by_group: Vec<(String, Vec<String>)> = Vec::new();
    for target in &targets {
        if target.resource.is_empty() {
            return Err(
                "error: resource must be specified if apiGroup/subresource specified\n".into(),
            );
        }
        let typed = if target.group.is_empty() {
            target.resource.clone()
        } else {
            format!("{}.{}", target.resource, target.group)
        };
        let mapped = if target.resource == "*" {
            None
        } else {
            resolve(resources, &typed)
                .filter(|r| target.group.is_empty() || r.group == target.group)
        };
        let (group, mut resource) = match mapped {
            Some(info) => (info.group.clone(), info.plural.clone()),
            None => (target.group.clone(), target.resource.clone()),
        };
        if target.resource != "*" {
            for verb in &verbs {
                if let Some((_, allowed)) = SPECIAL_VERBS.iter().find(|(v, _)| v == verb) {
                    if !allowed.iter().any(|(g, r)| *g == group && *r == resource) {
                        return Err(format!(
                            "error: can not perform '{verb}' on '{resource}' in group '{group}'\n"
                        ));
                    }
                } else if mapped.is_none() {
                    return Err(format!(
                        "the server doesn't have a resource type {:?}\n",
                        target.resource
                    ));
                }
            }
        }
        if !target.subresource.is_empty() {
            resource = format!("{resource}/{}", target.subresource);
        }
        match by_group.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) => push_unique(list, resource),
            None => by_group.push((group, vec![resource])),
        }
    }
    by_group.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rules: Vec<Value> = by_group
        .into_iter()
        .map(|(group, resources)| {
            let mut rule = json!({"apiGroups": [group], "resources": resources, "verbs": verbs});
            if !names.is_empty() {
                rule["resourceNames"] = json!(names);
            }
            rule
        })
        .collect();
    if !urls.is_empty() {
        for url in &urls {
            if !url.starts_with('/') {
                return Err("error: nonResourceURL should start with /\n".into());
            }
        }
        for verb in &verbs {
            if !NON_RESOURCE_VERBS.contains(&verb.as_str()) {
                return Err(format!(
                    "error: invalid verb: '{verb}' for nonResourceURL\n"
                ));
            }
        }
        rules.push(json!({"nonResourceURLs": urls, "verbs": verbs}));
    }
    let role = json!({
        "apiVersion": RBAC_API_VERSION,
        "kind": kind,
        "metadata": {"name": name},
        "rules": rules,
    });
    Ok((role, warnings))
}

/// A RoleBinding or ClusterRoleBinding (`kind`).
pub fn binding(kind: &str, name: &str, parsed: &Parsed) -> Result<Value, String> {
    let role = parsed.get("role").filter(|r| !r.is_empty());
    let cluster_role = parsed.get("clusterrole").filter(|r| !r.is_empty());
    let role_ref = match (kind, role, cluster_role) {
        ("ClusterRoleBinding", _, None) => {
            return Err("error: required flag(s) \"clusterrole\" not set\n".into())
        }
        ("RoleBinding", Some(role), None) => {
            json!({"apiGroup": RBAC_GROUP, "kind": "Role", "name": role})
        }
        (_, None, Some(cluster_role)) | ("ClusterRoleBinding", _, Some(cluster_role)) => {
            json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": cluster_role})
        }
        _ => return Err("error: exactly one of clusterrole or role must be specified\n".into()),
    };
    let mut subjects = Vec::new();
    for (flag, subject_kind) in [("user", "User"), ("group", "Group")] {
        for subject in parsed.get_all(flag) {
            subjects.push(json!({"apiGroup": RBAC_GROUP, "kind": subject_kind, "name": subject}));
        }
    }
    for account in parsed.get_all("serviceaccount") {
        match account.split_once(':') {
            Some((namespace, account)) if !namespace.is_empty() && !account.is_empty() => {
                subjects.push(
                    json!({"kind": "ServiceAccount", "name": account, "namespace": namespace}),
                );
            }
            _ => return Err("error: serviceaccount must be <namespace>:<name>\n".into()),
        }
    }
    let mut binding = json!({
        "apiVersion": RBAC_API_VERSION,
        "kind": kind,
        "metadata": {"name": name},
        "roleRef": role_ref,
    });
    if !subjects.is_empty() {
        binding["subjects"] = json!(subjects);
    }
    Ok(binding)
}
