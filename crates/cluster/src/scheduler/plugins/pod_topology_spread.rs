//! PodTopologySpread: `DoNotSchedule` constraints filter nodes whose domain would
//! exceed `maxSkew` over the least-loaded domain; `ScheduleAnyway` constraints
//! (and, for pods without constraints, the cluster's default ones: hostname skew 3,
//! zone skew 5, over the pods of the same Services, ReplicaSet or StatefulSet)
//! prefer nodes in less crowded domains.

use std::collections::BTreeSet;
use std::rc::Rc;

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use rustc_hash::FxHashSet;

use crate::api::labels::{LabelSelector, Operator, Requirement};
use crate::api::node_affinity::required_affinity_matches;
use crate::api::tolerations::untolerated;
use crate::scheduler::affinity_terms::{selector_of, selects, Selector};
use crate::scheduler::framework::{
    ClusterView, Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, PodSummary, Status,
    HOSTNAME_LABEL, MAX_NODE_SCORE, ZONE_LABEL,
};
use crate::scheduler::match_count_memo::query_id;
use crate::scheduler::plugin_args::PodTopologySpreadArgs;

use super::pod_topology_spread_counts::{CountsKey, DomainCounts, DomainSum, Inclusion};
use crate::scheduler::node_sum_memo::NodeSumMemo;

const NAME: &str = "PodTopologySpread";
const PRE_FILTER_STATE: &str = "PreFilterPodTopologySpread";
const PRE_SCORE_STATE: &str = "PreScorePodTopologySpread";

/// Upstream's reasons.
pub const CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
pub const NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

const DO_NOT_SCHEDULE: &str = "DoNotSchedule";
const SCHEDULE_ANYWAY: &str = "ScheduleAnyway";

/// The plugin with the cluster's default constraints (for pods without their own).
pub struct PodTopologySpread {
    defaults: Vec<TopologySpreadConstraint>,
    /// The defaults are upstream's system ones (`defaultingType: System`).
    system_defaulted: bool,
    /// PreFilter's and PreScore's last domain counts.
    filter_counts: NodeSumMemo<DomainSum>,
    score_counts: NodeSumMemo<DomainSum>,
}

impl Default for PodTopologySpread {
    /// Upstream's default arguments: the system default constraints.
    fn default() -> Self {
        PodTopologySpread::new(&PodTopologySpreadArgs::default())
    }
}

/// One constraint, as the plugin evaluates it.
#[derive(Clone, PartialEq)]
pub(super) struct Constraint {
    max_skew: i64,
    pub(super) topology_key: String,
    selector: Selector,
    /// The pods the selector counts, named for nodes' memos (none for no selector).
    count_query: Option<u64>,
    min_domains: usize,
    honor_node_affinity: bool,
    honor_node_taints: bool,
}

impl Constraint {
    fn new(c: &TopologySpreadConstraint, pod: &PodInfo) -> Constraint {
        let mut selector = selector_of(c.label_selector.as_ref());
        // matchLabelKeys: the pod's own values for those keys narrow the selector.
        if let Some(s) = selector.as_mut() {
            for key in c.match_label_keys.iter().flatten() {
                if let Some(value) = pod.labels.get(key) {
                    s.requirements.push(Requirement {
                        key: key.clone(),
                        operator: Operator::Equals,
                        values: vec![value.clone()],
                    });
                }
            }
        }
        Constraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            count_query: count_query(selector.as_ref(), &pod.namespace),
            selector,
            min_domains: c.min_domains.map_or(1, |m| m.max(0) as usize),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        }
    }

    /// Upstream's `matchNodeInclusionPolicies`: whether the node's domain counts.
    pub(super) fn includes(&self, pod: &Inclusion, node: &NodeInfo) -> bool {
        let affinity = || required_affinity_matches(Some(&pod.spec), &node.node);
        let taints = || {
            let do_not_schedule = ["NoSchedule", "NoExecute"];
            untolerated(node.taints(), &pod.tolerations, &do_not_schedule).is_none()
        };
        (!self.honor_node_affinity || affinity()) && (!self.honor_node_taints || taints())
    }

    /// How many pods on `node` in `namespace` the selector matches (terminating ones aside).
    pub(super) fn count(&self, node: &NodeInfo, namespace: &str) -> i64 {
        let Some(query) = self.count_query else {
            return 0;
        };
        let counted = |p: &PodSummary| {
            !p.terminating && p.namespace == namespace && selects(&self.selector, &p.labels)
        };
        node.match_counts.get_or_count(query, || {
            let candidates = self
                .selector
                .as_ref()
                .and_then(|s| node.pods_by_label.candidates(s));
            match candidates {
                Some(keys) => keys
                    .iter()
                    .filter_map(|key| node.pods.get(&**key))
                    .filter(|p| counted(p))
                    .count() as i64,
                None => node.pods.values().filter(|p| counted(p)).count() as i64,
            }
        })
    }
}

impl PodTopologySpread {
    /// The plugin configured by (valid) `args`.
    pub fn new(args: &PodTopologySpreadArgs) -> PodTopologySpread {
        let defaults = if args.defaulting_type == "List" {
            args.default_constraints.clone()
        } else {
            [(HOSTNAME_LABEL, 3), (ZONE_LABEL, 5)]
                .into_iter()
                .map(|(key, skew)| TopologySpreadConstraint {
                    max_skew: skew,
                    topology_key: key.into(),
                    when_unsatisfiable: SCHEDULE_ANYWAY.into(),
                    ..TopologySpreadConstraint::default()
                })
                .collect()
        };
        PodTopologySpread {
            system_defaulted: args.defaulting_type != "List",
            defaults,
            filter_counts: NodeSumMemo::default(),
            score_counts: NodeSumMemo::default(),
        }
    }

    /// The pod's constraints with `action`, or the default ones when it has none; and
    /// whether nodes must have every topology key to be scored (not so with the
    /// system defaults).
    fn constraints(
        &self,
        pod: &PodInfo,
        cluster: &ClusterView,
        action: &str,
    ) -> (Vec<Constraint>, bool) {
        let own = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or(&[]);
        let with_action = |list: &[TopologySpreadConstraint]| -> Vec<Constraint> {
            list.iter()
                .filter(|c| c.when_unsatisfiable == action)
                .map(|c| Constraint::new(c, pod))
                .collect()
        };
        if !own.is_empty() {
            return (with_action(own), true);
        }
        if !self.defaults.iter().any(|c| c.when_unsatisfiable == action) {
            return (Vec::new(), !self.system_defaulted);
        }
        let selector = cluster.listers.default_selector(&pod.pod);
        if selector.is_empty() {
            return (Vec::new(), !self.system_defaulted);
        }
        let mut defaults = with_action(&self.defaults);
        let query = count_query(Some(&selector), &pod.namespace);
        for c in &mut defaults {
            c.selector = Some(selector.clone());
            c.count_query = query;
        }
        (defaults, !self.system_defaulted)
    }
}

/// The memo query for a constraint's selector among the pods of `namespace`
/// (none when it selects nothing to count).
fn count_query(selector: Option<&LabelSelector>, namespace: &str) -> Option<u64> {
    selector
        .filter(|s| !s.is_empty())
        .map(|s| query_id(namespace, s))
}

/// The node's value of a topology key (empty when it has none).
pub(super) fn domain_of<'a>(node: &'a NodeInfo, key: &str) -> &'a str {
    node.label(key).unwrap_or("")
}

pub(super) fn has_all_keys(node: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| node.label(&c.topology_key).is_some())
}

/// The matching pods of `value`'s domain of constraint `i`.
fn pods_in(counts: &DomainCounts, i: usize, value: &str) -> i64 {
    counts
        .get(i)
        .and_then(|domains| domains.get(value))
        .map_or(0, |d| d.pods)
}

/// PreFilter's count of matching pods per domain, per constraint, and each
/// constraint's global minimum (worked out once, not for every node filtered).
struct PreFilterState {
    constraints: Vec<Constraint>,
    counts: Rc<DomainCounts>,
    min_matches: Vec<i64>,
}

/// The global minimum of constraint `i`, or 0 while fewer than `minDomains`
/// domains exist.
fn min_match(counts: &DomainCounts, i: usize, constraint: &Constraint) -> i64 {
    let domains = counts.get(i);
    if domains.map_or(0, |d| d.len()) < constraint.min_domains {
        return 0;
    }
    domains
        .into_iter()
        .flat_map(|d| d.values())
        .map(|d| d.pods)
        .min()
        .unwrap_or(i64::from(i32::MAX))
}

/// PreScore's counts for the soft constraints.
struct PreScoreState {
    constraints: Vec<Constraint>,
    /// Feasible nodes missing a topology key: scored 0.
    ignored: BTreeSet<String>,
    /// Per constraint, domain → matching pods over all nodes (hostname keys are
    /// counted per node); only feasible nodes' domains are read.
    counts: Rc<DomainCounts>,
    weights: Vec<f64>,
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[
            ExtensionPoint::PreFilter,
            ExtensionPoint::Filter,
            ExtensionPoint::PreScore,
            ExtensionPoint::Score,
        ]
    }

    fn requeues_on_assigned_pod(&self) -> bool {
        true
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, cluster: &ClusterView) -> Status {
        let (constraints, _) = self.constraints(pod, cluster, DO_NOT_SCHEDULE);
        if constraints.is_empty() {
            return Status::skip();
        }
        let key = CountsKey {
            constraints: constraints.clone(),
            skip_hostname: false,
            require_all_keys: true,
            namespace: pod.namespace.clone(),
            inclusion: Inclusion::of(pod),
        };
        let counts = self.filter_counts.total(key, cluster);
        let min_matches = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| min_match(&counts, i, c))
            .collect();
        state.write(
            PRE_FILTER_STATE,
            PreFilterState {
                constraints,
                counts,
                min_matches,
            },
        );
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE) else {
            return Status::success();
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.label(&c.topology_key) else {
                return Status::new(Code::UnschedulableAndUnresolvable, &[NODE_LABEL_NOT_MATCH]);
            };
            let own = i64::from(selects(&c.selector, &pod.labels));
            let matching = pods_in(&s.counts, i, value);
            if matching + own - s.min_matches[i] > c.max_skew {
                return Status::new(Code::Unschedulable, &[CONSTRAINTS_NOT_MATCH]);
            }
        }
        Status::success()
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        feasible: &[&NodeInfo],
        cluster: &ClusterView,
    ) -> Status {
        // With the system defaults, nodes without a zone still spread by hostname.
        let (constraints, require_all_keys) = self.constraints(pod, cluster, SCHEDULE_ANYWAY);
        if constraints.is_empty() {
            return Status::skip();
        }
        let mut ignored = BTreeSet::new();
        // The domains of the feasible nodes, per constraint (hostnames aside).
        let mut domains = vec![FxHashSet::default(); constraints.len()];
        for node in feasible {
            if require_all_keys && !has_all_keys(node, &constraints) {
                ignored.insert(node.name.clone());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key != HOSTNAME_LABEL {
                    domains[i].insert(domain_of(node, &c.topology_key));
                }
            }
        }
        let weights = constraints
            .iter()
            .zip(&domains)
            .map(|(c, domains)| {
                let size = if c.topology_key == HOSTNAME_LABEL {
                    feasible.len() - ignored.len()
                } else {
                    domains.len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        let key = CountsKey {
            constraints: constraints.clone(),
            skip_hostname: true,
            require_all_keys,
            namespace: pod.namespace.clone(),
            inclusion: Inclusion::of(pod),
        };
        let counts = self.score_counts.total(key, cluster);
        state.write(
            PRE_SCORE_STATE,
            PreScoreState {
                constraints,
                ignored,
                counts,
                weights,
            },
        );
        Status::success()
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE) else {
            return 0;
        };
        if s.ignored.contains(&node.name) {
            return 0;
        }
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.label(&c.topology_key) else {
                continue;
            };
            let count = if c.topology_key == HOSTNAME_LABEL {
                c.count(node, &pod.namespace)
            } else {
                pods_in(&s.counts, i, value)
            };
            score += count as f64 * s.weights[i] + (c.max_skew - 1) as f64;
        }
        score.round() as i64
    }

    /// Fewer matching pods score higher: `100 × (max + min − score) / max`.
    fn normalize(
        &self,
        state: &CycleState,
        _pod: &PodInfo,
        nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE) else {
            return;
        };
        let counted: Vec<bool> = nodes.iter().map(|n| !s.ignored.contains(&n.name)).collect();
        let considered = || {
            scores
                .iter()
                .zip(&counted)
                .filter(|(_, c)| **c)
                .map(|(s, _)| *s)
        };
        let min = considered().min().unwrap_or(0);
        let max = considered().max().unwrap_or(0);
        for (score, counted) in scores.iter_mut().zip(counted) {
            *score = if !counted {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
    }
}
