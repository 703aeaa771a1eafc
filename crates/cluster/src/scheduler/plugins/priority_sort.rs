//! PrioritySort: the QueueSort plugin (higher priority first, then the earlier
//! arrival). The order itself is the scheduling queue's (`scheduler/queue.rs`).

use crate::scheduler::framework::{ExtensionPoint, Plugin};

pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        "PrioritySort"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::QueueSort]
    }
}
