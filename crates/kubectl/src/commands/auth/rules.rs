//! `kubectl auth can-i --list`: the rules a SelfSubjectRulesReview returns, broken
//! down, compacted and sorted as kubectl's `rbac` utilities do.

use kubecraft_cluster::api::Request;
use serde_json::json;

use crate::errors::server_error;
use crate::output::Output;
use crate::printers::tabwriter::align;
use crate::rbac_rules::{compact_sorted, from_json, row};
use crate::transport::Transport;

/// Asks for and prints the rules that apply in `namespace`.
pub fn run(transport: &mut dyn Transport, namespace: &str, no_headers: bool) -> Output {
    let mut out = Output::default();
    let review = json!({
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"namespace": namespace},
    });
    let response = transport.send(Request::post(
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        review.to_string(),
    ));
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let status = &response.body_json()["status"];
    if status["incomplete"].as_bool() == Some(true) {
        out.err(format!(
            "Warning: the list may be incomplete: {}\n",
            status["evaluationError"].as_str().unwrap_or("")
        ));
    }
    let rules: Vec<_> = ["resourceRules", "nonResourceRules"]
        .iter()
        .flat_map(|key| status[key].as_array().into_iter().flatten())
        .map(from_json)
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    if !no_headers {
        rows.push(
            ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
                .map(String::from)
                .to_vec(),
        );
    }
    rows.extend(compact_sorted(&rules).iter().map(row));
    out.out(align(&rows));
    out
}
