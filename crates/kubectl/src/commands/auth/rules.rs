//! `kubectl auth can-i --list`: the rules a SelfSubjectRulesReview returns, broken
//! down, compacted and sorted as kubectl's `rbac` utilities do.

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use crate::errors::server_error;
use crate::output::Output;
use crate::printers::tabwriter::align;
use crate::transport::Transport;

/// A policy rule as kubectl handles it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rule {
    verbs: Vec<String>,
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    non_resource_urls: Vec<String>,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
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
fn resource_with_group(rule: &Rule) -> String {
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

/// Asks for and prints the rules that apply in `namespace`.
pub fn run(transport: &mut dyn Transport, namespace: &str, no_headers: bool) -> Output {
    let mut out = Output::default();
    let review = json!({
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"namespace": namespace},
    });
    let response = transport.send(Request::post(
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        review.to_string(),
    ));
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let status = &response.body_json()["status"];
    if status["incomplete"].as_bool() == Some(true) {
        out.err(format!(
            "Warning: the list may be incomplete: {}\n",
            status["evaluationError"].as_str().unwrap_or("")
        ));
    }
    let mut rules: Vec<Rule> = Vec::new();
    for rule in status["resourceRules"].as_array().into_iter().flatten() {
        rules.push(Rule {
            verbs: strings(&rule["verbs"]),
            api_groups: strings(&rule["apiGroups"]),
            resources: strings(&rule["resources"]),
            resource_names: strings(&rule["resourceNames"]),
            non_resource_urls: Vec::new(),
        });
    }
    for rule in status["nonResourceRules"].as_array().into_iter().flatten() {
        rules.push(Rule {
            verbs: strings(&rule["verbs"]),
            non_resource_urls: strings(&rule["nonResourceURLs"]),
            ..Rule::default()
        });
    }
    let broken: Vec<Rule> = rules.iter().flat_map(Rule::breakdown).collect();
    let mut compacted = compact(broken);
    compacted.sort_by_cached_key(Rule::go_string);
    let mut rows: Vec<Vec<String>> = Vec::new();
    if !no_headers {
        rows.push(
            ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
                .map(String::from)
                .to_vec(),
        );
    }
    for rule in &compacted {
        rows.push(vec![
            resource_with_group(rule),
            go_list(&rule.non_resource_urls),
            go_list(&rule.resource_names),
            go_list(&rule.verbs),
        ]);
    }
    out.out(align(&rows));
    out
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
