//! A tiny harness: a world and JSON helpers for API requests.

use kubecraft_cluster::api::{Request, Response};
use kubecraft_cluster::sim::World;
use serde_json::{json, Value};

/// Decodes `%XX` escapes in a query value.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            text.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct Cluster {
    pub world: World,
}

impl Cluster {
    pub fn new() -> Self {
        Cluster {
            world: World::new(1),
        }
    }

    pub fn with_world(world: World) -> Self {
        Cluster { world }
    }

    pub fn send(&mut self, req: Request) -> Response {
        self.world.call("test", &req)
    }

    /// Watches `path` from the current resourceVersion: only changes made from now on.
    pub fn watch_from_now(&mut self, path: &str) -> kubecraft_cluster::apiserver::watch::WatchId {
        let from = self.world.api().resource_version().to_string();
        self.send(
            Request::get(path)
                .with_query("watch", "true")
                .with_query("resourceVersion", from),
        )
        .watch_id()
        .expect("a watch")
    }

    pub fn json(&mut self, req: Request) -> (u16, Value) {
        let response = self.send(req);
        (response.status, response.body_json())
    }

    /// GETs `path`, which may carry a query (`?labelSelector=app%3Dweb`).
    pub fn get(&mut self, path: &str) -> (u16, Value) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut req = Request::get(path);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            req = req.with_query(key, percent_decode(value));
        }
        self.json(req)
    }

    pub fn post(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.json(Request::post(path, body.to_string()))
    }

    pub fn put(&mut self, path: &str, body: Value) -> (u16, Value) {
        self.json(Request::put(path, body.to_string()))
    }

    pub fn patch(&mut self, path: &str, content_type: &str, body: Value) -> (u16, Value) {
        self.json(Request::patch(path, content_type, body.to_string()))
    }

    pub fn delete(&mut self, path: &str) -> (u16, Value) {
        self.json(Request::delete(path))
    }

    /// The events in `default` about the object named `about` with `reason`.
    fn events_about(&mut self, about: &str, reason: &str) -> Vec<Value> {
        let (_, list) = self.get("/api/v1/namespaces/default/events");
        let mut items = list["items"].as_array().unwrap().clone();
        items.retain(|e| e["involvedObject"]["name"] == about && e["reason"] == reason);
        items
    }

    /// The messages of events in `default` about the object named `about` with `reason`.
    pub fn events(&mut self, about: &str, reason: &str) -> Vec<String> {
        self.events_about(about, reason)
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect()
    }

    /// How many times events in `default` about `about` with `reason` were recorded
    /// (each aggregated event counts `count` times).
    pub fn event_count(&mut self, about: &str, reason: &str) -> i64 {
        self.events_about(about, reason)
            .iter()
            .map(|e| e["count"].as_i64().unwrap_or(1))
            .sum()
    }

    /// Creates the ServiceAccount `name` in `default`, which must succeed.
    pub fn service_account(&mut self, name: &str) {
        let (code, out) = self.post(
            "/api/v1/namespaces/default/serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}),
        );
        assert_eq!(code, 201, "{out}");
    }

    /// The `type` of each of the object's `status.conditions`, in order.
    pub fn condition_types(obj: &Value) -> Vec<String> {
        obj["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// Creates the pod `body` in `default`, which must succeed.
    pub fn create_pod(&mut self, body: Value) {
        let (code, out) = self.post("/api/v1/namespaces/default/pods", body);
        assert_eq!(code, 201, "{out}");
    }

    /// The node a pod in `default` is bound to (empty while unscheduled).
    pub fn node_of(&mut self, name: &str) -> String {
        let (_, p) = self.get(&format!("/api/v1/namespaces/default/pods/{name}"));
        p["spec"]["nodeName"].as_str().unwrap_or("").to_string()
    }

    /// Creates a pod in `default` with one nginx container and the given labels.
    pub fn pod(&mut self, name: &str, labels: Value) -> Value {
        let (code, body) = self.post("/api/v1/namespaces/default/pods", pod(name, labels));
        assert_eq!(code, 201, "{body}");
        body
    }
}

pub fn pod(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
    })
}

/// A Deployment of `replicas` nginx pods labelled `app=<name>`.
pub fn deployment(name: &str, replicas: i64) -> Value {
    workload("Deployment", name, replicas)
}

/// An apps/v1 workload of `kind` (Deployment, ReplicaSet) selecting `app=<name>`.
pub fn workload(kind: &str, name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}
        }
    })
}

pub fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}
