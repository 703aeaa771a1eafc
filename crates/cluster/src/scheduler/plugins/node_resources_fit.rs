//! NodeResourcesFit: the pod's requests must fit the node's allocatable less what
//! its pods request; scoring (LeastAllocated) prefers emptier nodes.

use crate::scheduler::framework::{
    Code, CycleState, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE,
};

pub struct NodeResourcesFit;

/// `((capacity - requested) * 100) / capacity`, 0 when it does not fit.
fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        0
    } else {
        (capacity - requested) * MAX_NODE_SCORE / capacity
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let mut reasons: Vec<String> = Vec::new();
        if node.pods.len() as i64 + 1 > node.allocatable.pods {
            reasons.push("Too many pods".into());
        }
        let want = &pod.requests;
        let (alloc, used) = (&node.allocatable, &node.requested);
        if want.milli_cpu > 0 && want.milli_cpu > alloc.milli_cpu - used.milli_cpu {
            reasons.push("Insufficient cpu".into());
        }
        if want.memory > 0 && want.memory > alloc.memory - used.memory {
            reasons.push("Insufficient memory".into());
        }
        if want.ephemeral_storage > 0
            && want.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage
        {
            reasons.push("Insufficient ephemeral-storage".into());
        }
        for (name, amount) in &want.scalar {
            let free = alloc.scalar.get(name).copied().unwrap_or(0)
                - used.scalar.get(name).copied().unwrap_or(0);
            if *amount > 0 && *amount > free {
                reasons.push(format!("Insufficient {name}"));
            }
        }
        if reasons.is_empty() {
            Status::success()
        } else {
            let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
            Status::new(Code::Unschedulable, &reasons)
        }
    }

    fn scores(&self) -> bool {
        true
    }

    /// LeastAllocated over CPU and memory, weight 1 each, with non-zero requests.
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let cpu = least_requested(
            node.non_zero_requested.milli_cpu + pod.non_zero.milli_cpu,
            node.allocatable.milli_cpu,
        );
        let memory = least_requested(
            node.non_zero_requested.memory + pod.non_zero.memory,
            node.allocatable.memory,
        );
        (cpu + memory) / 2
    }
}
