//! Discovery and resource mapping: what the user typed (`po`, `pods`, `Pod`,
//! `deployments.apps`, `deploy`, the `all` category) → a served resource.

use kubecraft_cluster::api::{Request, ResourceInfo, Scope};

use crate::printers::go_values::json_strings as strings;
use crate::transport::Transport;

/// `pod`, `deployment.apps`: how `-o name` and multi-type listings name a kind.
pub fn kind_prefix(resource: &ResourceInfo) -> String {
    let kind = resource.kind.to_ascii_lowercase();
    if resource.group.is_empty() {
        kind
    } else {
        format!("{kind}.{}", resource.group)
    }
}

/// Every served top-level resource in every served version: first each group's
/// preferred version (core group first, then groups in discovery order), then the
/// other versions — so what the user types resolves to the preferred version, as
/// upstream's RESTMapper does, while manifests in any served version still map.
pub fn discover(transport: &mut dyn Transport) -> Vec<ResourceInfo> {
    let mut versions = vec![(String::new(), "v1".to_string())];
    let mut others = Vec::new();
    let groups = transport.send(Request::get("/apis")).body_json();
    for group in groups["groups"].as_array().into_iter().flatten() {
        let name = group["name"].as_str().unwrap_or("").to_string();
        let preferred = group["preferredVersion"]["version"].as_str().unwrap_or("");
        versions.push((name.clone(), preferred.to_string()));
        for version in group["versions"].as_array().into_iter().flatten() {
            let version = version["version"].as_str().unwrap_or("");
            if version != preferred {
                others.push((name.clone(), version.to_string()));
            }
        }
    }
    versions.extend(others);
    let mut resources = Vec::new();
    for (group, version) in versions {
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let list = transport.send(Request::get(path)).body_json();
        for r in list["resources"].as_array().into_iter().flatten() {
            let plural = r["name"].as_str().unwrap_or("");
            if plural.contains('/') {
                continue;
            }
            let namespaced = r["namespaced"].as_bool().unwrap_or(false);
            resources.push(ResourceInfo {
                group: group.clone(),
                version: version.clone(),
                plural: plural.to_string(),
                singular: r["singularName"].as_str().unwrap_or("").to_string(),
                kind: r["kind"].as_str().unwrap_or("").to_string(),
                scope: if namespaced {
                    Scope::Namespaced
                } else {
                    Scope::Cluster
                },
                verbs: strings(&r["verbs"]),
                short_names: strings(&r["shortNames"]),
                categories: strings(&r["categories"]),
                subresources: Vec::new(),
                selectable_fields: Vec::new(),
            });
        }
    }
    resources
}

/// Upstream's error for a resource type the server does not serve.
pub fn unknown_resource_type(typed: &str) -> String {
    format!("error: the server doesn't have a resource type {typed:?}\n")
}

/// [`resolve`], or upstream's error when the server does not serve `typed`.
pub fn resolve_known<'a>(
    resources: &'a [ResourceInfo],
    typed: &str,
) -> Result<&'a ResourceInfo, String> {
    resolve(resources, typed).ok_or_else(|| unknown_resource_type(typed))
}

/// Resolves one resource argument; `None` when the server has no such type.
pub fn resolve<'a>(resources: &'a [ResourceInfo], typed: &str) -> Option<&'a ResourceInfo> {
    let lower = typed.to_ascii_lowercase();
    let (name, group) = match lower.split_once('.') {
        Some((name, group)) => (name.to_string(), Some(group.to_string())),
        None => (lower.clone(), None),
    };
    let in_group = |r: &&ResourceInfo| match &group {
        // `deployments.apps` or `deployments.v1.apps`.
        Some(g) => r.group == *g || format!("{}.{}", r.version, r.group) == *g,
        None => true,
    };
    let candidates = || resources.iter().filter(in_group);
    candidates()
        .find(|r| r.plural == name)
        .or_else(|| candidates().find(|r| r.singular == name))
        .or_else(|| candidates().find(|r| r.short_names.contains(&name)))
        .or_else(|| candidates().find(|r| r.kind.to_ascii_lowercase() == name))
}

/// Upstream's warnings for a short name that also names a resource of another
/// group, lower in discovery's priority (`short name "ev" could also match lower
/// priority resource events.events.k8s.io`); none when `typed` is a full name.
pub fn ambiguous_short_name(resources: &[ResourceInfo], typed: &str) -> Vec<String> {
    let lower = typed.to_ascii_lowercase();
    let (name, group) = match lower.split_once('.') {
        Some((name, group)) => (name, Some(group)),
        None => (lower.as_str(), None),
    };
    let in_group = |r: &&ResourceInfo| group.is_none_or(|g| r.group == g);
    if resources
        .iter()
        .filter(in_group)
        .any(|r| r.plural == name || r.singular == name)
    {
        return Vec::new();
    }
    let mut matched: Vec<(&str, &str)> = Vec::new();
    let mut warnings = Vec::new();
    for r in resources.iter().filter(in_group) {
        if !r.short_names.iter().any(|s| s == name) {
            continue;
        }
        let long_form = (r.group.as_str(), r.plural.as_str());
        if matched.is_empty() {
            matched.push(long_form);
        } else if !matched.contains(&long_form) {
            matched.push(long_form);
            let qualified = if r.group.is_empty() {
                r.plural.clone()
            } else {
                format!("{}.{}", r.plural, r.group)
            };
            warnings.push(format!(
                "short name {name:?} could also match lower priority resource {qualified}"
            ));
        }
    }
    warnings
}

/// Hands the transport upstream's warning for each ambiguous short name among the
/// types a command line names (`TYPE[,TYPE]` or `TYPE/NAME` words).
pub fn warn_ambiguous(transport: &mut dyn Transport, resources: &[ResourceInfo], words: &[String]) {
    let typed: Vec<&str> = match words.first() {
        Some(first) if first.contains('/') => words
            .iter()
            .filter_map(|w| w.split_once('/').map(|(t, _)| t))
            .collect(),
        Some(first) => first.split(',').collect(),
        None => Vec::new(),
    };
    for typed in typed {
        for warning in ambiguous_short_name(resources, typed) {
            transport.warn(warning);
        }
    }
}

/// Each resource once, in its group's preferred version (what `api-resources` lists).
pub fn preferred(resources: &[ResourceInfo]) -> Vec<&ResourceInfo> {
    let mut seen = std::collections::HashSet::new();
    resources
        .iter()
        .filter(|r| seen.insert((r.group.as_str(), r.plural.as_str())))
        .collect()
}

/// The resources in a category such as `all`, in kubectl's order for `all`.
pub fn category<'a>(resources: &'a [ResourceInfo], name: &str) -> Vec<&'a ResourceInfo> {
    preferred(resources)
        .into_iter()
        .filter(|r| r.categories.iter().any(|c| c == name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, plural: &str, short: &[&str]) -> ResourceInfo {
        ResourceInfo {
            group: group.into(),
            version: "v1".into(),
            plural: plural.into(),
            singular: plural.trim_end_matches('s').into(),
            kind: String::new(),
            scope: Scope::Namespaced,
            verbs: Vec::new(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            categories: Vec::new(),
            subresources: Vec::new(),
            selectable_fields: Vec::new(),
        }
    }

    #[test]
    fn a_short_name_shared_across_groups_warns_about_each_lower_one() {
        let resources = [
            resource("", "pods", &["po"]),
            resource("example.com", "pods", &["po"]),
            resource("example.com", "potatoes", &["po"]),
            resource("", "pods", &["po"]),
        ];
        assert_eq!(
            ambiguous_short_name(&resources, "po"),
            vec![
                "short name \"po\" could also match lower priority resource pods.example.com",
                "short name \"po\" could also match lower priority resource potatoes.example.com",
            ]
        );
        // A full name, or a group that settles it, is not ambiguous.
        assert!(ambiguous_short_name(&resources, "pods").is_empty());
        assert!(ambiguous_short_name(&resources, "po.example.com").len() == 1);
        assert!(ambiguous_short_name(&resources, "po.nowhere").is_empty());
    }
}
