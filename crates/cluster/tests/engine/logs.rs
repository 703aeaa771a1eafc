//! `GET pods/{name}/log`: what a container printed, which run is read, the
//! options that filter it, and upstream's refusals.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::json;

fn run_pod(c: &mut Cluster, name: &str, policy: &str, containers: serde_json::Value) {
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"restartPolicy": policy, "containers": containers},
        }),
    );
    assert_eq!(code, 201, "{body}");
}

fn shell(name: &str, script: &str) -> serde_json::Value {
    json!({"name": name, "image": "busybox:1.36", "command": ["sh", "-c", script]})
}

/// The log response: status and body text.
fn log(c: &mut Cluster, pod: &str, query: &[(&str, &str)]) -> (u16, String) {
    let mut req = Request::get(format!("/api/v1/namespaces/default/pods/{pod}/log"));
    for (k, v) in query {
        req = req.with_query(k, *v);
    }
    let response = c.send(req);
    let text = if response.is_success() {
        response.body_text().to_string()
    } else {
        response.status_message()
    };
    (response.status, text)
}

fn started_at(c: &mut Cluster, pod: &str) -> jiff::Timestamp {
    let (_, p) = c.get(&format!("/api/v1/namespaces/default/pods/{pod}"));
    p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
        .as_str()
        .expect("running")
        .parse()
        .unwrap()
}

#[test]
fn a_looping_container_logs_each_pass_and_the_options_filter_it() {
    let mut c = Cluster::with_world(cluster::start(71));
    run_pod(
        &mut c,
        "ticker",
        "Always",
        json!([shell("main", "while true; do echo tick; sleep 1; done")]),
    );
    c.world.advance(30_000);
    let started = started_at(&mut c, "ticker");
    let now = c.world.now().timestamp(c.world.api().epoch_unix_ms());
    let seconds = (now.as_second() - started.as_second()) as usize;
    let (code, all) = log(&mut c, "ticker", &[]);
    assert_eq!(code, 200);
    assert_eq!(
        all,
        "tick\n".repeat(seconds + 1),
        "one tick per second since start"
    );
    assert_eq!(
        log(&mut c, "ticker", &[("tailLines", "2")]).1,
        "tick\ntick\n"
    );
    assert_eq!(log(&mut c, "ticker", &[("limitBytes", "7")]).1, "tick\nti");
    let (_, stamped) = log(
        &mut c,
        "ticker",
        &[("timestamps", "true"), ("tailLines", "1")],
    );
    let last_tick = jiff::Timestamp::from_second(started.as_second() + seconds as i64).unwrap();
    assert_eq!(
        stamped,
        format!("{} tick\n", last_tick.strftime("%Y-%m-%dT%H:%M:%SZ"))
    );
    let (_, recent) = log(&mut c, "ticker", &[("sinceSeconds", "3")]);
    assert!((3..=4).contains(&recent.lines().count()), "{recent:?}");
    let since = jiff::Timestamp::from_second(started.as_second() + 10)
        .unwrap()
        .to_string();
    let (_, since_time) = log(&mut c, "ticker", &[("sinceTime", since.as_str())]);
    assert_eq!(since_time.lines().count(), seconds + 1 - 10);
}

#[test]
fn a_crash_looping_container_shows_its_last_run_and_previous_reads_it_too() {
    let mut c = Cluster::with_world(cluster::start(72));
    run_pod(
        &mut c,
        "crash",
        "Always",
        json!([shell("main", "echo boom; exit 1")]),
    );
    run_pod(
        &mut c,
        "steady",
        "Always",
        json!([shell("main", "echo up; sleep infinity")]),
    );
    c.world.advance(5_000);
    let (_, pod) = c.get("/api/v1/namespaces/default/pods/crash");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(log(&mut c, "crash", &[]), (200, "boom\n".into()));
    assert_eq!(
        log(&mut c, "crash", &[("previous", "true")]),
        (200, "boom\n".into())
    );
    assert_eq!(log(&mut c, "steady", &[]), (200, "up\n".into()));
    assert_eq!(
        log(&mut c, "steady", &[("previous", "true")]),
        (
            400,
            "previous terminated container \"main\" in pod \"steady\" not found".into()
        )
    );
}

#[test]
fn log_requests_are_refused_in_upstreams_words() {
    let mut c = Cluster::with_world(cluster::start(73));
    run_pod(
        &mut c,
        "pair",
        "Always",
        json!([
            shell("web", "sleep infinity"),
            shell("sidecar", "sleep infinity")
        ]),
    );
    assert_eq!(
        log(&mut c, "pair", &[("container", "web")]),
        (200, String::new()),
        "not scheduled yet: no kubelet to ask, an empty log"
    );
    c.world.advance(100);
    let (_, pod) = c.get("/api/v1/namespaces/default/pods/pair");
    assert!(pod["spec"]["nodeName"].is_string(), "bound: {pod}");
    assert_eq!(
        log(&mut c, "pair", &[("container", "web")]),
        (
            400,
            "container \"web\" in pod \"pair\" is waiting to start: ContainerCreating".into()
        )
    );
    assert_eq!(
        log(&mut c, "pair", &[]),
        (
            400,
            "a container name must be specified for pod pair, choose one of: [web sidecar]".into()
        )
    );
    assert_eq!(
        log(&mut c, "pair", &[("container", "nope")]),
        (400, "container nope is not valid for pod pair".into())
    );
    assert_eq!(
        log(&mut c, "pair", &[("container", "web"), ("tailLines", "-1")]),
        (
            422,
            "PodLogOptions \"pair\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0".into()
        )
    );
    assert_eq!(
        log(&mut c, "missing", &[]),
        (404, "pods \"missing\" not found".into())
    );
}
