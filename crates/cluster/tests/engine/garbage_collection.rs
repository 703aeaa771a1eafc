//! The garbage collector in a running cluster: Background deletion removes a
//! Deployment's ReplicaSet and pods after it; Foreground removes them first and
//! then the Deployment; Orphan leaves them without owners; a removed node's
//! Lease goes with it.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const SETS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn items(c: &mut Cluster, path: &str) -> Vec<Value> {
    let (_, list) = c.get(path);
    list["items"].as_array().unwrap().clone()
}

fn delete_with(c: &mut Cluster, path: &str, policy: &str) {
    let response = c.send(Request::delete(path).with_body(
        json!({"propagationPolicy": policy}).to_string(),
        "application/json",
    ));
    assert!(
        response.status == 200 || response.status == 202,
        "{}",
        response.body_text()
    );
}

fn running_deployment(seed: u64) -> Cluster {
    let mut c = Cluster::with_world(cluster::start(seed));
    c.post(DEPLOYMENTS, deployment("web", 2));
    c.world.settle(300_000);
    assert_eq!(items(&mut c, SETS).len(), 1);
    assert_eq!(items(&mut c, PODS).len(), 2);
    c
}

#[test]
fn background_deletion_collects_the_replicaset_and_its_pods() {
    let mut c = running_deployment(21);
    delete_with(&mut c, &format!("{DEPLOYMENTS}/web"), "Background");
    assert_eq!(
        c.get(&format!("{DEPLOYMENTS}/web")).0,
        404,
        "the owner goes first"
    );
    c.world.settle(300_000);
    assert!(items(&mut c, SETS).is_empty());
    assert!(items(&mut c, PODS).is_empty());
}

#[test]
fn foreground_deletion_removes_dependents_before_the_owner() {
    let mut c = running_deployment(22);
    delete_with(&mut c, &format!("{DEPLOYMENTS}/web"), "Foreground");
    let (code, d) = c.get(&format!("{DEPLOYMENTS}/web"));
    assert_eq!(code, 200);
    assert_eq!(d["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    let mut owner_outlived_dependents = true;
    while c.world.pending_events() > 0 {
        c.world.step();
        let owner_gone = c.get(&format!("{DEPLOYMENTS}/web")).0 == 404;
        if owner_gone && (!items(&mut c, SETS).is_empty() || !items(&mut c, PODS).is_empty()) {
            owner_outlived_dependents = false;
        }
    }
    assert!(
        owner_outlived_dependents,
        "the Deployment went before its ReplicaSet or pods"
    );
    assert_eq!(c.get(&format!("{DEPLOYMENTS}/web")).0, 404);
    assert!(items(&mut c, SETS).is_empty());
    assert!(items(&mut c, PODS).is_empty());
}

#[test]
fn orphan_deletion_leaves_the_replicaset_without_an_owner() {
    let mut c = running_deployment(23);
    delete_with(&mut c, &format!("{DEPLOYMENTS}/web"), "Orphan");
    c.world.settle(300_000);
    assert_eq!(c.get(&format!("{DEPLOYMENTS}/web")).0, 404);
    let sets = items(&mut c, SETS);
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["metadata"]["ownerReferences"], Value::Null);
    assert_eq!(items(&mut c, PODS).len(), 2, "the pods keep running");
}

#[test]
fn a_removed_nodes_lease_is_collected() {
    let mut c = Cluster::with_world(cluster::start(24));
    let lease = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-3";
    assert_eq!(c.get(lease).0, 200);
    cluster::remove_node(&mut c.world, "node-3").unwrap();
    c.world.settle(60_000);
    assert_eq!(c.get(lease).0, 404);
}
