//! The scheduling queue: activeQ ordered by PrioritySort (higher priority first, then
//! the earlier arrival), backoffQ (1 s doubling to 10 s per attempt), and the
//! unschedulable pods, moved back when a cluster event may help them or after
//! five minutes, as upstream's queue does.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use crate::sim::{Duration, VirtualTime};

/// Upstream's initial and maximum pod backoff.
pub const INITIAL_BACKOFF_MS: Duration = 1_000;
pub const MAX_BACKOFF_MS: Duration = 10_000;
/// How long a pod may stay unschedulable before it is retried anyway.
pub const UNSCHEDULABLE_TIMEOUT_MS: Duration = 5 * 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    /// Popped and being scheduled.
    InFlight,
}

struct Entry {
    priority: i32,
    /// When the pod first entered the queue (PrioritySort's tie-breaker).
    arrived: VirtualTime,
    attempts: u32,
    last_attempt: VirtualTime,
    place: Place,
    /// A cluster event happened while the pod was in flight.
    moved_while_in_flight: bool,
}

/// The first backoff and the longest (`podInitialBackoffSeconds`, `podMaxBackoffSeconds`).
#[derive(Clone, Copy)]
struct BackoffPolicy {
    initial: Duration,
    max: Duration,
}

/// activeQ: higher priority first, then the earlier arrival.
type ActiveQ = BTreeSet<(Reverse<i32>, VirtualTime, String)>;

/// The queue of pods waiting for a node.
pub struct SchedulingQueue {
    policy: BackoffPolicy,
    entries: BTreeMap<String, Entry>,
    active: ActiveQ,
    /// Pods in backoffQ by the end of their backoff.
    backoff: BTreeSet<(VirtualTime, String)>,
    /// Unschedulable pods that a pod assigned to a node may help (rejected by
    /// InterPodAffinity or PodTopologySpread).
    waiting_for_assigned_pods: BTreeSet<String>,
}

impl Default for SchedulingQueue {
    fn default() -> Self {
        SchedulingQueue {
            policy: BackoffPolicy {
                initial: INITIAL_BACKOFF_MS,
                max: MAX_BACKOFF_MS,
            },
            entries: BTreeMap::new(),
            active: ActiveQ::new(),
            backoff: BTreeSet::new(),
            waiting_for_assigned_pods: BTreeSet::new(),
        }
    }
}

impl SchedulingQueue {
    /// Sets the first and the longest backoff.
    pub fn set_backoff(&mut self, initial: Duration, max: Duration) {
        self.policy = BackoffPolicy { initial, max };
    }

    /// Adds a new pod (or refreshes the priority of a known one) to activeQ.
    pub fn add(&mut self, key: &str, priority: i32, now: VirtualTime) {
        if self.entries.contains_key(key) {
            return;
        }
        self.entries.insert(
            key.to_string(),
            Entry {
                priority,
                arrived: now,
                attempts: 0,
                last_attempt: now,
                place: Place::Active,
                moved_while_in_flight: false,
            },
        );
        self.active
            .insert((Reverse(priority), now, key.to_string()));
    }

    /// Whether the queue holds `key` anywhere.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Forgets a pod (bound, deleted, or no longer ours).
    pub fn remove(&mut self, key: &str) {
        self.waiting_for_assigned_pods.remove(key);
        if let Some(e) = self.entries.remove(key) {
            if e.place == Place::Backoff {
                self.backoff
                    .remove(&(Self::backoff_end(self.policy, &e), key.to_string()));
            }
            self.active
                .remove(&(Reverse(e.priority), e.arrived, key.to_string()));
        }
    }

    /// Takes the next pod to schedule.
    pub fn pop(&mut self) -> Option<String> {
        let (_, _, key) = self.active.pop_first()?;
        if let Some(e) = self.entries.get_mut(&key) {
            e.place = Place::InFlight;
            e.moved_while_in_flight = false;
        }
        Some(key)
    }

    /// Whether activeQ has work.
    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// When the pod's backoff after its last attempt ends.
    fn backoff_end(policy: BackoffPolicy, e: &Entry) -> VirtualTime {
        let doublings = e.attempts.saturating_sub(1);
        e.last_attempt.after(crate::sim::clock::doubled(
            policy.initial,
            doublings,
            policy.max,
        ))
    }

    /// The attempt failed: the pod waits as unschedulable, or in backoff when a
    /// cluster event came during the attempt or the failure was an error.
    /// `waits_for_assigned_pods`: a pod landing on a node may let it fit.
    pub fn failed(
        &mut self,
        key: &str,
        now: VirtualTime,
        error: bool,
        waits_for_assigned_pods: bool,
    ) {
        let policy = self.policy;
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        e.attempts += 1;
        e.last_attempt = now;
        e.place = if error || e.moved_while_in_flight {
            Place::Backoff
        } else {
            Place::Unschedulable
        };
        match e.place {
            Place::Backoff => {
                self.backoff
                    .insert((Self::backoff_end(policy, e), key.to_string()));
            }
            _ if waits_for_assigned_pods => {
                self.waiting_for_assigned_pods.insert(key.to_string());
            }
            _ => {}
        }
    }

    /// Puts a pod into activeQ.
    fn activate(active: &mut ActiveQ, key: &str, e: &mut Entry) {
        e.place = Place::Active;
        active.insert((Reverse(e.priority), e.arrived, key.to_string()));
    }

    /// Moves one unschedulable pod to activeQ (or backoffQ while its backoff lasts);
    /// a pod in flight is marked so that a failure goes to backoff.
    fn move_entry(
        active: &mut ActiveQ,
        backoff: &mut BTreeSet<(VirtualTime, String)>,
        policy: BackoffPolicy,
        key: &str,
        e: &mut Entry,
        now: VirtualTime,
    ) {
        match e.place {
            Place::Unschedulable => {
                let end = Self::backoff_end(policy, e);
                if end > now {
                    e.place = Place::Backoff;
                    backoff.insert((end, key.to_string()));
                } else {
                    Self::activate(active, key, e);
                }
            }
            Place::InFlight => e.moved_while_in_flight = true,
            _ => {}
        }
    }

    /// A cluster event that may make unschedulable pods fit: move them to activeQ
    /// (or backoffQ while their backoff lasts).
    pub fn move_all(&mut self, now: VirtualTime) {
        self.move_all_but(now, "");
    }

    /// [`Self::move_all`], leaving `except` where it is (a pod whose own reservation
    /// was just given up: the resources it frees cannot help it).
    pub fn move_all_but(&mut self, now: VirtualTime, except: &str) {
        for (key, e) in self.entries.iter_mut().filter(|(key, _)| *key != except) {
            Self::move_entry(
                &mut self.active,
                &mut self.backoff,
                self.policy,
                key,
                e,
                now,
            );
        }
        self.waiting_for_assigned_pods.clear();
    }

    /// A pod was assigned to a node: move the pods that event may help.
    pub fn move_waiting_for_assigned_pods(&mut self, now: VirtualTime) {
        for key in std::mem::take(&mut self.waiting_for_assigned_pods) {
            if let Some(e) = self.entries.get_mut(&key) {
                Self::move_entry(
                    &mut self.active,
                    &mut self.backoff,
                    self.policy,
                    &key,
                    e,
                    now,
                );
            }
        }
    }

    /// Moves pods whose backoff is over to activeQ, and pods unschedulable for five
    /// minutes back to the queue.
    pub fn flush(&mut self, now: VirtualTime) {
        while let Some((end, key)) = self.backoff.first().cloned() {
            if end > now {
                break;
            }
            self.backoff.pop_first();
            if let Some(e) = self.entries.get_mut(&key) {
                Self::activate(&mut self.active, &key, e);
            }
        }
        for (key, e) in self.entries.iter_mut() {
            if e.place == Place::Unschedulable
                && e.last_attempt.after(UNSCHEDULABLE_TIMEOUT_MS) <= now
            {
                self.waiting_for_assigned_pods.remove(key);
                Self::activate(&mut self.active, key, e);
            }
        }
    }

    /// When the earliest backoff ends, if any pod is backing off.
    pub fn next_backoff_end(&self) -> Option<VirtualTime> {
        self.backoff.first().map(|(end, _)| *end)
    }

    /// How many pods are unschedulable (for `sim status` and tests).
    pub fn unschedulable_count(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.place == Place::Unschedulable)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_priority_first_then_arrival() {
        let mut q = SchedulingQueue::default();
        q.add("a", 0, VirtualTime(1));
        q.add("b", 100, VirtualTime(2));
        q.add("c", 0, VirtualTime(0));
        assert_eq!(q.pop().as_deref(), Some("b"));
        assert_eq!(q.pop().as_deref(), Some("c"));
        assert_eq!(q.pop().as_deref(), Some("a"));
        assert_eq!(q.pop(), None);
    }

    /// The backoffs each attempt of a pod that keeps failing waits.
    fn backoffs(q: &mut SchedulingQueue) -> Vec<u64> {
        q.add("a", 0, VirtualTime(0));
        let mut ends = Vec::new();
        let mut now = VirtualTime(0);
        for _ in 0..6 {
            q.pop();
            q.failed("a", now, true, false);
            let end = q.next_backoff_end().unwrap();
            ends.push(end.millis() - now.millis());
            now = end;
            q.flush(now);
        }
        ends
    }

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        let mut q = SchedulingQueue::default();
        assert_eq!(
            backoffs(&mut q),
            [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]
        );
    }

    #[test]
    fn configured_backoff_bounds() {
        let mut q = SchedulingQueue::default();
        q.set_backoff(3_000, 5_000);
        assert_eq!(backoffs(&mut q), [3_000, 5_000, 5_000, 5_000, 5_000, 5_000]);
    }

    #[test]
    fn unschedulable_pods_wait_for_an_event_or_five_minutes() {
        let mut q = SchedulingQueue::default();
        q.add("a", 0, VirtualTime(0));
        q.pop();
        q.failed("a", VirtualTime(0), false, false);
        q.flush(VirtualTime(60_000));
        assert!(!q.has_active());
        q.move_all(VirtualTime(60_000));
        assert_eq!(q.pop().as_deref(), Some("a"));
        q.failed("a", VirtualTime(60_000), false, false);
        q.flush(VirtualTime(60_000 + UNSCHEDULABLE_TIMEOUT_MS));
        assert!(q.has_active());
    }

    #[test]
    fn an_assigned_pod_moves_only_the_pods_it_may_help() {
        let mut q = SchedulingQueue::default();
        q.add("affine", 0, VirtualTime(0));
        q.add("big", 0, VirtualTime(0));
        q.pop();
        q.pop();
        q.failed("affine", VirtualTime(0), false, true);
        q.failed("big", VirtualTime(0), false, false);
        q.move_waiting_for_assigned_pods(VirtualTime(5_000));
        assert_eq!(q.pop().as_deref(), Some("affine"));
        assert_eq!(q.pop(), None);
        assert_eq!(q.unschedulable_count(), 1);
    }

    #[test]
    fn an_event_during_the_attempt_sends_the_pod_to_backoff() {
        let mut q = SchedulingQueue::default();
        q.add("a", 0, VirtualTime(0));
        q.pop();
        q.move_all(VirtualTime(0));
        q.failed("a", VirtualTime(0), false, false);
        assert_eq!(q.unschedulable_count(), 0);
        assert_eq!(q.next_backoff_end(), Some(VirtualTime(1_000)));
    }
}
