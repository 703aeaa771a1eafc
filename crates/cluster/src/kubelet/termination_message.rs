//! A terminated container's `message`, as upstream's kubelet reads it
//! (`getTerminationMessage`): what the process wrote to its
//! `terminationMessagePath` (`/dev/termination-log`), at most 4 KiB; or, with the
//! policy `FallbackToLogsOnError`, when it failed and wrote nothing there, the end
//! of its log (the last 80 lines, at most 2 KiB).

use k8s_openapi::api::core::v1::Container;

use super::logs::{printed_by, rendered};
use super::output::Output;

/// Upstream's `MaxContainerTerminationMessageLength`.
const MAX_MESSAGE_BYTES: usize = 4 * 1024;
/// Upstream's `MaxContainerTerminationMessageLogLines`.
const MAX_LOG_LINES: usize = 80;
/// Upstream's `MaxContainerTerminationMessageLogLength`.
const MAX_LOG_BYTES: usize = 2 * 1024;

/// The message of `container`'s run that printed and wrote `output` and exited
/// with `code` after `elapsed_ms`, having started at `started_unix_ms`.
pub fn termination_message(
    container: &Container,
    output: &Output,
    elapsed_ms: u64,
    started_unix_ms: i64,
    code: i32,
) -> Option<String> {
    let path = container
        .termination_message_path
        .as_deref()
        .unwrap_or("/dev/termination-log");
    let written = output.file_text(path, elapsed_ms).unwrap_or_default();
    if !written.is_empty() {
        // What `date` wrote there shows the time the run ended (near enough to
        // when it was written, which the file does not keep).
        let written = rendered(&written, started_unix_ms + elapsed_ms as i64);
        return Some(tail_bytes(&written, MAX_MESSAGE_BYTES).to_string());
    }
    let fallback = container.termination_message_policy.as_deref() == Some("FallbackToLogsOnError");
    if !fallback || code == 0 {
        return None;
    }
    let printed = printed_by(output, elapsed_ms);
    let last = &printed[printed.len().saturating_sub(MAX_LOG_LINES)..];
    let mut log = String::new();
    for (at, line) in last {
        log.push_str(&rendered(line, started_unix_ms + *at as i64));
        log.push('\n');
    }
    (!log.is_empty()).then(|| tail_bytes(&log, MAX_LOG_BYTES).to_string())
}

/// The last `limit` bytes of `text` (from a character boundary).
fn tail_bytes(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::behaviour;
    use crate::kubelet::env::Environment;

    fn container(script: &str, policy: Option<&str>) -> Container {
        Container {
            name: "c".into(),
            image: Some("debian".into()),
            command: Some(vec!["/bin/sh".into(), "-c".into(), script.into()]),
            termination_message_policy: policy.map(String::from),
            ..Default::default()
        }
    }

    fn message(c: &Container, code: i32) -> Option<String> {
        let behaviour = behaviour::of(c, &Environment::new());
        termination_message(c, behaviour.output(), 60_000, 0, code)
    }

    #[test]
    fn what_the_process_wrote_to_the_termination_log() {
        let c = container(
            "sleep 10 && echo Sleep expired > /dev/termination-log",
            None,
        );
        assert_eq!(message(&c, 0).as_deref(), Some("Sleep expired\n"));
        let custom = Container {
            termination_message_path: Some("/tmp/my-log".into()),
            ..container("echo done >> /tmp/my-log; echo again >> /tmp/my-log", None)
        };
        assert_eq!(message(&custom, 0).as_deref(), Some("done\nagain\n"));
        let long = format!("echo {} > /dev/termination-log", "x".repeat(5_000));
        assert_eq!(message(&container(&long, None), 0).unwrap().len(), 4_096);
    }

    #[test]
    fn the_log_s_end_when_a_failing_container_falls_back_to_it() {
        let script = "echo starting; echo cannot open config; exit 3";
        let fallback = container(script, Some("FallbackToLogsOnError"));
        assert_eq!(
            message(&fallback, 3).as_deref(),
            Some("starting\ncannot open config\n")
        );
        assert_eq!(message(&fallback, 0), None, "only a failure falls back");
        assert_eq!(message(&container(script, None), 3), None);
    }
}
