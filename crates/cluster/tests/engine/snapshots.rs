//! A snapshot restores the cluster exactly: objects, resourceVersions, custom
//! resources, allocated ClusterIPs, the clock and the random sequence.

use crate::common;

use common::Cluster;
use kubecraft_cluster::sim::World;
use serde_json::json;

#[test]
fn a_restored_world_continues_exactly_where_it_was() {
    let mut c = Cluster::new();
    c.world.advance(42_000);
    c.pod("a", json!({"app": "web"}));
    let (_, svc) = c.post(
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}),
    );
    c.post(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}),
    );
    c.post(
        "/apis/example.com/v1/namespaces/default/widgets",
        json!({"metadata": {"name": "w"}, "spec": {"size": 1}}),
    );
    let text = serde_json::to_string(&c.world.snapshot()).unwrap();

    let mut restored =
        Cluster::with_world(World::from_snapshot(&serde_json::from_str(&text).unwrap()).unwrap());
    assert_eq!(restored.world.now(), c.world.now());
    assert_eq!(
        restored.world.api().resource_version(),
        c.world.api().resource_version()
    );
    for path in [
        "/api/v1/namespaces/default/pods/a",
        "/api/v1/namespaces/default/services/web",
        "/apis/example.com/v1/namespaces/default/widgets/w",
    ] {
        assert_eq!(restored.get(path), c.get(path), "{path}");
    }
    // Both worlds make the same next choices...
    let next = |cl: &mut Cluster| {
        cl.post(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "next"}}),
        )
        .1
    };
    assert_eq!(next(&mut c), next(&mut restored));
    // ...and the restored one still holds the allocated ClusterIP.
    let ip = svc["spec"]["clusterIP"].as_str().unwrap().to_string();
    let (code, _) = restored.post(
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "clash"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}),
    );
    assert_eq!(code, 422);
}

#[test]
fn broken_snapshots_are_refused_with_a_reason() {
    let good = World::new(1).snapshot();
    assert!(World::from_snapshot(&json!({"kind": "Other"})).is_err());
    let mut bad = good.clone();
    bad["cluster"]["objects"][0]["kind"] = json!("Nonsense");
    let err = World::from_snapshot(&bad).err().unwrap();
    assert!(err.contains("does not serve"), "{err}");
    let mut dup = good.clone();
    let first = dup["cluster"]["objects"][0].clone();
    dup["cluster"]["objects"]
        .as_array_mut()
        .unwrap()
        .push(first);
    assert!(World::from_snapshot(&dup)
        .err()
        .unwrap()
        .contains("appears twice"));
    // Versions of ConfigMaps and Secrets: of those kinds, in order, of the object named.
    let version = |from: i64, name: &str| {
        json!({"from": from, "object": {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default", "resourceVersion": "1"}}})
    };
    for (entry, reason) in [
        (
            json!({"resource": "pods", "key": "default/a", "versions": [version(1, "a")]}),
            "is not of configmaps or secrets",
        ),
        (
            json!({"resource": "configmaps", "key": "default/a", "versions": [version(2, "a"), version(1, "a")]}),
            "not in order",
        ),
        (
            json!({"resource": "configmaps", "key": "default/a", "versions": [version(1, "b")]}),
            "another object",
        ),
        (
            json!({"resource": "configmaps", "key": "default/a", "versions": []}),
            "0 versions",
        ),
    ] {
        let mut bad = good.clone();
        bad["cluster"]["configHistory"] = json!([entry]);
        let err = World::from_snapshot(&bad).err().unwrap();
        assert!(err.contains(reason), "{err}");
    }
}

/// After a restore the kubelets find their containers running, as upstream's
/// kubelet does after a restart: same container IDs and start times, no new
/// Events, and a container still finishes when its command says.
#[test]
fn a_restored_cluster_keeps_its_containers_running() {
    use kubecraft_cluster::api::Request;
    use kubecraft_cluster::cluster;

    let mut c = Cluster::with_world(cluster::start(91));
    c.create_pod(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "timer"},
        "spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "60"]}]}}),
    );
    c.world.advance(20_000);
    let status =
        |c: &mut Cluster| c.get("/api/v1/namespaces/default/pods/timer").1["status"].clone();
    let before = status(&mut c);
    assert!(
        before["containerStatuses"][0]["state"]["running"].is_object(),
        "{before}"
    );

    let mut restored = Cluster::with_world(cluster::restore(&c.world.snapshot()).unwrap());
    restored.world.advance(5_000);
    let after = status(&mut restored);
    assert_eq!(
        after["containerStatuses"][0]["containerID"],
        before["containerStatuses"][0]["containerID"]
    );
    assert_eq!(
        after["containerStatuses"][0]["state"],
        before["containerStatuses"][0]["state"]
    );
    let (_, events) = restored.json(
        Request::get("/api/v1/namespaces/default/events")
            .with_query("fieldSelector", "involvedObject.name=timer,reason=Started"),
    );
    assert_eq!(
        events["items"].as_array().unwrap().len(),
        1,
        "started once: {events}"
    );
    // The 60 s sleep began about 18 s before the snapshot; it ends on time.
    restored.world.advance(40_000);
    let done = status(&mut restored);
    assert_eq!(done["phase"], "Succeeded", "{done}");
}
