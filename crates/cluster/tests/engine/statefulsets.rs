//! StatefulSets: ordered, stable pods with claims, scale down from the top,
//! rolling updates from the highest ordinal down to the partition, Parallel
//! management, and status with both revisions.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const STS: &str = "/apis/apps/v1/namespaces/default/statefulsets";

fn stateful_set(name: &str, replicas: i64, extra: Value) -> Value {
    let mut set = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "db", "image": "redis:7"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
        }
    });
    for (k, v) in extra.as_object().unwrap() {
        set["spec"][k] = v.clone();
    }
    set
}

/// name → (ready, image, deleting) of the set's pods.
fn pods(c: &mut Cluster, app: &str) -> Vec<(String, bool, String, bool)> {
    let (_, list) = c.get(&format!(
        "/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"
    ));
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                ready,
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                !p["metadata"]["deletionTimestamp"].is_null(),
            )
        })
        .collect()
}

fn names(c: &mut Cluster, app: &str) -> Vec<String> {
    pods(c, app).into_iter().map(|p| p.0).collect()
}

#[test]
fn ordered_ready_creates_one_pod_at_a_time_with_stable_identity_and_claims() {
    let mut c = Cluster::with_world(cluster::start(101));
    let (code, body) = c.post(STS, stateful_set("db", 3, json!({})));
    assert_eq!(code, 201, "{body}");
    let mut seen_before_ready = Vec::new();
    for _ in 0..400 {
        c.world.advance(250);
        let now = pods(&mut c, "db");
        for (i, (name, _, _, _)) in now.iter().enumerate() {
            if i > 0 && !now[i - 1].1 {
                seen_before_ready.push(name.clone());
            }
        }
        if now.len() == 3 && now.iter().all(|p| p.1) {
            break;
        }
    }
    assert_eq!(names(&mut c, "db"), ["db-0", "db-1", "db-2"]);
    assert!(
        seen_before_ready.is_empty(),
        "a pod appeared before its predecessor was ready: {seen_before_ready:?}"
    );
    let (_, pod) = c.get("/api/v1/namespaces/default/pods/db-1");
    assert_eq!(pod["spec"]["hostname"], "db-1");
    assert_eq!(pod["spec"]["subdomain"], "db");
    assert_eq!(
        pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "db-1"
    );
    assert_eq!(
        pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
        "1"
    );
    assert_eq!(
        pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "data-db-1"
    );
    let (_, claims) = c.get("/api/v1/namespaces/default/persistentvolumeclaims");
    let claim_names: Vec<&str> = claims["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(claim_names, ["data-db-0", "data-db-1", "data-db-2"]);
    c.world.settle(60_000);
    let (_, set) = c.get(&format!("{STS}/db"));
    let s = &set["status"];
    assert_eq!(
        (
            &s["replicas"],
            &s["readyReplicas"],
            &s["currentReplicas"],
            &s["updatedReplicas"]
        ),
        (&json!(3), &json!(3), &json!(3), &json!(3))
    );
    assert_eq!(s["currentRevision"], s["updateRevision"]);
    assert_eq!(
        c.events("db", "SuccessfulCreate")
            .into_iter()
            .filter(|m| m.starts_with("create Pod"))
            .collect::<Vec<_>>(),
        [
            "create Pod db-0 in StatefulSet db successful",
            "create Pod db-1 in StatefulSet db successful",
            "create Pod db-2 in StatefulSet db successful",
        ]
    );

    // A deleted pod comes back under the same name; scaling down removes the highest first.
    c.delete("/api/v1/namespaces/default/pods/db-1");
    c.world.settle(120_000);
    assert_eq!(names(&mut c, "db"), ["db-0", "db-1", "db-2"]);
    c.patch(
        &format!("{STS}/db"),
        "application/merge-patch+json",
        json!({"spec": {"replicas": 1}}),
    );
    let mut order = Vec::new();
    for _ in 0..400 {
        c.world.advance(250);
        let now = names(&mut c, "db");
        for gone in ["db-2", "db-1"] {
            if !now.contains(&gone.to_string()) && !order.contains(&gone) {
                order.push(gone);
            }
        }
        if now == ["db-0"] {
            break;
        }
    }
    assert_eq!(order, ["db-2", "db-1"]);
}

#[test]
fn rolling_updates_go_from_the_top_down_to_the_partition() {
    let mut c = Cluster::with_world(cluster::start(102));
    c.post(
        STS,
        stateful_set(
            "db",
            3,
            json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
        ),
    );
    c.world.settle(120_000);
    c.patch(
        &format!("{STS}/db"),
        "application/strategic-merge-patch+json",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "redis:7.2"}]}}}}),
    );
    c.world.settle(120_000);
    let images: Vec<(String, String)> =
        pods(&mut c, "db").into_iter().map(|p| (p.0, p.2)).collect();
    assert_eq!(
        images,
        [
            ("db-0".to_string(), "redis:7".to_string()),
            ("db-1".to_string(), "redis:7.2".to_string()),
            ("db-2".to_string(), "redis:7.2".to_string()),
        ],
        "pods below the partition keep the current revision"
    );
    let (_, set) = c.get(&format!("{STS}/db"));
    assert_ne!(
        set["status"]["currentRevision"],
        set["status"]["updateRevision"]
    );
    assert_eq!(set["status"]["updatedReplicas"], 2);
    let deletions = c.events("db", "SuccessfulDelete");
    assert_eq!(
        deletions,
        [
            "delete Pod db-2 in StatefulSet db successful",
            "delete Pod db-1 in StatefulSet db successful",
        ]
    );
    c.patch(
        &format!("{STS}/db"),
        "application/merge-patch+json",
        json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}),
    );
    c.world.settle(120_000);
    let (_, set) = c.get(&format!("{STS}/db"));
    assert_eq!(
        set["status"]["currentRevision"],
        set["status"]["updateRevision"]
    );
    assert_eq!(set["status"]["currentReplicas"], 3);
    let (_, revisions) = c.get("/apis/apps/v1/namespaces/default/controllerrevisions");
    let hashes: Vec<&str> = revisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["metadata"]["labels"]["controller.kubernetes.io/hash"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(hashes.len(), 2);
}

#[test]
fn parallel_management_starts_every_pod_at_once() {
    let mut c = Cluster::with_world(cluster::start(103));
    c.post(
        STS,
        stateful_set("cache", 3, json!({"podManagementPolicy": "Parallel"})),
    );
    c.world.advance(500);
    assert_eq!(names(&mut c, "cache"), ["cache-0", "cache-1", "cache-2"]);
}

#[test]
fn a_refused_create_is_retried_with_back_off_until_it_succeeds() {
    let mut c = Cluster::with_world(cluster::start(107));
    let mut set = stateful_set("db", 1, json!({}));
    set["spec"]["template"]["spec"]["serviceAccountName"] = json!("builder");
    let (code, body) = c.post(STS, set);
    assert_eq!(code, 201, "{body}");
    c.world.advance(5_000);
    let (_, events) = c.get("/api/v1/namespaces/default/events");
    let refused = c.events("db", "FailedCreate");
    assert_eq!(
        refused,
        ["create Pod db-0 in StatefulSet db failed error: pods \"db-0\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found"],
        "{events}"
    );
    // 5 ms doubling: about ten attempts in five seconds, not one and not thousands.
    let attempts = c.event_count("db", "FailedCreate");
    assert!((8..=12).contains(&attempts), "{attempts} attempts");
    assert!(names(&mut c, "db").is_empty());
    c.service_account("builder");
    c.world.settle(120_000);
    assert_eq!(pods(&mut c, "db")[0].0, "db-0");
    assert!(pods(&mut c, "db")[0].1, "db-0 is not ready");
}

#[test]
fn a_refused_claim_holds_its_pod_back_until_the_claim_can_be_made() {
    let mut c = Cluster::with_world(cluster::start(109));
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "claims"}, "spec": {"hard": {"persistentvolumeclaims": "1"}}});
    let (code, body) = c.post("/api/v1/namespaces/default/resourcequotas", quota);
    assert_eq!(code, 201, "{body}");
    c.world.settle(10_000);
    let (code, body) = c.post(STS, stateful_set("db", 2, json!({})));
    assert_eq!(code, 201, "{body}");
    c.world.settle(60_000);
    assert_eq!(names(&mut c, "db"), ["db-0"]);
    let failed = c.events("db", "FailedCreate");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].starts_with("create Claim data-db-1 for Pod db-1 in StatefulSet db failed error: persistentvolumeclaims \"data-db-1\" is forbidden: exceeded quota: claims"),
        "{failed:?}"
    );
    assert!(
        failed[1].starts_with("create Pod db-1 in StatefulSet db failed error: persistentvolumeclaims \"data-db-1\" is forbidden"),
        "{failed:?}"
    );
    let (code, body) = c.patch(
        "/api/v1/namespaces/default/resourcequotas/claims",
        "application/merge-patch+json",
        json!({"spec": {"hard": {"persistentvolumeclaims": "2"}}}),
    );
    assert_eq!(code, 200, "{body}");
    c.world.settle(1_200_000);
    assert_eq!(names(&mut c, "db"), ["db-0", "db-1"]);
}

#[test]
fn a_statefulset_adopts_only_matching_orphans_that_carry_its_name() {
    let mut c = Cluster::with_world(cluster::start(83));
    for name in ["web-0", "other-0"] {
        c.create_pod(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "db", "image": "redis:7"}]}}));
    }
    c.world.settle(120_000);
    let set = stateful_set("web", 2, json!({"updateStrategy": {"type": "OnDelete"}}));
    assert_eq!(c.post(STS, set).0, 201);
    c.world.settle(300_000);
    let controller = |c: &mut Cluster, pod: &str| {
        let (_, body) = c.get(&format!("/api/v1/namespaces/default/pods/{pod}"));
        body["metadata"]["ownerReferences"][0]["name"].clone()
    };
    assert_eq!(controller(&mut c, "web-0"), "web");
    assert_eq!(controller(&mut c, "other-0"), Value::Null);
    let (_, web_1) = c.get("/api/v1/namespaces/default/pods/web-1");
    assert_eq!(web_1["metadata"]["ownerReferences"][0]["name"], "web");
    assert_eq!(c.get(&format!("{STS}/web")).1["status"]["replicas"], 2);
}
