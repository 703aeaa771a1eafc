//! The StatefulSet controller, as upstream's: pods `<set>-0 … <set>-(n-1)` with
//! stable hostnames and claims; `OrderedReady` creates them one at a time in
//! order, each waiting for the one before to be Running and Ready, and removes
//! surplus pods from the highest ordinal down; `Parallel` does both at once.
//! Failed pods are replaced. `RollingUpdate` replaces pods from the highest
//! ordinal down to the partition, one at a time; `OnDelete` waits for the user.
//! History is kept as ControllerRevisions; status counts replicas, ready,
//! available, current and updated pods with both revisions.
//!
//! Like upstream's it claims pods (`pod_claims.rs`): it adopts orphans its
//! selector matches whose names are its own (`<set>-<ordinal>`) and releases
//! pods that stop matching. Pods and revisions are watched from the first
//! StatefulSet on.

pub mod identity;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};

use super::history::History;
use super::owners::{controller_of, controller_ref};
use super::pod_claims::{adopters, former_controller, Claimant};
use super::pod_state::{is_available, is_ready, is_terminating, phase};
use super::status_writer::write_status;
use super::sync_result::{SyncFailed, SyncResult};
use super::template_hash::template_hash;
use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{Delta, Informer, ObjectRef, Recorder, WorkQueue};
use crate::sim::{Component, Ctx};
use identity::{claims_for, new_pod, ordinal_of, pod_name, REVISION_LABEL};

/// The trace and event source name.
pub const NAME: &str = "statefulset-controller";

/// The label that carries a ControllerRevision's hash (upstream's `ControllerRevisionHashLabel`).
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// Keeps each StatefulSet's numbered pods.
pub struct StatefulSetController {
    recorder: Recorder,
    sets: Informer<StatefulSet>,
    pods: Informer<Pod>,
    revisions: Informer<ControllerRevision>,
    /// Whether the pod and revision informers run (from the first StatefulSet on).
    watching: bool,
    queue: WorkQueue,
    /// StatefulSet uid → its pods by ordinal.
    by_controller: BTreeMap<String, BTreeMap<i32, Arc<Pod>>>,
}

impl Default for StatefulSetController {
    fn default() -> Self {
        StatefulSetController {
            recorder: Recorder::new(NAME, None),
            sets: Informer::new("/apis/apps/v1/statefulsets"),
            pods: Informer::new("/api/v1/pods"),
            revisions: Informer::new("/apis/apps/v1/controllerrevisions"),
            watching: false,
            queue: WorkQueue::new(0),
            by_controller: BTreeMap::new(),
        }
    }
}

/// What the controller did to a pod, for its events.
#[derive(Clone, Copy)]
enum PodVerb {
    Create,
    Delete,
}

fn set_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}")
}

fn revision_of(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map_or("", String::as_str)
}

fn running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

/// A pod the StatefulSet owns, with its ordinal.
fn owned_ordinal(pod: &Pod) -> Option<(String, i32)> {
    let reference = controller_of(&pod.metadata)?;
    if reference.kind != "StatefulSet" {
        return None;
    }
    let ordinal = ordinal_of(&reference.name, pod.metadata.name.as_deref()?)?;
    Some((reference.uid.clone(), ordinal))
}

/// What one sync does to the pods, in upstream's order.
enum Action {
    Create(i32),
    Delete(Arc<Pod>),
}

impl StatefulSetController {
    fn reindex(&mut self, old: Option<&Pod>, new: Option<Arc<Pod>>) {
        if let Some((uid, ordinal)) = old.and_then(owned_ordinal) {
            if let Some(pods) = self.by_controller.get_mut(&uid) {
                pods.remove(&ordinal);
                if pods.is_empty() {
                    self.by_controller.remove(&uid);
                }
            }
        }
        if let Some(new) = new {
            if let Some((uid, ordinal)) = owned_ordinal(&new) {
                self.by_controller
                    .entry(uid)
                    .or_default()
                    .insert(ordinal, new);
            }
        }
    }

    fn on_pod(&mut self, delta: Delta<Pod>, ctx: &mut Ctx) {
        let current = match delta.kind {
            EventType::Deleted => None,
            _ => self.pods.get_shared(&delta.key),
        };
        self.reindex(delta.old.as_deref(), current.clone());
        let Some(pod) = current.or_else(|| delta.old.clone()) else {
            return;
        };
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let resolve = |reference| {
            self.sets
                .resolve_controller_ref("StatefulSet", namespace, reference)
        };
        let former = former_controller(&delta, &pod).and_then(resolve);
        let current = controller_of(&pod.metadata).map(resolve);
        let adopting = match current {
            Some(_) => Vec::new(),
            None => {
                let sets = self.sets.in_namespace(namespace);
                let owners = sets.map(|s| (&s.metadata, s.spec.as_ref().map(|s| &s.selector)));
                adopters(&delta, &pod, owners)
            }
        };
        for key in former.into_iter().chain(current.flatten()).chain(adopting) {
            self.queue.add(&key, ctx);
        }
    }

    /// Upstream's `getPodsForStatefulSet`: the set's pods by ordinal once it has
    /// claimed the namespace's pods (released ones out, adopted ones in).
    fn claim_pods(&self, set: &StatefulSet, uid: &str, ctx: &mut Ctx) -> BTreeMap<i32, Arc<Pod>> {
        let mut pods = self.by_controller.get(uid).cloned().unwrap_or_default();
        let name = set.metadata.name.as_deref().unwrap_or("");
        let ordinal = |pod: &Pod| ordinal_of(name, pod.metadata.name.as_deref()?);
        let claimant = Claimant {
            kind: "StatefulSet",
            meta: &set.metadata,
            selector: set.spec.as_ref().map(|s| &s.selector),
            path: set_path(&key_of(&set.metadata)),
        };
        let namespace = set.metadata.namespace.as_deref().unwrap_or("");
        let in_namespace = self.pods.shared_in_namespace(namespace);
        let claimed = claimant.claim(in_namespace, |pod| ordinal(pod).is_some(), ctx);
        if !claimed.dropped.is_empty() {
            pods.retain(|_, pod| claimed.keeps(&key_of(&pod.metadata)));
        }
        for pod in claimed.adopted {
            if let Some(ordinal) = ordinal(&pod) {
                pods.entry(ordinal).or_insert(pod);
            }
        }
        pods
    }

    /// Starts the pod and revision informers once a StatefulSet exists.
    fn ensure_watching(&mut self, ctx: &mut Ctx) {
        if self.watching || self.sets.is_empty() {
            return;
        }
        self.watching = true;
        self.revisions.start(ctx);
        for delta in self.pods.start(ctx) {
            self.on_pod(delta, ctx);
        }
        let keys: Vec<String> = self.sets.iter().map(|(k, _)| k.clone()).collect();
        for key in keys {
            self.queue.add(&key, ctx);
        }
    }

    /// The template of `revision` from the cached ControllerRevision, if any.
    fn template_of(&self, namespace: &str, revision: &str) -> Option<PodTemplateSpec> {
        let cached = self.revisions.get(&format!("{namespace}/{revision}"))?;
        let mut template = cached.data.as_ref()?.0.pointer("/spec/template")?.clone();
        template.as_object_mut()?.remove("$patch");
        serde_json::from_value(template).ok()
    }

    /// Upstream's `updateStatefulSet`: the next actions, given the pods by ordinal.
    fn plan(
        set: &StatefulSet,
        pods: &BTreeMap<i32, Arc<Pod>>,
        update_revision: &str,
    ) -> Vec<Action> {
        let spec = set.spec.clone().unwrap_or_default();
        let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
        let replicas = spec.replicas.unwrap_or(1).max(0);
        let monotonic = spec.pod_management_policy.as_deref() != Some("Parallel");
        let mut actions = Vec::new();
        for ordinal in start..start + replicas {
            match pods.get(&ordinal) {
                None => {
                    actions.push(Action::Create(ordinal));
                    if monotonic {
                        return actions;
                    }
                }
                Some(pod)
                    if matches!(phase(pod), "Failed" | "Succeeded") && !is_terminating(pod) =>
                {
                    actions.push(Action::Delete(pod.clone()));
                    if monotonic {
                        return actions;
                    }
                }
                Some(pod) if monotonic && (is_terminating(pod) || !running_and_ready(pod)) => {
                    return actions;
                }
                Some(_) => {}
            }
        }
        let condemned: Vec<&Arc<Pod>> = pods
            .iter()
            .rev()
            .filter(|(o, _)| **o < start || **o >= start + replicas)
            .map(|(_, p)| p)
            .collect();
        for pod in condemned {
            if is_terminating(pod) {
                if monotonic {
                    return actions;
                }
                continue;
            }
            actions.push(Action::Delete(pod.clone()));
            if monotonic {
                return actions;
            }
        }
        let strategy = spec.update_strategy.unwrap_or_default();
        if strategy.type_.as_deref() == Some("OnDelete") || !actions.is_empty() {
            return actions;
        }
        let partition = strategy
            .rolling_update
            .and_then(|r| r.partition)
            .unwrap_or(0);
        for ordinal in (start + partition.max(0)..start + replicas).rev() {
            let Some(pod) = pods.get(&ordinal) else {
                return actions;
            };
            if revision_of(pod) != update_revision && !is_terminating(pod) {
                actions.push(Action::Delete(pod.clone()));
                return actions;
            }
            if !running_and_ready(pod) {
                return actions;
            }
        }
        actions
    }

    /// Creates the pod of `ordinal` after its claims (upstream's `CreateStatefulPod`);
    /// `Err` when the API refused a claim or the pod.
    fn create(
        &mut self,
        set: &StatefulSet,
        ordinal: i32,
        current: (&str, &PodTemplateSpec),
        update: (&str, &PodTemplateSpec),
        ctx: &mut Ctx,
    ) -> SyncResult {
        let about = ObjectRef::of(set);
        let set_name = set.metadata.name.as_deref().unwrap_or("");
        let namespace = set.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod_name(set, ordinal);
        for claim in claims_for(set, ordinal) {
            let claim_name = claim["metadata"]["name"].as_str().unwrap_or("").to_string();
            let response = ctx.call(Request::post(
                format!("/api/v1/namespaces/{namespace}/persistentvolumeclaims"),
                claim.to_string(),
            ));
            match response.status {
                201 => {
                    let message = format!(
                        "create Claim {claim_name} Pod {name} in StatefulSet {set_name} success"
                    );
                    self.recorder
                        .event(ctx, &about, "Normal", "SuccessfulCreate", &message);
                }
                409 => {}
                _ => {
                    let error = response.status_message();
                    let message = format!(
                        "create Claim {claim_name} for Pod {name} in StatefulSet {set_name} failed error: {error}"
                    );
                    self.recorder
                        .event(ctx, &about, "Warning", "FailedCreate", &message);
                    return self.record_pod_event(ctx, set, PodVerb::Create, &name, Some(&error));
                }
            }
        }
        let spec = set.spec.clone().unwrap_or_default();
        let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
        let partition = spec
            .update_strategy
            .as_ref()
            .and_then(|s| s.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .unwrap_or(0);
        let rolling = spec
            .update_strategy
            .as_ref()
            .and_then(|s| s.type_.as_deref())
            != Some("OnDelete");
        let (revision, template) = if rolling && ordinal < start + partition {
            current
        } else {
            update
        };
        let owner = controller_ref("apps/v1", "StatefulSet", &set.metadata);
        let body = new_pod(set, template, revision, ordinal, &owner);
        let response = ctx.call(Request::post(
            format!("/api/v1/namespaces/{namespace}/pods"),
            body.to_string(),
        ));
        match response.status {
            201 => self.record_pod_event(ctx, set, PodVerb::Create, &name, None),
            // Upstream sinks the event of a pod that already exists but still fails the sync.
            409 => Err(SyncFailed),
            _ => {
                let error = response.status_message();
                self.record_pod_event(ctx, set, PodVerb::Create, &name, Some(&error))
            }
        }
    }

    /// Deletes one of the set's pods; `Err` when the API refused.
    fn delete(&mut self, set: &StatefulSet, pod: &Pod, ctx: &mut Ctx) -> SyncResult {
        let name = pod.metadata.name.as_deref().unwrap_or("");
        let response = ctx.call(Request::delete(crate::client::pod_path(&key_of(
            &pod.metadata,
        ))));
        match response.status {
            200 | 202 => self.record_pod_event(ctx, set, PodVerb::Delete, name, None),
            404 => Ok(()),
            _ => {
                let error = response.status_message();
                self.record_pod_event(ctx, set, PodVerb::Delete, name, Some(&error))
            }
        }
    }

    /// Upstream's `recordPodEvent`: `Successful<Verb>` "`verb` Pod … successful", or
    /// `Failed<Verb>` "`verb` Pod … failed error: …" and `Err`.
    fn record_pod_event(
        &mut self,
        ctx: &mut Ctx,
        set: &StatefulSet,
        verb: PodVerb,
        pod_name: &str,
        error: Option<&str>,
    ) -> SyncResult {
        let about = ObjectRef::of(set);
        let set_name = set.metadata.name.as_deref().unwrap_or("");
        let (verb, title) = match verb {
            PodVerb::Create => ("create", "Create"),
            PodVerb::Delete => ("delete", "Delete"),
        };
        let subject = format!("{verb} Pod {pod_name} in StatefulSet {set_name}");
        match error {
            None => {
                let message = format!("{subject} successful");
                let reason = format!("Successful{title}");
                self.recorder
                    .event(ctx, &about, "Normal", &reason, &message);
                Ok(())
            }
            Some(error) => {
                let message = format!("{subject} failed error: {error}");
                let reason = format!("Failed{title}");
                self.recorder
                    .event(ctx, &about, "Warning", &reason, &message);
                Err(SyncFailed)
            }
        }
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(set) = self.sets.get(key).cloned() else {
            return;
        };
        if set.metadata.deletion_timestamp.is_some() {
            return;
        }
        let spec = set.spec.clone().unwrap_or_default();
        let namespace = set.metadata.namespace.clone().unwrap_or_default();
        let uid = set.metadata.uid.clone().unwrap_or_default();
        // Upstream hashes StatefulSet revisions with the collision count, 0 when unset.
        let collision_count = Some(
            set.status
                .as_ref()
                .and_then(|s| s.collision_count)
                .unwrap_or(0),
        );
        let hash = template_hash(&spec.template, collision_count);
        let pods = self.claim_pods(&set, &uid, ctx);
        let live: BTreeSet<String> = pods.values().map(|p| revision_of(p).to_string()).collect();
        let history = History {
            owner: &set.metadata,
            owner_kind: "StatefulSet",
            template: &spec.template,
            hash: &hash,
            hash_label: HASH_LABEL,
            annotations: None,
            limit: spec.revision_history_limit.unwrap_or(10).max(0) as usize,
        };
        history.sync(self.revisions.in_namespace(&namespace), &live, ctx);
        let update_revision = history.revision_name();
        let current_revision = set
            .status
            .as_ref()
            .and_then(|s| s.current_revision.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| update_revision.clone());
        let current_template = self
            .template_of(&namespace, &current_revision)
            .unwrap_or_else(|| spec.template.clone());
        let mut failed = false;
        for action in Self::plan(&set, &pods, &update_revision) {
            failed |= match action {
                Action::Create(ordinal) => self.create(
                    &set,
                    ordinal,
                    (&current_revision, &current_template),
                    (&update_revision, &spec.template),
                    ctx,
                ),
                Action::Delete(pod) => self.delete(&set, &pod, ctx),
            }
            .is_err();
        }
        self.queue.finish(key, failed, ctx);
        let status = status_of(
            &set,
            &pods,
            &current_revision,
            &update_revision,
            ctx.unix_millis(),
        );
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if min_ready > 0 && status.ready_replicas != status.available_replicas {
            self.queue.add_after(key, min_ready as u64 * 1000, ctx);
        }
        write_status(
            ctx,
            &set_path(key),
            &set,
            |set| set.status.as_ref() == Some(&status),
            |set| set.status = Some(status.clone()),
        );
    }
}

/// Upstream's status counters, with the rolling update completed when every
/// pod runs the update revision and is ready.
fn status_of(
    set: &StatefulSet,
    pods: &BTreeMap<i32, Arc<Pod>>,
    current_revision: &str,
    update_revision: &str,
    now_ms: i64,
) -> StatefulSetStatus {
    let min_ready = set
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let mut status = StatefulSetStatus {
        collision_count: Some(
            set.status
                .as_ref()
                .and_then(|s| s.collision_count)
                .unwrap_or(0),
        ),
        conditions: set.status.as_ref().and_then(|s| s.conditions.clone()),
        observed_generation: set.metadata.generation,
        current_revision: Some(current_revision.to_string()),
        update_revision: Some(update_revision.to_string()),
        ..Default::default()
    };
    let (mut ready, mut available, mut current, mut updated) = (0, 0, 0, 0);
    for pod in pods.values() {
        status.replicas += 1;
        if running_and_ready(pod) {
            ready += 1;
            if is_available(pod, min_ready, now_ms) {
                available += 1;
            }
        }
        if !is_terminating(pod) {
            if revision_of(pod) == current_revision {
                current += 1;
            }
            if revision_of(pod) == update_revision {
                updated += 1;
            }
        }
    }
    let rolling = set
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        != Some("OnDelete");
    if rolling && updated == status.replicas && ready == status.replicas {
        current = updated;
        status.current_revision = status.update_revision.clone();
    }
    let nonzero = |n: i32| (n != 0).then_some(n);
    status.ready_replicas = nonzero(ready);
    status.available_replicas = nonzero(available);
    status.current_replicas = nonzero(current);
    status.updated_replicas = nonzero(updated);
    status
}

impl Component for StatefulSetController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        for delta in self.sets.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
        self.ensure_watching(ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.sets.owns(watch) {
            for delta in self.sets.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
            self.ensure_watching(ctx);
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                self.on_pod(delta, ctx);
            }
        } else if self.revisions.owns(watch) {
            self.revisions.handle(event, ctx);
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            self.sync(&item, ctx);
        }
    }
}
