//! Image pulls the registry refuses: `ErrImagePull`, the pull back-off
//! (`ImagePullBackOff`), and what the rest of the pod does meanwhile.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

fn pod_with(name: &str, init: Option<&str>, images: &[(&str, &str)]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .map(|(name, image)| json!({"name": name, "image": image}))
        .collect();
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": containers},
    });
    if let Some(image) = init {
        pod["spec"]["initContainers"] =
            json!([{"name": "init", "image": image, "command": ["true"]}]);
    }
    pod
}

/// The status of the container `name` (among init containers when `init`).
fn container_status(pod: &Value, name: &str, init: bool) -> Value {
    let list = if init {
        "initContainerStatuses"
    } else {
        "containerStatuses"
    };
    pod["status"][list]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
        .clone()
}

fn condition(pod: &Value, kind: &str) -> Value {
    pod["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap()
        .clone()
}

#[test]
fn failed_pulls_back_off_from_ten_seconds_doubling_to_five_minutes() {
    let mut c = Cluster::with_world(cluster::start(71));
    c.create_pod(pod_with("bad", None, &[("web", "nginx:doesnotexist")]));
    // The second of each failed pull: the container's waiting reason turns
    // ErrImagePull (from ContainerCreating, then from ImagePullBackOff).
    let mut failures = Vec::new();
    let mut last = String::new();
    for second in 1..=1_800 {
        c.world.advance(1_000);
        let pod = c.get("/api/v1/namespaces/default/pods/bad").1;
        let waiting = &container_status(&pod, "web", false)["state"]["waiting"];
        let reason = waiting["reason"].as_str().unwrap_or("").to_string();
        if reason == "ErrImagePull" && last != reason {
            failures.push(second);
        }
        last = reason;
    }
    let gaps: Vec<i64> = failures.windows(2).map(|w| w[1] - w[0]).collect();
    // A pull waits out the back-off after the last failure (10 s, doubling to
    // 300 s), plus the pod worker's 10–15 s resync and the pull's own second or
    // so. The second failure is not seen: the first resync already finds the
    // 10 s over, so the reason stays ErrImagePull; the first gap spans 10 + 20 s.
    let waits = [30, 40, 80, 160, 300, 300];
    let slack = [33, 18, 18, 18, 18, 18];
    assert!(failures[0] <= 5, "{failures:?}");
    assert!(gaps.len() >= waits.len(), "{failures:?}");
    for ((gap, wait), slack) in gaps.iter().zip(waits).zip(slack) {
        assert!(
            (wait..=wait + slack).contains(gap),
            "gaps {gaps:?} against waits {waits:?}"
        );
    }
    let pod = c.get("/api/v1/namespaces/default/pods/bad").1;
    assert_eq!(pod["status"]["phase"], "Pending");
    let waiting = &container_status(&pod, "web", false)["state"]["waiting"];
    assert_eq!(waiting["reason"], "ImagePullBackOff");
    assert_eq!(
        waiting["message"],
        "Back-off pulling image \"nginx:doesnotexist\": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:doesnotexist\": failed to resolve reference \"docker.io/library/nginx:doesnotexist\": docker.io/library/nginx:doesnotexist: not found"
    );
    assert_eq!(c.event_count("bad", "Pulled"), 0);
}

#[test]
fn a_container_whose_image_fails_holds_the_pod_pending_while_the_others_run() {
    let mut c = Cluster::with_world(cluster::start(72));
    c.create_pod(pod_with(
        "half",
        None,
        &[("web", "nginx:1.27"), ("side", "ngnix:1.27")],
    ));
    c.world.advance(30_000);
    let pod = c.get("/api/v1/namespaces/default/pods/half").1;
    assert_eq!(pod["status"]["phase"], "Pending");
    assert!(container_status(&pod, "web", false)["state"]["running"].is_object());
    let side = container_status(&pod, "side", false);
    let reason = side["state"]["waiting"]["reason"].as_str().unwrap();
    assert!(
        ["ErrImagePull", "ImagePullBackOff"].contains(&reason),
        "{side}"
    );
    assert_eq!(
        (side["ready"].as_bool(), side["image"].as_str()),
        (Some(false), Some("ngnix:1.27"))
    );
    let ready = condition(&pod, "Ready");
    assert_eq!(
        (ready["status"].as_str(), ready["message"].as_str()),
        (
            Some("False"),
            Some("containers with unready status: [side]")
        )
    );
    let (_, table) = c.json(
        kubecraft_cluster::api::Request::get("/api/v1/namespaces/default/pods/half")
            .with_header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"),
    );
    assert_eq!(table["rows"][0]["cells"][1], "1/2");
}

#[test]
fn an_init_container_whose_image_fails_keeps_the_pod_initializing() {
    let mut c = Cluster::with_world(cluster::start(73));
    c.create_pod(pod_with(
        "init",
        Some("busybox:nope"),
        &[("web", "nginx:1.27")],
    ));
    c.world.advance(30_000);
    let pod = c.get("/api/v1/namespaces/default/pods/init").1;
    assert_eq!(pod["status"]["phase"], "Pending");
    let init = container_status(&pod, "init", true);
    assert!(init["state"]["waiting"]["reason"]
        .as_str()
        .is_some_and(|r| r == "ErrImagePull" || r == "ImagePullBackOff"));
    assert_eq!(
        container_status(&pod, "web", false)["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    assert_eq!(condition(&pod, "Initialized")["status"], "False");
    assert_eq!(c.event_count("init", "Started"), 0);
}

#[test]
fn a_pod_given_an_image_that_exists_starts_at_its_next_retry() {
    let mut c = Cluster::with_world(cluster::start(74));
    c.create_pod(pod_with("fixme", None, &[("web", "nginx:lates")]));
    c.world.advance(5_000);
    let (code, body) = c.patch(
        "/api/v1/namespaces/default/pods/fixme",
        "application/strategic-merge-patch+json",
        json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}),
    );
    assert_eq!(code, 200, "{body}");
    c.world.advance(20_000);
    let pod = c.get("/api/v1/namespaces/default/pods/fixme").1;
    assert_eq!(pod["status"]["phase"], "Running");
    let web = container_status(&pod, "web", false);
    assert_eq!(web["image"], "docker.io/library/nginx:1.27");
    assert_eq!(web["ready"], true);
    assert_eq!(
        c.events("fixme", "Pulling"),
        [
            "Pulling image \"nginx:lates\"",
            "Pulling image \"nginx:1.27\""
        ]
    );
}

#[test]
fn a_restored_kubelet_keeps_trying_for_the_image_a_running_pod_lacks() {
    let mut c = Cluster::with_world(cluster::start(75));
    c.create_pod(pod_with(
        "half",
        None,
        &[("web", "nginx:1.27"), ("side", "redis:nope")],
    ));
    c.world.advance(30_000);
    let mut restored = Cluster::with_world(cluster::restore(&c.world.snapshot()).unwrap());
    let (code, body) = restored.patch(
        "/api/v1/namespaces/default/pods/half",
        "application/strategic-merge-patch+json",
        json!({"spec": {"containers": [{"name": "side", "image": "redis:7.2"}]}}),
    );
    assert_eq!(code, 200, "{body}");
    restored.world.advance(30_000);
    let pod = restored.get("/api/v1/namespaces/default/pods/half").1;
    assert_eq!(pod["status"]["phase"], "Running");
    assert!(container_status(&pod, "side", false)["state"]["running"].is_object());
}
