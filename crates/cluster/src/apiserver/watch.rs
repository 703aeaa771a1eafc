//! Watches: who watches what, event filtering with selector transitions, and
//! fan-out that costs O(1) per event for watchers pinned to one node's pods.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::storage::{Change, ChangeKind, StoredObject};
use crate::api::fields::FieldSelector;
use crate::api::labels::LabelSelector;

/// Identifies an open watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WatchId(pub u64);

/// The `type` of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

impl EventType {
    /// The wire name: `ADDED`, `MODIFIED`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
            EventType::Bookmark => "BOOKMARK",
            EventType::Error => "ERROR",
        }
    }
}

/// One event on a watch.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchEvent {
    pub event_type: EventType,
    pub rv: u64,
    /// The object (or a `Status` for ERROR) as JSON text.
    pub object: Arc<str>,
    /// The object's storage key (`namespace/name`), empty for bookmarks and errors.
    pub key: Arc<str>,
    /// Where the stored object's `metadata` ends in `object` (a byte offset). Stored
    /// objects keep their fields in name order, so the text up to here holds
    /// `apiVersion`, `kind` and `metadata`: all a metadata-only reader decodes.
    pub metadata_end: Option<u32>,
}

impl WatchEvent {
    /// The event as upstream streams it: `{"type":"ADDED","object":{...}}`.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"type\":\"{}\",\"object\":{}}}",
            self.event_type.as_str(),
            self.object
        )
    }
}

/// What a watch selects.
pub struct WatchFilter {
    pub resource: usize,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// Names of the resource's selectable fields, to read `fields` against.
    pub field_names: Vec<String>,
}

impl WatchFilter {
    /// Whether a stored object is selected.
    pub fn matches(&self, obj: &StoredObject) -> bool {
        if let Some(ns) = &self.namespace {
            if obj.namespace() != ns {
                return false;
            }
        }
        self.labels.matches_pairs(&obj.labels)
            && self
                .fields
                .matches(|field| field_value(obj, &self.field_names, field))
    }
}

/// A selectable field's value on a stored object.
pub fn field_value(obj: &StoredObject, names: &[String], field: &str) -> String {
    match field {
        "metadata.name" => obj.name().to_string(),
        "metadata.namespace" => obj.namespace().to_string(),
        _ => names
            .iter()
            .position(|n| n == field)
            .map(|i| obj.fields[i].to_string())
            .unwrap_or_default(),
    }
}

/// Rewrites a watch event's object (JSON text) into the shape the watcher asked for.
pub type Converter = Box<dyn Fn(&str) -> String + Send + Sync>;

struct Watcher {
    filter: WatchFilter,
    bookmarks: bool,
    queue: VecDeque<WatchEvent>,
    /// The indexed field pin this watcher is filed under, if any.
    pin: Option<(usize, Box<str>)>,
    /// Rewrites each object into another API's shape (events.k8s.io/v1 over core
    /// Events, another version of a custom resource).
    convert: Option<Converter>,
}

/// All open watches.
#[derive(Default)]
pub struct WatchHub {
    watchers: BTreeMap<WatchId, Watcher>,
    next_id: u64,
    /// Watchers of each resource that are not pinned to an indexed field value.
    general: HashMap<usize, Vec<WatchId>>,
    /// Watchers pinned to (resource, indexed field value), e.g. pods of one node.
    pinned: HashMap<(usize, Box<str>), Vec<WatchId>>,
    /// One entry per event queued since the last drain, in order.
    notifications: Vec<WatchId>,
}

fn apply_change(event: EventType, current: &StoredObject) -> WatchEvent {
    WatchEvent {
        event_type: event,
        rv: current.rv,
        object: current.json.clone(),
        key: current.key.clone(),
        metadata_end: current.metadata.map(|(_, end)| end),
    }
}

/// The event a watcher sees for a change, given whether it matched before and after.
pub fn event_for(change: &Change, filter: &WatchFilter) -> Option<WatchEvent> {
    let was = change.previous.as_ref().is_some_and(|p| filter.matches(p));
    let is = filter.matches(&change.current);
    let event = match (change.kind, was, is) {
        (ChangeKind::Deleted, true, _) => EventType::Deleted,
        (ChangeKind::Deleted, false, _) => return None,
        (_, false, true) => EventType::Added,
        (_, true, true) => EventType::Modified,
        (_, true, false) => EventType::Deleted,
        (_, false, false) => return None,
    };
    Some(apply_change(event, &change.current))
}

impl WatchHub {
    /// Opens a watch. `pin` names an indexed field position and value the filter fixes.
    pub fn open(
        &mut self,
        filter: WatchFilter,
        bookmarks: bool,
        pin: Option<(usize, String)>,
    ) -> WatchId {
        let id = WatchId(self.next_id);
        self.next_id += 1;
        let pin = pin.map(|(p, v)| (p, v.into_boxed_str()));
        match &pin {
            Some((_, value)) => self
                .pinned
                .entry((filter.resource, value.clone()))
                .or_default()
                .push(id),
            None => self.general.entry(filter.resource).or_default().push(id),
        }
        self.watchers.insert(
            id,
            Watcher {
                filter,
                bookmarks,
                queue: VecDeque::new(),
                pin,
                convert: None,
            },
        );
        id
    }

    /// Closes a watch; its pending events are dropped.
    pub fn close(&mut self, id: WatchId) {
        if let Some(w) = self.watchers.remove(&id) {
            let list = match w.pin {
                Some((_, value)) => self.pinned.get_mut(&(w.filter.resource, value)),
                None => self.general.get_mut(&w.filter.resource),
            };
            if let Some(list) = list {
                list.retain(|x| *x != id);
            }
        }
    }

    /// Whether the watch is open.
    pub fn is_open(&self, id: WatchId) -> bool {
        self.watchers.contains_key(&id)
    }

    /// Makes a watch deliver its objects through `convert` (including those already queued).
    pub fn convert_with(&mut self, id: WatchId, convert: Converter) {
        if let Some(w) = self.watchers.get_mut(&id) {
            for event in w.queue.iter_mut() {
                event.object = Arc::from(convert(&event.object));
            }
            w.convert = Some(convert);
        }
    }

    /// Queues an event on one watch.
    pub fn push(&mut self, id: WatchId, mut event: WatchEvent) {
        if let Some(w) = self.watchers.get_mut(&id) {
            if let Some(convert) = &w.convert {
                event.object = Arc::from(convert(&event.object));
            }
            w.queue.push_back(event);
            self.notifications.push(id);
        }
    }

    /// The filter of an open watch.
    pub fn filter(&self, id: WatchId) -> Option<&WatchFilter> {
        self.watchers.get(&id).map(|w| &w.filter)
    }

    /// Fans a committed change out to the watchers it concerns. `pinned_values` are the
    /// indexed field values before and after the change (for pinned watchers).
    pub fn publish(&mut self, change: &Change, pinned_values: &[&str]) {
        let mut targets: Vec<WatchId> = self
            .general
            .get(&change.resource)
            .cloned()
            .unwrap_or_default();
        for (i, value) in pinned_values.iter().enumerate() {
            if pinned_values[..i].contains(value) {
                continue;
            }
            if let Some(list) = self.pinned.get(&(change.resource, Box::from(*value))) {
                targets.extend(list.iter().copied());
            }
        }
        for id in targets {
            let Some(w) = self.watchers.get(&id) else {
                continue;
            };
            if let Some(event) = event_for(change, &w.filter) {
                self.push(id, event);
            }
        }
    }

    /// Queues a BOOKMARK at `rv` for every watch of `resource` that asked for bookmarks.
    pub fn bookmark_all(&mut self, rv: u64, make: impl Fn(usize) -> Arc<str>) {
        let ids: Vec<(WatchId, usize)> = self
            .watchers
            .iter()
            .filter(|(_, w)| w.bookmarks)
            .map(|(id, w)| (*id, w.filter.resource))
            .collect();
        // One BOOKMARK object per resource, shared by its watches.
        let mut objects: BTreeMap<usize, Arc<str>> = BTreeMap::new();
        for (id, resource) in ids {
            let object = objects.entry(resource).or_insert_with(|| make(resource));
            let event = WatchEvent {
                event_type: EventType::Bookmark,
                rv,
                object: object.clone(),
                key: Arc::from(""),
                metadata_end: None,
            };
            self.push(id, event);
        }
    }

    /// Removes and returns the queued events of a watch.
    pub fn take(&mut self, id: WatchId) -> Vec<WatchEvent> {
        self.watchers
            .get_mut(&id)
            .map(|w| w.queue.drain(..).collect())
            .unwrap_or_default()
    }

    /// Removes and returns the oldest queued event of a watch.
    pub fn pop(&mut self, id: WatchId) -> Option<WatchEvent> {
        self.watchers.get_mut(&id)?.queue.pop_front()
    }

    /// Which watches received events since the last call (one entry per event).
    pub fn drain_notifications(&mut self) -> Vec<WatchId> {
        std::mem::take(&mut self.notifications)
    }

    /// How many watches are open.
    pub fn len(&self) -> usize {
        self.watchers.len()
    }

    /// Whether no watch is open.
    pub fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }
}
