//! Discovery documents and server-side Tables.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

#[test]
fn core_resource_list_describes_pods_like_upstream() {
    let mut c = Cluster::new();
    let (code, list) = c.get("/api/v1");
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "APIResourceList");
    assert_eq!(list["groupVersion"], "v1");
    let resources = list["resources"].as_array().unwrap();
    let pods = resources.iter().find(|r| r["name"] == "pods").unwrap();
    assert_eq!(
        *pods,
        json!({"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            "shortNames": ["po"], "categories": ["all"]})
    );
    let eviction = resources
        .iter()
        .find(|r| r["name"] == "pods/eviction")
        .unwrap();
    assert_eq!(eviction["group"], "policy");
    assert_eq!(eviction["kind"], "Eviction");
    let sorted: Vec<&str> = resources
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let mut expected = sorted.clone();
    expected.sort();
    assert_eq!(sorted, expected);
}

#[test]
fn group_list_and_version() {
    let mut c = Cluster::new();
    let (_, groups) = c.get("/apis");
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "apps");
    assert!(names.contains(&"apiextensions.k8s.io"));
    assert_eq!(
        groups["groups"][0]["preferredVersion"],
        json!({"groupVersion": "apps/v1", "version": "v1"})
    );
    let (_, apps) = c.get("/apis/apps/v1");
    let deploy = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .unwrap()
        .clone();
    assert_eq!(deploy["group"], "autoscaling");
    let (_, version) = c.get("/version");
    assert_eq!(version["gitVersion"], "v1.35.0");
    assert_eq!(version["minor"], "35");
    let (_, api) = c.get("/api");
    assert_eq!(api["versions"], json!(["v1"]));
}

fn table(c: &mut Cluster, path: &str) -> Value {
    let response = c.send(Request::get(path).with_header("Accept", TABLE));
    assert_eq!(response.status, 200);
    response.body_json()
}

fn column_names(t: &Value) -> Vec<(String, i64)> {
    t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn pod_table_has_upstreams_columns_and_cells() {
    let mut c = Cluster::new();
    c.pod("web-1", json!({}));
    c.world.advance(200_000);
    let t = table(&mut c, "/api/v1/namespaces/default/pods");
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(
        column_names(&t),
        [
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1)
        ]
        .map(|(n, p)| (n.to_string(), p))
        .to_vec()
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["web-1", "0/1", "Pending", "0", "3m20s", "<none>", "<none>", "<none>", "<none>"])
    );
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

#[test]
fn service_deployment_namespace_and_default_tables() {
    let mut c = Cluster::new();
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        common::deployment("web", 3),
    );
    let t = table(&mut c, "/apis/apps/v1/namespaces/default/deployments");
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["web", "0/3", 0, 0, "0s", "web", "nginx:1.27", "app=web"])
    );
    let t = table(&mut c, "/api/v1/namespaces");
    assert_eq!(t["rows"][0]["cells"], json!(["default", "Active", "0s"]));
    let t = table(&mut c, "/api/v1/namespaces/default/services");
    let cells = &t["rows"][0]["cells"];
    assert_eq!(cells[0], "kubernetes");
    assert_eq!(cells[1], "ClusterIP");
    assert_eq!(cells[2], "10.96.0.1");
    assert_eq!(cells[4], "443/TCP");
    c.post(
        "/apis/coordination.k8s.io/v1/namespaces/default/leases",
        json!({"metadata": {"name": "l"}}),
    );
    let t = table(
        &mut c,
        "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
    );
    assert_eq!(column_names(&t)[0].0, "Name");
}
