//! Controllers, scheduler and kubelets together, natively, on one thread.
//!
//! `cargo bench -p kubecraft-cluster --bench controllers` prints the wall time
//! of a 1,000-replica Deployment on 5,000 nodes, from the create to every pod
//! Ready and the Deployment complete (median of several runs; the goal of
//! issue 5 is under 0.5 s), with the scheduler's explanation annotations off and
//! on, and the virtual time the rollout took. `-- off` or `-- on` runs one of the
//! two; `-- --once` one run without explanations (for profiling).

use std::time::Instant;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use kubecraft_cluster::scheduler::Scheduler;
use serde_json::json;

mod common;

use common::{median, selected};

const NODES: u32 = 5_000;
const REPLICAS: u32 = 1_000;
const RUNS: usize = 3;

/// One run: (wall seconds, virtual seconds) from create to complete.
fn run(explain: bool, seed: u64) -> (f64, f64) {
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
    (wall, virtual_seconds)
}

fn main() {
    // `-- --once`: one run without explanations (for profiling).
    if std::env::args().any(|a| a == "--once") {
        let (wall, virt) = run(false, 1);
        println!("one run: {wall:.3} s wall, {virt:.1} s virtual");
        return;
    }
    for explain in [false, true] {
        let label = if explain { "on" } else { "off" };
        if !selected(&format!("explanations {label}")) {
            continue;
        }
        let mut walls = Vec::new();
        let mut virtual_seconds = 0.0;
        for seed in 0..RUNS as u64 {
            let (wall, virt) = run(explain, seed + 1);
            walls.push(wall);
            virtual_seconds = virt;
        }
        println!(
            "deployment of {REPLICAS} replicas on {NODES} nodes, explanations {label}: {:.3} s wall (median of {RUNS}), {:.1} s virtual; goal < 0.5 s",
            median(walls),
            virtual_seconds
        );
    }
}
