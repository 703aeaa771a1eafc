//! CustomResourceDefinitions: creating one serves its resource at once (discovery,
//! CRUD, watch, status and scale subresources, schema validation and defaulting,
//! printer columns), in every served version; deleting it removes every object of it.

pub mod definition;
pub mod schema;
mod version_view;

use crate::api::json_path::ValueExt;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use super::registry::{typed, Source, Strategy, UnknownFields};
use super::storage::ChangeKind;
use super::ApiServer;
use crate::api::status::FieldError;
use definition::{
    converts_with_webhook, custom_resources, established_status, stored_version_problems,
    validate_definition, CustomResource, PrinterColumn, ScalePaths,
};

/// The strategy for `customresourcedefinitions` themselves.
pub struct DefinitionStrategy;

impl Strategy for DefinitionStrategy {
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<CustomResourceDefinition>(obj, unknown, |_| {})
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_definition(obj)
    }
    fn validate_update(&self, new: &Value, _old: &Value) -> Vec<FieldError> {
        let mut errors = validate_definition(new);
        errors.extend(stored_version_problems(new));
        errors
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// How a served resource relates to the CustomResourceDefinition that defines it.
#[derive(Clone, Debug)]
pub struct CustomVersion {
    /// The CRD's name.
    pub definition: String,
    /// `None` for the storage version; for the other versions, the storage version's
    /// resource id, whose objects they show.
    pub view_of: Option<usize>,
    /// False for a storage version the CRD does not serve.
    pub served: bool,
    /// The `Warning` every request to this version receives, when it is deprecated.
    pub deprecation_warning: Option<String>,
    /// Whether converting between versions needs the CRD's conversion webhook.
    pub conversion_webhook: bool,
}

/// The strategy for objects of one version of a custom resource: its schema prunes,
/// defaults and validates.
pub struct CustomResourceStrategy {
    schema: Value,
    columns: Vec<PrinterColumn>,
    scale: Option<ScalePaths>,
}

impl CustomResourceStrategy {
    fn of(version: &CustomResource) -> Box<Self> {
        Box::new(CustomResourceStrategy {
            schema: version.schema.clone(),
            columns: version.columns.clone(),
            scale: version.scale.clone(),
        })
    }
}

impl Strategy for CustomResourceStrategy {
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        let mut obj = obj.into_tree()?;
        if !obj.is_object() {
            return Err("Object 'Kind' is missing in the request body".into());
        }
        schema::prune(&mut obj, &self.schema, true, unknown);
        schema::apply_defaults(&mut obj, &self.schema);
        Ok(obj)
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        schema::validate(obj, &self.schema, "", &mut errors);
        errors
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn supports_strategic_merge(&self) -> bool {
        false
    }
    fn custom_schema(&self) -> Option<&Value> {
        Some(&self.schema)
    }
    fn printer_columns(&self) -> Option<&[PrinterColumn]> {
        Some(&self.columns)
    }
    fn scale_paths(&self) -> Option<&ScalePaths> {
        self.scale.as_ref()
    }
}

impl ApiServer {
    /// Serves (or re-serves) what a created or updated CRD defines, and marks it Established.
    pub(super) fn sync_definition(&mut self, crd: &Value) {
        if !self.serve_definition(crd) {
            return;
        }
        let status = established_status(crd, &self.now.rfc3339(self.epoch_unix_ms));
        if crd.get("status") != Some(&status) {
            let mut updated = crd.clone();
            updated["status"] = status;
            self.commit(self.definitions, ChangeKind::Modified, updated);
        }
    }

    /// The resources a CRD defines that are still served, in serving order.
    fn defined_by(&self, definition: &str) -> Vec<usize> {
        (0..self.served.len())
            .filter(|&i| {
                self.served[i].active
                    && self.served[i]
                        .custom
                        .as_ref()
                        .is_some_and(|c| c.definition == definition)
            })
            .collect()
    }

    /// Serves every version a CRD defines: the storage version keeps the objects, the
    /// other served versions are views of it. False when it defines nothing servable.
    pub(super) fn serve_definition(&mut self, crd: &Value) -> bool {
        let versions = custom_resources(crd);
        let Some(storage) = versions.first().filter(|v| v.storage) else {
            return false;
        };
        let definition = crd
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let existing = self.defined_by(&definition);
        let conversion_webhook = converts_with_webhook(crd);
        let custom = |version: &CustomResource, view_of: Option<usize>| CustomVersion {
            definition: definition.clone(),
            view_of,
            served: version.served,
            deprecation_warning: version.deprecation_warning.clone(),
            conversion_webhook,
        };
        let previous_storage = existing.iter().copied().find(|&id| {
            self.served[id]
                .custom
                .as_ref()
                .is_some_and(|c| c.view_of.is_none())
        });
        let moved =
            previous_storage.is_some_and(|id| self.served[id].info.version != storage.info.version);
        let storage_id = self.serve_version(previous_storage, storage);
        if moved {
            self.restamp_api_version(storage_id);
        }
        self.served[storage_id].custom = Some(custom(storage, None));
        let mut kept = vec![storage_id];
        for version in &versions[1..] {
            let reused = existing.iter().copied().find(|&id| {
                id != storage_id && self.served[id].info.version == version.info.version
            });
            let id = self.serve_version(reused, version);
            self.served[id].custom = Some(custom(version, Some(storage_id)));
            kept.push(id);
        }
        for id in existing.into_iter().filter(|id| !kept.contains(id)) {
            self.served[id].active = false;
        }
        true
    }

    /// Serves `version` in the entry `reused` (which then serves what it now says) or in
    /// a new entry; returns the entry's id.
    fn serve_version(&mut self, reused: Option<usize>, version: &CustomResource) -> usize {
        let strategy = CustomResourceStrategy::of(version);
        match reused {
            Some(id) => {
                self.served[id].info = Arc::new(version.info.clone());
                self.served[id].strategy = strategy;
                id
            }
            None => self.serve(version.info.clone(), strategy),
        }
    }

    /// After the storage version changed, rewrites each stored object in it, as a
    /// storage migration would (conversion `None`: only `apiVersion` changes). Nothing
    /// observable happens: no new resourceVersion, no watch event.
    fn restamp_api_version(&mut self, resource: usize) {
        let api_version = self.served[resource].info.api_version();
        let objects: Vec<(Value, u64)> = self.served[resource]
            .table
            .scan("", None)
            .map(|o| (o.value(), o.rv))
            .collect();
        for (mut obj, rv) in objects {
            obj["apiVersion"] = Value::String(api_version.clone());
            let stored = self.stored(resource, &mut obj, rv);
            self.served[resource].table.put(stored);
        }
    }

    /// Deletes every object a CRD's resource holds and stops serving it.
    pub(super) fn remove_definition(&mut self, crd: &Value) {
        let definition = crd
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        for id in self.defined_by(definition) {
            let objects: Vec<Value> = self.served[id]
                .table
                .scan("", None)
                .map(|o| o.value())
                .collect();
            for obj in objects {
                self.commit(id, ChangeKind::Deleted, obj);
            }
            self.served[id].active = false;
        }
    }
}
