//! NodeResourcesBalancedAllocation: prefers nodes whose CPU and memory would be
//! used in equal fractions: `(1 - std) * 100` of the two fractions.

use crate::scheduler::framework::{CycleState, NodeInfo, Plugin, PodInfo, MAX_NODE_SCORE};

pub struct NodeResourcesBalancedAllocation;

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn scores(&self) -> bool {
        true
    }

    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        // A pod that requests neither resource is skipped (scores 0 everywhere).
        if pod.requests.milli_cpu == 0 && pod.requests.memory == 0 {
            return 0;
        }
        let fraction = |requested: i64, allocatable: i64| {
            if allocatable == 0 {
                0.0
            } else {
                (requested as f64 / allocatable as f64).min(1.0)
            }
        };
        let cpu = fraction(
            node.requested.milli_cpu + pod.requests.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let memory = fraction(
            node.requested.memory + pod.requests.memory,
            node.allocatable.memory,
        );
        let std = (cpu - memory).abs() / 2.0;
        ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
    }
}
