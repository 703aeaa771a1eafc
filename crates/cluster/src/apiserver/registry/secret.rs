//! Secrets: `type` defaults to Opaque.

use k8s_openapi::api::core::v1::Secret;

use super::{typed, Strategy, UnknownFields};

/// The strategy for `secrets`.
pub struct SecretStrategy;

impl Strategy for SecretStrategy {
    fn normalize(
        &self,
        obj: serde_json::Value,
        unknown: &mut UnknownFields,
    ) -> Result<serde_json::Value, String> {
        typed::<Secret>(obj, unknown, |secret| {
            secret.type_.get_or_insert_with(|| "Opaque".into());
        })
    }
}
