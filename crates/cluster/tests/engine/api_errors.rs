//! Every error comes back as upstream's `metav1.Status`, byte for byte.

use crate::common;

use common::{deployment, pod, Cluster};
use kubecraft_cluster::api::Request;
use serde_json::json;

#[test]
fn not_found_status_body_is_upstreams() {
    let mut c = Cluster::new();
    let response = c.send(Request::get("/api/v1/namespaces/default/pods/x"));
    assert_eq!(response.status, 404);
    assert_eq!(
        response.body_text(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}"#
    );
    let (code, body) = c.get("/apis/apps/v1/namespaces/default/deployments/web");
    assert_eq!(code, 404);
    assert_eq!(body["message"], "deployments.apps \"web\" not found");
    assert_eq!(
        body["details"],
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );
}

#[test]
fn unknown_paths_and_resources_are_404_not_found() {
    let mut c = Cluster::new();
    for path in [
        "/api/v1/namespaces/default/foos",
        "/apis/nope/v1",
        "/nothing/here",
    ] {
        let response = c.send(Request::get(path));
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(
            response.body_text(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#
        );
    }
}

#[test]
fn already_exists_is_409() {
    let mut c = Cluster::new();
    c.pod("a", json!({}));
    let (code, body) = c.post("/api/v1/namespaces/default/pods", pod("a", json!({})));
    assert_eq!(code, 409);
    assert_eq!(body["reason"], "AlreadyExists");
    assert_eq!(body["message"], "pods \"a\" already exists");
}

#[test]
fn stale_resource_version_is_a_conflict_with_upstreams_message() {
    let mut c = Cluster::new();
    let created = c.pod("a", json!({}));
    let mut first = created.clone();
    first["metadata"]["labels"] = json!({"x": "1"});
    let (code, _) = c.put("/api/v1/namespaces/default/pods/a", first);
    assert_eq!(code, 200);
    let mut stale = created;
    stale["metadata"]["labels"] = json!({"x": "2"});
    let (code, body) = c.put("/api/v1/namespaces/default/pods/a", stale);
    assert_eq!(code, 409);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Operation cannot be fulfilled on pods \"a\": the object has been modified; please apply your changes to the latest version and try again",
            "reason": "Conflict", "details": {"name": "a", "kind": "pods"}, "code": 409})
    );
}

#[test]
fn a_stale_body_that_does_not_fit_the_request_is_refused_for_that_first() {
    let mut c = Cluster::new();
    let created = c.pod("a", json!({}));
    let mut first = created.clone();
    first["metadata"]["labels"] = json!({"x": "1"});
    assert_eq!(c.put("/api/v1/namespaces/default/pods/a", first).0, 200);
    let path = "/api/v1/namespaces/default/pods/a";
    let refused = |c: &mut Cluster, change: &dyn Fn(&mut serde_json::Value)| {
        let mut stale = created.clone();
        change(&mut stale);
        let (code, body) = c.put(path, stale);
        (code, body["message"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        refused(&mut c, &|p| p["kind"] = json!("Service")),
        (
            400,
            "the kind in the data (Service) does not match the expected kind (Pod)".into()
        )
    );
    assert_eq!(
        refused(&mut c, &|p| p["apiVersion"] = json!("apps/v1")),
        (
            400,
            "the API version in the data (apps/v1) does not match the expected API version (v1)"
                .into()
        )
    );
    assert_eq!(
        refused(&mut c, &|p| p["metadata"]["name"] = json!("b")),
        (
            400,
            "the name of the object (b) does not match the name on the URL (a)".into()
        )
    );
    assert_eq!(
        refused(&mut c, &|p| p["metadata"]["namespace"] = json!("other")),
        (
            400,
            "the namespace of the provided object does not match the namespace sent on the request"
                .into()
        )
    );
    // Fitting the request, the stale version is what is wrong with it.
    assert_eq!(refused(&mut c, &|_| {}).0, 409);
    assert_eq!(refused(&mut c, &|p| p["kind"] = json!("")).0, 409);
}

#[test]
fn invalid_objects_get_422_with_field_causes() {
    let mut c = Cluster::new();
    let mut bad = deployment("web", -1);
    bad["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let (code, body) = c.post("/apis/apps/v1/namespaces/default/deployments", bad);
    assert_eq!(code, 422);
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(
        body["message"],
        "Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`]"
    );
    assert_eq!(body["details"]["kind"], "Deployment");
    assert_eq!(body["details"]["group"], "apps");
    assert_eq!(
        body["details"]["causes"][0],
        json!({"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0", "field": "spec.replicas"})
    );
}

#[test]
fn invalid_names_and_missing_containers() {
    let mut c = Cluster::new();
    let (code, body) = c.post("/api/v1/namespaces/default/pods", pod("Web_1", json!({})));
    assert_eq!(code, 422);
    assert!(body["message"].as_str().unwrap().starts_with(
        "Pod \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of"
    ));
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "empty"}, "spec": {"containers": []}}),
    );
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Pod \"empty\" is invalid: spec.containers: Required value"
    );
    let (code, body) = c.post(
        "/api/v1/namespaces",
        json!({"metadata": {"name": "Bad.Name"}}),
    );
    assert_eq!(code, 422);
    assert_eq!(body["details"]["causes"][0]["field"], "metadata.name");
}

#[test]
fn malformed_bodies_are_bad_requests_and_store_nothing() {
    let mut c = Cluster::new();
    let before = c.world.api().resource_version();
    let response = c.send(Request::post(
        "/api/v1/namespaces/default/pods",
        "{not json",
    ));
    assert_eq!(response.status, 400);
    assert_eq!(response.body_json()["reason"], "BadRequest");
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": "nginx"}}),
    );
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Pod in version \"v1\" cannot be handled as a Pod:"),
        "{body}"
    );
    let (code, body) = c.post("/api/v1/namespaces/default/pods", deployment("web", 1));
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "the API version in the data (apps/v1) does not match the expected API version (v1)"
    );
    assert_eq!(
        c.world.api().resource_version(),
        before,
        "nothing was written"
    );
}

#[test]
fn unsupported_verbs_are_405() {
    let mut c = Cluster::new();
    let response = c.send(Request::delete("/api/v1/namespaces"));
    assert_eq!(response.status, 405);
    assert_eq!(response.body_json()["reason"], "MethodNotAllowed");
}

#[test]
fn creates_into_missing_or_terminating_namespaces_fail_as_upstream() {
    let mut c = Cluster::new();
    let (code, body) = c.post("/api/v1/namespaces/nowhere/pods", pod("a", json!({})));
    assert_eq!(code, 404);
    assert_eq!(body["message"], "namespaces \"nowhere\" not found");
    c.post("/api/v1/namespaces", json!({"metadata": {"name": "team"}}));
    let (code, ns) = c.delete("/api/v1/namespaces/team");
    assert_eq!(code, 200);
    assert_eq!(ns["status"]["phase"], "Terminating");
    let (code, body) = c.post("/api/v1/namespaces/team/pods", pod("a", json!({})));
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        "pods \"a\" is forbidden: unable to create new content in namespace team because it is being terminated"
    );
    assert_eq!(
        body["details"]["causes"][0]["reason"],
        "NamespaceTerminating"
    );
}

#[test]
fn namespace_mismatch_is_a_bad_request() {
    let mut c = Cluster::new();
    let mut p = pod("a", json!({}));
    p["metadata"]["namespace"] = json!("kube-system");
    let (code, body) = c.post("/api/v1/namespaces/default/pods", p);
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "the namespace of the provided object does not match the namespace sent on the request"
    );
}

#[test]
fn unknown_fields_warn_by_default_and_fail_strict_writes() {
    let mut c = Cluster::new();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
        "spec": {"foo": 1, "containers": [{"name": "c", "image": "nginx", "imagePullPolcy": "Always"}]}});
    let strict = c.send(
        Request::post("/api/v1/namespaces/default/pods", pod.to_string())
            .with_query("fieldValidation", "Strict"),
    );
    assert_eq!(strict.status, 400);
    assert_eq!(
        strict.body_json()["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].imagePullPolcy\", unknown field \"spec.foo\""
    );
    let warned = c.send(Request::post(
        "/api/v1/namespaces/default/pods",
        pod.to_string(),
    ));
    assert_eq!(warned.status, 201);
    let warnings: Vec<&str> = warned
        .headers
        .iter()
        .filter(|(k, _)| k == "Warning")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        warnings,
        [
            r#"299 - "unknown field \"spec.containers[0].imagePullPolcy\"""#,
            r#"299 - "unknown field \"spec.foo\"""#
        ]
    );
    assert!(warned.body_json()["spec"].get("foo").is_none());
    let patch = c.send(
        Request::patch(
            "/api/v1/namespaces/default/pods/typo",
            "application/merge-patch+json",
            r#"{"metadata":{"app":"web"}}"#,
        )
        .with_query("fieldValidation", "Strict"),
    );
    assert_eq!(
        (patch.status, patch.body_json()["message"].as_str()),
        (
            400,
            Some("strict decoding error: unknown field \"metadata.app\"")
        )
    );
    // A status write decodes status through its type too (unknown fields, wrong types).
    let status_path = "/api/v1/namespaces/default/pods/typo/status";
    let strict_status = c.send(
        Request::patch(
            status_path,
            "application/merge-patch+json",
            r#"{"status":{"phase":"Running","podIp":"10.0.0.1"}}"#,
        )
        .with_query("fieldValidation", "Strict"),
    );
    assert_eq!(
        (
            strict_status.status,
            strict_status.body_json()["message"].as_str()
        ),
        (
            400,
            Some("strict decoding error: unknown field \"status.podIp\"")
        )
    );
    let mistyped = c.send(Request::patch(
        status_path,
        "application/merge-patch+json",
        r#"{"status":{"phase":7}}"#,
    ));
    assert_eq!(mistyped.status, 400, "{}", mistyped.body_text());
    let running = c.send(Request::patch(
        status_path,
        "application/merge-patch+json",
        r#"{"status":{"phase":"Running","podIp":"10.0.0.1"}}"#,
    ));
    assert_eq!(running.status, 200);
    assert_eq!(running.body_json()["status"]["phase"], "Running");
    assert!(running.body_json()["status"].get("podIp").is_none());
    let ignored = c.send(
        Request::patch(
            "/api/v1/namespaces/default/pods/typo",
            "application/merge-patch+json",
            r#"{"metadata":{"app":"web"}}"#,
        )
        .with_query("fieldValidation", "Ignore"),
    );
    assert_eq!(ignored.status, 200);
    assert!(ignored.header("warning").is_none());
    let bad = c.send(
        Request::post("/api/v1/namespaces/default/configmaps", "{}")
            .with_query("fieldValidation", "Loud"),
    );
    assert_eq!(
        (bad.status, bad.body_json()["message"].as_str()),
        (
            400,
            Some("fieldValidation: Unsupported value: \"Loud\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"")
        )
    );
}

#[test]
fn workload_status_writes_decode_status_through_its_type() {
    let mut c = Cluster::new();
    let (code, _) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    assert_eq!(code, 201);
    let path = "/apis/apps/v1/namespaces/default/deployments/web/status";
    let patch = |c: &mut Cluster, body: &str, validation: &str| {
        c.send(
            Request::patch(path, "application/merge-patch+json", body)
                .with_query("fieldValidation", validation),
        )
    };
    let strict = patch(
        &mut c,
        r#"{"status":{"replicas":1,"readyReplica":1}}"#,
        "Strict",
    );
    assert_eq!(
        (strict.status, strict.body_json()["message"].as_str()),
        (
            400,
            Some("strict decoding error: unknown field \"status.readyReplica\"")
        )
    );
    // A mistyped status is refused with the message a whole-object decode gives.
    let mistyped = patch(&mut c, r#"{"status":{"replicas":"one"}}"#, "Strict");
    let mut whole = deployment("other", 1);
    whole["status"] = json!({"replicas": "one"});
    let created = c.send(Request::post(
        "/apis/apps/v1/namespaces/default/deployments",
        whole.to_string(),
    ));
    assert_eq!(mistyped.status, 400);
    assert_eq!(created.status, 400);
    assert_eq!(
        mistyped.body_json()["message"],
        created.body_json()["message"]
    );
    // A good one is stored without the unknown field, and moves no generation.
    let written = patch(
        &mut c,
        r#"{"status":{"replicas":1,"readyReplica":1}}"#,
        "Warn",
    );
    assert_eq!(written.status, 200);
    let stored = written.body_json();
    assert_eq!(stored["status"]["replicas"], 1);
    assert!(stored["status"].get("readyReplica").is_none());
    assert_eq!(stored["metadata"]["generation"], 1);
}
