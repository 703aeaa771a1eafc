//! NodeName: a pod that names its node (`spec.nodeName`) fits only that node.

use crate::scheduler::framework::{
    Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};

pub struct NodeName;

/// Upstream's reason.
pub const REASON: &str = "node(s) didn't match the requested node name";

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::Filter]
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(wanted) if !wanted.is_empty() && wanted != node.name => {
                Status::new(Code::UnschedulableAndUnresolvable, &[REASON])
            }
            _ => Status::success(),
        }
    }
}
