//! Container logs as the kubelet serves them for `GET pods/{name}/log`: which run
//! of the container to read (upstream's `validateContainerLogStatus`, with its
//! messages), and that run's output from its start to its end (or now), filtered
//! by `sinceTime`/`sinceSeconds`, `tailLines` and `limitBytes`.
//!
//! Nothing is stored: a run's lines follow from the container's command, the
//! start and finish times its status records, and the versions of the ConfigMaps
//! and Secrets it read (kept by the API server, and in snapshots), so logs
//! survive a reload.

use std::borrow::Cow;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::access_log::AccessLog;
use super::behaviour;
use super::containers;
use super::env::{environment, Sources};
use super::output::{Output, DATE_MARK};
use super::shared_files::followed_lines;

/// The most lines one log holds (older lines of a long-running loop are rotated away).
pub const MAX_LOG_LINES: u64 = 10_000;

/// What a log request asks for (upstream's `PodLogOptions`, container already chosen).
#[derive(Clone, Debug, Default)]
pub struct LogRequest {
    pub container: String,
    pub previous: bool,
    pub timestamps: bool,
    /// Only lines written at or after this instant (Unix milliseconds).
    pub since_unix_ms: Option<i64>,
    pub tail_lines: Option<u64>,
    pub limit_bytes: Option<u64>,
}

/// How often the kubelet syncs each pod (upstream's `syncFrequency`): a volume
/// shows a ConfigMap's or Secret's new version from the pod's next sync.
const VOLUME_SYNC_MS: i64 = 60_000;

/// What a pod's containers read of ConfigMaps and Secrets (and the rest of their
/// [`Sources`]) over time, for a log read after they changed.
pub trait SourcesOverTime {
    /// The sources as they were at `unix_ms`.
    fn at(&self, unix_ms: i64) -> Sources;
    /// When any ConfigMap or Secret the pod reads changed, in (`after`, `until`].
    fn changes(&self, after: i64, until: i64) -> Vec<i64>;
}

/// One run of a container: when it started and when it ended (or now, while it runs).
struct ContainerRunSpan {
    started_ms: i64,
    ended_ms: i64,
}

fn unix_ms(time: &Time) -> i64 {
    time.0.as_millisecond()
}

/// The run the request reads, or the kubelet's error message.
fn run_to_read(
    pod_name: &str,
    status: &ContainerStatus,
    previous: bool,
    now_unix_ms: i64,
) -> Result<ContainerRunSpan, String> {
    let name = &status.name;
    let state = status.state.clone().unwrap_or_default();
    let last = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .filter(|t| t.container_id.as_deref().is_some_and(|id| !id.is_empty()));
    let terminated_span = |t: &k8s_openapi::api::core::v1::ContainerStateTerminated| {
        let ended_ms = t.finished_at.as_ref().map_or(now_unix_ms, unix_ms);
        ContainerRunSpan {
            started_ms: t.started_at.as_ref().map_or(ended_ms, unix_ms),
            ended_ms,
        }
    };
    if previous {
        return last.map(terminated_span).ok_or_else(|| {
            format!("previous terminated container {name:?} in pod {pod_name:?} not found")
        });
    }
    if let Some(running) = &state.running {
        return Ok(ContainerRunSpan {
            started_ms: running.started_at.as_ref().map_or(now_unix_ms, unix_ms),
            ended_ms: now_unix_ms,
        });
    }
    if let Some(terminated) = &state.terminated {
        if terminated
            .container_id
            .as_deref()
            .is_some_and(|id| !id.is_empty())
        {
            return Ok(terminated_span(terminated));
        }
        return last
            .map(terminated_span)
            .ok_or_else(|| format!("container {name:?} in pod {pod_name:?} is terminated"));
    }
    if let Some(last) = last {
        return Ok(terminated_span(last));
    }
    match state.waiting.map(|w| w.reason.unwrap_or_default()) {
        Some(reason) if reason == "ErrImagePull" => Err(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start: image can't be pulled"
        )),
        Some(reason) if reason == "ImagePullBackOff" => Err(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start: trying and failing to pull image"
        )),
        Some(reason) => Err(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start: {reason}"
        )),
        None => Err(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start - no logs yet"
        )),
    }
}

/// The kubelet's syncs of the pod, during `span`, that mount a version written
/// at one of `changes`: the first sync (counted from the run's start) after each.
fn volume_syncs(changes: &[i64], span: &ContainerRunSpan) -> Vec<i64> {
    let mut syncs: Vec<i64> = changes
        .iter()
        .map(|changed| {
            let since_start = changed - span.started_ms;
            span.started_ms + (since_start / VOLUME_SYNC_MS + 1) * VOLUME_SYNC_MS
        })
        .filter(|sync| *sync <= span.ended_ms)
        .collect();
    syncs.dedup();
    syncs
}

/// What `date` prints at `unix_ms`: `Thu Jan  1 00:05:00 UTC 2026`.
fn date_output(unix_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(unix_ms)
        .map(|t| t.strftime("%a %b %e %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

/// The lines a run printed by `elapsed_ms` after its start, as (offset, text), at most
/// `MAX_LOG_LINES` of the most recent.
pub(super) fn printed_by(output: &Output, elapsed_ms: u64) -> Vec<(u64, &str)> {
    let per_pass = output.lines.len().max(1) as u64;
    let passes = MAX_LOG_LINES.div_ceil(per_pass);
    let mut printed: Vec<(u64, &str)> = output
        .replay(&output.lines, |l| l.0, elapsed_ms, passes)
        .into_iter()
        .map(|(at, line)| (at, line.1.as_str()))
        .collect();
    let excess = printed.len().saturating_sub(MAX_LOG_LINES as usize);
    printed.drain(..excess);
    printed
}

/// A printed line as it reads in the log, printed at `unix_ms` (what `date` printed
/// in it shows that time).
pub(super) fn rendered(line: &str, unix_ms: i64) -> Cow<'_, str> {
    if line.contains(DATE_MARK) {
        Cow::Owned(line.replace(DATE_MARK, &date_output(unix_ms)))
    } else {
        Cow::Borrowed(line)
    }
}

/// A log timestamp as the kubelet writes it (Go's RFC 3339 with nanoseconds, trailing zeros trimmed).
fn log_timestamp(unix_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(unix_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.fZ")
        .to_string()
}

/// The log text of `request.container` in `pod` at `now_unix_ms` (with the lines
/// it printed in answer to requests, from `access`), or the kubelet's error.
pub fn container_log(
    pod: &Pod,
    sources: &impl SourcesOverTime,
    access: &AccessLog,
    request: &LogRequest,
    now_unix_ms: i64,
) -> Result<String, String> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    let name = request.container.as_str();
    let container_status = containers::status_named(pod, name)
        .ok_or_else(|| format!("container {name:?} in pod {pod_name:?} is not available"))?;
    let span = run_to_read(pod_name, container_status, request.previous, now_unix_ms)?;
    let Some(container) = containers::named(pod, name) else {
        return Ok(String::new());
    };
    // The variables hold what their sources said at the start; each sync of the
    // pod after a change shows the mounts' new version from then on.
    // `startedAt` is whole seconds: a run reads what was written by the end of the
    // second it started in (as its Service links do).
    let start_read = span.started_ms - span.started_ms.rem_euclid(1000) + 999;
    let started = sources.at(start_read);
    let env = environment(pod, container, &started).unwrap_or_default();
    let mut periods = vec![(span.started_ms, behaviour::of(container, &env))];
    for sync in volume_syncs(&sources.changes(start_read, span.ended_ms), &span) {
        if let Ok(later) = environment(pod, container, &sources.at(sync)) {
            let shown = env.clone().with_files(later.files().clone());
            periods.push((sync, behaviour::of(container, &shown)));
        }
    }
    let elapsed = span.ended_ms.saturating_sub(span.started_ms).max(0) as u64;
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let followed = match &periods[0].1.output().follows {
        Some(path) => followed_lines(
            pod,
            container,
            path,
            &started,
            span.started_ms,
            span.ended_ms,
        ),
        None => Vec::new(),
    };
    let printed = periods
        .iter()
        .enumerate()
        .flat_map(|(i, (from, behaviour))| {
            let until = periods.get(i + 1).map_or(i64::MAX, |(next, _)| *next);
            printed_by(behaviour.output(), elapsed)
                .into_iter()
                .map(|(at, text)| (span.started_ms + at as i64, text))
                .filter(move |(at, _)| *at >= *from && *at < until)
        });
    let mut lines: Vec<(i64, &str)> = printed
        .chain(followed.iter().map(|(at, text)| (*at, text.as_str())))
        .chain(
            access
                .between(uid, name, span.started_ms, span.ended_ms)
                .into_iter()
                .map(|(at, text)| (*at, text.as_str())),
        )
        .filter(|(at, _)| request.since_unix_ms.is_none_or(|since| *at >= since))
        .collect();
    // Stable: a request answered at the instant of a printed line comes after it.
    lines.sort_by_key(|(at, _)| *at);
    if let Some(tail) = request.tail_lines {
        let excess = lines.len().saturating_sub(tail as usize);
        lines.drain(..excess);
    }
    let mut text = String::new();
    for (at, line) in lines {
        if request.timestamps {
            text.push_str(&log_timestamp(at));
            text.push(' ');
        }
        text.push_str(&rendered(line, at));
        text.push('\n');
    }
    if let Some(limit) = request.limit_bytes {
        let mut end = (limit as usize).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::output::Repeat;

    fn output(lines: &[(u64, &str)], repeat: Option<u64>) -> Output {
        Output {
            lines: lines.iter().map(|(at, t)| (*at, t.to_string())).collect(),
            repeat: repeat.map(|every_ms| Repeat {
                from_ms: 0,
                every_ms,
            }),
            ..Output::default()
        }
    }

    #[test]
    fn a_run_shows_only_what_it_printed_so_far() {
        let out = output(&[(0, "start"), (5_000, "end")], None);
        assert_eq!(printed_by(&out, 4_999), vec![(0, "start")]);
        assert_eq!(printed_by(&out, 5_000), vec![(0, "start"), (5_000, "end")]);
    }

    #[test]
    fn loops_repeat_their_pass_and_keep_the_most_recent_lines() {
        let out = output(&[(0, "tick")], Some(1_000));
        assert_eq!(
            printed_by(&out, 2_500),
            vec![(0, "tick"), (1_000, "tick"), (2_000, "tick")]
        );
        let long = printed_by(&out, 1_000_000_000);
        assert_eq!(long.len() as u64, MAX_LOG_LINES);
        assert_eq!(long.last(), Some(&(1_000_000_000, "tick")));
    }

    #[test]
    fn a_change_shows_in_volumes_from_the_next_sync_of_the_run() {
        let span = ContainerRunSpan {
            started_ms: 1_000,
            ended_ms: 200_000,
        };
        // Two changes before one sync are one version; one past the run's end is none.
        let changes = [30_000, 45_000, 61_000, 199_000];
        assert_eq!(volume_syncs(&changes, &span), vec![61_000, 121_000]);
    }

    #[test]
    fn what_date_printed_shows_the_time_of_its_line() {
        let at = 1_767_225_900_000; // 2026-01-01T00:05:00Z
        assert_eq!(rendered(DATE_MARK, at), "Thu Jan  1 00:05:00 UTC 2026");
        let inside = format!("{DATE_MARK} My preferred sport is football");
        assert_eq!(
            rendered(&inside, at),
            "Thu Jan  1 00:05:00 UTC 2026 My preferred sport is football"
        );
        assert_eq!(rendered("no date here", at), "no date here");
    }

    #[test]
    fn timestamps_are_go_rfc3339_nano() {
        assert_eq!(log_timestamp(1_000), "1970-01-01T00:00:01Z");
        assert_eq!(log_timestamp(1_250), "1970-01-01T00:00:01.25Z");
    }
}
