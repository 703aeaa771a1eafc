//! NodeAffinity: `nodeSelector` and required node affinity must match the node's
//! labels (and `metadata.name` fields), and so must the profile's `addedAffinity`;
//! preferred terms (the pod's and the added ones) add their weights.

use k8s_openapi::api::core::v1::{NodeSelector, PreferredSchedulingTerm};

use super::helpers::default_normalize;
use crate::api::node_affinity::{
    node_labels, required_affinity_matches, required_node_affinity, term_matches,
};
use crate::scheduler::framework::{
    ClusterView, Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};
use crate::scheduler::plugin_args::NodeAffinityArgs;

/// The plugin with the affinity its arguments add to every pod.
#[derive(Default)]
pub struct NodeAffinity {
    added_required: Option<NodeSelector>,
    added_preferred: Vec<PreferredSchedulingTerm>,
}

impl NodeAffinity {
    /// The plugin configured by `args`.
    pub fn new(args: &NodeAffinityArgs) -> NodeAffinity {
        let added = args.added_affinity.as_ref();
        NodeAffinity {
            added_required: added.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .clone()
            }),
            added_preferred: added
                .and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .clone()
                })
                .unwrap_or_default(),
        }
    }
}

/// Upstream's reasons.
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";
pub const ENFORCED_REASON: &str = "node(s) didn't match scheduler-enforced node affinity";

/// The summed weights of the `terms` that match `node`.
fn preferred_weight<'a>(
    terms: impl IntoIterator<Item = &'a PreferredSchedulingTerm>,
    node: &NodeInfo,
) -> i64 {
    let labels = node_labels(&node.node);
    terms
        .into_iter()
        .filter(|p| p.weight != 0 && term_matches(&p.preference, labels, &node.name))
        .map(|p| i64::from(p.weight))
        .sum()
}

/// The pod's own preferred node affinity terms, if it has any.
fn own_preferred(pod: &PodInfo) -> Option<&Vec<PreferredSchedulingTerm>> {
    pod.pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .preferred_during_scheduling_ignored_during_execution
        .as_ref()
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[
            ExtensionPoint::PreFilter,
            ExtensionPoint::Filter,
            ExtensionPoint::PreScore,
            ExtensionPoint::Score,
        ]
    }

    /// Skip when neither the pod nor the profile requires anything of the node.
    fn pre_filter(&self, _state: &mut CycleState, pod: &PodInfo, _cluster: &ClusterView) -> Status {
        let spec = pod.pod.spec.as_ref();
        let required = required_node_affinity(spec).is_some();
        let selector = spec.is_some_and(|s| s.node_selector.is_some());
        Status::skip_if(!(required || selector || self.added_required.is_some()))
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if let Some(added) = &self.added_required {
            let labels = node_labels(&node.node);
            if !added
                .node_selector_terms
                .iter()
                .any(|t| term_matches(t, labels, &node.name))
            {
                return Status::new(Code::UnschedulableAndUnresolvable, &[ENFORCED_REASON]);
            }
        }
        if required_affinity_matches(pod.pod.spec.as_ref(), &node.node) {
            Status::success()
        } else {
            Status::new(Code::UnschedulableAndUnresolvable, &[REASON])
        }
    }

    /// Skip when neither the pod nor the profile prefers anything.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[&NodeInfo],
        _cluster: &ClusterView,
    ) -> Status {
        Status::skip_if(own_preferred(pod).is_none() && self.added_preferred.is_empty())
    }

    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let own = own_preferred(pod).into_iter().flatten();
        preferred_weight(own.chain(&self.added_preferred), node)
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
