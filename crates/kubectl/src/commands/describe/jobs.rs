//! Describers for Jobs and CronJobs, as upstream's `describeJob` and
//! `describeCronJob`: the spec's knobs, start/completion times and duration, pod
//! counts, completed indexes, the (job) template, active jobs and events.

use kubecraft_cluster::apiserver::tables::age::human_duration;
use serde_json::Value;

use super::workloads::{int, pod_template, selector_string};
use super::{annotations, controlled_by, events, events_for, labels, rfc1123z, text, Writer};
use crate::transport::Transport;

/// A number, or `<unset>`.
fn number_or_unset(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .map_or_else(|| "<unset>".into(), |n| n.to_string())
}

/// Upstream's `printBoolPtr`: `True`, `False` or `<unset>`.
fn bool_or_unset(obj: &Value, pointer: &str) -> &'static str {
    match obj.pointer(pointer).and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

/// Upstream's `capIndexesListOrNone`: the list cut after the first comma past 50
/// characters, or `<none>`.
fn capped_indexes(indexes: &str) -> String {
    if indexes.is_empty() {
        return "<none>".into();
    }
    match indexes[50.min(indexes.len())..].find(',') {
        Some(at) => format!("{}...", &indexes[..50 + at + 1]),
        None => indexes.to_string(),
    }
}

/// Unix milliseconds of an RFC 3339 time.
fn millis(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// `kubectl describe job`.
pub(super) fn describe_job(transport: &mut dyn Transport, job: &Value, now_ms: i64) -> String {
    let spec = &job["spec"];
    let status = &job["status"];
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(job, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(job, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(&spec["selector"])),
    );
    labels(&mut w, "Labels", job.pointer("/metadata/labels"));
    annotations(&mut w, job.pointer("/metadata/annotations"));
    controlled_by(&mut w, job);
    if let Some(p) = spec["parallelism"].as_i64() {
        w.write(0, &format!("Parallelism:\t{p}\n"));
    }
    w.write(
        0,
        &format!("Completions:\t{}\n", number_or_unset(spec, "/completions")),
    );
    let mode = text(spec, "/completionMode");
    if !mode.is_empty() {
        w.write(0, &format!("Completion Mode:\t{mode}\n"));
    }
    if let Some(suspend) = spec["suspend"].as_bool() {
        w.write(0, &format!("Suspend:\t{suspend}\n"));
    }
    if let Some(limit) = spec["backoffLimit"].as_i64() {
        w.write(0, &format!("Backoff Limit:\t{limit}\n"));
    }
    if let Some(ttl) = spec["ttlSecondsAfterFinished"].as_i64() {
        w.write(0, &format!("TTL Seconds After Finished:\t{ttl}\n"));
    }
    let start = text(job, "/status/startTime");
    let completion = text(job, "/status/completionTime");
    if !start.is_empty() {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    if !completion.is_empty() {
        w.write(0, &format!("Completed At:\t{}\n", rfc1123z(completion)));
    }
    if let (Some(from), Some(to)) = (millis(start), millis(completion)) {
        w.write(
            0,
            &format!("Duration:\t{}\n", human_duration((to - from) / 1000)),
        );
    }
    if let Some(deadline) = spec["activeDeadlineSeconds"].as_i64() {
        w.write(0, &format!("Active Deadline Seconds:\t{deadline}s\n"));
    }
    let (active, succeeded, failed) = (
        int(job, "/status/active"),
        int(job, "/status/succeeded"),
        int(job, "/status/failed"),
    );
    match status["ready"].as_i64() {
        Some(ready) => w.write(0, &format!("Pods Statuses:\t{active} Active ({ready} Ready) / {succeeded} Succeeded / {failed} Failed\n")),
        None => w.write(0, &format!("Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")),
    }
    if mode == "Indexed" {
        w.write(
            0,
            &format!(
                "Completed Indexes:\t{}\n",
                capped_indexes(text(job, "/status/completedIndexes"))
            ),
        );
    }
    pod_template(&mut w, &spec["template"]);
    events(&mut w, &events_for(transport, job), now_ms);
    w.finish()
}

/// `kubectl describe cronjob`.
pub(super) fn describe_cronjob(transport: &mut dyn Transport, cj: &Value, now_ms: i64) -> String {
    let spec = &cj["spec"];
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(cj, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(cj, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", cj.pointer("/metadata/labels"));
    annotations(&mut w, cj.pointer("/metadata/annotations"));
    w.write(0, &format!("Schedule:\t{}\n", text(spec, "/schedule")));
    w.write(
        0,
        &format!(
            "Concurrency Policy:\t{}\n",
            text(spec, "/concurrencyPolicy")
        ),
    );
    w.write(
        0,
        &format!("Suspend:\t{}\n", bool_or_unset(spec, "/suspend")),
    );
    for (title, field) in [
        (
            "Successful Job History Limit",
            "/successfulJobsHistoryLimit",
        ),
        ("Failed Job History Limit", "/failedJobsHistoryLimit"),
    ] {
        w.write(0, &format!("{title}:\t{}\n", number_or_unset(spec, field)));
    }
    match spec["startingDeadlineSeconds"].as_i64() {
        Some(s) => w.write(0, &format!("Starting Deadline Seconds:\t{s}s\n")),
        None => w.write(0, "Starting Deadline Seconds:\t<unset>\n"),
    }
    let job = &spec["jobTemplate"]["spec"];
    match job.get("selector") {
        Some(selector) => w.write(0, &format!("Selector:\t{}\n", selector_string(selector))),
        None => w.write(0, "Selector:\t<unset>\n"),
    }
    w.write(
        0,
        &format!("Parallelism:\t{}\n", number_or_unset(job, "/parallelism")),
    );
    w.write(
        0,
        &format!("Completions:\t{}\n", number_or_unset(job, "/completions")),
    );
    if let Some(deadline) = job["activeDeadlineSeconds"].as_i64() {
        w.write(0, &format!("Active Deadline Seconds:\t{deadline}s\n"));
    }
    pod_template(&mut w, &job["template"]);
    match text(cj, "/status/lastScheduleTime") {
        "" => w.write(0, "Last Schedule Time:\t<unset>\n"),
        at => w.write(0, &format!("Last Schedule Time:\t{}\n", rfc1123z(at))),
    }
    let active: Vec<&str> = cj["status"]["active"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    let active = if active.is_empty() {
        "<none>".to_string()
    } else {
        active.join(", ")
    };
    w.write(0, &format!("Active Jobs:\t{active}\n"));
    events(&mut w, &events_for(transport, cj), now_ms);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_index_lists_are_capped_as_upstream_caps_them() {
        assert_eq!(capped_indexes(""), "<none>");
        assert_eq!(capped_indexes("0-3"), "0-3");
        let long: String = (0..40)
            .map(|i| (i * 2).to_string())
            .collect::<Vec<_>>()
            .join(",");
        let capped = capped_indexes(&long);
        assert!(capped.ends_with(",..."));
        assert_eq!(
            capped,
            format!("{},...", &long[..long[50..].find(',').unwrap() + 50])
        );
    }
}
