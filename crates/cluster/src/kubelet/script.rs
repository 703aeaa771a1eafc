//! Annotations a lesson puts on a pod to script what its containers (the regular
//! ones, not init containers or sidecars) do beyond what their image and command
//! imply:
//!
//! - `kubecraft.dev/crash-after: 30s` — every run exits with code 1 that long
//!   after it starts (a server that crashes); restarts follow `restartPolicy`, with
//!   upstream's back-off, so the pod goes Error → CrashLoopBackOff.
//! - `kubecraft.dev/start-delay: 20s` — a slow start: for that long after each
//!   start the process is not listening yet, so its probes fail (connection refused).
//! - `kubecraft.dev/fail-probes: liveness,readiness` — those probes (any of
//!   `startup`, `liveness`, `readiness`) fail for as long as the container runs:
//!   HTTP answers 500, gRPC `NOT_SERVING`, TCP is refused, exec exits non-zero.
//! - `kubecraft.dev/memory-growth: 10Mi/1s` — a leak: each run's memory use grows
//!   by that much per that long from its start (`kubectl top` shows it); with a
//!   memory limit the kernel OOM-kills it (exit 137, OOMKilled) when it passes it.
//!
//! Durations are written as `500ms`, `30s`, `7m`, `1h30m`; an annotation that does
//! not parse is ignored, as the kubelet ignores annotations it does not know.

use std::collections::BTreeMap;

use super::behaviour::Behaviour;
use super::probes::ProbeKind;
use crate::sim::clock::parse_duration;

/// `kubecraft.dev/crash-after`.
pub const CRASH_AFTER: &str = "kubecraft.dev/crash-after";
/// `kubecraft.dev/start-delay`.
pub const START_DELAY: &str = "kubecraft.dev/start-delay";
/// `kubecraft.dev/fail-probes`.
pub const FAIL_PROBES: &str = "kubecraft.dev/fail-probes";
/// `kubecraft.dev/memory-growth`.
pub const MEMORY_GROWTH: &str = "kubecraft.dev/memory-growth";

/// The exit code of a scripted crash.
pub const CRASH_EXIT_CODE: i32 = 1;

/// How a container's process answers a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// As its image and command make it.
    AsItIs,
    /// Not listening yet (a slow start).
    NotListening,
    /// Listening, and answering that it is unhealthy.
    Failing,
}

/// What a pod's annotations script for its containers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// Each run exits with [`CRASH_EXIT_CODE`] this long after it starts.
    pub crash_after_ms: Option<u64>,
    /// For this long after each start, the process does not listen.
    pub start_delay_ms: u64,
    /// The probes that always fail, by [`ProbeKind`] (startup, liveness, readiness).
    pub failing_probes: [bool; 3],
    /// Memory each run adds: this many bytes per this many virtual milliseconds.
    pub memory_growth: Option<(i64, u64)>,
}

impl Script {
    /// The script a pod's annotations give.
    pub fn of(annotations: Option<&BTreeMap<String, String>>) -> Script {
        let Some(annotations) = annotations else {
            return Script::default();
        };
        let millis = |key: &str| annotations.get(key).and_then(|text| parse_duration(text));
        let mut failing_probes = [false; 3];
        for kind in annotations
            .get(FAIL_PROBES)
            .map(String::as_str)
            .unwrap_or_default()
            .split(',')
        {
            let kind = match kind.trim() {
                "startup" => ProbeKind::Startup,
                "liveness" => ProbeKind::Liveness,
                "readiness" => ProbeKind::Readiness,
                _ => continue,
            };
            failing_probes[kind as usize] = true;
        }
        Script {
            crash_after_ms: millis(CRASH_AFTER),
            start_delay_ms: millis(START_DELAY).unwrap_or(0),
            failing_probes,
            memory_growth: annotations.get(MEMORY_GROWTH).and_then(|text| growth(text)),
        }
    }

    /// The memory a run has added `elapsed_ms` after it started.
    pub fn memory_added(&self, elapsed_ms: u64) -> i64 {
        self.memory_growth.map_or(0, |(bytes, per_ms)| {
            (i128::from(bytes) * i128::from(elapsed_ms) / i128::from(per_ms)) as i64
        })
    }

    /// How long after it starts a run that uses `base` bytes grows past `limit`:
    /// the first whole millisecond above it.
    pub fn grows_past(&self, base: i64, limit: i64) -> Option<u64> {
        let (bytes, per_ms) = self.memory_growth?;
        let room = i128::from((limit - base).max(0));
        Some((room * i128::from(per_ms) / i128::from(bytes)) as u64 + 1)
    }

    /// What a run does under the script: one that would outlive a scripted crash
    /// exits with [`CRASH_EXIT_CODE`] then.
    pub fn behaviour(&self, behaviour: Behaviour) -> Behaviour {
        let Some(crash_ms) = self.crash_after_ms else {
            return behaviour;
        };
        match behaviour {
            Behaviour::Exit { after_ms, .. } if after_ms <= crash_ms => behaviour,
            other => Behaviour::Exit {
                after_ms: crash_ms,
                code: CRASH_EXIT_CODE,
                output: other.output().clone(),
            },
        }
    }

    /// How the process answers a probe of `kind`, `elapsed_ms` after it started.
    pub fn health(&self, kind: ProbeKind, elapsed_ms: u64) -> Health {
        if elapsed_ms < self.start_delay_ms {
            Health::NotListening
        } else if self.failing_probes[kind as usize] {
            Health::Failing
        } else {
            Health::AsItIs
        }
    }
}

/// `10Mi/1s`, `512Ki/500ms`: a positive memory quantity per a positive duration,
/// as (bytes, milliseconds).
fn growth(text: &str) -> Option<(i64, u64)> {
    let (amount, per) = text.split_once('/')?;
    let bytes = crate::api::quantity::value(amount.trim())?;
    let millis = parse_duration(per.trim())?;
    (bytes > 0 && millis > 0).then_some((bytes, millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_become_a_script_and_bad_ones_are_ignored() {
        let annotations: BTreeMap<String, String> = [
            (CRASH_AFTER, "1m30s"),
            (START_DELAY, "soon"),
            (FAIL_PROBES, "readiness, nonsense,startup"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let script = Script::of(Some(&annotations));
        assert_eq!(script.crash_after_ms, Some(90_000));
        assert_eq!(script.start_delay_ms, 0);
        assert_eq!(script.failing_probes, [true, false, true]);
        assert_eq!(script.health(ProbeKind::Liveness, 0), Health::AsItIs);
        assert_eq!(script.health(ProbeKind::Readiness, 0), Health::Failing);
        let slow = Script {
            start_delay_ms: 20_000,
            ..Script::default()
        };
        assert_eq!(
            slow.health(ProbeKind::Liveness, 19_999),
            Health::NotListening
        );
        assert_eq!(slow.health(ProbeKind::Liveness, 20_000), Health::AsItIs);
        assert_eq!(Script::of(None), Script::default());
    }

    #[test]
    fn memory_growth_is_a_quantity_per_duration() {
        let of = |text: &str| {
            let annotations = BTreeMap::from([(MEMORY_GROWTH.to_string(), text.to_string())]);
            Script::of(Some(&annotations))
        };
        let leak = of("10Mi/1s");
        assert_eq!(leak.memory_growth, Some((10 * 1024 * 1024, 1_000)));
        assert_eq!(leak.memory_added(1_500), 15 * 1024 * 1024);
        assert_eq!(of("1Mi/500ms").memory_added(1_000), 2 * 1024 * 1024);
        for bad in ["10Mi", "fast/1s", "10Mi/soon", "0/1s", "-1Mi/1s", "1Mi/0s"] {
            assert_eq!(of(bad).memory_growth, None, "{bad}");
        }
        // 100 MiB of room at 10 MiB/s: just past the limit after 10 s.
        let mib = 1024 * 1024;
        assert_eq!(leak.grows_past(28 * mib, 128 * mib), Some(10_001));
        assert_eq!(Script::default().grows_past(0, mib), None);
    }
}
