//! Scheduler throughput, natively, on one thread, in the spirit of upstream's
//! scheduler_perf: nodes are plain API objects (no kubelets), pods are created
//! first, then the wall time until every pod is bound gives pods/s.
//!
//! `cargo bench -p kubecraft-cluster --bench scheduler` prints, as medians of
//! several runs (explanation annotations off):
//! - 5,000 nodes, 10,000 basic pods (requests only): goal ≥ 5,000 pods/s
//!   (upstream's CI floor for SchedulingBasic is 680-810 pods/s);
//! - 5,000 nodes, 1,000 running pods then 1,000 measured pods, all with required
//!   anti-affinity on the hostname: goal ≥ 500 pods/s (upstream's floor: 24-35).
//!
//! `-- basic` or `-- anti` runs one workload only (e.g. under a profiler).

use std::time::Instant;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::scheduler::Scheduler;
use kubecraft_cluster::sim::World;
use serde_json::{json, Value};

mod common;

use common::{median, selected};

const NODES: usize = 5_000;
const ZONES: usize = 10;
const RUNS: usize = 3;

fn node(i: usize) -> Value {
    let name = format!("node-{i}");
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
            "topology.kubernetes.io/zone": format!("zone-{}", i % ZONES)}},
        "status": {"capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}})
}

fn basic_pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
            "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}]}})
}

fn anti_affine_pod(name: &str) -> Value {
    let mut pod = basic_pod(name);
    pod["metadata"]["labels"] = json!({"color": "green"});
    pod["spec"]["affinity"] = json!({"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchExpressions": [
                {"key": "color", "operator": "In", "values": ["green"]}]},
            "topologyKey": "kubernetes.io/hostname"}]}});
    pod
}

fn create(world: &mut World, path: &str, body: &Value) {
    let response = world.call("bench", &Request::post(path, body.to_string()));
    assert_eq!(response.status, 201, "{}", response.body_text());
}

fn unbound(world: &mut World) -> usize {
    let response = world.call(
        "bench",
        &Request::get("/api/v1/pods").with_query("fieldSelector", "spec.nodeName="),
    );
    response.body_json()["items"].as_array().map_or(0, Vec::len)
}

/// A cluster of bare nodes with a scheduler, with `initial` pods already bound.
fn cluster(seed: u64, initial: &[Value]) -> World {
    let mut world = World::new(seed);
    for i in 0..NODES {
        create(&mut world, "/api/v1/nodes", &node(i));
    }
    world.add_component(Box::new(Scheduler::default().without_explanations()));
    for pod in initial {
        create(&mut world, "/api/v1/namespaces/default/pods", pod);
    }
    assert!(world.settle(3_600_000), "initial pods did not settle");
    assert_eq!(unbound(&mut world), 0);
    world
}

/// Pods/s for scheduling `measured` pods into `world`.
fn measure(mut world: World, measured: &[Value]) -> f64 {
    for pod in measured {
        create(&mut world, "/api/v1/namespaces/default/pods", pod);
    }
    let started = Instant::now();
    assert!(world.settle(3_600_000), "measured pods did not settle");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(unbound(&mut world), 0, "every pod is bound");
    measured.len() as f64 / seconds
}

fn main() {
    println!("kubecraft scheduler benchmark (native, one thread, {RUNS} runs each, medians)");
    if selected("basic") {
        basic();
    }
    if selected("anti-affinity") {
        anti_affinity();
    }
}

fn basic() {
    let basic: Vec<Value> = (0..10_000)
        .map(|i| basic_pod(&format!("basic-{i}")))
        .collect();
    let rates: Vec<f64> = (0..RUNS)
        .map(|run| measure(cluster(run as u64, &[]), &basic))
        .collect();
    println!(
        "{NODES} nodes, {:>6} basic pods:                   {:>7.0} pods/s   (goal >= 5000)",
        basic.len(),
        median(rates)
    );
}

fn anti_affinity() {
    let initial: Vec<Value> = (0..1_000)
        .map(|i| anti_affine_pod(&format!("init-{i}")))
        .collect();
    let measured: Vec<Value> = (0..1_000)
        .map(|i| anti_affine_pod(&format!("anti-{i}")))
        .collect();
    let rates: Vec<f64> = (0..RUNS)
        .map(|run| measure(cluster(run as u64, &initial), &measured))
        .collect();
    println!(
        "{NODES} nodes, {:>6} pods with required anti-affinity: {:>7.0} pods/s   (goal >= 500)",
        measured.len(),
        median(rates)
    );
}
