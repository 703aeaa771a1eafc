//! A controller work queue on the world's clock, as client-go's rate-limited queue:
//! keys are deduplicated while they wait, `add_after` delays a key, and
//! `add_rate_limited` backs a failing key off exponentially (by default 5 ms
//! doubling to 1000 s). The owner hands its timers to [`WorkQueue::on_timer`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::sim::clock::doubled;
use crate::sim::Ctx;

/// The first retry delay of a failing key.
pub const BASE_DELAY_MS: u64 = 5;
/// The longest retry delay.
pub const MAX_DELAY_MS: u64 = 1_000_000;

/// Keys waiting to be reconciled.
pub struct WorkQueue {
    /// The component's timer key that means "process now"; delayed adds use keys above it.
    timer_base: u64,
    queue: VecDeque<String>,
    queued: BTreeSet<String>,
    processing_scheduled: bool,
    delayed: BTreeMap<u64, String>,
    next_delay_id: u64,
    failures: BTreeMap<String, u32>,
    /// The first and the longest retry delay of a failing key.
    backoff: (u64, u64),
}

impl WorkQueue {
    /// A queue that uses the owner's timer keys from `timer_base` upward.
    pub fn new(timer_base: u64) -> WorkQueue {
        WorkQueue {
            timer_base,
            queue: VecDeque::new(),
            queued: BTreeSet::new(),
            processing_scheduled: false,
            delayed: BTreeMap::new(),
            next_delay_id: 1,
            failures: BTreeMap::new(),
            backoff: (BASE_DELAY_MS, MAX_DELAY_MS),
        }
    }

    /// The queue with its own failure back-off (as the Job controller's, 1 s to 1 min).
    pub fn with_backoff(self, base_ms: u64, max_ms: u64) -> WorkQueue {
        WorkQueue {
            backoff: (base_ms, max_ms),
            ..self
        }
    }

    /// Whether `timer` is one of this queue's timers.
    pub fn owns_timer(&self, timer: u64) -> bool {
        timer >= self.timer_base
    }

    /// Queues `key` for processing (once, however often it is added while waiting).
    pub fn add(&mut self, key: &str, ctx: &mut Ctx) {
        if self.queued.insert(key.to_string()) {
            self.queue.push_back(key.to_string());
        }
        if !self.processing_scheduled {
            self.processing_scheduled = true;
            ctx.set_timer(0, self.timer_base);
        }
    }

    /// Queues `key` after `delay_ms` of virtual time.
    pub fn add_after(&mut self, key: &str, delay_ms: u64, ctx: &mut Ctx) {
        if delay_ms == 0 {
            return self.add(key, ctx);
        }
        let id = self.next_delay_id;
        self.next_delay_id += 1;
        self.delayed.insert(id, key.to_string());
        ctx.set_timer(delay_ms, self.timer_base + id);
    }

    /// Queues `key` after `delay_ms` to check a deadline; like a heartbeat, the
    /// wait never keeps the cluster from being quiet.
    pub fn check_after(&mut self, key: &str, delay_ms: u64, ctx: &mut Ctx) {
        let id = self.next_delay_id;
        self.next_delay_id += 1;
        self.delayed.insert(id, key.to_string());
        ctx.set_background_timer(delay_ms, self.timer_base + id);
    }

    /// Queues `key` again after its exponential back-off.
    pub fn add_rate_limited(&mut self, key: &str, ctx: &mut Ctx) {
        let failures = self.failures.entry(key.to_string()).or_default();
        let (base, max) = self.backoff;
        let delay = doubled(base, *failures, max);
        *failures += 1;
        self.add_after(key, delay, ctx);
    }

    /// Ends a sync of `key` as upstream's workers do: a failed one is queued again
    /// after the key's back-off, a clean one forgets the key's failures.
    pub fn finish(&mut self, key: &str, failed: bool, ctx: &mut Ctx) {
        if failed {
            self.add_rate_limited(key, ctx);
        } else {
            self.forget(key);
        }
    }

    /// Forgets the failures of `key` (it reconciled cleanly).
    pub fn forget(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// Handles one of this queue's timers; returns the keys to process now, in order.
    pub fn on_timer(&mut self, timer: u64, ctx: &mut Ctx) -> Vec<String> {
        if timer == self.timer_base {
            self.processing_scheduled = false;
            self.queued.clear();
            return self.queue.drain(..).collect();
        }
        if let Some(key) = self.delayed.remove(&(timer - self.timer_base)) {
            self.add(&key, ctx);
        }
        Vec::new()
    }
}
