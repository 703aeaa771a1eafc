//! Which pod `kubectl logs TYPE/NAME` reads first: upstream's `podutils.ByLogging`
//! (assigned before unassigned; Running, Unknown, then Pending; ready before not
//! ready; ready longer first; more restarts first; older first).

use std::cmp::Ordering;

use serde_json::Value;

fn node_assigned(pod: &Value) -> bool {
    pod["spec"]["nodeName"]
        .as_str()
        .is_some_and(|n| !n.is_empty())
}

/// Upstream's phase rank; phases it does not list (Succeeded, Failed) rank with Running.
fn phase_rank(pod: &Value) -> u8 {
    match pod["status"]["phase"].as_str() {
        Some("Unknown") => 1,
        Some("Pending") => 2,
        _ => 0,
    }
}

fn ready_condition(pod: &Value) -> Option<&Value> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// When the pod became ready (RFC 3339, so it orders as text), empty if unknown.
fn ready_since(pod: &Value) -> &str {
    ready_condition(pod)
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or("")
}

/// The most restarts of any regular container, then of any sidecar (an init
/// container that always restarts).
fn max_restarts(pod: &Value) -> (i64, i64) {
    let most = |statuses: &Value, keep: &dyn Fn(&Value) -> bool| {
        statuses
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| keep(s))
            .filter_map(|s| s["restartCount"].as_i64())
            .max()
            .unwrap_or(0)
    };
    let sidecars: Vec<&str> = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["restartPolicy"] == "Always")
        .filter_map(|c| c["name"].as_str())
        .collect();
    (
        most(&pod["status"]["containerStatuses"], &|_| true),
        most(&pod["status"]["initContainerStatuses"], &|s| {
            sidecars.contains(&s["name"].as_str().unwrap_or(""))
        }),
    )
}

/// Earlier first, with an empty time last (upstream's `afterOrZero`).
fn earlier_first(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.cmp(b),
    }
}

/// Orders pods so the one `kubectl logs` should read comes first.
pub fn by_logging(a: &Value, b: &Value) -> Ordering {
    node_assigned(b)
        .cmp(&node_assigned(a))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| {
            ready_condition(b)
                .is_some()
                .cmp(&ready_condition(a).is_some())
        })
        .then_with(|| {
            if ready_condition(a).is_some() && ready_condition(b).is_some() {
                earlier_first(ready_since(a), ready_since(b))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| max_restarts(b).cmp(&max_restarts(a)))
        .then_with(|| {
            earlier_first(
                a["metadata"]["creationTimestamp"].as_str().unwrap_or(""),
                b["metadata"]["creationTimestamp"].as_str().unwrap_or(""),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, phase: &str, ready_since: Option<&str>, restarts: i64) -> Value {
        let conditions = match ready_since {
            Some(t) => json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]),
            None => json!([{"type": "Ready", "status": "False"}]),
        };
        json!({
            "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conditions,
                "containerStatuses": [{"name": "c", "restartCount": restarts}]},
        })
    }

    fn order(mut pods: Vec<Value>) -> Vec<String> {
        pods.sort_by(by_logging);
        pods.iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn running_ready_long_lived_pods_come_first() {
        assert_eq!(
            order(vec![
                pod("unassigned", "", "Pending", None, 0),
                pod("pending", "n1", "Pending", None, 0),
                pod("not-ready", "n1", "Running", None, 0),
                pod(
                    "ready-late",
                    "n1",
                    "Running",
                    Some("2026-01-01T00:05:00Z"),
                    0
                ),
                pod(
                    "ready-early",
                    "n1",
                    "Running",
                    Some("2026-01-01T00:01:00Z"),
                    0
                ),
            ]),
            [
                "ready-early",
                "ready-late",
                "not-ready",
                "pending",
                "unassigned"
            ]
        );
        assert_eq!(
            order(vec![
                pod("calm", "n1", "Running", None, 0),
                pod("restarting", "n1", "Running", None, 3),
            ]),
            ["restarting", "calm"]
        );
    }
}
