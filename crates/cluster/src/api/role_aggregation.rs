//! ClusterRole aggregation: a ClusterRole with an `aggregationRule` holds the rules
//! of every ClusterRole its selectors match (`admin` ⊇ `edit` ⊇ `view`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};

use crate::api::labels::LabelSelector;

/// The rules `name` holds: its own, or — when it aggregates — those of every
/// ClusterRole its selectors match, in name order without repeats, followed through
/// roles that aggregate in turn (what the clusterrole-aggregation controller
/// converges to).
pub fn gathered_rules(roles: &BTreeMap<String, ClusterRole>, name: &str) -> Vec<PolicyRule> {
    gather(roles, name, &mut BTreeSet::new())
}

fn gather(
    roles: &BTreeMap<String, ClusterRole>,
    name: &str,
    visiting: &mut BTreeSet<String>,
) -> Vec<PolicyRule> {
    let Some(role) = roles.get(name) else {
        return Vec::new();
    };
    let Some(aggregation) = &role.aggregation_rule else {
        return role.rules.clone().unwrap_or_default();
    };
    if !visiting.insert(name.to_string()) {
        return Vec::new();
    }
    let selectors: Vec<LabelSelector> = aggregation
        .cluster_role_selectors
        .iter()
        .flatten()
        .filter_map(|s| serde_json::to_value(s).ok())
        .filter_map(|s| LabelSelector::from_json(&s).ok())
        .collect();
    let mut rules: Vec<PolicyRule> = Vec::new();
    for (other, candidate) in roles {
        let labels = candidate.metadata.labels.as_ref();
        if other == name || !selectors.iter().any(|s| s.matches_map(labels)) {
            continue;
        }
        for rule in gather(roles, other, visiting) {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    visiting.remove(name);
    rules
}
