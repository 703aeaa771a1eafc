//! Reading a CustomResourceDefinition: validating it as upstream does and turning
//! each of its versions into a served resource (names, scope, subresources, schema,
//! printer columns, selectable fields, deprecation).

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use std::cmp::Ordering;

use crate::api::kube_version;
use crate::api::names::{is_dns1035_label, DNS1035_MESSAGE};
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

/// Everything the API server needs to serve one version of a custom resource.
#[derive(Clone, Debug)]
pub struct CustomResource {
    pub info: ResourceInfo,
    pub schema: Value,
    pub columns: Vec<PrinterColumn>,
    pub scale: Option<ScalePaths>,
    /// Whether objects are stored in this version.
    pub storage: bool,
    /// Whether requests may name this version.
    pub served: bool,
    /// The `Warning` requests to this version receive, when it is deprecated.
    pub deprecation_warning: Option<String>,
}

/// Whether the CRD converts between versions with a webhook (rather than `None`).
pub fn converts_with_webhook(crd: &Value) -> bool {
    text(crd, "/spec/conversion/strategy") == "Webhook"
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
        // Upstream prints the whole Go slice; the count is what a learner needs.
        let whole_list = |detail: &str| {
            let shown = format!(
                "[]apiextensions.CustomResourceDefinitionVersion{{...{} versions}}",
                versions.len()
            );
            FieldError::invalid("spec.versions", &Value::String(shown), detail)
        };
        let storage = versions
            .iter()
            .filter(|v| v["storage"] == json!(true))
            .count();
        if storage != 1 {
            errors.push(whole_list(
                "must have exactly one version marked as storage version",
            ));
        }
        let mut names = std::collections::HashSet::new();
        let mut unique = true;
        for (i, v) in versions.iter().enumerate() {
            let version = text(v, "/name");
            unique &= names.insert(version);
            if !is_dns1035_label(version) {
                errors.push(FieldError::invalid(
                    format!("spec.versions[{i}].name"),
                    &json!(version),
                    DNS1035_MESSAGE,
                ));
            }
            if v.get("deprecationWarning").is_some() && v["deprecated"] != json!(true) {
                errors.push(FieldError::invalid(
                    format!("spec.versions[{i}].deprecationWarning"),
                    &v["deprecationWarning"],
                    "can only be set for deprecated versions",
                ));
            }
            if v.at("/schema/openAPIV3Schema").is_none() {
                errors.push(FieldError::required(
                    format!("spec.versions[{i}].schema.openAPIV3Schema"),
                    "schemas are required",
                ));
            }
        }
        if !unique {
            errors.push(whole_list("must contain unique version names"));
        }
    }
    errors.extend(conversion_problems(crd));
    errors
}

/// Upstream's checks of `spec.conversion`.
fn conversion_problems(crd: &Value) -> Vec<FieldError> {
    let Some(conversion) = crd.at("/spec/conversion") else {
        return Vec::new();
    };
    let strategy = conversion.get("strategy").cloned().unwrap_or(Value::Null);
    let webhook = conversion.get("webhook").is_some_and(|w| !w.is_null());
    match strategy.as_str() {
        Some("None") if webhook => vec![FieldError::forbidden(
            "spec.conversion.webhook",
            "should not be set when strategy is not set to Webhook",
        )],
        Some("None") => Vec::new(),
        Some("Webhook") if !webhook => vec![FieldError::required(
            "spec.conversion.webhook",
            "required when strategy is set to Webhook",
        )],
        Some("Webhook") => Vec::new(),
        _ => vec![FieldError::not_supported(
            "spec.conversion.strategy",
            &strategy,
            &["None", "Webhook"],
        )],
    }
}

/// Upstream's check that every version ever stored is still listed: an update may not
/// drop a version objects may still be stored in.
pub fn stored_version_problems(crd: &Value) -> Vec<FieldError> {
    let Some(stored) = crd.at("/status/storedVersions").and_then(Value::as_array) else {
        return Vec::new();
    };
    let listed: Vec<&str> = crd
        .at("/spec/versions")
        .and_then(Value::as_array)
        .map(|v| v.iter().map(|v| text(v, "/name")).collect())
        .unwrap_or_default();
    stored
        .iter()
        .enumerate()
        .filter(|(_, v)| !listed.contains(&v.as_str().unwrap_or("")))
        .map(|(i, v)| {
            FieldError::invalid(
                format!("status.storedVersions[{i}]"),
                v,
                "must appear in spec.versions",
            )
        })
        .collect()
}

/// Every version of a (valid) CRD that is served or stored, the storage version first.
pub fn custom_resources(crd: &Value) -> Vec<CustomResource> {
    let versions = crd
        .at("/spec/versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut resources: Vec<CustomResource> = versions
        .iter()
        .filter(|v| v["storage"] == json!(true) || v["served"] == json!(true))
        .filter_map(|v| custom_resource(crd, v, versions))
        .collect();
    resources.sort_by_key(|r| !r.storage);
    resources
}

/// Upstream's default warning for a deprecated version: it names the most preferred
/// served, non-deprecated version that is preferred over the deprecated one.
fn default_deprecation_warning(crd: &Value, deprecated: &str, versions: &[Value]) -> String {
    let group = text(crd, "/spec/group");
    let kind = text(crd, "/spec/names/kind");
    let message = format!("{group}/{deprecated} {kind} is deprecated");
    let better = versions
        .iter()
        .filter(|v| v["served"] == json!(true) && v["deprecated"] != json!(true))
        .map(|v| text(v, "/name"))
        .filter(|name| kube_version::compare(deprecated, name) == Ordering::Less)
        .max_by(|a, b| kube_version::compare(a, b));
    match better {
        Some(version) => format!("{message}; use {group}/{version} {kind}"),
        None => message,
    }
}

/// One version of a CRD as a servable resource.
fn custom_resource(crd: &Value, version: &Value, versions: &[Value]) -> Option<CustomResource> {
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
    let deprecation_warning = (version["deprecated"] == json!(true)).then(|| {
        match version.get("deprecationWarning").and_then(Value::as_str) {
            Some(warning) => warning.to_string(),
            None => default_deprecation_warning(crd, &info.version, versions),
        }
    });
    Some(CustomResource {
        info,
        schema: version
            .at("/schema/openAPIV3Schema")
            .cloned()
            .unwrap_or(json!({})),
        columns,
        scale,
        storage: version["storage"] == json!(true),
        served: version["served"] == json!(true),
        deprecation_warning,
    })
}

/// The status the CRD controllers publish once the names are accepted and the resource
/// is served. `storedVersions` only grows: a version once stored stays listed.
pub fn established_status(crd: &Value, now: &str) -> Value {
    // A condition that was already True keeps the time it became True.
    let since = |kind: &str| {
        crd.at("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .find(|c| c["type"] == kind && c["status"] == "True")
            })
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(now))
    };
    let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastTransitionTime": since(kind), "reason": reason, "message": message});
    let mut stored = strings(crd.at("/status/storedVersions"));
    let storage = crd
        .at("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|v| v.iter().find(|v| v["storage"] == json!(true)))
        .map(|v| text(v, "/name").to_string());
    if let Some(storage) = storage.filter(|s| !stored.contains(s)) {
        stored.push(storage);
    }
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
        "storedVersions": stored,
    })
}
