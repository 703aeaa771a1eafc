//! Shared by the commands that take manifests: mapping an object's apiVersion/kind
//! to a served resource, and kubectl's errors that name the manifest's source.

use kubecraft_cluster::api::{ResourceInfo, Response};
use serde_json::Value;

use crate::errors::server_error;

/// The served resource for an object's `apiVersion` and `kind`.
pub fn resource_for<'a>(
    resources: &'a [ResourceInfo],
    obj: &Value,
    source: &str,
) -> Result<&'a ResourceInfo, String> {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    resources.iter().find(|r| r.api_version() == api_version && r.kind == kind).ok_or_else(|| {
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let namespace = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
        format!(
            "error: resource mapping not found for name: {name:?} namespace: {namespace:?} from {source:?}: no matches for kind {kind:?} in version {api_version:?}\nensure CRDs are installed first\n"
        )
    })
}

/// kubectl's error for a failed write of an object from `source`
/// (`Error from server (AlreadyExists): error when creating "STDIN": ...`).
pub fn source_error(response: &Response, verb: &str, source: &str) -> String {
    let status = response.body_json();
    let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
    if reason == "Invalid" && status.pointer("/details/causes").is_some() {
        return server_error(response);
    }
    let message = status.get("message").and_then(Value::as_str).unwrap_or("");
    format!("Error from server ({reason}): error when {verb} {source:?}: {message}\n")
}
