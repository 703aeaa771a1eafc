//! Init containers run one after another before the containers; a failing one
//! is retried (or fails the pod under `Never`); sidecars start in order and
//! keep running beside the containers.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

fn run(c: &mut Cluster, name: &str, policy: &str, init: Value, main: Value) {
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": policy, "initContainers": init, "containers": main}}),
    );
    assert_eq!(code, 201, "{body}");
}

fn status(c: &mut Cluster, pod: &str) -> Value {
    c.get(&format!("/api/v1/namespaces/default/pods/{pod}")).1["status"].clone()
}

fn condition<'a>(status: &'a Value, kind: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap()
}

fn state(container: &Value) -> String {
    let state = container["state"].as_object().unwrap();
    let (kind, detail) = state.iter().next().unwrap();
    match detail.get("reason").and_then(Value::as_str) {
        Some(reason) => format!("{kind}:{reason}"),
        None => kind.clone(),
    }
}

fn sh(name: &str, script: &str) -> Value {
    json!({"name": name, "image": "busybox:1.36", "command": ["sh", "-c", script]})
}

#[test]
fn init_containers_run_in_order_before_the_containers() {
    let mut c = Cluster::with_world(cluster::start(121));
    run(
        &mut c,
        "app",
        "Always",
        json!([
            sh("init-a", "echo a; sleep 5"),
            sh("init-b", "echo b; sleep 5")
        ]),
        json!([{"name": "web", "image": "nginx:1.27"}]),
    );
    c.world.advance(4_000);
    let s = status(&mut c, "app");
    assert_eq!(s["phase"], "Pending");
    let init = condition(&s, "Initialized");
    assert_eq!(
        (&init["status"], &init["reason"], &init["message"]),
        (
            &json!("False"),
            &json!("ContainersNotInitialized"),
            &json!("containers with incomplete status: [init-a init-b]")
        )
    );
    let inits: Vec<String> = s["initContainerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(state)
        .collect();
    assert_eq!(inits, ["running", "waiting:PodInitializing"]);
    assert_eq!(state(&s["containerStatuses"][0]), "waiting:PodInitializing");
    c.world.advance(5_000);
    let s = status(&mut c, "app");
    let inits: Vec<String> = s["initContainerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(state)
        .collect();
    assert_eq!(inits, ["terminated:Completed", "running"]);
    c.world.advance(10_000);
    let s = status(&mut c, "app");
    assert_eq!(s["phase"], "Running");
    assert_eq!(condition(&s, "Initialized")["status"], "True");
    assert_eq!(condition(&s, "Ready")["status"], "True");
    assert_eq!(s["initContainerStatuses"][1]["ready"], true);
    assert_eq!(state(&s["containerStatuses"][0]), "running");
    assert_eq!(
        (
            &s["containerStatuses"][0]["restartCount"],
            &s["initContainerStatuses"][0]["restartCount"]
        ),
        (&json!(0), &json!(0)),
        "a first start is not a restart"
    );
    let response = c.send(
        kubecraft_cluster::api::Request::get("/api/v1/namespaces/default/pods/app/log")
            .with_query("container", "init-b"),
    );
    assert_eq!(response.body_text(), "b\n");
}

#[test]
fn a_failing_init_container_is_retried_or_fails_the_pod() {
    let mut c = Cluster::with_world(cluster::start(122));
    run(
        &mut c,
        "retried",
        "Always",
        json!([sh("setup", "exit 1")]),
        json!([{"name": "web", "image": "nginx:1.27"}]),
    );
    run(
        &mut c,
        "given-up",
        "Never",
        json!([sh("setup", "exit 1")]),
        json!([{"name": "web", "image": "nginx:1.27"}]),
    );
    c.world.advance(20_000);
    let retried = status(&mut c, "retried");
    assert_eq!(retried["phase"], "Pending");
    assert_eq!(
        state(&retried["initContainerStatuses"][0]),
        "waiting:CrashLoopBackOff"
    );
    assert!(
        retried["initContainerStatuses"][0]["restartCount"]
            .as_i64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        state(&retried["containerStatuses"][0]),
        "waiting:PodInitializing"
    );
    let given_up = status(&mut c, "given-up");
    assert_eq!(given_up["phase"], "Failed");
    assert_eq!(
        state(&given_up["initContainerStatuses"][0]),
        "terminated:Error"
    );
}

#[test]
fn sidecars_start_in_order_and_keep_running() {
    let mut c = Cluster::with_world(cluster::start(123));
    let mut sidecar = sh("proxy", "echo proxy up; sleep infinity");
    sidecar["restartPolicy"] = json!("Always");
    run(
        &mut c,
        "meshed",
        "Always",
        json!([sidecar, sh("migrate", "sleep 10")]),
        json!([{"name": "web", "image": "nginx:1.27"}]),
    );
    c.world.advance(6_000);
    let s = status(&mut c, "meshed");
    let inits: Vec<String> = s["initContainerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(state)
        .collect();
    assert_eq!(
        inits,
        ["running", "running"],
        "the job starts once the sidecar has"
    );
    c.world.advance(30_000);
    let s = status(&mut c, "meshed");
    let inits: Vec<String> = s["initContainerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(state)
        .collect();
    assert_eq!(inits, ["running", "terminated:Completed"]);
    assert_eq!(state(&s["containerStatuses"][0]), "running");
    assert_eq!(s["initContainerStatuses"][0]["ready"], true);
    assert_eq!(s["phase"], "Running");
    assert_eq!(condition(&s, "Ready")["status"], "True");
}
