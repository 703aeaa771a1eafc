//! A CRD with several versions: every served version answers with the same objects
//! (conversion `None` changes only `apiVersion`), each with its own schema, columns
//! and deprecation warning; the storage version can move and `storedVersions` remembers.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::sim::World;
use serde_json::{json, Value};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const CRD: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com";
const V1: &str = "/apis/example.com/v1/namespaces/default/widgets";
const V1BETA1: &str = "/apis/example.com/v1beta1/namespaces/default/widgets";
const DEPRECATION: &str =
    "299 - \"example.com/v1beta1 Widget is deprecated; use example.com/v1 Widget\"";

/// v1 (storage) requires `spec.size`; v1beta1 (deprecated) does not, and prints other columns.
fn two_version_crd() -> Value {
    let schema = |required: Value| {
        json!({"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "required": required, "properties": {
                "size": {"type": "integer"},
                "color": {"type": "string", "default": "red"}
            }}
        }}})
    };
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {"name": "v1beta1", "served": true, "storage": false, "deprecated": true,
                 "schema": schema(json!([])),
                 "additionalPrinterColumns": [{"name": "Colour", "type": "string", "jsonPath": ".spec.color"}]},
                {"name": "v1", "served": true, "storage": true,
                 "schema": schema(json!(["size"])),
                 "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]}
            ]
        }
    })
}

fn with_crd() -> Cluster {
    let mut c = Cluster::new();
    let (code, body) = c.post(CRDS, two_version_crd());
    assert_eq!(code, 201, "{body}");
    c
}

fn widget(api_version: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": api_version, "kind": "Widget", "metadata": {"name": name}, "spec": spec})
}

fn warning(c: &mut Cluster, req: Request) -> Option<String> {
    c.send(req).header("warning").map(String::from)
}

#[test]
fn discovery_lists_every_served_version_preferring_the_most_stable() {
    let mut c = with_crd();
    let (_, group) = c.get("/apis/example.com");
    assert_eq!(group["preferredVersion"]["version"], "v1");
    let versions: Vec<&str> = group["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v1", "v1beta1"]);
    let (code, list) = c.get("/apis/example.com/v1beta1");
    assert_eq!(
        (code, &list["resources"][0]["name"]),
        (200, &json!("widgets"))
    );
}

#[test]
fn every_version_shows_the_same_objects_under_its_own_api_version() {
    let mut c = with_crd();
    let (code, created) = c.post(
        V1BETA1,
        widget("example.com/v1beta1", "w1", json!({"size": 2})),
    );
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["apiVersion"], "example.com/v1beta1");
    let (_, read) = c.get(&format!("{V1}/w1"));
    assert_eq!(
        (&read["apiVersion"], &read["spec"]["color"]),
        (&json!("example.com/v1"), &json!("red"))
    );
    assert_eq!(read["metadata"]["uid"], created["metadata"]["uid"]);
    let (_, list) = c.get(V1BETA1);
    assert_eq!(list["apiVersion"], "example.com/v1beta1");
    assert_eq!(list["items"][0]["apiVersion"], "example.com/v1beta1");
    // The body must name the version the request addresses.
    let (code, body) = c.post(V1BETA1, widget("example.com/v1", "w2", json!({"size": 1})));
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "the API version in the data (example.com/v1) does not match the expected API version (example.com/v1beta1)"
    );
}

#[test]
fn each_version_validates_with_its_own_schema() {
    let mut c = with_crd();
    let (code, body) = c.post(V1BETA1, widget("example.com/v1beta1", "small", json!({})));
    assert_eq!(code, 201, "{body}");
    let (code, body) = c.post(V1, widget("example.com/v1", "strict", json!({})));
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Widget.example.com \"strict\" is invalid: spec.size: Required value"
    );
}

#[test]
fn deprecated_versions_warn_on_every_request() {
    let mut c = with_crd();
    assert_eq!(
        warning(&mut c, Request::get(V1BETA1)).as_deref(),
        Some(DEPRECATION)
    );
    assert_eq!(
        warning(&mut c, Request::get(format!("{V1BETA1}/missing"))).as_deref(),
        Some(DEPRECATION)
    );
    assert_eq!(warning(&mut c, Request::get(V1)), None);
}

#[test]
fn patches_watches_and_tables_speak_the_requested_version() {
    let mut c = with_crd();
    let watch = c.watch_from_now(V1BETA1);
    c.post(V1, widget("example.com/v1", "w1", json!({"size": 3})));
    let (code, patched) = c.patch(
        &format!("{V1BETA1}/w1"),
        "application/merge-patch+json",
        json!({"spec": {"color": "blue"}}),
    );
    assert_eq!(code, 200, "{patched}");
    assert_eq!(
        (&patched["apiVersion"], &patched["spec"]["color"]),
        (&json!("example.com/v1beta1"), &json!("blue"))
    );
    assert_eq!(patched["metadata"]["generation"], 2);
    let (code, _) = c.patch(
        &format!("{V1BETA1}/w1"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"size": 2}}),
    );
    assert_eq!(code, 415);
    let versions: Vec<String> = c
        .world
        .take_watch_events(watch)
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.object).unwrap()["apiVersion"].to_string())
        .collect();
    assert_eq!(versions, ["\"example.com/v1beta1\""; 2]);
    let table = c
        .send(
            Request::get(V1BETA1)
                .with_header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"),
        )
        .body_json();
    assert_eq!(table["columnDefinitions"][1]["name"], "Colour");
    assert_eq!(table["rows"][0]["cells"], json!(["w1", "blue"]));
}

#[test]
fn the_storage_version_can_move_and_stored_versions_remember() {
    let mut c = with_crd();
    c.post(V1, widget("example.com/v1", "w1", json!({"size": 3})));
    let (_, mut crd) = c.get(CRD);
    crd["spec"]["versions"][0]["storage"] = json!(true);
    crd["spec"]["versions"][1]["storage"] = json!(false);
    let (code, body) = c.put(CRD, crd);
    assert_eq!(code, 200, "{body}");
    let (_, crd) = c.get(CRD);
    assert_eq!(crd["status"]["storedVersions"], json!(["v1", "v1beta1"]));
    let (code, w) = c.get(&format!("{V1}/w1"));
    assert_eq!((code, &w["spec"]["size"]), (200, &json!(3)));
    assert_eq!(
        c.get(&format!("{V1BETA1}/w1")).1["apiVersion"],
        "example.com/v1beta1"
    );
    // v1 may still hold objects, so it may not be dropped from the definition.
    let mut crd = crd;
    crd["spec"]["versions"].as_array_mut().unwrap().remove(1);
    let (code, body) = c.put(CRD, crd);
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\" is invalid: status.storedVersions[0]: Invalid value: \"v1\": must appear in spec.versions"
    );
}

#[test]
fn unserved_versions_are_not_found_and_webhook_conversion_is_refused() {
    let mut crd = two_version_crd();
    crd["spec"]["versions"][0]["served"] = json!(false);
    let mut c = Cluster::new();
    c.post(CRDS, crd.clone());
    assert_eq!(c.get(V1BETA1).0, 404);
    assert_eq!(c.get(V1).0, 200);

    let mut c = Cluster::new();
    let mut crd = two_version_crd();
    crd["spec"]["conversion"] = json!({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://convert.example.com"}, "conversionReviewVersions": ["v1"]}});
    let (code, body) = c.post(CRDS, crd);
    assert_eq!(code, 201, "{body}");
    assert_eq!(c.get(V1).0, 200);
    let (code, body) = c.get(V1BETA1);
    assert_eq!(code, 500);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("conversion webhook for example.com/v1, Kind=Widget failed: "));
}

#[test]
fn malformed_version_lists_and_conversions_are_rejected() {
    let mut c = Cluster::new();
    let mut crd = two_version_crd();
    crd["spec"]["versions"][0]["name"] = json!("v1");
    crd["spec"]["versions"][1]["deprecationWarning"] = json!("old");
    crd["spec"]["conversion"] = json!({"strategy": "Webhook"});
    let (code, body) = c.post(CRDS, crd);
    assert_eq!(code, 422);
    let fields: Vec<&str> = body["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.versions[1].deprecationWarning",
            "spec.versions",
            "spec.conversion.webhook"
        ]
    );
}

#[test]
fn snapshots_keep_objects_in_the_storage_version() {
    let mut c = with_crd();
    c.post(
        V1BETA1,
        widget("example.com/v1beta1", "w1", json!({"size": 1})),
    );
    let snapshot = c.world.snapshot();
    let mut restored = Cluster::with_world(World::from_snapshot(&snapshot).unwrap());
    let (_, w) = restored.get(&format!("{V1BETA1}/w1"));
    assert_eq!(w["apiVersion"], "example.com/v1beta1");
    assert_eq!(
        restored.get(&format!("{V1}/w1")).1["apiVersion"],
        "example.com/v1"
    );
}
