//! The EndpointSlice controller, as upstream's: for every Service with a
//! selector it keeps EndpointSlices (`<service>-<random>`, at most 100
//! endpoints each, one set per distinct port mapping) listing the selected pods'
//! IPs with their ready/serving/terminating conditions, node, zone and pod
//! reference. A Service with no endpoints keeps one empty placeholder slice.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{json, Value};

use super::owners::controller_ref;
use super::service_endpoints::{selector_of, EndpointPort, PodEndpoint, ServiceWatch};
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::Informer;
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "endpointslice-controller";
/// The label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The label naming who manages a slice.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// Upstream's `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// Keeps each Service's EndpointSlices in step with its pods.
pub struct EndpointSliceController {
    watch: ServiceWatch,
    slices: Informer<EndpointSlice>,
}

impl Default for EndpointSliceController {
    fn default() -> Self {
        EndpointSliceController {
            watch: ServiceWatch::default(),
            slices: Informer::new("/apis/discovery.k8s.io/v1/endpointslices")
                .with_query("labelSelector", format!("{MANAGED_BY_LABEL}={MANAGED_BY}")),
        }
    }
}

fn ports_json(ports: &[EndpointPort]) -> Value {
    Value::Array(
        ports
            .iter()
            .map(|p| json!({"name": p.name, "port": p.port, "protocol": p.protocol}))
            .collect(),
    )
}

impl EndpointSliceController {
    fn endpoint_json(&self, e: &PodEndpoint) -> Value {
        let mut endpoint = json!({
            "addresses": [e.ip],
            "conditions": {"ready": e.ready, "serving": e.serving, "terminating": e.terminating},
        });
        if let Some(node) = &e.node {
            endpoint["nodeName"] = json!(node);
        }
        endpoint["targetRef"] =
            json!({"kind": "Pod", "namespace": e.namespace, "name": e.name, "uid": e.uid});
        if let Some(zone) = e.node.as_deref().and_then(|n| self.watch.zone_of(n)) {
            endpoint["zone"] = json!(zone);
        }
        endpoint
    }

    /// The slices the Service should have: (ports, endpoints) per slice.
    fn desired(&self, endpoints: &[PodEndpoint]) -> Vec<(Value, Vec<Value>)> {
        let mut groups: Vec<(Vec<EndpointPort>, Vec<Value>)> = Vec::new();
        for e in endpoints {
            let mut ports = e.ports.clone();
            ports.sort();
            let json = self.endpoint_json(e);
            match groups.iter_mut().find(|(p, _)| *p == ports) {
                Some((_, list)) => list.push(json),
                None => groups.push((ports, vec![json])),
            }
        }
        let mut slices: Vec<(Value, Vec<Value>)> = Vec::new();
        for (ports, list) in groups {
            for chunk in list.chunks(MAX_ENDPOINTS_PER_SLICE) {
                slices.push((ports_json(&ports), chunk.to_vec()));
            }
        }
        if slices.is_empty() {
            slices.push((json!([]), Vec::new()));
        }
        slices
    }

    fn labels(service: &Service) -> Value {
        let mut labels = serde_json::Map::new();
        for (k, v) in service.metadata.labels.iter().flatten() {
            labels.insert(k.clone(), json!(v));
        }
        labels.insert(MANAGED_BY_LABEL.into(), json!(MANAGED_BY));
        labels.insert(
            SERVICE_NAME_LABEL.into(),
            json!(service.metadata.name.clone().unwrap_or_default()),
        );
        Value::Object(labels)
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some((service, endpoints)) = self.watch.endpoints_of(key) else {
            return; // gone: the garbage collector removes its slices
        };
        if selector_of(&service).is_none() {
            return;
        }
        let namespace = service.metadata.namespace.clone().unwrap_or_default();
        let name = service.metadata.name.clone().unwrap_or_default();
        let mut existing: Vec<Value> = self
            .slices
            .in_namespace(&namespace)
            .filter(|slice| {
                slice
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(SERVICE_NAME_LABEL))
                    == Some(&name)
            })
            .filter_map(|slice| serde_json::to_value(slice).ok())
            .collect();
        existing.sort_by(|a, b| {
            a["metadata"]["name"]
                .as_str()
                .cmp(&b["metadata"]["name"].as_str())
        });
        let labels = Self::labels(&service);
        let owner = controller_ref("v1", "Service", &service.metadata);
        let collection = format!("/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices");
        let desired = self.desired(&endpoints);
        let mut current = existing.into_iter();
        for (ports, list) in desired {
            let endpoints = Value::Array(list);
            match current.next() {
                Some(mut slice) => {
                    let same = slice["endpoints"] == endpoints
                        && slice["ports"] == ports
                        && slice["metadata"]["labels"] == labels;
                    if same {
                        continue;
                    }
                    slice["endpoints"] = endpoints;
                    slice["ports"] = ports;
                    slice["metadata"]["labels"] = labels.clone();
                    let slice_name = slice["metadata"]["name"].as_str().unwrap_or("").to_string();
                    ctx.call(Request::put(
                        format!("{collection}/{slice_name}"),
                        slice.to_string(),
                    ));
                }
                None => {
                    let slice = json!({
                        "apiVersion": "discovery.k8s.io/v1",
                        "kind": "EndpointSlice",
                        "metadata": {
                            "generateName": format!("{name}-"),
                            "namespace": namespace,
                            "labels": labels,
                            "ownerReferences": [owner],
                        },
                        "addressType": "IPv4",
                        "endpoints": endpoints,
                        "ports": ports,
                    });
                    ctx.call(Request::post(collection.clone(), slice.to_string()));
                }
            }
        }
        for surplus in current {
            let slice_name = surplus["metadata"]["name"].as_str().unwrap_or("");
            ctx.call(Request::delete(format!("{collection}/{slice_name}")));
        }
    }
}

impl Component for EndpointSliceController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.slices.start(ctx);
        self.watch.start(ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.slices.owns(watch) {
            self.slices.handle(event, ctx);
        } else {
            self.watch.on_event(watch, event, ctx);
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for service in self.watch.on_timer(key, ctx) {
            self.sync(&service, ctx);
        }
    }
}
