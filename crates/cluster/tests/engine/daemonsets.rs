//! DaemonSets: one pod per eligible node (selectors, taints, cordons, nodes
//! coming and going), history as ControllerRevisions, rolling updates within
//! maxUnavailable, and status counters.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use serde_json::{json, Value};

const DS: &str = "/apis/apps/v1/namespaces/default/daemonsets";

fn daemonset(name: &str, spec_extra: Value) -> Value {
    let mut pod_spec = json!({"containers": [{"name": "agent", "image": "nginx:1.27"}]});
    for (k, v) in spec_extra.as_object().unwrap() {
        pod_spec[k] = v.clone();
    }
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
        }
    })
}

/// node name → the images of the daemon pods (not terminating) on it.
fn pods_by_node(c: &mut Cluster, app: &str) -> Vec<(String, String)> {
    let (_, list) = c.get(&format!(
        "/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"
    ));
    let mut placed: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            (
                p["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    placed.sort();
    placed
}

fn status(c: &mut Cluster, name: &str) -> Value {
    c.get(&format!("{DS}/{name}")).1["status"].clone()
}

#[test]
fn a_daemonset_runs_one_pod_on_each_untainted_node_and_follows_nodes() {
    let mut c = Cluster::with_world(cluster::start(81));
    let (code, body) = c.post(DS, daemonset("agent", json!({})));
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        body["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "1"
    );
    c.world.settle(120_000);
    let nodes: Vec<String> = pods_by_node(&mut c, "agent")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        nodes,
        ["node-1", "node-2", "node-3"],
        "the control plane is tainted"
    );
    let s = status(&mut c, "agent");
    assert_eq!(
        (
            &s["desiredNumberScheduled"],
            &s["currentNumberScheduled"],
            &s["numberReady"],
            &s["numberAvailable"],
            &s["updatedNumberScheduled"],
            &s["numberMisscheduled"],
        ),
        (
            &json!(3),
            &json!(3),
            &json!(3),
            &json!(3),
            &json!(3),
            &json!(0)
        )
    );
    let (_, pods) = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dagent");
    let pod = &pods["items"][0];
    assert_eq!(pod["metadata"]["labels"]["pod-template-generation"], "1");
    assert!(pod["metadata"]["labels"]["controller-revision-hash"].is_string());
    assert_eq!(
        pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"][0]["matchFields"][0]["key"],
        "metadata.name"
    );
    let tolerations: Vec<String> = pod["spec"]["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["key"].as_str().unwrap(),
                t["effect"].as_str().unwrap()
            )
        })
        .collect();
    assert!(tolerations.contains(&"node.kubernetes.io/unschedulable:NoSchedule".to_string()));
    assert_eq!(
        c.events("agent", "SuccessfulCreate").len(),
        3,
        "one Created pod event per node"
    );
    let (_, revisions) = c.get("/apis/apps/v1/namespaces/default/controllerrevisions");
    assert_eq!(revisions["items"].as_array().unwrap().len(), 1);
    assert_eq!(revisions["items"][0]["revision"], 1);

    cluster::add_node(&mut c.world, NodeConfig::worker("node-4", 4, "4", "8Gi")).unwrap();
    c.patch(
        "/api/v1/nodes/node-2",
        "application/merge-patch+json",
        json!({"spec": {"unschedulable": true}}),
    );
    c.world.settle(120_000);
    let nodes: Vec<String> = pods_by_node(&mut c, "agent")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        nodes,
        ["node-1", "node-2", "node-3", "node-4"],
        "a new node gets a pod and a cordoned node keeps its pod"
    );
    c.patch(
        "/api/v1/nodes/node-3",
        "application/merge-patch+json",
        json!({"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}}),
    );
    cluster::remove_node(&mut c.world, "node-4").unwrap();
    c.world.settle(120_000);
    let nodes: Vec<String> = pods_by_node(&mut c, "agent")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        nodes,
        ["node-1", "node-2"],
        "NoExecute taints and removed nodes lose their pods"
    );
    assert_eq!(status(&mut c, "agent")["desiredNumberScheduled"], 2);
}

#[test]
fn node_selectors_pick_the_nodes_and_relabelling_moves_pods() {
    let mut c = Cluster::with_world(cluster::start(82));
    c.patch(
        "/api/v1/nodes/node-1",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"disk": "ssd"}}}),
    );
    c.post(
        DS,
        daemonset("cache", json!({"nodeSelector": {"disk": "ssd"}})),
    );
    c.world.settle(120_000);
    assert_eq!(
        pods_by_node(&mut c, "cache"),
        [("node-1".to_string(), "nginx:1.27".to_string())]
    );
    c.patch(
        "/api/v1/nodes/node-3",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"disk": "ssd"}}}),
    );
    c.patch(
        "/api/v1/nodes/node-1",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"disk": null}}}),
    );
    c.world.settle(120_000);
    let nodes: Vec<String> = pods_by_node(&mut c, "cache")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(nodes, ["node-3"]);
}

#[test]
fn a_rolling_update_replaces_one_node_at_a_time_and_records_a_revision() {
    let mut c = Cluster::with_world(cluster::start(83));
    c.post(DS, daemonset("agent", json!({})));
    c.world.settle(120_000);
    let (code, body) = c.patch(
        &format!("{DS}/agent"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "nginx:1.28"}]}}}}),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "2"
    );
    let mut most_unavailable = 0;
    for _ in 0..600 {
        c.world.advance(500);
        let placed = pods_by_node(&mut c, "agent");
        let (_, list) = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dagent");
        let ready = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .filter(|p| {
                p["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
            .count();
        most_unavailable = most_unavailable.max(3 - ready);
        if placed.iter().all(|(_, image)| image == "nginx:1.28") && ready == 3 {
            break;
        }
    }
    assert_eq!(
        pods_by_node(&mut c, "agent"),
        [
            ("node-1".to_string(), "nginx:1.28".to_string()),
            ("node-2".to_string(), "nginx:1.28".to_string()),
            ("node-3".to_string(), "nginx:1.28".to_string()),
        ]
    );
    assert_eq!(
        most_unavailable, 1,
        "maxUnavailable 1: never two nodes down at once"
    );
    c.world.settle(60_000);
    let s = status(&mut c, "agent");
    assert_eq!(
        (&s["updatedNumberScheduled"], &s["numberAvailable"]),
        (&json!(3), &json!(3))
    );
    let (_, revisions) = c.get("/apis/apps/v1/namespaces/default/controllerrevisions");
    let mut numbers: Vec<i64> = revisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(c.events("agent", "SuccessfulDelete").len(), 3);
    let (code, _) = c.delete(&format!("{DS}/agent"));
    assert_eq!(code, 200);
    c.world.settle(120_000);
    assert!(
        pods_by_node(&mut c, "agent").is_empty(),
        "the garbage collector removes its pods"
    );
}

#[test]
fn a_refused_create_is_retried_with_back_off_until_it_succeeds() {
    let mut c = Cluster::with_world(cluster::start(83));
    let (code, body) = c.post(
        DS,
        daemonset("agent", json!({"serviceAccountName": "builder"})),
    );
    assert_eq!(code, 201, "{body}");
    c.world.advance(5_000);
    assert_eq!(
        c.events("agent", "FailedCreate"),
        ["Error creating: pods \"agent-\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found"]
    );
    // Slow start stops at the first refusal; 5 ms doubling gives about ten
    // attempts in five seconds, not one and not thousands.
    let attempts = c.event_count("agent", "FailedCreate");
    assert!((8..=12).contains(&attempts), "{attempts} attempts");
    assert!(pods_by_node(&mut c, "agent").is_empty());
    c.service_account("builder");
    c.world.settle(120_000);
    assert_eq!(pods_by_node(&mut c, "agent").len(), 3);
    assert_eq!(status(&mut c, "agent")["numberReady"], 3);
}

/// The name of the controller of the pod named `pod`, if any.
fn controller_name(c: &mut Cluster, pod: &str) -> Option<String> {
    let (_, body) = c.get(&format!("/api/v1/namespaces/default/pods/{pod}"));
    let references = body["metadata"]["ownerReferences"].as_array()?.clone();
    let controller = references.iter().find(|r| r["controller"] == true)?;
    Some(format!(
        "{}/{}",
        controller["kind"].as_str()?,
        controller["name"].as_str()?
    ))
}

#[test]
fn a_daemonset_adopts_a_matching_orphan_and_releases_a_pod_that_stops_matching() {
    let mut c = Cluster::with_world(cluster::start(82));
    let handmade = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "handmade", "labels": {"app": "agent"}},
        "spec": {"nodeName": "node-2", "containers": [{"name": "agent", "image": "nginx:1.27"}]}});
    c.create_pod(handmade);
    let mut set = daemonset("agent", json!({}));
    set["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
    assert_eq!(c.post(DS, set).0, 201);
    c.world.settle(120_000);
    // The orphan on node-2 is that node's daemon pod: adopted, not doubled.
    assert_eq!(
        controller_name(&mut c, "handmade").as_deref(),
        Some("DaemonSet/agent")
    );
    let nodes: Vec<String> = pods_by_node(&mut c, "agent")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(nodes, ["node-1", "node-2", "node-3"]);

    // Relabelled, it no longer matches: released, and node-2 gets a daemon pod again.
    let (code, _) = c.patch(
        "/api/v1/namespaces/default/pods/handmade",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "mine"}}}),
    );
    assert_eq!(code, 200);
    c.world.settle(120_000);
    assert_eq!(controller_name(&mut c, "handmade"), None);
    let nodes: Vec<String> = pods_by_node(&mut c, "agent")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(nodes, ["node-1", "node-2", "node-3"]);
}

#[test]
fn a_pod_whose_owner_reference_is_removed_is_replaced_by_its_former_daemonset() {
    let mut c = Cluster::with_world(cluster::start(84));
    assert_eq!(c.post(DS, daemonset("agent", json!({}))).0, 201);
    c.world.settle(120_000);
    let (_, list) = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dagent");
    let pod = list["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    // Relabelled and disowned in one write: the DaemonSet learns of it only
    // because its old controller reference named it (upstream's updatePod).
    let (code, _) = c.patch(
        &format!("/api/v1/namespaces/default/pods/{pod}"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "mine"}, "ownerReferences": null}}),
    );
    assert_eq!(code, 200);
    c.world.settle(120_000);
    let nodes: Vec<String> = pods_by_node(&mut c, "agent")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(nodes, ["node-1", "node-2", "node-3"]);
}
