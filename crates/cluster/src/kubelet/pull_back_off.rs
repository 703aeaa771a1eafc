//! The kubelet's image pull back-off (upstream's `flowcontrol.Backoff` with
//! `backOffPeriod` 10 s and `MaxImageBackOff` 300 s), for the images of one pod:
//! after a failed pull the next one waits 10 s, then 20 s, 40 s, ... up to five
//! minutes, and a pod worker that syncs sooner reports `ImagePullBackOff`.

use std::collections::BTreeMap;

/// The first wait after a failed pull.
const INITIAL_MS: u64 = 10_000;
/// The longest wait.
const MAX_MS: u64 = 300_000;

/// One image's back-off.
struct Entry {
    wait_ms: u64,
    last_failure_ms: u64,
    /// `ErrImagePull: <the pull's error>`, which the back-off message carries.
    last_error: String,
}

/// The back-off of each image of one pod.
#[derive(Default)]
pub struct PullBackOff {
    entries: BTreeMap<String, Entry>,
}

impl PullBackOff {
    /// The entry of `image` unless it has not failed for twice the longest wait
    /// (then it starts over).
    fn current(&self, image: &str, now_ms: u64) -> Option<&Entry> {
        self.entries
            .get(image)
            .filter(|e| now_ms.saturating_sub(e.last_failure_ms) <= 2 * MAX_MS)
    }

    /// The error of the last pull while `image` is backing off at `now_ms`.
    pub fn backing_off(&self, image: &str, now_ms: u64) -> Option<&str> {
        self.current(image, now_ms)
            .filter(|e| now_ms - e.last_failure_ms < e.wait_ms)
            .map(|e| e.last_error.as_str())
    }

    /// A pull of `image` failed at `now_ms` with `error`: the wait doubles.
    pub fn failed(&mut self, image: &str, now_ms: u64, error: String) {
        let wait_ms = match self.current(image, now_ms) {
            Some(e) => (e.wait_ms * 2).min(MAX_MS),
            None => INITIAL_MS,
        };
        self.entries.insert(
            image.to_string(),
            Entry {
                wait_ms,
                last_failure_ms: now_ms,
                last_error: error,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_ten_seconds_to_five_minutes_and_expires() {
        let mut back_off = PullBackOff::default();
        assert_eq!(back_off.backing_off("x", 0), None);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            back_off.failed("x", now, "ErrImagePull: e".into());
            let wait = (now..)
                .find(|t| back_off.backing_off("x", *t).is_none())
                .unwrap()
                - now;
            waits.push(wait / 1000);
            now += wait;
        }
        assert_eq!(waits, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(back_off.backing_off("x", now - 1), Some("ErrImagePull: e"));
        // Ten quiet minutes after the last failure it starts over from 10 s.
        let later = now + 600_001;
        back_off.failed("x", later, "ErrImagePull: e".into());
        assert!(back_off.backing_off("x", later + 9_999).is_some());
        assert!(back_off.backing_off("x", later + 10_000).is_none());
    }
}
