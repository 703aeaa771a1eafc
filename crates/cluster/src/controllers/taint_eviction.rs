//! The taint eviction controller, as upstream's: a pod on a node with a
//! NoExecute taint it does not tolerate is deleted at once; one that tolerates it
//! for `tolerationSeconds` is deleted when they run out (counted from the taint's
//! `timeAdded`), unless the taint goes first. Evicted pods get the
//! DisruptionTarget condition and `TaintManagerEviction` events.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use serde_json::json;

use crate::api::tolerations::tolerates;
use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::{pod_path, Informer, ObjectRef, Recorder};
use crate::sim::{Component, Ctx};

/// The trace name and the events' source.
pub const NAME: &str = "taint-eviction-controller";

/// Deletes pods that do not (or no longer) tolerate their node's NoExecute taints.
pub struct TaintEvictionController {
    recorder: Recorder,
    nodes: Informer<Node>,
    pods: Informer<Pod>,
    /// pod key → (eviction time in Unix ms, timer key).
    scheduled: BTreeMap<String, (i64, u64)>,
    /// timer key → pod key.
    timers: BTreeMap<u64, String>,
    next_timer: u64,
}

impl Default for TaintEvictionController {
    fn default() -> Self {
        TaintEvictionController {
            recorder: Recorder::new(NAME, None),
            nodes: Informer::new("/api/v1/nodes"),
            pods: Informer::new("/api/v1/pods"),
            scheduled: BTreeMap::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
        }
    }
}

fn no_execute_taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

/// When the pod must go, in Unix ms: `Some(0)` now, `None` never (upstream's
/// `getMinTolerationTime` from each taint's `timeAdded`).
fn eviction_time(pod: &Pod, taints: &[Taint]) -> Option<i64> {
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let mut earliest: Option<i64> = None;
    for taint in taints {
        let matching: Vec<_> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if matching.is_empty() {
            return Some(0);
        }
        if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        let seconds = matching
            .iter()
            .filter_map(|t| t.toleration_seconds)
            .min()
            .unwrap_or(0)
            .max(0);
        let added = taint
            .time_added
            .as_ref()
            .map_or(0, |t| t.0.as_millisecond());
        let at = added + seconds * 1000;
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    earliest
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()?
        .node_name
        .as_deref()
        .filter(|n| !n.is_empty())
}

impl TaintEvictionController {
    /// Decides what to do about one pod now.
    fn process(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(pod) = self.pods.get(key) else {
            self.cancel(key);
            return;
        };
        if pod.metadata.deletion_timestamp.is_some() {
            self.cancel(key);
            return;
        }
        let taints = node_of(pod)
            .and_then(|n| self.nodes.get(n))
            .map(no_execute_taints)
            .unwrap_or_default();
        let when = eviction_time(pod, &taints);
        if when.is_none() && !self.scheduled.contains_key(key) {
            return;
        }
        let pod = pod.clone();
        let name = format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or(""),
            pod.metadata.name.as_deref().unwrap_or("")
        );
        match when {
            None => {
                if self.cancel(key) {
                    let message = format!("Cancelling deletion of Pod {name}");
                    self.recorder.event(
                        ctx,
                        &ObjectRef::of(&pod),
                        "Normal",
                        "TaintManagerEviction",
                        &message,
                    );
                }
            }
            Some(at) if at <= ctx.unix_millis() => {
                self.cancel(key);
                self.evict(key, &pod, &name, ctx);
            }
            Some(at) => {
                if self.scheduled.get(key).is_some_and(|(when, _)| *when == at) {
                    return;
                }
                self.cancel(key);
                let timer = self.next_timer;
                self.next_timer += 1;
                self.scheduled.insert(key.to_string(), (at, timer));
                self.timers.insert(timer, key.to_string());
                ctx.set_timer((at - ctx.unix_millis()) as u64, timer);
            }
        }
    }

    /// Forgets a scheduled eviction; true if there was one.
    fn cancel(&mut self, key: &str) -> bool {
        match self.scheduled.remove(key) {
            Some((_, timer)) => {
                self.timers.remove(&timer);
                true
            }
            None => false,
        }
    }

    fn evict(&mut self, key: &str, pod: &Pod, name: &str, ctx: &mut Ctx) {
        let message = format!("Marking for deletion Pod {name}");
        self.recorder.event(
            ctx,
            &ObjectRef::of(pod),
            "Normal",
            "TaintManagerEviction",
            &message,
        );
        let patch = json!({"status": {"conditions": [{
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": ctx.timestamp(),
        }]}});
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/strategic-merge-patch+json",
            patch.to_string(),
        ));
        ctx.call(Request::delete(pod_path(key)));
    }

    fn pods_on(&self, node: &str) -> Vec<String> {
        self.pods
            .iter()
            .filter(|(_, p)| node_of(p) == Some(node))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

impl Component for TaintEvictionController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.nodes.start(ctx);
        for delta in self.pods.start(ctx) {
            self.process(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.nodes.owns(watch) {
            for delta in self.nodes.handle(event, ctx) {
                let before = delta
                    .old
                    .as_deref()
                    .map(no_execute_taints)
                    .unwrap_or_default();
                let after = match delta.kind {
                    EventType::Deleted => Vec::new(),
                    _ => self
                        .nodes
                        .get(&delta.key)
                        .map(no_execute_taints)
                        .unwrap_or_default(),
                };
                if before != after {
                    for pod in self.pods_on(&delta.key) {
                        self.process(&pod, ctx);
                    }
                }
            }
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                self.process(&delta.key, ctx);
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        if let Some(pod) = self.timers.remove(&key) {
            self.scheduled.remove(&pod);
            self.process(&pod, ctx);
        }
    }
}
