//! The "add your own resource" workflow: a CRD is served at once, validates and
//! defaults with its schema, prints its columns, and takes its objects with it.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::apiserver::watch::EventType;
use serde_json::{json, Value};

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                        "replicas": {"type": "integer"}
                    }},
                    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}, "phase": {"type": "string"}}}
                }}},
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ]
            }]
        }
    })
}

const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

fn with_crd() -> Cluster {
    let mut c = Cluster::new();
    let (code, body) = c.post(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        widget_crd(),
    );
    assert_eq!(code, 201, "{body}");
    c
}

#[test]
fn a_created_crd_is_established_and_discoverable() {
    let mut c = with_crd();
    let (_, crd) =
        c.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
    let conditions: Vec<(&str, &str)> = crd["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conditions,
        vec![("NamesAccepted", "True"), ("Established", "True")]
    );
    assert_eq!(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
    assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
    let (_, groups) = c.get("/apis");
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "example.com"));
    let (code, list) = c.get("/apis/example.com/v1");
    assert_eq!(code, 200);
    let names: Vec<&str> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["widgets", "widgets/scale", "widgets/status"]);
    assert_eq!(list["resources"][0]["shortNames"], json!(["wd"]));
    assert_eq!(list["resources"][0]["categories"], json!(["all"]));
}

#[test]
fn custom_objects_are_pruned_defaulted_and_validated_by_the_schema() {
    let mut c = with_crd();
    let (code, w) = c.post(WIDGETS, json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3, "shiny": true}}));
    assert_eq!(code, 201, "{w}");
    assert_eq!(w["spec"], json!({"size": 3, "color": "red"}));
    assert_eq!(w["metadata"]["generation"], 1);
    let (code, body) = c.post(WIDGETS, json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "bad"}, "spec": {"size": 11}}));
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Widget.example.com \"bad\" is invalid: spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"
    );
    let (code, body) = c.post(WIDGETS, json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "bad"}, "spec": {"size": "big", "color": "pink"}}));
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Widget.example.com \"bad\" is invalid: [spec.color: Unsupported value: \"pink\": supported values: \"red\", \"blue\", spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\"]"
    );
    let (code, body) = c.post(WIDGETS, json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "bad"}, "spec": {}}));
    assert_eq!(
        (code, body["details"]["causes"][0]["field"].as_str()),
        (422, Some("spec.size"))
    );
}

#[test]
fn status_scale_patches_and_watch_work_for_custom_objects() {
    let mut c = with_crd();
    let watch = c.watch_from_now(WIDGETS);
    c.post(
        WIDGETS,
        json!({"metadata": {"name": "w1"}, "spec": {"size": 3, "replicas": 1}}),
    );
    let (code, w) = c.put(
        &format!("{WIDGETS}/w1/status"),
        json!({"metadata": {"name": "w1"}, "spec": {"size": 9}, "status": {"replicas": 1, "phase": "Ready"}}),
    );
    assert_eq!(code, 200);
    assert_eq!(
        (w["spec"]["size"].as_i64(), w["status"]["phase"].as_str()),
        (Some(3), Some("Ready"))
    );
    let (code, scale) = c.patch(
        &format!("{WIDGETS}/w1/scale"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 4}}),
    );
    assert_eq!(code, 200, "{scale}");
    assert_eq!(
        (
            scale["spec"]["replicas"].as_i64(),
            scale["status"]["replicas"].as_i64()
        ),
        (Some(4), Some(1))
    );
    let (code, _) = c.patch(
        &format!("{WIDGETS}/w1"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"size": 2}}),
    );
    assert_eq!(code, 415);
    let (code, w) = c.patch(
        &format!("{WIDGETS}/w1"),
        "application/merge-patch+json",
        json!({"spec": {"size": 2}}),
    );
    assert_eq!(
        (
            code,
            w["spec"]["size"].as_i64(),
            w["metadata"]["generation"].as_i64()
        ),
        (200, Some(2), Some(3))
    );
    let kinds: Vec<EventType> = c
        .world
        .take_watch_events(watch)
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventType::Added,
            EventType::Modified,
            EventType::Modified,
            EventType::Modified
        ]
    );
}

#[test]
fn printer_columns_make_the_table() {
    let mut c = with_crd();
    c.post(
        WIDGETS,
        json!({"metadata": {"name": "w1"}, "spec": {"size": 3}}),
    );
    c.world.advance(90_000);
    let t = c
        .send(
            Request::get(WIDGETS)
                .with_header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"),
        )
        .body_json();
    let columns: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, vec!["Name", "Size", "Color", "Age"]);
    assert_eq!(t["rows"][0]["cells"], json!(["w1", 3, "red", "90s"]));
}

#[test]
fn invalid_definitions_are_rejected() {
    let mut c = Cluster::new();
    let mut crd = widget_crd();
    crd["metadata"]["name"] = json!("gadgets.example.com");
    let (code, body) = c.post(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        crd,
    );
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "CustomResourceDefinition.apiextensions.k8s.io \"gadgets.example.com\" is invalid: metadata.name: Invalid value: \"gadgets.example.com\": must be spec.names.plural+\".\"+spec.group"
    );
    assert_eq!(c.get("/apis/example.com/v1").0, 404);
}

#[test]
fn deleting_a_crd_removes_its_objects_and_its_api() {
    let mut c = with_crd();
    c.post(
        WIDGETS,
        json!({"metadata": {"name": "w1"}, "spec": {"size": 3}}),
    );
    let watch = c.watch_from_now(WIDGETS);
    let (code, _) =
        c.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
    assert_eq!(code, 200);
    let events = c.world.take_watch_events(watch);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::Deleted);
    assert_eq!(
        c.get(&format!("{WIDGETS}/w1")).1["message"],
        "the server could not find the requested resource"
    );
    assert_eq!(c.get("/apis/example.com/v1").0, 404);
    // Created again, it starts empty.
    c.post(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        widget_crd(),
    );
    let (code, list) = c.get(WIDGETS);
    assert_eq!(code, 200);
    assert_eq!(list["items"], json!([]));
}

#[test]
fn openapi_documents_publish_the_crd_schema() {
    let mut c = with_crd();
    let (code, index) = c.get("/openapi/v3");
    assert_eq!(code, 200);
    assert_eq!(
        index["paths"]["apis/example.com/v1"]["serverRelativeURL"],
        "/openapi/v3/apis/example.com/v1"
    );
    assert!(index["paths"]["api/v1"].is_object());
    let (code, doc) = c.get("/openapi/v3/apis/example.com/v1");
    assert_eq!(code, 200);
    assert_eq!(
        doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets"]["get"]
            ["x-kubernetes-group-version-kind"],
        json!({"group": "example.com", "kind": "Widget", "version": "v1"})
    );
    let widget = &doc["components"]["schemas"]["com.example.v1.Widget"];
    assert_eq!(widget["properties"]["spec"]["required"], json!(["size"]));
    assert_eq!(
        widget["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(
        doc["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object()
    );
    assert_eq!(c.get("/openapi/v3/apis/example.org/v1").0, 404);
}

#[test]
fn strict_writes_refuse_fields_the_schema_would_prune() {
    let mut c = with_crd();
    let response = c.send(
        Request::post(
            WIDGETS,
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1, "shiny": true}})
                .to_string(),
        )
        .with_query("fieldValidation", "Strict"),
    );
    assert_eq!(response.status, 400);
    assert_eq!(
        response.body_json()["message"],
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.shiny\""
    );
}
