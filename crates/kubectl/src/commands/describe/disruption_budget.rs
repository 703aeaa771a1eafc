//! The PodDisruptionBudget describer, as upstream's: the budget, its selector,
//! the disruption controller's counts and the events.

use serde_json::Value;

use super::workloads::int_or_string;
use super::{events, text, Writer};

/// Upstream's `describePodDisruptionBudgetV1`.
pub(super) fn describe_pod_disruption_budget(
    pdb: &Value,
    event_list: &[Value],
    now_ms: i64,
    selector: String,
) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(pdb, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(pdb, "/metadata/namespace")),
    );
    if let Some(min) = pdb.pointer("/spec/minAvailable") {
        w.write(0, &format!("Min available:\t{}\n", int_or_string(min)));
    } else if let Some(max) = pdb.pointer("/spec/maxUnavailable") {
        w.write(0, &format!("Max unavailable:\t{}\n", int_or_string(max)));
    }
    w.write(0, &format!("Selector:\t{selector}\n"));
    w.write(0, "Status:\n");
    let count = |field: &str| pdb["status"][field].as_i64().unwrap_or(0);
    w.write(
        2,
        &format!("Allowed disruptions:\t{}\n", count("disruptionsAllowed")),
    );
    w.write(2, &format!("Current:\t{}\n", count("currentHealthy")));
    w.write(2, &format!("Desired:\t{}\n", count("desiredHealthy")));
    w.write(2, &format!("Total:\t{}\n", count("expectedPods")));
    events(&mut w, event_list, now_ms);
    w.finish()
}
