//! The garbage collector, as upstream's: it watches every deletable resource
//! (found through discovery, events excepted) as metadata only, keeps the graph
//! of owners and dependents, and
//! - deletes an object whose owners are all gone (Background, or as its own
//!   `orphan`/`foregroundDeletion` finalizer says), after checking each owner
//!   with a live read;
//! - for an owner deleted in the foreground, deletes the dependents that block it
//!   and removes its `foregroundDeletion` finalizer once none is left;
//! - for an owner deleted with `orphan`, removes its references from the
//!   dependents and then the finalizer.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::discovery::served_resources;
use crate::client::informer::{Cached, PartialObject};
use crate::client::{Delta, Informer, WorkQueue};
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "garbage-collector-controller";

/// The finalizer of a foreground deletion.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer of an orphaning deletion.
pub const ORPHAN: &str = "orphan";

const QUEUE_TIMERS: u64 = 0;

/// Resources the collector never watches (upstream ignores events).
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// One watched resource.
struct Monitor {
    informer: Informer<PartialObject>,
    /// `/api/v1` or `/apis/<group>/<version>`.
    base: String,
    plural: String,
    namespaced: bool,
}

/// What the graph knows of one object.
struct GraphNode {
    monitor: usize,
    namespace: String,
    name: String,
    owners: Vec<OwnerReference>,
    deleting: bool,
    finalizers: Vec<String>,
}

/// Why an owner reference does or does not keep a dependent alive.
enum OwnerState {
    Solid,
    Dangling,
    WaitingForDependents,
}

/// Deletes what nothing owns any more.
pub struct GarbageCollector {
    monitors: Vec<Monitor>,
    /// (group, kind) → monitor.
    by_kind: BTreeMap<(String, String), usize>,
    /// uid → node. Both maps are only looked up, never walked, so a hash map's
    /// order cannot leak out (and a lookup compares one uid, not a tree's worth).
    graph: FxHashMap<String, GraphNode>,
    /// owner uid → dependent uids (the owner need not be observed), walked in order.
    dependents: FxHashMap<String, BTreeSet<String>>,
    queue: WorkQueue,
}

impl Default for GarbageCollector {
    fn default() -> Self {
        GarbageCollector {
            monitors: Vec::new(),
            by_kind: BTreeMap::new(),
            graph: FxHashMap::default(),
            dependents: FxHashMap::default(),
            queue: WorkQueue::new(QUEUE_TIMERS),
        }
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

fn delete_options(policy: &str, uid: &str) -> String {
    json!({
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": policy,
        "preconditions": {"uid": uid},
    })
    .to_string()
}

impl GarbageCollector {
    /// Finds every list/watch/delete-able resource through discovery.
    fn discover(&mut self, ctx: &mut Ctx) {
        for resource in served_resources(ctx) {
            let ignored = IGNORED.contains(&(resource.group.as_str(), resource.plural.as_str()));
            if ignored || !resource.supports(&["list", "watch", "delete"]) {
                continue;
            }
            self.by_kind.insert(
                (resource.group.clone(), resource.kind.clone()),
                self.monitors.len(),
            );
            self.monitors.push(Monitor {
                informer: Informer::new(format!("{}/{}", resource.base, resource.plural)),
                base: resource.base,
                plural: resource.plural,
                namespaced: resource.namespaced,
            });
        }
    }

    /// The API path of an object of a monitored resource.
    fn path(&self, monitor: usize, namespace: &str, name: &str) -> String {
        let m = &self.monitors[monitor];
        if m.namespaced {
            format!("{}/namespaces/{namespace}/{}/{name}", m.base, m.plural)
        } else {
            format!("{}/{}/{name}", m.base, m.plural)
        }
    }

    fn node_path(&self, uid: &str) -> Option<String> {
        let node = self.graph.get(uid)?;
        Some(self.path(node.monitor, &node.namespace, &node.name))
    }

    /// Takes one change into the graph and queues what it calls for.
    fn observe(&mut self, monitor: usize, delta: Delta<PartialObject>, ctx: &mut Ctx) {
        let current = match delta.kind {
            EventType::Deleted => None,
            _ => self.monitors[monitor].informer.get_shared(&delta.key),
        };
        let Some(object) = current else {
            if let Some(old) = delta.old {
                self.forget(old.meta().uid.as_deref().unwrap_or(""), ctx);
            }
            return;
        };
        let meta = object.meta();
        let uid = meta.uid.as_deref().unwrap_or("");
        let owners = meta.owner_references.as_deref().unwrap_or_default();
        let finalizers = meta.finalizers.as_deref().unwrap_or_default();
        let deleting = meta.deletion_timestamp.is_some();
        // Most changes (a pod's status) leave the graph as it was.
        let unchanged = self.graph.get(uid).is_some_and(|node| {
            node.owners == owners && node.finalizers == finalizers && node.deleting == deleting
        });
        if !unchanged {
            let node = GraphNode {
                monitor,
                namespace: meta.namespace.clone().unwrap_or_default(),
                name: meta.name.clone().unwrap_or_default(),
                owners: owners.to_vec(),
                deleting,
                finalizers: finalizers.to_vec(),
            };
            self.put_node(uid, node, ctx);
        }
        let unknown_owner = owners.iter().any(|o| !self.graph.contains_key(&o.uid));
        if unknown_owner || (deleting && finalizers.iter().any(|f| f == FOREGROUND)) {
            self.queue.add(&format!("attempt/{uid}"), ctx);
        }
        if deleting && finalizers.iter().any(|f| f == ORPHAN) {
            self.queue.add(&format!("orphan/{uid}"), ctx);
        }
    }

    /// Puts `node` into the graph as `uid`, moving the uid between its owners'
    /// dependents.
    fn put_node(&mut self, uid: &str, node: GraphNode, ctx: &mut Ctx) {
        let previous_owners = self
            .graph
            .get(uid)
            .map(|n| n.owners.clone())
            .unwrap_or_default();
        for gone in previous_owners
            .iter()
            .filter(|o| !node.owners.iter().any(|n| n.uid == o.uid))
        {
            if let Some(set) = self.dependents.get_mut(&gone.uid) {
                set.remove(uid);
            }
            self.recheck_if_waiting(&gone.uid, ctx);
        }
        for owner in &node.owners {
            self.dependents
                .entry(owner.uid.clone())
                .or_default()
                .insert(uid.to_string());
        }
        self.graph.insert(uid.to_string(), node);
    }

    /// An object is gone: its dependents may now be garbage, and an owner
    /// waiting for it may finish.
    fn forget(&mut self, uid: &str, ctx: &mut Ctx) {
        let Some(node) = self.graph.remove(uid) else {
            return;
        };
        for dependent in self.dependents.get(uid).cloned().unwrap_or_default() {
            self.queue.add(&format!("attempt/{dependent}"), ctx);
        }
        for owner in node.owners {
            if let Some(set) = self.dependents.get_mut(&owner.uid) {
                set.remove(uid);
                if set.is_empty() {
                    self.dependents.remove(&owner.uid);
                }
            }
            self.recheck_if_waiting(&owner.uid, ctx);
        }
    }

    fn recheck_if_waiting(&mut self, owner: &str, ctx: &mut Ctx) {
        let waiting = self
            .graph
            .get(owner)
            .is_some_and(|n| n.deleting && n.finalizers.iter().any(|f| f == FOREGROUND));
        if waiting {
            self.queue.add(&format!("attempt/{owner}"), ctx);
        }
    }

    /// Reads an object live; `None` if it is gone or was replaced.
    fn read_live(&self, path: &str, uid: &str, ctx: &mut Ctx) -> Option<Value> {
        let response = ctx.call(Request::get(path.to_string()));
        let body = response.body_json();
        (response.status == 200
            && body.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid))
        .then_some(body)
    }

    /// Whether the owner behind `reference` exists, and whether it waits for its dependents.
    fn owner_state(
        &self,
        reference: &OwnerReference,
        namespace: &str,
        ctx: &mut Ctx,
    ) -> OwnerState {
        let kind = (
            group_of(&reference.api_version).to_string(),
            reference.kind.clone(),
        );
        let Some(&monitor) = self.by_kind.get(&kind) else {
            return OwnerState::Solid; // an unknown kind is never assumed gone
        };
        let path = self.path(monitor, namespace, &reference.name);
        match self.read_live(&path, &reference.uid, ctx) {
            None => OwnerState::Dangling,
            Some(owner) => {
                let deleting = owner.pointer("/metadata/deletionTimestamp").is_some();
                let foreground = owner["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == FOREGROUND));
                if deleting && foreground {
                    OwnerState::WaitingForDependents
                } else {
                    OwnerState::Solid
                }
            }
        }
    }

    /// Upstream's `attemptToDeleteItem`.
    fn attempt_to_delete(&mut self, uid: &str, ctx: &mut Ctx) {
        let Some(path) = self.node_path(uid) else {
            return;
        };
        let Some(latest) = self.read_live(&path, uid, ctx) else {
            return;
        };
        let object: PartialObject = serde_json::from_value(latest.clone()).unwrap_or_default();
        let meta = object.meta();
        let finalizers = meta.finalizers.clone().unwrap_or_default();
        if meta.deletion_timestamp.is_some() {
            if finalizers.iter().any(|f| f == FOREGROUND) {
                self.process_deleting_dependents(uid, &path, ctx);
            }
            return;
        }
        let owners = meta.owner_references.clone().unwrap_or_default();
        if owners.is_empty() {
            return;
        }
        let namespace = meta.namespace.clone().unwrap_or_default();
        let (mut solid, mut remove, mut waiting) = (0, Vec::new(), 0);
        for owner in &owners {
            match self.owner_state(owner, &namespace, ctx) {
                OwnerState::Solid => solid += 1,
                OwnerState::Dangling => remove.push(owner.uid.clone()),
                OwnerState::WaitingForDependents => {
                    waiting += 1;
                    remove.push(owner.uid.clone());
                }
            }
        }
        if solid > 0 {
            if !remove.is_empty() {
                let kept: Vec<&OwnerReference> =
                    owners.iter().filter(|o| !remove.contains(&o.uid)).collect();
                let patch = json!({"metadata": {"ownerReferences": kept}});
                ctx.call(Request::patch(
                    path,
                    "application/merge-patch+json",
                    patch.to_string(),
                ));
            }
            return;
        }
        let has_dependents = self.dependents.get(uid).is_some_and(|d| !d.is_empty());
        let policy = if waiting > 0 && has_dependents {
            "Foreground"
        } else if finalizers.iter().any(|f| f == ORPHAN) {
            "Orphan"
        } else if finalizers.iter().any(|f| f == FOREGROUND) {
            "Foreground"
        } else {
            "Background"
        };
        ctx.call(Request::delete(path).with_body(delete_options(policy, uid), "application/json"));
    }

    /// An owner deleted in the foreground: delete what blocks it, or finish.
    fn process_deleting_dependents(&mut self, uid: &str, path: &str, ctx: &mut Ctx) {
        let blocking: Vec<String> = self
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .filter(|d| {
                self.graph.get(*d).is_some_and(|n| {
                    n.owners
                        .iter()
                        .any(|o| o.uid == uid && o.block_owner_deletion == Some(true))
                })
            })
            .cloned()
            .collect();
        if blocking.is_empty() {
            self.remove_finalizer(path, uid, FOREGROUND, ctx);
            return;
        }
        for dependent in blocking {
            if !self.graph.get(&dependent).is_some_and(|n| n.deleting) {
                self.queue.add(&format!("attempt/{dependent}"), ctx);
            }
        }
    }

    /// An owner deleted with `orphan`: free its dependents, then let it go.
    fn orphan_dependents(&mut self, uid: &str, ctx: &mut Ctx) {
        let Some(path) = self.node_path(uid) else {
            return;
        };
        for dependent in self.dependents.get(uid).cloned().unwrap_or_default() {
            let Some(dependent_path) = self.node_path(&dependent) else {
                continue;
            };
            let Some(latest) = self.read_live(&dependent_path, &dependent, ctx) else {
                continue;
            };
            let kept: Vec<Value> = latest["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| o["uid"] != uid)
                .cloned()
                .collect();
            let kept = if kept.is_empty() {
                Value::Null
            } else {
                Value::Array(kept)
            };
            let patch = json!({"metadata": {"ownerReferences": kept}});
            ctx.call(Request::patch(
                dependent_path,
                "application/merge-patch+json",
                patch.to_string(),
            ));
        }
        self.remove_finalizer(&path, uid, ORPHAN, ctx);
    }

    /// Removes one finalizer, guarded by the object's resourceVersion.
    fn remove_finalizer(&self, path: &str, uid: &str, finalizer: &str, ctx: &mut Ctx) {
        let Some(latest) = self.read_live(path, uid, ctx) else {
            return;
        };
        let rest: Vec<Value> = latest["metadata"]["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| *f != finalizer)
            .cloned()
            .collect();
        let rest = if rest.is_empty() {
            Value::Null
        } else {
            Value::Array(rest)
        };
        let patch = json!({"metadata": {
            "finalizers": rest,
            "resourceVersion": latest["metadata"]["resourceVersion"],
        }});
        ctx.call(Request::patch(
            path.to_string(),
            "application/merge-patch+json",
            patch.to_string(),
        ));
    }
}

impl Component for GarbageCollector {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.discover(ctx);
        let mut initial = Vec::new();
        for (index, monitor) in self.monitors.iter_mut().enumerate() {
            for delta in monitor.informer.start(ctx) {
                initial.push((index, delta));
            }
        }
        for (index, delta) in initial {
            self.observe(index, delta, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        let Some(index) = self.monitors.iter().position(|m| m.informer.owns(watch)) else {
            return;
        };
        for delta in self.monitors[index].informer.handle(event, ctx) {
            self.observe(index, delta, ctx);
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            match item.split_once('/') {
                Some(("attempt", uid)) => self.attempt_to_delete(uid, ctx),
                Some(("orphan", uid)) => self.orphan_dependents(uid, ctx),
                _ => {}
            }
        }
    }
}
