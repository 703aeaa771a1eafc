//! Update and patch: optimistic concurrency, server-owned metadata, the split between
//! the main resource and its `status` subresource, generation bumps, and deletion
//! once the last finalizer is gone.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use std::sync::Arc;

use super::commit::drop_empty_metadata;
use super::create::Decoded;
use super::storage::{object_key, ChangeKind, StoredObject};
use super::{ApiServer, Env};
use crate::api::equality::equal_ignoring;
use crate::api::patch::{json_patch, merge_patch, strategic_merge_patch, PatchType};
use crate::api::query::dry_run;
use crate::api::request::{Request, Response};
use crate::api::status::StatusError;

/// Which part of an object a write may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// The object itself: status is kept from storage when the kind has a status subresource.
    Main,
    /// The `status` subresource: only status (and labels/annotations) change.
    Status,
}

/// Metadata only the server sets; updates keep the stored values.
const SERVER_OWNED_METADATA: &[&str] = &[
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
];

/// A 415 for patch types the resource does not accept.
pub(super) fn unsupported_patch() -> StatusError {
    StatusError {
        code: 415,
        reason: "UnsupportedMediaType",
        message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".into(),
        details: None,
    }
}

/// A PATCH request's patch type, with upstream's 415 for an unknown type or a
/// strategic merge patch of a resource without strategic merge (a custom resource).
pub(super) fn patch_type(req: &Request, strategic: bool) -> Result<PatchType, StatusError> {
    match PatchType::from_content_type(req.header("content-type").unwrap_or("")) {
        Some(PatchType::Strategic) if !strategic => Err(unsupported_patch()),
        Some(t) => Ok(t),
        None => Err(unsupported_patch()),
    }
}

/// Applies a PATCH request's body to `obj` as a patch of `patch_type`.
pub(super) fn apply_patch(
    req: &Request,
    obj: Value,
    patch_type: PatchType,
) -> Result<Value, StatusError> {
    let patch: Value = serde_json::from_str(&req.body)
        .map_err(|e| StatusError::bad_request(format!("error decoding patch: {e}")))?;
    let mut obj = obj;
    match patch_type {
        PatchType::Merge => merge_patch(&mut obj, &patch),
        PatchType::Strategic => strategic_merge_patch(&mut obj, &patch),
        PatchType::Json => {
            obj = json_patch(&obj, &patch).map_err(|e| StatusError {
                code: 422,
                reason: "Invalid",
                message: format!(
                    "the server rejected our request due to an error in our request: {}",
                    e.0
                ),
                details: None,
            })?;
        }
    }
    Ok(obj)
}

impl ApiServer {
    pub(super) fn update(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        name: &str,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        self.update_with_scope(req, resource, namespace, name, Scope::Main, env)
    }

    pub(super) fn update_with_scope(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        name: &str,
        scope: Scope,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        // A replacement of the whole object decodes straight through its type, as a
        // create does; a status write decodes only its status, below.
        let normalized = match scope {
            Scope::Main => self.decode_normalized(req, resource, namespace)?,
            Scope::Status => None,
        };
        let (obj, decoded) = match normalized {
            Some(obj) => (obj, Decoded::Normalized),
            None => (self.decode_body(req, resource, namespace)?, Decoded::Raw),
        };
        let body_name = obj
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if body_name != name {
            return Err(StatusError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let key = object_key(namespace, name);
        if self.served[resource].table.get(&key).is_none()
            && scope == Scope::Main
            && self.served[resource].strategy.allows_create_on_update()
        {
            let stored = self.create_object(resource, obj, decoded, dry, env)?;
            return Ok(Response::json(201, stored));
        }
        let (code, body) = self.update_object(resource, &key, name, obj, decoded, scope, dry)?;
        Ok(Response::json(code, body))
    }

    pub(super) fn patch(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        name: &str,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        self.patch_with_scope(req, resource, namespace, name, Scope::Main, env)
    }

    pub(super) fn patch_with_scope(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        name: &str,
        scope: Scope,
        _env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let strategic = self.served[resource].strategy.supports_strategic_merge();
        let key = object_key(namespace, name);
        let info = &self.served[resource].info;
        let current = self.served[resource]
            .table
            .get(&key)
            .ok_or_else(|| StatusError::not_found(info, name))?
            .clone();
        let old = current.value();
        let patch_type = patch_type(req, strategic)?;
        let obj = apply_patch(req, patch_target(&old, scope, patch_type), patch_type)?;
        // A patch without a resourceVersion applies to the stored version.
        if stale(&obj, &current) {
            return Err(StatusError::conflict(info, name));
        }
        let (code, body) =
            self.update_parsed(resource, current, old, name, obj, Decoded::Raw, scope, dry)?;
        Ok(Response::json(code, body))
    }

    /// The shared update path. Returns the status code and the stored JSON.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn update_object(
        &mut self,
        resource: usize,
        key: &str,
        name: &str,
        new: Value,
        decoded: Decoded,
        scope: Scope,
        dry: bool,
    ) -> Result<(u16, String), StatusError> {
        let info = &self.served[resource].info;
        let current = self.served[resource]
            .table
            .get(key)
            .ok_or_else(|| StatusError::not_found(info, name))?
            .clone();
        // A stale write fails before the stored version is parsed.
        if stale(&new, &current) {
            return Err(StatusError::conflict(info, name));
        }
        let old = current.value();
        self.update_parsed(resource, current, old, name, new, decoded, scope, dry)
    }

    /// The update path once the stored object is in hand, already parsed as `old`,
    /// and the write's resourceVersion checked against it.
    #[allow(clippy::too_many_arguments)]
    fn update_parsed(
        &mut self,
        resource: usize,
        current: Arc<StoredObject>,
        mut old: Value,
        name: &str,
        mut new: Value,
        decoded: Decoded,
        scope: Scope,
        dry: bool,
    ) -> Result<(u16, String), StatusError> {
        let info = self.served[resource].info.clone();
        let given_uid = new
            .at("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("");
        let old_uid = old
            .at("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !given_uid.is_empty() && given_uid != old_uid {
            return Err(StatusError::conflict_because(
                &info,
                name,
                &format!("Precondition failed: UID in precondition: {given_uid}, UID in object meta: {old_uid}"),
            ));
        }
        for field in SERVER_OWNED_METADATA {
            match old["metadata"].get(*field) {
                Some(value) => new["metadata"][*field] = value.clone(),
                None => {
                    if let Some(meta) = new["metadata"].as_object_mut() {
                        meta.remove(*field);
                    }
                }
            }
        }
        let has_status = info.subresource("status").is_some();
        let strategy = &self.served[resource].strategy;
        // Kinds whose defaults ignore metadata and whose status decodes alone: a write
        // that changes only metadata and status needs nothing below but those two.
        let status_decodes_alone =
            strategy.defaults_ignore_metadata() && strategy.status_decoder().is_some();
        match scope {
            Scope::Main if has_status => match old.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    if let Some(map) = new.as_object_mut() {
                        map.remove("status");
                    }
                }
            },
            Scope::Main => {}
            Scope::Status => {
                // Everything but status (and labels and annotations) as stored: moved
                // out of `old` when nothing below reads more of it than its metadata
                // and status (a status write of a kind whose status decodes alone).
                let mut merged = serde_json::Map::new();
                for (field, value) in old.as_object_mut().into_iter().flatten() {
                    let kept = match field.as_str() {
                        "status" => continue,
                        "metadata" => value.clone(),
                        _ if status_decodes_alone => value.take(),
                        _ => value.clone(),
                    };
                    merged.insert(field.clone(), kept);
                }
                if let Some(status) = new.as_object_mut().and_then(|o| o.remove("status")) {
                    merged.insert("status".into(), status);
                }
                let mut merged = Value::Object(merged);
                for field in ["labels", "annotations"] {
                    match new["metadata"].get(field) {
                        Some(v) => merged["metadata"][field] = v.clone(),
                        None => {
                            if let Some(meta) = merged["metadata"].as_object_mut() {
                                meta.remove(field);
                            }
                        }
                    }
                }
                new = merged;
            }
        }
        if info.group.is_empty() && info.plural == "services" {
            preserve_service_allocations(&mut new, &old);
        }
        // Only metadata changed: the rest was decoded, defaulted and validated when it
        // was stored, and no kind's validation reads metadata an update may change
        // (kinds whose defaults read it opt out through `defaults_ignore_metadata`).
        // A status write keeps the rest as stored by construction.
        let rest_unchanged = strategy.defaults_ignore_metadata()
            && (scope == Scope::Status || equal_ignoring(&new, &old, &["metadata", "status"]));
        let metadata_only = rest_unchanged && new.get("status") == old.get("status");
        // Likewise when only metadata and status changed (a kubelet's or a controller's
        // status write), for kinds whose status decodes alone and whose validation
        // reads only the spec.
        let status_only = rest_unchanged && !metadata_only && status_decodes_alone;
        // Metadata as stored was decoded when it was stored; decoding it again would
        // change nothing (most status writes and status patches). Compared only
        // where the metadata is decoded alone.
        let metadata_as_stored =
            (metadata_only || status_only) && new.get("metadata") == old.get("metadata");
        // What is copied from `old` above was decoded when it was stored.
        let mut new = if decoded == Decoded::Normalized {
            new
        } else if metadata_only {
            self.normalize_metadata(resource, new, metadata_as_stored)?
        } else if status_only {
            self.normalize_status(resource, new, metadata_as_stored)?
        } else {
            self.normalize(resource, new)?
        };
        let strategy = &self.served[resource].strategy;
        if scope == Scope::Main {
            strategy.prepare_for_update(&mut new, &old);
        }
        if !metadata_only && !status_only {
            let errors = strategy.validate_update(&new, &old);
            if !errors.is_empty() {
                return Err(StatusError::invalid(&info, name, &errors));
            }
            if strategy.tracks_generation() && !equal_ignoring(&new, &old, &["metadata", "status"])
            {
                let generation = old
                    .at("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                new["metadata"]["generation"] = json!(generation + 1);
            }
        }
        // A write that changes nothing is not a write (same resourceVersion, no event).
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        let unchanged = if scope == Scope::Status && rest_unchanged {
            new.get("metadata") == old.get("metadata") && new.get("status") == old.get("status")
        } else {
            new == old
        };
        if unchanged {
            return Ok((200, current.json.to_string()));
        }
        if dry {
            drop_empty_metadata(&mut new);
            return Ok((200, new.to_string()));
        }
        if deletion_complete(&new) {
            return Ok((200, self.finish_delete(resource, new).json.to_string()));
        }
        let unchanged = metadata_only.then_some(current.as_ref());
        let stored = self.commit_over(resource, ChangeKind::Modified, new, unchanged);
        if resource == self.definitions {
            self.sync_definition(&stored.value());
        }
        Ok((200, stored.json.to_string()))
    }
}

/// What a patch applies to: the stored object, or for a merge patch of the status
/// subresource only its type, metadata and status (a status write keeps the rest
/// as stored whatever the patch says of it, so it need not be copied).
fn patch_target(old: &Value, scope: Scope, patch_type: PatchType) -> Value {
    if scope == Scope::Main || patch_type == PatchType::Json {
        return old.clone();
    }
    let fields = old.as_object().into_iter().flatten();
    Value::Object(
        fields
            .filter(|(field, _)| {
                matches!(
                    field.as_str(),
                    "apiVersion" | "kind" | "metadata" | "status"
                )
            })
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect(),
    )
}

/// Whether a write names a resourceVersion other than the stored one.
fn stale(new: &Value, current: &StoredObject) -> bool {
    let given = new
        .at("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    !given.is_empty() && given != current.rv.to_string()
}

/// Whether an object marked for deletion has nothing left holding it.
pub(super) fn deletion_complete(obj: &Value) -> bool {
    let meta = &obj["metadata"];
    meta.get("deletionTimestamp").is_some()
        && meta
            .get("deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
        && meta
            .get("finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        && obj
            .at("/spec/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
}

/// Updates that omit a Service's ClusterIP or node ports keep the allocated ones.
fn preserve_service_allocations(new: &mut Value, old: &Value) {
    for field in ["clusterIP", "clusterIPs"] {
        if new.at(&format!("/spec/{field}")).is_none() {
            if let Some(v) = old.at(&format!("/spec/{field}")) {
                new["spec"][field] = v.clone();
            }
        }
    }
    let old_ports = old
        .at("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for port in ports {
            if port.get("nodePort").is_none() {
                let same = old_ports.iter().find(|p| p.get("port") == port.get("port"));
                if let Some(node_port) = same.and_then(|p| p.get("nodePort")) {
                    port["nodePort"] = node_port.clone();
                }
            }
        }
    }
}
