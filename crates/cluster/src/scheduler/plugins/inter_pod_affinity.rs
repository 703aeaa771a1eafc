//! InterPodAffinity: required pod affinity and anti-affinity of the incoming pod,
//! and the required anti-affinity of pods already running, filter nodes by
//! topology domain; preferred terms (both ways) and existing pods' required
//! affinity (weighted by the `hardPodAffinityWeight` argument, 1 by default) score them.

use std::rc::Rc;

use super::inter_pod_affinity_counts::{
    matches_all, FilterCounts, Incoming, TermSum, TopologyCounts,
};
use crate::scheduler::affinity_terms::{AffinityTerm, Labels, PodAffinityTerms, WeightedTerm};
use crate::scheduler::framework::{
    ClusterView, Code, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
    MAX_NODE_SCORE,
};
use crate::scheduler::node_sum_memo::{NodeSum, NodeSumMemo};
use crate::scheduler::plugin_args::InterPodAffinityArgs;

const NAME: &str = "InterPodAffinity";
const PRE_FILTER_STATE: &str = "PreFilterInterPodAffinity";
const PRE_SCORE_STATE: &str = "PreScoreInterPodAffinity";

/// Upstream's reasons.
pub const AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// The plugin with its arguments.
pub struct InterPodAffinity {
    hard_pod_affinity_weight: i64,
    ignore_preferred_terms_of_existing_pods: bool,
    /// The last PreFilter counts, kept for the next pod with the same terms.
    memo: NodeSumMemo<TermSum>,
}

impl InterPodAffinity {
    /// The plugin configured by `args` (`hardPodAffinityWeight` 1 when unset).
    pub fn new(args: &InterPodAffinityArgs) -> InterPodAffinity {
        InterPodAffinity {
            hard_pod_affinity_weight: args.hard_pod_affinity_weight.unwrap_or(1),
            ignore_preferred_terms_of_existing_pods: args.ignore_preferred_terms_of_existing_pods,
            memo: NodeSumMemo::default(),
        }
    }
}

impl Default for InterPodAffinity {
    /// Upstream's default arguments.
    fn default() -> Self {
        InterPodAffinity::new(&InterPodAffinityArgs::default())
    }
}

/// An incoming pod's term with its namespace selector resolved to namespaces.
fn resolved(term: &AffinityTerm, cluster: &ClusterView) -> AffinityTerm {
    let mut term = term.clone();
    term.resolve_namespaces(cluster.listers.namespaces());
    term
}

struct PreFilterState {
    required_affinity: Vec<AffinityTerm>,
    required_anti_affinity: Vec<AffinityTerm>,
    counts: Rc<FilterCounts>,
    /// Whether the pod matches its own affinity terms (the first of a group may land anywhere).
    matches_itself: bool,
}

/// Per topology key and value, the summed preference.
struct PreScoreState {
    scores: TopologyCounts,
}

impl PreScoreState {
    fn process(
        &mut self,
        terms: &[WeightedTerm],
        target: (&str, &Labels, Option<&Labels>),
        node: &NodeInfo,
        sign: i64,
    ) {
        for weighted in terms {
            self.process_term(&weighted.term, weighted.weight * sign, target, node);
        }
    }

    fn process_term(
        &mut self,
        term: &AffinityTerm,
        weight: i64,
        (namespace, labels, namespace_labels): (&str, &Labels, Option<&Labels>),
        node: &NodeInfo,
    ) {
        if term.matches(namespace, labels, namespace_labels) {
            self.scores.add(node, &term.topology_key, weight);
        }
    }
}

impl Plugin for InterPodAffinity {
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
        let own = pod.affinity.as_deref().unwrap_or(&EMPTY_TERMS);
        let incoming_terms =
            !own.required_affinity.is_empty() || !own.required_anti_affinity.is_empty();
        // Nothing to count: no terms of its own, and no running pod's anti-affinity.
        if !incoming_terms && cluster.nodes_with_required_anti_affinity.is_empty() {
            return Status::skip();
        }
        let resolve_all = |terms: &[AffinityTerm]| -> Vec<AffinityTerm> {
            terms.iter().map(|t| resolved(t, cluster)).collect()
        };
        let incoming = Incoming {
            namespace: pod.namespace.clone(),
            labels: pod.labels.clone(),
            namespace_labels: cluster.listers.namespace_labels(&pod.namespace),
            required_affinity: resolve_all(&own.required_affinity),
            required_anti_affinity: resolve_all(&own.required_anti_affinity),
        };
        let required_affinity = incoming.required_affinity.clone();
        let required_anti_affinity = incoming.required_anti_affinity.clone();
        // With terms of its own the pod looks at every node (the memo keeps those
        // counts); otherwise only the pods with required anti-affinity matter.
        let counts = if incoming_terms {
            self.memo.total(incoming, cluster)
        } else {
            let counts = TermSum::over(cluster.nodes_with_required_anti_affinity, &incoming);
            if counts.existing_anti_affinity.is_empty() {
                return Status::skip();
            }
            Rc::new(counts)
        };
        let matches_itself = matches_all(&required_affinity, &pod.namespace, &pod.labels);
        state.write(
            PRE_FILTER_STATE,
            PreFilterState {
                required_affinity,
                required_anti_affinity,
                counts,
                matches_itself,
            },
        );
        Status::success()
    }

    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(s) = state.read::<PreFilterState>(PRE_FILTER_STATE) else {
            return Status::success();
        };
        // Pod affinity: every term's domain here must already hold a matching pod.
        let mut pods_exist = true;
        for term in &s.required_affinity {
            match node.label(&term.topology_key) {
                None => {
                    return Status::new(
                        Code::UnschedulableAndUnresolvable,
                        &[AFFINITY_RULES_NOT_MATCH],
                    )
                }
                Some(value) if s.counts.affinity.get(&term.topology_key, value) <= 0 => {
                    pods_exist = false
                }
                Some(_) => {}
            }
        }
        // The first pod of a group that is affine to itself may land anywhere.
        let first_of_group = s.counts.affinity.is_empty() && s.matches_itself;
        if !(pods_exist || first_of_group) {
            return Status::new(
                Code::UnschedulableAndUnresolvable,
                &[AFFINITY_RULES_NOT_MATCH],
            );
        }
        let anti = s.required_anti_affinity.iter().any(|term| {
            node.label(&term.topology_key)
                .is_some_and(|value| s.counts.anti_affinity.get(&term.topology_key, value) > 0)
        });
        if anti {
            return Status::new(Code::Unschedulable, &[ANTI_AFFINITY_RULES_NOT_MATCH]);
        }
        let existing = node
            .labels()
            .iter()
            .any(|(key, value)| s.counts.existing_anti_affinity.get(key, value) > 0);
        if existing {
            return Status::new(
                Code::Unschedulable,
                &[EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH],
            );
        }
        Status::success()
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[&NodeInfo],
        cluster: &ClusterView,
    ) -> Status {
        let own = pod.affinity.as_deref().unwrap_or(&EMPTY_TERMS);
        let has_preferences =
            !own.preferred_affinity.is_empty() || !own.preferred_anti_affinity.is_empty();
        if self.ignore_preferred_terms_of_existing_pods && !has_preferences {
            return Status::skip();
        }
        let resolve_all = |terms: &[WeightedTerm]| -> Vec<WeightedTerm> {
            terms
                .iter()
                .map(|w| WeightedTerm {
                    term: resolved(&w.term, cluster),
                    weight: w.weight,
                })
                .collect()
        };
        let preferred_affinity = resolve_all(&own.preferred_affinity);
        let preferred_anti_affinity = resolve_all(&own.preferred_anti_affinity);
        let namespace_labels = cluster.listers.namespace_labels(&pod.namespace);
        let incoming = (pod.namespace.as_str(), &pod.labels, Some(&namespace_labels));
        let mut s = PreScoreState {
            scores: TopologyCounts::default(),
        };
        // Unless the pod has preferences of its own, only pods whose terms weigh in matter.
        let nodes = if has_preferences {
            cluster.nodes
        } else {
            cluster.nodes_with_scoring_affinity
        };
        for node in nodes {
            if node.labels().is_empty() {
                continue;
            }
            for existing in node.pods.values() {
                let terms: &PodAffinityTerms = match existing.affinity.as_deref() {
                    Some(terms) => terms,
                    None if has_preferences => &EMPTY_TERMS,
                    None => continue,
                };
                let target = (existing.namespace.as_str(), &existing.labels, None);
                s.process(&preferred_affinity, target, node, 1);
                s.process(&preferred_anti_affinity, target, node, -1);
                if self.hard_pod_affinity_weight > 0 {
                    for term in &terms.required_affinity {
                        s.process_term(term, self.hard_pod_affinity_weight, incoming, node);
                    }
                }
                s.process(&terms.preferred_affinity, incoming, node, 1);
                s.process(&terms.preferred_anti_affinity, incoming, node, -1);
            }
        }
        if s.scores.is_empty() {
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE, s);
        Status::success()
    }

    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE) else {
            return 0;
        };
        node.labels()
            .iter()
            .map(|(key, value)| s.scores.get(key, value))
            .sum()
    }

    /// Rescales to 0..=100 between the lowest and highest sum.
    fn normalize(
        &self,
        state: &CycleState,
        _pod: &PodInfo,
        _nodes: &[&NodeInfo],
        scores: &mut [i64],
    ) {
        if state.read::<PreScoreState>(PRE_SCORE_STATE).is_none() {
            return;
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        for score in scores.iter_mut() {
            *score = if max > min {
                (MAX_NODE_SCORE as f64 * ((*score - min) as f64 / (max - min) as f64)) as i64
            } else {
                0
            };
        }
    }
}

static EMPTY_TERMS: PodAffinityTerms = PodAffinityTerms {
    required_affinity: Vec::new(),
    required_anti_affinity: Vec::new(),
    preferred_affinity: Vec::new(),
    preferred_anti_affinity: Vec::new(),
};
