//! The HorizontalPodAutoscaler with simulated load: a request loop against a
//! Service loads its pods, the metrics API reports it, and the autoscaler
//! scales 2 → 6 within its policies, then back down after the stabilization
//! window once the load is gone.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

fn replicas(c: &mut Cluster) -> i64 {
    c.get("/apis/apps/v1/namespaces/default/deployments/php").1["spec"]["replicas"]
        .as_i64()
        .unwrap()
}

fn hpa(c: &mut Cluster) -> Value {
    c.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/php")
        .1
}

/// The `php` Deployment (2 replicas, 100m CPU requests) behind a Service, and an
/// HPA for it (2–6 replicas at 50% CPU) with `behavior`.
fn php_with_hpa(seed: u64, behavior: Value) -> Cluster {
    let mut c = Cluster::with_world(cluster::start(seed));
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "php"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "php"}},
                "template": {"metadata": {"labels": {"app": "php"}},
                    "spec": {"containers": [{"name": "php", "image": "registry.k8s.io/hpa-example",
                        "ports": [{"containerPort": 80}],
                        "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}}]}}}}),
    );
    c.post(
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "php"},
            "spec": {"selector": {"app": "php"}, "ports": [{"port": 80}]}}),
    );
    let (code, body) = c.post(
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "php"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php"},
                "minReplicas": 2, "maxReplicas": 6,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50}}}],
                "behavior": behavior}}),
    );
    assert_eq!(code, 201, "{body}");
    c
}

/// Starts a pod that requests the `php` Service in a loop.
fn start_load(c: &mut Cluster) {
    c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "load-generator"},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "load-generator", "image": "busybox:1.28",
                "command": ["/bin/sh", "-c", "while sleep 0.01; do wget -q -O- http://php; done"]}]}}),
    );
}

#[test]
fn load_scales_a_deployment_from_two_to_six_and_back() {
    let mut c = php_with_hpa(131, json!(null));
    c.world.advance(60_000);
    assert_eq!(replicas(&mut c), 2);
    let status = hpa(&mut c)["status"].clone();
    let idle = status["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
        .as_i64()
        .unwrap();
    assert!(idle <= 3, "idle pods use a little: {idle}%");
    let (_, metrics) =
        c.get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dphp");
    assert_eq!(metrics["kind"], "PodMetricsList");
    assert_eq!(metrics["items"].as_array().unwrap().len(), 2);

    start_load(&mut c);
    c.world.advance(60_000);
    assert_eq!(replicas(&mut c), 6);
    let (_, metrics) =
        c.get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dphp");
    let usages: Vec<&str> = metrics["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["containers"][0]["usage"]["cpu"].as_str().unwrap())
        .collect();
    assert_eq!(usages.len(), 6);
    assert!(
        usages
            .iter()
            .all(|u| u.starts_with("10") || u.starts_with("11")),
        "650m shared by six pods: {usages:?}"
    );
    assert_eq!(
        c.events("php", "SuccessfulRescale")[0],
        "New size: 6; reason: cpu resource utilization (percentage of request) above target"
    );
    let limited = hpa(&mut c)["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ScalingLimited")
        .unwrap()
        .clone();
    assert_eq!(limited["reason"], "TooManyReplicas");

    c.delete("/api/v1/namespaces/default/pods/load-generator");
    c.world.advance(120_000);
    assert_eq!(
        replicas(&mut c),
        6,
        "scale-down waits out the 5-minute stabilization window"
    );
    c.world.advance(300_000);
    assert_eq!(replicas(&mut c), 2);
    assert!(c
        .events("php", "SuccessfulRescale")
        .contains(&"New size: 2; reason: All metrics below target".to_string()));
}

#[test]
fn a_shorter_scale_down_stabilization_window_scales_down_sooner() {
    let behavior = json!({"scaleDown": {"stabilizationWindowSeconds": 60}});
    let mut c = php_with_hpa(132, behavior);
    start_load(&mut c);
    c.world.advance(120_000);
    assert_eq!(replicas(&mut c), 6);
    c.delete("/api/v1/namespaces/default/pods/load-generator");
    c.world.advance(30_000);
    assert_eq!(replicas(&mut c), 6, "within the 60 s window");
    c.world.advance(60_000);
    assert_eq!(replicas(&mut c), 2, "the window is over");
}
