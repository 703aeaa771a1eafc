//! CustomResourceDefinitions: creating one serves its resource at once (discovery,
//! CRUD, watch, status and scale subresources, schema validation and defaulting,
//! printer columns); deleting it removes every object of it.

pub mod definition;
pub mod schema;

use crate::api::json_path::ValueExt;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use super::registry::{typed, Strategy};
use super::storage::ChangeKind;
use super::ApiServer;
use crate::api::status::FieldError;
use definition::{
    custom_resource, established_status, validate_definition, PrinterColumn, ScalePaths,
};

/// The strategy for `customresourcedefinitions` themselves.
pub struct DefinitionStrategy;

impl Strategy for DefinitionStrategy {
    fn normalize(&self, obj: Value) -> Result<Value, String> {
        typed::<CustomResourceDefinition>(obj, |_| {})
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_definition(obj)
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The strategy for objects of a custom resource: its schema prunes, defaults and validates.
pub struct CustomResourceStrategy {
    schema: Value,
    columns: Vec<PrinterColumn>,
    scale: Option<ScalePaths>,
}

impl Strategy for CustomResourceStrategy {
    fn normalize(&self, mut obj: Value) -> Result<Value, String> {
        if !obj.is_object() {
            return Err("Object 'Kind' is missing in the request body".into());
        }
        schema::prune(&mut obj, &self.schema, true);
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

    /// Serves the resource a CRD defines; false when it defines nothing servable.
    pub(super) fn serve_definition(&mut self, crd: &Value) -> bool {
        let Some(cr) = custom_resource(crd) else {
            return false;
        };
        let owner = crd
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let strategy = Box::new(CustomResourceStrategy {
            schema: cr.schema.clone(),
            columns: cr.columns.clone(),
            scale: cr.scale.clone(),
        });
        match self.resource_id(&cr.info.group, &cr.info.version, &cr.info.plural) {
            Some(id) => {
                self.served[id].info = Arc::new(cr.info);
                self.served[id].strategy = strategy;
            }
            None => {
                let id = self.serve(cr.info, strategy);
                self.served[id].defined_by = Some(owner);
            }
        }
        true
    }

    /// Deletes every object a CRD's resource holds and stops serving it.
    pub(super) fn remove_definition(&mut self, crd: &Value) {
        let owner = crd
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ids: Vec<usize> = (0..self.served.len())
            .filter(|&i| {
                self.served[i].active && self.served[i].defined_by.as_deref() == Some(owner)
            })
            .collect();
        for id in ids {
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
