//! The pod printer: upstream's READY, STATUS and RESTARTS logic.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::age::age;
use super::{col, int, or_none, text, wide, PrintContext, Printer};

/// Columns and row function for pods.
pub fn printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Ready", "string"),
            col("Status", "string"),
            col("Restarts", "string"),
            col("Age", "string"),
            wide("IP", "string"),
            wide("Node", "string"),
            wide("Nominated Node", "string"),
            wide("Readiness Gates", "string"),
        ],
        row: pod_row,
    }
}

fn later(a: Option<String>, b: Option<&str>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) if b > a.as_str() => Some(b.to_string()),
        (None, Some(b)) => Some(b.to_string()),
        (a, _) => a,
    }
}

fn terminated_reason(state: &Value, prefix: &str) -> String {
    let reason = text(state, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int(state, "/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int(state, "/exitCode"))
    }
}

fn pod_row(pod: &Value, ctx: &PrintContext) -> Vec<Value> {
    let containers = pod
        .at("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let init_specs = pod
        .at("/spec/initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut total = containers;
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<String> = None;
    let mut reason = text(pod, "/status/phase").to_string();
    if !text(pod, "/status/reason").is_empty() {
        reason = text(pod, "/status/reason").to_string();
    }
    let conditions = pod
        .at("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if conditions
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["reason"] == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let condition_true = |kind: &str| {
        conditions
            .iter()
            .any(|c| c["type"] == kind && c["status"] == "True")
    };
    let init_statuses = pod
        .at("/status/initContainerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut initializing = false;
    for (i, status) in init_statuses.iter().enumerate() {
        restarts += int(status, "/restartCount");
        last_restart = later(
            last_restart,
            status
                .at("/lastState/terminated/finishedAt")
                .and_then(Value::as_str),
        );
        let sidecar = init_specs
            .get(i)
            .is_some_and(|s| s["restartPolicy"] == "Always");
        if sidecar {
            total += 1;
            if status["ready"] == true {
                ready += 1;
            }
        }
        let terminated = status.at("/state/terminated");
        let waiting_reason = text(status, "/state/waiting/reason");
        if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && status["started"] == true {
            continue;
        }
        reason = if let Some(t) = terminated {
            terminated_reason(t, "Init:")
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }
    if !initializing || condition_true("Initialized") {
        let statuses = pod
            .at("/status/containerStatuses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut has_running = false;
        for status in statuses.iter().rev() {
            restarts += int(status, "/restartCount");
            last_restart = later(
                last_restart,
                status
                    .at("/lastState/terminated/finishedAt")
                    .and_then(Value::as_str),
            );
            let waiting_reason = text(status, "/state/waiting/reason");
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = status.at("/state/terminated") {
                reason = terminated_reason(t, "");
            } else if status["ready"] == true && status.at("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true("Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    let deleting = pod.at("/metadata/deletionTimestamp").is_some();
    let phase = text(pod, "/status/phase");
    if deleting && text(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts_text = match last_restart {
        Some(when) => format!("{restarts} ({} ago)", age(Some(&when), ctx.now_unix_ms)),
        None => restarts.to_string(),
    };
    let gates = pod
        .at("/spec/readinessGates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let passed = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .any(|c| c["type"] == g["conditionType"] && c["status"] == "True")
            })
            .count();
        format!("{passed}/{}", gates.len())
    };
    vec![
        json!(text(pod, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        json!(ctx.age_of(pod)),
        json!(or_none(text(pod, "/status/podIP"))),
        json!(or_none(text(pod, "/spec/nodeName"))),
        json!(or_none(text(pod, "/status/nominatedNodeName"))),
        json!(gates_text),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600_000 + 600_000; // 10 minutes after the epoch

    #[test]
    fn running_pod_with_a_restart() {
        let pod = json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c"}], "nodeName": "node-2"},
            "status": {"phase": "Running", "podIP": "10.244.2.5", "containerStatuses": [{
                "ready": true, "restartCount": 2, "state": {"running": {}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:09:30Z"}}
            }]}
        });
        let cells = pod_row(&pod, &PrintContext { now_unix_ms: NOW });
        assert_eq!(
            cells[..5],
            [
                json!("web-1"),
                json!("1/1"),
                json!("Running"),
                json!("2 (30s ago)"),
                json!("10m")
            ]
        );
        assert_eq!(
            cells[5..8],
            [json!("10.244.2.5"), json!("node-2"), json!("<none>")]
        );
    }

    #[test]
    fn waiting_reasons_and_termination() {
        let pod = json!({
            "metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z", "deletionTimestamp": "2026-01-01T00:10:30Z"},
            "spec": {"containers": [{"name": "c"}, {"name": "d"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                {"ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
            ]}
        });
        let cells = pod_row(&pod, &PrintContext { now_unix_ms: NOW });
        assert_eq!(cells[1], json!("0/2"));
        assert_eq!(cells[2], json!("Terminating"));
        let mut pending = pod.clone();
        pending["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("deletionTimestamp");
        assert_eq!(
            pod_row(&pending, &PrintContext { now_unix_ms: NOW })[2],
            json!("ImagePullBackOff")
        );
    }
}
