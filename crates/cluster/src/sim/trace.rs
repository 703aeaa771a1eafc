//! The trace: every API call and every watch delivery, with causal links. Sequence
//! diagrams, events, object history and lesson checks all read it.

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

/// The append-only record of a run.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    entries: Vec<TraceEntry>,
}

impl Trace {
    /// Appends an entry and returns its id.
    pub fn record(
        &mut self,
        time: VirtualTime,
        cause: Option<TraceId>,
        kind: TraceKind,
    ) -> TraceId {
        let id = self.entries.len() as TraceId;
        self.entries.push(TraceEntry {
            id,
            time: time.millis(),
            cause,
            kind,
        });
        id
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// Entries from `id` on (for incremental readers such as the UI).
    pub fn since(&self, id: TraceId) -> &[TraceEntry] {
        let start = (id as usize).min(self.entries.len());
        &self.entries[start..]
    }

    /// The whole trace as JSON lines: byte-identical for identical runs.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            out.push_str(&serde_json::to_string(entry).expect("trace entries serialise"));
            out.push('\n');
        }
        out
    }
}
