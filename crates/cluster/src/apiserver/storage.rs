//! Storage: one table per resource, keyed like etcd (`namespace/name`), with label
//! and field indexes, one global resourceVersion and a bounded history of changes
//! for watch resumption and consistent pagination.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::tables::{Printable, RowFacts};

/// One stored version of an object. Shared by the table, the history and watch events.
#[derive(Debug)]
pub struct StoredObject {
    /// The storage key: `namespace/name`, or `name` for cluster-scoped kinds.
    pub key: Arc<str>,
    /// The object as JSON text, exactly as a GET returns it.
    pub json: Arc<str>,
    pub rv: u64,
    /// The object's labels, for selectors.
    pub labels: Box<[(Box<str>, Box<str>)]>,
    /// Values of the resource's selectable fields, in `ResourceInfo::selectable_fields` order.
    pub fields: Box<[Box<str>]>,
    /// Where the object's `metadata` lies in `json` (byte offsets).
    pub metadata: Option<(u32, u32)>,
    /// What the object's Table row prints, for kinds whose printer works it out on store.
    pub row: Option<RowFacts>,
}

impl StoredObject {
    /// The object parsed as JSON.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json).expect("stored objects are valid JSON")
    }

    /// What the Table printer reads of the object.
    pub fn printable(&self) -> Printable<'_> {
        Printable {
            json: &self.json,
            metadata: self
                .metadata
                .map(|(start, end)| &self.json[start as usize..end as usize]),
            facts: self.row.as_ref(),
        }
    }

    /// The namespace part of the key (empty for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        self.key.split_once('/').map(|(ns, _)| ns).unwrap_or("")
    }

    /// The name part of the key.
    pub fn name(&self) -> &str {
        self.key
            .split_once('/')
            .map(|(_, n)| n)
            .unwrap_or(&self.key)
    }
}

/// The storage key of an object.
pub fn object_key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// What a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One committed change, kept for watchers that resume and for paginated lists.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub resource: usize,
    pub kind: ChangeKind,
    /// The state before the change (none for an add).
    pub previous: Option<Arc<StoredObject>>,
    /// The state after it (for a delete: the last state, stamped with the delete's rv).
    pub current: Arc<StoredObject>,
}

/// Slots by the value of one indexed label or field.
type ValueIndex = HashMap<Box<str>, BTreeSet<u32>>;

/// Files `slot` under `value`, copying the value only the first time it is seen.
fn index_value(index: &mut ValueIndex, value: &str, slot: u32) {
    match index.get_mut(value) {
        Some(slots) => {
            slots.insert(slot);
        }
        None => {
            index.insert(value.into(), BTreeSet::from([slot]));
        }
    }
}

/// Objects of one resource with their indexes.
#[derive(Default)]
pub struct ResourceTable {
    by_key: BTreeMap<Arc<str>, u32>,
    slots: Vec<Option<Arc<StoredObject>>>,
    free: Vec<u32>,
    /// label key → value → slots.
    label_index: HashMap<Box<str>, ValueIndex>,
    /// Selectable-field positions that are indexed, each with value → slots.
    field_indexes: Vec<(usize, ValueIndex)>,
}

impl ResourceTable {
    /// A table that indexes the selectable fields at `indexed` positions.
    pub fn with_field_indexes(indexed: &[usize]) -> Self {
        ResourceTable {
            field_indexes: indexed.iter().map(|&i| (i, HashMap::new())).collect(),
            ..Default::default()
        }
    }

    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The object under `key`.
    pub fn get(&self, key: &str) -> Option<&Arc<StoredObject>> {
        let slot = *self.by_key.get(key)?;
        self.slots[slot as usize].as_ref()
    }

    fn index(&mut self, slot: u32, obj: &StoredObject) {
        for (k, v) in obj.labels.iter() {
            let values = match self.label_index.get_mut(k) {
                Some(values) => values,
                None => self.label_index.entry(k.clone()).or_default(),
            };
            index_value(values, v, slot);
        }
        for (position, index) in &mut self.field_indexes {
            index_value(index, &obj.fields[*position], slot);
        }
    }

    fn unindex(&mut self, slot: u32, obj: &StoredObject) {
        for (k, v) in obj.labels.iter() {
            if let Some(values) = self.label_index.get_mut(k) {
                if let Some(set) = values.get_mut(v) {
                    set.remove(&slot);
                    if set.is_empty() {
                        values.remove(v);
                    }
                }
                if values.is_empty() {
                    self.label_index.remove(k);
                }
            }
        }
        for (position, index) in &mut self.field_indexes {
            let value = &obj.fields[*position];
            if let Some(set) = index.get_mut(value) {
                set.remove(&slot);
                if set.is_empty() {
                    index.remove(value);
                }
            }
        }
    }

    /// Whether two versions sit under the same label and indexed field values
    /// (most status and metadata writes), so the indexes need no change.
    fn same_index_entries(&self, a: &StoredObject, b: &StoredObject) -> bool {
        a.labels == b.labels
            && self
                .field_indexes
                .iter()
                .all(|(position, _)| a.fields[*position] == b.fields[*position])
    }

    /// Stores `obj` under its key, returning the version it replaced.
    pub fn put(&mut self, obj: Arc<StoredObject>) -> Option<Arc<StoredObject>> {
        if let Some(&slot) = self.by_key.get(&obj.key) {
            let old = self.slots[slot as usize].take().expect("slot in use");
            if !self.same_index_entries(&old, &obj) {
                self.unindex(slot, &old);
                self.index(slot, &obj);
            }
            self.slots[slot as usize] = Some(obj);
            return Some(old);
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.index(slot, &obj);
        self.by_key.insert(obj.key.clone(), slot);
        self.slots[slot as usize] = Some(obj);
        None
    }

    /// Removes the object under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Arc<StoredObject>> {
        let slot = self.by_key.remove(key)?;
        let old = self.slots[slot as usize].take().expect("slot in use");
        self.unindex(slot, &old);
        self.free.push(slot);
        Some(old)
    }

    /// Objects whose key starts with `prefix` and sorts after `after`, in key order.
    pub fn scan<'a>(
        &'a self,
        prefix: &'a str,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Arc<StoredObject>> + 'a {
        use std::ops::Bound;
        let start: Bound<&str> = match after {
            Some(key) if key >= prefix => Bound::Excluded(key),
            _ => Bound::Included(prefix),
        };
        self.by_key
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter_map(move |(_, &slot)| self.slots[slot as usize].as_ref())
    }

    /// The slots whose label `key` equals `value`, if that pair is indexed.
    pub fn slots_with_label(&self, key: &str, value: &str) -> Vec<u32> {
        self.label_index
            .get(key)
            .and_then(|values| values.get(value))
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The slots whose selectable field at `position` equals `value`, if that field is indexed.
    pub fn slots_with_field(&self, position: usize, value: &str) -> Option<Vec<u32>> {
        let (_, index) = self.field_indexes.iter().find(|(p, _)| *p == position)?;
        Some(
            index
                .get(value)
                .map(|set| set.iter().copied().collect())
                .unwrap_or_default(),
        )
    }

    /// The object in a slot.
    pub fn slot(&self, slot: u32) -> Option<&Arc<StoredObject>> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }
}

/// The bounded record of recent changes across all resources.
pub struct History {
    changes: VecDeque<Change>,
    capacity: usize,
    /// Every change with rv ≤ this has been dropped.
    compacted_through: u64,
}

impl History {
    /// A history that keeps at most `capacity` changes.
    pub fn new(capacity: usize) -> Self {
        History {
            changes: VecDeque::new(),
            capacity: capacity.max(1),
            compacted_through: 0,
        }
    }

    /// Records a change, dropping the oldest past capacity.
    pub fn push(&mut self, change: Change) {
        if self.changes.len() == self.capacity {
            if let Some(old) = self.changes.pop_front() {
                self.compacted_through = old.rv;
            }
        }
        self.changes.push_back(change);
    }

    /// The highest rv whose change is no longer kept (0 when nothing was dropped).
    pub fn compacted_through(&self) -> u64 {
        self.compacted_through
    }

    /// Drops every change at or below `rv` (as an etcd compaction would).
    pub fn compact(&mut self, rv: u64) {
        while self.changes.front().is_some_and(|c| c.rv <= rv) {
            self.changes.pop_front();
        }
        self.compacted_through = self.compacted_through.max(rv);
    }

    /// Changes with rv greater than `rv`, oldest first.
    pub fn after(&self, rv: u64) -> impl DoubleEndedIterator<Item = &Change> {
        let start = self.changes.partition_point(|c| c.rv <= rv);
        self.changes.range(start..)
    }
}
