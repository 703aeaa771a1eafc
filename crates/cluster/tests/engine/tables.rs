//! Server-side printing for every built-in kind: upstream's columns and cells.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

fn table(c: &mut Cluster, path: &str) -> Value {
    let response = c.send(
        Request::get(path).with_header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"),
    );
    assert_eq!(response.status, 200, "{path}: {}", response.body_text());
    response.body_json()
}

fn headers(t: &Value) -> Vec<String> {
    t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn create(c: &mut Cluster, collection: &str, body: Value) {
    let (code, out) = c.post(collection, body);
    assert_eq!(code, 201, "{collection}: {out}");
}

#[test]
fn every_builtin_kind_has_upstreams_columns() {
    let mut c = Cluster::new();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/api/v1/namespaces/default/configmaps", json!({"metadata": {"name": "x"}, "data": {"a": "1"}}), "Name,Data,Age"),
        ("/api/v1/namespaces/default/secrets", json!({"metadata": {"name": "x"}, "type": "Opaque", "data": {"a": "MQ=="}}), "Name,Type,Data,Age"),
        ("/api/v1/namespaces/default/endpoints", json!({"metadata": {"name": "x"}}), "Name,Endpoints,Age"),
        ("/api/v1/namespaces/default/limitranges", json!({"metadata": {"name": "x"}}), "Name,Created At"),
        ("/api/v1/namespaces/default/resourcequotas", json!({"metadata": {"name": "x"}, "spec": {"hard": {"pods": "10"}}}), "Name,Age,Request,Limit"),
        ("/api/v1/namespaces/default/persistentvolumeclaims", json!({"metadata": {"name": "x"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}), "Name,Status,Volume,Capacity,Access Modes,StorageClass,VolumeAttributesClass,Age,VolumeMode"),
        ("/api/v1/namespaces/default/serviceaccounts", json!({"metadata": {"name": "x"}}), "Name,Secrets,Age"),
        ("/api/v1/namespaces/default/events", json!({"metadata": {"name": "x"}, "involvedObject": {"kind": "Pod", "name": "web"}, "reason": "Scheduled", "message": "hi", "type": "Normal"}), "Last Seen,Type,Reason,Object,Subobject,Source,Message,First Seen,Count,Name"),
        ("/apis/apps/v1/namespaces/default/statefulsets", json!({"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "serviceName": "x", "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}), "Name,Ready,Age,Containers,Images"),
        ("/apis/apps/v1/namespaces/default/daemonsets", json!({"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}), "Name,Desired,Current,Ready,Up-to-date,Available,Node Selector,Age,Containers,Images,Selector"),
        ("/apis/apps/v1/namespaces/default/controllerrevisions", json!({"metadata": {"name": "x"}, "revision": 2}), "Name,Controller,Revision,Age"),
        ("/apis/batch/v1/namespaces/default/jobs", json!({"metadata": {"name": "x"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}), "Name,Status,Completions,Duration,Age,Containers,Images,Selector"),
        ("/apis/batch/v1/namespaces/default/cronjobs", json!({"metadata": {"name": "x"}, "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}}), "Name,Schedule,Timezone,Suspend,Active,Last Schedule,Age,Containers,Images,Selector"),
        ("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", json!({"metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 6, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}}), "Name,Reference,Targets,MinPods,MaxPods,Replicas,Age"),
        ("/apis/coordination.k8s.io/v1/namespaces/default/leases", json!({"metadata": {"name": "x"}, "spec": {"holderIdentity": "node-1"}}), "Name,Holder,Age"),
        ("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", json!({"metadata": {"name": "x"}, "addressType": "IPv4", "endpoints": [], "ports": [{"port": 80}]}), "Name,AddressType,Ports,Endpoints,Age"),
        ("/apis/policy/v1/namespaces/default/poddisruptionbudgets", json!({"metadata": {"name": "x"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}}), "Name,Min Available,Max Unavailable,Allowed Disruptions,Age"),
        ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", json!({"metadata": {"name": "x"}, "rules": []}), "Name,Created At"),
        ("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", json!({"metadata": {"name": "x"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "x"}, "subjects": [{"kind": "User", "name": "jane"}]}), "Name,Role,Age,Users,Groups,ServiceAccounts"),
        ("/apis/scheduling.k8s.io/v1/priorityclasses", json!({"metadata": {"name": "x"}, "value": 1000}), "Name,Value,Global-Default,Age,PreemptionPolicy"),
        ("/apis/events.k8s.io/v1/namespaces/default/events", json!({"metadata": {"name": "y"}, "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "kubelet", "reportingInstance": "node-1", "action": "Pulled", "reason": "Pulled", "regarding": {"kind": "Pod", "name": "web"}, "note": "Pulled image", "type": "Normal"}), "Last Seen,Type,Reason,Object,Subobject,Source,Message,First Seen,Count,Name"),
    ];
    // Some collections hold objects already (system PriorityClasses; the core
    // Events events.k8s.io shares), so each create adds one row to what was there.
    let rows = |t: &Value| t["rows"].as_array().unwrap().len();
    for (collection, body, expected) in cases {
        let before = rows(&table(&mut c, collection));
        create(&mut c, collection, body);
        let t = table(&mut c, collection);
        assert_eq!(headers(&t).join(","), expected, "{collection}");
        assert_eq!(rows(&t), before + 1, "{collection}");
    }
}

#[test]
fn cells_for_jobs_events_hpas_and_bindings() {
    let mut c = Cluster::new();
    create(
        &mut c,
        "/apis/batch/v1/namespaces/default/jobs",
        json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}}}),
    );
    c.patch(
        "/apis/batch/v1/namespaces/default/jobs/pi/status",
        "application/merge-patch+json",
        json!({"status": {"startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:00:12Z", "succeeded": 1,
            "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}}),
    );
    create(
        &mut c,
        "/api/v1/namespaces/default/events",
        json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"}, "reason": "Pulled", "message": " Pulled image ", "type": "Normal", "source": {"component": "kubelet", "host": "node-1"}, "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:30Z", "count": 3}),
    );
    create(
        &mut c,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
        json!({"metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 6, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}}),
    );
    create(
        &mut c,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "team"}, {"kind": "Group", "name": "devs"}]}),
    );
    c.world.advance(60_000);
    let job = table(&mut c, "/apis/batch/v1/namespaces/default/jobs");
    assert_eq!(
        job["rows"][0]["cells"],
        json!([
            "pi",
            "Complete",
            "1/1",
            "12s",
            "60s",
            "pi",
            "perl",
            format!(
                "batch.kubernetes.io/controller-uid={}",
                job["rows"][0]["object"]["metadata"]["uid"]
                    .as_str()
                    .unwrap()
            )
        ])
    );
    let events = table(&mut c, "/api/v1/namespaces/default/events");
    assert_eq!(
        events["rows"][0]["cells"],
        json!([
            "30s",
            "Normal",
            "Pulled",
            "pod/web-1",
            "spec.containers{web}",
            "kubelet, node-1",
            "Pulled image",
            "60s",
            3,
            "e"
        ])
    );
    let hpa = table(
        &mut c,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
    );
    assert_eq!(
        hpa["rows"][0]["cells"],
        json!([
            "web",
            "Deployment/web",
            "cpu: <unknown>/50%",
            "1",
            6,
            0,
            "60s"
        ])
    );
    let crb = table(
        &mut c,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    );
    assert_eq!(
        crb["rows"][0]["cells"],
        json!(["b", "ClusterRole/view", "60s", "", "devs", "team/sa"])
    );
}

/// A watch that asks for Tables (as `kubectl get -w` does) gets a one-row Table per
/// event, printed when taken; only the first carries the column definitions.
#[test]
fn table_watches_send_one_row_tables_with_headers_once() {
    let mut c = Cluster::new();
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let rv = c.world.api().resource_version().to_string();
    let watch = c
        .send(
            Request::get("/api/v1/namespaces/default/configmaps")
                .with_query("watch", "true")
                .with_query("resourceVersion", rv)
                .with_header("Accept", accept),
        )
        .watch_id()
        .unwrap();
    let plain = c.watch_from_now("/api/v1/namespaces/default/configmaps");
    create(
        &mut c,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "a"}, "data": {"k": "v"}}),
    );
    create(
        &mut c,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "b"}}),
    );
    let events = c.world.take_watch_events(watch);
    let objects: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.object).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["kind"], "Table");
    assert_eq!(headers(&objects[0]), ["Name", "Data", "Age"]);
    assert_eq!(objects[0]["rows"][0]["cells"], json!(["a", 1, "0s"]));
    assert_eq!(
        objects[0]["rows"][0]["object"]["kind"],
        "PartialObjectMetadata"
    );
    assert_eq!(objects[1]["columnDefinitions"], Value::Null);
    assert_eq!(objects[1]["rows"][0]["cells"], json!(["b", 0, "0s"]));
    assert_eq!(
        objects[1]["metadata"]["resourceVersion"],
        events[1].rv.to_string()
    );
    // Other watchers still get the objects themselves.
    let raw: Value = serde_json::from_str(&c.world.take_watch_events(plain)[0].object).unwrap();
    assert_eq!(raw["kind"], "ConfigMap");
}
