//! The PriorityClass describer, as upstream's `describePriorityClass`.

use serde_json::Value;

use super::{events, format_labels, text, Writer};

/// `kubectl describe priorityclass`.
pub(super) fn describe_priority_class(class: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(class, "/metadata/name")));
    w.write(
        0,
        &format!("Value:\t{}\n", class["value"].as_i64().unwrap_or(0)),
    );
    let global_default = class["globalDefault"].as_bool().unwrap_or(false);
    w.write(0, &format!("GlobalDefault:\t{global_default}\n"));
    w.write(
        0,
        &format!("PreemptionPolicy:\t{}\n", text(class, "/preemptionPolicy")),
    );
    w.write(
        0,
        &format!("Description:\t{}\n", text(class, "/description")),
    );
    // Upstream prints the annotations on one line, as `labels.FormatLabels` does.
    let annotations = format_labels(class.pointer("/metadata/annotations"));
    w.write(0, &format!("Annotations:\t{annotations}\n"));
    events(&mut w, event_list, now_ms);
    w.finish()
}
