//! TaintToleration: NoSchedule and NoExecute taints must be tolerated; untolerated
//! PreferNoSchedule taints lower the score.

use super::helpers::default_normalize;
use crate::api::tolerations::{tolerates, untolerated};
use crate::scheduler::framework::{
    Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};

pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[
            ExtensionPoint::Filter,
            ExtensionPoint::PreScore,
            ExtensionPoint::Score,
        ]
    }

    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match untolerated(
            node.taints(),
            pod.tolerations(),
            &["NoSchedule", "NoExecute"],
        ) {
            None => Status::success(),
            Some(taint) => Status::new(
                Code::UnschedulableAndUnresolvable,
                &[&format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint.key,
                    taint.value.as_deref().unwrap_or("")
                )],
            ),
        }
    }

    /// How many PreferNoSchedule taints the pod does not tolerate.
    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let prefer: Vec<_> = pod
            .tolerations()
            .iter()
            .filter(|t| {
                t.effect
                    .as_deref()
                    .is_none_or(|e| e.is_empty() || e == "PreferNoSchedule")
            })
            .collect();
        node.taints()
            .iter()
            .filter(|taint| taint.effect == "PreferNoSchedule")
            .filter(|taint| !prefer.iter().any(|t| tolerates(t, taint)))
            .count() as i64
    }

    fn normalize(
        &self,
        _state: &CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        default_normalize(scores, true);
    }
}
