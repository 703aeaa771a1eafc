//! kube-controller-manager's controllers share their informers' watches: each pod
//! change reaches the process once per stream (typed, and metadata-only for the
//! garbage collector and quota), and every controller still acts on it.

use crate::common;

use std::collections::BTreeMap;

use common::Cluster;
use kubecraft_cluster::cluster;
use kubecraft_cluster::sim::TraceKind;

#[test]
fn the_controller_manager_receives_each_pod_change_once_per_stream() {
    let mut c = Cluster::with_world(cluster::start(1));
    let since = c.world.trace().recorded();
    let rs = common::workload("ReplicaSet", "web", 2);
    let (code, body) = c.post("/apis/apps/v1/namespaces/default/replicasets", rs);
    assert_eq!(code, 201, "{body}");
    c.world.settle(120_000);
    let (_, rs) = c.get("/apis/apps/v1/namespaces/default/replicasets/web");
    assert_eq!(
        rs["status"]["readyReplicas"], 2,
        "the controllers acted: {rs}"
    );

    // (actor, pod, resourceVersion) → deliveries of that pod version to that actor.
    let mut deliveries: BTreeMap<(String, String, u64), usize> = BTreeMap::new();
    let (_, entries) = c.world.trace().since(since);
    for entry in entries {
        if let TraceKind::Delivery {
            actor,
            resource,
            name,
            resource_version,
            ..
        } = &entry.kind
        {
            if resource == "pods" {
                *deliveries
                    .entry((actor.clone(), name.clone(), *resource_version))
                    .or_default() += 1;
            }
        }
    }
    let actors: Vec<&str> = deliveries.keys().map(|(a, _, _)| a.as_str()).collect();
    assert!(
        actors.iter().all(|a| !a.ends_with("-controller")),
        "no controller watches pods on its own: {actors:?}"
    );
    let to_manager: Vec<usize> = deliveries
        .iter()
        .filter(|((actor, _, _), _)| actor == "kube-controller-manager")
        .map(|(_, count)| *count)
        .collect();
    assert!(!to_manager.is_empty());
    assert!(
        to_manager.iter().all(|count| *count == 2),
        "each pod version twice (typed, metadata): {deliveries:?}"
    );
}
