//! Server-set metadata, generation, status/spec split, dry run, patches.

use crate::common;

use common::{deployment, rv, Cluster};
use kubecraft_cluster::api::Request;
use serde_json::json;

#[test]
fn create_sets_uid_timestamp_generation_and_a_fresh_resource_version() {
    let mut c = Cluster::new();
    c.world.advance(5_000);
    let before = c.world.api().resource_version();
    let (code, d) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 2),
    );
    assert_eq!(code, 201);
    assert_eq!(rv(&d), before + 1);
    assert_eq!(d["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert_eq!(d["metadata"]["creationTimestamp"], "2026-01-01T00:00:05Z");
    assert_eq!(d["metadata"]["generation"], 1);
    // Upstream defaults.
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
    assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
}

#[test]
fn status_is_reset_on_create_and_ignored_by_main_updates() {
    let mut c = Cluster::new();
    let mut body = deployment("web", 1);
    body["status"] = json!({"replicas": 7});
    let (_, d) = c.post("/apis/apps/v1/namespaces/default/deployments", body);
    assert!(d.get("status").is_none());
    let mut update = d.clone();
    update["status"] = json!({"replicas": 9});
    let (code, updated) = c.put("/apis/apps/v1/namespaces/default/deployments/web", update);
    assert_eq!(code, 200);
    assert!(updated.get("status").is_none());
    assert_eq!(
        rv(&updated),
        rv(&d),
        "a write that changes nothing is not a write"
    );
}

#[test]
fn status_subresource_ignores_spec_changes() {
    let mut c = Cluster::new();
    let (_, d) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let mut update = d.clone();
    update["spec"]["replicas"] = json!(5);
    update["status"] = json!({"replicas": 1, "observedGeneration": 1});
    let (code, updated) = c.put(
        "/apis/apps/v1/namespaces/default/deployments/web/status",
        update,
    );
    assert_eq!(code, 200);
    assert_eq!(updated["spec"]["replicas"], 1);
    assert_eq!(updated["status"]["replicas"], 1);
    assert_eq!(updated["metadata"]["generation"], 1);
}

#[test]
fn status_patches_change_status_and_labels_and_leave_the_spec_as_stored() {
    let mut c = Cluster::new();
    let (_, d) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web/status";
    let (code, patched) = c.patch(
        path,
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"tier": "front"}},
               "spec": {"replicas": 5, "paused": true},
               "status": {"replicas": 1}}),
    );
    assert_eq!(code, 200);
    assert_eq!(patched["spec"], d["spec"]);
    assert_eq!(patched["metadata"]["labels"]["tier"], "front");
    assert_eq!(patched["status"]["replicas"], 1);
    assert_eq!(patched["metadata"]["generation"], 1);

    let (code, patched) = c.patch(
        path,
        "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}},
               "status": {"replicas": 2}}),
    );
    assert_eq!(code, 200);
    assert_eq!(patched["spec"], d["spec"]);
    assert_eq!(patched["status"]["replicas"], 2);

    // A JSON patch sees the whole stored object: it may test and change the spec,
    // and the change is dropped.
    let (code, patched) = c.patch(
        path,
        "application/json-patch+json",
        json!([{"op": "test", "path": "/spec/replicas", "value": 1},
               {"op": "replace", "path": "/spec/replicas", "value": 4},
               {"op": "replace", "path": "/status/replicas", "value": 3}]),
    );
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["spec"], d["spec"]);
    assert_eq!(patched["status"]["replicas"], 3);
    let (_, stored) = c.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(stored["spec"], d["spec"]);
    assert_eq!(stored["status"]["replicas"], 3);
}

#[test]
fn generation_bumps_on_spec_changes_only() {
    let mut c = Cluster::new();
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let (_, d) = c.patch(
        path,
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "b"}}}),
    );
    assert_eq!(d["metadata"]["generation"], 1);
    let (_, d) = c.patch(
        path,
        "application/merge-patch+json",
        json!({"spec": {"replicas": 3}}),
    );
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["spec"]["replicas"], 3);
}

#[test]
fn dry_run_validates_and_defaults_but_stores_nothing() {
    let mut c = Cluster::new();
    let before = c.world.api().resource_version();
    let req = Request::post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1).to_string(),
    )
    .with_query("dryRun", "All");
    let (code, d) = c.json(req);
    assert_eq!(code, 201);
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(c.world.api().resource_version(), before);
    let (code, _) = c.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(code, 404);
    let bad = Request::post("/api/v1/namespaces", "{}").with_query("dryRun", "Some");
    assert_eq!(c.send(bad).status, 400);
}

#[test]
fn json_and_strategic_patches() {
    let mut c = Cluster::new();
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let (code, d) = c.patch(
        path,
        "application/json-patch+json",
        json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]),
    );
    assert_eq!(code, 200);
    assert_eq!(d["spec"]["replicas"], 4);
    let (code, d) = c.patch(
        path,
        "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}, {"name": "sidecar", "image": "busybox"}]}}}}),
    );
    assert_eq!(code, 200);
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0]["image"], "nginx:1.28");
    assert_eq!(containers[0]["imagePullPolicy"], "IfNotPresent");
    let (code, body) = c.patch(
        path,
        "application/json-patch+json",
        json!([{"op": "test", "path": "/spec/replicas", "value": 9}]),
    );
    assert_eq!(code, 422, "{body}");
    let (code, _) = c.patch(path, "text/plain", json!({}));
    assert_eq!(code, 415);
    let (code, _) = c.patch(
        "/apis/apps/v1/namespaces/default/deployments/none",
        "application/merge-patch+json",
        json!({}),
    );
    assert_eq!(code, 404);
}

#[test]
fn immutable_selector_on_update() {
    let mut c = Cluster::new();
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let (code, body) = c.patch(
        "/apis/apps/v1/namespaces/default/deployments/web",
        "application/merge-patch+json",
        json!({"spec": {"selector": {"matchLabels": {"app": "web2"}}, "template": {"metadata": {"labels": {"app": "web2"}}}}}),
    );
    assert_eq!(code, 422);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("field is immutable"),
        "{body}"
    );
}

#[test]
fn services_get_cluster_ips_and_node_ports() {
    let mut c = Cluster::new();
    let (code, svc) = c.post(
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    );
    assert_eq!(code, 201, "{svc}");
    let ip = svc["spec"]["clusterIP"].as_str().unwrap();
    assert!(
        ip.starts_with("10.9") || ip.starts_with("10.10") || ip.starts_with("10.11"),
        "{ip}"
    );
    assert_eq!(svc["spec"]["clusterIPs"], json!([ip]));
    let node_port = svc["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&node_port));
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(svc["spec"]["sessionAffinity"], "None");
    let (code, body) = c.post(
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "clash"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}),
    );
    assert_eq!(code, 422);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("provided IP is already allocated"));
}

#[test]
fn metadata_only_patches_still_decode_metadata_and_keep_derived_labels() {
    let mut c = Cluster::new();
    c.post(
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "cm"}, "data": {"a": "1"}}),
    );
    let (code, body) = c.patch(
        "/api/v1/namespaces/default/configmaps/cm",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"tier": 1}}}),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("ConfigMap in version \"v1\" cannot be handled as a ConfigMap:"));
    let (code, body) = c.patch(
        "/api/v1/namespaces/default/configmaps/cm",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"tier": "web"}, "bogus": true}}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["metadata"]["labels"], json!({"tier": "web"}));
    assert!(
        body["metadata"].get("bogus").is_none(),
        "unknown fields are dropped"
    );
    // A namespace's name label is derived from metadata: removing it brings it back.
    let (code, ns) = c.patch(
        "/api/v1/namespaces/default",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"kubernetes.io/metadata.name": null, "team": "a"}}}),
    );
    assert_eq!(code, 200);
    assert_eq!(
        ns["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "default", "team": "a"})
    );
}

/// `stringData` is write-only: merged into `data` (winning over it), never stored.
#[test]
fn secret_string_data_is_merged_into_data() {
    let mut c = Cluster::new();
    let (code, created) = c.post(
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "s"}, "data": {"a": "b2xk", "b": "Yg=="}, "stringData": {"a": "new"}}),
    );
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["data"], json!({"a": "bmV3", "b": "Yg=="}));
    assert!(created.get("stringData").is_none());
    let (code, patched) = c.patch(
        "/api/v1/namespaces/default/secrets/s?dryRun=All",
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {}}, "stringData": {"b": "x"}}),
    );
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["data"]["b"], "eA==");
    assert!(
        patched["metadata"].get("annotations").is_none(),
        "empty maps are omitted, dry run or not"
    );
}
