//! The scheduler throughput workloads, in the spirit of upstream's scheduler_perf:
//! bare nodes (API objects, no kubelets) and a scheduler without explanation
//! annotations; the pods are created first, then the cluster runs until every one
//! is bound. The same workloads run natively (`cargo bench --bench scheduler`) and
//! in the browser's worker; the caller brings the wall clock, which the engine
//! never reads.

use serde_json::{json, Value};

use super::Scheduler;
use crate::api::Request;
use crate::sim::World;

/// Nodes in every workload, spread over [`ZONES`] zones.
pub const NODES: usize = 5_000;
const ZONES: usize = 10;
/// Virtual time a workload may take to settle.
const HORIZON_MS: u64 = 3_600_000;

/// A workload and its goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// 10,000 pods with requests only: goal ≥ 5,000 pods/s (upstream's CI floor for
    /// SchedulingBasic is 680-810 pods/s).
    Basic,
    /// 1,000 running pods, then 1,000 measured, all with required anti-affinity on
    /// the hostname: goal ≥ 500 pods/s (upstream's floor: 24-35).
    AntiAffinity,
}

impl Workload {
    /// Both workloads.
    pub const ALL: [Workload; 2] = [Workload::Basic, Workload::AntiAffinity];

    /// The workload's name, as benchmarks select and print it.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Basic => "basic",
            Workload::AntiAffinity => "anti-affinity",
        }
    }

    /// The workload named `name`.
    pub fn named(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// How many pods are measured.
    pub fn measured(self) -> usize {
        match self {
            Workload::Basic => 10_000,
            Workload::AntiAffinity => 1_000,
        }
    }

    /// The goal in pods/s.
    pub fn goal(self) -> f64 {
        match self {
            Workload::Basic => 5_000.0,
            Workload::AntiAffinity => 500.0,
        }
    }

    /// One run with `seed`: pods/s, timed with `seconds` (a wall clock in seconds).
    /// `scale` divides the numbers of nodes and pods (1 is the benchmark).
    pub fn run(
        self,
        seed: u64,
        scale: usize,
        seconds: &mut dyn FnMut() -> f64,
    ) -> Result<f64, String> {
        let count = self.measured() / scale;
        let (initial, measured): (Vec<Value>, Vec<Value>) = match self {
            Workload::Basic => (Vec::new(), pods("basic", count, false)),
            Workload::AntiAffinity => (pods("init", count, true), pods("anti", count, true)),
        };
        let mut world = cluster(seed, NODES / scale, &initial)?;
        for pod in &measured {
            create(&mut world, "/api/v1/namespaces/default/pods", pod)?;
        }
        let started = seconds();
        if !world.settle(HORIZON_MS) {
            return Err("measured pods did not settle".into());
        }
        let elapsed = seconds() - started;
        if unbound(&mut world) != 0 {
            return Err("some pods stayed unbound".into());
        }
        Ok(measured.len() as f64 / elapsed)
    }
}

fn node(i: usize) -> Value {
    let name = format!("node-{i}");
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
            "topology.kubernetes.io/zone": format!("zone-{}", i % ZONES)}},
        "status": {"capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}})
}

/// `count` pods named `prefix-i` requesting 100m CPU and 500Mi, with required
/// anti-affinity to each other on the hostname when `anti_affine`.
fn pods(prefix: &str, count: usize, anti_affine: bool) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{prefix}-{i}")},
                "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}]}});
            if anti_affine {
                pod["metadata"]["labels"] = json!({"color": "green"});
                pod["spec"]["affinity"] = json!({"podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [{
                        "labelSelector": {"matchExpressions": [
                            {"key": "color", "operator": "In", "values": ["green"]}]},
                        "topologyKey": "kubernetes.io/hostname"}]}});
            }
            pod
        })
        .collect()
}

fn create(world: &mut World, path: &str, body: &Value) -> Result<(), String> {
    let response = world.call("bench", &Request::post(path, body.to_string()));
    if response.status == 201 {
        Ok(())
    } else {
        Err(response.body_text().to_string())
    }
}

fn unbound(world: &mut World) -> usize {
    let response = world.call(
        "bench",
        &Request::get("/api/v1/pods").with_query("fieldSelector", "spec.nodeName="),
    );
    response.body_json()["items"].as_array().map_or(0, Vec::len)
}

/// `nodes` bare nodes with a scheduler, and `initial` pods already bound.
fn cluster(seed: u64, nodes: usize, initial: &[Value]) -> Result<World, String> {
    let mut world = World::new(seed);
    for i in 0..nodes {
        create(&mut world, "/api/v1/nodes", &node(i))?;
    }
    world.add_component(Box::new(Scheduler::default().without_explanations()));
    for pod in initial {
        create(&mut world, "/api/v1/namespaces/default/pods", pod)?;
    }
    if !world.settle(HORIZON_MS) || unbound(&mut world) != 0 {
        return Err("initial pods did not settle".into());
    }
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hundredth of each workload binds every pod, and the clock brackets only
    /// the scheduling: two readings, two seconds apart, give pods per two seconds.
    #[test]
    fn the_workloads_bind_every_pod_and_time_only_the_scheduling() {
        for workload in Workload::ALL {
            let mut readings = [0.0, 2.0].into_iter();
            let mut seconds = || readings.next().expect("two readings");
            let rate = workload.run(1, 100, &mut seconds).unwrap();
            assert_eq!(rate, (workload.measured() / 100) as f64 / 2.0);
            assert_eq!(Workload::named(workload.name()), Some(workload));
        }
    }
}
