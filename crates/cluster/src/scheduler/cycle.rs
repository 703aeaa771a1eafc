//! One scheduling cycle for one pod: PreFilter, Filter over the nodes (stopping
//! once enough feasible nodes are found, as `percentageOfNodesToScore` says),
//! PreScore, Score and NormalizeScore per plugin, weights, and the choice of node
//! (ties broken by the world's RNG). The result keeps every step for the explanation,
//! and the cycle state for the binding cycle.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::framework::{ClusterView, Code, CycleState, NodeInfo, Plugin, PodInfo, Status};
use super::profile::Profile;
use crate::sim::SeededRng;

/// Upstream's floor on nodes to score, and the default adaptive percentage's base.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;

/// What a plugin said about one node at Filter: `passed`, or the reason.
pub type FilterResults = BTreeMap<String, Vec<(&'static str, String)>>;

/// Per node and plugin: the raw score, the normalized score, and it times the weight.
pub type ScoreResults = BTreeMap<String, Vec<(&'static str, i64, i64, i64)>>;

/// Everything one attempt found.
#[derive(Default)]
pub struct Attempt {
    pub num_all_nodes: usize,
    pub filter: FilterResults,
    /// The failing nodes' statuses (what FailedScheduling counts).
    pub failed: BTreeMap<String, Status>,
    pub scores: ScoreResults,
    pub totals: BTreeMap<String, i64>,
    pub selected: Option<String>,
    /// Where the next attempt starts filtering (upstream rotates it).
    pub next_start: usize,
    /// What the plugins kept, for the binding cycle when a node was selected.
    pub state: CycleState,
}

/// How many feasible nodes are enough: all below 100 nodes, else the adaptive
/// percentage `50 - nodes/125` (at least 5%), at least 100 nodes.
pub fn num_feasible_nodes_to_find(all: usize, percentage: Option<usize>) -> usize {
    if all < MIN_FEASIBLE_NODES_TO_FIND {
        return all;
    }
    let percentage = percentage.filter(|p| *p > 0).unwrap_or_else(|| {
        50usize
            .saturating_sub(all / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE)
    });
    if percentage >= 100 {
        return all;
    }
    (all * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Runs the profile's PreFilter plugins; a rejection (anything but Success or Skip)
/// fails the pod everywhere with that status.
pub fn pre_filter(
    pod: &PodInfo,
    cluster: &ClusterView,
    profile: &Profile,
) -> Result<CycleState, Status> {
    let mut state = CycleState::default();
    for plugin in &profile.pre_filter {
        let mut status = plugin.pre_filter(&mut state, pod, cluster);
        match status.code {
            Code::Success => {}
            Code::Skip => state.skip_filter(plugin.name()),
            _ => {
                status.plugin = plugin.name();
                return Err(status);
            }
        }
    }
    Ok(state)
}

/// The Filter plugins that run this cycle (those that did not skip at PreFilter).
pub fn active_filters<'a>(state: &CycleState, profile: &'a Profile) -> Vec<&'a Rc<dyn Plugin>> {
    profile
        .filter
        .iter()
        .filter(|p| !state.skips_filter(p.name()))
        .collect()
}

/// Runs the `active` Filter plugins on one node, stopping at the first failure.
pub fn filter_node(
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
    active: &[&Rc<dyn Plugin>],
    record: Option<&mut Vec<(&'static str, String)>>,
) -> Status {
    let mut record = record;
    for plugin in active {
        let mut status = plugin.filter(state, pod, node);
        if let Some(r) = record.as_deref_mut() {
            let text = if status.is_success() {
                "passed".to_string()
            } else {
                status.message()
            };
            r.push((plugin.name(), text));
        }
        if !status.is_success() {
            status.plugin = plugin.name();
            return status;
        }
    }
    Status::success()
}

/// Schedules `pod` onto one of the cluster's nodes (in the cache's order) with the
/// profile's plugins, starting the search at `start`.
pub fn run(
    pod: &PodInfo,
    cluster: &ClusterView,
    profile: &Profile,
    start: usize,
    rng: &mut SeededRng,
    explain: bool,
) -> Attempt {
    let nodes = cluster.nodes;
    let all = nodes.len();
    let mut attempt = Attempt {
        num_all_nodes: all,
        ..Attempt::default()
    };
    let mut state = match pre_filter(pod, cluster, profile) {
        Ok(state) => state,
        Err(status) => {
            for node in nodes {
                attempt.failed.insert(node.name.clone(), status.clone());
            }
            return attempt;
        }
    };
    let filters = active_filters(&state, profile);
    let wanted = num_feasible_nodes_to_find(all, profile.percentage_of_nodes_to_score);
    let mut feasible: Vec<&NodeInfo> = Vec::new();
    let mut visited = 0;
    for i in 0..all {
        if feasible.len() >= wanted {
            break;
        }
        let node = nodes[(start + i) % all.max(1)];
        visited += 1;
        let mut record = explain.then(Vec::new);
        let status = filter_node(&state, pod, node, &filters, record.as_mut());
        if let Some(record) = record {
            attempt.filter.insert(node.name.clone(), record);
        }
        if status.is_success() {
            feasible.push(node);
        } else {
            attempt.failed.insert(node.name.clone(), status);
        }
    }
    attempt.next_start = if all == 0 { 0 } else { (start + visited) % all };
    if feasible.is_empty() {
        return attempt;
    }
    if feasible.len() == 1 {
        attempt.selected = Some(feasible[0].name.clone());
        attempt.state = state;
        return attempt;
    }
    for plugin in &profile.pre_score {
        let status = plugin.pre_score(&mut state, pod, &feasible, cluster);
        if status.code == Code::Skip {
            state.skip_score(plugin.name());
        }
    }
    let mut totals = vec![0i64; feasible.len()];
    let scoring = profile
        .score
        .iter()
        .filter(|e| !state.skips_score(e.plugin.name()));
    for enabled in scoring {
        let raw: Vec<i64> = feasible
            .iter()
            .map(|n| enabled.plugin.score(&state, pod, n))
            .collect();
        let mut normalized = raw.clone();
        enabled
            .plugin
            .normalize(&state, pod, &feasible, &mut normalized);
        for (i, node) in feasible.iter().enumerate() {
            let weighted = normalized[i] * enabled.weight;
            totals[i] += weighted;
            if explain {
                attempt.scores.entry(node.name.clone()).or_default().push((
                    enabled.plugin.name(),
                    raw[i],
                    normalized[i],
                    weighted,
                ));
            }
        }
    }
    // The highest total wins; ties are broken uniformly at random (reservoir sampling).
    let mut best = 0;
    let mut ties = 1u64;
    for i in 1..feasible.len() {
        if totals[i] > totals[best] {
            best = i;
            ties = 1;
        } else if totals[i] == totals[best] {
            ties += 1;
            if rng.below(ties) == 0 {
                best = i;
            }
        }
    }
    if explain {
        for (i, node) in feasible.iter().enumerate() {
            attempt.totals.insert(node.name.clone(), totals[i]);
        }
    }
    attempt.selected = Some(feasible[best].name.clone());
    attempt.state = state;
    attempt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_percentage_of_nodes_to_score() {
        assert_eq!(num_feasible_nodes_to_find(50, None), 50);
        assert_eq!(num_feasible_nodes_to_find(1_000, None), 420);
        assert_eq!(num_feasible_nodes_to_find(5_000, None), 500);
        assert_eq!(num_feasible_nodes_to_find(200, Some(10)), 100);
        assert_eq!(num_feasible_nodes_to_find(200, Some(100)), 200);
    }
}
