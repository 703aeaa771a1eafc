//! Secrets: `type` defaults to Opaque; `stringData` is write-only, merged into `data`
//! (its values win) as upstream's conversion does.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;

use super::{typed, Source, Strategy, UnknownFields};

/// The strategy for `secrets`.
pub struct SecretStrategy;

impl Strategy for SecretStrategy {
    fn normalize(
        &self,
        obj: Source,
        unknown: &mut UnknownFields,
    ) -> Result<serde_json::Value, String> {
        typed::<Secret>(obj, unknown, |secret| {
            secret.type_.get_or_insert_with(|| "Opaque".into());
            if let Some(strings) = secret.string_data.take() {
                let data = secret.data.get_or_insert_with(Default::default);
                for (key, value) in strings {
                    data.insert(key, ByteString(value.into_bytes()));
                }
            }
        })
    }
}
