//! What both endpoint controllers share: the pods a Service's selector picks
//! (with an IP, not finished), each pod's ready, serving and terminating state,
//! the ports the Service's target ports resolve to on that pod, and the
//! informers that queue a Service when it or one of its pods changes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, Service};

use super::pod_state::{is_finished, is_ready, is_terminating};
use crate::api::labels::LabelSelector;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{Informer, WorkQueue};
use crate::sim::Ctx;

/// One port as an endpoint exposes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EndpointPort {
    pub name: String,
    pub port: i32,
    pub protocol: String,
}

/// One selected pod as an endpoint.
#[derive(Clone, Debug)]
pub struct PodEndpoint {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub ip: String,
    pub node: Option<String>,
    /// Ready, and not terminating (or the Service publishes not-ready addresses).
    pub ready: bool,
    /// Ready, whether or not terminating.
    pub serving: bool,
    pub terminating: bool,
    pub ports: Vec<EndpointPort>,
}

/// The Service's selector, if it has one (Services without one are not managed).
pub fn selector_of(service: &Service) -> Option<LabelSelector> {
    let selector = service.spec.as_ref()?.selector.as_ref()?;
    if selector.is_empty() {
        return None;
    }
    LabelSelector::from_json(&serde_json::json!({ "matchLabels": selector })).ok()
}

/// The port a Service port's `targetPort` names on `pod` (a number, or a
/// container port's name); `None` when the pod has no port of that name.
fn resolve_target(
    service_port: &k8s_openapi::api::core::v1::ServicePort,
    pod: &Pod,
) -> Option<i32> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    match &service_port.target_port {
        None => Some(service_port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port),
    }
}

/// The pod as an endpoint of `service`, or `None` if it is not one.
pub fn endpoint_for(service: &Service, pod: &Pod) -> Option<PodEndpoint> {
    let ip = pod
        .status
        .as_ref()?
        .pod_ip
        .clone()
        .filter(|ip| !ip.is_empty())?;
    if is_finished(pod) {
        return None;
    }
    let spec = service.spec.as_ref()?;
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let terminating = is_terminating(pod);
    let ready = is_ready(pod);
    let ports = spec
        .ports
        .iter()
        .flatten()
        .filter_map(|p| {
            Some(EndpointPort {
                name: p.name.clone().unwrap_or_default(),
                port: resolve_target(p, pod)?,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            })
        })
        .collect();
    Some(PodEndpoint {
        name: pod.metadata.name.clone().unwrap_or_default(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        ip,
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        ready: publish || (ready && !terminating),
        serving: publish || ready,
        terminating,
        ports,
    })
}

/// Every endpoint of `service` among `pods` (its namespace's pods), by pod name.
pub fn endpoints<'a>(service: &Service, pods: impl Iterator<Item = &'a Pod>) -> Vec<PodEndpoint> {
    let Some(selector) = selector_of(service) else {
        return Vec::new();
    };
    let mut found: Vec<PodEndpoint> = pods
        .filter(|p| selector.matches_map(p.metadata.labels.as_ref()))
        .filter_map(|p| endpoint_for(service, p))
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The informers and queue both endpoint controllers keep: Services, pods and
/// nodes, with a Service queued whenever it or a pod it selects (before or after
/// the change) changes.
pub struct ServiceWatch {
    pub services: Informer<Service>,
    pub pods: Informer<Pod>,
    pub nodes: Informer<Node>,
    queue: WorkQueue,
}

impl Default for ServiceWatch {
    fn default() -> Self {
        ServiceWatch {
            services: Informer::new("/api/v1/services"),
            pods: Informer::new("/api/v1/pods"),
            nodes: Informer::new("/api/v1/nodes"),
            queue: WorkQueue::new(0),
        }
    }
}

impl ServiceWatch {
    /// Lists and watches; every Service is queued once.
    pub fn start(&mut self, ctx: &mut Ctx) {
        self.nodes.start(ctx);
        self.pods.start(ctx);
        for delta in self.services.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    /// Services in `namespace` whose selector matches `labels`.
    fn selecting(&self, namespace: &str, labels: Option<&BTreeMap<String, String>>) -> Vec<String> {
        self.services
            .in_namespace(namespace)
            .filter(|s| selector_of(s).is_some_and(|sel| sel.matches_map(labels)))
            .map(|s| key_of(&s.metadata))
            .collect()
    }

    /// Takes a watch event and queues the Services it concerns.
    pub fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.services.owns(watch) {
            for delta in self.services.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                let namespace = delta.key.split('/').next().unwrap_or("").to_string();
                let mut keys = Vec::new();
                if let Some(old) = &delta.old {
                    keys.extend(self.selecting(&namespace, old.metadata.labels.as_ref()));
                }
                if let Some(pod) = self.pods.get(&delta.key) {
                    keys.extend(self.selecting(&namespace, pod.metadata.labels.as_ref()));
                }
                for key in keys {
                    self.queue.add(&key, ctx);
                }
            }
        } else if self.nodes.owns(watch) {
            self.nodes.handle(event, ctx);
        }
    }

    /// The Services to sync now.
    pub fn on_timer(&mut self, key: u64, ctx: &mut Ctx) -> Vec<String> {
        self.queue.on_timer(key, ctx)
    }

    /// The Service under `key` and its endpoints, or `None` once it is gone.
    pub fn endpoints_of(&self, key: &str) -> Option<(Service, Vec<PodEndpoint>)> {
        let service = self.services.get(key)?.clone();
        let namespace = service.metadata.namespace.clone().unwrap_or_default();
        let found = endpoints(&service, self.pods.in_namespace(&namespace));
        Some((service, found))
    }

    /// The zone label of a node.
    pub fn zone_of(&self, node: &str) -> Option<String> {
        self.nodes
            .get(node)?
            .metadata
            .labels
            .as_ref()?
            .get("topology.kubernetes.io/zone")
            .cloned()
    }
}
