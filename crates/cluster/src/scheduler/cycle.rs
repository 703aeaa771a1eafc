//! One scheduling cycle for one pod: PreFilter, Filter over the nodes (stopping
//! once enough feasible nodes are found, as `percentageOfNodesToScore` says),
//! PreScore, Score and NormalizeScore per plugin, weights, and the choice of node
//! (ties broken by the world's RNG). The result keeps what the explanation needs
//! (the filters that ran, and the scores of the best nodes) and the cycle state for
//! the binding cycle.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::framework::{ClusterView, Code, CycleState, NodeInfo, Plugin, PodInfo, Status};
use super::profile::Profile;
use crate::sim::SeededRng;

/// Upstream's floor on nodes to score, and the default adaptive percentage's base.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;

/// How many nodes an explanation lists at most: every node of a small cluster, the
/// most telling few of a large one (a pod's annotations ride along on every later
/// write and watch event of the pod, so they are kept short).
pub const EXPLAINED_NODES: usize = 10;

/// Per node (in the order given) and plugin: the raw score, the normalized score,
/// and it times the weight (a node's total is the sum of the last).
pub type ScoreResults = Vec<(String, Vec<(&'static str, i64, i64, i64)>)>;

/// Everything one attempt found.
#[derive(Default)]
pub struct Attempt {
    pub num_all_nodes: usize,
    /// How many nodes the Filter plugins looked at.
    pub num_filtered: usize,
    /// The Filter plugins that ran, in order (a rejected node passed those before the
    /// one that rejected it).
    pub filters: Vec<&'static str>,
    /// The failing nodes' statuses (what FailedScheduling counts).
    pub failed: BTreeMap<String, Status>,
    /// When explaining: the scores of the selected node, then of the other highest
    /// totals (as many nodes as asked for).
    pub scores: ScoreResults,
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
) -> Status {
    for plugin in active {
        let mut status = plugin.filter(state, pod, node);
        if !status.is_success() {
            status.plugin = plugin.name();
            return status;
        }
    }
    Status::success()
}

/// Schedules `pod` onto one of the cluster's nodes (in the cache's order) with the
/// profile's plugins, starting the search at `start`, keeping the scores of the
/// best `explained_nodes` nodes (none when 0) for the explanation.
pub fn run(
    pod: &PodInfo,
    cluster: &ClusterView,
    profile: &Profile,
    start: usize,
    rng: &mut SeededRng,
    explained_nodes: usize,
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
        let status = filter_node(&state, pod, node, &filters);
        if status.is_success() {
            feasible.push(node);
        } else {
            attempt.failed.insert(node.name.clone(), status);
        }
    }
    attempt.num_filtered = visited;
    attempt.filters = filters.iter().map(|p| p.name()).collect();
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
    let mut per_plugin = Vec::new();
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
        for (total, score) in totals.iter_mut().zip(&normalized) {
            *total += score * enabled.weight;
        }
        if explained_nodes > 0 {
            per_plugin.push((enabled.plugin.name(), raw, normalized, enabled.weight));
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
    if explained_nodes > 0 {
        for i in best_first(&totals, best).take(explained_nodes) {
            let name = &feasible[i].name;
            let scores = per_plugin
                .iter()
                .map(|(plugin, raw, normalized, weight)| {
                    (*plugin, raw[i], normalized[i], normalized[i] * weight)
                })
                .collect();
            attempt.scores.push((name.clone(), scores));
        }
    }
    attempt.selected = Some(feasible[best].name.clone());
    attempt.state = state;
    attempt
}

/// The indexes of the scored nodes: the selected one, then the others by total,
/// highest first (ties in the order they were scored).
fn best_first(totals: &[i64], selected: usize) -> impl Iterator<Item = usize> {
    let mut others: Vec<usize> = (0..totals.len()).filter(|&i| i != selected).collect();
    others.sort_by_key(|&i| std::cmp::Reverse(totals[i]));
    std::iter::once(selected).chain(others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selected_node_comes_first_then_the_highest_totals() {
        let order: Vec<usize> = best_first(&[5, 9, 7, 9, 1], 3).collect();
        assert_eq!(order, [3, 1, 2, 0, 4]);
    }

    #[test]
    fn adaptive_percentage_of_nodes_to_score() {
        assert_eq!(num_feasible_nodes_to_find(50, None), 50);
        assert_eq!(num_feasible_nodes_to_find(1_000, None), 420);
        assert_eq!(num_feasible_nodes_to_find(5_000, None), 500);
        assert_eq!(num_feasible_nodes_to_find(200, Some(10)), 100);
        assert_eq!(num_feasible_nodes_to_find(200, Some(100)), 200);
    }
}
