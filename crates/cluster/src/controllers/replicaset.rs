//! The ReplicaSet controller, as upstream's: it keeps `spec.replicas` active pods
//! for each ReplicaSet — creating in slow-start batches (1, 2, 4, ... up to a burst
//! of 500), deleting in upstream's ranking — adopts matching orphans, releases
//! pods that stop matching, and reports status (replicas, fullyLabeledReplicas,
//! readyReplicas, availableReplicas, terminatingReplicas, observedGeneration).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::json;

use super::expectations::Expectations;
use super::owners::{
    adopt, controller_of, controller_ref, is_controlled_by, release, still_current,
};
use super::pod_control::{create_pod, delete_pod, slow_start_batch, Deleted};
use super::pod_ranking::rank_for_deletion;
use super::pod_state::{is_active, is_available, is_ready, is_terminating};
use super::replica_tally::{PodCounts, ReplicaTallies};
use super::status_writer::write_status;
use crate::api::labels::LabelSelector;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{pod_path, Delta, Informer, ObjectRef, Recorder, WorkQueue};
use crate::sim::{Component, Ctx};

/// The most pods one sync creates or deletes (upstream's `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// The trace and event source name.
pub const NAME: &str = "replicaset-controller";

const QUEUE_TIMERS: u64 = 0;

/// Keeps ReplicaSets' pods at their desired count.
pub struct ReplicaSetController {
    recorder: Recorder,
    sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: WorkQueue,
    expectations: Expectations,
    /// controller uid → the pods it controls, by key.
    by_controller: BTreeMap<String, BTreeMap<String, Arc<Pod>>>,
    /// Pods without a controller (candidates for adoption), by key.
    orphans: BTreeMap<String, Arc<Pod>>,
    /// Each ReplicaSet's pods counted by state, kept with `by_controller`.
    tallies: ReplicaTallies,
}

impl Default for ReplicaSetController {
    fn default() -> Self {
        ReplicaSetController {
            recorder: Recorder::new(NAME, None),
            sets: Informer::new("/apis/apps/v1/replicasets"),
            pods: Informer::new("/api/v1/pods"),
            queue: WorkQueue::new(QUEUE_TIMERS),
            expectations: Expectations::default(),
            by_controller: BTreeMap::new(),
            orphans: BTreeMap::new(),
            tallies: ReplicaTallies::default(),
        }
    }
}

/// The API path of the ReplicaSet stored under `key`.
pub fn replicaset_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/apis/apps/v1/namespaces/{namespace}/replicasets/{name}")
}

fn now_ms(ctx: &Ctx) -> u64 {
    ctx.now().millis()
}

/// A pod for `rs` from its template, named `<rs>-<random>` by the API server.
fn pod_from_template(rs: &ReplicaSet, owner: &OwnerReference) -> serde_json::Value {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": format!("{}-", rs.metadata.name.as_deref().unwrap_or("")),
            "namespace": rs.metadata.namespace,
            "labels": meta.labels,
            "annotations": meta.annotations,
            "finalizers": meta.finalizers,
            "ownerReferences": [owner],
        },
        "spec": template.spec,
    })
}

impl ReplicaSetController {
    /// The ReplicaSet in the cache that `reference` names as a pod's controller.
    fn resolve(&self, namespace: &str, reference: &OwnerReference) -> Option<String> {
        self.sets
            .resolve_controller_ref("ReplicaSet", namespace, reference)
    }

    /// ReplicaSets whose selector matches an orphan pod's labels.
    fn sets_matching(&self, pod: &Pod) -> Vec<String> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        self.sets
            .in_namespace(namespace)
            .filter(|rs| {
                rs.spec
                    .as_ref()
                    .map_or(Err(String::new()), |s| LabelSelector::of(&s.selector))
                    .is_ok_and(|sel| {
                        !sel.is_empty() && sel.matches_map(pod.metadata.labels.as_ref())
                    })
            })
            .map(|rs| key_of(&rs.metadata))
            .collect()
    }

    /// Keeps the controller and orphan indexes in step with the pod cache.
    fn reindex(&mut self, key: &str, old: Option<&Pod>, new: Option<Arc<Pod>>) {
        if let Some(old) = old {
            match controller_of(&old.metadata) {
                Some(r) => {
                    self.tallies.adjust(&r.uid, Some(old), None);
                    if let Some(pods) = self.by_controller.get_mut(&r.uid) {
                        pods.remove(key);
                        if pods.is_empty() {
                            self.by_controller.remove(&r.uid);
                        }
                    }
                }
                None => {
                    self.orphans.remove(key);
                }
            }
        }
        if let Some(new) = new {
            match controller_of(&new.metadata) {
                Some(r) => {
                    let uid = r.uid.clone();
                    self.tallies.adjust(&uid, None, Some(&new));
                    self.by_controller
                        .entry(uid)
                        .or_default()
                        .insert(key.to_string(), new);
                }
                None => {
                    self.orphans.insert(key.to_string(), new);
                }
            }
        }
    }

    fn on_pod(&mut self, delta: Delta<Pod>, ctx: &mut Ctx) {
        let current = match delta.kind {
            EventType::Deleted => None,
            _ => self.pods.get_shared(&delta.key),
        };
        self.reindex(&delta.key, delta.old.as_deref(), current.clone());
        let namespace = delta.key.split('/').next().unwrap_or("").to_string();
        let Some(pod) = current else {
            if let Some(old) = &delta.old {
                self.pod_gone(&delta.key, &namespace, &old.metadata, ctx);
            }
            return;
        };
        if is_terminating(&pod) {
            self.pod_gone(&delta.key, &namespace, &pod.metadata, ctx);
            return;
        }
        let old_controller = delta
            .old
            .as_ref()
            .and_then(|o| controller_of(&o.metadata).cloned());
        let controller = controller_of(&pod.metadata).cloned();
        if let Some(old) = &old_controller {
            if controller.as_ref().map(|c| &c.uid) != Some(&old.uid) {
                if let Some(key) = self.resolve(&namespace, old) {
                    self.queue.add(&key, ctx);
                }
            }
        }
        if let Some(reference) = &controller {
            if let Some(key) = self.resolve(&namespace, reference) {
                if delta.kind == EventType::Added {
                    self.expectations.creation_observed(&key);
                }
                let became_ready =
                    delta.old.as_ref().is_some_and(|o| !is_ready(o)) && is_ready(&pod);
                let min_ready = self
                    .sets
                    .get(&key)
                    .and_then(|rs| rs.spec.as_ref())
                    .and_then(|s| s.min_ready_seconds)
                    .unwrap_or(0);
                self.queue.add(&key, ctx);
                if became_ready && min_ready > 0 {
                    self.queue
                        .add_after(&key, (min_ready as u64 + 1) * 1000, ctx);
                }
            }
            return;
        }
        let labels_changed = delta
            .old
            .as_ref()
            .is_none_or(|o| o.metadata.labels != pod.metadata.labels);
        if labels_changed || old_controller.is_some() {
            for key in self.sets_matching(&pod) {
                self.queue.add(&key, ctx);
            }
        }
    }

    /// A pod was deleted or began terminating: its controller may replace it.
    fn pod_gone(&mut self, pod_key: &str, namespace: &str, meta: &ObjectMeta, ctx: &mut Ctx) {
        if let Some(key) = controller_of(meta).and_then(|r| self.resolve(namespace, r)) {
            self.expectations.deletion_observed(&key, pod_key);
            self.queue.add(&key, ctx);
        }
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(rs) = self.sets.get_shared(key) else {
            self.expectations.remove(key);
            return;
        };
        let namespace = rs.metadata.namespace.clone().unwrap_or_default();
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let no_spec = ReplicaSetSpec::default();
        let spec = rs.spec.as_ref().unwrap_or(&no_spec);
        let Ok(selector) = LabelSelector::of(&spec.selector) else {
            return;
        };
        let template_labels = spec
            .template
            .as_ref()
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let needs_sync = self.expectations.satisfied(key, now_ms(ctx));
        let deleting = rs.metadata.deletion_timestamp.is_some();
        let owner = controller_ref("apps/v1", "ReplicaSet", &rs.metadata);
        let controlled = self.by_controller.get(&uid);
        let pods = controlled
            .into_iter()
            .flat_map(|m| m.values().map(|p| &**p));
        let mut counts = if deleting {
            PodCounts::sum(pods, &selector, &template_labels, true)
        } else {
            let spec_selector = &spec.selector;
            self.tallies
                .counts(&uid, spec_selector, &selector, &template_labels, pods)
        };
        if counts.stray > 0 {
            let strays: Vec<(String, Arc<Pod>)> = controlled
                .into_iter()
                .flatten()
                .filter(|(_, p)| PodCounts::of(p, &selector, &template_labels, false).stray > 0)
                .map(|(k, p)| (k.clone(), p.clone()))
                .collect();
            for (pod_key, pod) in strays {
                release(ctx, &pod_path(&pod_key), &uid, &pod.metadata);
            }
        }
        // Orphans that would count as active pods of this set.
        let adoptable =
            |pod: &Pod| PodCounts::of(pod, &selector, &template_labels, false).active > 0;
        let to_adopt: Vec<(String, Arc<Pod>)> = if deleting {
            Vec::new()
        } else {
            self.orphans
                .range(format!("{namespace}/")..format!("{namespace}0"))
                .filter(|(_, p)| adoptable(p))
                .map(|(k, p)| (k.clone(), p.clone()))
                .collect()
        };
        let mut adopted = Vec::new();
        if !to_adopt.is_empty()
            && still_current(ctx, &replicaset_path(key), rs.metadata.uid.as_deref())
        {
            for (pod_key, pod) in to_adopt {
                if adopt(ctx, &pod_path(&pod_key), &owner, &pod.metadata) {
                    counts += PodCounts::of(&pod, &selector, &template_labels, false);
                    adopted.push(pod);
                }
            }
        }
        let owned = |this: &Self| this.owned_pods(&uid, &selector, deleting, &adopted);
        let failure = if needs_sync && !deleting {
            self.manage_replicas(key, &rs, counts.active, owned, ctx)
        } else {
            None
        };
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let available = if min_ready > 0 {
            let now = ctx.unix_millis();
            owned(self)
                .iter()
                .filter(|p| is_available(p, min_ready, now))
                .count() as i32
        } else {
            counts.ready
        };
        self.queue.finish(key, failure.is_some(), ctx);
        let replicas = spec.replicas.unwrap_or(1);
        let status = self.status_of(&rs, counts, available, failure, ctx);
        self.update_status(key, &rs, status.clone(), ctx);
        if min_ready > 0
            && status.ready_replicas.unwrap_or(0) == replicas
            && status.available_replicas.unwrap_or(0) != replicas
        {
            self.queue.add_after(key, min_ready as u64 * 1000, ctx);
        }
    }

    /// The active pods `uid` controls (every one it controls while being
    /// deleted), then those it has just adopted.
    fn owned_pods(
        &self,
        uid: &str,
        selector: &LabelSelector,
        deleting: bool,
        adopted: &[Arc<Pod>],
    ) -> Vec<Arc<Pod>> {
        let no_labels = BTreeMap::new();
        let controlled = self.by_controller.get(uid).into_iter().flatten();
        controlled
            .map(|(_, p)| p)
            .filter(|p| PodCounts::of(p, selector, &no_labels, deleting).active > 0)
            .chain(adopted)
            .cloned()
            .collect()
    }

    /// Creates or deletes pods toward `spec.replicas`; returns the failure condition, if any.
    /// `owned` lists the `active` pods, for choosing which to delete.
    fn manage_replicas(
        &mut self,
        key: &str,
        rs: &ReplicaSet,
        active: i32,
        owned: impl Fn(&Self) -> Vec<Arc<Pod>>,
        ctx: &mut Ctx,
    ) -> Option<(String, String)> {
        let active = active.max(0) as usize;
        let owner = controller_ref("apps/v1", "ReplicaSet", &rs.metadata);
        let wanted = rs
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1)
            .max(0) as usize;
        let about = ObjectRef::of(rs);
        if active < wanted {
            let count = (wanted - active).min(BURST_REPLICAS);
            self.expectations.expect_creations(key, count, now_ms(ctx));
            let body = pod_from_template(rs, &owner).to_string();
            let path = format!(
                "/api/v1/namespaces/{}/pods",
                rs.metadata.namespace.as_deref().unwrap_or("default")
            );
            let recorder = &mut self.recorder;
            let (created, failure) = slow_start_batch(count, |_| {
                create_pod(ctx, recorder, &about, &path, body.clone())
            });
            self.expectations.lower_creations(key, count - created);
            return failure.map(|message| ("FailedCreate".to_string(), message));
        } else if active > wanted {
            let count = (active - wanted).min(BURST_REPLICAS);
            let mut ranked: Vec<Pod> = owned(self).iter().map(|p| (**p).clone()).collect();
            let related = self.related_pods(rs);
            let related: Vec<&Pod> = related.iter().collect();
            rank_for_deletion(&mut ranked, &related, ctx.unix_millis());
            ranked.truncate(count);
            let keys: Vec<String> = ranked.iter().map(|p| key_of(&p.metadata)).collect();
            self.expectations.expect_deletions(key, &keys, now_ms(ctx));
            let mut failure = None;
            for pod_key in &keys {
                match delete_pod(ctx, &mut self.recorder, &about, pod_key) {
                    Deleted::Yes => {}
                    Deleted::Gone => self.expectations.deletion_observed(key, pod_key),
                    Deleted::Failed(message) => {
                        self.expectations.deletion_observed(key, pod_key);
                        failure = Some(("FailedDelete".to_string(), message));
                    }
                }
            }
            return failure;
        }
        None
    }

    /// The active pods of every ReplicaSet with the same controller as `rs`
    /// (a Deployment's old and new sets), or of `rs` alone.
    fn related_pods(&self, rs: &ReplicaSet) -> Vec<Pod> {
        let namespace = rs.metadata.namespace.as_deref().unwrap_or("");
        let owner_uids: Vec<String> = match controller_of(&rs.metadata) {
            Some(parent) => self
                .sets
                .in_namespace(namespace)
                .filter(|s| is_controlled_by(&s.metadata, &parent.uid))
                .filter_map(|s| s.metadata.uid.clone())
                .collect(),
            None => rs.metadata.uid.clone().into_iter().collect(),
        };
        self.pods
            .in_namespace(namespace)
            .filter(|p| is_active(p))
            .filter(|p| controller_of(&p.metadata).is_some_and(|r| owner_uids.contains(&r.uid)))
            .cloned()
            .collect()
    }

    fn status_of(
        &self,
        rs: &ReplicaSet,
        counts: PodCounts,
        available: i32,
        failure: Option<(String, String)>,
        ctx: &Ctx,
    ) -> ReplicaSetStatus {
        let nonzero = |n: i32| (n != 0).then_some(n);
        let previous = rs.status.clone().unwrap_or_default();
        let mut conditions: Vec<ReplicaSetCondition> = previous
            .conditions
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.type_ != "ReplicaFailure")
            .collect();
        if let Some((reason, message)) = failure {
            let kept = rs
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "ReplicaFailure"))
                .and_then(|c| c.last_transition_time.clone());
            conditions.push(ReplicaSetCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: Some(reason),
                message: Some(message),
                last_transition_time: kept.or_else(|| Some(ctx.time())),
            });
        }
        ReplicaSetStatus {
            replicas: counts.active,
            fully_labeled_replicas: nonzero(counts.fully_labeled),
            ready_replicas: nonzero(counts.ready),
            available_replicas: nonzero(available),
            terminating_replicas: Some(counts.terminating),
            observed_generation: rs.metadata.generation,
            conditions: (!conditions.is_empty()).then_some(conditions),
        }
    }

    /// Writes the status if it changed, re-reading once on a conflict.
    fn update_status(
        &mut self,
        key: &str,
        rs: &ReplicaSet,
        status: ReplicaSetStatus,
        ctx: &mut Ctx,
    ) {
        write_status(
            ctx,
            &replicaset_path(key),
            rs,
            |rs| rs.status.as_ref() == Some(&status),
            |rs| rs.status = Some(status.clone()),
        );
    }
}

impl Component for ReplicaSetController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        for delta in self.sets.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
        for delta in self.pods.start(ctx) {
            self.on_pod(delta, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.sets.owns(watch) {
            for delta in self.sets.handle(event, ctx) {
                if delta.kind == EventType::Deleted {
                    self.expectations.remove(&delta.key);
                    let uid = delta.old.as_ref().and_then(|rs| rs.metadata.uid.as_deref());
                    self.tallies.forget(uid.unwrap_or(""));
                }
                self.queue.add(&delta.key, ctx);
            }
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                self.on_pod(delta, ctx);
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            self.sync(&item, ctx);
        }
    }
}
