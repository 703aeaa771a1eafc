//! PriorityClasses: `preemptionPolicy` defaults to PreemptLowerPriority.

use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::{typed, Source, Strategy, UnknownFields};

/// The strategy for `priorityclasses`.
pub struct PriorityClassStrategy;

impl Strategy for PriorityClassStrategy {
    fn normalize(
        &self,
        obj: Source,
        unknown: &mut UnknownFields,
    ) -> Result<serde_json::Value, String> {
        typed::<PriorityClass>(obj, unknown, |pc| {
            pc.preemption_policy
                .get_or_insert_with(|| "PreemptLowerPriority".into());
        })
    }
}
