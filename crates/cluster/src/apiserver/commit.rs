//! The single write path: stamp the next resourceVersion, store, record the change
//! and fan it out to watchers.

use crate::api::json_path::ValueExt;
use std::sync::Arc;

use serde_json::Value;

use super::fields::{labels_of, selectable_value};
use super::storage::{object_key, Change, ChangeKind, StoredObject};
use super::ApiServer;

/// Metadata lists and maps upstream omits when empty (`omitempty`).
const OMITTED_WHEN_EMPTY: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// Drops empty `labels`, `annotations`, `finalizers` and `ownerReferences`, as
/// upstream's encoder does, so removing the last owner leaves no `[]` behind.
pub(super) fn drop_empty_metadata(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.retain(|key, value| {
            !OMITTED_WHEN_EMPTY.contains(&key.as_str())
                || match value {
                    Value::Array(items) => !items.is_empty(),
                    Value::Object(map) => !map.is_empty(),
                    Value::Null => false,
                    _ => true,
                }
        });
    }
}

/// The object's JSON text (as `serde_json::to_string` writes it) and the byte span
/// of its `metadata` in that text.
fn encode(obj: &Value) -> (String, Option<(u32, u32)>) {
    let Value::Object(fields) = obj else {
        return (obj.to_string(), None);
    };
    let mut out = Vec::with_capacity(1024);
    let mut metadata = None;
    out.push(b'{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key).expect("JSON values serialise");
        out.push(b':');
        let start = out.len();
        serde_json::to_writer(&mut out, value).expect("JSON values serialise");
        if key == "metadata" {
            metadata = Some((start as u32, out.len() as u32));
        }
    }
    out.push(b'}');
    let json = String::from_utf8(out).expect("serde_json writes UTF-8");
    (json, metadata)
}

impl ApiServer {
    /// Builds the stored form of `obj` at resourceVersion `rv`.
    pub(super) fn stored(&self, resource: usize, obj: &mut Value, rv: u64) -> Arc<StoredObject> {
        self.stored_over(resource, obj, rv, None)
    }

    /// [`Self::stored`], taking the selectable fields and row facts from `same_but_metadata`,
    /// a version that differs from `obj` only in metadata an update may change (neither
    /// reads it: fields are spec and status paths, a row reads the name and timestamps).
    fn stored_over(
        &self,
        resource: usize,
        obj: &mut Value,
        rv: u64,
        same_but_metadata: Option<&StoredObject>,
    ) -> Arc<StoredObject> {
        let info = &self.served[resource].info;
        drop_empty_metadata(obj);
        obj["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let namespace = obj.at("/metadata/namespace").and_then(Value::as_str);
        let name = obj
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let key = object_key(namespace.filter(|_| info.namespaced()), name);
        let fields = match same_but_metadata {
            Some(kept) => kept.fields.clone(),
            None => info
                .selectable_fields
                .iter()
                .map(|f| selectable_value(obj, f).into_boxed_str())
                .collect(),
        };
        let row = match same_but_metadata {
            Some(kept) => kept.row.clone(),
            None => self.served[resource].stored_row.map(|facts| facts(obj)),
        };
        let (json, metadata) = encode(obj);
        Arc::new(StoredObject {
            key: Arc::from(key),
            json: Arc::from(json),
            rv,
            labels: labels_of(obj),
            fields,
            metadata,
            row,
        })
    }

    /// Commits a change of `obj` (already validated, metadata set) and returns what was stored.
    pub(super) fn commit(
        &mut self,
        resource: usize,
        kind: ChangeKind,
        obj: Value,
    ) -> Arc<StoredObject> {
        self.commit_over(resource, kind, obj, None)
    }

    /// [`Self::commit`] of an update that changed only metadata of `previous`
    /// (when given), whose selectable fields and row facts still hold.
    pub(super) fn commit_over(
        &mut self,
        resource: usize,
        kind: ChangeKind,
        mut obj: Value,
        previous: Option<&StoredObject>,
    ) -> Arc<StoredObject> {
        self.rv += 1;
        let rv = self.rv;
        self.note_policy_change(resource);
        let current = self.stored_over(resource, &mut obj, rv, previous);
        if resource == self.events && kind != ChangeKind::Deleted {
            self.event_leases.grant(self.now, current.key.clone(), rv);
        }
        if self.config_resources.contains(&resource) {
            let now_unix_ms = self.now.unix_millis(self.epoch_unix_ms);
            let held = (kind != ChangeKind::Deleted).then(|| current.clone());
            self.config_history
                .record(resource, current.key.clone(), now_unix_ms, held);
        }
        let table = &mut self.served[resource].table;
        let previous = match kind {
            ChangeKind::Deleted => table.remove(&current.key),
            _ => table.put(current.clone()),
        };
        let change = Change {
            rv,
            resource,
            kind,
            previous,
            current: current.clone(),
        };
        // Watchers pinned to one indexed field value (e.g. one node's pods) see only their events.
        let mut pinned: Vec<&str> = Vec::new();
        if resource_is_pods(&self.served[resource].info) {
            let position = self.served[resource]
                .info
                .selectable_fields
                .iter()
                .position(|f| f == "spec.nodeName");
            if let Some(p) = position {
                if let Some(prev) = &change.previous {
                    pinned.push(&prev.fields[p]);
                }
                pinned.push(&change.current.fields[p]);
            }
        }
        self.watches.publish(&change, &pinned);
        self.history.push(change);
        self.last_write_rv = Some(rv);
        current
    }
}

fn resource_is_pods(info: &crate::api::ResourceInfo) -> bool {
    info.group.is_empty() && info.plural == "pods"
}
