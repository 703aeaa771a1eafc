//! What containers printed in answer to requests (a web server's access lines).
//!
//! Unlike the rest of a container's log, these lines do not follow from the pod
//! spec, so they are kept: per pod (by uid) and container, with the instant each
//! was printed, at most [`MAX_LOG_LINES`] per container. `kubectl logs` merges
//! them into the run they fall in; snapshots carry them.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{json, Value};

use super::logs::MAX_LOG_LINES;

/// One printed line and when (Unix milliseconds).
pub type AccessLine = (i64, String);

/// The access lines of every container that answered a request.
#[derive(Clone, Debug, Default)]
pub struct AccessLog {
    /// (pod uid, container) → lines, oldest first.
    lines: BTreeMap<(String, String), VecDeque<AccessLine>>,
}

impl AccessLog {
    /// Records that `container` of the pod `pod_uid` printed `line` at `unix_ms`.
    pub fn record(&mut self, pod_uid: &str, container: &str, unix_ms: i64, line: String) {
        let lines = self
            .lines
            .entry((pod_uid.to_string(), container.to_string()))
            .or_default();
        if lines.len() as u64 >= MAX_LOG_LINES {
            lines.pop_front();
        }
        lines.push_back((unix_ms, line));
    }

    /// The lines `container` of `pod_uid` printed from `from_ms` to `to_ms` (inclusive).
    pub fn between(
        &self,
        pod_uid: &str,
        container: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Vec<&AccessLine> {
        self.lines
            .get(&(pod_uid.to_string(), container.to_string()))
            .into_iter()
            .flatten()
            .filter(|(at, _)| (from_ms..=to_ms).contains(at))
            .collect()
    }

    /// Whether no line is kept.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Forgets a deleted pod's lines.
    pub fn forget_pod(&mut self, pod_uid: &str) {
        self.lines.retain(|(uid, _), _| uid != pod_uid);
    }

    /// The log as JSON, for snapshots: `[{"pod", "container", "lines": [[ms, text]]}]`.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.lines
                .iter()
                .map(|((pod, container), lines)| {
                    json!({"pod": pod, "container": container, "lines": lines})
                })
                .collect(),
        )
    }

    /// A log read back from [`AccessLog::to_json`]; the error says what is wrong.
    pub fn from_json(value: &Value) -> Result<AccessLog, String> {
        let mut log = AccessLog::default();
        let entries = value.as_array().ok_or("accessLog is not a list")?;
        for (i, entry) in entries.iter().enumerate() {
            let text = |field: &str| {
                entry[field]
                    .as_str()
                    .ok_or(format!("accessLog entry {i} has no {field}"))
            };
            let (pod, container) = (text("pod")?, text("container")?);
            let lines: Vec<AccessLine> = serde_json::from_value(entry["lines"].clone())
                .map_err(|e| format!("accessLog entry {i}: {e}"))?;
            for (at, line) in lines {
                log.record(pod, container, at, line);
            }
        }
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_per_container_in_a_window_and_round_trips() {
        let mut log = AccessLog::default();
        log.record("u1", "web", 1_000, "first".into());
        log.record("u1", "web", 2_000, "second".into());
        log.record("u1", "side", 1_500, "other container".into());
        let texts = |lines: Vec<&AccessLine>| -> Vec<String> {
            lines.into_iter().map(|(_, t)| t.clone()).collect()
        };
        assert_eq!(texts(log.between("u1", "web", 0, 1_999)), ["first"]);
        assert_eq!(
            texts(log.between("u1", "web", 0, 5_000)),
            ["first", "second"]
        );
        let back = AccessLog::from_json(&log.to_json()).unwrap();
        assert_eq!(
            texts(back.between("u1", "side", 0, 5_000)),
            ["other container"]
        );
        assert!(AccessLog::from_json(&json!([{"pod": "u1"}])).is_err());
        log.forget_pod("u1");
        assert!(log.between("u1", "web", 0, 5_000).is_empty());
    }
}
