//! LimitRanges: upstream's `SetDefaults_LimitRangeItem` for Container items — a
//! missing default limit is the max, a missing default request is the default
//! limit, else the min.

use k8s_openapi::api::core::v1::LimitRange;

use super::{typed, Source, Strategy, UnknownFields};

/// The strategy for `limitranges`.
pub struct LimitRangeStrategy;

impl Strategy for LimitRangeStrategy {
    fn normalize(
        &self,
        obj: Source,
        unknown: &mut UnknownFields,
    ) -> Result<serde_json::Value, String> {
        typed::<LimitRange>(obj, unknown, |range| {
            let items = range.spec.iter_mut().flat_map(|s| s.limits.iter_mut());
            for item in items.filter(|i| i.type_ == "Container") {
                let default = item.default.get_or_insert_with(Default::default);
                for (resource, max) in item.max.iter().flatten() {
                    default
                        .entry(resource.clone())
                        .or_insert_with(|| max.clone());
                }
                let request = item.default_request.get_or_insert_with(Default::default);
                for (resource, limit) in default.iter() {
                    request
                        .entry(resource.clone())
                        .or_insert_with(|| limit.clone());
                }
                for (resource, min) in item.min.iter().flatten() {
                    request
                        .entry(resource.clone())
                        .or_insert_with(|| min.clone());
                }
            }
        })
    }
}
