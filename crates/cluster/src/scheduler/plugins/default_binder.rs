//! DefaultBinder: the Bind plugin that POSTs the pod's `binding` subresource (the
//! scheduler's `bind`).

use crate::scheduler::framework::{ExtensionPoint, Plugin};

pub struct DefaultBinder;

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        "DefaultBinder"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::Bind]
    }
}
