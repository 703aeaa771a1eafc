//! The scheduling framework's vocabulary: status codes, statuses with reasons, the
//! plugin interface with upstream's extension points, and the per-pod and per-node
//! facts plugins read (`PodInfo`, `NodeInfo`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};

use super::resources::{self, Resources};

/// Upstream's status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    Success,
    Error,
    Unschedulable,
    /// Preemption cannot help: the pod can never fit this node as it is.
    UnschedulableAndUnresolvable,
    Wait,
    Skip,
    Pending,
}

/// A plugin's verdict: a code, the reasons (as the FailedScheduling message counts
/// them), and the plugin that gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
    pub plugin: &'static str,
}

impl Status {
    /// Success.
    pub fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
            plugin: "",
        }
    }

    /// A failure of `code` with one or more reasons.
    pub fn new(code: Code, reasons: &[&str]) -> Status {
        Status {
            code,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            plugin: "",
        }
    }

    /// Whether the code is Success.
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    /// The reasons joined as upstream's `Status.Message()` does.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// The pod being scheduled, with what plugins compute from it once.
pub struct PodInfo {
    pub pod: Pod,
    pub key: String,
    /// Requests as NodeResourcesFit counts them (init containers, sidecars, overhead).
    pub requests: Resources,
    /// Requests with upstream's non-zero defaults (100m CPU, 200Mi memory) for scoring.
    pub non_zero: Resources,
    pub priority: i32,
    pub host_ports: Vec<(String, String, i32)>,
}

impl PodInfo {
    /// Facts about `pod`, stored under `key`.
    pub fn new(key: &str, pod: Pod) -> PodInfo {
        let PodSummary {
            requests,
            non_zero,
            priority,
            host_ports,
        } = PodSummary::of_pod(&pod);
        PodInfo {
            pod,
            key: key.into(),
            requests,
            non_zero,
            priority,
            host_ports,
        }
    }

    /// The pod's tolerations.
    pub fn tolerations(&self) -> &[Toleration] {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or(&[])
    }
}

/// A node with what is already on it.
#[derive(Clone)]
pub struct NodeInfo {
    pub node: Node,
    pub name: String,
    pub allocatable: Resources,
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pods: BTreeMap<String, PodSummary>,
    pub used_ports: BTreeSet<(String, String, i32)>,
    pub images: BTreeSet<String>,
}

/// What a node's accounting keeps of one pod on it.
#[derive(Clone, Debug)]
pub struct PodSummary {
    pub requests: Resources,
    pub non_zero: Resources,
    pub priority: i32,
    pub host_ports: Vec<(String, String, i32)>,
}

impl NodeInfo {
    /// An empty node.
    pub fn new(node: Node) -> NodeInfo {
        let allocatable = resources::node_allocatable(&node);
        let images = node
            .status
            .iter()
            .flat_map(|s| s.images.iter().flatten())
            .flat_map(|i| i.names.iter().flatten().cloned())
            .collect();
        NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            node,
            allocatable,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: BTreeMap::new(),
            used_ports: BTreeSet::new(),
            images,
        }
    }

    /// Accounts a pod on this node.
    pub fn add_pod(&mut self, key: &str, pod: PodSummary) {
        self.remove_pod(key);
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero);
        self.used_ports.extend(pod.host_ports.iter().cloned());
        self.pods.insert(key.to_string(), pod);
    }

    /// Stops accounting a pod.
    pub fn remove_pod(&mut self, key: &str) {
        if let Some(old) = self.pods.remove(key) {
            self.requested.subtract(&old.requests);
            self.non_zero_requested.subtract(&old.non_zero);
            for port in &old.host_ports {
                if !self.pods.values().any(|p| p.host_ports.contains(port)) {
                    self.used_ports.remove(port);
                }
            }
        }
    }

    /// The node's taints.
    pub fn taints(&self) -> &[Taint] {
        self.node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[])
    }
}

impl PodSummary {
    /// The accounting of `pod`.
    pub fn of_pod(pod: &Pod) -> PodSummary {
        PodSummary {
            requests: resources::pod_requests(pod),
            non_zero: resources::non_zero_requests(pod),
            priority: pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0),
            host_ports: resources::host_ports(pod),
        }
    }

    /// The accounting of `info`'s pod.
    pub fn of(info: &PodInfo) -> PodSummary {
        PodSummary {
            requests: info.requests.clone(),
            non_zero: info.non_zero.clone(),
            priority: info.priority,
            host_ports: info.host_ports.clone(),
        }
    }
}

/// The highest score a plugin gives after normalisation.
pub const MAX_NODE_SCORE: i64 = 100;

/// A plugin: implement the extension points it takes part in.
pub trait Plugin {
    /// Upstream's plugin name, e.g. `NodeResourcesFit`.
    fn name(&self) -> &'static str;

    /// PreEnqueue: whether the pod may enter the active queue at all.
    fn pre_enqueue(&self, _pod: &Pod) -> Status {
        Status::success()
    }

    /// Whether the plugin has a Filter.
    fn filters(&self) -> bool {
        false
    }

    /// Filter: whether the pod fits the node.
    fn filter(&self, _pod: &PodInfo, _node: &NodeInfo) -> Status {
        Status::success()
    }

    /// Whether the plugin has a Score.
    fn scores(&self) -> bool {
        false
    }

    /// Score: the raw score of the node for the pod.
    fn score(&self, _pod: &PodInfo, _node: &NodeInfo) -> i64 {
        0
    }

    /// NormalizeScore: rescales the raw scores to 0..=100 in place.
    fn normalize(&self, _pod: &PodInfo, _scores: &mut [i64]) {}
}
