//! kubectl's `pkg/util/rbac`: policy rules broken down per resource, compacted and
//! sorted the way `auth can-i --list` and `describe role` print them.

use serde_json::Value;

use crate::printers::go_values::{go_list, json_strings as strings};

/// A policy rule as kubectl handles it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl Rule {
    /// The generated `PolicyRule.String()`, which kubectl sorts by.
    fn go_string(&self) -> String {
        format!(
            "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
            go_list(&self.verbs),
            go_list(&self.api_groups),
            go_list(&self.resources),
            go_list(&self.resource_names),
            go_list(&self.non_resource_urls)
        )
    }

    /// `BreakdownRule`: one rule per group, resource and resource name, and per URL.
    fn breakdown(&self) -> Vec<Rule> {
        let mut rules = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                let one = |names: Vec<String>| Rule {
                    verbs: self.verbs.clone(),
                    api_groups: vec![group.clone()],
                    resources: vec![resource.clone()],
                    resource_names: names,
                    non_resource_urls: Vec::new(),
                };
                if self.resource_names.is_empty() {
                    rules.push(one(Vec::new()));
                } else {
                    rules.extend(self.resource_names.iter().map(|n| one(vec![n.clone()])));
                }
            }
        }
        for url in &self.non_resource_urls {
            rules.push(Rule {
                verbs: self.verbs.clone(),
                non_resource_urls: vec![url.clone()],
                ..Rule::default()
            });
        }
        rules
    }

    /// Whether `CompactRules` may merge this rule's verbs with others on the same target.
    fn is_simple(&self) -> bool {
        self.non_resource_urls.is_empty()
            && self.resource_names.len() <= 1
            && self.api_groups.len() == 1
            && self.resources.len() == 1
    }
}

/// `CompactRules`: simple rules on the same group, resource and name share one
/// rule with the union of their verbs; the others stay as they are.
fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut complex = Vec::new();
    let mut simple: Vec<Rule> = Vec::new();
    for rule in rules {
        if !rule.is_simple() {
            complex.push(rule);
            continue;
        }
        let same = simple.iter_mut().find(|r| {
            r.api_groups == rule.api_groups
                && r.resources == rule.resources
                && r.resource_names == rule.resource_names
        });
        match same {
            Some(existing) => {
                for verb in rule.verbs {
                    if !existing.verbs.contains(&verb) {
                        existing.verbs.push(verb);
                    }
                }
            }
            None => simple.push(rule),
        }
    }
    complex.extend(simple);
    complex
}

/// `describe.CombineResourceGroup`: `deployments.apps`, `pods/log`.
pub fn resource_with_group(rule: &Rule) -> String {
    let Some(first) = rule.resources.first() else {
        return String::new();
    };
    let (resource, sub) = match first.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (first.as_str(), None),
    };
    let mut combined = resource.to_string();
    if let Some(group) = rule.api_groups.first().filter(|g| !g.is_empty()) {
        combined.push('.');
        combined.push_str(group);
    }
    if let Some(sub) = sub {
        combined.push('/');
        combined.push_str(sub);
    }
    combined
}

/// A rule from its JSON (a PolicyRule, or a review's ResourceRule or NonResourceRule).
pub fn from_json(rule: &Value) -> Rule {
    Rule {
        verbs: strings(&rule["verbs"]),
        api_groups: strings(&rule["apiGroups"]),
        resources: strings(&rule["resources"]),
        resource_names: strings(&rule["resourceNames"]),
        non_resource_urls: strings(&rule["nonResourceURLs"]),
    }
}

/// Breaks `rules` down, compacts and sorts them: the rows kubectl prints.
pub fn compact_sorted(rules: &[Rule]) -> Vec<Rule> {
    let broken: Vec<Rule> = rules.iter().flat_map(Rule::breakdown).collect();
    let mut compacted = compact(broken);
    compacted.sort_by_cached_key(Rule::go_string);
    compacted
}

/// A rule's row: resources with group, non-resource URLs, resource names, verbs.
pub fn row(rule: &Rule) -> Vec<String> {
    vec![
        resource_with_group(rule),
        go_list(&rule.non_resource_urls),
        go_list(&rule.resource_names),
        go_list(&rule.verbs),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
        let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        Rule {
            verbs: owned(verbs),
            api_groups: owned(groups),
            resources: owned(resources),
            ..Rule::default()
        }
    }

    #[test]
    fn rules_are_broken_down_then_merged_per_resource() {
        let rules = [
            rule(&["get", "list"], &["", "apps"], &["pods"]),
            rule(&["watch", "get"], &[""], &["pods"]),
        ];
        let broken: Vec<Rule> = rules.iter().flat_map(Rule::breakdown).collect();
        assert_eq!(broken.len(), 3);
        let compacted = compact(broken);
        assert_eq!(
            compacted,
            vec![
                rule(&["get", "list", "watch"], &[""], &["pods"]),
                rule(&["get", "list"], &["apps"], &["pods"]),
            ]
        );
        assert_eq!(
            resource_with_group(&rule(&[], &["apps"], &["deployments/scale"])),
            "deployments.apps/scale"
        );
    }
}
