//! NodeResourcesBalancedAllocation: prefers nodes whose configured resources (CPU and
//! memory by default) would be used in equal fractions: `(1 - std) * 100` of the
//! fractions, counting actual requests.

use super::resource_allocation::{amounts, pod_request, weighted, Weighted};
use crate::scheduler::framework::{
    ClusterView, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE,
};
use crate::scheduler::plugin_args::NodeResourcesBalancedAllocationArgs;

/// The plugin with the resources it balances.
pub struct NodeResourcesBalancedAllocation {
    resources: Vec<Weighted>,
}

impl NodeResourcesBalancedAllocation {
    /// The plugin configured by `args` (defaulted here if they are not yet).
    pub fn new(args: &NodeResourcesBalancedAllocationArgs) -> Self {
        let mut args = args.clone();
        args.set_defaults();
        NodeResourcesBalancedAllocation {
            resources: weighted(&args.resources),
        }
    }
}

impl Default for NodeResourcesBalancedAllocation {
    /// Upstream's defaults: CPU and memory.
    fn default() -> Self {
        NodeResourcesBalancedAllocation::new(&NodeResourcesBalancedAllocationArgs::default())
    }
}

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::PreScore, ExtensionPoint::Score]
    }

    /// Skip for a best-effort pod (no request for any of the resources), so that
    /// such pods do not pile onto one node (upstream's kubernetes#129138).
    fn pre_score(
        &self,
        _state: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[&NodeInfo],
        _cluster: &ClusterView,
    ) -> Status {
        let best_effort = self
            .resources
            .iter()
            .all(|w| pod_request(&w.resource, pod) == 0);
        Status::skip_if(best_effort)
    }

    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let fractions = || {
            self.resources.iter().filter_map(|w| {
                let (allocatable, requested) = amounts(&w.resource, pod, node, true);
                (allocatable != 0).then(|| (requested as f64 / allocatable as f64).min(1.0))
            })
        };
        let (count, sum, first, second) = fractions().fold(
            (0usize, 0.0, 0.0, 0.0),
            |(count, sum, first, second), f| match count {
                0 => (1, f, f, second),
                1 => (2, sum + f, first, f),
                _ => (count + 1, sum + f, first, second),
            },
        );
        let std = match count {
            0 | 1 => 0.0,
            2 => ((first - second) / 2.0f64).abs(),
            _ => {
                let mean = sum / count as f64;
                let variance = fractions().map(|f| (f - mean) * (f - mean)).sum::<f64>();
                (variance / count as f64).sqrt()
            }
        };
        ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
    }
}
