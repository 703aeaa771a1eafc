//! The scheduling framework's vocabulary: status codes, statuses with reasons, the
//! plugin interface with upstream's extension points, the per-pod and per-node
//! facts plugins read (`PodInfo`, `NodeInfo`), the cluster they see at PreFilter and
//! PreScore (`ClusterView`) and the state one cycle keeps (`CycleState`), from
//! PreFilter through the binding cycle.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};

use super::affinity_terms::{Labels, PodAffinityTerms};
use super::listers::Listers;
use super::match_count_memo::MatchCountMemo;
use super::pod_label_index::PodLabelIndex;
use super::resources::{self, Resources};
use super::waiting_pods::WaitingPods;
use crate::sim::{Ctx, Duration};

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

    /// Whether the pod was turned away (Unschedulable, UnschedulableAndUnresolvable
    /// or Pending), as opposed to an error (upstream's `IsRejected`).
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable | Code::Pending
        )
    }

    /// Skip: the plugin has nothing to do for this pod at the next extension point.
    pub fn skip() -> Status {
        Status::new(Code::Skip, &[])
    }

    /// Skip when the plugin has `nothing_to_do`, else Success (PreFilter and
    /// PreScore plugins that only decide whether their next point runs).
    pub fn skip_if(nothing_to_do: bool) -> Status {
        if nothing_to_do {
            Status::skip()
        } else {
            Status::success()
        }
    }

    /// The reasons joined as upstream's `Status.Message()` does.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// The pod being scheduled, with what plugins compute from it once.
pub struct PodInfo {
    /// The pod as the informer holds it (shared, not copied).
    pub pod: Arc<Pod>,
    pub key: String,
    pub namespace: String,
    pub labels: Labels,
    /// Its inter-pod (anti-)affinity terms, when it has any.
    pub affinity: Option<Arc<PodAffinityTerms>>,
    /// Requests as NodeResourcesFit counts them (init containers, sidecars, overhead).
    pub requests: Resources,
    /// Requests with upstream's non-zero defaults (100m CPU, 200Mi memory) for scoring.
    pub non_zero: Resources,
    pub priority: i32,
    pub host_ports: Vec<(String, String, i32)>,
}

impl PodInfo {
    /// Facts about `pod`, stored under `key`.
    pub fn new(key: &str, pod: impl Into<Arc<Pod>>) -> PodInfo {
        let pod = pod.into();
        let PodSummary {
            requests,
            non_zero,
            priority,
            host_ports,
            namespace,
            labels,
            affinity,
            ..
        } = PodSummary::of_pod(&pod);
        PodInfo {
            pod,
            key: key.into(),
            namespace,
            labels,
            affinity,
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
    /// The keys of `pods` by label pair.
    pub pods_by_label: PodLabelIndex,
    /// How many of those pods have terms that weigh in InterPodAffinity's score
    /// (required affinity, preferred affinity or anti-affinity), and how many have
    /// required anti-affinity.
    pub pods_with_scoring_affinity: usize,
    pub pods_with_required_anti_affinity: usize,
    pub used_ports: BTreeSet<(String, String, i32)>,
    /// The images the node reports, by each of their names, with their sizes in bytes.
    pub images: BTreeMap<String, i64>,
    /// How many of `pods` a spreading selector matched last (see [`MatchCountMemo`]).
    pub match_counts: MatchCountMemo,
    /// Moves whenever the node or its pods change; unique in the process, so a
    /// memo that saw this generation saw exactly this node (see [`next_generation`]).
    pub generation: u64,
    /// The node's hostname and zone labels, which spreading and affinity read for
    /// every node of a cycle (kept apart so reading them searches no label map).
    hostname: Option<String>,
    zone: Option<String>,
}

/// The well-known topology keys.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// A fresh node generation. Generations only tell memos whether a node changed;
/// nothing the scheduler decides depends on their values.
pub fn next_generation() -> u64 {
    static GENERATIONS: AtomicU64 = AtomicU64::new(1);
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
}

/// What a node's accounting keeps of one pod on it.
#[derive(Clone, Debug)]
pub struct PodSummary {
    pub requests: Resources,
    pub non_zero: Resources,
    pub priority: i32,
    pub host_ports: Vec<(String, String, i32)>,
    pub namespace: String,
    pub labels: Labels,
    /// Being deleted: spreading does not count it.
    pub terminating: bool,
    /// When the kubelet started it (unix ms), if it has.
    pub started_ms: Option<i64>,
    pub affinity: Option<Arc<PodAffinityTerms>>,
}

/// `status.startTime` in unix ms.
fn started_ms(pod: &Pod) -> Option<i64> {
    let start = pod.status.as_ref()?.start_time.as_ref()?;
    Some(start.0.as_millisecond())
}

impl PodSummary {
    /// Whether this summary still describes `pod` in what changes after binding:
    /// labels, start time, deletion.
    pub fn describes(&self, pod: &Pod) -> bool {
        self.labels == *pod.metadata.labels.as_ref().unwrap_or(&BTreeMap::new())
            && self.started_ms == started_ms(pod)
            && self.terminating == pod.metadata.deletion_timestamp.is_some()
    }

    fn has_scoring_affinity(&self) -> bool {
        self.affinity.as_ref().is_some_and(|a| a.weighs_in_scores())
    }

    fn has_required_anti_affinity(&self) -> bool {
        self.affinity
            .as_ref()
            .is_some_and(|a| !a.required_anti_affinity.is_empty())
    }
}

impl NodeInfo {
    /// An empty node.
    pub fn new(node: Node) -> NodeInfo {
        let allocatable = resources::node_allocatable(&node);
        let images = node
            .status
            .iter()
            .flat_map(|s| s.images.iter().flatten())
            .flat_map(|i| {
                let size = i.size_bytes.unwrap_or(0);
                i.names.iter().flatten().map(move |n| (n.clone(), size))
            })
            .collect();
        let labels = crate::api::node_affinity::node_labels(&node);
        NodeInfo {
            hostname: labels.get(HOSTNAME_LABEL).cloned(),
            zone: labels.get(ZONE_LABEL).cloned(),
            name: node.metadata.name.clone().unwrap_or_default(),
            node,
            allocatable,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: BTreeMap::new(),
            pods_by_label: PodLabelIndex::default(),
            pods_with_scoring_affinity: 0,
            pods_with_required_anti_affinity: 0,
            used_ports: BTreeSet::new(),
            images,
            match_counts: MatchCountMemo::default(),
            generation: next_generation(),
        }
    }

    /// Accounts a pod on this node.
    pub fn add_pod(&mut self, key: &str, pod: PodSummary) {
        self.remove_pod(key);
        self.match_counts.clear();
        self.generation = next_generation();
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero);
        self.used_ports.extend(pod.host_ports.iter().cloned());
        self.pods_with_scoring_affinity += usize::from(pod.has_scoring_affinity());
        self.pods_with_required_anti_affinity += usize::from(pod.has_required_anti_affinity());
        self.pods_by_label.add(key, &pod.labels);
        self.pods.insert(key.to_string(), pod);
    }

    /// Stops accounting a pod.
    pub fn remove_pod(&mut self, key: &str) {
        if let Some(old) = self.pods.remove(key) {
            self.match_counts.clear();
            self.generation = next_generation();
            self.requested.subtract(&old.requests);
            self.non_zero_requested.subtract(&old.non_zero);
            self.pods_with_scoring_affinity -= usize::from(old.has_scoring_affinity());
            self.pods_with_required_anti_affinity -= usize::from(old.has_required_anti_affinity());
            self.pods_by_label.remove(key, &old.labels);
            for port in &old.host_ports {
                if !self.pods.values().any(|p| p.host_ports.contains(port)) {
                    self.used_ports.remove(port);
                }
            }
        }
    }

    /// The node's labels.
    pub fn labels(&self) -> &Labels {
        crate::api::node_affinity::node_labels(&self.node)
    }

    /// The node's value of the label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        match key {
            HOSTNAME_LABEL => self.hostname.as_deref(),
            ZONE_LABEL => self.zone.as_deref(),
            _ => self.labels().get(key).map(String::as_str),
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
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            started_ms: started_ms(pod),
            affinity: PodAffinityTerms::of(pod).map(Arc::new),
        }
    }
}

/// The highest score a plugin gives after normalisation.
pub const MAX_NODE_SCORE: i64 = 100;

/// What plugins see of the whole cluster at PreFilter and PreScore: every node
/// (with the pods on it), the node lists and image counts the cache keeps, and the
/// other objects plugins and preemption consult (`Listers`).
pub struct ClusterView<'a> {
    pub nodes: &'a [&'a NodeInfo],
    /// The nodes holding pods whose terms weigh in InterPodAffinity's score.
    pub nodes_with_scoring_affinity: &'a [&'a NodeInfo],
    /// The nodes holding pods with required anti-affinity.
    pub nodes_with_required_anti_affinity: &'a [&'a NodeInfo],
    /// How many nodes report each image name.
    pub image_nodes: &'a BTreeMap<String, usize>,
    pub listers: &'a Listers,
    /// Each of `nodes`' generation, when `nodes` are the cache's as they are (not a
    /// view with a node swapped for a trial): plugins may keep memos across cycles.
    pub node_generations: Option<&'a [u64]>,
}

/// What one scheduling cycle keeps between extension points (upstream's
/// `CycleState`): data plugins computed at PreFilter and PreScore, and which
/// plugins skipped their Filter or Score.
#[derive(Default)]
pub struct CycleState {
    /// A handful of entries, read for every node a plugin looks at: a short list
    /// compared by the key's address first beats a map of strings.
    data: Vec<(&'static str, Box<dyn Any>)>,
    skipped_filters: BTreeSet<&'static str>,
    skipped_scores: BTreeSet<&'static str>,
}

/// Whether two keys are the same: the same constant (same address) or equal text.
fn same_key(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

impl CycleState {
    /// Stores `value` under `key`.
    pub fn write<T: Any>(&mut self, key: &'static str, value: T) {
        match self.data.iter_mut().find(|(k, _)| same_key(k, key)) {
            Some(entry) => entry.1 = Box::new(value),
            None => self.data.push((key, Box::new(value))),
        }
    }

    /// The value stored under `key`, if it is a `T`.
    pub fn read<T: Any>(&self, key: &str) -> Option<&T> {
        self.data
            .iter()
            .find(|(k, _)| same_key(k, key))
            .and_then(|(_, v)| v.downcast_ref())
    }

    /// Notes that `plugin` skips Filter this cycle.
    pub fn skip_filter(&mut self, plugin: &'static str) {
        self.skipped_filters.insert(plugin);
    }

    /// Whether `plugin` skips Filter this cycle.
    pub fn skips_filter(&self, plugin: &str) -> bool {
        self.skipped_filters.contains(plugin)
    }

    /// Notes that `plugin` skips Score this cycle.
    pub fn skip_score(&mut self, plugin: &'static str) {
        self.skipped_scores.insert(plugin);
    }

    /// Whether `plugin` skips Score this cycle.
    pub fn skips_score(&self, plugin: &str) -> bool {
        self.skipped_scores.contains(plugin)
    }
}

/// Upstream's extension points, in the order a profile's `plugins` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtensionPoint {
    PreEnqueue,
    QueueSort,
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
    Reserve,
    Permit,
    PreBind,
    Bind,
    PostBind,
}

impl ExtensionPoint {
    /// Every extension point, in the order upstream expands `multiPoint` over them.
    pub const ALL: [ExtensionPoint; 12] = [
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::PostFilter,
        ExtensionPoint::Reserve,
        ExtensionPoint::PreScore,
        ExtensionPoint::Score,
        ExtensionPoint::PreBind,
        ExtensionPoint::Bind,
        ExtensionPoint::PostBind,
        ExtensionPoint::Permit,
        ExtensionPoint::PreEnqueue,
        ExtensionPoint::QueueSort,
    ];

    /// The key in a profile's `plugins`, e.g. `preFilter`.
    pub fn config_key(self) -> &'static str {
        match self {
            ExtensionPoint::PreEnqueue => "preEnqueue",
            ExtensionPoint::QueueSort => "queueSort",
            ExtensionPoint::PreFilter => "preFilter",
            ExtensionPoint::Filter => "filter",
            ExtensionPoint::PostFilter => "postFilter",
            ExtensionPoint::PreScore => "preScore",
            ExtensionPoint::Score => "score",
            ExtensionPoint::Reserve => "reserve",
            ExtensionPoint::Permit => "permit",
            ExtensionPoint::PreBind => "preBind",
            ExtensionPoint::Bind => "bind",
            ExtensionPoint::PostBind => "postBind",
        }
    }

    /// Upstream's interface name, as its errors print it, e.g. `FilterPlugin`.
    pub fn interface_name(self) -> &'static str {
        match self {
            ExtensionPoint::PreEnqueue => "PreEnqueuePlugin",
            ExtensionPoint::QueueSort => "QueueSortPlugin",
            ExtensionPoint::PreFilter => "PreFilterPlugin",
            ExtensionPoint::Filter => "FilterPlugin",
            ExtensionPoint::PostFilter => "PostFilterPlugin",
            ExtensionPoint::PreScore => "PreScorePlugin",
            ExtensionPoint::Score => "ScorePlugin",
            ExtensionPoint::Reserve => "ReservePlugin",
            ExtensionPoint::Permit => "PermitPlugin",
            ExtensionPoint::PreBind => "PreBindPlugin",
            ExtensionPoint::Bind => "BindPlugin",
            ExtensionPoint::PostBind => "PostBindPlugin",
        }
    }
}

/// A plugin: implement the extension points it takes part in, and list them.
pub trait Plugin {
    /// Upstream's plugin name, e.g. `NodeResourcesFit`.
    fn name(&self) -> &'static str;

    /// The extension points the plugin implements (upstream's interfaces).
    fn extension_points(&self) -> &'static [ExtensionPoint];

    /// PreEnqueue: whether the pod may enter the active queue at all.
    fn pre_enqueue(&self, _pod: &Pod) -> Status {
        Status::success()
    }

    /// PreFilter: computes what Filter needs from the whole cluster; `Skip` skips
    /// this plugin's Filter for the pod.
    fn pre_filter(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _cluster: &ClusterView,
    ) -> Status {
        Status::success()
    }

    /// Filter: whether the pod fits the node.
    fn filter(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> Status {
        Status::success()
    }

    /// Whether a pod being assigned to a node may make a pod this plugin rejected
    /// fit (upstream's `EventsToRegister` for assigned pods).
    fn requeues_on_assigned_pod(&self) -> bool {
        false
    }

    /// PreScore: computes what Score needs, given the nodes that passed Filter;
    /// `Skip` skips this plugin's Score for the pod.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _feasible: &[&NodeInfo],
        _cluster: &ClusterView,
    ) -> Status {
        Status::success()
    }

    /// Score: the raw score of the node for the pod.
    fn score(&self, _state: &CycleState, _pod: &PodInfo, _node: &NodeInfo) -> i64 {
        0
    }

    /// NormalizeScore: rescales the raw scores of `nodes` to 0..=100 in place.
    fn normalize(
        &self,
        _state: &CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
        _scores: &mut [i64],
    ) {
    }

    /// Reserve: claims what the pod will use on `node` before it is bound.
    fn reserve(&self, _state: &mut CycleState, _pod: &PodInfo, _node: &str) -> Status {
        Status::success()
    }

    /// Unreserve: undoes Reserve when a later step fails (run in reverse order on
    /// every Reserve plugin).
    fn unreserve(&self, _state: &mut CycleState, _pod: &PodInfo, _node: &str) {}

    /// Permit: Success, a rejection, or Wait with how long (ms) the pod may be held;
    /// `waiting` holds the other pods waiting at Permit, which the plugin may allow
    /// or reject.
    fn permit(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _node: &str,
        _waiting: &mut WaitingPods,
    ) -> (Status, Duration) {
        (Status::success(), 0)
    }

    /// PreBind: prepares the binding (API calls through `ctx`).
    fn pre_bind(&self, _state: &CycleState, _pod: &PodInfo, _node: &str, _ctx: &mut Ctx) -> Status {
        Status::success()
    }

    /// Bind: binds the pod to `node`, or `Skip` to leave it to the next Bind plugin.
    fn bind(&self, _state: &CycleState, _pod: &PodInfo, _node: &str, _ctx: &mut Ctx) -> Status {
        Status::skip()
    }

    /// PostBind: told that the pod was bound.
    fn post_bind(&self, _state: &CycleState, _pod: &PodInfo, _node: &str, _ctx: &mut Ctx) {}
}
