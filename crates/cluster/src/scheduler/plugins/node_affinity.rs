//! NodeAffinity: `nodeSelector` and required node affinity must match the node's
//! labels (and `metadata.name` fields); preferred terms add their weights.

use super::helpers::default_normalize;
use crate::api::node_affinity::{node_labels, required_affinity_matches, term_matches};
use crate::scheduler::framework::{Code, CycleState, NodeInfo, Plugin, PodInfo, Status};

pub struct NodeAffinity;

/// Upstream's reason.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if required_affinity_matches(pod.pod.spec.as_ref(), &node.node) {
            Status::success()
        } else {
            Status::new(Code::UnschedulableAndUnresolvable, &[REASON])
        }
    }

    fn scores(&self) -> bool {
        true
    }

    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let labels = node_labels(&node.node);
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

    fn normalize(
        &self,
        _state: &CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        default_normalize(scores, false);
    }
}
