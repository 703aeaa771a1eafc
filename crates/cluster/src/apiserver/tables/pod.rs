//! The pod printer: upstream's READY, STATUS and RESTARTS logic.
//!
//! Pods are listed by the hundred thousand, so what their rows print is worked out
//! once, when a pod is stored (`RowFacts`); a list only finishes the cells that
//! depend on the time.

use serde_json::Value;

use super::age::unix_ms;
use super::{col, text, wide, Printer, RowBuilder, RowFacts, RowFn, Timed};
use crate::api::json_path::ValueExt;

/// Columns and row facts for pods.
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
        row: RowFn::Stored(pod_facts),
    }
}

/// The array at `pointer` (empty when missing or not an array).
fn list<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.at(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The value at `pointer` unless it is missing or null.
fn present<'a>(obj: &'a Value, pointer: &str) -> Option<&'a Value> {
    obj.at(pointer).filter(|v| !v.is_null())
}

fn int(obj: &Value, pointer: &str) -> i64 {
    obj.at(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn flag(obj: &Value, pointer: &str) -> Option<bool> {
    obj.at(pointer).and_then(Value::as_bool)
}

fn terminated_reason(state: &Value, prefix: &str) -> String {
    let reason = text(state, "/reason");
    if !reason.is_empty() {
        format!("{prefix}{reason}")
    } else if int(state, "/signal") != 0 {
        format!("{prefix}Signal:{}", int(state, "/signal"))
    } else {
        format!("{prefix}ExitCode:{}", int(state, "/exitCode"))
    }
}

/// When the container last finished, in Unix milliseconds.
fn finished_at(container: &Value) -> Option<i64> {
    container
        .at("/lastState/terminated/finishedAt")
        .and_then(Value::as_str)
        .and_then(unix_ms)
}

fn waiting_reason(container: &Value) -> &str {
    text(container, "/state/waiting/reason")
}

/// What a pod's row prints, as upstream's `printPod` works it out.
fn pod_facts(pod: &Value) -> RowFacts {
    let part = |name: &str| pod.get(name).unwrap_or(&Value::Null);
    let (metadata, spec, status) = (part("metadata"), part("spec"), part("status"));
    let init_specs = list(spec, "/initContainers");
    let mut total = list(spec, "/containers").len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<i64> = None;
    let phase = text(status, "/phase");
    let status_reason = text(status, "/reason");
    let mut reason = if status_reason.is_empty() {
        phase
    } else {
        status_reason
    }
    .to_string();
    let conditions = list(status, "/conditions");
    if conditions
        .iter()
        .any(|c| text(c, "/type") == "PodScheduled" && text(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let condition_true = |kind: &str| {
        conditions
            .iter()
            .any(|c| text(c, "/type") == kind && text(c, "/status") == "True")
    };
    let mut initializing = false;
    for (i, container) in list(status, "/initContainerStatuses").iter().enumerate() {
        restarts += int(container, "/restartCount");
        last_restart = last_restart.max(finished_at(container));
        let sidecar = init_specs
            .get(i)
            .is_some_and(|s| text(s, "/restartPolicy") == "Always");
        if sidecar {
            total += 1;
            if flag(container, "/ready") == Some(true) {
                ready += 1;
            }
        }
        let terminated = present(container, "/state/terminated");
        let waiting_reason = waiting_reason(container);
        if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && flag(container, "/started") == Some(true) {
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
        let mut has_running = false;
        for container in list(status, "/containerStatuses").iter().rev() {
            restarts += int(container, "/restartCount");
            last_restart = last_restart.max(finished_at(container));
            let waiting_reason = waiting_reason(container);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = present(container, "/state/terminated") {
                reason = terminated_reason(t, "");
            } else if flag(container, "/ready") == Some(true)
                && present(container, "/state/running").is_some()
            {
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
    let deleting = present(metadata, "/deletionTimestamp").is_some();
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let gates = list(spec, "/readinessGates");
    let passed_gates = gates
        .iter()
        .filter(|g| condition_true(text(g, "/conditionType")))
        .count();
    let gates_text = if gates.is_empty() {
        String::new()
    } else {
        format!("{passed_gates}/{}", gates.len())
    };
    let created = metadata
        .at("/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(unix_ms);
    RowBuilder::default()
        .text(text(metadata, "/name"))
        .text(&format!("{ready}/{total}"))
        .text(&reason)
        .timed(Timed::Restarts {
            count: restarts,
            last: last_restart,
        })
        .timed(Timed::Age(created))
        .text_or_none(text(status, "/podIP"))
        .text_or_none(text(spec, "/nodeName"))
        .text_or_none(text(status, "/nominatedNodeName"))
        .text_or_none(&gates_text)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_767_225_600_000 + 600_000; // 10 minutes after the epoch

    fn cells(pod: &Value) -> Vec<Value> {
        let mut json = String::new();
        pod_facts(pod).write_json(&mut json, NOW);
        serde_json::from_str(&json).unwrap()
    }

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
        let cells = cells(&pod);
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
            cells[5..],
            [
                json!("10.244.2.5"),
                json!("node-2"),
                json!("<none>"),
                json!("<none>")
            ]
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
        let cells_of_deleting = cells(&pod);
        assert_eq!(cells_of_deleting[1], json!("0/2"));
        assert_eq!(cells_of_deleting[2], json!("Terminating"));
        let mut pending = pod.clone();
        pending["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("deletionTimestamp");
        assert_eq!(cells(&pending)[2], json!("ImagePullBackOff"));
    }

    #[test]
    fn escaped_and_null_fields() {
        // `\u0045victed` is "Evicted" written with an escape.
        let json = r#"{"metadata":{"name":"a","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"containers":[{"name":"c"}],"nodeName":null},"status":{"phase":"Failed","reason":"\u0045victed","podIP":null}}"#;
        let cells = cells(&serde_json::from_str(json).unwrap());
        assert_eq!(cells[..3], [json!("a"), json!("0/1"), json!("Evicted")]);
        assert_eq!(cells[5..7], [json!("<none>"), json!("<none>")]);
    }

    #[test]
    fn init_containers_and_sidecars() {
        let pod = json!({
            "metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"initContainers": [{"name": "log", "restartPolicy": "Always"}, {"name": "setup"}],
                     "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"ready": true, "started": true, "restartCount": 0, "state": {"running": {}}},
                {"ready": false, "restartCount": 1, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 2, "finishedAt": "2026-01-01T00:08:00Z"}}}
            ]}
        });
        let cells = cells(&pod);
        assert_eq!(
            cells[1..4],
            [
                json!("1/2"),
                json!("Init:CrashLoopBackOff"),
                json!("1 (2m ago)")
            ]
        );
    }
}
