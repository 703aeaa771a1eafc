//! `metrics.k8s.io/v1beta1`, the resource metrics API metrics-server serves
//! through aggregation: PodMetrics and NodeMetrics (get and list, label
//! selectors) from each running container's simulated usage
//! (`kubelet::usage`), for `kubectl top` and the HorizontalPodAutoscaler.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use super::route::ResourceRequest;
use super::{ApiServer, Env};
use crate::api::labels::LabelSelector;
use crate::api::request::{Request, Response};
use crate::api::status::StatusError;
use crate::kubelet::script::Script;
use crate::kubelet::usage::{self, Usage};

/// The group and version served.
pub const GROUP: &str = "metrics.k8s.io";

/// CPU and memory the node's system daemons (kubelet, runtime) use.
const SYSTEM_USAGE: Usage = Usage {
    cpu_milli: 45,
    memory_bytes: 480 * 1024 * 1024,
};

fn cpu_text(milli: i64) -> String {
    format!("{}n", milli * 1_000_000)
}

fn memory_text(bytes: i64) -> String {
    format!("{}Ki", bytes / 1024)
}

/// Every running pod with each container's usage, as (pod, [(container, usage)]).
type PodUsage = (Pod, Vec<(String, Usage)>);

impl ApiServer {
    fn pods_table(&self) -> usize {
        self.resource_id("", "v1", "pods").expect("built in")
    }

    /// CPU load (millicores) each pod (`namespace/name`) serves for request loops.
    fn load_by_pod(&self) -> BTreeMap<String, i64> {
        let mut generators: BTreeMap<(String, String), i64> = BTreeMap::new();
        for stored in self.served[self.pods_table()].table.scan("", None) {
            if !stored.json.contains("wget") && !stored.json.contains("curl") {
                continue;
            }
            let Ok(pod) = serde_json::from_str::<Pod>(&stored.json) else {
                continue;
            };
            if !usage::is_running(&pod) {
                continue;
            }
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            for container in pod.spec.iter().flat_map(|s| &s.containers) {
                if let Some(host) = usage::load_target(container) {
                    *generators
                        .entry(usage::service_of_host(&host, &namespace))
                        .or_default() += 1;
                }
            }
        }
        let mut load = BTreeMap::new();
        let Some(slices) = self.resource_id("discovery.k8s.io", "v1", "endpointslices") else {
            return load;
        };
        for ((namespace, service), count) in generators {
            let prefix = format!("{namespace}/");
            let mut ready: Vec<String> = Vec::new();
            for stored in self.served[slices].table.scan(&prefix, None) {
                let slice = stored.value();
                if slice["metadata"]["labels"]["kubernetes.io/service-name"] != service.as_str() {
                    continue;
                }
                for endpoint in slice["endpoints"].as_array().into_iter().flatten() {
                    let name = endpoint["targetRef"]["name"].as_str().unwrap_or("");
                    if endpoint["conditions"]["ready"] == true && !ready.iter().any(|r| r == name) {
                        ready.push(name.to_string());
                    }
                }
            }
            if ready.is_empty() {
                continue;
            }
            let share = count * usage::LOAD_PER_GENERATOR_MILLI / ready.len() as i64;
            for name in ready {
                *load.entry(format!("{namespace}/{name}")).or_default() += share;
            }
        }
        load
    }

    /// Running pods in `namespace` (all when `None`) matching `selector`, with usage.
    fn pod_usage(
        &self,
        namespace: Option<&str>,
        selector: &LabelSelector,
        now_ms: i64,
    ) -> Vec<PodUsage> {
        let load = self.load_by_pod();
        let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
        let mut found = Vec::new();
        for stored in self.served[self.pods_table()].table.scan(&prefix, None) {
            let labels: Vec<(&str, &str)> = stored
                .labels
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_ref()))
                .collect();
            if !selector.matches_pairs(&labels) {
                continue;
            }
            let Ok(pod) = serde_json::from_str::<Pod>(&stored.json) else {
                continue;
            };
            if !usage::is_running(&pod) {
                continue;
            }
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            let script = Script::of(pod.metadata.annotations.as_ref());
            let mut extra = load.get(stored.key.as_ref()).copied().unwrap_or(0);
            let containers: Vec<(String, Usage)> = pod
                .spec
                .iter()
                .flat_map(|s| &s.containers)
                .map(|c| {
                    let mut used = usage::idle(&uid, c);
                    used.memory_bytes += usage::workload_memory_bytes(c);
                    used.cpu_milli += usage::workload_cpu_milli(c);
                    let running_ms = usage::running_since_ms(&pod, &c.name)
                        .map_or(0, |since| (now_ms - since).max(0) as u64);
                    used.memory_bytes += script.memory_added(running_ms);
                    used.cpu_milli += std::mem::take(&mut extra);
                    if let Some(limit) = usage::limit(c, "cpu") {
                        used.cpu_milli = used.cpu_milli.min(limit.max(1));
                    }
                    (c.name.clone(), used)
                })
                .collect();
            found.push((pod, containers));
        }
        found
    }

    fn pod_metrics(&self, pod: &Pod, containers: &[(String, Usage)], now: &str) -> Value {
        json!({
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": pod.metadata.name,
                "namespace": pod.metadata.namespace,
                "creationTimestamp": now,
                "labels": pod.metadata.labels,
            },
            "timestamp": now,
            "window": "15s",
            "containers": containers.iter().map(|(name, used)| json!({
                "name": name,
                "usage": {"cpu": cpu_text(used.cpu_milli), "memory": memory_text(used.memory_bytes)},
            })).collect::<Vec<_>>(),
        })
    }

    fn node_metrics(&self, selector: &LabelSelector, now: &str, now_ms: i64) -> Vec<Value> {
        let mut by_node: BTreeMap<String, Usage> = BTreeMap::new();
        for (pod, containers) in self.pod_usage(None, &LabelSelector::default(), now_ms) {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            let total = by_node.entry(node).or_default();
            for (_, used) in containers {
                total.cpu_milli += used.cpu_milli;
                total.memory_bytes += used.memory_bytes;
            }
        }
        let nodes = self.resource_id("", "v1", "nodes").expect("built in");
        self.served[nodes]
            .table
            .scan("", None)
            .map(|stored| stored.value())
            .filter(|node| selector.matches_json(node.pointer("/metadata/labels")))
            .filter(|node| {
                // A node whose kubelet stopped reports no metrics.
                node["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
            .map(|node| {
                let name = node["metadata"]["name"].as_str().unwrap_or("").to_string();
                let pods = by_node.get(&name).copied().unwrap_or_default();
                json!({
                    "kind": "NodeMetrics",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {"name": name, "creationTimestamp": now, "labels": node["metadata"]["labels"]},
                    "timestamp": now,
                    "window": "20s",
                    "usage": {
                        "cpu": cpu_text(SYSTEM_USAGE.cpu_milli + pods.cpu_milli),
                        "memory": memory_text(SYSTEM_USAGE.memory_bytes + pods.memory_bytes),
                    },
                })
            })
            .collect()
    }

    /// Serves a `metrics.k8s.io/v1beta1` request.
    pub(super) fn handle_metrics(
        &self,
        req: &Request,
        rr: &ResourceRequest,
        env: &Env,
    ) -> Result<Response, StatusError> {
        if !matches!(rr.verb, "get" | "list") {
            return Err(StatusError::method_not_allowed());
        }
        let now = env.now.rfc3339(self.epoch_unix_ms);
        let now_ms = env.now.unix_millis(self.epoch_unix_ms);
        let selector = LabelSelector::parse(req.query_param("labelSelector").unwrap_or(""))
            .map_err(|e| StatusError::bad_request(format!("unable to parse requirement: {e}")))?;
        let (kind, items) = match rr.resource.as_str() {
            "pods" => (
                "PodMetrics",
                self.pod_usage(rr.namespace.as_deref(), &selector, now_ms)
                    .iter()
                    .filter(|(pod, _)| rr.name.is_none() || pod.metadata.name == rr.name)
                    .map(|(pod, containers)| self.pod_metrics(pod, containers, &now))
                    .collect::<Vec<_>>(),
            ),
            "nodes" => (
                "NodeMetrics",
                self.node_metrics(&selector, &now, now_ms)
                    .into_iter()
                    .filter(|n| {
                        rr.name
                            .as_deref()
                            .is_none_or(|name| n["metadata"]["name"] == name)
                    })
                    .collect(),
            ),
            _ => return Err(StatusError::no_route()),
        };
        let resource = self
            .resource_id(GROUP, "v1beta1", &rr.resource)
            .ok_or_else(StatusError::no_route)?;
        if let Some(name) = rr.name.as_deref() {
            return match items.into_iter().next() {
                Some(item) => Ok(Response::json(200, item.to_string())),
                None => Err(StatusError::not_found(&self.served[resource].info, name)),
            };
        }
        let list = json!({
            "kind": format!("{kind}List"),
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": items,
        });
        Ok(Response::json(200, list.to_string()))
    }
}
