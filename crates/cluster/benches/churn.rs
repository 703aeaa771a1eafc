//! A large cluster living for a virtual hour, natively, on one thread.
//!
//! `cargo bench -p kubecraft-cluster --bench churn` builds 1,000 nodes running
//! 30,000 pods (30 Deployments of 1,000 replicas), then runs one virtual hour in
//! which 20 pods a second are deleted and replaced by their Deployments (kubelets
//! stop and remove them, the ReplicaSets recreate them, the scheduler places the
//! new ones, kubelets start them; every node heartbeats throughout). It prints the
//! wall time of the setup, of ten virtual minutes with no replacements before the
//! hour (the heartbeats' floor under any churn), and of the hour (issue 5's goal:
//! the hour in under 10 s), the API requests the hour took and the Events stored
//! at its end.

use std::time::Instant;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use kubecraft_cluster::scheduler::Scheduler;
use serde_json::{json, Value};

// Only the allocator: one long run needs no medians or selection.
#[allow(dead_code)]
mod common;

const NODES: u32 = 1_000;
const DEPLOYMENTS: u32 = 30;
const REPLICAS: u32 = 1_000;
const CHANGES_PER_SECOND: u32 = 20;
const SECONDS: u32 = 3_600;
/// How long the cluster first runs with no replacements, to measure heartbeats alone.
const IDLE_SECONDS: u32 = 600;

fn deployment(i: u32) -> String {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("app-{i}")},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": format!("app-{i}")}},
            "template": {"metadata": {"labels": {"app": format!("app-{i}")}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}
        }
    })
    .to_string()
}

fn main() {
    let nodes: Vec<NodeConfig> = (0..NODES)
        .map(|i| NodeConfig::worker(&format!("node-{i}"), i, "8", "32Gi"))
        .collect();
    let started = Instant::now();
    let mut world = cluster::start_with(1, Scheduler::default().without_explanations(), nodes);
    for i in 0..DEPLOYMENTS {
        let path = "/apis/apps/v1/namespaces/default/deployments";
        assert_eq!(
            world
                .call("bench", &Request::post(path, deployment(i)))
                .status,
            201
        );
    }
    assert!(world.settle(3_600_000), "the Deployments did not settle");
    let setup = started.elapsed().as_secs_f64();
    let ready = |world: &mut kubecraft_cluster::sim::World| {
        (0..DEPLOYMENTS)
            .map(|i| {
                let path = format!("/apis/apps/v1/namespaces/default/deployments/app-{i}");
                world.call("bench", &Request::get(path)).body_json()["status"]["readyReplicas"]
                    .as_u64()
                    .unwrap_or(0)
            })
            .sum::<u64>()
    };
    assert_eq!(ready(&mut world), u64::from(DEPLOYMENTS * REPLICAS));
    println!(
        "setup: {NODES} nodes, {} pods Ready in {setup:.1} s wall; resident memory {} MiB",
        DEPLOYMENTS * REPLICAS,
        resident_mib()
    );

    // The cluster with no replacements first: what heartbeats alone cost, the
    // floor under any churn rate.
    let started = Instant::now();
    world.advance(u64::from(IDLE_SECONDS) * 1_000);
    let idle = started.elapsed().as_secs_f64();
    println!(
        "{IDLE_SECONDS} virtual s with no replacements (heartbeats only): {idle:.1} s wall, {:.1} s per virtual hour",
        idle * f64::from(SECONDS) / f64::from(IDLE_SECONDS)
    );

    let calls_before = world.trace().recorded();
    let started = Instant::now();
    for second in 0..SECONDS {
        let app = second % DEPLOYMENTS;
        let list = Request::get("/api/v1/namespaces/default/pods")
            .with_query("labelSelector", format!("app=app-{app}"))
            .with_query("limit", CHANGES_PER_SECOND.to_string());
        let pods = world.call("bench", &list).body_json();
        for pod in pods["items"].as_array().into_iter().flatten() {
            let name = pod["metadata"]["name"].as_str().unwrap_or("");
            if pod["metadata"]["deletionTimestamp"] != Value::Null {
                continue;
            }
            world.call(
                "bench",
                &Request::delete(format!("/api/v1/namespaces/default/pods/{name}")),
            );
        }
        world.advance(1_000);
    }
    let hour = started.elapsed().as_secs_f64();
    let calls = world.trace().recorded() - calls_before;
    println!(
        "one virtual hour, {CHANGES_PER_SECOND} pod replacements/s: {hour:.1} s wall, {calls} API calls traced; goal < 10 s"
    );
    let events = world
        .api()
        .resource_id("", "v1", "events")
        .map_or(0, |id| world.api().object_count(id));
    println!(
        "Ready at the end: {} of {}; {events} Events stored; resident memory {} MiB",
        ready(&mut world),
        DEPLOYMENTS * REPLICAS,
        resident_mib()
    );
}

/// The process's resident memory (Linux), in MiB.
fn resident_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}
