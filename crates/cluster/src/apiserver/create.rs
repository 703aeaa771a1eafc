//! Create: decode, name, namespace checks, server-set metadata, defaults,
//! validation, allocation, then commit.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::commit::drop_empty_metadata;
use super::limit_ranger::{default_from_limit_ranges, validate_limit_ranges};
use super::registry::{typed, Source};
use super::storage::{object_key, ChangeKind};
use super::watch::field_value;
use super::{ApiServer, Env};
use crate::api::names::{
    generated_name, name_problems, GENERATE_NAME_ALPHABET, GENERATE_NAME_SUFFIX_LEN,
};
use crate::api::query::{dry_run, FieldValidation};
use crate::api::request::{Request, Response};
use crate::api::status::{FieldError, StatusError};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Upstream's limit on a request body (3 MiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How far an object given to [`ApiServer::create_object`] has been decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decoded {
    /// Parsed JSON, not yet through the kind's type and defaults.
    Raw,
    /// Already through the kind's type and defaults (which read nothing the
    /// server sets on create), so the create does not decode it again.
    Normalized,
}

/// Checks a request body's size and media type; true when the body is YAML.
fn body_is_yaml(req: &Request) -> Result<bool, StatusError> {
    if req.body.len() > MAX_REQUEST_BODY_BYTES {
        return Err(StatusError {
            code: 413,
            reason: "RequestEntityTooLarge",
            message: format!("Request entity too large: limit is {MAX_REQUEST_BODY_BYTES}"),
            details: None,
        });
    }
    let content_type = req.header("content-type").unwrap_or("application/json");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(
        media_type,
        "application/json" | "application/yaml" | "*/*" | ""
    ) {
        return Err(StatusError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml".into(),
            details: None,
        });
    }
    Ok(media_type == "application/yaml")
}

/// Upstream's StorageObjectInUseProtection admission: a new claim gets the
/// `kubernetes.io/pvc-protection` finalizer (the PVC protection controller lifts it).
fn protect_claim(claim: &mut Value) {
    let finalizer = json!(crate::api::PVC_PROTECTION_FINALIZER);
    let meta = &mut claim["metadata"];
    if !meta["finalizers"].is_array() {
        meta["finalizers"] = json!([]);
    }
    let list = meta["finalizers"].as_array_mut().expect("made an array");
    if !list.contains(&finalizer) {
        list.push(finalizer);
    }
}

impl ApiServer {
    /// Parses a request body into an object of `resource`, checking apiVersion, kind and namespace.
    pub(super) fn decode_body(
        &self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
    ) -> Result<Value, StatusError> {
        let mut obj: Value = if body_is_yaml(req)? {
            serde_yaml::from_str(&req.body).map_err(|e| {
                StatusError::bad_request(format!("error converting YAML to JSON: yaml: {e}"))
            })?
        } else {
            serde_json::from_str(&req.body).map_err(|e| {
                StatusError::bad_request(format!(
                    "couldn't get version/kind; json parse error: {e}"
                ))
            })?
        };
        self.fit_to_request(&mut obj, resource, namespace)?;
        Ok(obj)
    }

    /// A create's JSON body decoded straight through the kind's type, with its
    /// defaults, when that succeeds (the usual case). `None` sends the body down the
    /// general path ([`Self::decode_body`], then [`Self::normalize`]), which reports
    /// a bad body as upstream does.
    pub(super) fn decode_normalized(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
    ) -> Result<Option<Value>, StatusError> {
        let strategy = &self.served[resource].strategy;
        if body_is_yaml(req)?
            || strategy.defaults_read_server_metadata()
            || strategy.custom_schema().is_some()
        {
            return Ok(None);
        }
        let mut unknown = Vec::new();
        let Ok(mut obj) = strategy.normalize(Source::Text(&req.body), &mut unknown) else {
            return Ok(None);
        };
        self.fit_to_request(&mut obj, resource, namespace)?;
        self.decoded(resource, Ok(obj), unknown).map(Some)
    }

    /// Fills in or checks a decoded body's apiVersion, kind, metadata and namespace
    /// against the resource and the request's namespace.
    fn fit_to_request(
        &self,
        obj: &mut Value,
        resource: usize,
        namespace: Option<&str>,
    ) -> Result<(), StatusError> {
        let info = &self.served[resource].info;
        if !obj.is_object() {
            return Err(StatusError::bad_request(
                "couldn't get version/kind; json parse error: json: cannot unmarshal into Go value of type struct",
            ));
        }
        let api_version = info.api_version();
        match obj.get("apiVersion").and_then(Value::as_str) {
            Some(v) if !v.is_empty() && v != api_version => {
                return Err(StatusError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({api_version})"
                )))
            }
            _ => obj["apiVersion"] = json!(api_version),
        }
        match obj.get("kind").and_then(Value::as_str) {
            Some(k) if !k.is_empty() && k != info.kind => {
                return Err(StatusError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    info.kind
                )))
            }
            _ => obj["kind"] = json!(info.kind),
        }
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        if info.namespaced() {
            let ns = namespace.unwrap_or("");
            match obj.at("/metadata/namespace").and_then(Value::as_str) {
                Some(given) if !given.is_empty() && given != ns => {
                    return Err(StatusError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => obj["metadata"]["namespace"] = json!(ns),
            }
        } else if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.remove("namespace");
        }
        Ok(())
    }

    /// Decodes through the kind's type and applies defaults, with upstream's decode
    /// error; fields the kind does not have go as the request's `fieldValidation` says.
    pub(super) fn normalize(&mut self, resource: usize, obj: Value) -> Result<Value, StatusError> {
        let mut unknown = Vec::new();
        let decoded = self.served[resource]
            .strategy
            .normalize(Source::Tree(obj), &mut unknown);
        self.decoded(resource, decoded, unknown)
    }

    /// Decodes only `metadata` through its type, for an update that changed nothing
    /// else; nothing when the metadata is `as_stored` (decoded when it was stored).
    pub(super) fn normalize_metadata(
        &mut self,
        resource: usize,
        mut obj: Value,
        as_stored: bool,
    ) -> Result<Value, StatusError> {
        if as_stored {
            return Ok(obj);
        }
        let meta = obj["metadata"].take();
        let mut unknown = Vec::new();
        let decoded = typed::<ObjectMeta>(Source::Tree(meta), &mut unknown, |_| {});
        let unknown = unknown
            .into_iter()
            .map(|f| format!("metadata.{f}"))
            .collect();
        obj["metadata"] = self.decoded(resource, decoded, unknown)?;
        Ok(obj)
    }

    /// Decodes only `metadata` (unless `metadata_as_stored`) and `status` through
    /// their types, for an update that changed nothing else (of a kind whose status
    /// decodes alone).
    pub(super) fn normalize_status(
        &mut self,
        resource: usize,
        mut obj: Value,
        metadata_as_stored: bool,
    ) -> Result<Value, StatusError> {
        let Some(status) = obj.as_object_mut().and_then(|o| o.remove("status")) else {
            return self.normalize_metadata(resource, obj, metadata_as_stored);
        };
        let mut unknown = Vec::new();
        let decoded = match self.served[resource].strategy.status_decoder() {
            Some(decode) => decode(status, &mut unknown),
            None => Ok(status),
        };
        let unknown = unknown.into_iter().map(|f| format!("status.{f}")).collect();
        let status = self.decoded(resource, decoded, unknown)?;
        let mut obj = self.normalize_metadata(resource, obj, metadata_as_stored)?;
        obj["status"] = status;
        Ok(obj)
    }

    /// Upstream's decode error for a failed decode, and its field validation: unknown
    /// fields refuse the write (`Strict`), become `Warning`s (`Warn`) or are dropped.
    fn decoded(
        &mut self,
        resource: usize,
        decoded: Result<Value, String>,
        unknown: Vec<String>,
    ) -> Result<Value, StatusError> {
        let info = &self.served[resource].info;
        let cannot_handle = |why: &str| StatusError::cannot_handle(info, why);
        let value = decoded.map_err(|e| cannot_handle(&e))?;
        let unknown: Vec<String> = unknown
            .iter()
            .map(|field| format!("unknown field {field:?}"))
            .collect();
        match self.field_validation {
            _ if unknown.is_empty() => {}
            FieldValidation::Ignore => {}
            FieldValidation::Warn => self.warnings.extend(unknown),
            FieldValidation::Strict => {
                let why = format!("strict decoding error: {}", unknown.join(", "));
                return Err(if self.patching {
                    StatusError::bad_request(why)
                } else {
                    cannot_handle(&why)
                });
            }
        }
        Ok(value)
    }

    /// Fails when `namespace` is missing (404) or terminating (403).
    pub(super) fn check_namespace_accepts(
        &self,
        resource: usize,
        name: &str,
        namespace: &str,
    ) -> Result<(), StatusError> {
        let namespaces = &self.served[self.namespaces];
        match namespaces.table.get(namespace) {
            None => Err(StatusError::not_found(&namespaces.info, namespace)),
            Some(ns)
                if field_value(ns, &namespaces.info.selectable_fields, "status.phase")
                    == "Terminating" =>
            {
                Err(StatusError::namespace_terminating(
                    &self.served[resource].info,
                    name,
                    namespace,
                ))
            }
            Some(_) => Ok(()),
        }
    }

    pub(super) fn create(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let dry = dry_run(req)?;
        let stored = match self.decode_normalized(req, resource, namespace)? {
            Some(obj) => self.create_object(resource, obj, Decoded::Normalized, dry, env)?,
            None => {
                let obj = self.decode_body(req, resource, namespace)?;
                self.create_object(resource, obj, Decoded::Raw, dry, env)?
            }
        };
        Ok(Response::json(201, stored))
    }

    /// Creates a decoded object; returns the stored JSON (or, for dry runs, what would be stored).
    pub(super) fn create_object(
        &mut self,
        resource: usize,
        mut obj: Value,
        decoded: Decoded,
        dry: bool,
        env: &mut Env,
    ) -> Result<String, StatusError> {
        let info = self.served[resource].info.clone();
        let meta = &obj["metadata"];
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let generate = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // Mutating admission runs, upstream, before the name is generated: its
        // errors name the object by its generateName.
        let mut admission_name = name.clone();
        if name.is_empty() && !generate.is_empty() {
            admission_name = generate.clone();
            let suffix = env
                .rng
                .string_from(GENERATE_NAME_ALPHABET, GENERATE_NAME_SUFFIX_LEN);
            name = generated_name(&generate, &suffix);
            obj["metadata"]["name"] = json!(name);
        }
        if name.is_empty() {
            return Err(StatusError::invalid(
                &info,
                "",
                &[FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        let rule = self.served[resource].strategy.name_rule();
        let problems: Vec<FieldError> = name_problems(rule, &name)
            .iter()
            .map(|p| FieldError::invalid("metadata.name", &json!(name), p))
            .collect();
        if !problems.is_empty() {
            return Err(StatusError::invalid(&info, &name, &problems));
        }
        let namespace = obj
            .at("/metadata/namespace")
            .and_then(Value::as_str)
            .map(String::from);
        if let Some(ns) = namespace.as_deref().filter(|_| info.namespaced()) {
            self.check_namespace_accepts(resource, &name, ns)?;
        }
        if obj
            .at("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|rv| !rv.is_empty())
        {
            return Err(StatusError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let key = object_key(namespace.as_deref().filter(|_| info.namespaced()), &name);
        if self.served[resource].table.get(&key).is_some() {
            return Err(StatusError::already_exists(&info, &name));
        }
        {
            let meta = obj["metadata"]
                .as_object_mut()
                .expect("metadata is an object");
            for field in [
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "uid",
                "creationTimestamp",
                "generation",
                "managedFields",
                "selfLink",
            ] {
                meta.remove(field);
            }
            meta.insert("uid".into(), json!(env.rng.uuid()));
            meta.insert(
                "creationTimestamp".into(),
                json!(env.now.rfc3339(self.epoch_unix_ms)),
            );
        }
        let strategy = &self.served[resource].strategy;
        if strategy.tracks_generation() {
            obj["metadata"]["generation"] = json!(1);
        }
        let mut obj = match decoded {
            Decoded::Raw => self.normalize(resource, obj)?,
            Decoded::Normalized => obj,
        };
        let core = info.group.is_empty();
        let limited = core && matches!(info.plural.as_str(), "pods" | "persistentvolumeclaims");
        let limit_ranges = match (limited, &namespace) {
            (true, Some(ns)) => self.limit_ranges(ns),
            _ => Vec::new(),
        };
        if core && info.plural == "pods" {
            default_from_limit_ranges(&limit_ranges, &mut obj);
            let namespace = namespace.as_deref().unwrap_or("");
            self.admit_pod_service_account(resource, namespace, &admission_name, &obj)?;
            self.admit_pod_priority(resource, &admission_name, &mut obj)?;
        }
        // As upstream's registry does after mutating admission (a pod's QoS class
        // counts the requests and limits LimitRanger set).
        let strategy = &self.served[resource].strategy;
        strategy.prepare_for_create(&mut obj, info.subresource("status").is_some());
        let errors = strategy.validate(&obj);
        if !errors.is_empty() {
            return Err(StatusError::invalid(&info, &name, &errors));
        }
        validate_limit_ranges(&limit_ranges, &info, &obj)?;
        if core && info.plural == "persistentvolumeclaims" {
            protect_claim(&mut obj);
        }
        self.admit_quota(resource, &obj)?;
        if info.group.is_empty() && info.plural == "services" {
            if dry {
                // A dry run allocates from a scratch copy so nothing is held.
                let mut scratch = env.rng.clone();
                self.allocators
                    .clone_for_dry_run()
                    .allocate_service(&mut obj, &mut scratch)
            } else {
                self.allocators.allocate_service(&mut obj, env.rng)
            }
            .map_err(|errors| StatusError::invalid(&info, &name, &errors))?;
        }
        if dry {
            drop_empty_metadata(&mut obj);
            return Ok(obj.to_string());
        }
        let stored = self.commit(resource, ChangeKind::Added, obj);
        if resource == self.definitions {
            self.sync_definition(&stored.value());
        }
        Ok(stored.json.to_string())
    }
}
