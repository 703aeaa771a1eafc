//! The ReplicaSet controller in a running cluster: pods from the template with
//! owner references and events, status, replacement of deleted pods, scale down
//! in upstream's order, adoption of orphans and release of pods that stop matching.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const SETS: &str = "/apis/apps/v1/namespaces/default/replicasets";

fn replicaset(name: &str, replicas: i64) -> Value {
    common::workload("ReplicaSet", name, replicas)
}

fn pods_of(c: &mut Cluster, app: &str) -> Vec<Value> {
    let (_, list) = c.json(
        Request::get("/api/v1/namespaces/default/pods")
            .with_query("labelSelector", format!("app={app}")),
    );
    list["items"].as_array().unwrap().clone()
}

fn names(pods: &[Value]) -> Vec<String> {
    pods.iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_replicaset_runs_its_pods_and_reports_status() {
    let mut c = Cluster::with_world(cluster::start(3));
    let (code, rs) = c.post(SETS, replicaset("web", 3));
    assert_eq!(code, 201, "{rs}");
    c.world.settle(120_000);
    let pods = pods_of(&mut c, "web");
    assert_eq!(pods.len(), 3);
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert!(
            name.starts_with("web-") && name.len() == "web-".len() + 5,
            "{name}"
        );
        assert_eq!(pod["metadata"]["generateName"], "web-");
        assert_eq!(
            pod["metadata"]["ownerReferences"],
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": rs["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
        );
        assert_eq!(pod["status"]["phase"], "Running");
    }
    let mut created = c.events("web", "SuccessfulCreate");
    created.sort();
    let mut expected: Vec<String> = names(&pods)
        .iter()
        .map(|n| format!("Created pod: {n}"))
        .collect();
    expected.sort();
    assert_eq!(created, expected);
    let (_, rs) = c.get(&format!("{SETS}/web"));
    assert_eq!(
        rs["status"],
        json!({"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
            "availableReplicas": 3, "terminatingReplicas": 0, "observedGeneration": 1})
    );
}

#[test]
fn deleted_pods_are_replaced_and_scale_down_removes_the_least_valuable() {
    let mut c = Cluster::with_world(cluster::start(4));
    c.post(SETS, replicaset("web", 2));
    c.world.settle(120_000);
    let first = names(&pods_of(&mut c, "web"));
    let (code, _) = c.delete(&format!("/api/v1/namespaces/default/pods/{}", first[0]));
    assert_eq!(code, 200);
    c.world.settle(120_000);
    let after = names(&pods_of(&mut c, "web"));
    assert_eq!(after.len(), 2);
    assert!(
        !after.contains(&first[0]) && after.contains(&first[1]),
        "{after:?}"
    );

    // Scale up, then down: the controller deletes two (the order is unit-tested in pod_ranking).
    c.patch(
        &format!("{SETS}/web"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 3}}),
    );
    c.world.settle(120_000);
    c.patch(
        &format!("{SETS}/web"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 1}}),
    );
    c.world.settle(120_000);
    let left = names(&pods_of(&mut c, "web"));
    assert_eq!(left.len(), 1);
    let deleted = c.events("web", "SuccessfulDelete");
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    let (_, rs) = c.get(&format!("{SETS}/web"));
    assert_eq!(rs["status"]["replicas"], 1);
    assert_eq!(rs["status"]["observedGeneration"], 3);
}

#[test]
fn orphans_are_adopted_and_pods_that_stop_matching_are_released() {
    let mut c = Cluster::with_world(cluster::start(5));
    c.pod("stray", json!({"app": "web"}));
    c.world.settle(60_000);
    let (_, rs) = c.post(SETS, replicaset("web", 2));
    c.world.settle(120_000);
    let pods = pods_of(&mut c, "web");
    assert_eq!(pods.len(), 2, "one orphan adopted, one pod created");
    assert!(names(&pods).contains(&"stray".to_string()));
    let (_, stray) = c.get("/api/v1/namespaces/default/pods/stray");
    assert_eq!(
        stray["metadata"]["ownerReferences"][0]["uid"],
        rs["metadata"]["uid"]
    );

    c.patch(
        "/api/v1/namespaces/default/pods/stray",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "debug"}}}),
    );
    c.world.settle(120_000);
    let (_, stray) = c.get("/api/v1/namespaces/default/pods/stray");
    assert_eq!(stray["metadata"]["ownerReferences"], json!(null), "{stray}");
    assert_eq!(pods_of(&mut c, "web").len(), 2, "a replacement was made");
}

#[test]
fn scale_down_keeps_the_pods_with_the_highest_deletion_cost() {
    let mut c = Cluster::with_world(cluster::start(5));
    c.post(SETS, replicaset("web", 3));
    c.world.settle(120_000);
    // Otherwise alike (all Ready on separate nodes): the costs decide.
    let pods = names(&pods_of(&mut c, "web"));
    for (name, cost) in pods.iter().zip(["10", "-5", "100"]) {
        let (code, body) = c.patch(
            &format!("/api/v1/namespaces/default/pods/{name}"),
            "application/merge-patch+json",
            json!({"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": cost}}}),
        );
        assert_eq!(code, 200, "{body}");
    }
    c.world.advance(1_000); // the controller's informer has seen the costs
    c.patch(
        &format!("{SETS}/web"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 1}}),
    );
    c.world.settle(120_000);
    assert_eq!(names(&pods_of(&mut c, "web")), [pods[2].clone()]);
}
