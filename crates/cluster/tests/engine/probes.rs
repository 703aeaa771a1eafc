//! Probes: liveness restarts a container whose probe fails, readiness keeps a
//! pod out of Ready (and its Service's endpoints) until it passes, startup holds
//! the other probes back and restarts a container that never starts.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

fn run(c: &mut Cluster, name: &str, container: Value) {
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [container]}}),
    );
    assert_eq!(code, 201, "{body}");
}

fn container_status(c: &mut Cluster, pod: &str) -> Value {
    c.get(&format!("/api/v1/namespaces/default/pods/{pod}")).1["status"]["containerStatuses"][0]
        .clone()
}

fn pod_ready(c: &mut Cluster, pod: &str) -> String {
    let (_, p) = c.get(&format!("/api/v1/namespaces/default/pods/{pod}"));
    p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| c["status"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn a_failing_liveness_probe_restarts_the_container_as_in_the_tutorial() {
    let mut c = Cluster::with_world(cluster::start(111));
    run(
        &mut c,
        "liveness-exec",
        json!({"name": "liveness", "image": "registry.k8s.io/busybox",
            "args": ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
            "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]},
                "initialDelaySeconds": 5, "periodSeconds": 5}}),
    );
    c.world.advance(30_000);
    assert_eq!(container_status(&mut c, "liveness-exec")["restartCount"], 0);
    c.world.advance(20_000);
    let status = container_status(&mut c, "liveness-exec");
    assert_eq!(status["restartCount"], 1, "{status}");
    let last = &status["lastState"]["terminated"];
    assert_eq!(
        (&last["exitCode"], &last["reason"]),
        (&json!(137), &json!("Error"))
    );
    assert_eq!(
        c.events("liveness-exec", "Killing"),
        ["Container liveness failed liveness probe, will be restarted"]
    );
    let (_, events) = c.get("/api/v1/namespaces/default/events?fieldSelector=reason%3DUnhealthy");
    let unhealthy = &events["items"][0];
    assert_eq!(
        unhealthy["message"],
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"
    );
    assert_eq!(
        unhealthy["count"], 3,
        "three failures in a row before the kill"
    );
    assert_eq!(
        unhealthy["involvedObject"]["fieldPath"],
        "spec.containers{liveness}"
    );
}

#[test]
fn readiness_gates_the_pod_and_its_endpoints_until_the_probe_passes() {
    let mut c = Cluster::with_world(cluster::start(112));
    run(
        &mut c,
        "web",
        json!({"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 2}}),
    );
    c.post(
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    );
    c.world.advance(30_000);
    let status = container_status(&mut c, "web");
    assert_eq!(
        (&status["ready"], &status["started"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(pod_ready(&mut c, "web"), "False");
    let (_, endpoints) = c.get("/api/v1/namespaces/default/endpoints/web");
    assert!(
        endpoints["subsets"][0]["addresses"].is_null(),
        "{endpoints}"
    );
    assert!(
        endpoints["subsets"][0]["notReadyAddresses"].is_array(),
        "{endpoints}"
    );
    assert_eq!(
        c.events("web", "Unhealthy")[0],
        "Readiness probe failed: HTTP probe failed with statuscode: 404"
    );

    run(
        &mut c,
        "good",
        json!({"name": "web", "image": "nginx:1.27",
            "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2}}),
    );
    c.world.advance(30_000);
    assert_eq!(container_status(&mut c, "good")["ready"], true);
    assert_eq!(pod_ready(&mut c, "good"), "True");
}

#[test]
fn a_startup_probe_that_never_passes_restarts_the_container() {
    let mut c = Cluster::with_world(cluster::start(113));
    run(
        &mut c,
        "slow",
        json!({"name": "app", "image": "nginx:1.27",
            "startupProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5, "failureThreshold": 2},
            "livenessProbe": {"tcpSocket": {"port": 8080}}}),
    );
    c.world.advance(8_000);
    let status = container_status(&mut c, "slow");
    assert_eq!(
        (&status["started"], &status["ready"]),
        (&json!(false), &json!(false))
    );
    c.world.advance(10_000);
    assert_eq!(
        c.events("slow", "Killing"),
        ["Container app failed startup probe, will be restarted"]
    );
    assert!(
        container_status(&mut c, "slow")["restartCount"]
            .as_i64()
            .unwrap()
            >= 1
    );
    assert!(
        c.events("slow", "Unhealthy")
            .iter()
            .all(|m| m.starts_with("Startup probe failed: dial tcp ")),
        "liveness is not probed before the container has started"
    );
}
