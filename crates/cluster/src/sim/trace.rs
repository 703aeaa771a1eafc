//! The trace: every API call and every watch delivery, with causal links. Sequence
//! diagrams, events, object history and lesson checks all read it. It keeps the
//! newest entries up to a capacity, so a long run stays in bounded memory.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::clock::VirtualTime;

/// The position of an entry in the trace.
pub type TraceId = u64;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TraceKind {
    /// An API request and its outcome.
    Call {
        actor: String,
        /// The audit verb: get, list, watch, create, update, patch, delete, deletecollection.
        verb: String,
        /// `pods`, `deployments.apps`; empty for non-resource paths.
        resource: String,
        #[serde(skip_serializing_if = "String::is_empty", default)]
        subresource: String,
        #[serde(skip_serializing_if = "String::is_empty", default)]
        namespace: String,
        #[serde(skip_serializing_if = "String::is_empty", default)]
        name: String,
        code: u16,
        /// The resourceVersion a write produced.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        resource_version: Option<u64>,
    },
    /// A watch event handed to a component.
    Delivery {
        actor: String,
        /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
        event: String,
        resource: String,
        #[serde(skip_serializing_if = "String::is_empty", default)]
        namespace: String,
        #[serde(skip_serializing_if = "String::is_empty", default)]
        name: String,
        resource_version: u64,
    },
}

/// One trace entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEntry {
    pub id: TraceId,
    /// Virtual milliseconds since the simulation started.
    pub time: u64,
    /// The entry that caused this one: the delivery a component was handling when it
    /// called, or the write whose watch event is being delivered.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cause: Option<TraceId>,
    #[serde(flatten)]
    pub kind: TraceKind,
}

/// How many entries a trace keeps by default: the last 200,000 calls and
/// deliveries (minutes of a busy thousand-node cluster, hours of a lesson).
pub const DEFAULT_TRACE_CAPACITY: usize = 200_000;

/// The record of a run: the newest entries, up to a capacity; older ones are
/// dropped, and readers asking for them are told how many.
#[derive(Clone, Debug)]
pub struct Trace {
    entries: VecDeque<TraceEntry>,
    /// The id the next entry gets: how many were ever recorded.
    next_id: TraceId,
    capacity: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::with_capacity(DEFAULT_TRACE_CAPACITY)
    }
}

impl Trace {
    /// A trace that keeps the newest `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Trace {
        Trace {
            entries: VecDeque::new(),
            next_id: 0,
            capacity: capacity.max(1),
        }
    }

    /// Keeps the newest `capacity` entries from now on, dropping older ones.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.entries.len() > self.capacity {
            self.entries.pop_front();
        }
    }

    /// Appends an entry (dropping the oldest when full) and returns its id.
    pub fn record(
        &mut self,
        time: VirtualTime,
        cause: Option<TraceId>,
        kind: TraceKind,
    ) -> TraceId {
        let id = self.next_id;
        self.next_id += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(TraceEntry {
            id,
            time: time.millis(),
            cause,
            kind,
        });
        id
    }

    /// How many entries were ever recorded (kept or dropped).
    pub fn recorded(&self) -> u64 {
        self.next_id
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &TraceEntry> {
        self.entries.iter()
    }

    /// Entries from `id` on (for incremental readers such as the UI), after how
    /// many of those were already dropped.
    pub fn since(&self, id: TraceId) -> (u64, impl Iterator<Item = &TraceEntry>) {
        let oldest = self.next_id - self.entries.len() as u64;
        let dropped = oldest.saturating_sub(id);
        let start = id.saturating_sub(oldest).min(self.entries.len() as u64) as usize;
        (dropped, self.entries.range(start..))
    }

    /// The kept entries as JSON lines: byte-identical for identical runs.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            out.push_str(&serde_json::to_string(entry).expect("trace entries serialise"));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(trace: &mut Trace, name: &str) -> TraceId {
        let kind = TraceKind::Call {
            actor: "kubectl".into(),
            verb: "get".into(),
            resource: "pods".into(),
            subresource: String::new(),
            namespace: "default".into(),
            name: name.into(),
            code: 200,
            resource_version: None,
        };
        trace.record(VirtualTime(0), None, kind)
    }

    #[test]
    fn a_full_trace_drops_its_oldest_entries_and_says_how_many_a_reader_missed() {
        let mut trace = Trace::with_capacity(3);
        for name in ["a", "b", "c", "d", "e"] {
            record(&mut trace, name);
        }
        assert_eq!(trace.recorded(), 5);
        let kept: Vec<TraceId> = trace.entries().map(|e| e.id).collect();
        assert_eq!(kept, [2, 3, 4]);
        let (dropped, rest) = trace.since(0);
        assert_eq!((dropped, rest.count()), (2, 3));
        let (dropped, rest) = trace.since(3);
        assert_eq!(
            (dropped, rest.map(|e| e.id).collect::<Vec<_>>()),
            (0, vec![3, 4])
        );
        let (dropped, rest) = trace.since(9);
        assert_eq!((dropped, rest.count()), (0, 0));
    }

    #[test]
    fn a_smaller_capacity_drops_at_once() {
        let mut trace = Trace::default();
        for name in ["a", "b", "c"] {
            record(&mut trace, name);
        }
        trace.set_capacity(1);
        assert_eq!(trace.entries().map(|e| e.id).collect::<Vec<_>>(), [2]);
        assert_eq!(record(&mut trace, "d"), 3);
        assert_eq!(trace.entries().count(), 1);
    }
}
