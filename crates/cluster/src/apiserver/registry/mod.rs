//! Per-kind strategies: decoding through the `k8s-openapi` type, upstream's
//! defaulting, create-time status resets and validation.

mod apps;
mod hpa;
mod limit_range;
mod namespace;
mod node;
mod persistent_volume_claim;
mod pod;
mod pod_spec_defaults;
mod priority_class;
mod rbac;
mod secret;
mod service;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::crd::definition::{PrinterColumn, ScalePaths};
use crate::api::names::NameRule;
use crate::api::status::FieldError;

/// What the API server needs to know about one kind beyond its discovery facts.
pub trait Strategy: Send + Sync {
    /// Which naming rule `metadata.name` follows.
    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }

    /// Decodes through the typed API struct and applies upstream's defaults. Fields
    /// the kind does not have are dropped and their paths added to `unknown`. The
    /// error is the decoder's message.
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String>;

    /// Whether `normalize` reads metadata the server sets on create (the uid, a
    /// generated name). Otherwise a create may decode the request body before the
    /// server sets them.
    fn defaults_read_server_metadata(&self) -> bool {
        false
    }

    /// Whether `normalize` derives nothing from `metadata` that an update could change
    /// (true for most kinds). Then an update that changes only `metadata` decodes just
    /// the metadata: the rest was normalized when it was stored.
    fn defaults_ignore_metadata(&self) -> bool {
        true
    }

    /// How `status` decodes alone through its own type, for kinds whose validation
    /// reads only the spec: then an update that changes only metadata and status (a
    /// kubelet's or a controller's status write) decodes just those.
    fn status_decoder(&self) -> Option<StatusDecoder> {
        None
    }

    /// Resets what a create may not set (usually `status`). It runs after
    /// `normalize` and mutating admission, so whatever it resets that `normalize`
    /// defaults, it sets to the default itself.
    fn prepare_for_create(&self, obj: &mut Value, has_status: bool) {
        if has_status {
            if let Some(map) = obj.as_object_mut() {
                map.remove("status");
            }
        }
    }

    /// Adjusts an update of the main resource before validation (e.g. a
    /// DaemonSet's template generation follows its template).
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) {}

    /// Validation of a new object.
    fn validate(&self, _obj: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Validation of an update; defaults to validating the new object.
    fn validate_update(&self, new: &Value, _old: &Value) -> Vec<FieldError> {
        self.validate(new)
    }

    /// Whether DELETE returns the object (pods, services, namespaces, nodes, ...) rather than a Status.
    fn returns_deleted_object(&self) -> bool {
        false
    }

    /// Whether PUT may create a missing object.
    fn allows_create_on_update(&self) -> bool {
        false
    }

    /// Whether `metadata.generation` is kept (and bumped on spec changes).
    fn tracks_generation(&self) -> bool {
        false
    }

    /// Whether strategic merge patches apply (built-in kinds only).
    fn supports_strategic_merge(&self) -> bool {
        true
    }

    /// A custom resource's OpenAPI v3 schema (built-in kinds publish their typed schema).
    fn custom_schema(&self) -> Option<&Value> {
        None
    }

    /// A custom resource's `additionalPrinterColumns`, which replace the built-in printers.
    fn printer_columns(&self) -> Option<&[PrinterColumn]> {
        None
    }

    /// Where a custom resource keeps what its `scale` subresource reads and writes.
    fn scale_paths(&self) -> Option<&ScalePaths> {
        None
    }
}

/// What a strategy decodes: a JSON tree, or JSON text straight from a request body
/// (which skips building a tree the typed decode would only take apart again).
pub enum Source<'a> {
    Tree(Value),
    Text(&'a str),
}

impl Source<'_> {
    /// The source as a JSON tree, for kinds without a typed struct.
    pub fn into_tree(self) -> Result<Value, String> {
        match self {
            Source::Tree(obj) => Ok(obj),
            Source::Text(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
        }
    }
}

/// Paths of fields a decode dropped because the kind has no such field
/// (`spec.foo`, `spec.containers[0].bar`), for upstream's field validation.
pub type UnknownFields = Vec<String>;

/// A decoder's path as upstream writes field paths: `spec.containers[0].image`.
pub(crate) fn field_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Decodes a kind's `status` alone (see [`Strategy::status_decoder`]).
pub type StatusDecoder = fn(Value, &mut UnknownFields) -> Result<Value, String>;

/// The [`StatusDecoder`] of the status type `S` (which has no defaults).
pub fn decode_status<S: DeserializeOwned + Serialize>(
    status: Value,
    unknown: &mut UnknownFields,
) -> Result<Value, String> {
    typed::<S>(Source::Tree(status), unknown, |_| {})
}

/// Decodes `obj` as `T` (noting the fields `T` does not have in `unknown`), lets
/// `default` fill it in, and encodes it back as a tree.
pub fn typed<T: DeserializeOwned + Serialize>(
    obj: Source,
    unknown: &mut UnknownFields,
    default: impl FnOnce(&mut T),
) -> Result<Value, String> {
    // One callback type for every kind, so the nested types' decoders are compiled once.
    let mut record = |path: serde_ignored::Path| unknown.push(field_path(&path));
    let callback: &mut dyn FnMut(serde_ignored::Path) = &mut record;
    let mut typed: T = match obj {
        Source::Tree(obj) => serde_ignored::deserialize(obj, callback),
        Source::Text(text) => {
            let mut decoder = serde_json::Deserializer::from_str(text);
            serde_ignored::deserialize(&mut decoder, callback)
                .and_then(|typed| decoder.end().map(|()| typed))
        }
    }
    .map_err(|e| e.to_string())?;
    default(&mut typed);
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

/// A kind with no behaviour beyond its type: decode and nothing else.
pub struct Plain<T> {
    rule: NameRule,
    generation: bool,
    _kind: std::marker::PhantomData<fn() -> T>,
}

impl<T> Plain<T> {
    const fn new(rule: NameRule, generation: bool) -> Self {
        Plain {
            rule,
            generation,
            _kind: std::marker::PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Serialize> Strategy for Plain<T> {
    fn name_rule(&self) -> NameRule {
        self.rule
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<T>(obj, unknown, |_| {})
    }
    fn tracks_generation(&self) -> bool {
        self.generation
    }
}

/// A custom resource: no typed struct (its schema is validated elsewhere).
pub struct Untyped;

impl Strategy for Untyped {
    fn normalize(&self, obj: Source, _unknown: &mut UnknownFields) -> Result<Value, String> {
        let obj = obj.into_tree()?;
        if obj.is_object() {
            Ok(obj)
        } else {
            Err("Object 'Kind' is missing in the request body".into())
        }
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn supports_strategic_merge(&self) -> bool {
        false
    }
}

/// The strategy for a built-in resource, by group and plural.
pub fn builtin_strategy(group: &str, plural: &str) -> Box<dyn Strategy> {
    use k8s_openapi::api as k;
    use NameRule::Subdomain;
    match (group, plural) {
        ("", "pods") => Box::new(pod::PodStrategy),
        ("", "namespaces") => Box::new(namespace::NamespaceStrategy),
        ("", "services") => Box::new(service::ServiceStrategy),
        ("", "nodes") => Box::new(node::NodeStrategy),
        ("apps", "deployments") => Box::new(apps::DeploymentStrategy),
        ("apps", "replicasets") => Box::new(apps::ReplicaSetStrategy),
        ("apps", "statefulsets") => Box::new(apps::StatefulSetStrategy),
        ("apps", "daemonsets") => Box::new(apps::DaemonSetStrategy),
        ("batch", "jobs") => Box::new(apps::JobStrategy),
        ("batch", "cronjobs") => Box::new(apps::CronJobStrategy),
        ("rbac.authorization.k8s.io", _) => rbac::strategy(plural),
        ("", "bindings") => Box::new(Plain::<k::core::v1::Binding>::new(Subdomain, false)),
        ("", "configmaps") => Box::new(Plain::<k::core::v1::ConfigMap>::new(Subdomain, false)),
        ("", "endpoints") => Box::new(Plain::<k::core::v1::Endpoints>::new(Subdomain, false)),
        ("", "events") => Box::new(Plain::<k::core::v1::Event>::new(Subdomain, false)),
        ("", "limitranges") => Box::new(limit_range::LimitRangeStrategy),
        ("", "persistentvolumeclaims") => {
            Box::new(persistent_volume_claim::PersistentVolumeClaimStrategy)
        }
        ("", "resourcequotas") => {
            Box::new(Plain::<k::core::v1::ResourceQuota>::new(Subdomain, false))
        }
        ("", "secrets") => Box::new(secret::SecretStrategy),
        ("", "serviceaccounts") => {
            Box::new(Plain::<k::core::v1::ServiceAccount>::new(Subdomain, false))
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            Box::new(super::crd::DefinitionStrategy)
        }
        ("apps", "controllerrevisions") => Box::new(Plain::<k::apps::v1::ControllerRevision>::new(
            Subdomain, false,
        )),
        ("events.k8s.io", "events") => {
            Box::new(Plain::<k::events::v1::Event>::new(Subdomain, false))
        }
        ("autoscaling", "horizontalpodautoscalers") => Box::new(hpa::HpaStrategy),
        ("coordination.k8s.io", "leases") => {
            Box::new(Plain::<k::coordination::v1::Lease>::new(Subdomain, false))
        }
        ("discovery.k8s.io", "endpointslices") => Box::new(
            Plain::<k::discovery::v1::EndpointSlice>::new(Subdomain, false),
        ),
        ("policy", "poddisruptionbudgets") => Box::new(
            Plain::<k::policy::v1::PodDisruptionBudget>::new(Subdomain, true),
        ),
        ("scheduling.k8s.io", "priorityclasses") => Box::new(priority_class::PriorityClassStrategy),
        _ => Box::new(Untyped),
    }
}
