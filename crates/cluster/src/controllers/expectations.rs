//! Controller expectations, as upstream's `UIDTrackingControllerExpectations`:
//! after creating or deleting pods a controller waits to see those changes in its
//! informer before it counts pods again, so it never acts twice on one gap.
//! Expectations older than five minutes are given up on.

use std::collections::{BTreeMap, BTreeSet};

/// How long unmet expectations hold a controller back, in virtual milliseconds.
pub const EXPECTATIONS_TIMEOUT_MS: u64 = 5 * 60_000;

#[derive(Default)]
struct Expectation {
    adds: i64,
    deletions: BTreeSet<String>,
    set_at: u64,
}

/// Outstanding creations and deletions per controller key.
#[derive(Default)]
pub struct Expectations {
    by_controller: BTreeMap<String, Expectation>,
}

impl Expectations {
    /// Whether `controller` may sync: nothing outstanding, or it expired.
    pub fn satisfied(&self, controller: &str, now_ms: u64) -> bool {
        self.by_controller.get(controller).is_none_or(|e| {
            (e.adds <= 0 && e.deletions.is_empty())
                || now_ms.saturating_sub(e.set_at) > EXPECTATIONS_TIMEOUT_MS
        })
    }

    /// Records that `controller` is about to create `count` pods.
    pub fn expect_creations(&mut self, controller: &str, count: usize, now_ms: u64) {
        let e = self.by_controller.entry(controller.into()).or_default();
        e.adds = count as i64;
        e.set_at = now_ms;
    }

    /// Records that `controller` is about to delete the pods with these keys.
    pub fn expect_deletions(&mut self, controller: &str, pods: &[String], now_ms: u64) {
        let e = self.by_controller.entry(controller.into()).or_default();
        e.deletions = pods.iter().cloned().collect();
        e.set_at = now_ms;
    }

    /// A creation was seen (or will never happen because the create failed).
    pub fn creation_observed(&mut self, controller: &str) {
        if let Some(e) = self.by_controller.get_mut(controller) {
            e.adds -= 1;
        }
    }

    /// `count` expected creations will never be seen (their creates failed or were
    /// skipped): upstream's `LowerExpectations`.
    pub fn lower_creations(&mut self, controller: &str, count: usize) {
        if let Some(e) = self.by_controller.get_mut(controller) {
            e.adds -= count as i64;
        }
    }

    /// The deletion of the pod with `pod_key` was seen (or failed).
    pub fn deletion_observed(&mut self, controller: &str, pod_key: &str) {
        if let Some(e) = self.by_controller.get_mut(controller) {
            e.deletions.remove(pod_key);
        }
    }

    /// Forgets a controller that no longer exists.
    pub fn remove(&mut self, controller: &str) {
        self.by_controller.remove(controller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creations_and_deletions_hold_back_until_seen_or_expired() {
        let mut e = Expectations::default();
        assert!(e.satisfied("ns/rs", 0));
        e.expect_creations("ns/rs", 2, 0);
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs", 1));
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs", 1));
        e.expect_creations("ns/rs", 5, 1);
        e.lower_creations("ns/rs", 4);
        assert!(!e.satisfied("ns/rs", 1), "one creation still to be seen");
        e.lower_creations("ns/rs", 1);
        assert!(e.satisfied("ns/rs", 1));
        e.expect_deletions("ns/rs", &["ns/a".into()], 10);
        e.deletion_observed("ns/rs", "ns/b");
        assert!(!e.satisfied("ns/rs", 11));
        assert!(e.satisfied("ns/rs", 10 + EXPECTATIONS_TIMEOUT_MS + 1));
        e.deletion_observed("ns/rs", "ns/a");
        assert!(e.satisfied("ns/rs", 11));
    }
}
