//! The HorizontalPodAutoscaler (autoscaling/v2) describer, as upstream's:
//! reference, each metric's current value against its target, replica bounds,
//! behavior, conditions and events.

use serde_json::Value;

use super::{annotations, events, labels, rfc1123z, text, Writer};

/// Upstream's `printDirectionBehavior`.
fn direction(w: &mut Writer, title: &str, rules: &Value) {
    if rules.is_null() {
        return;
    }
    w.write(1, &format!("{title}:\n"));
    if let Some(window) = rules["stabilizationWindowSeconds"].as_i64() {
        w.write(2, &format!("Stabilization Window: {window} seconds\n"));
    }
    let policies = rules["policies"].as_array().cloned().unwrap_or_default();
    if !policies.is_empty() {
        let select = rules["selectPolicy"].as_str().unwrap_or("Max");
        w.write(2, &format!("Select Policy: {select}\n"));
        w.write(2, "Policies:\n");
        for p in &policies {
            w.write(
                3,
                &format!(
                    "- Type: {}\tValue: {}\tPeriod: {} seconds\n",
                    text(p, "/type"),
                    p["value"],
                    p["periodSeconds"]
                ),
            );
        }
    }
}

/// Upstream's `describeHorizontalPodAutoscalerV2` (Resource metrics).
pub(super) fn describe_autoscaler(hpa: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(hpa, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(hpa, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", hpa.pointer("/metadata/labels"));
    annotations(&mut w, hpa.pointer("/metadata/annotations"));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(text(hpa, "/metadata/creationTimestamp"))
        ),
    );
    let target = &hpa["spec"]["scaleTargetRef"];
    w.write(
        0,
        &format!(
            "Reference:\t{}/{}\n",
            text(target, "/kind"),
            text(target, "/name")
        ),
    );
    w.write(0, "Metrics:\t( current / target )\n");
    let current_metrics = hpa["status"]["currentMetrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (i, metric) in hpa["spec"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if metric["type"] != "Resource" {
            continue;
        }
        let resource = text(metric, "/resource/name");
        let goal = &metric["resource"]["target"];
        let current =
            &current_metrics.get(i).cloned().unwrap_or(Value::Null)["resource"]["current"];
        w.write(1, &format!("resource {resource} on pods"));
        if let Some(value) = goal["averageValue"].as_str() {
            let now = current["averageValue"].as_str().unwrap_or("<unknown>");
            w.write(0, &format!(":\t{now} / {value}\n"));
        } else {
            let now = match current["averageUtilization"].as_i64() {
                Some(u) => format!("{u}% ({})", text(current, "/averageValue")),
                None => "<unknown>".into(),
            };
            let wanted = goal["averageUtilization"]
                .as_i64()
                .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
            w.write(
                1,
                &format!("(as a percentage of request):\t{now} / {wanted}\n"),
            );
        }
    }
    let min = hpa["spec"]["minReplicas"]
        .as_i64()
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    w.write(0, &format!("Min replicas:\t{min}\n"));
    w.write(
        0,
        &format!("Max replicas:\t{}\n", hpa["spec"]["maxReplicas"]),
    );
    let behavior = &hpa["spec"]["behavior"];
    if !behavior.is_null() {
        w.write(0, "Behavior:\n");
        direction(&mut w, "Scale Up", &behavior["scaleUp"]);
        direction(&mut w, "Scale Down", &behavior["scaleDown"]);
    }
    let count = |field: &str| hpa["status"][field].as_i64().unwrap_or(0);
    w.write(
        0,
        &format!(
            "{} pods:\t{} current / {} desired\n",
            text(target, "/kind"),
            count("currentReplicas"),
            count("desiredReplicas")
        ),
    );
    let conditions = hpa["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tReason\tMessage\n");
        w.write(1, "----\t------\t------\t-------\n");
        for c in &conditions {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\n",
                    text(c, "/type"),
                    text(c, "/status"),
                    text(c, "/reason"),
                    text(c, "/message")
                ),
            );
        }
    }
    events(&mut w, event_list, now_ms);
    w.finish()
}
