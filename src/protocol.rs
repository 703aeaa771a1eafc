//! The messages between the UI thread and the engine's Web Worker, sent as JSON text.

use kubecraft_cluster::api::Request;
use serde::{Deserialize, Serialize};

/// From the UI to the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ToWorker {
    /// An API request; the answer comes back with the same `id`.
    Api { id: u64, request: Request },
    /// A console line, as `kubecraft shell` takes it (kubectl or `sim` commands).
    Shell { id: u64, line: String },
    /// What the editor pane saved, for the `kubectl edit` waiting for it.
    EditorSave { id: u64, text: String },
    /// Runs a scheduler throughput workload (`basic` or `anti-affinity`, see
    /// `kubecraft_cluster::scheduler::throughput`) on a cluster of its own; the
    /// user's cluster is untouched.
    Bench {
        id: u64,
        workload: String,
        seed: u64,
    },
}

/// From the worker to the UI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FromWorker {
    /// The engine is loaded; messages sent before this are lost.
    Ready,
    /// The answer to [`ToWorker::Api`].
    Api { id: u64, status: u16, body: String },
    /// What a console line (or an editor pane's save) printed, stdout and stderr in
    /// order; `editor` is the text to open in the editor pane while a `kubectl edit`
    /// waits for it.
    Shell {
        id: u64,
        output: String,
        exit_code: i32,
        editor: Option<String>,
    },
    /// The answer to [`ToWorker::Bench`]: pods/s, or why the workload did not run.
    Bench {
        id: u64,
        result: Result<f64, String>,
    },
    /// A message the worker could not read.
    BadMessage { error: String },
}

impl ToWorker {
    /// The JSON text posted to the worker.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("protocol messages serialise")
    }
}

impl FromWorker {
    /// The id of the request this answers (none for Ready and BadMessage).
    pub fn id(&self) -> Option<u64> {
        match self {
            FromWorker::Api { id, .. }
            | FromWorker::Shell { id, .. }
            | FromWorker::Bench { id, .. } => Some(*id),
            FromWorker::Ready | FromWorker::BadMessage { .. } => None,
        }
    }

    /// The JSON text posted to the UI.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("protocol messages serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let msg = ToWorker::Api {
            id: 3,
            request: Request::get("/api/v1"),
        };
        let back: ToWorker = serde_json::from_str(&msg.to_text()).unwrap();
        assert_eq!(back, msg);
        assert_eq!(FromWorker::Ready.to_text(), r#"{"type":"Ready"}"#);
    }
}
