//! The explanation of a scheduling attempt, left on the pod as annotations in the
//! kube-scheduler-simulator's shape (under `kubecraft.dev/`), so kubectl and the UI
//! can show why a pod landed where it did or why it is Pending:
//!
//! - `kubecraft.dev/filter-result`: `{node: {plugin: "passed" | reason}}`
//! - `kubecraft.dev/score-result`: `{node: {plugin: raw score}}`
//! - `kubecraft.dev/normalized-score-result`: `{node: {plugin: normalized score}}`
//! - `kubecraft.dev/finalscore-result`: `{node: {plugin: normalized × weight, "total": sum}}`
//! - `kubecraft.dev/selected-node`: the chosen node (empty when none fits)
//! - `kubecraft.dev/omitted-nodes`: how many filtered nodes `filter-result` leaves
//!   out, when the attempt looked at more than [`EXPLAINED_NODES`]
//!
//! Each result lists at most [`EXPLAINED_NODES`] nodes: the selected node, then (in
//! `filter-result`) the nodes a filter rejected, then the highest totals. A scheduled
//! pod's explanation travels on its Binding, so it costs no write of its own.

use serde_json::{json, Map, Value};

use super::cycle::{Attempt, EXPLAINED_NODES};

/// The annotation keys.
pub const FILTER_RESULT: &str = "kubecraft.dev/filter-result";
pub const SCORE_RESULT: &str = "kubecraft.dev/score-result";
pub const NORMALIZED_SCORE_RESULT: &str = "kubecraft.dev/normalized-score-result";
pub const FINAL_SCORE_RESULT: &str = "kubecraft.dev/finalscore-result";
pub const SELECTED_NODE: &str = "kubecraft.dev/selected-node";
pub const OMITTED_NODES: &str = "kubecraft.dev/omitted-nodes";

/// The annotations (JSON text values) describing `attempt`.
pub fn annotations(attempt: &Attempt) -> Map<String, Value> {
    let mut filter = Map::new();
    for node in listed_nodes(attempt) {
        // A rejected node passed the filters before the one that rejected it.
        let failure = attempt.failed.get(node);
        let passed = attempt
            .filters
            .iter()
            .take_while(|plugin| failure.is_none_or(|status| **plugin != status.plugin))
            .map(|plugin| (plugin.to_string(), json!("passed")));
        let rejected = failure.map(|status| (status.plugin.to_string(), json!(status.message())));
        let results = passed.chain(rejected).collect();
        filter.insert(node.to_string(), Value::Object(results));
    }
    let mut raw = Map::new();
    let mut normalized = Map::new();
    let mut weighted = Map::new();
    for (node, results) in &attempt.scores {
        let mut r = Map::new();
        let mut n = Map::new();
        let mut w = Map::new();
        for (plugin, raw_score, normalized_score, weighted_score) in results {
            r.insert(plugin.to_string(), json!(raw_score.to_string()));
            n.insert(plugin.to_string(), json!(normalized_score.to_string()));
            w.insert(plugin.to_string(), json!(weighted_score.to_string()));
        }
        let total: i64 = results.iter().map(|(_, _, _, weighted)| weighted).sum();
        w.insert("total".into(), json!(total.to_string()));
        raw.insert(node.clone(), Value::Object(r));
        normalized.insert(node.clone(), Value::Object(n));
        weighted.insert(node.clone(), Value::Object(w));
    }
    let omitted = attempt.num_filtered.saturating_sub(filter.len());
    let mut annotations = Map::new();
    for (key, results) in [
        (FILTER_RESULT, filter),
        (SCORE_RESULT, raw),
        (NORMALIZED_SCORE_RESULT, normalized),
        (FINAL_SCORE_RESULT, weighted),
    ] {
        annotations.insert(key.into(), json!(Value::Object(results).to_string()));
    }
    annotations.insert(
        SELECTED_NODE.into(),
        json!(attempt.selected.clone().unwrap_or_default()),
    );
    if omitted > 0 {
        annotations.insert(OMITTED_NODES.into(), json!(omitted.to_string()));
    }
    annotations
}

/// The nodes `filter-result` lists: the selected one, the rejected ones (by name),
/// then the other scored ones (highest totals first, as `scores` has them); at most
/// [`EXPLAINED_NODES`]. A pod that PreFilter rejected was filtered nowhere, so none.
fn listed_nodes(attempt: &Attempt) -> Vec<&str> {
    if attempt.num_filtered == 0 {
        return Vec::new();
    }
    let mut listed: Vec<&str> = attempt.selected.as_deref().into_iter().collect();
    let rejected = attempt.failed.keys();
    let scored = attempt.scores.iter().map(|(node, _)| node);
    for node in rejected.chain(scored) {
        if listed.len() == EXPLAINED_NODES {
            break;
        }
        if !listed.contains(&node.as_str()) {
            listed.push(node);
        }
    }
    listed
}
