//! The OpenAPI v3 documents upstream serves for `kubectl explain` and other clients:
//! `/openapi/v3` lists one document per group version; each document has a path per
//! resource (naming its group, version and kind) and the schemas of its kinds and
//! everything they reference. Built-in schemas (with upstream's descriptions) come
//! from `k8s-openapi`; a custom resource's from its CRD's `openAPIV3Schema`.

use k8s_openapi::api as k;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::Resource;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::ApiServer;
use crate::api::resources::ResourceInfo;
use crate::KUBERNETES_VERSION;

/// Adds `T`'s schema (and what it references) to `generator`; returns its name.
fn add<T: JsonSchema + Resource>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// The schema name of a built-in kind, after adding its schema to `generator`.
fn builtin(group: &str, kind: &str, generator: &mut SchemaGenerator) -> Option<String> {
    let g = generator;
    Some(match (group, kind) {
        ("", "Pod") => add::<k::core::v1::Pod>(g),
        ("", "Namespace") => add::<k::core::v1::Namespace>(g),
        ("", "Service") => add::<k::core::v1::Service>(g),
        ("", "Node") => add::<k::core::v1::Node>(g),
        ("", "Binding") => add::<k::core::v1::Binding>(g),
        ("", "ConfigMap") => add::<k::core::v1::ConfigMap>(g),
        ("", "Endpoints") => add::<k::core::v1::Endpoints>(g),
        ("", "Event") => add::<k::core::v1::Event>(g),
        ("", "LimitRange") => add::<k::core::v1::LimitRange>(g),
        ("", "PersistentVolumeClaim") => add::<k::core::v1::PersistentVolumeClaim>(g),
        ("", "ResourceQuota") => add::<k::core::v1::ResourceQuota>(g),
        ("", "Secret") => add::<k::core::v1::Secret>(g),
        ("", "ServiceAccount") => add::<k::core::v1::ServiceAccount>(g),
        ("apps", "Deployment") => add::<k::apps::v1::Deployment>(g),
        ("apps", "ReplicaSet") => add::<k::apps::v1::ReplicaSet>(g),
        ("apps", "StatefulSet") => add::<k::apps::v1::StatefulSet>(g),
        ("apps", "DaemonSet") => add::<k::apps::v1::DaemonSet>(g),
        ("apps", "ControllerRevision") => add::<k::apps::v1::ControllerRevision>(g),
        ("batch", "Job") => add::<k::batch::v1::Job>(g),
        ("batch", "CronJob") => add::<k::batch::v1::CronJob>(g),
        ("autoscaling", "HorizontalPodAutoscaler") => {
            add::<k::autoscaling::v2::HorizontalPodAutoscaler>(g)
        }
        ("coordination.k8s.io", "Lease") => add::<k::coordination::v1::Lease>(g),
        ("discovery.k8s.io", "EndpointSlice") => add::<k::discovery::v1::EndpointSlice>(g),
        ("events.k8s.io", "Event") => add::<k::events::v1::Event>(g),
        ("policy", "PodDisruptionBudget") => add::<k::policy::v1::PodDisruptionBudget>(g),
        ("scheduling.k8s.io", "PriorityClass") => add::<k::scheduling::v1::PriorityClass>(g),
        ("rbac.authorization.k8s.io", "Role") => add::<k::rbac::v1::Role>(g),
        ("rbac.authorization.k8s.io", "ClusterRole") => add::<k::rbac::v1::ClusterRole>(g),
        ("rbac.authorization.k8s.io", "RoleBinding") => add::<k::rbac::v1::RoleBinding>(g),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            add::<k::rbac::v1::ClusterRoleBinding>(g)
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            add::<apiextensions::CustomResourceDefinition>(g)
        }
        _ => return None,
    })
}

/// A custom resource's schema as upstream publishes it: the CRD's schema with the
/// standard `apiVersion`, `kind` and `metadata` fields filled in.
fn custom(schema: &Value, generator: &mut SchemaGenerator) -> Value {
    let mut schema = schema.clone();
    let standard = json!({
        "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources", "type": "string"},
        "kind": {"description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds", "type": "string"},
        "metadata": {"allOf": [generator.subschema_for::<ObjectMeta>()], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"},
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

/// A resource's collection path in its group version.
fn collection_path(info: &ResourceInfo) -> String {
    let prefix = if info.group.is_empty() {
        format!("/api/{}", info.version)
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    if info.namespaced() {
        format!("{prefix}/namespaces/{{namespace}}/{}", info.plural)
    } else {
        format!("{prefix}/{}", info.plural)
    }
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

/// The document path of a group version: `api/v1`, `apis/apps/v1`.
fn document_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

impl ApiServer {
    /// `/openapi/v3`: where each group version's document is.
    pub(super) fn openapi_index(&self) -> Value {
        let mut paths = Map::new();
        for info in self.resources() {
            let path = document_path(&info.group, &info.version);
            let url = format!("/openapi/v3/{path}");
            paths.insert(path, json!({"serverRelativeURL": url}));
        }
        json!({"paths": paths})
    }

    /// The OpenAPI v3 document of one group version; `None` when nothing is served there.
    pub(super) fn openapi_document(&self, group: &str, version: &str) -> Option<Value> {
        let mut generator = SchemaSettings::openapi3().into_generator();
        let mut paths = Map::new();
        let mut kinds: Vec<(String, Value)> = Vec::new();
        for served in self.served.iter().filter(|s| s.addressable()) {
            let info = &served.info;
            if info.group != group || info.version != version {
                continue;
            }
            let gvk = json!({"group": info.group, "kind": info.kind, "version": info.version});
            let name = match served.strategy.custom_schema() {
                Some(schema) => {
                    let name = custom_name(info);
                    kinds.push((name.clone(), custom(schema, &mut generator)));
                    name
                }
                None => match builtin(&info.group, &info.kind, &mut generator) {
                    Some(name) => name,
                    None => continue,
                },
            };
            kinds.push((name, gvk.clone()));
            let operation = json!({"x-kubernetes-group-version-kind": gvk});
            paths.insert(
                collection_path(info),
                json!({"get": operation, "post": with_write_parameters(&operation)}),
            );
            paths.insert(
                format!("{}/{{name}}", collection_path(info)),
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
        let mut schemas = generator.take_definitions(true);
        // Each kind's schema names its group, version and kind, as upstream's do; its
        // metadata is not required there (k8s-openapi's types always carry one).
        for (name, value) in kinds {
            if value.get("kind").is_some() {
                let schema = schemas.entry(name).or_insert_with(|| json!({}));
                schema["x-kubernetes-group-version-kind"] = json!([value]);
                if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
                    required.retain(|field| field != "metadata");
                    if required.is_empty() {
                        schema.as_object_mut().map(|s| s.remove("required"));
                    }
                }
            } else {
                schemas.insert(name, value);
            }
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

    /// Where a document's schemas live, as `$ref`s name them.
    const SCHEMAS: &str = "#/components/schemas/";

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
        assert_eq!(
            collection_path(&info),
            "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs"
        );
        assert_eq!(document_path("", "v1"), "api/v1");
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
