//! Lists (selectors, indexes, pagination with consistent snapshots) and watches
//! (resume, 410 after compaction, bookmarks, selector transitions, node scoping).

use crate::common;

use common::{names, rv, Cluster};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::apiserver::watch::EventType;
use kubecraft_cluster::apiserver::ApiServer;
use kubecraft_cluster::sim::World;
use serde_json::{json, Value};

fn bind(c: &mut Cluster, pod: &str, node: &str) {
    let (code, body) = c.post(
        &format!("/api/v1/namespaces/default/pods/{pod}/binding"),
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod}, "target": {"kind": "Node", "name": node}}),
    );
    assert_eq!(code, 201, "{body}");
}

fn list(c: &mut Cluster, query: &[(&str, &str)]) -> (u16, Value) {
    let mut req = Request::get("/api/v1/namespaces/default/pods");
    for (k, v) in query {
        req = req.with_query(k, *v);
    }
    c.json(req)
}

#[test]
fn label_selectors_equality_and_set_based() {
    let mut c = Cluster::new();
    c.pod("a", json!({"app": "web", "tier": "front"}));
    c.pod("b", json!({"app": "web"}));
    c.pod("c", json!({"app": "db"}));
    let cases = [
        ("app=web", vec!["a", "b"]),
        ("app!=web", vec!["c"]),
        ("app in (db,web),tier", vec!["a"]),
        ("app notin (web)", vec!["c"]),
        ("!tier", vec!["b", "c"]),
    ];
    for (selector, expected) in cases {
        let (code, body) = list(&mut c, &[("labelSelector", selector)]);
        assert_eq!(code, 200);
        assert_eq!(names(&body), expected, "{selector}");
    }
    let (code, body) = list(&mut c, &[("labelSelector", "app in web")]);
    assert_eq!(code, 400, "{body}");
}

#[test]
fn field_selectors_on_node_name_phase_and_unsupported_fields() {
    let mut c = Cluster::new();
    for name in ["a", "b", "c"] {
        c.pod(name, json!({}));
    }
    bind(&mut c, "a", "node-1");
    bind(&mut c, "c", "node-1");
    let (_, body) = list(&mut c, &[("fieldSelector", "spec.nodeName=node-1")]);
    assert_eq!(names(&body), vec!["a", "c"]);
    let (_, body) = list(&mut c, &[("fieldSelector", "spec.nodeName=")]);
    assert_eq!(names(&body), vec!["b"]);
    let (_, body) = list(
        &mut c,
        &[("fieldSelector", "status.phase=Pending,metadata.name!=a")],
    );
    assert_eq!(names(&body), vec!["b", "c"]);
    let (code, body) = list(&mut c, &[("fieldSelector", "spec.foo=bar")]);
    assert_eq!(code, 400);
    assert_eq!(body["message"], "field label not supported: spec.foo");
}

#[test]
fn pagination_is_consistent_across_writes_and_expires_after_compaction() {
    let mut c = Cluster::new();
    for i in 0..5 {
        c.pod(&format!("p{i}"), json!({}));
    }
    let (_, page1) = list(&mut c, &[("limit", "2")]);
    assert_eq!(names(&page1), vec!["p0", "p1"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    // Changes after the first page do not show in later pages.
    c.delete("/api/v1/namespaces/default/pods/p3");
    c.pod("p2a", json!({}));
    let (_, page2) = list(&mut c, &[("limit", "2"), ("continue", &token)]);
    assert_eq!(names(&page2), vec!["p2", "p3"]);
    assert_eq!(
        page2["metadata"]["resourceVersion"],
        page1["metadata"]["resourceVersion"]
    );
    let token2 = page2["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, page3) = list(&mut c, &[("limit", "2"), ("continue", &token2)]);
    assert_eq!(names(&page3), vec!["p4"]);
    assert!(page3["metadata"].get("continue").is_none());
    // Once history is compacted past the snapshot, the token has expired.
    let mut small = Cluster::with_world(World::with_api_server(
        1,
        ApiServer::with_history_capacity(3),
    ));
    for i in 0..3 {
        small.pod(&format!("p{i}"), json!({}));
    }
    let (_, first) = list(&mut small, &[("limit", "1")]);
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    for i in 3..8 {
        small.pod(&format!("p{i}"), json!({}));
    }
    let (code, body) = list(&mut small, &[("limit", "1"), ("continue", &token)]);
    assert_eq!(code, 410, "{body}");
    assert_eq!(body["reason"], "Expired");
}

#[test]
fn exact_lists_read_the_past_and_newer_versions_than_stored_time_out() {
    let mut c = Cluster::new();
    c.pod("a", json!({"app": "web"}));
    c.pod("b", json!({}));
    let then = c.world.api().resource_version();
    c.pod("c", json!({}));
    c.patch(
        "/api/v1/namespaces/default/pods/a",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "db"}}}),
    );
    c.delete("/api/v1/namespaces/default/pods/b");
    let at = then.to_string();
    let (code, body) = list(
        &mut c,
        &[("resourceVersion", &at), ("resourceVersionMatch", "Exact")],
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(names(&body), vec!["a", "b"]);
    assert_eq!(body["items"][0]["metadata"]["labels"]["app"], "web");
    assert_eq!(body["metadata"]["resourceVersion"], at.as_str());
    // Exact pages continue from the same past state.
    let (_, first) = list(
        &mut c,
        &[
            ("resourceVersion", &at),
            ("resourceVersionMatch", "Exact"),
            ("limit", "1"),
        ],
    );
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    let (_, second) = list(&mut c, &[("limit", "1"), ("continue", &token)]);
    assert_eq!(names(&second), vec!["b"]);
    // NotOlderThan (or no match at all) serves the latest state.
    for query in [
        vec![("resourceVersion", at.as_str())],
        vec![
            ("resourceVersion", at.as_str()),
            ("resourceVersionMatch", "NotOlderThan"),
        ],
    ] {
        let (code, body) = list(&mut c, &query);
        assert_eq!(code, 200);
        assert_eq!(names(&body), vec!["a", "c"]);
    }
    let current = c.world.api().resource_version();
    let future = (current + 10).to_string();
    let (code, body) = list(&mut c, &[("resourceVersion", &future)]);
    assert_eq!(code, 504);
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("Timeout: Too large resource version: {future}, current: {current}"),
            "reason": "Timeout",
            "details": {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1},
            "code": 504})
    );
    // Once history is compacted past it, the exact state is gone.
    let mut small = Cluster::with_world(World::with_api_server(
        1,
        ApiServer::with_history_capacity(2),
    ));
    small.pod("p0", json!({}));
    let old = small.world.api().resource_version().to_string();
    for i in 1..5 {
        small.pod(&format!("p{i}"), json!({}));
    }
    let (code, body) = list(
        &mut small,
        &[("resourceVersion", &old), ("resourceVersionMatch", "Exact")],
    );
    assert_eq!(code, 410, "{body}");
    assert_eq!(
        body["message"],
        "The resourceVersion for the provided list is too old."
    );
}

#[test]
fn a_get_at_a_resource_version_is_served_at_least_that_fresh() {
    let mut c = Cluster::new();
    c.pod("a", json!({}));
    let current = c.world.api().resource_version();
    let path = "/api/v1/namespaces/default/pods/a";
    for ok in ["0", "1", &current.to_string()] {
        let (code, body) = c.json(Request::get(path).with_query("resourceVersion", ok));
        assert_eq!(code, 200, "{ok}: {body}");
    }
    let (code, body) = c.json(Request::get(path).with_query("resourceVersion", "999999"));
    assert_eq!(code, 504);
    assert_eq!(
        body["message"],
        format!("Timeout: Too large resource version: 999999, current: {current}")
    );
    let (code, _) = c.json(Request::get(path).with_query("resourceVersion", "x"));
    assert_eq!(code, 400);
}

#[test]
fn list_options_are_validated_as_upstream() {
    let mut c = Cluster::new();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("resourceVersionMatch", "Exact")],
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
        ),
        (
            &[("resourceVersion", "0"), ("resourceVersionMatch", "Exact")],
            r#"resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0""#,
        ),
        (
            &[("resourceVersion", "1"), ("resourceVersionMatch", "Newest")],
            r#"resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", """#,
        ),
        (
            &[("sendInitialEvents", "true")],
            "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
        ),
        (
            &[("watch", "true"), ("sendInitialEvents", "true")],
            "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ),
    ];
    for (query, detail) in cases {
        let (code, body) = list(&mut c, query);
        assert_eq!(code, 422, "{query:?}: {body}");
        assert_eq!(
            body["message"],
            format!(r#"ListOptions.meta.k8s.io "" is invalid: {detail}"#)
        );
        assert_eq!(body["details"]["kind"], "ListOptions");
        assert!(body["details"].get("name").is_none());
    }
    let (code, body) = list(&mut c, &[("resourceVersion", "abc")]);
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        r#"resourceVersion: Invalid value: "abc": must be a non-negative integer"#
    );
}

fn watch(c: &mut Cluster, query: &[(&str, &str)]) -> kubecraft_cluster::apiserver::watch::WatchId {
    let mut req = Request::get("/api/v1/namespaces/default/pods").with_query("watch", "true");
    for (k, v) in query {
        req = req.with_query(k, *v);
    }
    let response = c.send(req);
    assert_eq!(response.status, 200);
    response.watch_id().expect("a watch")
}

fn events(
    c: &mut Cluster,
    id: kubecraft_cluster::apiserver::watch::WatchId,
) -> Vec<(EventType, String)> {
    c.world
        .take_watch_events(id)
        .into_iter()
        .map(|e| {
            let obj: Value = serde_json::from_str(&e.object).unwrap();
            let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            (e.event_type, name)
        })
        .collect()
}

#[test]
fn watch_resumes_from_a_resource_version() {
    let mut c = Cluster::new();
    let a = c.pod("a", json!({}));
    c.pod("b", json!({}));
    c.delete("/api/v1/namespaces/default/pods/a");
    let id = watch(&mut c, &[("resourceVersion", &rv(&a).to_string())]);
    assert_eq!(
        events(&mut c, id),
        vec![
            (EventType::Added, "b".into()),
            (EventType::Deleted, "a".into())
        ]
    );
    c.pod("c", json!({}));
    assert_eq!(events(&mut c, id), vec![(EventType::Added, "c".into())]);
}

#[test]
fn watch_without_resource_version_starts_with_synthetic_adds() {
    let mut c = Cluster::new();
    c.pod("a", json!({}));
    let id = watch(&mut c, &[]);
    assert_eq!(events(&mut c, id), vec![(EventType::Added, "a".into())]);
}

#[test]
fn watch_from_a_compacted_resource_version_gets_410_expired() {
    let mut c = Cluster::with_world(World::with_api_server(
        1,
        ApiServer::with_history_capacity(2),
    ));
    let a = c.pod("a", json!({}));
    for name in ["b", "c", "d"] {
        c.pod(name, json!({}));
    }
    let id = watch(&mut c, &[("resourceVersion", &rv(&a).to_string())]);
    let received = c.world.take_watch_events(id);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].event_type, EventType::Error);
    let status: Value = serde_json::from_str(&received[0].object).unwrap();
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");
    assert!(status["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("too old resource version: {}", rv(&a))));
}

#[test]
fn bookmarks_on_request() {
    let mut c = Cluster::new();
    c.pod("a", json!({}));
    let id = watch(
        &mut c,
        &[
            ("sendInitialEvents", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
        ],
    );
    let got = c.world.take_watch_events(id);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].event_type, EventType::Bookmark);
    let bookmark: Value = serde_json::from_str(&got[1].object).unwrap();
    assert_eq!(
        bookmark["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    // Periodic bookmarks come every virtual minute.
    c.world.advance(61_000);
    let periodic = c.world.take_watch_events(id);
    assert_eq!(periodic.len(), 1);
    assert_eq!(periodic[0].event_type, EventType::Bookmark);
}

#[test]
fn label_changes_move_objects_in_and_out_of_a_selective_watch() {
    let mut c = Cluster::new();
    c.pod("a", json!({"app": "web"}));
    let from = c.world.api().resource_version().to_string();
    let id = watch(
        &mut c,
        &[("labelSelector", "app=web"), ("resourceVersion", &from)],
    );
    let path = "/api/v1/namespaces/default/pods/a";
    c.patch(
        path,
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "db"}}}),
    );
    c.patch(
        path,
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "web"}}}),
    );
    c.patch(
        path,
        "application/merge-patch+json",
        json!({"metadata": {"annotations": {"x": "y"}}}),
    );
    assert_eq!(
        events(&mut c, id),
        vec![
            (EventType::Deleted, "a".into()),
            (EventType::Added, "a".into()),
            (EventType::Modified, "a".into())
        ]
    );
}

#[test]
fn node_scoped_watchers_see_only_their_nodes_pods() {
    let mut c = Cluster::new();
    let rv_now = c.world.api().resource_version().to_string();
    let node1 = watch(
        &mut c,
        &[
            ("fieldSelector", "spec.nodeName=node-1"),
            ("resourceVersion", &rv_now),
        ],
    );
    let node2 = watch(
        &mut c,
        &[
            ("fieldSelector", "spec.nodeName=node-2"),
            ("resourceVersion", &rv_now),
        ],
    );
    c.pod("a", json!({}));
    c.pod("b", json!({}));
    bind(&mut c, "a", "node-1");
    bind(&mut c, "b", "node-2");
    c.delete("/api/v1/namespaces/default/pods/b");
    assert_eq!(events(&mut c, node1), vec![(EventType::Added, "a".into())]);
    assert_eq!(
        events(&mut c, node2),
        vec![
            (EventType::Added, "b".into()),
            (EventType::Modified, "b".into())
        ]
    );
}
