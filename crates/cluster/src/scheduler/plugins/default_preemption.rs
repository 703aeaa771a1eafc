//! DefaultPreemption: the PostFilter plugin that looks for lower-priority victims
//! when a pod fits nowhere. The search is `scheduler/preemption.rs`; a profile
//! without this plugin never preempts.

use crate::scheduler::framework::{ExtensionPoint, Plugin};

pub struct DefaultPreemption;

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        "DefaultPreemption"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::PostFilter]
    }
}
