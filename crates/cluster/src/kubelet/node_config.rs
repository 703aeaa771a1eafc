//! What a simulated machine looks like: its name, capacity, labels and taints, and
//! the Node object its kubelet registers (capacity, allocatable, conditions, addresses,
//! node info), shaped as a kubeadm-built cluster's nodes are.

use serde_json::{json, Value};

use crate::KUBERNETES_VERSION;

/// A taint as `kubectl taint` and `sim node add --taint` write it: `key[=value]:Effect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaintSpec {
    pub key: String,
    pub value: String,
    pub effect: String,
}

impl TaintSpec {
    /// Parses `key[=value]:Effect`; the error is upstream's.
    pub fn parse(text: &str) -> Result<TaintSpec, String> {
        let invalid = || format!("invalid taint spec: {text}");
        let (key_value, effect) = text.rsplit_once(':').ok_or_else(invalid)?;
        let (key, value) = key_value.split_once('=').unwrap_or((key_value, ""));
        if key.is_empty() {
            return Err(invalid());
        }
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
            return Err(format!(
                "invalid taint effect: {effect}, unsupported taint effect"
            ));
        }
        Ok(TaintSpec {
            key: key.into(),
            value: value.into(),
            effect: effect.into(),
        })
    }

    /// The taint as the Node spec stores it.
    pub fn to_json(&self) -> Value {
        let mut taint = json!({"key": self.key, "effect": self.effect});
        if !self.value.is_empty() {
            taint["value"] = json!(self.value);
        }
        taint
    }
}

/// One simulated machine.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub name: String,
    /// CPU cores, e.g. `4`.
    pub cpu: String,
    /// Memory as a quantity, e.g. `8Gi`.
    pub memory: String,
    /// The most pods the kubelet runs (upstream's default is 110).
    pub pods: u32,
    pub labels: Vec<(String, String)>,
    pub taints: Vec<TaintSpec>,
    /// Picks the node's IP (`172.18.0.{index+2}`) and pod CIDR (`10.244.{index}.0/24`).
    pub index: u32,
}

/// The label kubeadm puts on control-plane nodes, and the taint that goes with it.
pub const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";

/// The zones default nodes spread over.
pub const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

/// Memory the kubelet holds back for hard eviction (`memory.available<100Mi`).
const EVICTION_RESERVE_BYTES: i64 = 100 << 20;

impl NodeConfig {
    /// A worker with `cpu` cores and `memory`, labelled for its zone.
    pub fn worker(name: &str, index: u32, cpu: &str, memory: &str) -> NodeConfig {
        NodeConfig {
            name: name.into(),
            cpu: cpu.into(),
            memory: memory.into(),
            pods: 110,
            labels: vec![(
                "topology.kubernetes.io/zone".into(),
                // node-1, node-2, node-3 land in zone-a, zone-b, zone-c.
                ZONES[(index as usize + ZONES.len() - 1) % ZONES.len()].into(),
            )],
            taints: Vec::new(),
            index,
        }
    }

    /// The default cluster: `control-plane` (tainted as kubeadm does) and three
    /// workers `node-1`..`node-3`, one per zone.
    pub fn default_cluster() -> Vec<NodeConfig> {
        let mut control_plane = NodeConfig::worker("control-plane", 0, "2", "4Gi");
        control_plane
            .labels
            .push((CONTROL_PLANE_LABEL.into(), String::new()));
        control_plane.labels.push((
            "node.kubernetes.io/exclude-from-external-load-balancers".into(),
            String::new(),
        ));
        control_plane.taints.push(TaintSpec {
            key: CONTROL_PLANE_LABEL.into(),
            value: String::new(),
            effect: "NoSchedule".into(),
        });
        let mut nodes = vec![control_plane];
        for i in 1..=3 {
            nodes.push(NodeConfig::worker(&format!("node-{i}"), i, "4", "8Gi"));
        }
        nodes
    }

    /// The node's internal IP.
    pub fn internal_ip(&self) -> String {
        format!("172.18.{}.{}", self.index / 250, self.index % 250 + 2)
    }

    /// The node's pod CIDR.
    pub fn pod_cidr(&self) -> String {
        format!("10.244.{}.0/24", self.index % 256)
    }

    /// Capacity as the kubelet reports it (memory in Ki).
    fn capacity(&self) -> Value {
        let memory = crate::api::quantity::value(&self.memory).unwrap_or(0);
        json!({
            "cpu": self.cpu,
            "ephemeral-storage": "102626232Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": format!("{}Ki", memory / 1024),
            "pods": self.pods.to_string(),
        })
    }

    /// Allocatable: capacity less the hard-eviction reserves.
    fn allocatable(&self) -> Value {
        let memory = crate::api::quantity::value(&self.memory).unwrap_or(0);
        json!({
            "cpu": self.cpu,
            "ephemeral-storage": "94580335255",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": format!("{}Ki", (memory - EVICTION_RESERVE_BYTES).max(0) / 1024),
            "pods": self.pods.to_string(),
        })
    }

    /// Allocatable resources by name, as quantities.
    pub fn allocatable_quantities(&self) -> std::collections::BTreeMap<String, String> {
        super::env::quantities(&self.allocatable())
    }

    /// The Node the kubelet registers, with its initial status.
    pub fn node_object(&self, now: &str, boot_id: &str) -> Value {
        let mut labels = serde_json::Map::new();
        labels.insert("beta.kubernetes.io/arch".into(), json!("amd64"));
        labels.insert("beta.kubernetes.io/os".into(), json!("linux"));
        labels.insert("kubernetes.io/arch".into(), json!("amd64"));
        labels.insert("kubernetes.io/hostname".into(), json!(self.name));
        labels.insert("kubernetes.io/os".into(), json!("linux"));
        for (k, v) in &self.labels {
            labels.insert(k.clone(), json!(v));
        }
        let mut spec = json!({"podCIDR": self.pod_cidr(), "podCIDRs": [self.pod_cidr()]});
        if !self.taints.is_empty() {
            spec["taints"] = self.taints.iter().map(TaintSpec::to_json).collect();
        }
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "labels": labels,
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": spec,
            "status": {
                "capacity": self.capacity(),
                "allocatable": self.allocatable(),
                "conditions": conditions(now, true),
                "addresses": [
                    {"type": "InternalIP", "address": self.internal_ip()},
                    {"type": "Hostname", "address": self.name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": boot_id,
                    "containerRuntimeVersion": "containerd://2.1.4",
                    "kernelVersion": "6.8.0-kubecraft",
                    "kubeProxyVersion": "",
                    "kubeletVersion": KUBERNETES_VERSION,
                    "machineID": boot_id.replace('-', ""),
                    "operatingSystem": "linux",
                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "systemUUID": boot_id,
                },
            },
        })
    }
}

/// The node conditions a healthy kubelet reports, with upstream's reasons and messages.
pub fn conditions(now: &str, ready: bool) -> Value {
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": kind,
            "status": status,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        })
    };
    let (ready_status, ready_reason, ready_message) = if ready {
        ("True", "KubeletReady", "kubelet is posting ready status")
    } else {
        ("False", "KubeletNotReady", "container runtime is down")
    };
    json!([
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available"
        ),
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure"
        ),
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available"
        ),
        condition("Ready", ready_status, ready_reason, ready_message),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taint_specs() {
        let t = TaintSpec::parse("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!((t.key.as_str(), t.value.as_str()), ("dedicated", "gpu"));
        assert_eq!(TaintSpec::parse("k:NoExecute").unwrap().value, "");
        assert_eq!(
            TaintSpec::parse("k=v:Sometimes").unwrap_err(),
            "invalid taint effect: Sometimes, unsupported taint effect"
        );
        assert_eq!(
            TaintSpec::parse("novalue").unwrap_err(),
            "invalid taint spec: novalue"
        );
    }

    #[test]
    fn allocatable_holds_back_the_eviction_reserve() {
        let node = NodeConfig::worker("n", 1, "4", "8Gi").node_object("t", "b");
        assert_eq!(node["status"]["capacity"]["memory"], "8388608Ki");
        assert_eq!(node["status"]["allocatable"]["memory"], "8286208Ki");
        assert_eq!(
            node["metadata"]["labels"]["topology.kubernetes.io/zone"],
            "zone-a"
        );
        assert_eq!(node["spec"]["podCIDR"], "10.244.1.0/24");
    }
}
