//! Where pods land relative to other pods: topology spread constraints (the 3/3/3
//! balance across zones, missing topology labels) and inter-pod affinity and
//! anti-affinity (required and preferred, the existing pods' side), with
//! upstream's FailedScheduling words.

use crate::common;

use std::collections::BTreeMap;

use common::Cluster;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use serde_json::{json, Value};

fn pod(name: &str, labels: Value, spec: Value) -> Value {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "app", "image": "nginx",
        "resources": {"requests": {"cpu": "100m"}}}]);
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels}, "spec": spec})
}

fn zone_of(c: &mut Cluster, node: &str) -> String {
    let (_, n) = c.get(&format!("/api/v1/nodes/{node}"));
    n["metadata"]["labels"]["topology.kubernetes.io/zone"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The default cluster plus a big node in zone-a, which resource scoring alone favours.
fn lopsided_cluster() -> Cluster {
    let mut c = Cluster::with_world(cluster::start(1));
    cluster::add_node(&mut c.world, NodeConfig::worker("big-a", 1, "32", "128Gi")).unwrap();
    c.world.settle(60_000);
    c
}

#[test]
fn a_zone_spread_constraint_balances_nine_replicas_three_per_zone() {
    let mut c = lopsided_cluster();
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 9, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "topologySpreadConstraints": [{"maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": {"app": "web"}}}],
                "containers": [{"name": "web", "image": "nginx",
                    "resources": {"requests": {"cpu": "100m"}}}]}}}});
    let (code, out) = c.post("/apis/apps/v1/namespaces/default/deployments", deployment);
    assert_eq!(code, 201, "{out}");
    c.world.settle(120_000);
    let (_, pods) = c.get("/api/v1/namespaces/default/pods");
    let mut per_zone: BTreeMap<String, usize> = BTreeMap::new();
    for p in pods["items"].as_array().unwrap() {
        let node = p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        assert!(
            !node.is_empty(),
            "{} is not scheduled",
            p["metadata"]["name"]
        );
        *per_zone.entry(zone_of(&mut c, &node)).or_default() += 1;
    }
    assert_eq!(
        per_zone,
        BTreeMap::from([
            ("zone-a".to_string(), 3),
            ("zone-b".to_string(), 3),
            ("zone-c".to_string(), 3)
        ])
    );
}

#[test]
fn a_constraint_on_a_label_no_node_has_leaves_the_pod_pending() {
    let mut c = Cluster::with_world(cluster::start(1));
    c.create_pod(pod(
        "racked",
        json!({"app": "db"}),
        json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "rack",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "db"}}}]}),
    ));
    c.world.settle(60_000);
    assert_eq!(c.node_of("racked"), "");
    assert_eq!(
        c.events("racked", "FailedScheduling"),
        ["0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.."]
    );
}

fn anti_affine(name: &str) -> Value {
    pod(
        name,
        json!({"app": "web"}),
        json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}},
             "topologyKey": "kubernetes.io/hostname"}]}}}),
    )
}

#[test]
fn required_anti_affinity_puts_one_replica_per_node_and_says_why_the_fourth_waits() {
    let mut c = Cluster::with_world(cluster::start(1));
    for i in 1..=4 {
        c.create_pod(anti_affine(&format!("web-{i}")));
    }
    c.world.settle(60_000);
    let nodes: Vec<String> = (1..=4).map(|i| c.node_of(&format!("web-{i}"))).collect();
    let placed: std::collections::BTreeSet<&String> =
        nodes.iter().filter(|n| !n.is_empty()).collect();
    assert_eq!(placed.len(), 3, "{nodes:?}");
    let waiting = (1..=4)
        .find(|i| nodes[i - 1].is_empty())
        .map(|i| format!("web-{i}"))
        .unwrap();
    assert_eq!(
        c.events(&waiting, "FailedScheduling").last().unwrap(),
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod anti-affinity rules. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.."
    );
}

#[test]
fn existing_pods_anti_affinity_keeps_newcomers_away() {
    let mut c = Cluster::with_world(cluster::start(1));
    let mut loner = pod(
        "loner",
        json!({"app": "loner"}),
        json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "noisy"}},
             "topologyKey": "topology.kubernetes.io/zone"}]}}}),
    );
    loner["spec"]["nodeName"] = json!("node-1");
    c.create_pod(loner);
    c.world.settle(30_000);
    let mut noisy = pod("noisy", json!({"app": "noisy"}), json!({}));
    noisy["spec"]["nodeSelector"] = json!({"topology.kubernetes.io/zone": "zone-a"});
    c.create_pod(noisy);
    for i in 1..=4 {
        c.create_pod(pod(
            &format!("other-{i}"),
            json!({"app": "noisy"}),
            json!({}),
        ));
    }
    c.world.settle(60_000);
    assert_eq!(c.node_of("noisy"), "");
    assert_eq!(
        c.events("noisy", "FailedScheduling").last().unwrap(),
        "0/4 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.."
    );
    for i in 1..=4 {
        let node = c.node_of(&format!("other-{i}"));
        assert!(node == "node-2" || node == "node-3", "other-{i} on {node}");
    }
}

#[test]
fn required_affinity_follows_the_first_pod_and_the_first_of_a_group_lands_anywhere() {
    let mut c = Cluster::with_world(cluster::start(1));
    let with_web = |name: &str, labels: Value| {
        pod(
            name,
            labels,
            json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}},
                 "topologyKey": "topology.kubernetes.io/zone"}]}}}),
        )
    };
    // No web pod yet, and the cache does not match its own terms: it waits.
    c.create_pod(with_web("cache", json!({"app": "cache"})));
    c.world.settle(30_000);
    assert_eq!(c.node_of("cache"), "");
    assert_eq!(
        c.events("cache", "FailedScheduling").last().unwrap(),
        "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod affinity rules. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.."
    );
    // A web pod that is affine to web pods is the first of its group: it may land.
    c.create_pod(with_web("web-1", json!({"app": "web"})));
    c.world.settle(30_000);
    let web = c.node_of("web-1");
    assert!(web.starts_with("node-"), "web-1 on {web:?}");
    // Its arrival requeues the waiting cache pod at once (not after five minutes).
    c.world.settle(30_000);
    let cache = c.node_of("cache");
    assert_eq!(zone_of(&mut c, &cache), zone_of(&mut c, &web));
}

#[test]
fn preferred_affinity_draws_a_pod_next_to_its_peer() {
    let mut c = lopsided_cluster();
    let mut db = pod("db", json!({"app": "db"}), json!({}));
    db["spec"]["nodeName"] = json!("node-3");
    c.create_pod(db);
    c.world.settle(30_000);
    c.create_pod(pod(
        "api",
        json!({"app": "api"}),
        json!({"affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}},
                 "topologyKey": "kubernetes.io/hostname"}}]}}}),
    ));
    c.world.settle(30_000);
    assert_eq!(c.node_of("api"), "node-3");
}

#[test]
fn replicas_without_constraints_spread_by_the_cluster_default_constraints() {
    let mut c = lopsided_cluster();
    let (code, out) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        common::deployment("web", 6),
    );
    assert_eq!(code, 201, "{out}");
    c.world.settle(120_000);
    let (_, pods) = c.get("/api/v1/namespaces/default/pods");
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for p in pods["items"].as_array().unwrap() {
        let node = p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        *per_node.entry(node).or_default() += 1;
    }
    // Resource scoring alone would stack them on the big node.
    assert_eq!(per_node.len(), 4, "{per_node:?}");
    assert!(per_node.values().all(|n| *n <= 2), "{per_node:?}");
}
