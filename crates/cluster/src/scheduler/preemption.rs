//! DefaultPreemption (PostFilter): when no node fits, find nodes where evicting
//! lower-priority pods would make room, pick the victims (keeping as many pods as
//! possible: pods whose eviction would violate a PodDisruptionBudget are reprieved
//! first, then the rest, highest priority first) and the node (fewest budget
//! violations first), or explain in upstream's words why preemption cannot help.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::cycle::{active_filters, filter_node, pre_filter};
use super::fit_error;
use super::framework::{ClusterView, Code, NodeInfo, PodInfo, PodSummary, Status};
use super::profile::Profile;
use crate::api::labels::LabelSelector;

/// Upstream's reasons.
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// How upstream ranks candidate nodes: budget violations, the highest victim
/// priority, the sum of victim priorities (each offset by 2^31 so negative ones
/// count), the number of victims, then the latest start among the highest-priority
/// victims' earliest; lower is better (the first node wins ties).
type Rank = (usize, i32, i64, usize, Reverse<i64>);

/// Victims on one node, and how many of them a disruption budget protects.
struct Victims {
    keys: Vec<String>,
    budget_violations: usize,
}

/// Upstream's `filterPodsWithPDBViolation`: walking the candidates in order, each
/// budget that selects a pod (not already disrupted) loses one allowed disruption;
/// a pod that takes a budget below zero would violate it.
fn violates_budgets<'a>(
    candidates: &[(&'a String, &'a PodSummary)],
    cluster: &ClusterView,
) -> Vec<bool> {
    let mut allowed: BTreeMap<(String, String), i32> = BTreeMap::new();
    candidates
        .iter()
        .map(|(key, pod)| {
            // A pod without labels matches no budget.
            if pod.labels.is_empty() {
                return false;
            }
            let name = key.split_once('/').map_or(key.as_str(), |(_, n)| n);
            let mut violated = false;
            for budget in cluster.listers.disruption_budgets(&pod.namespace) {
                let selector = budget
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| LabelSelector::of(s).ok());
                let Some(selector) = selector.filter(|s| !s.is_empty()) else {
                    continue; // a budget with no selector matches nothing
                };
                let status = budget.status.as_ref();
                let disrupted = status
                    .and_then(|s| s.disrupted_pods.as_ref())
                    .is_some_and(|d| d.contains_key(name));
                if !selector.matches_map(Some(&pod.labels)) || disrupted {
                    continue;
                }
                let id = (
                    pod.namespace.clone(),
                    budget.metadata.name.clone().unwrap_or_default(),
                );
                let left = allowed
                    .entry(id)
                    .or_insert_with(|| status.map_or(0, |s| s.disruptions_allowed));
                *left -= 1;
                violated |= *left < 0;
            }
            violated
        })
        .collect()
}

/// What preemption decided.
pub enum Outcome {
    /// Evict these pods (keys) from this node, then retry the preemptor there.
    Preempt { node: String, victims: Vec<String> },
    /// Preemption cannot help; the PostFilter message says why.
    NotHelpful(String),
}

/// Whether `pod` fits `trial`, which stands in for the cluster's node at `index`:
/// PreFilter sees the cluster with the trial node (upstream updates its cycle state
/// with AddPod/RemovePod; recomputing it gives the same answer), then Filter runs.
fn fits<'a>(
    pod: &PodInfo,
    cluster: &ClusterView<'a>,
    index: usize,
    trial: &'a NodeInfo,
    profile: &Profile,
) -> Status {
    let original = cluster.nodes[index];
    let swap = |list: &[&'a NodeInfo]| -> Vec<&'a NodeInfo> {
        list.iter()
            .map(|n| {
                if std::ptr::eq(*n, original) {
                    trial
                } else {
                    *n
                }
            })
            .collect()
    };
    let nodes = swap(cluster.nodes);
    let with_affinity = swap(cluster.nodes_with_scoring_affinity);
    let with_required_anti_affinity = swap(cluster.nodes_with_required_anti_affinity);
    let view = ClusterView {
        nodes: &nodes,
        nodes_with_scoring_affinity: &with_affinity,
        nodes_with_required_anti_affinity: &with_required_anti_affinity,
        image_nodes: cluster.image_nodes,
        listers: cluster.listers,
        node_generations: None,
    };
    match pre_filter(pod, &view, profile) {
        Ok(state) => filter_node(&state, pod, trial, &active_filters(&state, profile)),
        Err(status) => status,
    }
}

/// Victims on the node at `index`: the fewest lower-priority pods whose removal lets `pod` fit.
fn victims_on(
    pod: &PodInfo,
    cluster: &ClusterView,
    index: usize,
    profile: &Profile,
) -> Result<Victims, Status> {
    let node = cluster.nodes[index];
    let mut lower: Vec<(&String, &PodSummary)> = node
        .pods
        .iter()
        .filter(|(_, p)| p.priority < pod.priority)
        .collect();
    if lower.is_empty() {
        return Err(Status::new(
            Code::UnschedulableAndUnresolvable,
            &[NO_VICTIMS],
        ));
    }
    let mut trial = node.clone();
    for (key, _) in &lower {
        trial.remove_pod(key);
    }
    let status = fits(pod, cluster, index, &trial, profile);
    if !status.is_success() {
        return Err(status);
    }
    // Reprieve pods a budget protects first, then the rest, each group from the
    // highest priority down: keep each pod that still leaves room.
    lower.sort_by(|a, b| b.1.priority.cmp(&a.1.priority).then(a.0.cmp(b.0)));
    let violating = violates_budgets(&lower, cluster);
    let (protected, unprotected): (Vec<_>, Vec<_>) =
        lower.into_iter().zip(violating).partition(|(_, v)| *v);
    let mut victims = Victims {
        keys: Vec::new(),
        budget_violations: 0,
    };
    for ((key, p), violates) in protected.into_iter().chain(unprotected) {
        trial.add_pod(key, p.clone());
        if !fits(pod, cluster, index, &trial, profile).is_success() {
            trial.remove_pod(key);
            victims.keys.push(key.clone());
            victims.budget_violations += usize::from(violates);
        }
    }
    Ok(victims)
}

/// Runs preemption for `pod`, which failed Filter on every node with `failed`.
pub fn preempt(
    pod: &PodInfo,
    cluster: &ClusterView,
    failed: &BTreeMap<String, Status>,
    profile: &Profile,
) -> Outcome {
    let policy = pod
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.preemption_policy.as_deref());
    if policy == Some("Never") {
        return Outcome::NotHelpful(
            "preemption: not eligible due to preemptionPolicy=Never".into(),
        );
    }
    let mut statuses: BTreeMap<String, Status> = BTreeMap::new();
    let mut best: Option<(String, Vec<String>, Rank)> = None;
    let nodes = cluster.nodes;
    for (index, node) in nodes.iter().enumerate() {
        let helpful = failed
            .get(&node.name)
            .is_some_and(|s| s.code != Code::UnschedulableAndUnresolvable);
        if !helpful {
            statuses.insert(
                node.name.clone(),
                Status::new(Code::UnschedulableAndUnresolvable, &[NOT_HELPFUL]),
            );
            continue;
        }
        match victims_on(pod, cluster, index, profile) {
            Err(status) => {
                statuses.insert(node.name.clone(), status);
            }
            Ok(victims) => {
                let pods: Vec<&PodSummary> = victims
                    .keys
                    .iter()
                    .filter_map(|v| node.pods.get(v))
                    .collect();
                let highest = pods.iter().map(|p| p.priority).max().unwrap_or(i32::MIN);
                // A victim not started yet counts as starting now: the latest there is.
                let earliest_start = pods
                    .iter()
                    .filter(|p| p.priority == highest)
                    .map(|p| p.started_ms.unwrap_or(i64::MAX))
                    .min()
                    .unwrap_or(i64::MAX);
                let rank = (
                    victims.budget_violations,
                    highest,
                    pods.iter()
                        .map(|p| i64::from(p.priority) + (1 << 31))
                        .sum::<i64>(),
                    victims.keys.len(),
                    Reverse(earliest_start),
                );
                if best.as_ref().is_none_or(|(_, _, r)| rank < *r) {
                    best = Some((node.name.clone(), victims.keys, rank));
                }
            }
        }
    }
    match best {
        Some((node, victims, _)) => Outcome::Preempt { node, victims },
        // Upstream nests a whole FitError message, period included, so the final
        // FailedScheduling text ends in "..", as real clusters print it.
        None => Outcome::NotHelpful(format!(
            "preemption: {}",
            fit_error::message(nodes.len(), &statuses, Some(NOT_HELPFUL), None)
        )),
    }
}
