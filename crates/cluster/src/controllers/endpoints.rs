//! The Endpoints controller, as upstream's: the legacy `Endpoints` object of a
//! Service with a selector, named like the Service, with ready pods under
//! `addresses`, not-ready ones under `notReadyAddresses` (terminating pods left
//! out), grouped into subsets by port mapping.

use serde_json::{json, Value};

use super::service_endpoints::{selector_of, EndpointPort, ServiceWatch};
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "endpoints-controller";

/// Keeps each Service's Endpoints object in step with its pods.
#[derive(Default)]
pub struct EndpointsController {
    watch: ServiceWatch,
}

fn address(e: &super::service_endpoints::PodEndpoint) -> Value {
    let mut a = json!({"ip": e.ip});
    if let Some(node) = &e.node {
        a["nodeName"] = json!(node);
    }
    a["targetRef"] = json!({"kind": "Pod", "namespace": e.namespace, "name": e.name, "uid": e.uid});
    a
}

fn port(p: &EndpointPort) -> Value {
    let mut v = json!({"port": p.port, "protocol": p.protocol});
    if !p.name.is_empty() {
        v["name"] = json!(p.name);
    }
    v
}

impl EndpointsController {
    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some((service, endpoints)) = self.watch.endpoints_of(key) else {
            return;
        };
        if selector_of(&service).is_none() {
            return;
        }
        let mut subsets: Vec<(Vec<EndpointPort>, Vec<Value>, Vec<Value>)> = Vec::new();
        let publish = service
            .spec
            .as_ref()
            .and_then(|s| s.publish_not_ready_addresses)
            .unwrap_or(false);
        for e in endpoints.iter().filter(|e| publish || !e.terminating) {
            let mut ports = e.ports.clone();
            ports.sort();
            let index = match subsets.iter().position(|(p, _, _)| *p == ports) {
                Some(i) => i,
                None => {
                    subsets.push((ports, Vec::new(), Vec::new()));
                    subsets.len() - 1
                }
            };
            if e.ready {
                subsets[index].1.push(address(e));
            } else {
                subsets[index].2.push(address(e));
            }
        }
        let by_ip = |a: &Value, b: &Value| a["ip"].as_str().cmp(&b["ip"].as_str());
        let subsets: Vec<Value> = subsets
            .into_iter()
            .map(|(ports, mut ready, mut not_ready)| {
                ready.sort_by(by_ip);
                not_ready.sort_by(by_ip);
                let mut subset = json!({});
                if !ready.is_empty() {
                    subset["addresses"] = Value::Array(ready);
                }
                if !not_ready.is_empty() {
                    subset["notReadyAddresses"] = Value::Array(not_ready);
                }
                subset["ports"] = Value::Array(ports.iter().map(port).collect());
                subset
            })
            .collect();
        let namespace = service.metadata.namespace.clone().unwrap_or_default();
        let name = service.metadata.name.clone().unwrap_or_default();
        let path = format!("/api/v1/namespaces/{namespace}/endpoints/{name}");
        let labels = json!(service.metadata.labels.clone().unwrap_or_default());
        let current = ctx.call(Request::get(path.clone()));
        if current.status == 200 {
            let mut object = current.body_json();
            let had = object.get("subsets").cloned().unwrap_or(json!([]));
            let labels_now = object["metadata"]
                .get("labels")
                .cloned()
                .unwrap_or(json!({}));
            if had == Value::Array(subsets.clone()) && labels_now == labels {
                return;
            }
            object["subsets"] = Value::Array(subsets);
            object["metadata"]["labels"] = labels;
            ctx.call(Request::put(path, object.to_string()));
        } else {
            let object = json!({
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "subsets": subsets,
            });
            ctx.call(Request::post(
                format!("/api/v1/namespaces/{namespace}/endpoints"),
                object.to_string(),
            ));
        }
    }
}

impl Component for EndpointsController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.watch.start(ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        self.watch.on_event(watch, event, ctx);
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for service in self.watch.on_timer(key, ctx) {
            self.sync(&service, ctx);
        }
    }
}
