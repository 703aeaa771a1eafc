//! The explanation of a scheduling attempt, left on the pod as annotations in the
//! kube-scheduler-simulator's shape (under `kubecraft.dev/`), so kubectl and the UI
//! can show why a pod landed where it did or why it is Pending:
//!
//! - `kubecraft.dev/filter-result`: `{node: {plugin: "passed" | reason}}`
//! - `kubecraft.dev/score-result`: `{node: {plugin: raw score}}`
//! - `kubecraft.dev/normalized-score-result`: `{node: {plugin: normalized score}}`
//! - `kubecraft.dev/finalscore-result`: `{node: {plugin: normalized × weight, "total": sum}}`
//! - `kubecraft.dev/selected-node`: the chosen node (empty when none fits)

use serde_json::{json, Map, Value};

use super::cycle::Attempt;

/// The annotation keys.
pub const FILTER_RESULT: &str = "kubecraft.dev/filter-result";
pub const SCORE_RESULT: &str = "kubecraft.dev/score-result";
pub const NORMALIZED_SCORE_RESULT: &str = "kubecraft.dev/normalized-score-result";
pub const FINAL_SCORE_RESULT: &str = "kubecraft.dev/finalscore-result";
pub const SELECTED_NODE: &str = "kubecraft.dev/selected-node";

/// The annotations (JSON text values) describing `attempt`.
pub fn annotations(attempt: &Attempt) -> Value {
    let mut filter = Map::new();
    for (node, results) in &attempt.filter {
        let per_plugin: Map<String, Value> = results
            .iter()
            .map(|(plugin, text)| (plugin.to_string(), json!(text)))
            .collect();
        filter.insert(node.clone(), Value::Object(per_plugin));
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
        if let Some(total) = attempt.totals.get(node) {
            w.insert("total".into(), json!(total.to_string()));
        }
        raw.insert(node.clone(), Value::Object(r));
        normalized.insert(node.clone(), Value::Object(n));
        weighted.insert(node.clone(), Value::Object(w));
    }
    json!({
        FILTER_RESULT: Value::Object(filter).to_string(),
        SCORE_RESULT: Value::Object(raw).to_string(),
        NORMALIZED_SCORE_RESULT: Value::Object(normalized).to_string(),
        FINAL_SCORE_RESULT: Value::Object(weighted).to_string(),
        SELECTED_NODE: attempt.selected.clone().unwrap_or_default(),
    })
}
