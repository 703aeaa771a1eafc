//! Namespaces: RFC 1123 label names, the `kubernetes` finalizer, the
//! `kubernetes.io/metadata.name` label and the Active phase.

use k8s_openapi::api::core::v1::Namespace;
use serde_json::{json, Value};

use super::{typed, Source, Strategy, UnknownFields};
use crate::api::names::NameRule;

/// The strategy for `namespaces`.
pub struct NamespaceStrategy;

impl Strategy for NamespaceStrategy {
    fn name_rule(&self) -> NameRule {
        NameRule::Label
    }

    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<Namespace>(obj, unknown, |ns| {
            let name = ns.metadata.name.clone().unwrap_or_default();
            ns.metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert("kubernetes.io/metadata.name".into(), name);
        })
    }

    /// The `kubernetes.io/metadata.name` label carries the (possibly generated) name.
    fn defaults_read_server_metadata(&self) -> bool {
        true
    }

    /// The `kubernetes.io/metadata.name` label comes back whatever an update does.
    fn defaults_ignore_metadata(&self) -> bool {
        false
    }

    fn prepare_for_create(&self, obj: &mut Value, _has_status: bool) {
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
        obj["status"] = json!({"phase": "Active"});
    }

    fn returns_deleted_object(&self) -> bool {
        true
    }
}
