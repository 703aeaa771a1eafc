//! PersistentVolumeClaims (stored only: nothing provisions or binds volumes):
//! upstream's defaults, `volumeMode: Filesystem` and the `Pending` phase.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use super::{typed, Source, Strategy, UnknownFields};

/// The strategy for `persistentvolumeclaims`.
pub struct PersistentVolumeClaimStrategy;

impl Strategy for PersistentVolumeClaimStrategy {
    fn normalize(
        &self,
        obj: Source,
        unknown: &mut UnknownFields,
    ) -> Result<serde_json::Value, String> {
        typed::<PersistentVolumeClaim>(obj, unknown, |claim| {
            claim
                .spec
                .get_or_insert_with(Default::default)
                .volume_mode
                .get_or_insert_with(|| "Filesystem".into());
            claim
                .status
                .get_or_insert_with(Default::default)
                .phase
                .get_or_insert_with(|| "Pending".into());
        })
    }

    /// A new claim's status is reset to the defaulted `Pending`.
    fn prepare_for_create(&self, obj: &mut serde_json::Value, _has_status: bool) {
        obj["status"] = serde_json::json!({"phase": "Pending"});
    }
}
