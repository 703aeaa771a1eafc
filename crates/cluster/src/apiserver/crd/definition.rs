//! Reading a CustomResourceDefinition: validating it as upstream does and turning
//! its storage version into a served resource (names, scope, subresources, schema,
//! printer columns, selectable fields).

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use crate::api::resources::{ResourceInfo, Scope, SubresourceInfo, ALL_VERBS};
use crate::api::status::FieldError;

/// One `additionalPrinterColumns` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub kind: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    /// A simple JSONPath such as `.spec.replicas`.
    pub json_path: String,
}

/// The `scale` subresource's paths.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// Everything the API server needs to serve a custom resource.
#[derive(Clone, Debug)]
pub struct CustomResource {
    pub info: ResourceInfo,
    pub schema: Value,
    pub columns: Vec<PrinterColumn>,
    pub scale: Option<ScalePaths>,
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.at(pointer).and_then(Value::as_str).unwrap_or("")
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Upstream's validation of a CRD (the parts a learner runs into).
pub fn validate_definition(crd: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let group = text(crd, "/spec/group");
    let plural = text(crd, "/spec/names/plural");
    let name = text(crd, "/metadata/name");
    if group.is_empty() {
        errors.push(FieldError::required("spec.group", ""));
    } else if !group.contains('.') {
        errors.push(FieldError::invalid(
            "spec.group",
            &json!(group),
            "should be a domain with at least one dot",
        ));
    }
    if plural.is_empty() {
        errors.push(FieldError::required("spec.names.plural", ""));
    }
    if text(crd, "/spec/names/kind").is_empty() {
        errors.push(FieldError::required("spec.names.kind", ""));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        errors.push(FieldError::invalid(
            "metadata.name",
            &json!(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let scope = crd.at("/spec/scope").cloned().unwrap_or(Value::Null);
    if !matches!(scope.as_str(), Some("Cluster" | "Namespaced")) {
        errors.push(FieldError::not_supported(
            "spec.scope",
            &scope,
            &["Cluster", "Namespaced"],
        ));
    }
    let versions = crd
        .at("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        errors.push(FieldError::invalid(
            "spec.versions",
            &json!([]),
            "must have exactly one version marked as storage version",
        ));
    } else {
        let storage = versions
            .iter()
            .filter(|v| v["storage"] == json!(true))
            .count();
        if storage != 1 {
            errors.push(FieldError::invalid(
                "spec.versions",
                &Value::String(format!(
                    "[]apiextensions.CustomResourceDefinitionVersion{{...{} versions}}",
                    versions.len()
                )),
                "must have exactly one version marked as storage version",
            ));
        }
        for (i, v) in versions.iter().enumerate() {
            if v.at("/schema/openAPIV3Schema").is_none() {
                errors.push(FieldError::required(
                    format!("spec.versions[{i}].schema.openAPIV3Schema"),
                    "schemas are required",
                ));
            }
        }
    }
    errors
}

/// The storage version of a (valid) CRD as a servable resource.
pub fn custom_resource(crd: &Value) -> Option<CustomResource> {
    let versions = crd.at("/spec/versions").and_then(Value::as_array)?;
    let version = versions.iter().find(|v| v["storage"] == json!(true))?;
    let names = crd.at("/spec/names")?;
    let kind = text(names, "/kind").to_string();
    let singular = match text(names, "/singular") {
        "" => kind.to_ascii_lowercase(),
        s => s.to_string(),
    };
    let mut subresources = Vec::new();
    if version.at("/subresources/status").is_some() {
        subresources.push(SubresourceInfo {
            name: "status".into(),
            kind: kind.clone(),
            group: None,
            version: None,
            verbs: vec!["get".into(), "patch".into(), "update".into()],
        });
    }
    let scale = version.at("/subresources/scale").map(|s| ScalePaths {
        spec_replicas: text(s, "/specReplicasPath").to_string(),
        status_replicas: text(s, "/statusReplicasPath").to_string(),
        label_selector: s
            .get("labelSelectorPath")
            .and_then(Value::as_str)
            .map(String::from),
    });
    if scale.is_some() {
        subresources.push(SubresourceInfo {
            name: "scale".into(),
            kind: "Scale".into(),
            group: Some("autoscaling".into()),
            version: Some("v1".into()),
            verbs: vec!["get".into(), "patch".into(), "update".into()],
        });
    }
    let mut columns: Vec<PrinterColumn> = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| PrinterColumn {
                    name: text(c, "/name").to_string(),
                    kind: text(c, "/type").to_string(),
                    format: text(c, "/format").to_string(),
                    description: text(c, "/description").to_string(),
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                    json_path: text(c, "/jsonPath").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if columns.is_empty() {
        columns.push(PrinterColumn {
            name: "Age".into(),
            kind: "date".into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        });
    }
    let selectable_fields = version
        .get("selectableFields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f.get("jsonPath").and_then(Value::as_str))
                .map(|p| p.trim_start_matches('.').to_string())
                .collect()
        })
        .unwrap_or_default();
    let info = ResourceInfo {
        group: text(crd, "/spec/group").to_string(),
        version: text(version, "/name").to_string(),
        plural: text(names, "/plural").to_string(),
        singular,
        kind,
        scope: if text(crd, "/spec/scope") == "Cluster" {
            Scope::Cluster
        } else {
            Scope::Namespaced
        },
        verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
        short_names: strings(names.get("shortNames")),
        categories: strings(names.get("categories")),
        subresources,
        selectable_fields,
    };
    Some(CustomResource {
        info,
        schema: version
            .at("/schema/openAPIV3Schema")
            .cloned()
            .unwrap_or(json!({})),
        columns,
        scale,
    })
}

/// The status the CRD controllers publish once the names are accepted and the resource is served.
pub fn established_status(crd: &Value, now: &str) -> Value {
    let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    let storage: Vec<String> = crd
        .at("/spec/versions")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter(|v| v["storage"] == json!(true))
                .filter_map(|v| v["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut accepted = crd.at("/spec/names").cloned().unwrap_or(json!({}));
    if accepted.get("singular").is_none() {
        accepted["singular"] = json!(text(crd, "/spec/names/kind").to_ascii_lowercase());
    }
    if accepted.get("listKind").is_none() {
        accepted["listKind"] = json!(format!("{}List", text(crd, "/spec/names/kind")));
    }
    json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": accepted,
        "storedVersions": storage,
    })
}
