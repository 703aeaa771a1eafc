//! Nodes: unlike other kinds, a create may set status (the kubelet registers its
//! Node with capacity and conditions in one request), and DELETE returns the object.

use k8s_openapi::api::core::v1::Node;
use serde_json::Value;

use super::{typed, Source, Strategy, UnknownFields};

/// The strategy for `nodes`.
pub struct NodeStrategy;

impl Strategy for NodeStrategy {
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<Node>(obj, unknown, |_| {})
    }

    fn prepare_for_create(&self, _obj: &mut Value, _has_status: bool) {}

    fn returns_deleted_object(&self) -> bool {
        true
    }
}
