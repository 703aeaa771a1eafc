//! NodeUnschedulable: cordoned nodes (`spec.unschedulable`) take only pods that
//! tolerate `node.kubernetes.io/unschedulable:NoSchedule`.

use k8s_openapi::api::core::v1::Taint;

use crate::api::tolerations::tolerates;
use crate::scheduler::framework::{
    Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};

pub struct NodeUnschedulable;

/// Upstream's reason.
pub const REASON: &str = "node(s) were unschedulable";

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::Filter]
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let cordoned = node
            .node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if !cordoned {
            return Status::success();
        }
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if pod.tolerations().iter().any(|t| tolerates(t, &taint)) {
            Status::success()
        } else {
            Status::new(Code::UnschedulableAndUnresolvable, &[REASON])
        }
    }
}
