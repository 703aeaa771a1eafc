//! The Deployment controller in a running cluster: the new ReplicaSet and its
//! pods, status and conditions, a rolling update within maxSurge/maxUnavailable
//! at every step, Recreate, proportional scaling during a rollout, history
//! cleanup and the progress deadline.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn list(c: &mut Cluster, path: &str, selector: &str) -> Vec<Value> {
    let (_, list) = c.json(Request::get(path).with_query("labelSelector", selector));
    list["items"].as_array().unwrap().clone()
}

fn replicasets(c: &mut Cluster) -> Vec<Value> {
    list(c, "/apis/apps/v1/namespaces/default/replicasets", "app=web")
}

fn pods(c: &mut Cluster) -> Vec<Value> {
    list(c, "/api/v1/namespaces/default/pods", "app=web")
}

fn events(c: &mut Cluster, about: &str) -> Vec<String> {
    let (_, list) = c.get("/api/v1/namespaces/default/events");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == about)
        .map(|e| {
            format!(
                "{} {}",
                e["reason"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

fn set_image(c: &mut Cluster, image: &str) {
    let (code, body) = c.patch(
        &format!("{DEPLOYMENTS}/web"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}),
    );
    assert_eq!(code, 200, "{body}");
}

fn condition(d: &Value, kind: &str) -> (String, String, String) {
    let c = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {d}"));
    (
        c["status"].as_str().unwrap().into(),
        c["reason"].as_str().unwrap().into(),
        c["message"].as_str().unwrap().into(),
    )
}

#[test]
fn a_deployment_creates_its_replicaset_and_reports_complete() {
    let mut c = Cluster::with_world(cluster::start(7));
    let (code, _) = c.post(DEPLOYMENTS, deployment("web", 3));
    assert_eq!(code, 201);
    c.world.settle(300_000);
    let sets = replicasets(&mut c);
    assert_eq!(sets.len(), 1);
    let rs = &sets[0];
    let rs_name = rs["metadata"]["name"].as_str().unwrap();
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs_name, format!("web-{hash}"));
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"],
        json!({"app": "web", "pod-template-hash": hash})
    );
    assert_eq!(
        rs["metadata"]["annotations"],
        json!({"deployment.kubernetes.io/desired-replicas": "3",
            "deployment.kubernetes.io/max-replicas": "4",
            "deployment.kubernetes.io/revision": "1"})
    );
    assert_eq!(rs["metadata"]["ownerReferences"][0]["kind"], "Deployment");
    let pods = pods(&mut c);
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| p["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{rs_name}-"))));

    let (_, d) = c.get(&format!("{DEPLOYMENTS}/web"));
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    for field in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        assert_eq!(d["status"][field], 3, "{field} in {}", d["status"]);
    }
    assert_eq!(d["status"]["observedGeneration"], 1);
    assert_eq!(
        condition(&d, "Available"),
        (
            "True".into(),
            "MinimumReplicasAvailable".into(),
            "Deployment has minimum availability.".into()
        )
    );
    assert_eq!(
        condition(&d, "Progressing"),
        (
            "True".into(),
            "NewReplicaSetAvailable".into(),
            format!("ReplicaSet {rs_name:?} has successfully progressed.")
        )
    );
    let types: Vec<&str> = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Available", "Progressing"]);
    assert_eq!(
        events(&mut c, "web"),
        [format!(
            "ScalingReplicaSet Scaled up replica set {rs_name} to 3"
        )]
    );
}

/// Counts active (not terminating) pods and the ready ones among them.
fn census(c: &mut Cluster) -> (usize, usize) {
    let pods = pods(c);
    let active: Vec<&Value> = pods
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    let ready = active
        .iter()
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count();
    (active.len(), ready)
}

#[test]
fn a_rolling_update_of_ten_stays_within_surge_and_unavailability_at_every_step() {
    let mut c = Cluster::with_world(cluster::start(8));
    c.post(DEPLOYMENTS, deployment("web", 10));
    c.world.settle(300_000);
    assert_eq!(census(&mut c), (10, 10));
    set_image(&mut c, "nginx:1.28");
    let (mut most, mut fewest_ready) = (0, usize::MAX);
    let mut steps = 0;
    while c.world.pending_events() > 0 {
        c.world.step();
        steps += 1;
        let (active, ready) = census(&mut c);
        most = most.max(active);
        fewest_ready = fewest_ready.min(ready);
        assert!(steps < 100_000, "the rollout never settles");
    }
    assert!(most <= 13, "at most 13 pods, saw {most}");
    assert!(
        fewest_ready >= 8,
        "at least 8 available, saw {fewest_ready}"
    );
    let sets = replicasets(&mut c);
    assert_eq!(sets.len(), 2);
    let (new, old): (Vec<&Value>, Vec<&Value>) = sets
        .iter()
        .partition(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2");
    assert_eq!(new[0]["status"]["readyReplicas"], 10);
    assert_eq!(old[0]["spec"]["replicas"], 0);
    assert!(pods(&mut c)
        .iter()
        .all(|p| p["spec"]["containers"][0]["image"] == "nginx:1.28"));
    let (_, d) = c.get(&format!("{DEPLOYMENTS}/web"));
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(d["status"]["updatedReplicas"], 10);
    let new_name = new[0]["metadata"]["name"].as_str().unwrap();
    let old_name = old[0]["metadata"]["name"].as_str().unwrap();
    let scaling = events(&mut c, "web");
    assert!(
        scaling.contains(&format!(
            "ScalingReplicaSet Scaled up replica set {new_name} to 3"
        )),
        "{scaling:?}"
    );
    assert!(
        scaling.contains(&format!(
            "ScalingReplicaSet Scaled down replica set {old_name} to 8 from 10"
        )),
        "{scaling:?}"
    );
    // The last step, after ten different scaling messages, comes combined.
    assert!(
        (1..=3).any(|from| scaling.contains(&format!(
            "ScalingReplicaSet (combined from similar events): Scaled down replica set {old_name} to 0 from {from}"
        ))),
        "{scaling:?}"
    );
}

#[test]
fn recreate_removes_every_old_pod_before_starting_new_ones() {
    let mut c = Cluster::with_world(cluster::start(9));
    let mut d = deployment("web", 3);
    d["spec"]["strategy"] = json!({"type": "Recreate"});
    c.post(DEPLOYMENTS, d);
    c.world.settle(300_000);
    set_image(&mut c, "nginx:1.28");
    let mut overlap = false;
    while c.world.pending_events() > 0 {
        c.world.step();
        let images: Vec<String> = pods(&mut c)
            .iter()
            .map(|p| {
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        overlap |=
            images.iter().any(|i| i == "nginx:1.27") && images.iter().any(|i| i == "nginx:1.28");
    }
    assert!(!overlap, "old and new pods ran together");
    let pods = pods(&mut c);
    assert_eq!(pods.len(), 3);
    assert!(pods
        .iter()
        .all(|p| p["spec"]["containers"][0]["image"] == "nginx:1.28"));
}

#[test]
fn scaling_during_a_rollout_is_proportional_and_history_is_limited() {
    let mut c = Cluster::with_world(cluster::start(10));
    let mut d = deployment("web", 10);
    d["spec"]["revisionHistoryLimit"] = json!(1);
    c.post(DEPLOYMENTS, d);
    c.world.settle(300_000);
    set_image(&mut c, "nginx:1.28");
    // Let the rollout begin: 13 pods allowed in total, the new set gets 3.
    for _ in 0..40 {
        c.world.step();
    }
    c.patch(
        &format!("{DEPLOYMENTS}/web"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 20}}),
    );
    c.world.settle(300_000);
    let (_, d) = c.get(&format!("{DEPLOYMENTS}/web"));
    assert_eq!(d["status"]["updatedReplicas"], 20);
    assert_eq!(pods(&mut c).len(), 20);
    let scaling = events(&mut c, "web");
    assert!(
        scaling
            .iter()
            .any(|e| e.contains("from 10") || e.contains("from 8") || e.contains("from 3")),
        "{scaling:?}"
    );

    set_image(&mut c, "nginx:1.29");
    c.world.settle(300_000);
    let revisions: Vec<String> = replicasets(&mut c)
        .iter()
        .map(|rs| {
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        revisions.len(),
        2,
        "the new set and one old set: {revisions:?}"
    );
    assert!(revisions.contains(&"3".to_string()) && revisions.contains(&"2".to_string()));
}

#[test]
fn a_rollout_that_cannot_progress_exceeds_its_deadline() {
    let mut c = Cluster::with_world(cluster::start(11));
    let mut d = deployment("web", 2);
    d["spec"]["progressDeadlineSeconds"] = json!(60);
    d["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "64"}});
    c.post(DEPLOYMENTS, d);
    c.world.settle(60_000);
    let (_, d) = c.get(&format!("{DEPLOYMENTS}/web"));
    assert_eq!(
        condition(&d, "Progressing").1,
        "ReplicaSetUpdated",
        "still within the deadline"
    );
    c.world.advance(120_000);
    let (_, d) = c.get(&format!("{DEPLOYMENTS}/web"));
    let rs_name = replicasets(&mut c)[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        condition(&d, "Progressing"),
        (
            "False".into(),
            "ProgressDeadlineExceeded".into(),
            format!("ReplicaSet {rs_name:?} has timed out progressing.")
        )
    );
    assert_eq!(
        condition(&d, "Available"),
        (
            "False".into(),
            "MinimumReplicasUnavailable".into(),
            "Deployment does not have minimum availability.".into()
        )
    );
    assert_eq!(d["status"]["unavailableReplicas"], 2);
}
