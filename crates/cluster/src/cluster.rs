//! A whole cluster: a [`World`] with the scheduler, the controllers and a kubelet
//! per node, plus the `sim node` operations that add, remove,
//! fail and recover machines. A restored snapshot restarts the same components
//! from what the API holds, as a rebooted control plane would.

use serde_json::Value;

use crate::api::Request;
use crate::controllers::{
    ClusterRoleAggregationController, CronJobController, DaemonSetController, DeploymentController,
    DisruptionController, EndpointSliceController, EndpointsController, GarbageCollector,
    HpaController, JobController, NamespaceController, NamespaceDefaults, NodeLifecycleController,
    PvcProtectionController, ReplicaSetController, ResourceQuotaController, StatefulSetController,
    TaintEvictionController, TtlAfterFinishedController, CONTROLLER_MANAGER,
};
use crate::kubelet::{self, Kubelet, NodeConfig};
use crate::scheduler::Scheduler;
use crate::sim::{Component, World};

/// The annotation that marks a node whose kubelet was stopped by `sim node fail`,
/// so a restored snapshot keeps it stopped.
pub const FAILED_ANNOTATION: &str = "kubecraft.dev/kubelet-stopped";

/// The actor `sim` commands act as in the trace.
const SIM_ACTOR: &str = "sim";

/// A fresh default cluster: `control-plane` and `node-1`..`node-3`, registered.
pub fn start(seed: u64) -> World {
    start_with(seed, Scheduler::default(), NodeConfig::default_cluster())
}

/// A fresh cluster with this scheduler and these machines, registered.
pub fn start_with(seed: u64, scheduler: Scheduler, nodes: Vec<NodeConfig>) -> World {
    let mut world = World::new(seed);
    world.add_component(Box::new(scheduler));
    add_controllers(&mut world);
    for config in nodes {
        world.add_component(Box::new(Kubelet::new(config)));
    }
    world.settle(60_000);
    world
}

/// A cluster restored from a snapshot, its components started again.
pub fn restore(snapshot: &Value) -> Result<World, String> {
    let mut world = World::from_snapshot(snapshot)?;
    world.add_component(Box::new(Scheduler::default()));
    add_controllers(&mut world);
    for node in nodes(&mut world) {
        let failed = node
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(FAILED_ANNOTATION))
            .is_some();
        if !failed {
            world.add_component(Box::new(Kubelet::new(config_of(&node))));
        }
    }
    Ok(world)
}

/// The controllers kube-controller-manager would run, as one process whose
/// informers share their watches.
fn add_controllers(world: &mut World) {
    let controllers: [Box<dyn Component>; 20] = [
        Box::new(DeploymentController::default()),
        Box::new(ReplicaSetController::default()),
        Box::new(DaemonSetController::default()),
        Box::new(StatefulSetController::default()),
        Box::new(DisruptionController::default()),
        Box::new(HpaController::default()),
        Box::new(GarbageCollector::default()),
        Box::new(JobController::default()),
        Box::new(CronJobController::default()),
        Box::new(TtlAfterFinishedController::default()),
        Box::new(ClusterRoleAggregationController::default()),
        Box::new(NamespaceController::default()),
        Box::new(NamespaceDefaults::service_accounts()),
        Box::new(NamespaceDefaults::root_ca_publisher()),
        Box::new(PvcProtectionController::default()),
        Box::new(NodeLifecycleController::default()),
        Box::new(TaintEvictionController::default()),
        Box::new(EndpointSliceController::default()),
        Box::new(EndpointsController::default()),
        Box::new(ResourceQuotaController::default()),
    ];
    for controller in controllers {
        world.add_component_in(CONTROLLER_MANAGER, controller);
    }
}

fn nodes(world: &mut World) -> Vec<Value> {
    let list = world
        .call(SIM_ACTOR, &Request::get("/api/v1/nodes"))
        .body_json();
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The machine behind an existing Node, as far as a restarted kubelet needs it.
fn config_of(node: &Value) -> NodeConfig {
    let text = |path: &str| node.pointer(path).and_then(Value::as_str).unwrap_or("");
    let index = text("/spec/podCIDR")
        .split('.')
        .nth(2)
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    NodeConfig::worker(
        text("/metadata/name"),
        index,
        text("/status/capacity/cpu"),
        text("/status/capacity/memory"),
    )
}

/// Adds a machine; its kubelet registers the Node. Fails if the name is taken.
pub fn add_node(world: &mut World, mut config: NodeConfig) -> Result<(), String> {
    let existing = nodes(world);
    if existing
        .iter()
        .any(|n| n.pointer("/metadata/name").and_then(Value::as_str) == Some(&config.name))
    {
        return Err(format!("node {:?} already exists", config.name));
    }
    config.index = existing
        .iter()
        .map(|n| config_of(n).index + 1)
        .max()
        .unwrap_or(0);
    world.add_component(Box::new(Kubelet::new(config)));
    Ok(())
}

/// Removes a machine: its kubelet stops and the Node object is deleted.
pub fn remove_node(world: &mut World, name: &str) -> Result<(), String> {
    let response = world.call(SIM_ACTOR, &Request::get(format!("/api/v1/nodes/{name}")));
    if response.status != 200 {
        return Err(format!("node {name:?} not found"));
    }
    world.remove_component(&kubelet::actor_name(name));
    world.call(SIM_ACTOR, &Request::delete(format!("/api/v1/nodes/{name}")));
    Ok(())
}

/// Sets or clears [`FAILED_ANNOTATION`] on the node.
fn mark_failed(world: &mut World, name: &str, failed: bool) {
    let value = if failed {
        Value::from("true")
    } else {
        Value::Null
    };
    let patch = serde_json::json!({"metadata": {"annotations": {FAILED_ANNOTATION: value}}});
    world.call(
        SIM_ACTOR,
        &Request::patch(
            format!("/api/v1/nodes/{name}"),
            "application/merge-patch+json",
            patch.to_string(),
        ),
    );
}

/// Fails a machine: its kubelet stops heartbeating and stops running pods.
pub fn fail_node(world: &mut World, name: &str) -> Result<(), String> {
    if !world.remove_component(&kubelet::actor_name(name)) {
        return Err(format!("node {name:?} has no running kubelet"));
    }
    mark_failed(world, name, true);
    Ok(())
}

/// Recovers a failed machine: its kubelet starts again and reports Ready.
pub fn recover_node(world: &mut World, name: &str) -> Result<(), String> {
    if world.has_component(&kubelet::actor_name(name)) {
        return Err(format!("node {name:?} is not failed"));
    }
    let response = world.call(SIM_ACTOR, &Request::get(format!("/api/v1/nodes/{name}")));
    if response.status != 200 {
        return Err(format!("node {name:?} not found"));
    }
    mark_failed(world, name, false);
    world.add_component(Box::new(Kubelet::new(config_of(&response.body_json()))));
    Ok(())
}
