//! When each ConfigMap and Secret took each of its versions. A container's
//! environment holds what the keys it reads said when it started (upstream's
//! kubelet resolves them then), and a volume shows a new version from the
//! kubelet's next sync of the pod; so a log read later answers from the
//! versions each part of it saw, not from the objects as they are now.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::storage::StoredObject;

/// How many versions of one object are kept. A run that started before the
/// oldest kept one reads that one.
const KEPT_VERSIONS: usize = 16;

/// One object's versions, oldest first: from when (Unix ms) each held, `None`
/// while the object did not exist.
#[derive(Default)]
struct Versions {
    entries: VecDeque<(i64, Option<Arc<StoredObject>>)>,
    /// Whether older versions were forgotten.
    truncated: bool,
}

/// One object's versions as a snapshot keeps them.
pub struct Recorded<'a> {
    pub resource: usize,
    pub key: &'a str,
    /// Whether older versions were forgotten.
    pub truncated: bool,
    /// From when (Unix ms) each version held, oldest first; `None` while absent.
    pub versions: Vec<(i64, Option<&'a Arc<StoredObject>>)>,
}

/// The versions of the objects of the resources it tracks, by resource and key.
#[derive(Default)]
pub struct ConfigHistory {
    objects: BTreeMap<usize, BTreeMap<Arc<str>, Versions>>,
}

impl ConfigHistory {
    /// Notes that from `at_unix_ms` on, `key` of `resource` is `object` (`None`: deleted).
    pub fn record(
        &mut self,
        resource: usize,
        key: Arc<str>,
        at_unix_ms: i64,
        object: Option<Arc<StoredObject>>,
    ) {
        let versions = self
            .objects
            .entry(resource)
            .or_default()
            .entry(key)
            .or_default();
        // Of several writes in one instant, the last holds from then.
        if versions
            .entries
            .back()
            .is_some_and(|(from, _)| *from == at_unix_ms)
        {
            versions.entries.pop_back();
        }
        versions.entries.push_back((at_unix_ms, object));
        if versions.entries.len() > KEPT_VERSIONS {
            versions.entries.pop_front();
            versions.truncated = true;
        }
    }

    /// `key` of `resource` as it was at `at_unix_ms`: `Some(None)` when it did not
    /// exist then, `None` when no version of it was recorded (restored from a
    /// snapshot, which keeps only objects that changed, and not changed since).
    pub fn at(
        &self,
        resource: usize,
        key: &str,
        at_unix_ms: i64,
    ) -> Option<Option<&Arc<StoredObject>>> {
        let versions = self.objects.get(&resource)?.get(key)?;
        let held = versions
            .entries
            .iter()
            .rev()
            .find(|(from, _)| *from <= at_unix_ms);
        match held {
            Some((_, object)) => Some(object.as_ref()),
            None if versions.truncated => versions.entries.front().map(|(_, o)| o.as_ref()),
            None => Some(None),
        }
    }

    /// The objects that changed since they were created, with their versions (the
    /// others have one version, the object as stored, which a snapshot holds anyway).
    pub fn changed(&self) -> impl Iterator<Item = Recorded<'_>> {
        self.objects.iter().flat_map(|(resource, objects)| {
            objects
                .iter()
                .filter(|(_, versions)| versions.truncated || versions.entries.len() > 1)
                .map(|(key, versions)| Recorded {
                    resource: *resource,
                    key,
                    truncated: versions.truncated,
                    versions: versions
                        .entries
                        .iter()
                        .map(|(from, object)| (*from, object.as_ref()))
                        .collect(),
                })
        })
    }

    /// Puts back the versions [`Self::changed`] gave for a snapshot; the error
    /// says what is wrong with them.
    pub fn restore(
        &mut self,
        resource: usize,
        key: Arc<str>,
        truncated: bool,
        versions: Vec<(i64, Option<Arc<StoredObject>>)>,
    ) -> Result<(), String> {
        if versions.is_empty() || versions.len() > KEPT_VERSIONS {
            return Err(format!("{key} has {} versions", versions.len()));
        }
        if versions.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            return Err(format!("{key}'s versions are not in order"));
        }
        let entries = versions.into_iter().collect();
        let previous = self
            .objects
            .entry(resource)
            .or_default()
            .insert(key.clone(), Versions { entries, truncated });
        match previous {
            Some(_) => Err(format!("{key} appears twice")),
            None => Ok(()),
        }
    }

    /// The instants in (`after`, `until`] at which `key` of `resource` changed.
    pub fn changes(&self, resource: usize, key: &str, after: i64, until: i64) -> Vec<i64> {
        let Some(versions) = self.objects.get(&resource).and_then(|o| o.get(key)) else {
            return Vec::new();
        };
        versions
            .entries
            .iter()
            .map(|(from, _)| *from)
            .filter(|from| *from > after && *from <= until)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(rv: u64) -> Option<Arc<StoredObject>> {
        Some(Arc::new(StoredObject {
            key: Arc::from("default/sport"),
            json: Arc::from("{}"),
            rv,
            labels: Box::new([]),
            fields: Box::new([]),
            metadata: None,
            row: None,
        }))
    }

    fn rv_at(history: &ConfigHistory, at: i64) -> Option<Option<u64>> {
        history.at(0, "default/sport", at).map(|o| o.map(|o| o.rv))
    }

    #[test]
    fn a_version_holds_from_its_write_until_the_next() {
        let mut history = ConfigHistory::default();
        history.record(0, Arc::from("default/sport"), 1_000, object(1));
        history.record(0, Arc::from("default/sport"), 5_000, object(2));
        history.record(0, Arc::from("default/sport"), 9_000, None);
        assert_eq!(rv_at(&history, 999), Some(None));
        assert_eq!(rv_at(&history, 1_000), Some(Some(1)));
        assert_eq!(rv_at(&history, 4_999), Some(Some(1)));
        assert_eq!(rv_at(&history, 5_000), Some(Some(2)));
        assert_eq!(rv_at(&history, 9_000), Some(None));
        assert!(history.at(0, "default/other", 5_000).is_none());
        assert!(history.at(1, "default/sport", 5_000).is_none());
        assert_eq!(
            history.changes(0, "default/sport", 1_000, 9_000),
            vec![5_000, 9_000]
        );
    }

    #[test]
    fn the_last_write_of_an_instant_holds_and_old_versions_are_forgotten() {
        let mut history = ConfigHistory::default();
        history.record(0, Arc::from("default/sport"), 0, object(1));
        history.record(0, Arc::from("default/sport"), 0, object(2));
        assert_eq!(rv_at(&history, 0), Some(Some(2)));
        for i in 1..=KEPT_VERSIONS as u64 {
            history.record(0, Arc::from("default/sport"), i as i64 * 10, object(10 + i));
        }
        // The first version is forgotten: before the oldest kept, that one.
        assert_eq!(rv_at(&history, 5), Some(Some(11)));
        assert_eq!(rv_at(&history, 25), Some(Some(12)));
    }
}
