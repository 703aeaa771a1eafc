//! Resource arithmetic as the scheduler counts it: a pod's effective requests
//! (containers, init containers, restartable sidecars, overhead), scoring's non-zero
//! defaults, and a node's allocatable.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, Pod};

use crate::api::quantity;

/// CPU assumed for scoring when a container requests none (upstream: 100m).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory assumed for scoring when a container requests none (upstream: 200Mi).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 << 20;

/// Amounts of resources: CPU in millicores, memory and storage in bytes, pods, and
/// extended resources (e.g. `nvidia.com/gpu`) by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub pods: i64,
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    /// Adds `other` to these.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.pods += other.pods;
        for (name, amount) in &other.scalar {
            *self.scalar.entry(name.clone()).or_default() += amount;
        }
    }

    /// Takes `other` from these.
    pub fn subtract(&mut self, other: &Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.pods -= other.pods;
        for (name, amount) in &other.scalar {
            *self.scalar.entry(name.clone()).or_default() -= amount;
        }
    }

    /// Each amount the larger of these and `other`.
    fn max(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, amount) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_default();
            *entry = (*entry).max(*amount);
        }
    }

    /// Reads a `ResourceList` (`{"cpu": "100m", ...}`).
    pub fn from_list<'a>(list: impl IntoIterator<Item = (&'a String, &'a str)>) -> Resources {
        let mut r = Resources::default();
        for (name, amount) in list {
            match name.as_str() {
                "cpu" => r.milli_cpu = quantity::milli_value(amount).unwrap_or(0),
                "memory" => r.memory = quantity::value(amount).unwrap_or(0),
                "ephemeral-storage" => r.ephemeral_storage = quantity::value(amount).unwrap_or(0),
                "pods" => r.pods = quantity::value(amount).unwrap_or(0),
                n if is_extended(n) => {
                    r.scalar
                        .insert(n.to_string(), quantity::value(amount).unwrap_or(0));
                }
                _ => {}
            }
        }
        r
    }
}

/// Whether a resource name is an extended (scalar) resource the scheduler tracks.
fn is_extended(name: &str) -> bool {
    name.starts_with("hugepages-") || (name.contains('/') && !name.starts_with("kubernetes.io/"))
}

fn container_requests(c: &Container) -> Resources {
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    Resources::from_list(
        requests
            .into_iter()
            .flatten()
            .map(|(k, v)| (k, v.0.as_str())),
    )
}

fn container_limits(c: &Container) -> Resources {
    let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
    Resources::from_list(limits.into_iter().flatten().map(|(k, v)| (k, v.0.as_str())))
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// The pod's effective requests: max(sum of containers + sidecars, each init container
/// while the sidecars before it run) plus overhead, and one pod.
fn effective(pod: &Pod, per_container: impl Fn(&Container) -> Resources) -> Resources {
    let Some(spec) = &pod.spec else {
        return Resources::default();
    };
    let mut total = Resources::default();
    for c in &spec.containers {
        total.add(&per_container(c));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let r = per_container(c);
        if is_sidecar(c) {
            sidecars.add(&r);
            init_peak.max(&sidecars);
        } else {
            let mut during = sidecars.clone();
            during.add(&r);
            init_peak.max(&during);
        }
    }
    total.add(&sidecars);
    total.max(&init_peak);
    if let Some(overhead) = &spec.overhead {
        total.add(&Resources::from_list(
            overhead.iter().map(|(k, v)| (k, v.0.as_str())),
        ));
    }
    total.pods = 1;
    total
}

/// What NodeResourcesFit checks against allocatable.
pub fn pod_requests(pod: &Pod) -> Resources {
    effective(pod, container_requests)
}

/// The pod's effective limits, summed as upstream's `PodLimits` sums them.
pub fn pod_limits(pod: &Pod) -> Resources {
    effective(pod, container_limits)
}

/// Requests with the non-zero defaults scoring uses for containers that set none.
pub fn non_zero_requests(pod: &Pod) -> Resources {
    effective(pod, |c| {
        let mut r = container_requests(c);
        let set = |name: &str| {
            c.resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .is_some_and(|m| m.contains_key(name))
        };
        if !set("cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !set("memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
        r
    })
}

/// The node's allocatable resources.
pub fn node_allocatable(node: &Node) -> Resources {
    let list = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    Resources::from_list(list.into_iter().flatten().map(|(k, v)| (k, v.0.as_str())))
}

/// The host ports the pod asks for as (hostIP, protocol, port).
pub fn host_ports(pod: &Pod) -> Vec<(String, String, i32)> {
    let spec = pod.spec.iter();
    spec.flat_map(|s| {
        s.containers
            .iter()
            .chain(s.init_containers.iter().flatten())
    })
    .flat_map(|c| c.ports.iter().flatten())
    .filter_map(|p| {
        let host_port = p.host_port.filter(|hp| *hp > 0)?;
        Some((
            p.host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
            p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            host_port,
        ))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn init_containers_and_sidecars_count_as_upstream() {
        let p = pod(json!({
            "initContainers": [
                {"name": "big-init", "resources": {"requests": {"cpu": "2"}}},
                {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                {"name": "late-init", "resources": {"requests": {"cpu": "1800m"}}},
            ],
            "containers": [{"name": "app", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            "overhead": {"cpu": "100m"},
        }));
        let r = pod_requests(&p);
        // max(app 1 + sidecar 0.5, big-init 2, sidecar 0.5 + late-init 1.8) + overhead 0.1
        assert_eq!(r.milli_cpu, 2_400);
        assert_eq!(r.memory, 1 << 30);
        assert_eq!(r.pods, 1);
    }

    #[test]
    fn scoring_assumes_defaults_for_unset_requests() {
        let p = pod(json!({"containers": [{"name": "a"}]}));
        assert_eq!(pod_requests(&p).milli_cpu, 0);
        let nz = non_zero_requests(&p);
        assert_eq!((nz.milli_cpu, nz.memory), (100, 200 << 20));
    }

    #[test]
    fn extended_resources_are_tracked() {
        let p = pod(
            json!({"containers": [{"name": "a", "resources": {"requests": {"nvidia.com/gpu": "2"}}}]}),
        );
        assert_eq!(pod_requests(&p).scalar["nvidia.com/gpu"], 2);
    }
}
