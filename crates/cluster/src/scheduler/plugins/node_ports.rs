//! NodePorts: a pod's host ports must be free on the node (same protocol and port,
//! and the same host IP or either side bound to 0.0.0.0).

use crate::scheduler::framework::{
    ClusterView, Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};

pub struct NodePorts;

/// Upstream's reason.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::PreFilter, ExtensionPoint::Filter]
    }

    /// Skip for a pod without host ports.
    fn pre_filter(&self, _state: &mut CycleState, pod: &PodInfo, _cluster: &ClusterView) -> Status {
        Status::skip_if(pod.host_ports.is_empty())
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let conflict = pod.host_ports.iter().any(|(ip, protocol, port)| {
            node.used_ports
                .iter()
                .any(|(used_ip, used_protocol, used_port)| {
                    used_port == port
                        && used_protocol == protocol
                        && (used_ip == ip || used_ip == "0.0.0.0" || ip == "0.0.0.0")
                })
        });
        if conflict {
            Status::new(Code::Unschedulable, &[REASON])
        } else {
            Status::success()
        }
    }
}
