//! Decoded objects shared between components. Every informer that receives the
//! same version of an object holds one `Arc` of it — as kube-controller-manager's
//! controllers share one informer cache per resource — instead of decoding the
//! JSON again and keeping its own copy. A resourceVersion names one write, so
//! `(type, resourceVersion, key)` names one decoded object; decoding is pure, so
//! sharing changes no behaviour, only memory and time.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

/// A decoded object held weakly: it lives as long as some component holds it.
struct Entry {
    key: Arc<str>,
    object: Weak<dyn Any + Send + Sync>,
}

/// The objects components hold, by type and resourceVersion.
#[derive(Default)]
pub struct SharedObjects {
    entries: BTreeMap<(u64, TypeId), Entry>,
    /// How many entries there were after the last sweep of dropped ones.
    live_after_sweep: usize,
}

impl SharedObjects {
    /// The object `key` at `rv` as some component already decoded it, else
    /// `decode()`, remembered for the next component. Version 0 (unknown) is
    /// never shared.
    pub fn get_or_decode<T: Any + Send + Sync>(
        &mut self,
        rv: u64,
        key: &str,
        decode: impl FnOnce() -> Option<T>,
    ) -> Option<Arc<T>> {
        if rv == 0 {
            return decode().map(Arc::new);
        }
        let id = (rv, TypeId::of::<T>());
        if let Some(entry) = self.entries.get(&id) {
            if &*entry.key == key {
                if let Some(object) = entry.object.upgrade() {
                    return object.downcast::<T>().ok();
                }
            }
        }
        let object = Arc::new(decode()?);
        let shared: Arc<dyn Any + Send + Sync> = object.clone();
        self.entries.insert(
            id,
            Entry {
                key: Arc::from(key),
                object: Arc::downgrade(&shared),
            },
        );
        self.sweep_when_doubled();
        Some(object)
    }

    /// Forgets objects no component holds any more, whenever the map has doubled
    /// since the last sweep (amortised constant time per insert).
    fn sweep_when_doubled(&mut self) {
        if self.entries.len() >= 2 * self.live_after_sweep.max(1024) {
            self.entries.retain(|_, e| e.object.strong_count() > 0);
            self.live_after_sweep = self.entries.len();
        }
    }

    /// How many decoded objects are remembered (live or not yet swept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_version_is_decoded_once_and_shared() {
        let mut shared = SharedObjects::default();
        let mut decodes = 0;
        let mut decode = || {
            decodes += 1;
            Some(String::from("pod"))
        };
        let a = shared.get_or_decode(7, "default/web", &mut decode).unwrap();
        let b = shared.get_or_decode(7, "default/web", &mut decode).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(decodes, 1);
    }

    #[test]
    fn another_key_type_or_version_is_decoded_afresh() {
        let mut shared = SharedObjects::default();
        let a = shared
            .get_or_decode(7, "default/web", || Some(1u32))
            .unwrap();
        let other_key = shared
            .get_or_decode(7, "default/db", || Some(2u32))
            .unwrap();
        let other_type = shared
            .get_or_decode(7, "default/web", || Some(3u64))
            .unwrap();
        let other_version = shared
            .get_or_decode(8, "default/web", || Some(4u32))
            .unwrap();
        assert_eq!((*a, *other_key, *other_type, *other_version), (1, 2, 3, 4));
    }

    #[test]
    fn dropped_objects_are_decoded_again_and_swept() {
        let mut shared = SharedObjects::default();
        drop(shared.get_or_decode(1, "a", || Some(1u32)));
        assert_eq!(*shared.get_or_decode(1, "a", || Some(2u32)).unwrap(), 2);
        for rv in 2..3000 {
            drop(shared.get_or_decode(rv, "a", || Some(rv)));
        }
        assert!(shared.len() < 2048, "{} entries kept", shared.len());
    }
}
