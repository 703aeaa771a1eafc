//! NodeResourcesFit: the pod's requests must fit the node's allocatable less what
//! its pods request (extended resources the arguments ignore aside); scoring follows
//! the arguments' strategy (LeastAllocated by default: emptier nodes first).

use std::collections::BTreeSet;

use super::resource_allocation::Scorer;
use crate::scheduler::framework::{
    Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};
use crate::scheduler::plugin_args::NodeResourcesFitArgs;

/// The plugin with its arguments: how it scores, and the extended resources its
/// Filter leaves to something else.
pub struct NodeResourcesFit {
    scorer: Scorer,
    ignored_resources: BTreeSet<String>,
    ignored_resource_groups: BTreeSet<String>,
}

impl NodeResourcesFit {
    /// The plugin configured by `args` (defaulted here if they are not yet).
    pub fn new(args: &NodeResourcesFitArgs) -> NodeResourcesFit {
        let mut args = args.clone();
        args.set_defaults();
        let strategy = args
            .scoring_strategy
            .expect("defaulting sets a scoring strategy");
        NodeResourcesFit {
            scorer: Scorer::new(&strategy),
            ignored_resources: args.ignored_resources.into_iter().collect(),
            ignored_resource_groups: args.ignored_resource_groups.into_iter().collect(),
        }
    }

    /// Whether Filter leaves the extended resource `name` alone.
    fn ignores(&self, name: &str) -> bool {
        self.ignored_resources.contains(name)
            || name
                .split_once('/')
                .is_some_and(|(group, _)| self.ignored_resource_groups.contains(group))
    }
}

impl Default for NodeResourcesFit {
    /// Upstream's defaults: LeastAllocated over CPU and memory.
    fn default() -> Self {
        NodeResourcesFit::new(&NodeResourcesFitArgs::default())
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[
            ExtensionPoint::PreFilter,
            ExtensionPoint::Filter,
            ExtensionPoint::PreScore,
            ExtensionPoint::Score,
        ]
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
            if self.ignores(name) {
                continue;
            }
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

    /// The configured strategy over the configured resources.
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        self.scorer.score(pod, node)
    }
}
