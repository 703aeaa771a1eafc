//! Subresources: `status`, `scale` (autoscaling/v1 Scale), `binding` (the scheduler's
//! write), `eviction` (PodDisruptionBudget-aware delete), `log` (in `pod_log.rs`)
//! and `finalize` (namespaces).

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::create::Decoded;
use super::route::ResourceRequest;
use super::storage::{object_key, ChangeKind};
use super::tables::custom::simple_json_path;
use super::update::Scope;
use super::{ApiServer, Env};
use crate::api::labels::LabelSelector;
use crate::api::patch::{json_patch, merge_patch, strategic_merge_patch, PatchType};
use crate::api::query::{dry_run, DeleteOptions};
use crate::api::request::{Request, Response};
use crate::api::status::{FieldError, StatusError};

/// Go's decode error for `metadata.annotations` that are not a map of strings.
fn annotations_decode_error(annotations: &Value) -> Option<String> {
    let field = "Go struct field ObjectMeta.metadata.annotations";
    let go_type = |v: &Value| match v {
        Value::Null | Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match annotations {
        Value::Null => None,
        Value::Object(map) => map
            .values()
            .find(|v| !v.is_string() && !v.is_null())
            .map(|v| {
                format!(
                    "json: cannot unmarshal {} into {field} of type string",
                    go_type(v)
                )
            }),
        other => Some(format!(
            "json: cannot unmarshal {} into {field} of type map[string]string",
            go_type(other)
        )),
    }
}

/// A `metav1.Status` of success with a code, as binding and eviction return.
fn success(code: u16) -> Response {
    Response::json(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}).to_string(),
    )
}

/// The eviction API's 429 when a disruption budget forbids it, with `cause` as its DisruptionBudget cause.
fn budget_violation(cause: String) -> StatusError {
    let mut err = StatusError::too_many_requests(
        "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    let mut details = serde_json::Map::new();
    details.insert(
        "causes".into(),
        json!([{"reason": "DisruptionBudget", "message": cause}]),
    );
    err.details = Some(details);
    err
}

/// A `metav1.LabelSelector` object in upstream's string form (`app=web,tier in (a,b)`).
pub fn selector_string(selector: &Value) -> String {
    LabelSelector::from_json(selector)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

impl ApiServer {
    pub(super) fn handle_subresource(
        &mut self,
        req: &Request,
        rr: &ResourceRequest,
        resource: usize,
        sub: &str,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let ns = rr.namespace.as_deref();
        let name = rr.name.as_deref().unwrap_or("");
        match (sub, rr.verb) {
            ("status", "get") => self.get(req, resource, ns, name, env),
            ("status", "update") => {
                self.update_with_scope(req, resource, ns, name, Scope::Status, env)
            }
            ("status", "patch") => {
                self.patch_with_scope(req, resource, ns, name, Scope::Status, env)
            }
            ("scale", "get") => Ok(Response::json(
                200,
                self.scale_of(resource, ns, name)?.to_string(),
            )),
            ("scale", "update" | "patch") => self.update_scale(req, resource, ns, name),
            ("binding", "create") => self.bind(req, resource, ns, name, env),
            ("eviction", "create") => self.evict(req, resource, ns, name, env),
            ("log", "get") => self.pod_log(req, resource, ns, name, env),
            ("finalize", "update") => self.finalize_namespace(req, resource, name),
            _ => Err(StatusError::method_not_allowed()),
        }
    }

    /// The autoscaling/v1 Scale of a scalable object.
    fn scale_of(
        &self,
        resource: usize,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, StatusError> {
        let served = &self.served[resource];
        let obj = served
            .table
            .get(&object_key(ns, name))
            .ok_or_else(|| StatusError::not_found(&served.info, name))?
            .value();
        let meta = &obj["metadata"];
        let mut metadata = json!({
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        });
        if ns.is_none() {
            metadata.as_object_mut().map(|m| m.remove("namespace"));
        }
        let (spec_path, status_path, selector) = match served.strategy.scale_paths() {
            Some(paths) => (
                paths.spec_replicas.clone(),
                paths.status_replicas.clone(),
                paths
                    .label_selector
                    .as_deref()
                    .and_then(|p| simple_json_path(&obj, p))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            None => (
                ".spec.replicas".to_string(),
                ".status.replicas".to_string(),
                selector_string(obj.at("/spec/selector").unwrap_or(&Value::Null)),
            ),
        };
        Ok(json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": metadata,
            "spec": {"replicas": simple_json_path(&obj, &spec_path).cloned().unwrap_or(json!(0))},
            "status": {
                "replicas": simple_json_path(&obj, &status_path).cloned().unwrap_or(json!(0)),
                "selector": selector,
            },
        }))
    }

    fn update_scale(
        &mut self,
        req: &Request,
        resource: usize,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let mut scale = self.scale_of(resource, ns, name)?;
        let body: Value = serde_json::from_str(&req.body)
            .map_err(|e| StatusError::bad_request(format!("error decoding Scale: {e}")))?;
        match PatchType::from_content_type(req.header("content-type").unwrap_or("")) {
            None => scale = body,
            Some(PatchType::Merge) => merge_patch(&mut scale, &body),
            Some(PatchType::Strategic) => strategic_merge_patch(&mut scale, &body),
            Some(PatchType::Json) => {
                scale = json_patch(&scale, &body).map_err(|e| StatusError::bad_request(e.0))?
            }
        }
        let replicas = scale
            .at("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if replicas < 0 {
            let scale_info = crate::api::ResourceInfo {
                group: "autoscaling".into(),
                kind: "Scale".into(),
                ..self.served[resource].info.as_ref().clone()
            };
            return Err(StatusError::invalid(
                &scale_info,
                name,
                &[FieldError::invalid(
                    "spec.replicas",
                    &json!(replicas),
                    "must be greater than or equal to 0",
                )],
            ));
        }
        let key = object_key(ns, name);
        let mut obj = self.served[resource]
            .table
            .get(&key)
            .expect("scale_of found it")
            .value();
        let spec_path = self.served[resource]
            .strategy
            .scale_paths()
            .map_or(".spec.replicas".to_string(), |p| p.spec_replicas.clone());
        set_simple_path(&mut obj, &spec_path, json!(replicas));
        if let Some(rv) = scale
            .at("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            obj["metadata"]["resourceVersion"] = json!(rv);
        }
        self.update_object(resource, &key, name, obj, Decoded::Raw, Scope::Main, dry)?;
        Ok(Response::json(
            200,
            self.scale_of(resource, ns, name)?.to_string(),
        ))
    }

    /// `pods/binding`: assigns a pending pod to a node, once.
    fn bind(
        &mut self,
        req: &Request,
        resource: usize,
        ns: Option<&str>,
        name: &str,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let binding: Value = serde_json::from_str(&req.body)
            .map_err(|e| StatusError::bad_request(format!("error decoding Binding: {e}")))?;
        let annotations = binding.at("/metadata/annotations");
        if let Some(why) = annotations.and_then(annotations_decode_error) {
            let info = crate::api::ResourceInfo {
                kind: "Binding".into(),
                ..self.served[resource].info.as_ref().clone()
            };
            return Err(StatusError::cannot_handle(&info, &why));
        }
        let node = binding
            .at("/target/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let binding_info = crate::api::ResourceInfo {
            plural: "pods/binding".into(),
            ..self.served[resource].info.as_ref().clone()
        };
        if node.is_empty() {
            return Err(StatusError::invalid(
                &binding_info,
                name,
                &[FieldError::required("target.name", "")],
            ));
        }
        let key = object_key(ns, name);
        let served = &self.served[resource];
        let mut pod = served
            .table
            .get(&key)
            .ok_or_else(|| StatusError::not_found(&served.info, name))?
            .value();
        if pod.at("/metadata/deletionTimestamp").is_some() {
            return Err(StatusError::conflict_because(
                &binding_info,
                name,
                &format!("pod {name} is being deleted, cannot be assigned to a host"),
            ));
        }
        if let Some(existing) = pod
            .at("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            return Err(StatusError::conflict_because(
                &binding_info,
                name,
                &format!("pod {name} is already assigned to node {existing:?}"),
            ));
        }
        pod["spec"]["nodeName"] = json!(node);
        if let Some(annotations) = annotations.and_then(Value::as_object) {
            let onto = &mut pod["metadata"]["annotations"];
            if !onto.is_object() {
                *onto = json!({});
            }
            for (key, value) in annotations {
                onto[key] = json!(value.as_str().unwrap_or_default());
            }
        }
        let now = env.now.rfc3339(self.epoch_unix_ms);
        let conditions = pod["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut conditions: Vec<Value> = conditions
            .into_iter()
            .filter(|c| c["type"] != "PodScheduled")
            .collect();
        conditions.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}));
        pod["status"]["conditions"] = Value::Array(conditions);
        if !dry {
            self.commit(resource, ChangeKind::Modified, pod);
        }
        Ok(success(201))
    }

    /// `pods/eviction`: deletes a pod unless a PodDisruptionBudget forbids it (429).
    fn evict(
        &mut self,
        req: &Request,
        resource: usize,
        ns: Option<&str>,
        name: &str,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let eviction: Value = serde_json::from_str(&req.body)
            .map_err(|e| StatusError::bad_request(format!("error decoding Eviction: {e}")))?;
        let key = object_key(ns, name);
        let served = &self.served[resource];
        let pod = served
            .table
            .get(&key)
            .ok_or_else(|| StatusError::not_found(&served.info, name))?
            .value();
        let opts: DeleteOptions = match eviction.get("deleteOptions") {
            Some(o) => DeleteOptions::from_request(
                &Request::delete("").with_body(o.to_string(), "application/json"),
            )?,
            None => DeleteOptions::default(),
        };
        let pdbs_id = self
            .resource_id("policy", "v1", "poddisruptionbudgets")
            .expect("built in");
        let prefix = format!("{}/", ns.unwrap_or(""));
        let labels = pod.at("/metadata/labels");
        let matching: Vec<Value> = self.served[pdbs_id]
            .table
            .scan(&prefix, None)
            .map(|p| p.value())
            .filter(|pdb| {
                pdb.at("/spec/selector")
                    .and_then(|s| LabelSelector::from_json(s).ok())
                    .is_some_and(|s| !s.is_empty() && s.matches_json(labels))
            })
            .collect();
        // Upstream's `canIgnorePDB`: finished, pending and already deleting pods.
        let terminal = matches!(
            pod.at("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed" | "Pending")
        ) || pod.at("/metadata/deletionTimestamp").is_some();
        if matching.len() > 1 && !terminal {
            return Err(StatusError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
        if let (Some(pdb), false) = (matching.first(), terminal) {
            let allowed = pdb
                .at("/status/disruptionsAllowed")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let observed = pdb
                .at("/status/observedGeneration")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let generation = pdb
                .at("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let pdb_name = pdb
                .at("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if observed < generation {
                return Err(budget_violation(format!(
                    "The disruption budget {pdb_name} is still being processed by the server."
                )));
            }
            if allowed < 1 {
                let desired = pdb
                    .at("/status/desiredHealthy")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let current = pdb
                    .at("/status/currentHealthy")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                return Err(budget_violation(format!(
                    "The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently"
                )));
            }
            if !dry {
                let mut updated = pdb.clone();
                updated["status"]["disruptionsAllowed"] = json!(allowed - 1);
                let now = env.now.rfc3339(self.epoch_unix_ms);
                updated["status"]["disruptedPods"][name] = json!(now);
                self.commit(pdbs_id, ChangeKind::Modified, updated);
            }
        }
        self.delete_object(resource, &key, name, &opts, dry, env)?;
        Ok(success(201))
    }

    /// `namespaces/{name}/finalize`: replaces `spec.finalizers`; the namespace goes once none remain.
    fn finalize_namespace(
        &mut self,
        req: &Request,
        resource: usize,
        name: &str,
    ) -> Result<Response, StatusError> {
        let body: Value = serde_json::from_str(&req.body)
            .map_err(|e| StatusError::bad_request(format!("error decoding Namespace: {e}")))?;
        let served = &self.served[resource];
        let mut ns = served
            .table
            .get(name)
            .ok_or_else(|| StatusError::not_found(&served.info, name))?
            .value();
        ns["spec"]["finalizers"] = body.at("/spec/finalizers").cloned().unwrap_or(json!([]));
        if let Some(gone) = self.delete_if_complete(resource, ns.clone()) {
            return Ok(Response::json(200, gone.json.to_string()));
        }
        Ok(Response::json(
            200,
            self.commit(resource, ChangeKind::Modified, ns)
                .json
                .to_string(),
        ))
    }
}

/// Sets the value at a dotted path (`.spec.replicas`), creating objects on the way.
fn set_simple_path(obj: &mut Value, path: &str, value: Value) {
    let mut current = obj;
    let parts: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            current[*part] = value;
            return;
        }
        if !current.get(*part).is_some_and(Value::is_object) {
            current[*part] = json!({});
        }
        current = &mut current[*part];
    }
}
