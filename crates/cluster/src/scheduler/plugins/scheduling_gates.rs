//! SchedulingGates: a pod with `spec.schedulingGates` waits outside the active queue.

use k8s_openapi::api::core::v1::Pod;

use crate::scheduler::framework::{Code, ExtensionPoint, Plugin, Status};

pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        "SchedulingGates"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::PreEnqueue]
    }

    fn pre_enqueue(&self, pod: &Pod) -> Status {
        let gates: Vec<&str> = pod
            .spec
            .iter()
            .flat_map(|s| s.scheduling_gates.iter().flatten())
            .map(|g| g.name.as_str())
            .collect();
        if gates.is_empty() {
            Status::success()
        } else {
            Status::new(
                Code::UnschedulableAndUnresolvable,
                &[&format!(
                    "waiting for scheduling gates: [{}]",
                    gates.join(" ")
                )],
            )
        }
    }
}
