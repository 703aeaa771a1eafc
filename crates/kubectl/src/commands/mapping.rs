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

/// Where a manifest object goes: its resource, namespace (its own or the default),
/// name and API path.
pub struct Located<'a> {
    pub resource: &'a ResourceInfo,
    pub namespace: String,
    pub name: String,
    pub path: String,
}

/// Maps a manifest object to its resource and path, with kubectl's error when unmapped.
pub fn locate<'a>(
    resources: &'a [ResourceInfo],
    obj: &Value,
    source: &str,
    namespace: &str,
) -> Result<Located<'a>, String> {
    let resource = resource_for(resources, obj, source)?;
    let namespace = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(namespace)
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let path = resource.object_path(Some(&namespace), &name);
    Ok(Located {
        resource,
        namespace,
        name,
        path,
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
