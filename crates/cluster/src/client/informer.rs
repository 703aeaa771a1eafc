//! An informer: lists a resource, then watches from the list's resourceVersion,
//! keeping a typed cache keyed by `namespace/name`. A watch that expires (410) is
//! answered by listing again, with the differences reported as deltas.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::Metadata;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::Request;
use crate::apiserver::storage::object_key;
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
    object_key(
        meta.namespace.as_deref(),
        meta.name.as_deref().unwrap_or(""),
    )
}

/// What an informer caches: anything with object metadata.
pub trait Cached {
    /// Whether the type reads nothing past `metadata` (so a watch event's text
    /// may be cut there before decoding).
    const METADATA_ONLY: bool = false;

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
    const METADATA_ONLY: bool = true;

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
}

impl<T: DeserializeOwned + Cached + Send + Sync + 'static> Informer<T> {
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
            let meta = &item["metadata"];
            let version = meta["resourceVersion"]
                .as_str()
                .and_then(|v| v.parse().ok());
            let key = object_key(
                meta["namespace"].as_str(),
                meta["name"].as_str().unwrap_or(""),
            );
            let decode = || T::deserialize(item).ok();
            if let Some(object) = ctx.shared_object(version.unwrap_or(0), &key, decode) {
                fresh.insert(key, object);
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
        self.watch = ctx.join_watch(&self.stream(), self.request(watch));
        deltas
    }

    /// What the informer follows, as its process's informer factory tells streams
    /// apart: the collection, its selectors, and whether only metadata is read
    /// (upstream's metadata informers watch separately).
    fn stream(&self) -> String {
        let mut stream = self.path.clone();
        for (key, value) in &self.query {
            stream.push_str(&format!("&{key}={value}"));
        }
        if T::METADATA_ONLY {
            stream.push_str(" (metadata)");
        }
        stream
    }

    /// Whether the cache already reflects `event`: a watch this informer joined
    /// after others opened it may still deliver changes older than its own list.
    fn already_reflects(&self, event: &WatchEvent) -> bool {
        let cached = self.objects.get(&*event.key);
        let cached_version = cached
            .and_then(|o| o.meta().resource_version.as_deref())
            .and_then(|rv| rv.parse::<u64>().ok());
        match event.event_type {
            EventType::Deleted => {
                cached.is_none() || cached_version.is_some_and(|rv| rv > event.rv)
            }
            _ => cached_version.is_some_and(|rv| rv >= event.rv),
        }
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
            _ if self.already_reflects(event) => Vec::new(),
            kind => {
                let decode = || match event.metadata_end {
                    Some(end) if T::METADATA_ONLY => {
                        let mut head = String::with_capacity(end as usize + 1);
                        head.push_str(event.object.get(..end as usize)?);
                        head.push('}');
                        serde_json::from_str::<T>(&head).ok()
                    }
                    _ => serde_json::from_str::<T>(&event.object).ok(),
                };
                let Some(object) = ctx.shared_object(event.rv, &event.key, decode) else {
                    return Vec::new();
                };
                // The event carries the storage key, which is the cache key.
                let key = event.key.to_string();
                let old = if kind == EventType::Deleted {
                    self.objects.remove(&key)
                } else {
                    self.objects.insert(key.clone(), object)
                };
                vec![Delta { kind, key, old }]
            }
        }
    }

    /// The cached object under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.objects.get(key).map(|o| &**o)
    }

    /// Upstream's `resolveControllerRef`: the key of the cached object in
    /// `namespace` that `reference` names, when it is of `kind` and the same object
    /// (the same uid), not a namesake.
    pub fn resolve_controller_ref(
        &self,
        kind: &str,
        namespace: &str,
        reference: &OwnerReference,
    ) -> Option<String> {
        if reference.kind != kind {
            return None;
        }
        let key = object_key(Some(namespace), &reference.name);
        let object = self.objects.get(&key)?;
        (object.meta().uid.as_deref() == Some(&reference.uid)).then_some(key)
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use k8s_openapi::api::core::v1::Pod;

    use super::*;
    use crate::sim::{Component, World};

    /// The versions both caches held at once.
    type SeenPairs = Rc<RefCell<Vec<(Arc<Pod>, Arc<Pod>)>>>;

    /// Two informers over pods, as two controllers of one controller manager.
    struct TwoCaches {
        first: Informer<Pod>,
        second: Informer<Pod>,
        seen: SeenPairs,
    }

    impl Component for TwoCaches {
        fn name(&self) -> &str {
            "two-caches"
        }
        fn start(&mut self, ctx: &mut Ctx) {
            self.first.start(ctx);
            self.second.start(ctx);
        }
        fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
            for informer in [&mut self.first, &mut self.second] {
                if informer.owns(watch) {
                    informer.handle(event, ctx);
                }
            }
            if let (Some(a), Some(b)) = (
                self.first.get_shared("default/web"),
                self.second.get_shared("default/web"),
            ) {
                if a.metadata.resource_version == b.metadata.resource_version {
                    self.seen.borrow_mut().push((a, b));
                }
            }
        }
        fn on_timer(&mut self, _: u64, _: &mut Ctx) {}
    }

    #[test]
    fn informers_holding_one_version_share_one_decoded_object() {
        let mut world = World::new(1);
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
            "spec":{"containers":[{"name":"web","image":"nginx"}]}}"#;
        let create = Request::post("/api/v1/namespaces/default/pods", pod);
        assert_eq!(world.call("test", &create).status, 201);
        let seen = Rc::new(RefCell::new(Vec::new()));
        world.add_component(Box::new(TwoCaches {
            first: Informer::new("/api/v1/pods"),
            second: Informer::new("/api/v1/pods"),
            seen: seen.clone(),
        }));
        let label = r#"{"metadata":{"labels":{"app":"web"}}}"#;
        let path = "/api/v1/namespaces/default/pods/web";
        let patch = Request::patch(path, "application/merge-patch+json", label);
        assert_eq!(world.call("test", &patch).status, 200);
        world.settle(60_000);
        let seen = seen.borrow();
        assert!(!seen.is_empty(), "both caches received the patched pod");
        assert!(seen.iter().all(|(a, b)| Arc::ptr_eq(a, b)));
    }

    /// What `resolve_controller_ref` answered, once the pod `default/web` was
    /// cached, for references to it, to a namesake, to another kind and to a
    /// missing pod.
    type Resolved = Rc<RefCell<Vec<Option<String>>>>;

    /// A pod informer that resolves references as it caches pods.
    struct Resolver {
        pods: Informer<Pod>,
        resolved: Resolved,
    }

    impl Component for Resolver {
        fn name(&self) -> &str {
            "resolver"
        }
        fn start(&mut self, ctx: &mut Ctx) {
            self.pods.start(ctx);
        }
        fn on_event(&mut self, _: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
            self.pods.handle(event, ctx);
            let Some(web) = self.pods.get("default/web") else {
                return;
            };
            let uid = web.metadata.uid.clone().unwrap_or_default();
            let reference = |kind: &str, name: &str, uid: &str| OwnerReference {
                kind: kind.into(),
                name: name.into(),
                uid: uid.into(),
                ..OwnerReference::default()
            };
            let references = [
                reference("Pod", "web", &uid),
                reference("Pod", "web", "a-namesake-before-it"),
                reference("Node", "web", &uid),
                reference("Pod", "gone", &uid),
            ];
            let answers = references.iter().map(|reference| {
                self.pods
                    .resolve_controller_ref("Pod", "default", reference)
            });
            *self.resolved.borrow_mut() = answers.collect();
        }
        fn on_timer(&mut self, _: u64, _: &mut Ctx) {}
    }

    #[test]
    fn a_controller_ref_resolves_only_to_the_same_object_of_its_kind() {
        let mut world = World::new(1);
        let resolved = Rc::new(RefCell::new(Vec::new()));
        world.add_component(Box::new(Resolver {
            pods: Informer::new("/api/v1/pods"),
            resolved: resolved.clone(),
        }));
        world.settle(1_000);
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
            "spec":{"containers":[{"name":"web","image":"nginx"}]}}"#;
        let create = Request::post("/api/v1/namespaces/default/pods", pod);
        assert_eq!(world.call("test", &create).status, 201);
        world.settle(60_000);
        assert_eq!(
            *resolved.borrow(),
            [Some("default/web".to_string()), None, None, None]
        );
    }

    /// What the two informers held after each event.
    type BothCached = Rc<RefCell<Vec<(Arc<PartialObject>, Arc<Pod>)>>>;

    /// A metadata-only informer beside a full one over the same pods.
    struct MetaAndFull {
        meta: Informer<PartialObject>,
        full: Informer<Pod>,
        cached: BothCached,
    }

    impl Component for MetaAndFull {
        fn name(&self) -> &str {
            "meta-and-full"
        }
        fn start(&mut self, ctx: &mut Ctx) {
            self.meta.start(ctx);
            self.full.start(ctx);
        }
        fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
            if self.meta.owns(watch) {
                self.meta.handle(event, ctx);
            } else if self.full.owns(watch) {
                self.full.handle(event, ctx);
            }
            if let (Some(meta), Some(full)) = (
                self.meta.get_shared("default/web"),
                self.full.get_shared("default/web"),
            ) {
                self.cached.borrow_mut().push((meta, full));
            }
        }
        fn on_timer(&mut self, _: u64, _: &mut Ctx) {}
    }

    #[test]
    fn a_metadata_only_informer_reads_the_events_head_as_the_whole_object() {
        let mut world = World::new(1);
        let cached = Rc::new(RefCell::new(Vec::new()));
        world.add_component(Box::new(MetaAndFull {
            meta: Informer::new("/api/v1/pods"),
            full: Informer::new("/api/v1/pods"),
            cached: cached.clone(),
        }));
        world.settle(1_000);
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web",
            "labels":{"app":"web"},"annotations":{"note":"a \"quoted\" }{ value"},
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1",
            "uid":"u-1","controller":true}]},
            "spec":{"containers":[{"name":"web","image":"nginx"}]}}"#;
        let create = Request::post("/api/v1/namespaces/default/pods", pod);
        assert_eq!(world.call("test", &create).status, 201);
        world.settle(60_000);
        let (meta, full) = cached
            .borrow()
            .last()
            .cloned()
            .expect("both cached the pod");
        assert_eq!(
            (meta.api_version.as_str(), meta.kind.as_str()),
            ("v1", "Pod")
        );
        assert_eq!(meta.metadata, full.metadata);
        assert_eq!(meta.metadata.labels.as_ref().unwrap()["app"], "web");
    }

    /// The kinds of the deltas an informer's events produced (not its start's).
    type SeenKinds = Rc<RefCell<Vec<EventType>>>;

    /// One controller of a process: a pod informer whose event deltas it records.
    struct PodWatcher {
        name: &'static str,
        pods: Informer<Pod>,
        seen: SeenKinds,
    }

    impl Component for PodWatcher {
        fn name(&self) -> &str {
            self.name
        }
        fn start(&mut self, ctx: &mut Ctx) {
            self.pods.start(ctx);
        }
        fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
            if self.pods.owns(watch) {
                let deltas = self.pods.handle(event, ctx);
                self.seen
                    .borrow_mut()
                    .extend(deltas.into_iter().map(|d| d.kind));
            }
        }
        fn on_timer(&mut self, _: u64, _: &mut Ctx) {}
    }

    #[test]
    fn informers_of_one_process_share_a_watch_and_a_late_one_skips_what_its_list_held() {
        let mut world = World::new(1);
        let (early, late) = (SeenKinds::default(), SeenKinds::default());
        world.add_component_in(
            "manager",
            Box::new(PodWatcher {
                name: "early",
                pods: Informer::new("/api/v1/pods"),
                seen: early.clone(),
            }),
        );
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
            "spec":{"containers":[{"name":"web","image":"nginx"}]}}"#;
        let create = Request::post("/api/v1/namespaces/default/pods", pod);
        assert_eq!(world.call("test", &create).status, 201);
        // Joins while the create is still on its way: its own list already has it.
        world.add_component_in(
            "manager",
            Box::new(PodWatcher {
                name: "late",
                pods: Informer::new("/api/v1/pods"),
                seen: late.clone(),
            }),
        );
        world.settle(60_000);
        let label = r#"{"metadata":{"labels":{"app":"web"}}}"#;
        let path = "/api/v1/namespaces/default/pods/web";
        let patch = Request::patch(path, "application/merge-patch+json", label);
        assert_eq!(world.call("test", &patch).status, 200);
        world.settle(60_000);
        assert_eq!(*early.borrow(), [EventType::Added, EventType::Modified]);
        assert_eq!(*late.borrow(), [EventType::Modified]);
        let traced = |wanted: &str| {
            world
                .trace()
                .entries()
                .filter(|e| match &e.kind {
                    crate::sim::TraceKind::Call { actor, verb, .. } => {
                        verb == wanted && actor == "manager"
                    }
                    crate::sim::TraceKind::Delivery { actor, .. } => {
                        wanted == "delivery" && actor == "manager"
                    }
                })
                .count()
        };
        assert_eq!(traced("watch"), 1, "one watch for the process");
        assert_eq!(traced("delivery"), 2, "each change delivered once");
    }
}
