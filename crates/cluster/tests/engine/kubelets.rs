//! Simulated kubelets: node registration, Lease heartbeats, failing and recovering
//! machines, and the pod lifecycle of pods bound to a node.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use kubecraft_cluster::sim::TraceKind;
use serde_json::{json, Value};

fn node_ready(c: &mut Cluster, name: &str) -> String {
    let (_, node) = c.get(&format!("/api/v1/nodes/{name}"));
    node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| c["status"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

fn renew_time(c: &mut Cluster, name: &str) -> Value {
    let (_, lease) = c.get(&format!(
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
    ));
    lease["spec"]["renewTime"].clone()
}

#[test]
fn the_default_cluster_registers_four_ready_nodes_with_leases() {
    let mut c = Cluster::with_world(cluster::start(1));
    let (_, nodes) = c.get("/api/v1/nodes");
    let names: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["control-plane", "node-1", "node-2", "node-3"]);
    for name in names {
        assert_eq!(node_ready(&mut c, name), "True", "{name}");
    }
    let (_, cp) = c.get("/api/v1/nodes/control-plane");
    assert_eq!(
        cp["spec"]["taints"],
        json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    );
    let (_, n2) = c.get("/api/v1/nodes/node-2");
    assert_eq!(
        n2["metadata"]["labels"]["topology.kubernetes.io/zone"],
        "zone-b"
    );
    assert_eq!(n2["status"]["allocatable"]["pods"], "110");
    let (_, lease) = c.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1");
    assert_eq!(lease["spec"]["holderIdentity"], "node-1");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 40);
    assert_eq!(lease["metadata"]["ownerReferences"][0]["kind"], "Node");
}

#[test]
fn heartbeats_renew_leases_but_never_keep_the_cluster_busy() {
    let mut c = Cluster::with_world(cluster::start(1));
    assert!(
        c.world.settle(1_000),
        "heartbeats alone are background work"
    );
    assert_eq!(c.world.pending_events(), 0);
    let before = renew_time(&mut c, "node-1");
    c.world.advance(25_000);
    let after = renew_time(&mut c, "node-1");
    assert_ne!(before, after);
    let micro = after.as_str().unwrap();
    assert_eq!(
        (micro.len(), &micro[19..20]),
        (27, "."),
        "a MicroTime: {micro}"
    );
}

#[test]
fn a_failed_node_stops_renewing_until_it_recovers() {
    let mut c = Cluster::with_world(cluster::start(1));
    cluster::fail_node(&mut c.world, "node-2").unwrap();
    let frozen = renew_time(&mut c, "node-2");
    c.world.advance(60_000);
    assert_eq!(renew_time(&mut c, "node-2"), frozen);
    assert_ne!(renew_time(&mut c, "node-1"), frozen);
    assert_eq!(
        cluster::fail_node(&mut c.world, "node-2").unwrap_err(),
        "node \"node-2\" has no running kubelet"
    );
    cluster::recover_node(&mut c.world, "node-2").unwrap();
    c.world.advance(11_000);
    assert_ne!(renew_time(&mut c, "node-2"), frozen);
    let (_, node) = c.get("/api/v1/nodes/node-2");
    assert!(node["metadata"]["annotations"]
        .get(cluster::FAILED_ANNOTATION)
        .is_none());
}

#[test]
fn nodes_can_be_added_and_removed() {
    let mut c = Cluster::with_world(cluster::start(1));
    let mut big = NodeConfig::worker("big", 0, "16", "64Gi");
    big.labels.push(("gpu".into(), "true".into()));
    cluster::add_node(&mut c.world, big).unwrap();
    c.world.settle(1_000);
    let (_, node) = c.get("/api/v1/nodes/big");
    assert_eq!(node["status"]["capacity"]["cpu"], "16");
    assert_eq!(node["status"]["capacity"]["memory"], "67108864Ki");
    assert_eq!(node["metadata"]["labels"]["gpu"], "true");
    assert_eq!(node["spec"]["podCIDR"], "10.244.4.0/24");
    assert!(cluster::add_node(&mut c.world, NodeConfig::worker("big", 0, "1", "1Gi")).is_err());
    cluster::remove_node(&mut c.world, "big").unwrap();
    assert_eq!(c.get("/api/v1/nodes/big").0, 404);
    assert_eq!(
        cluster::remove_node(&mut c.world, "big").unwrap_err(),
        "node \"big\" not found"
    );
}

fn pod_on(node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {"nodeName": node, "containers": [{"name": "web", "image": "nginx:1.27"}]},
    })
}

#[test]
fn a_bound_pod_runs_and_a_deleted_one_goes_away() {
    let mut c = Cluster::with_world(cluster::start(1));
    assert_eq!(
        c.post("/api/v1/namespaces/default/pods", pod_on("node-1"))
            .0,
        201
    );
    c.world.settle(60_000);
    let (_, pod) = c.get("/api/v1/namespaces/default/pods/web");
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(pod["status"]["podIP"], "10.244.1.2");
    assert_eq!(pod["status"]["hostIP"], "172.18.0.3");
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["ready"], true);
    assert_eq!(status["image"], "docker.io/library/nginx:1.27");
    assert!(status["state"]["running"]["startedAt"].is_string());
    assert_eq!(
        Cluster::condition_types(&pod),
        [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled"
        ]
    );
    let (_, events) = c.get("/api/v1/namespaces/default/events");
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "web")
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["Pulling", "Pulled", "Created", "Started"]);

    assert_eq!(
        c.json(kubecraft_cluster::api::Request::delete(
            "/api/v1/namespaces/default/pods/web"
        ))
        .0,
        200
    );
    let (_, terminating) = c.get("/api/v1/namespaces/default/pods/web");
    assert!(terminating["metadata"]["deletionTimestamp"].is_string());
    c.world.settle(60_000);
    assert_eq!(c.get("/api/v1/namespaces/default/pods/web").0, 404);
    // The kubelet removed it with one request (grace 0), as upstream's status
    // manager does: the watch events still on their way ask for no second one.
    assert_eq!(kubelet_deletes(&c, "kubelet/node-1"), [200]);
}

/// The status codes of the DELETEs `kubelet` sent, in order.
fn kubelet_deletes(c: &Cluster, kubelet: &str) -> Vec<u16> {
    c.world
        .trace()
        .entries()
        .filter_map(|e| match &e.kind {
            TraceKind::Call {
                actor, verb, code, ..
            } if actor == kubelet && verb == "delete" => Some(*code),
            _ => None,
        })
        .collect()
}

#[test]
fn a_pod_force_deleted_while_stopping_is_not_deleted_again() {
    let mut c = Cluster::with_world(cluster::start(1));
    c.post("/api/v1/namespaces/default/pods", pod_on("node-1"));
    c.world.settle(60_000);
    let path = "/api/v1/namespaces/default/pods/web";
    assert_eq!(c.delete(path).0, 200);
    c.world.advance(100);
    let force = kubecraft_cluster::api::Request::delete(path).with_query("gracePeriodSeconds", "0");
    assert_eq!(c.json(force).0, 200);
    c.world.settle(60_000);
    assert_eq!(c.get(path).0, 404);
    assert_eq!(kubelet_deletes(&c, "kubelet/node-1"), Vec::<u16>::new());
}

#[test]
fn a_second_pod_with_the_same_image_finds_it_cached() {
    let mut c = Cluster::with_world(cluster::start(1));
    c.post("/api/v1/namespaces/default/pods", pod_on("node-3"));
    c.world.settle(60_000);
    let mut second = pod_on("node-3");
    second["metadata"]["name"] = json!("web-2");
    c.post("/api/v1/namespaces/default/pods", second);
    c.world.settle(60_000);
    let (_, events) = c.get("/api/v1/namespaces/default/events");
    let messages: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "web-2" && e["reason"] == "Pulled")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["Container image \"nginx:1.27\" already present on machine"]
    );
}

fn run_pod(c: &mut Cluster, name: &str, policy: &str, command: &[&str]) {
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"restartPolicy": policy,
                "containers": [{"name": "main", "image": "busybox:1.36", "command": command}]},
        }),
    );
    assert_eq!(code, 201, "{body}");
}

fn pod_state(c: &mut Cluster, name: &str) -> Value {
    c.get(&format!("/api/v1/namespaces/default/pods/{name}")).1
}

#[test]
fn containers_that_exit_finish_the_pod_as_restart_policy_says() {
    let mut c = Cluster::with_world(cluster::start(61));
    run_pod(&mut c, "fails", "Never", &["sh", "-c", "echo hi; exit 3"]);
    run_pod(&mut c, "sleeps", "Never", &["sleep", "2"]);
    run_pod(&mut c, "once", "OnFailure", &["true"]);
    c.world.settle(60_000);
    let fails = pod_state(&mut c, "fails");
    assert_eq!(fails["status"]["phase"], "Failed");
    let terminated = &fails["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        (
            terminated["exitCode"].as_i64(),
            terminated["reason"].as_str()
        ),
        (Some(3), Some("Error"))
    );
    let ready = fails["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("False"), Some("PodCompleted"))
    );
    let sleeps = pod_state(&mut c, "sleeps");
    assert_eq!(sleeps["status"]["phase"], "Succeeded");
    let t = &sleeps["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(t["reason"], "Completed");
    assert_ne!(t["startedAt"], t["finishedAt"], "it slept");
    assert_eq!(pod_state(&mut c, "once")["status"]["phase"], "Succeeded");
    assert_eq!(
        pod_state(&mut c, "once")["status"]["containerStatuses"][0]["restartCount"],
        0
    );
}

#[test]
fn a_crashing_container_restarts_with_upstreams_back_off() {
    let mut c = Cluster::with_world(cluster::start(62));
    run_pod(&mut c, "crash", "Always", &["sh", "-c", "exit 1"]);
    c.world.advance(5_000);
    let pod = pod_state(&mut c, "crash");
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(pod["status"]["phase"], "Running");
    assert_eq!(status["restartCount"], 1, "the first restart is immediate");
    assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    assert_eq!(
        status["state"]["waiting"]["message"],
        format!("back-off 10s restarting failed container=main pod=crash_default({uid})")
    );
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 1);
    c.world.advance(10_000);
    let pod = pod_state(&mut c, "crash");
    assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 2);
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        format!("back-off 20s restarting failed container=main pod=crash_default({uid})")
    );
    // The second back-off is the same event counted twice, as upstream's correlator does.
    assert_eq!(
        c.events("crash", "BackOff"),
        [format!(
            "Back-off restarting failed container main in pod crash_default({uid})"
        )]
    );
    let (_, list) = c.get("/api/v1/namespaces/default/events");
    let backoff = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "BackOff")
        .unwrap()
        .clone();
    assert_eq!(backoff["count"], 2);
    assert_ne!(backoff["firstTimestamp"], backoff["lastTimestamp"]);
}
