//! Controllers, scheduler and kubelets together, natively, on one thread.
//!
//! `cargo bench -p kubecraft-cluster --bench controllers` prints the wall time
//! of a 1,000-replica Deployment on 5,000 nodes, from the create to every pod
//! Ready and the Deployment complete (median of several runs; the goal of
//! issue 5 is under 0.5 s), with the scheduler's explanation annotations off and
//! on, and the virtual time the rollout took. `-- off` or `-- on` runs one of the
//! two; `-- --once` one run without explanations (for profiling), followed by the
//! rollout's API calls by caller, verb, resource and status code, and its watch
//! deliveries by resource.

use std::time::Instant;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use kubecraft_cluster::scheduler::Scheduler;
use kubecraft_cluster::sim::{TraceKind, World};
use serde_json::json;
use std::collections::BTreeMap;

mod common;

use common::{median, selected};

const NODES: u32 = 5_000;
const REPLICAS: u32 = 1_000;
const RUNS: usize = 3;

/// One run: (wall seconds, virtual seconds) from create to complete.
/// One rollout: its wall and virtual seconds, the world after it, and the id of the
/// rollout's first trace entry.
struct Rollout {
    wall: f64,
    virtual_seconds: f64,
    world: World,
    first_entry: u64,
}

fn run(explain: bool, seed: u64) -> Rollout {
    let nodes: Vec<NodeConfig> = (0..NODES)
        .map(|i| NodeConfig::worker(&format!("node-{i}"), i, "8", "32Gi"))
        .collect();
    let scheduler = if explain {
        Scheduler::default()
    } else {
        Scheduler::default().without_explanations()
    };
    let mut world = cluster::start_with(seed, scheduler, nodes);
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}
        }
    });
    let started = Instant::now();
    let virtual_start = world.now().millis();
    let first_entry = world.trace().recorded();
    let created = world.call(
        "bench",
        &Request::post(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment.to_string(),
        ),
    );
    assert_eq!(created.status, 201);
    assert!(world.settle(600_000), "the rollout did not settle");
    let wall = started.elapsed().as_secs_f64();
    let d = world
        .call(
            "bench",
            &Request::get("/apis/apps/v1/namespaces/default/deployments/web"),
        )
        .body_json();
    for field in ["updatedReplicas", "readyReplicas", "availableReplicas"] {
        assert_eq!(d["status"][field], REPLICAS, "{field}: {}", d["status"]);
    }
    let virtual_seconds = (world.now().millis() - virtual_start) as f64 / 1000.0;
    Rollout {
        wall,
        virtual_seconds,
        world,
        first_entry,
    }
}

/// Prints the rollout's API calls by caller (kubelets together), verb, resource and
/// status code, and its watch deliveries by resource, most frequent first.
fn print_traffic(rollout: &Rollout) {
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    let mut deliveries: BTreeMap<String, u64> = BTreeMap::new();
    let caller = |actor: &str| match actor.split_once('/') {
        Some(("kubelet", _)) => "kubelet".to_string(),
        _ => actor.to_string(),
    };
    let entries = rollout.world.trace().entries();
    for entry in entries.filter(|e| e.id >= rollout.first_entry) {
        match &entry.kind {
            TraceKind::Call {
                actor,
                verb,
                resource,
                subresource,
                code,
                ..
            } => {
                let sub = if subresource.is_empty() { "" } else { "/" };
                let line = format!(
                    "{} {verb} {resource}{sub}{subresource} {code}",
                    caller(actor)
                );
                *calls.entry(line).or_default() += 1;
            }
            TraceKind::Delivery { resource, .. } => {
                *deliveries.entry(resource.clone()).or_default() += 1;
            }
        }
    }
    for (title, counts) in [("API calls", calls), ("watch deliveries", deliveries)] {
        let total: u64 = counts.values().sum();
        println!("{title}: {total}");
        let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for (what, n) in counts {
            println!("{n:>8}  {what}");
        }
    }
}

fn main() {
    // `-- --once`: one run without explanations (for profiling).
    if std::env::args().any(|a| a == "--once") {
        let rollout = run(false, 1);
        println!(
            "one run: {:.3} s wall, {:.1} s virtual",
            rollout.wall, rollout.virtual_seconds
        );
        print_traffic(&rollout);
        return;
    }
    for explain in [false, true] {
        let label = if explain { "on" } else { "off" };
        // By the label alone: "explanations off" contains "on".
        if !selected(label) {
            continue;
        }
        let mut walls = Vec::new();
        let mut virtual_seconds = 0.0;
        for seed in 0..RUNS as u64 {
            let rollout = run(explain, seed + 1);
            walls.push(rollout.wall);
            virtual_seconds = rollout.virtual_seconds;
        }
        println!(
            "deployment of {REPLICAS} replicas on {NODES} nodes, explanations {label}: {:.3} s wall (median of {RUNS}), {:.1} s virtual; goal < 0.5 s",
            median(walls),
            virtual_seconds
        );
    }
}
