//! core/v1 and events.k8s.io/v1 Events are one set of objects in two shapes.

use crate::common;

use common::Cluster;
use serde_json::json;

const CORE: &str = "/api/v1/namespaces/default/events";
const V1: &str = "/apis/events.k8s.io/v1/namespaces/default/events";

fn scheduler_event(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name},
        "eventTime": "2026-01-01T00:00:01.000000Z",
        "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-control-plane",
        "action": "Binding", "reason": "Scheduled", "type": "Normal",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "web-1"},
        "note": "Successfully assigned default/web-1 to node-2"
    })
}

#[test]
fn an_event_written_in_one_shape_reads_in_the_other() {
    let mut c = Cluster::new();
    let (code, created) = c.post(V1, scheduler_event("web-1.1"));
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["apiVersion"], "events.k8s.io/v1");
    assert_eq!(created["regarding"]["name"], "web-1");
    let (code, core) = c.get(&format!("{CORE}/web-1.1"));
    assert_eq!(code, 200);
    assert_eq!(core["apiVersion"], "v1");
    assert_eq!(core["involvedObject"]["name"], "web-1");
    assert_eq!(
        core["message"],
        "Successfully assigned default/web-1 to node-2"
    );
    assert_eq!(core["reportingComponent"], "default-scheduler");
    c.post(CORE, json!({"metadata": {"name": "old"}, "involvedObject": {"kind": "Pod", "name": "a"}, "message": "m", "reason": "Pulled", "count": 2}));
    let (_, list) = c.get(V1);
    assert_eq!(list["apiVersion"], "events.k8s.io/v1");
    let notes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        vec!["m", "Successfully assigned default/web-1 to node-2"]
    );
    assert_eq!(list["items"][0]["deprecatedCount"], 2);
}

#[test]
fn events_v1_requires_its_fields() {
    let mut c = Cluster::new();
    let (code, body) = c.post(
        V1,
        json!({"metadata": {"name": "x"}, "reason": "Scheduled"}),
    );
    assert_eq!(code, 422);
    assert_eq!(
        body["message"],
        "Event.events.k8s.io \"x\" is invalid: [eventTime: Required value, reportingController: Required value, reportingInstance: Required value, action: Required value]"
    );
}

#[test]
fn watches_and_patches_through_the_new_group() {
    let mut c = Cluster::new();
    let watch = c.watch_from_now(V1);
    c.post(CORE, json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "a"}, "message": "m", "reason": "Pulled"}));
    let (code, patched) = c.patch(
        &format!("{V1}/e"),
        "application/merge-patch+json",
        json!({"note": "changed"}),
    );
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["note"], "changed");
    let (_, core) = c.get(&format!("{CORE}/e"));
    assert_eq!(core["message"], "changed");
    let seen: Vec<serde_json::Value> = c
        .world
        .take_watch_events(watch)
        .iter()
        .map(|e| serde_json::from_str(&e.object).unwrap())
        .collect();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|e| e["apiVersion"] == "events.k8s.io/v1"));
    assert_eq!(seen[1]["note"], "changed");
}
