//! Shared by commands that act on one named object (`patch`, `set image`,
//! `expose`, `rollout`, `describe`): reading `TYPE NAME` or `TYPE/NAME`, resolving
//! the type and fetching the object, and a Deployment's ReplicaSets and templates.

use kubecraft_cluster::api::{Request, ResourceInfo};
use serde_json::Value;

use crate::discovery::{discover, resolve_known, warn_ambiguous};
use crate::errors::server_error;
use crate::transport::Transport;

/// An object fetched for a command.
pub struct Fetched {
    pub resource: ResourceInfo,
    pub name: String,
    /// The object's API path.
    pub path: String,
    pub object: Value,
}

/// Splits `TYPE NAME` or `TYPE/NAME`; `missing` is the error when neither form is given.
fn single_target<S: AsRef<str>>(args: &[S], missing: &str) -> Result<(String, String), String> {
    match args {
        [one] if one.as_ref().contains('/') => {
            let (t, n) = one.as_ref().split_once('/').expect("checked");
            Ok((t.to_string(), n.to_string()))
        }
        [t, n] => Ok((t.as_ref().to_string(), n.as_ref().to_string())),
        _ => Err(missing.to_string()),
    }
}

/// The one object `args` name (`TYPE NAME` or `TYPE/NAME`), fetched from `namespace`;
/// `missing` is the error when neither form is given.
pub fn fetch_target<S: AsRef<str>>(
    transport: &mut dyn Transport,
    args: &[S],
    missing: &str,
    namespace: &str,
) -> Result<Fetched, String> {
    let (typed, name) = single_target(args, missing)?;
    fetch(transport, &typed, &name, namespace)
}

/// Resolves `typed` through discovery and GETs `name` in `namespace`.
pub fn fetch(
    transport: &mut dyn Transport,
    typed: &str,
    name: &str,
    namespace: &str,
) -> Result<Fetched, String> {
    let resources = discover(transport);
    warn_ambiguous(transport, &resources, &[typed.to_string()]);
    let resource = resolve_known(&resources, typed)?.clone();
    let path = resource.object_path(Some(namespace), name);
    let response = transport.send(Request::get(path.clone()));
    if !response.is_success() {
        return Err(server_error(&response));
    }
    Ok(Fetched {
        resource,
        name: name.to_string(),
        path,
        object: response.body_json(),
    })
}

/// A pod template without the `pod-template-hash` label: how a Deployment's
/// template compares with its ReplicaSets' (and what a rollback restores).
pub fn template_without_hash(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove("pod-template-hash");
    }
    template
}

/// The ReplicaSets in `owner`'s namespace that it controls, oldest first
/// (a Deployment's revisions).
pub fn controlled_replicasets(
    transport: &mut dyn Transport,
    owner: &Value,
) -> Result<Vec<Value>, String> {
    let namespace = owner["metadata"]["namespace"].as_str().unwrap_or("default");
    let response = transport.send(Request::get(format!(
        "/apis/apps/v1/namespaces/{namespace}/replicasets"
    )));
    if !response.is_success() {
        return Err(server_error(&response));
    }
    let uid = &owner["metadata"]["uid"];
    let mut sets: Vec<Value> = response.body_json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|r| {
                    r.iter()
                        .any(|r| r["controller"] == true && r["uid"] == *uid)
                })
        })
        .cloned()
        .collect();
    let key = |rs: &Value| {
        (
            rs["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            rs["metadata"]["name"].as_str().unwrap_or("").to_string(),
        )
    };
    sets.sort_by_key(key);
    Ok(sets)
}
