//! An informer: lists a resource, then watches from the list's resourceVersion,
//! keeping a typed cache keyed by `namespace/name`. A watch that expires (410) is
//! answered by listing again, with the differences reported as deltas.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::Metadata;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::sim::Ctx;

/// One change to the cache: the object under `key` was added, modified or deleted.
#[derive(Debug)]
pub struct Delta<T> {
    pub kind: EventType,
    pub key: String,
    /// What the cache held before (None for additions).
    pub old: Option<Arc<T>>,
}

/// A typed cache of one resource, optionally narrowed by selectors.
pub struct Informer<T> {
    path: String,
    query: Vec<(String, String)>,
    watch: Option<WatchId>,
    objects: BTreeMap<String, Arc<T>>,
}

/// The cache key of an object: `namespace/name`, or `name` when cluster-scoped.
pub fn key_of(meta: &ObjectMeta) -> String {
    let name = meta.name.as_deref().unwrap_or("");
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// What an informer caches: anything with object metadata.
pub trait Cached {
    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;
}

impl<T: Metadata<Ty = ObjectMeta>> Cached for T {
    fn meta(&self) -> &ObjectMeta {
        self.metadata()
    }
}

/// Only the type and metadata of an object (upstream's `PartialObjectMetadata`),
/// for components such as the garbage collector that watch every kind.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialObject {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl Cached for PartialObject {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
}

impl<T: DeserializeOwned + Cached> Informer<T> {
    /// An informer over the collection at `path` (e.g. `/api/v1/pods`).
    pub fn new(path: impl Into<String>) -> Self {
        Informer {
            path: path.into(),
            query: Vec::new(),
            watch: None,
            objects: BTreeMap::new(),
        }
    }

    /// Narrows the informer with a query parameter such as `fieldSelector`.
    pub fn with_query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// Lists and starts watching; returns the deltas against what the cache held.
    pub fn start(&mut self, ctx: &mut Ctx) -> Vec<Delta<T>> {
        let response = ctx.call(self.request(Request::get(self.path.clone())));
        let body = response.body_json();
        let rv = body
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut fresh = BTreeMap::new();
        for item in body["items"].as_array().into_iter().flatten() {
            if let Ok(object) = T::deserialize(item) {
                fresh.insert(key_of(object.meta()), Arc::new(object));
            }
        }
        let mut old = std::mem::take(&mut self.objects);
        let mut deltas: Vec<Delta<T>> = fresh
            .keys()
            .map(|key| {
                let previous = old.remove(key);
                Delta {
                    kind: if previous.is_some() {
                        EventType::Modified
                    } else {
                        EventType::Added
                    },
                    key: key.clone(),
                    old: previous,
                }
            })
            .collect();
        deltas.extend(old.into_iter().map(|(key, previous)| Delta {
            kind: EventType::Deleted,
            key,
            old: Some(previous),
        }));
        self.objects = fresh;
        let watch = Request::get(self.path.clone())
            .with_query("watch", "true")
            .with_query("resourceVersion", rv)
            .with_query("allowWatchBookmarks", "true");
        self.watch = ctx.call(self.request(watch)).watch_id();
        deltas
    }

    /// `request` narrowed by the informer's selectors.
    fn request(&self, request: Request) -> Request {
        self.query
            .iter()
            .fold(request, |r, (k, v)| r.with_query(k, v.clone()))
    }

    /// Whether `watch` is this informer's watch.
    pub fn owns(&self, watch: WatchId) -> bool {
        self.watch == Some(watch)
    }

    /// Applies a watch event; an ERROR (expired watch) lists again.
    pub fn handle(&mut self, event: &WatchEvent, ctx: &mut Ctx) -> Vec<Delta<T>> {
        match event.event_type {
            EventType::Bookmark => Vec::new(),
            EventType::Error => self.start(ctx),
            kind => {
                let Ok(object) = serde_json::from_str::<T>(&event.object) else {
                    return Vec::new();
                };
                let key = key_of(object.meta());
                let old = if kind == EventType::Deleted {
                    self.objects.remove(&key)
                } else {
                    self.objects.insert(key.clone(), Arc::new(object))
                };
                vec![Delta { kind, key, old }]
            }
        }
    }

    /// The cached object under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.objects.get(key).map(|o| &**o)
    }

    /// The cached object under `key`, shared (indexes keep these without copying).
    pub fn get_shared(&self, key: &str) -> Option<Arc<T>> {
        self.objects.get(key).cloned()
    }

    /// All cached objects in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.objects.iter().map(|(k, o)| (k, &**o))
    }

    /// The cached objects in one namespace, in name order.
    pub fn in_namespace<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a T> + 'a {
        self.shared_in_namespace(namespace).map(|object| &**object)
    }

    /// The cached objects in one namespace, shared, in name order.
    pub fn shared_in_namespace<'a>(
        &'a self,
        namespace: &str,
    ) -> impl Iterator<Item = &'a Arc<T>> + 'a {
        // Keys are `namespace/name`; '0' is the character after '/'.
        self.objects
            .range(format!("{namespace}/")..format!("{namespace}0"))
            .map(|(_, object)| object)
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}
