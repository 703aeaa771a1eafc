//! Watches that asked for Tables (`Accept: application/json;as=Table;...`, as
//! `kubectl get -w` does): each ADDED, MODIFIED or DELETED event carries a one-row
//! Table, printed when the event is taken (so AGE is current); only the first
//! carries the column definitions, as upstream's watch handler sends them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::tables::Printable;
use super::watch::{EventType, WatchEvent, WatchId};
use super::ApiServer;
use crate::sim::VirtualTime;

/// What a Table watch asked for, and whether its headers went out.
pub struct TableWatch {
    /// `includeObject`: `None`, `Metadata` (the default) or `Object`.
    include_object: String,
    columns_sent: bool,
}

/// The open Table watches.
pub type TableWatches = BTreeMap<WatchId, TableWatch>;

impl TableWatch {
    /// A Table watch that carries rows' objects as `include_object` says.
    pub fn new(include_object: Option<&str>) -> TableWatch {
        TableWatch {
            include_object: include_object.unwrap_or("Metadata").to_string(),
            columns_sent: false,
        }
    }
}

impl ApiServer {
    /// Turns the objects of a Table watch's events into one-row Tables at `now`.
    pub(super) fn tabulate(&mut self, id: WatchId, events: &mut [WatchEvent], now: VirtualTime) {
        let Some(resource) = self.watches.filter(id).map(|f| f.resource) else {
            return;
        };
        let Some(watch) = self.table_watches.get(&id) else {
            return;
        };
        let include_object = watch.include_object.clone();
        let mut columns_sent = watch.columns_sent;
        let now_unix_ms = now.unix_millis(self.epoch_unix_ms);
        for event in events.iter_mut() {
            if !matches!(
                event.event_type,
                EventType::Added | EventType::Modified | EventType::Deleted
            ) {
                continue;
            }
            let metadata = json!({"resourceVersion": event.rv.to_string()});
            let table = self.table_of(
                resource,
                std::iter::once(Printable::text(&event.object)),
                &include_object,
                !columns_sent,
                metadata,
                now_unix_ms,
            );
            event.object = Arc::from(table);
            columns_sent = true;
        }
        if let Some(watch) = self.table_watches.get_mut(&id) {
            watch.columns_sent = columns_sent;
        }
    }
}
