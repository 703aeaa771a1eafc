//! The scheduler in a running cluster: binding and Scheduled events, the exact
//! FailedScheduling text and PodScheduled condition, retry on a cluster event,
//! preemption of the right victim, cordoned nodes, unknown schedulers, and the
//! explanation annotations.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use kubecraft_cluster::scheduler::cycle::EXPLAINED_NODES;
use kubecraft_cluster::scheduler::{explain, Scheduler};
use kubecraft_cluster::sim::TraceKind;
use serde_json::{json, Map, Value};

/// PriorityClasses by name and value.
fn priority_classes(c: &mut Cluster, classes: &[(&str, i64)]) {
    for (name, value) in classes {
        let class = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value});
        let (code, body) = c.post("/apis/scheduling.k8s.io/v1/priorityclasses", class);
        assert_eq!(code, 201, "{body}");
    }
}

/// A PodDisruptionBudget in `default` with `spec`.
fn disruption_budget(c: &mut Cluster, name: &str, spec: Value) {
    let budget = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name}, "spec": spec});
    let (code, body) = c.post(
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        budget,
    );
    assert_eq!(code, 201, "{body}");
}

fn pod(name: &str, cpu: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "nginx",
            "resources": {"requests": {"cpu": cpu}}}]},
    })
}

#[test]
fn pods_are_bound_to_workers_and_the_binding_is_announced() {
    let mut c = Cluster::with_world(cluster::start(1));
    c.create_pod(pod("web", "100m"));
    c.world.settle(60_000);
    let node = c.node_of("web");
    assert!(node.starts_with("node-"), "bound to {node}");
    assert_eq!(
        c.events("web", "Scheduled"),
        [format!("Successfully assigned default/web to {node}")]
    );
    let (_, p) = c.get("/api/v1/namespaces/default/pods/web");
    assert_eq!(
        p["metadata"]["annotations"][explain::SELECTED_NODE],
        json!(node)
    );
    let filter: Value = serde_json::from_str(
        p["metadata"]["annotations"][explain::FILTER_RESULT]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        filter["control-plane"]["TaintToleration"],
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
    );
    assert_eq!(filter["node-1"]["NodeResourcesFit"], "passed");
    let scores: Value = serde_json::from_str(
        p["metadata"]["annotations"][explain::FINAL_SCORE_RESULT]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(scores[node.as_str()]["total"].is_string());
}

/// One of the pod's explanation annotations, decoded.
fn explanation(pod: &Value, key: &str) -> Map<String, Value> {
    let text = pod["metadata"]["annotations"][key].as_str().unwrap();
    serde_json::from_str(text).unwrap()
}

/// The writes the scheduler sent about pods (verb and subresource), in order.
fn scheduler_pod_writes(c: &Cluster) -> Vec<String> {
    c.world
        .trace()
        .entries()
        .filter_map(|e| match &e.kind {
            TraceKind::Call {
                actor,
                verb,
                resource,
                subresource,
                ..
            } if actor == "kube-scheduler"
                && resource == "pods"
                && !matches!(verb.as_str(), "get" | "list" | "watch") =>
            {
                Some(format!("{verb} {subresource}"))
            }
            _ => None,
        })
        .collect()
}

/// A cluster of 30 workers (4 CPUs each) and no control-plane node, with the
/// default scheduler (explanations on).
fn thirty_workers() -> Cluster {
    let nodes = (0..30)
        .map(|i| NodeConfig::worker(&format!("node-{i:02}"), i, "4", "16Gi"))
        .collect();
    Cluster::with_world(cluster::start_with(3, Scheduler::default(), nodes))
}

/// On a large cluster, the explanation lists the selected node and the highest
/// totals, at most `EXPLAINED_NODES`, and says how many filtered nodes it leaves
/// out; it travels on the Binding, so scheduling a pod is one write.
#[test]
fn a_large_clusters_explanation_lists_the_best_nodes_and_rides_on_the_binding() {
    let mut c = thirty_workers();
    c.create_pod(pod("web", "100m"));
    c.world.settle(60_000);
    let node = c.node_of("web");
    assert!(node.starts_with("node-"), "bound to {node}");
    assert_eq!(scheduler_pod_writes(&c), ["create binding"]);
    let (_, p) = c.get("/api/v1/namespaces/default/pods/web");
    assert_eq!(
        p["metadata"]["annotations"][explain::SELECTED_NODE],
        json!(node)
    );
    assert_eq!(
        p["metadata"]["annotations"][explain::OMITTED_NODES],
        json!((30 - EXPLAINED_NODES).to_string())
    );
    let filter = explanation(&p, explain::FILTER_RESULT);
    assert_eq!(filter.len(), EXPLAINED_NODES);
    assert_eq!(filter[&node]["NodeResourcesFit"], "passed");
    let finals = explanation(&p, explain::FINAL_SCORE_RESULT);
    assert_eq!(finals.len(), EXPLAINED_NODES);
    let total = |n: &Value| n["total"].as_str().unwrap().parse::<i64>().unwrap();
    let best = finals.values().map(total).max().unwrap();
    assert_eq!(
        total(&finals[&node]),
        best,
        "the selected node scores highest"
    );
    for key in [explain::SCORE_RESULT, explain::NORMALIZED_SCORE_RESULT] {
        let listed: Vec<String> = explanation(&p, key).keys().cloned().collect();
        assert_eq!(listed, finals.keys().cloned().collect::<Vec<_>>());
    }
}

/// A pod that fits nowhere is explained by a patch of its own (there is no
/// Binding), listing nodes the filters rejected with each one's reason.
#[test]
fn a_pending_pods_explanation_lists_rejected_nodes_with_their_reasons() {
    let mut c = thirty_workers();
    c.create_pod(pod("big", "5"));
    c.world.settle(60_000);
    assert_eq!(c.node_of("big"), "");
    assert_eq!(scheduler_pod_writes(&c)[0], "patch ");
    let (_, p) = c.get("/api/v1/namespaces/default/pods/big");
    assert_eq!(p["metadata"]["annotations"][explain::SELECTED_NODE], "");
    let filter = explanation(&p, explain::FILTER_RESULT);
    assert_eq!(filter.len(), EXPLAINED_NODES);
    for results in filter.values() {
        assert_eq!(results["NodeResourcesFit"], "Insufficient cpu");
        assert_eq!(results["NodeUnschedulable"], "passed");
    }
    assert!(explanation(&p, explain::FINAL_SCORE_RESULT).is_empty());
}

#[test]
fn a_pod_that_fits_nowhere_says_why_in_upstream_words_until_a_node_is_added() {
    let mut c = Cluster::with_world(cluster::start(1));
    c.create_pod(pod("big", "5"));
    c.world.settle(60_000);
    assert_eq!(c.node_of("big"), "");
    let expected = "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod..";
    assert_eq!(c.events("big", "FailedScheduling"), [expected]);
    let (_, p) = c.get("/api/v1/namespaces/default/pods/big");
    let condition = &p["status"]["conditions"][0];
    assert_eq!(
        (
            &condition["type"],
            &condition["status"],
            &condition["reason"]
        ),
        (
            &json!("PodScheduled"),
            &json!("False"),
            &json!("Unschedulable")
        )
    );
    assert_eq!(condition["message"], expected);

    cluster::add_node(&mut c.world, NodeConfig::worker("huge", 0, "16", "64Gi")).unwrap();
    c.world.settle(60_000);
    assert_eq!(c.node_of("big"), "huge");
}

#[test]
fn a_high_priority_pod_preempts_the_lowest_priority_victim() {
    let mut c = Cluster::with_world(cluster::start(1));
    priority_classes(&mut c, &[("low", 10), ("mid", 1_000), ("high", 1_000_000)]);
    // Fill each worker with 3 CPUs: one low-priority and one mid-priority pod each.
    for n in 1..=3 {
        let mut low = pod(&format!("low-{n}"), "1500m");
        low["spec"]["priorityClassName"] = json!("low");
        low["spec"]["nodeName"] = json!(format!("node-{n}"));
        c.create_pod(low);
        let mut normal = pod(&format!("mid-{n}"), "1500m");
        normal["spec"]["priorityClassName"] = json!("mid");
        normal["spec"]["nodeName"] = json!(format!("node-{n}"));
        c.create_pod(normal);
    }
    c.world.settle(60_000);
    let mut urgent = pod("urgent", "2");
    urgent["spec"]["priorityClassName"] = json!("high");
    c.create_pod(urgent);
    c.world.settle(120_000);
    let node = c.node_of("urgent");
    assert!(node.starts_with("node-"), "urgent pod bound to {node:?}");
    let victim = format!("low-{}", &node[5..]);
    assert_eq!(
        c.get(&format!("/api/v1/namespaces/default/pods/{victim}"))
            .0,
        404
    );
    let (_, urgent) = c.get("/api/v1/namespaces/default/pods/urgent");
    let uid = urgent["metadata"]["uid"].as_str().unwrap().to_string();
    assert_eq!(
        c.events(&victim, "Preempted"),
        [format!("Preempted by pod {uid} on node {node}")]
    );
    // Only one victim: the other workers keep both their pods.
    let (_, pods) = c.get("/api/v1/namespaces/default/pods");
    assert_eq!(pods["items"].as_array().unwrap().len(), 6);
}

#[test]
fn preemption_policy_never_is_not_eligible() {
    let mut c = Cluster::with_world(cluster::start(1));
    let mut p = pod("polite", "5");
    p["spec"]["preemptionPolicy"] = json!("Never");
    c.create_pod(p);
    c.world.settle(60_000);
    assert_eq!(
        c.events("polite", "FailedScheduling"),
        ["0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."]
    );
}

#[test]
fn cordoned_nodes_and_node_selectors_narrow_the_choice() {
    let mut c = Cluster::with_world(cluster::start(1));
    for n in ["node-1", "node-2"] {
        c.send(Request::patch(
            format!("/api/v1/nodes/{n}"),
            "application/merge-patch+json",
            r#"{"spec":{"unschedulable":true}}"#,
        ));
    }
    c.world.settle(60_000);
    c.create_pod(pod("a", "100m"));
    let mut zoned = pod("zoned", "100m");
    zoned["spec"]["nodeSelector"] = json!({"topology.kubernetes.io/zone": "zone-a"});
    c.create_pod(zoned);
    c.world.settle(60_000);
    assert_eq!(c.node_of("a"), "node-3");
    assert_eq!(
        c.events("zoned", "FailedScheduling"),
        ["0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) were unschedulable. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.."]
    );
}

#[test]
fn pods_for_another_scheduler_or_with_gates_stay_pending() {
    let mut c = Cluster::with_world(cluster::start(1));
    let mut other = pod("other", "100m");
    other["spec"]["schedulerName"] = json!("my-scheduler");
    c.create_pod(other);
    let mut gated = pod("gated", "100m");
    gated["spec"]["schedulingGates"] = json!([{"name": "example.com/wait"}]);
    c.create_pod(gated);
    c.world.settle(60_000);
    assert_eq!(c.node_of("other"), "");
    assert_eq!(c.node_of("gated"), "");
    assert!(c.events("other", "FailedScheduling").is_empty());
    c.send(Request::patch(
        "/api/v1/namespaces/default/pods/gated",
        "application/merge-patch+json",
        r#"{"spec":{"schedulingGates":null}}"#,
    ));
    c.world.settle(60_000);
    assert!(c.node_of("gated").starts_with("node-"));
}

#[test]
fn the_same_seed_schedules_the_same_way() {
    let run = |seed| {
        let mut c = Cluster::with_world(cluster::start(seed));
        for i in 0..12 {
            c.create_pod(pod(&format!("p{i}"), "250m"));
        }
        c.world.settle(120_000);
        (0..12)
            .map(|i| c.node_of(&format!("p{i}")))
            .collect::<Vec<_>>()
            .join(",")
            + &c.world.trace().to_json_lines()
    };
    let seed = 42;
    assert!(run(seed) == run(seed), "seed {seed}: runs differ");
}

#[test]
fn priority_admission_resolves_classes_with_upstream_errors() {
    let mut c = Cluster::with_world(cluster::start(1));
    let mut p = pod("p", "100m");
    p["spec"]["priorityClassName"] = json!("nope");
    let (code, status) = c.post("/api/v1/namespaces/default/pods", p);
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        "pods \"p\" is forbidden: no PriorityClass with name nope was found"
    );
    let mut critical = pod("critical", "100m");
    critical["spec"]["priorityClassName"] = json!("system-node-critical");
    let (code, created) = c.post("/api/v1/namespaces/default/pods", critical);
    assert_eq!(code, 201);
    assert_eq!(created["spec"]["priority"], 2_000_001_000);
    let mut forced = pod("forced", "100m");
    forced["spec"]["priority"] = json!(7);
    let (code, status) = c.post("/api/v1/namespaces/default/pods", forced);
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        "pods \"forced\" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name"
    );
}

#[test]
fn kubelets_report_pulled_images_and_image_locality_scores_the_nodes_that_have_them() {
    let mut c = Cluster::with_world(cluster::start(1));
    let image = "docker.io/library/redis:7.2";
    let mut first = pod("first", "100m");
    first["spec"]["containers"][0]["image"] = json!(image);
    first["spec"]["nodeName"] = json!("node-2");
    c.create_pod(first);
    c.world.settle(60_000);
    c.world.advance(20_000);
    let (_, node) = c.get("/api/v1/nodes/node-2");
    let images = node["status"]["images"].as_array().unwrap();
    assert_eq!(images[0]["names"][1], image);
    assert!(images[0]["names"][0]
        .as_str()
        .unwrap()
        .starts_with("docker.io/library/redis@sha256:"));
    let mut second = pod("second", "100m");
    second["spec"]["containers"][0]["image"] = json!(image);
    c.create_pod(second);
    c.world.settle(60_000);
    let (_, p) = c.get("/api/v1/namespaces/default/pods/second");
    let raw: Value = serde_json::from_str(
        p["metadata"]["annotations"][explain::SCORE_RESULT]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let locality = |node: &str| raw[node]["ImageLocality"].as_str().unwrap().to_string();
    assert_ne!(locality("node-2"), "0");
    assert_eq!(locality("node-1"), "0");
    assert_eq!(locality("node-3"), "0");
}

#[test]
fn preemption_spares_pods_a_disruption_budget_protects() {
    let mut c = Cluster::with_world(cluster::start(1));
    priority_classes(&mut c, &[("low", 10), ("high", 1_000_000)]);
    disruption_budget(
        &mut c,
        "guarded",
        json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}),
    );
    // Each worker is full with one low-priority pod; node-1's is under the budget.
    for (n, name) in [(1, "guarded"), (2, "plain-2"), (3, "plain-3")] {
        let mut p = pod(name, "3500m");
        p["metadata"]["labels"] = json!({"app": name});
        p["spec"]["priorityClassName"] = json!("low");
        p["spec"]["nodeName"] = json!(format!("node-{n}"));
        c.create_pod(p);
    }
    c.world.settle(60_000);
    let mut urgent = pod("urgent", "1");
    urgent["spec"]["priorityClassName"] = json!("high");
    c.create_pod(urgent);
    c.world.settle(120_000);
    assert_eq!(c.node_of("urgent"), "node-2");
    assert_eq!(c.node_of("guarded"), "node-1");
    assert_eq!(c.get("/api/v1/namespaces/default/pods/plain-2").0, 404);
}

#[test]
fn on_the_chosen_node_budget_protected_pods_are_reprieved_first() {
    let mut c = Cluster::with_world(cluster::start(1));
    priority_classes(&mut c, &[("low", 10), ("high", 1_000_000)]);
    disruption_budget(
        &mut c,
        "zz",
        json!({"maxUnavailable": 0, "selector": {"matchLabels": {"app": "zz"}}}),
    );
    // Same priority: without the budget, name order would reprieve "aa" and evict "zz".
    for name in ["aa", "zz"] {
        let mut p = pod(name, "2");
        p["metadata"]["labels"] = json!({"app": name});
        p["spec"]["priorityClassName"] = json!("low");
        p["spec"]["nodeName"] = json!("node-1");
        c.create_pod(p);
    }
    c.world.settle(60_000);
    let mut urgent = pod("urgent", "1");
    urgent["spec"]["priorityClassName"] = json!("high");
    urgent["spec"]["nodeSelector"] = json!({"kubernetes.io/hostname": "node-1"});
    c.create_pod(urgent);
    c.world.settle(120_000);
    assert_eq!(c.node_of("urgent"), "node-1");
    assert_eq!(c.get("/api/v1/namespaces/default/pods/aa").0, 404);
    assert_eq!(c.node_of("zz"), "node-1");
}

#[test]
fn preemption_prefers_the_node_whose_victims_started_last() {
    let mut c = Cluster::with_world(cluster::start(1));
    priority_classes(&mut c, &[("low", 10), ("high", 1_000_000)]);
    // node-1's pod starts a minute before node-2's; node-3 is cordoned.
    c.patch(
        "/api/v1/nodes/node-3",
        "application/merge-patch+json",
        json!({"spec": {"unschedulable": true}}),
    );
    for (n, name) in [(1, "older"), (2, "newer")] {
        let mut p = pod(name, "3500m");
        p["spec"]["priorityClassName"] = json!("low");
        p["spec"]["nodeName"] = json!(format!("node-{n}"));
        c.create_pod(p);
        c.world.settle(60_000);
        c.world.advance(60_000);
    }
    let mut urgent = pod("urgent", "1");
    urgent["spec"]["priorityClassName"] = json!("high");
    c.create_pod(urgent);
    c.world.settle(120_000);
    assert_eq!(c.node_of("urgent"), "node-2");
    assert_eq!(c.node_of("older"), "node-1");
}
