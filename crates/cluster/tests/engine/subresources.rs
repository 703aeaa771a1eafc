//! scale, binding and eviction subresources.

use crate::common;

use common::{deployment, Cluster};
use serde_json::json;

#[test]
fn scale_subresource_reads_and_writes_replicas() {
    let mut c = Cluster::new();
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 2),
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web/scale";
    let (code, scale) = c.get(path);
    assert_eq!(code, 200);
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 2);
    assert_eq!(scale["status"]["selector"], "app=web");
    let (code, scale) = c.patch(
        path,
        "application/merge-patch+json",
        json!({"spec": {"replicas": 5}}),
    );
    assert_eq!(code, 200);
    assert_eq!(scale["spec"]["replicas"], 5);
    let (_, d) = c.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(d["spec"]["replicas"], 5);
    assert_eq!(d["metadata"]["generation"], 2);
    let (code, body) = c.put(
        path,
        json!({"metadata": {"name": "web"}, "spec": {"replicas": -1}}),
    );
    assert_eq!(code, 422);
    assert_eq!(body["message"], "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0");
}

#[test]
fn binding_assigns_once_and_marks_pod_scheduled() {
    let mut c = Cluster::new();
    c.pod("p", json!({}));
    let binding = json!({"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-2"}});
    let (code, status) = c.post("/api/v1/namespaces/default/pods/p/binding", binding.clone());
    assert_eq!(code, 201);
    assert_eq!(status["status"], "Success");
    let (_, pod) = c.get("/api/v1/namespaces/default/pods/p");
    assert_eq!(pod["spec"]["nodeName"], "node-2");
    assert_eq!(pod["status"]["conditions"][0]["type"], "PodScheduled");
    assert_eq!(pod["status"]["conditions"][0]["status"], "True");
    let (code, body) = c.post("/api/v1/namespaces/default/pods/p/binding", binding);
    assert_eq!(code, 409);
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-2\""
    );
}

/// As upstream's BindingREST does, a Binding's annotations are copied onto the pod
/// (beside those it has); annotations that are not strings are refused whole.
#[test]
fn a_bindings_annotations_are_copied_onto_the_pod() {
    let mut c = Cluster::new();
    let pods = "/api/v1/namespaces/default/pods";
    let (code, body) = c.post(
        pods,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "annotations": {"team": "blue", "tier": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
    );
    assert_eq!(code, 201, "{body}");
    let bad = json!({"metadata": {"name": "p", "annotations": {"note": 1}},
        "target": {"kind": "Node", "name": "node-2"}});
    let (code, body) = c.post(&format!("{pods}/p/binding"), bad);
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "Binding in version \"v1\" cannot be handled as a Binding: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations of type string"
    );
    let (_, pod) = c.get(&format!("{pods}/p"));
    assert_eq!(
        pod["spec"]["nodeName"],
        json!(null),
        "a refused binding binds nothing"
    );
    let binding = json!({"metadata": {"name": "p", "annotations": {"tier": "cache", "why": "fits"}},
        "target": {"kind": "Node", "name": "node-2"}});
    let (code, _) = c.post(&format!("{pods}/p/binding"), binding);
    assert_eq!(code, 201);
    let (_, pod) = c.get(&format!("{pods}/p"));
    assert_eq!(pod["spec"]["nodeName"], "node-2");
    assert_eq!(
        pod["metadata"]["annotations"],
        json!({"team": "blue", "tier": "cache", "why": "fits"})
    );
}

#[test]
fn eviction_is_refused_with_429_when_a_budget_allows_no_disruption() {
    let mut c = Cluster::new();
    c.pod("p", json!({"app": "web"}));
    c.pod("pending", json!({"app": "web"}));
    c.patch(
        "/api/v1/namespaces/default/pods/p/status",
        "application/merge-patch+json",
        json!({"status": {"phase": "Running"}}),
    );
    c.post(
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
    );
    c.put(
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web/status",
        json!({"metadata": {"name": "web"}, "status": {"disruptionsAllowed": 0, "desiredHealthy": 1, "currentHealthy": 1, "expectedPods": 1, "observedGeneration": 0}}),
    );
    let evict = |name: &str| json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "default"}});
    let (code, body) = c.post("/api/v1/namespaces/default/pods/p/eviction", evict("p"));
    assert_eq!(
        (code, body["details"]["causes"][0]["message"].as_str()),
        (
            429,
            Some("The disruption budget web is still being processed by the server.")
        ),
        "a budget its controller has not counted yet protects everything"
    );
    c.patch(
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web/status",
        "application/merge-patch+json",
        json!({"status": {"observedGeneration": 1}}),
    );
    let (code, _) = c.post(
        "/api/v1/namespaces/default/pods/pending/eviction",
        evict("pending"),
    );
    assert_eq!(
        code, 201,
        "a pending pod is evicted whatever the budget says"
    );
    let eviction = evict("p");
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods/p/eviction",
        eviction.clone(),
    );
    assert_eq!(code, 429);
    assert_eq!(
        body["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        body["details"]["causes"][0]["message"],
        "The disruption budget web needs 1 healthy pods and has 1 currently"
    );
    c.patch(
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web/status",
        "application/merge-patch+json",
        json!({"status": {"disruptionsAllowed": 1}}),
    );
    let (code, _) = c.post("/api/v1/namespaces/default/pods/p/eviction", eviction);
    assert_eq!(code, 201);
    assert_eq!(c.get("/api/v1/namespaces/default/pods/p").0, 404);
}
