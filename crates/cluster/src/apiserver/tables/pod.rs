//! The pod printer: upstream's READY, STATUS and RESTARTS logic.
//!
//! Pods are listed by the hundred thousand, so their rows are read from the stored
//! JSON text through a borrowed view of only the fields the columns need, not from a
//! parsed `Value` of the whole pod.

use std::borrow::Cow;

use serde::de::{IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::age::age;
use super::{col, or_none, wide, CellsAndMetadata, PrintContext, Printer, RowFn};

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
        row: RowFn::Text(pod_row),
    }
}

/// A string field ("" when missing or null), borrowed from the JSON text unless it
/// has escapes.
#[derive(Default)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_unit<E>(self) -> Result<Text<'de>, E> {
                Ok(Text::default())
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PodView<'a> {
    /// Kept raw for the row's `PartialObjectMetadata`; read as a `MetadataView`.
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow)]
    spec: SpecView<'a>,
    #[serde(borrow)]
    status: StatusView<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct MetadataView<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(borrow)]
    creation_timestamp: Text<'a>,
    deletion_timestamp: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SpecView<'a> {
    containers: Vec<IgnoredAny>,
    #[serde(borrow)]
    init_containers: Vec<InitContainerView<'a>>,
    #[serde(borrow)]
    node_name: Text<'a>,
    #[serde(borrow)]
    readiness_gates: Vec<ReadinessGateView<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct InitContainerView<'a> {
    #[serde(borrow)]
    restart_policy: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ReadinessGateView<'a> {
    #[serde(borrow)]
    condition_type: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct StatusView<'a> {
    #[serde(borrow)]
    phase: Text<'a>,
    #[serde(borrow)]
    reason: Text<'a>,
    #[serde(borrow, rename = "podIP")]
    pod_ip: Text<'a>,
    #[serde(borrow)]
    nominated_node_name: Text<'a>,
    #[serde(borrow)]
    conditions: Vec<ConditionView<'a>>,
    #[serde(borrow)]
    init_container_statuses: Vec<ContainerStatusView<'a>>,
    #[serde(borrow)]
    container_statuses: Vec<ContainerStatusView<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConditionView<'a> {
    #[serde(borrow, rename = "type")]
    kind: Text<'a>,
    #[serde(borrow)]
    status: Text<'a>,
    #[serde(borrow)]
    reason: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ContainerStatusView<'a> {
    restart_count: i64,
    ready: bool,
    started: Option<bool>,
    #[serde(borrow)]
    state: StateView<'a>,
    #[serde(borrow)]
    last_state: StateView<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StateView<'a> {
    #[serde(borrow)]
    waiting: Option<WaitingView<'a>>,
    running: Option<IgnoredAny>,
    #[serde(borrow)]
    terminated: Option<TerminatedView<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WaitingView<'a> {
    #[serde(borrow)]
    reason: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TerminatedView<'a> {
    #[serde(borrow)]
    reason: Text<'a>,
    signal: i64,
    exit_code: i64,
    #[serde(borrow)]
    finished_at: Text<'a>,
}

/// The text of a string field.
fn text<'s>(field: &'s Text<'_>) -> &'s str {
    &field.0
}

fn later<'a>(a: Option<&'a str>, b: Option<&'a str>) -> Option<&'a str> {
    match (a, b) {
        (Some(a), Some(b)) if b > a => Some(b),
        (None, b) => b,
        (a, _) => a,
    }
}

fn terminated_reason(state: &TerminatedView<'_>, prefix: &str) -> String {
    let reason = text(&state.reason);
    if !reason.is_empty() {
        format!("{prefix}{reason}")
    } else if state.signal != 0 {
        format!("{prefix}Signal:{}", state.signal)
    } else {
        format!("{prefix}ExitCode:{}", state.exit_code)
    }
}

/// The pod's cells and raw metadata, from its JSON text (a pod that does not decode
/// prints as empty).
fn pod_row<'a>(json: &'a str, ctx: &PrintContext) -> CellsAndMetadata<'a> {
    let pod: PodView = serde_json::from_str(json).unwrap_or_default();
    let metadata: MetadataView = pod
        .metadata
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or_default();
    let (spec, status) = (&pod.spec, &pod.status);
    let init_specs = &spec.init_containers;
    let mut total = spec.containers.len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<&str> = None;
    let mut reason = text(&status.phase).to_string();
    if !text(&status.reason).is_empty() {
        reason = text(&status.reason).to_string();
    }
    let conditions = &status.conditions;
    if conditions
        .iter()
        .any(|c| text(&c.kind) == "PodScheduled" && text(&c.reason) == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let condition_true = |kind: &str| {
        conditions
            .iter()
            .any(|c| text(&c.kind) == kind && text(&c.status) == "True")
    };
    let mut initializing = false;
    for (i, container) in status.init_container_statuses.iter().enumerate() {
        restarts += container.restart_count;
        last_restart = later(last_restart, finished_at(container));
        let sidecar = init_specs
            .get(i)
            .is_some_and(|s| text(&s.restart_policy) == "Always");
        if sidecar {
            total += 1;
            if container.ready {
                ready += 1;
            }
        }
        let terminated = container.state.terminated.as_ref();
        let waiting_reason = waiting_reason(container);
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && container.started == Some(true) {
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
        for container in status.container_statuses.iter().rev() {
            restarts += container.restart_count;
            last_restart = later(last_restart, finished_at(container));
            let waiting_reason = waiting_reason(container);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = &container.state.terminated {
                reason = terminated_reason(t, "");
            } else if container.ready && container.state.running.is_some() {
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
    let deleting = metadata.deletion_timestamp.is_some();
    let phase = text(&status.phase);
    if deleting && text(&status.reason) == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts_text = match last_restart {
        Some(when) => format!("{restarts} ({} ago)", age(Some(when), ctx.now_unix_ms)),
        None => restarts.to_string(),
    };
    let gates = &spec.readiness_gates;
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let passed = gates
            .iter()
            .filter(|g| condition_true(text(&g.condition_type)))
            .count();
        format!("{passed}/{}", gates.len())
    };
    let cells = vec![
        Value::String(text(&metadata.name).to_string()),
        Value::String(format!("{ready}/{total}")),
        Value::String(reason),
        Value::String(restarts_text),
        Value::String(age(
            Some(text(&metadata.creation_timestamp)),
            ctx.now_unix_ms,
        )),
        Value::String(or_none(text(&status.pod_ip))),
        Value::String(or_none(text(&spec.node_name))),
        Value::String(or_none(text(&status.nominated_node_name))),
        Value::String(gates_text),
    ];
    (cells, pod.metadata)
}

fn finished_at<'s>(container: &'s ContainerStatusView<'_>) -> Option<&'s str> {
    container
        .last_state
        .terminated
        .as_ref()
        .map(|t| text(&t.finished_at))
        .filter(|at| !at.is_empty())
}

fn waiting_reason<'s>(container: &'s ContainerStatusView<'_>) -> &'s str {
    container
        .state
        .waiting
        .as_ref()
        .map_or("", |w| text(&w.reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let cells = pod_row(&pod.to_string(), &PrintContext { now_unix_ms: NOW }).0;
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
        let cells = pod_row(&pod.to_string(), &PrintContext { now_unix_ms: NOW }).0;
        assert_eq!(cells[1], json!("0/2"));
        assert_eq!(cells[2], json!("Terminating"));
        let mut pending = pod.clone();
        pending["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("deletionTimestamp");
        assert_eq!(
            pod_row(&pending.to_string(), &PrintContext { now_unix_ms: NOW }).0[2],
            json!("ImagePullBackOff")
        );
    }

    #[test]
    fn escaped_and_null_fields_and_the_raw_metadata() {
        // `\u0045victed` is "Evicted" written with an escape, which cannot be borrowed.
        let json = r#"{"metadata":{"name":"a","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"containers":[{"name":"c"}],"nodeName":null},"status":{"phase":"Failed","reason":"\u0045victed","podIP":null}}"#;
        let (cells, metadata) = pod_row(json, &PrintContext { now_unix_ms: NOW });
        assert_eq!(cells[..3], [json!("a"), json!("0/1"), json!("Evicted")]);
        assert_eq!(cells[5..7], [json!("<none>"), json!("<none>")]);
        assert_eq!(
            metadata.map(RawValue::get),
            Some(r#"{"name":"a","creationTimestamp":"2026-01-01T00:00:00Z"}"#)
        );
    }
}
