//! Scheduler profiles from a `KubeSchedulerConfiguration`: pods choose a profile by
//! `spec.schedulerName`, each profile scores with its own plugins and arguments,
//! pods naming no profile stay Pending, and a configuration kube-scheduler would
//! refuse is refused here too.

use crate::common;

use std::collections::BTreeSet;

use common::{pod, Cluster};
use kubecraft_cluster::cluster;
use kubecraft_cluster::scheduler::configure;
use serde_json::{json, Value};

const BIN_PACKER: &str = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
"#;

fn requesting(name: &str, scheduler: Option<&str>) -> Value {
    let mut p = pod(name, json!({}));
    p["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "500m", "memory": "256Mi"}});
    if let Some(scheduler) = scheduler {
        p["spec"]["schedulerName"] = json!(scheduler);
    }
    p
}

fn nodes_of(c: &mut Cluster, names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| c.node_of(n)).collect()
}

#[test]
fn each_profile_scores_with_its_own_strategy() {
    let mut c = Cluster::with_world(cluster::start(1));
    let names = configure::apply(&mut c.world, BIN_PACKER).unwrap();
    assert_eq!(names, ["default-scheduler", "bin-packer"]);
    c.world.settle(60_000);
    for name in ["packed-1", "packed-2", "packed-3"] {
        c.create_pod(requesting(name, Some("bin-packer")));
        c.world.settle(60_000);
    }
    for name in ["spread-1", "spread-2", "spread-3"] {
        c.create_pod(requesting(name, None));
        c.world.settle(60_000);
    }
    let packed = nodes_of(&mut c, &["packed-1", "packed-2", "packed-3"]);
    assert_eq!(packed.len(), 1, "MostAllocated packs: {packed:?}");
    let spread = nodes_of(&mut c, &["spread-1", "spread-2", "spread-3"]);
    assert_eq!(
        spread.len(),
        2,
        "LeastAllocated avoids the packed node: {spread:?}"
    );
    assert!(spread.is_disjoint(&packed));
    assert_eq!(
        c.events("packed-1", "Scheduled").len(),
        1,
        "the bin-packer profile records its own Scheduled event"
    );
}

#[test]
fn pods_naming_no_profile_wait_until_one_exists() {
    let mut c = Cluster::with_world(cluster::start(1));
    c.create_pod(requesting("waiting", Some("bin-packer")));
    c.world.settle(60_000);
    assert_eq!(c.node_of("waiting"), "");
    assert!(c.events("waiting", "FailedScheduling").is_empty());
    configure::apply(&mut c.world, BIN_PACKER).unwrap();
    c.world.settle(60_000);
    assert_ne!(c.node_of("waiting"), "");
    // Without the ConfigMap the scheduler runs the default profile alone again.
    let (code, _) = c.delete("/api/v1/namespaces/kube-system/configmaps/kube-scheduler-config");
    assert_eq!(code, 200);
    c.world.settle(60_000);
    c.create_pod(requesting("orphan", Some("bin-packer")));
    c.world.settle(60_000);
    assert_eq!(c.node_of("orphan"), "");
}

#[test]
fn a_configuration_kube_scheduler_would_refuse_is_refused() {
    let mut c = Cluster::with_world(cluster::start(1));
    let refused = configure::apply(&mut c.world, "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: x\n  plugins:\n    filter:\n      enabled:\n      - name: Foo\n");
    assert_eq!(
        refused.unwrap_err(),
        "initializing profiles: creating profile for scheduler name x: FilterPlugin \"Foo\" does not exist"
    );
    let (code, _) = c.get("/api/v1/namespaces/kube-system/configmaps/kube-scheduler-config");
    assert_eq!(code, 404, "nothing is stored");
    // Written straight through the API, a bad configuration is reported on the
    // ConfigMap and the scheduler keeps the profiles it had.
    configure::apply(&mut c.world, BIN_PACKER).unwrap();
    c.world.settle(60_000);
    let (code, _) = c.put(
        "/api/v1/namespaces/kube-system/configmaps/kube-scheduler-config",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "kube-scheduler-config", "namespace": "kube-system"},
               "data": {"config.yaml": "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 200\n"}}),
    );
    assert_eq!(code, 200);
    c.world.settle(60_000);
    let (_, events) = c.get("/api/v1/namespaces/kube-system/events");
    let warnings: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "InvalidConfiguration")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        ["percentageOfNodesToScore: Invalid value: 200: not in valid range [0-100]"]
    );
    c.create_pod(requesting("still-packed", Some("bin-packer")));
    c.world.settle(60_000);
    assert_ne!(c.node_of("still-packed"), "");
}

#[test]
fn list_defaulted_spread_constraints_apply_to_pods_of_a_workload() {
    let mut c = Cluster::with_world(cluster::start(1));
    let config = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - maxSkew: 1
        topologyKey: example.com/rack
        whenUnsatisfiable: DoNotSchedule
"#;
    configure::apply(&mut c.world, config).unwrap();
    c.world.settle(60_000);
    let (code, _) = c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        common::deployment("racked", 1),
    );
    assert_eq!(code, 201);
    c.world.settle(60_000);
    let (_, pods) = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dracked");
    let pod = &pods["items"][0];
    let name = pod["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(pod["spec"]["nodeName"], Value::Null);
    assert_eq!(
        c.events(&name, "FailedScheduling"),
        ["0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod topology spread constraints (missing required label). preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.."]
    );
    // A pod that belongs to no workload has no default selector: nothing to spread.
    c.create_pod(requesting("loose", None));
    c.world.settle(60_000);
    assert_ne!(c.node_of("loose"), "");
}
