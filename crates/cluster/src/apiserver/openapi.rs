//! The OpenAPI v3 documents upstream serves for `kubectl explain` and other clients:
//! `/openapi/v3` lists one document per group version; each document has paths per
//! resource (naming its group, version and kind) and the schemas of its kinds and
//! everything they reference. Built-in schemas (with upstream's descriptions) are data
//! generated from `k8s-openapi` (`openapi_schemas.json`, kept current by the
//! `openapi_schemas` test); a custom resource's come from its CRD's `openAPIV3Schema`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::ApiServer;
use crate::api::resources::ResourceInfo;
use crate::KUBERNETES_VERSION;

/// Where a document's schemas live, as `$ref`s name them.
const SCHEMAS: &str = "#/components/schemas/";
/// The schema every object's `metadata` refers to.
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The built-in schemas: `kinds` (`group/version/Kind` → schema name) and `schemas`.
fn builtin_schemas() -> &'static Value {
    static SCHEMAS_JSON: OnceLock<Value> = OnceLock::new();
    SCHEMAS_JSON.get_or_init(|| {
        serde_json::from_str(include_str!("openapi_schemas.json"))
            .expect("the generated schemas are JSON")
    })
}

/// The schema name of a built-in kind.
fn builtin(info: &ResourceInfo) -> Option<String> {
    let key = format!("{}/{}/{}", info.group, info.version, info.kind);
    builtin_schemas()["kinds"][&key].as_str().map(String::from)
}

/// Adds the built-in schema `name` and every schema it references to `into`.
fn with_references(name: &str, into: &mut BTreeSet<String>) {
    if !into.insert(name.to_string()) {
        return;
    }
    let mut references = Vec::new();
    collect_references(&builtin_schemas()["schemas"][name], &mut references);
    for reference in references {
        with_references(&reference, into);
    }
}

/// The schema names `$ref`s in `schema` point to.
fn collect_references(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(reference)) => {
                        out.extend(reference.strip_prefix(SCHEMAS).map(String::from));
                    }
                    _ => collect_references(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, out)),
        _ => {}
    }
}

/// A custom resource's schema as upstream publishes it: the CRD's schema with the
/// standard `apiVersion`, `kind` and `metadata` fields filled in.
fn custom(schema: &Value) -> Value {
    let mut schema = schema.clone();
    let standard = json!({
        "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources", "type": "string"},
        "kind": {"description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", "type": "string"},
        "metadata": {"allOf": [{"$ref": format!("{SCHEMAS}{OBJECT_META}")}], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"},
    });
    if !schema["properties"].is_object() {
        schema["properties"] = json!({});
    }
    for (field, definition) in standard.as_object().into_iter().flatten() {
        schema["properties"][field] = definition.clone();
    }
    schema
}

/// Upstream's name for a custom kind's schema: the reversed group, version and kind.
fn custom_name(info: &ResourceInfo) -> String {
    let group: Vec<&str> = info.group.split('.').rev().collect();
    format!("{}.{}.{}", group.join("."), info.version, info.kind)
}

/// An operation with the query parameters writes accept, which clients look for
/// before they use them (kubectl checks for `fieldValidation` before `apply`).
fn with_write_parameters(operation: &Value) -> Value {
    let mut operation = operation.clone();
    operation["parameters"] = ["dryRun", "fieldManager", "fieldValidation"]
        .iter()
        .map(|name| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}}))
        .collect();
    operation
}

impl ApiServer {
    /// `/openapi/v3`: where each group version's document is.
    pub(super) fn openapi_index(&self) -> Value {
        let mut paths = Map::new();
        for info in self.resources() {
            let group_version = info.group_version_path();
            let url = format!("/openapi/v3{group_version}");
            let path = group_version.trim_start_matches('/').to_string();
            paths.insert(path, json!({"serverRelativeURL": url}));
        }
        json!({"paths": paths})
    }

    /// The OpenAPI v3 document of one group version; `None` when nothing is served there.
    pub(super) fn openapi_document(&self, group: &str, version: &str) -> Option<Value> {
        let mut paths = Map::new();
        let mut schemas = Map::new();
        let mut referenced = BTreeSet::new();
        for served in self.served.iter().filter(|s| s.addressable()) {
            let info = &served.info;
            if info.group != group || info.version != version {
                continue;
            }
            let gvk = json!({"group": info.group, "kind": info.kind, "version": info.version});
            match served.strategy.custom_schema() {
                Some(schema) => {
                    let mut schema = custom(schema);
                    schema["x-kubernetes-group-version-kind"] = json!([gvk]);
                    schemas.insert(custom_name(info), schema);
                    with_references(OBJECT_META, &mut referenced);
                }
                None => match builtin(info) {
                    Some(name) => with_references(&name, &mut referenced),
                    None => continue,
                },
            }
            let operation = json!({"x-kubernetes-group-version-kind": gvk});
            // Upstream's paths name the namespace and the name as template parameters.
            paths.insert(
                info.collection_path(Some("{namespace}")),
                json!({"get": operation, "post": with_write_parameters(&operation)}),
            );
            paths.insert(
                info.object_path(Some("{namespace}"), "{name}"),
                json!({
                    "get": operation,
                    "put": with_write_parameters(&operation),
                    "patch": with_write_parameters(&operation),
                    "delete": operation,
                }),
            );
        }
        if paths.is_empty() {
            return None;
        }
        for name in referenced {
            schemas.insert(name.clone(), builtin_schemas()["schemas"][&name].clone());
        }
        Some(json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
            "paths": paths,
            "components": {"schemas": schemas},
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_and_paths_follow_upstream() {
        let info = ResourceInfo {
            group: "stable.example.com".into(),
            version: "v1".into(),
            plural: "crontabs".into(),
            singular: "crontab".into(),
            kind: "CronTab".into(),
            scope: crate::api::Scope::Namespaced,
            verbs: Vec::new(),
            short_names: Vec::new(),
            categories: Vec::new(),
            subresources: Vec::new(),
            selectable_fields: Vec::new(),
        };
        assert_eq!(custom_name(&info), "com.example.stable.v1.CronTab");
        let server = ApiServer::new();
        assert_eq!(
            server.openapi_index()["paths"]["api/v1"]["serverRelativeURL"],
            "/openapi/v3/api/v1"
        );
        let doc = server.openapi_document("", "v1").unwrap();
        for path in [
            "/api/v1/namespaces/{namespace}/pods",
            "/api/v1/namespaces/{namespace}/pods/{name}",
            "/api/v1/nodes",
            "/api/v1/nodes/{name}",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path}");
        }
    }

    #[test]
    fn references_keep_their_field_description_beside_the_ref() {
        let server = ApiServer::new();
        let doc = server.openapi_document("", "v1").unwrap();
        let pod = &doc["components"]["schemas"]["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            pod["x-kubernetes-group-version-kind"],
            json!([{"group": "", "kind": "Pod", "version": "v1"}])
        );
        let spec = &pod["properties"]["spec"];
        assert_eq!(
            spec["allOf"][0]["$ref"],
            format!("{SCHEMAS}io.k8s.api.core.v1.PodSpec")
        );
        assert!(spec["description"]
            .as_str()
            .unwrap()
            .starts_with("Specification of the desired behavior of the pod."));
    }
}
