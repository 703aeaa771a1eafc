//! NodeAffinity: `nodeSelector` and required node affinity must match the node's
//! labels (and `metadata.name` fields); preferred terms add their weights.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};

use super::helpers::default_normalize;
use crate::scheduler::framework::{Code, NodeInfo, Plugin, PodInfo, Status};

pub struct NodeAffinity;

/// Upstream's reason.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// Whether one term matches: all its expressions and fields; an empty term matches nothing.
fn term_matches(term: &NodeSelectorTerm, labels: &BTreeMap<String, String>, name: &str) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    expressions
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields
            .iter()
            .all(|r| r.key == "metadata.name" && requirement_matches(r, Some(name)))
}

/// The node's labels (none is the empty map).
fn labels(node: &NodeInfo) -> &BTreeMap<String, String> {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    node.node.metadata.labels.as_ref().unwrap_or(&NONE)
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Status {
        let labels = labels(node);
        let spec = pod.pod.spec.as_ref();
        let selector_ok = spec
            .and_then(|s| s.node_selector.as_ref())
            .is_none_or(|sel| sel.iter().all(|(k, v)| labels.get(k) == Some(v)));
        let required = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        let affinity_ok = required.is_none_or(|r| {
            r.node_selector_terms
                .iter()
                .any(|t| term_matches(t, labels, &node.name))
        });
        if selector_ok && affinity_ok {
            Status::success()
        } else {
            Status::new(Code::UnschedulableAndUnresolvable, &[REASON])
        }
    }

    fn scores(&self) -> bool {
        true
    }

    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let labels = labels(node);
        pod.pod
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .into_iter()
            .flatten()
            .filter(|p| p.weight != 0 && term_matches(&p.preference, labels, &node.name))
            .map(|p| i64::from(p.weight))
            .sum()
    }

    fn normalize(&self, _pod: &PodInfo, scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}
