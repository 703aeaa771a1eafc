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

#[test]
fn init_containers_waiting_for_services_finish_once_their_names_resolve() {
    let mut c = Cluster::with_world(cluster::start(94));
    let wait_for = |service: &str| {
        sh(
            &format!("init-{service}"),
            &format!("until nslookup {service}.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do echo waiting for {service}; sleep 2; done"),
        )
    };
    run(
        &mut c,
        "myapp-pod",
        "Always",
        json!([wait_for("myservice"), wait_for("mydb")]),
        json!([sh(
            "myapp-container",
            "echo The app is running! && sleep 3600"
        )]),
    );
    c.world.advance(30_000);
    let s = status(&mut c, "myapp-pod");
    assert_eq!(state(&s["initContainerStatuses"][0]), "running");
    assert_eq!(condition(&s, "Initialized")["status"], "False");
    let log = c
        .send(
            kubecraft_cluster::api::Request::get("/api/v1/namespaces/default/pods/myapp-pod/log")
                .with_query("container", "init-myservice")
                .with_query("tailLines", "2"),
        )
        .into_body_text();
    assert_eq!(
        log,
        "nslookup: can't resolve 'myservice.default.svc.cluster.local'\nwaiting for myservice\n"
    );
    let service = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"protocol": "TCP", "port": 80, "targetPort": 9376}]}})
    };
    c.post("/api/v1/namespaces/default/services", service("myservice"));
    c.world.advance(5_000);
    let s = status(&mut c, "myapp-pod");
    assert_eq!(
        state(&s["initContainerStatuses"][0]),
        "terminated:Completed"
    );
    assert_eq!(
        state(&s["initContainerStatuses"][1]),
        "running",
        "it waits for mydb"
    );
    c.post("/api/v1/namespaces/default/services", service("mydb"));
    c.world.advance(5_000);
    let s = status(&mut c, "myapp-pod");
    assert_eq!(s["phase"], "Running");
    assert_eq!(condition(&s, "Initialized")["status"], "True");
    let lookups = c
        .world
        .trace()
        .entries()
        .filter(|e| matches!(&e.kind, kubecraft_cluster::sim::TraceKind::Call { actor, .. } if actor == "coredns"))
        .count();
    assert!(lookups >= 15, "one lookup a pass, every 2 s: {lookups}");
}
