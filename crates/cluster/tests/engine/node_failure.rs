//! A failed node: after the 50 s grace period it is Unknown and tainted
//! unreachable and its pods are not ready; after their 300 s toleration the pods
//! are evicted and replaced elsewhere; a recovered node loses the taints.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::Value;

fn pods(c: &mut Cluster) -> Vec<Value> {
    let (_, list) = c.json(
        Request::get("/api/v1/namespaces/default/pods").with_query("labelSelector", "app=web"),
    );
    list["items"].as_array().unwrap().clone()
}

fn node_of(pod: &Value) -> String {
    pod["spec"]["nodeName"].as_str().unwrap_or("").to_string()
}

fn condition<'a>(obj: &'a Value, kind: &str) -> &'a Value {
    obj["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap()
}

#[test]
fn a_failed_nodes_pods_are_evicted_after_their_toleration_and_replaced() {
    let mut c = Cluster::with_world(cluster::start(41));
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 6),
    );
    c.world.settle(300_000);
    let victim = node_of(&pods(&mut c)[0]);
    let on_victim: Vec<String> = pods(&mut c)
        .iter()
        .filter(|p| node_of(p) == victim)
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!on_victim.is_empty());
    cluster::fail_node(&mut c.world, &victim).unwrap();

    c.world.advance(40_000);
    let (_, node) = c.get(&format!("/api/v1/nodes/{victim}"));
    assert_eq!(
        condition(&node, "Ready")["status"],
        "True",
        "still within the grace period"
    );

    c.world.advance(20_000);
    let (_, node) = c.get(&format!("/api/v1/nodes/{victim}"));
    let ready = condition(&node, "Ready");
    assert_eq!(ready["status"], "Unknown");
    assert_eq!(ready["reason"], "NodeStatusUnknown");
    assert_eq!(ready["message"], "Kubelet stopped posting node status.");
    let taints: Vec<(String, String)> = node["spec"]["taints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap().into(),
                t["effect"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(taints.contains(&("node.kubernetes.io/unreachable".into(), "NoExecute".into())));
    assert!(taints.contains(&("node.kubernetes.io/unreachable".into(), "NoSchedule".into())));
    for pod in pods(&mut c).iter().filter(|p| node_of(p) == victim) {
        assert_eq!(condition(pod, "Ready")["status"], "False");
    }

    c.world.advance(280_000);
    assert!(
        pods(&mut c)
            .iter()
            .filter(|p| node_of(p) == victim)
            .all(|p| p["metadata"]["deletionTimestamp"].is_null()),
        "tolerated for 300 s"
    );
    c.world.advance(30_000);
    c.world.settle(300_000);
    let all = pods(&mut c);
    let (gone, alive): (Vec<&Value>, Vec<&Value>) = all
        .iter()
        .partition(|p| !p["metadata"]["deletionTimestamp"].is_null());
    let evicted: Vec<&str> = gone
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        evicted.len(),
        on_victim.len(),
        "the dead node's pods stay Terminating"
    );
    for pod in &gone {
        assert_eq!(
            condition(pod, "DisruptionTarget")["reason"],
            "DeletionByTaintManager"
        );
    }
    let (_, events) = c.get("/api/v1/namespaces/default/events");
    let said = |reason: &str, message: &str| {
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == reason && e["message"] == message)
    };
    assert!(said(
        "TaintManagerEviction",
        &format!("Marking for deletion Pod default/{}", evicted[0])
    ));
    assert!(said("NodeNotReady", "Node is not ready"));
    assert_eq!(alive.len(), 6);
    assert!(alive
        .iter()
        .all(|p| node_of(p) != victim && p["status"]["phase"] == "Running"));

    cluster::recover_node(&mut c.world, &victim).unwrap();
    c.world.settle(300_000);
    let (_, node) = c.get(&format!("/api/v1/nodes/{victim}"));
    assert_eq!(condition(&node, "Ready")["status"], "True");
    assert!(node["spec"]["taints"].is_null(), "{}", node["spec"]);
    assert_eq!(
        pods(&mut c).len(),
        6,
        "the recovered kubelet finished the evicted pods"
    );
}

#[test]
fn each_pod_is_evicted_when_its_own_toleration_of_the_unreachable_taint_runs_out() {
    let mut c = Cluster::with_world(cluster::start(42));
    let unreachable = |seconds: Option<i64>| {
        let mut t = serde_json::json!({"key": "node.kubernetes.io/unreachable",
            "operator": "Exists", "effect": "NoExecute"});
        if let Some(s) = seconds {
            t["tolerationSeconds"] = s.into();
        }
        t
    };
    for (name, tolerations) in [
        ("brief", serde_json::json!([unreachable(Some(30))])),
        ("forever", serde_json::json!([unreachable(None)])),
        ("default", serde_json::json!([])),
    ] {
        c.create_pod(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "web"}},
            "spec": {"nodeName": "node-1", "tolerations": tolerations,
                "containers": [{"name": "web", "image": "nginx:1.27"}]},
        }));
    }
    c.world.settle(60_000);
    cluster::fail_node(&mut c.world, "node-1").unwrap();
    let tainted = |c: &mut Cluster| {
        let (_, node) = c.get("/api/v1/nodes/node-1");
        node["spec"]["taints"].as_array().is_some_and(|ts| {
            ts.iter()
                .any(|t| t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoExecute")
        })
    };
    while !tainted(&mut c) {
        c.world.advance(1_000);
    }
    let evicted = |c: &mut Cluster| -> Vec<String> {
        let mut names: Vec<String> = pods(c)
            .iter()
            .filter(|p| !p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    c.world.advance(25_000);
    assert_eq!(evicted(&mut c), Vec::<String>::new());
    c.world.advance(10_000);
    assert_eq!(evicted(&mut c), ["brief"]);
    c.world.advance(250_000);
    assert_eq!(evicted(&mut c), ["brief"], "the default 300 s is not over");
    c.world.advance(30_000);
    assert_eq!(evicted(&mut c), ["brief", "default"]);
    c.world.advance(3_600_000);
    assert_eq!(evicted(&mut c), ["brief", "default"], "tolerated forever");
}
