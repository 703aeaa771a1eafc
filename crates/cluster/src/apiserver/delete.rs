//! Delete and deletecollection: preconditions, graceful pod deletion,
//! finalizers and deletionTimestamp, propagation policies handed to the garbage
//! collector as the `orphan` and `foregroundDeletion` finalizers.

use crate::api::json_path::ValueExt;
use std::sync::Arc;

use serde_json::{json, Value};

use super::storage::{object_key, ChangeKind, StoredObject};
use super::system_priority_classes::system_priority_class;
use super::update::deletion_complete;
use super::{ApiServer, Env};
use crate::api::query::{dry_run, DeleteOptions, ListOptions, Propagation};
use crate::api::request::{Request, Response};
use crate::api::resources::ResourceInfo;
use crate::api::status::{success_status, StatusError};

/// The namespaces upstream's NamespaceLifecycle admission refuses to delete.
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// Why an object every cluster relies on may not be deleted, if it is one: the
/// namespaces NamespaceLifecycle admission keeps, the system PriorityClasses.
fn undeletable(info: &ResourceInfo, name: &str) -> Option<&'static str> {
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "namespaces") if IMMORTAL_NAMESPACES.contains(&name) => {
            Some("this namespace may not be deleted")
        }
        ("scheduling.k8s.io", "priorityclasses") if system_priority_class(name).is_some() => {
            Some("this is a system priority class and cannot be deleted")
        }
        _ => None,
    }
}

impl ApiServer {
    pub(super) fn delete(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        name: &str,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let opts = DeleteOptions::from_request(req)?;
        let (_, body) = self.delete_object(
            resource,
            &object_key(namespace, name),
            name,
            &opts,
            dry,
            env,
        )?;
        Ok(Response::json(200, body))
    }

    /// Deletes (or marks for deletion) one object; returns whether it is gone and the body.
    pub(super) fn delete_object(
        &mut self,
        resource: usize,
        key: &str,
        name: &str,
        opts: &DeleteOptions,
        dry: bool,
        env: &mut Env,
    ) -> Result<(bool, String), StatusError> {
        let info = self.served[resource].info.clone();
        let current = self.served[resource]
            .table
            .get(key)
            .ok_or_else(|| StatusError::not_found(&info, name))?
            .clone();
        if let Some(why) = undeletable(&info, name) {
            return Err(StatusError::forbidden(&info, name, why));
        }
        let mut obj = current.value();
        let uid = obj
            .at("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(want) = &opts.precondition_uid {
            if *want != uid {
                return Err(StatusError::conflict_because(
                    &info,
                    name,
                    &format!(
                    "Precondition failed: UID in precondition: {want}, UID in object meta: {uid}"
                ),
                ));
            }
        }
        if let Some(want) = &opts.precondition_rv {
            if *want != current.rv.to_string() {
                return Err(StatusError::conflict_because(&info, name, &format!(
                    "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {}",
                    current.rv
                )));
            }
        }
        let is_pod = info.group.is_empty() && info.plural == "pods";
        let is_namespace = info.group.is_empty() && info.plural == "namespaces";
        let grace = if is_pod {
            pod_grace_seconds(&obj, opts)
        } else {
            0
        };
        let meta = obj["metadata"].as_object_mut().expect("metadata");
        let mut finalizers: Vec<Value> = meta
            .get("finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let wanted = match opts.propagation {
            Some(Propagation::Orphan) => Some("orphan"),
            Some(Propagation::Foreground) => Some("foregroundDeletion"),
            _ => None,
        };
        if let Some(f) = wanted {
            finalizers.retain(|x| x != "orphan" && x != "foregroundDeletion");
            finalizers.push(json!(f));
        }
        let already_deleting = meta.contains_key("deletionTimestamp");
        let has_finalizers = !finalizers.is_empty();
        let namespace_pending = is_namespace
            && obj
                .at("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
        if !has_finalizers && grace == 0 && !namespace_pending {
            if dry {
                return Ok((true, self.deleted_body(resource, &current, &uid)));
            }
            let gone = self.finish_delete(resource, obj);
            return Ok((true, self.deleted_body(resource, &gone, &uid)));
        }
        let meta = obj["metadata"].as_object_mut().expect("metadata");
        if has_finalizers {
            meta.insert("finalizers".into(), Value::Array(finalizers));
        }
        if already_deleting {
            let old_grace = meta
                .get("deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if !is_pod || grace >= old_grace {
                if dry || Value::Object(meta.clone()) == current.value()["metadata"] {
                    return Ok((false, current.json.to_string()));
                }
                return Ok((
                    false,
                    self.commit(resource, ChangeKind::Modified, obj)
                        .json
                        .to_string(),
                ));
            }
        }
        let when = env
            .now
            .after(grace as u64 * 1000)
            .rfc3339(self.epoch_unix_ms);
        meta.insert("deletionTimestamp".into(), json!(when));
        meta.insert("deletionGracePeriodSeconds".into(), json!(grace));
        if is_namespace {
            obj["status"]["phase"] = json!("Terminating");
        }
        if dry {
            return Ok((false, obj.to_string()));
        }
        Ok((
            false,
            self.commit(resource, ChangeKind::Modified, obj)
                .json
                .to_string(),
        ))
    }

    /// What a completed delete returns: the object for some kinds, a Status for the rest.
    fn deleted_body(&self, resource: usize, gone: &StoredObject, uid: &str) -> String {
        let served = &self.served[resource];
        if served.strategy.returns_deleted_object() {
            gone.json.to_string()
        } else {
            success_status(&served.info, gone.name(), uid)
        }
    }

    /// Removes an object for good (a DELETED event at a new resourceVersion).
    pub(super) fn finish_delete(&mut self, resource: usize, obj: Value) -> Arc<StoredObject> {
        let info = &self.served[resource].info;
        let core_kind = |plural: &str| info.group.is_empty() && info.plural == plural;
        let (service, pod) = (core_kind("services"), core_kind("pods"));
        if service {
            self.allocators.release_service(&obj);
        }
        if pod {
            if let Some(uid) = obj.at("/metadata/uid").and_then(Value::as_str) {
                self.access_log.forget_pod(uid);
            }
        }
        if resource == self.definitions {
            self.remove_definition(&obj);
        }
        self.commit(resource, ChangeKind::Deleted, obj)
    }

    pub(super) fn delete_collection(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let opts = DeleteOptions::from_request(req)?;
        let mut list = ListOptions::from_request(req)?;
        list.limit = None;
        list.continue_token = None;
        let page = self.select(resource, namespace, &list)?;
        let mut deleted = Vec::new();
        for obj in &page.items {
            let (_, body) = self.delete_object(resource, &obj.key, obj.name(), &opts, dry, env)?;
            deleted.push(body);
        }
        let info = &self.served[resource].info;
        let body = format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{}\"}},\"items\":[{}]}}",
            info.kind,
            info.api_version(),
            self.rv,
            deleted.join(",")
        );
        Ok(Response::json(200, body))
    }

    /// Completes the deletion of a namespace whose finalizers are gone (the `finalize` subresource).
    pub(super) fn delete_if_complete(
        &mut self,
        resource: usize,
        obj: Value,
    ) -> Option<Arc<StoredObject>> {
        deletion_complete(&obj).then(|| self.finish_delete(resource, obj))
    }
}

/// A pod's grace period: the request's, else the pod's; zero for pods never scheduled
/// or already finished, as upstream.
fn pod_grace_seconds(pod: &Value, opts: &DeleteOptions) -> i64 {
    let unscheduled = pod
        .at("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty();
    let finished = matches!(
        pod.at("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    );
    if unscheduled || finished {
        return 0;
    }
    let default = pod
        .at("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    opts.grace_period_seconds.unwrap_or(default).max(0)
}
