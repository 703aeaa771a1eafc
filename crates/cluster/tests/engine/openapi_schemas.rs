//! The built-in kinds' OpenAPI v3 schemas (upstream's descriptions, from `k8s-openapi`)
//! are data in `src/apiserver/openapi_schemas.json`, so the engine (and the browser's
//! worker) carries compact JSON rather than code that builds it. This test regenerates
//! the file from `k8s-openapi`'s schemars schemas and fails when the committed one
//! differs; `BLESS_OPENAPI=1` rewrites it.

use k8s_openapi::api as k;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::Resource;
use kubecraft_cluster::apiserver::ApiServer;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/apiserver/openapi_schemas.json"
);

/// Adds `T`'s schema (and what it references) and indexes it by group/version/kind.
fn add<T: JsonSchema + Resource>(generator: &mut SchemaGenerator, kinds: &mut Map<String, Value>) {
    generator.subschema_for::<T>();
    let key = format!("{}/{}/{}", T::GROUP, T::VERSION, T::KIND);
    kinds.insert(key, json!(T::schema_name()));
}

/// Every built-in kind the API server serves, with the schemas they reference.
fn generate() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut kinds = Map::new();
    let g = &mut generator;
    let i = &mut kinds;
    add::<k::core::v1::Pod>(g, i);
    add::<k::core::v1::Namespace>(g, i);
    add::<k::core::v1::Service>(g, i);
    add::<k::core::v1::Node>(g, i);
    add::<k::core::v1::Binding>(g, i);
    add::<k::core::v1::ConfigMap>(g, i);
    add::<k::core::v1::Endpoints>(g, i);
    add::<k::core::v1::Event>(g, i);
    add::<k::core::v1::LimitRange>(g, i);
    add::<k::core::v1::PersistentVolumeClaim>(g, i);
    add::<k::core::v1::ResourceQuota>(g, i);
    add::<k::core::v1::Secret>(g, i);
    add::<k::core::v1::ServiceAccount>(g, i);
    add::<k::apps::v1::Deployment>(g, i);
    add::<k::apps::v1::ReplicaSet>(g, i);
    add::<k::apps::v1::StatefulSet>(g, i);
    add::<k::apps::v1::DaemonSet>(g, i);
    add::<k::apps::v1::ControllerRevision>(g, i);
    add::<k::batch::v1::Job>(g, i);
    add::<k::batch::v1::CronJob>(g, i);
    add::<k::autoscaling::v2::HorizontalPodAutoscaler>(g, i);
    add::<k::coordination::v1::Lease>(g, i);
    add::<k::discovery::v1::EndpointSlice>(g, i);
    add::<k::events::v1::Event>(g, i);
    add::<k::policy::v1::PodDisruptionBudget>(g, i);
    add::<k::scheduling::v1::PriorityClass>(g, i);
    add::<k::rbac::v1::Role>(g, i);
    add::<k::rbac::v1::ClusterRole>(g, i);
    add::<k::rbac::v1::RoleBinding>(g, i);
    add::<k::rbac::v1::ClusterRoleBinding>(g, i);
    add::<k::authentication::v1::SelfSubjectReview>(g, i);
    add::<k::authorization::v1::LocalSubjectAccessReview>(g, i);
    add::<k::authorization::v1::SelfSubjectAccessReview>(g, i);
    add::<k::authorization::v1::SelfSubjectRulesReview>(g, i);
    add::<k::authorization::v1::SubjectAccessReview>(g, i);
    add::<apiextensions::CustomResourceDefinition>(g, i);
    // Custom resources' metadata refers to it.
    generator.subschema_for::<ObjectMeta>();
    let mut schemas = generator.take_definitions(true);
    // Upstream's kind schemas name their kind and do not require metadata (k8s-openapi's
    // types always carry one).
    for (gvk, name) in &kinds {
        let mut parts = gvk.splitn(3, '/');
        let (group, version, kind) = (parts.next(), parts.next(), parts.next());
        let schema = &mut schemas[name.as_str().unwrap()];
        schema["x-kubernetes-group-version-kind"] =
            json!([{"group": group, "kind": kind, "version": version}]);
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|field| field != "metadata");
            if required.is_empty() {
                schema.as_object_mut().map(|s| s.remove("required"));
            }
        }
    }
    json!({"kinds": kinds, "schemas": schemas})
}

#[test]
fn the_committed_schemas_are_what_k8s_openapi_generates() {
    let generated = format!("{}\n", generate());
    if std::env::var_os("BLESS_OPENAPI").is_some() {
        std::fs::write(FILE, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(FILE).unwrap_or_default();
    assert!(
        committed == generated,
        "{FILE} is out of date: run BLESS_OPENAPI=1 cargo test -p kubecraft-cluster --test engine openapi_schemas"
    );
}

#[test]
fn every_served_built_in_kind_has_a_schema() {
    let generated = generate();
    let server = ApiServer::new();
    for info in server.resources() {
        if info.group == "metrics.k8s.io" {
            continue;
        }
        let key = format!("{}/{}/{}", info.group, info.version, info.kind);
        assert!(
            generated["kinds"].get(&key).is_some(),
            "no schema for {key}"
        );
    }
}
