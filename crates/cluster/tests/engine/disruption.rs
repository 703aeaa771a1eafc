//! The disruption controller: PodDisruptionBudget status from the selected
//! pods and their controllers' scale, and the eviction API acting on it.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const PDBS: &str = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";

fn budget(name: &str, rule: Value) -> Value {
    let mut spec = json!({"selector": {"matchLabels": {"app": name}}});
    for (k, v) in rule.as_object().unwrap() {
        spec[k] = v.clone();
    }
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name}, "spec": spec})
}

fn status(c: &mut Cluster, name: &str) -> Value {
    c.get(&format!("{PDBS}/{name}")).1["status"].clone()
}

fn counts(s: &Value) -> (i64, i64, i64, i64) {
    let n = |f: &str| s[f].as_i64().unwrap_or(-1);
    (
        n("expectedPods"),
        n("desiredHealthy"),
        n("currentHealthy"),
        n("disruptionsAllowed"),
    )
}

fn pod_names(c: &mut Cluster, app: &str) -> Vec<String> {
    let (_, list) = c.get(&format!(
        "/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"
    ));
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn evict(c: &mut Cluster, pod: &str) -> (u16, Value) {
    c.post(
        &format!("/api/v1/namespaces/default/pods/{pod}/eviction"),
        json!({"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": pod, "namespace": "default"}}),
    )
}

#[test]
fn a_budget_allows_disruptions_down_to_min_available_and_evictions_use_them() {
    let mut c = Cluster::with_world(cluster::start(91));
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 3),
    );
    c.post(PDBS, budget("web", json!({"minAvailable": 2})));
    c.world.settle(120_000);
    let s = status(&mut c, "web");
    assert_eq!(counts(&s), (3, 2, 3, 1));
    assert_eq!(s["observedGeneration"], 1);
    let condition = &s["conditions"][0];
    assert_eq!(
        (
            &condition["type"],
            &condition["status"],
            &condition["reason"]
        ),
        (
            &json!("DisruptionAllowed"),
            &json!("True"),
            &json!("SufficientPods")
        )
    );
    let pods = pod_names(&mut c, "web");
    assert_eq!(evict(&mut c, &pods[0]).0, 201);
    let (code, body) = evict(&mut c, &pods[1]);
    assert_eq!(code, 429, "{body}");
    assert_eq!(
        body["details"]["causes"][0]["message"],
        "The disruption budget web needs 2 healthy pods and has 3 currently",
        "the eviction used the one allowed disruption before the controller recounted"
    );
    let mut recounted = None;
    for _ in 0..100 {
        c.world.advance(50);
        let s = status(&mut c, "web");
        if s["currentHealthy"] == 2 {
            recounted = Some(s);
            break;
        }
    }
    let s = recounted.expect("the controller recounts while the replacement starts");
    // An integer minAvailable expects every selected pod, the terminating one included.
    assert_eq!(counts(&s), (4, 2, 2, 0));
    assert_eq!(s["conditions"][0]["reason"], "InsufficientPods");
    c.world.settle(120_000);
    assert_eq!(
        counts(&status(&mut c, "web")),
        (3, 2, 3, 1),
        "the replacement is ready: one disruption allowed again"
    );
}

#[test]
fn max_unavailable_counts_against_the_deployments_scale() {
    let mut c = Cluster::with_world(cluster::start(92));
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("api", 4),
    );
    c.post(PDBS, budget("api", json!({"maxUnavailable": "25%"})));
    c.post(PDBS, budget("nothing", json!({"minAvailable": 1})));
    c.world.settle(120_000);
    assert_eq!(counts(&status(&mut c, "api")), (4, 3, 4, 1));
    assert_eq!(counts(&status(&mut c, "nothing")), (0, 1, 0, 0));
    assert_eq!(c.events("nothing", "NoPods"), ["No matching pods found"]);
    c.patch(
        "/apis/apps/v1/namespaces/default/deployments/api",
        "application/merge-patch+json",
        json!({"spec": {"replicas": 8}}),
    );
    c.world.settle(120_000);
    assert_eq!(counts(&status(&mut c, "api")), (8, 6, 8, 2));
}
