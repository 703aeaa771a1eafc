//! The namespace controller: deleting a namespace deletes its content, reports
//! what remains in upstream's conditions while pods terminate, then finalizes.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::cluster;
use serde_json::json;

#[test]
fn a_deleted_namespace_is_emptied_then_removed() {
    let mut c = Cluster::with_world(cluster::start(31));
    c.post("/api/v1/namespaces", json!({"metadata": {"name": "team"}}));
    let (code, _) = c.post(
        "/apis/apps/v1/namespaces/team/deployments",
        deployment("web", 2),
    );
    assert_eq!(code, 201);
    c.post(
        "/api/v1/namespaces/team/configmaps",
        json!({"metadata": {"name": "cfg"}, "data": {"a": "1"}}),
    );
    c.world.settle(300_000);
    let (_, pods) = c.get("/api/v1/namespaces/team/pods");
    assert_eq!(pods["items"].as_array().unwrap().len(), 2);

    c.delete("/api/v1/namespaces/team");
    c.world.advance(50);
    let (code, ns) = c.get("/api/v1/namespaces/team");
    assert_eq!(code, 200);
    assert_eq!(ns["status"]["phase"], "Terminating");
    let remaining = ns["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "NamespaceContentRemaining")
        .cloned()
        .unwrap();
    assert_eq!(remaining["reason"], "SomeResourcesRemain");
    assert!(
        remaining["message"]
            .as_str()
            .unwrap()
            .starts_with("Some resources are remaining: pods. has 2 resource instances"),
        "{remaining}"
    );
    assert_eq!(
        Cluster::condition_types(&ns),
        [
            "NamespaceDeletionDiscoveryFailure",
            "NamespaceDeletionGroupVersionParsingFailure",
            "NamespaceDeletionContentFailure",
            "NamespaceContentRemaining",
            "NamespaceFinalizersRemaining"
        ]
    );
    let (code, body) = c.post(
        "/api/v1/namespaces/team/configmaps",
        json!({"metadata": {"name": "late"}}),
    );
    assert_eq!(code, 403, "{body}");

    c.world.settle(300_000);
    assert_eq!(c.get("/api/v1/namespaces/team").0, 404);
    assert_eq!(c.get("/api/v1/namespaces/team/configmaps/cfg").0, 404);
    let (_, pods) = c.get("/api/v1/namespaces/team/pods");
    assert!(pods["items"].as_array().unwrap().is_empty());
}
