//! The EndpointSlice and Endpoints controllers: a Service's selected pods appear
//! with their IPs, readiness, node, zone and resolved target ports; a Service
//! without pods keeps an empty slice; a terminating pod is marked, then gone.

use crate::common;

use common::{deployment, Cluster};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

fn service(name: &str, app: &str, target: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"team": "a"}},
        "spec": {"selector": {"app": app},
            "ports": [{"name": "http", "port": 80, "targetPort": target}]}
    })
}

fn slices(c: &mut Cluster, service: &str) -> Vec<Value> {
    let (_, list) = c.json(
        Request::get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices").with_query(
            "labelSelector",
            format!("kubernetes.io/service-name={service}"),
        ),
    );
    list["items"].as_array().unwrap().clone()
}

#[test]
fn a_services_pods_become_its_endpoints() {
    let mut c = Cluster::with_world(cluster::start(51));
    let mut d = deployment("web", 3);
    d["spec"]["template"]["spec"]["containers"][0]["ports"] =
        json!([{"name": "http", "containerPort": 8080}]);
    c.post("/apis/apps/v1/namespaces/default/deployments", d);
    c.post(
        "/api/v1/namespaces/default/services",
        service("web", "web", json!("http")),
    );
    c.post(
        "/api/v1/namespaces/default/services",
        service("empty", "nothing", json!(9090)),
    );
    c.world.settle(300_000);

    let web = slices(&mut c, "web");
    assert_eq!(web.len(), 1);
    let slice = &web[0];
    assert!(slice["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("web-"));
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["metadata"]["labels"]["team"], "a");
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(
        slice["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    let endpoints = slice["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 3);
    for e in endpoints {
        assert_eq!(
            e["conditions"],
            json!({"ready": true, "serving": true, "terminating": false})
        );
        assert_eq!(e["targetRef"]["kind"], "Pod");
        assert!(e["zone"].as_str().unwrap().starts_with("zone-"));
        assert!(e["addresses"][0].as_str().unwrap().starts_with("10.244."));
    }

    let empty = slices(&mut c, "empty");
    assert_eq!(empty.len(), 1, "a placeholder slice");
    assert!(empty[0]["endpoints"]
        .as_array()
        .is_none_or(|e| e.is_empty()));

    let (_, ep) = c.get("/api/v1/namespaces/default/endpoints/web");
    let subset = &ep["subsets"][0];
    assert_eq!(subset["addresses"].as_array().unwrap().len(), 3);
    assert_eq!(
        subset["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );

    // A deleted pod is terminating (not ready) in the slice and gone from Endpoints.
    let victim = endpoints[0]["targetRef"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    c.delete(&format!("/api/v1/namespaces/default/pods/{victim}"));
    c.world.advance(30);
    let slice = &slices(&mut c, "web")[0];
    let marked = slice["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["targetRef"]["name"] == victim.as_str())
        .cloned()
        .expect("the terminating pod is still listed");
    assert_eq!(marked["conditions"]["terminating"], true);
    assert_eq!(marked["conditions"]["ready"], false);
    let (_, ep) = c.get("/api/v1/namespaces/default/endpoints/web");
    let listed: Vec<&str> = ep["subsets"][0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["targetRef"]["name"].as_str().unwrap())
        .collect();
    assert!(!listed.contains(&victim.as_str()));
    c.world.settle(300_000);
    let endpoints = slices(&mut c, "web")[0]["endpoints"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(endpoints.len(), 3);
    assert!(endpoints
        .iter()
        .all(|e| e["targetRef"]["name"] != victim.as_str()));
}
