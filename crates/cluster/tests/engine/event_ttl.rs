//! Events expire an hour after their last write, as kube-apiserver's
//! `--event-ttl` makes etcd delete them; watchers see them go, and a snapshot
//! keeps each Event's time left.

use crate::common;

use common::Cluster;
use kubecraft_cluster::apiserver::watch::EventType;
use kubecraft_cluster::sim::World;
use serde_json::{json, Value};

const MINUTE: u64 = 60_000;
const EVENTS: &str = "/api/v1/namespaces/default/events";

fn event(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
        "reason": "Tested", "message": "a test event", "type": "Normal", "count": 1})
}

fn status_of(c: &mut Cluster, name: &str) -> u16 {
    c.get(&format!("{EVENTS}/{name}")).0
}

#[test]
fn an_event_is_deleted_an_hour_after_its_last_write_and_watchers_see_it_go() {
    let mut c = Cluster::new();
    assert_eq!(c.post(EVENTS, event("first")).0, 201);
    c.world.advance(30 * MINUTE);
    assert_eq!(c.post(EVENTS, event("second")).0, 201);
    c.world.advance(29 * MINUTE);
    // A write (the recorder counting a repeat) starts the first Event's hour afresh.
    let (code, _) = c.patch(
        &format!("{EVENTS}/first"),
        "application/merge-patch+json",
        json!({"count": 2}),
    );
    assert_eq!(code, 200);
    let watch = c.watch_from_now(EVENTS);

    c.world.advance(2 * MINUTE);
    assert_eq!(
        (status_of(&mut c, "first"), status_of(&mut c, "second")),
        (200, 200)
    );
    c.world.advance(30 * MINUTE);
    assert_eq!(
        (status_of(&mut c, "first"), status_of(&mut c, "second")),
        (200, 404)
    );
    let seen: Vec<(EventType, String)> = c
        .world
        .take_watch_events(watch)
        .iter()
        .map(|e| (e.event_type, e.key.to_string()))
        .collect();
    assert_eq!(seen, [(EventType::Deleted, "default/second".to_string())]);
    c.world.advance(28 * MINUTE);
    assert_eq!(status_of(&mut c, "first"), 404);
}

#[test]
fn a_restored_event_keeps_the_time_its_lease_had_left() {
    let mut c = Cluster::new();
    c.post(EVENTS, event("kept"));
    c.world.advance(40 * MINUTE);
    let snapshot = c.world.snapshot();
    assert_eq!(snapshot["cluster"]["eventLeases"][0]["key"], "default/kept");

    let mut restored = Cluster::with_world(World::from_snapshot(&snapshot).unwrap());
    restored.world.advance(19 * MINUTE);
    assert_eq!(status_of(&mut restored, "kept"), 200);
    restored.world.advance(2 * MINUTE);
    assert_eq!(status_of(&mut restored, "kept"), 404);

    // A snapshot taken before leases were kept: its Events live an hour from the restore.
    let mut older = snapshot.clone();
    older["cluster"]
        .as_object_mut()
        .unwrap()
        .remove("eventLeases");
    let mut restored = Cluster::with_world(World::from_snapshot(&older).unwrap());
    restored.world.advance(59 * MINUTE);
    assert_eq!(status_of(&mut restored, "kept"), 200);
    restored.world.advance(2 * MINUTE);
    assert_eq!(status_of(&mut restored, "kept"), 404);

    let mut broken = snapshot;
    broken["cluster"]["eventLeases"] = json!([{"key": "default/kept"}]);
    assert_eq!(
        World::from_snapshot(&broken).err().as_deref(),
        Some("event lease 0 is not a valid lease")
    );
}
