//! Finalizers, deletionTimestamp, graceful pod deletion, propagation policies and
//! namespace finalization.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::api::Request;
use serde_json::json;

#[test]
fn finalizers_hold_an_object_until_removed() {
    let mut c = Cluster::new();
    c.post(
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "cfg", "finalizers": ["example.com/keep"]}, "data": {"a": "1"}}),
    );
    let (code, held) = c.delete("/api/v1/namespaces/default/configmaps/cfg");
    assert_eq!(code, 200);
    assert_eq!(
        held["metadata"]["deletionTimestamp"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(held["metadata"]["deletionGracePeriodSeconds"], 0);
    let (code, _) = c.get("/api/v1/namespaces/default/configmaps/cfg");
    assert_eq!(code, 200, "still there while a finalizer remains");
    let (code, _) = c.patch(
        "/api/v1/namespaces/default/configmaps/cfg",
        "application/merge-patch+json",
        json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(code, 200);
    let (code, _) = c.get("/api/v1/namespaces/default/configmaps/cfg");
    assert_eq!(code, 404);
}

#[test]
fn deletes_return_a_status_or_the_object_as_upstream() {
    let mut c = Cluster::new();
    let (_, d) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let (code, status) = c.delete("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(code, 200);
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": "web", "group": "apps", "kind": "deployments", "uid": d["metadata"]["uid"]}})
    );
    c.pod("p", json!({}));
    let (code, pod) = c.delete("/api/v1/namespaces/default/pods/p");
    assert_eq!(code, 200);
    assert_eq!(pod["kind"], "Pod");
}

#[test]
fn scheduled_pods_are_deleted_gracefully() {
    let mut c = Cluster::new();
    c.pod("p", json!({}));
    c.post(
        "/api/v1/namespaces/default/pods/p/binding",
        json!({"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-1"}}),
    );
    c.world.advance(10_000);
    let (_, pod) = c.delete("/api/v1/namespaces/default/pods/p");
    assert_eq!(pod["metadata"]["deletionGracePeriodSeconds"], 30);
    assert_eq!(pod["metadata"]["deletionTimestamp"], "2026-01-01T00:00:40Z");
    let (code, _) = c.get("/api/v1/namespaces/default/pods/p");
    assert_eq!(code, 200);
    // The kubelet confirms with grace 0.
    let (code, _) = c.json(
        Request::delete("/api/v1/namespaces/default/pods/p").with_query("gracePeriodSeconds", "0"),
    );
    assert_eq!(code, 200);
    assert_eq!(c.get("/api/v1/namespaces/default/pods/p").0, 404);
}

#[test]
fn propagation_policies_become_gc_finalizers() {
    let mut c = Cluster::new();
    for (name, policy, finalizer) in [
        ("fg", "Foreground", "foregroundDeletion"),
        ("or", "Orphan", "orphan"),
    ] {
        c.post(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment(name, 1),
        );
        let req = Request::delete(format!(
            "/apis/apps/v1/namespaces/default/deployments/{name}"
        ))
        .with_body(
            json!({"propagationPolicy": policy}).to_string(),
            "application/json",
        );
        let (code, held) = c.json(req);
        assert_eq!(code, 200);
        assert_eq!(held["metadata"]["finalizers"], json!([finalizer]));
        assert!(held["metadata"]["deletionTimestamp"].is_string());
    }
    let bad = Request::delete("/apis/apps/v1/namespaces/default/deployments/fg")
        .with_query("propagationPolicy", "Sometimes");
    assert_eq!(c.send(bad).status, 400);
}

#[test]
fn preconditions_guard_deletes() {
    let mut c = Cluster::new();
    c.pod("p", json!({}));
    let req = Request::delete("/api/v1/namespaces/default/pods/p").with_body(
        json!({"preconditions": {"uid": "nope"}}).to_string(),
        "application/json",
    );
    let (code, body) = c.json(req);
    assert_eq!(code, 409);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Precondition failed: UID in precondition: nope"));
}

#[test]
fn namespaces_terminate_until_finalized() {
    let mut c = Cluster::new();
    c.post("/api/v1/namespaces", json!({"metadata": {"name": "team"}}));
    let (_, ns) = c.get("/api/v1/namespaces/team");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team"
    );
    c.delete("/api/v1/namespaces/team");
    let (code, ns) = c.get("/api/v1/namespaces/team");
    assert_eq!(
        (code, ns["status"]["phase"].as_str()),
        (200, Some("Terminating"))
    );
    let (code, _) = c.put(
        "/api/v1/namespaces/team/finalize",
        json!({"metadata": {"name": "team"}, "spec": {"finalizers": []}}),
    );
    assert_eq!(code, 200);
    assert_eq!(c.get("/api/v1/namespaces/team").0, 404);
}

#[test]
fn delete_collection_by_label() {
    let mut c = Cluster::new();
    c.pod("a", json!({"app": "web"}));
    c.pod("b", json!({"app": "web"}));
    c.pod("c", json!({"app": "db"}));
    let (code, _) = c.json(
        Request::delete("/api/v1/namespaces/default/pods").with_query("labelSelector", "app=web"),
    );
    assert_eq!(code, 200);
    let (_, list) = c.get("/api/v1/namespaces/default/pods");
    assert_eq!(common::names(&list), vec!["c"]);
}
