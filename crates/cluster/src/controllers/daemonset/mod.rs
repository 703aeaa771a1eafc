//! The DaemonSet controller, as upstream's: one pod per eligible node (node
//! selector, required node affinity, taints with the daemon tolerations), pinned
//! by node affinity and placed by the scheduler; failed or surplus pods deleted;
//! rolling updates (`maxUnavailable`, `maxSurge`) or `OnDelete`; history as
//! ControllerRevisions; status counters and events.
//!
//! Like upstream's it claims pods (`pod_claims.rs`): it adopts orphans its
//! selector matches and releases pods whose labels stop matching. Pods (through
//! kube-controller-manager's shared pod watch), nodes and revisions are watched
//! from the first DaemonSet on.

pub mod placement;
mod rolling;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::deployment::util::scaled_value;
use super::expectations::Expectations;
use super::history::History;
use super::owners::{controller_of, controller_ref};
use super::pod_claims::{adopters, former_controller, Claimant, Claimed};
use super::pod_control::{create_pod, delete_pod, slow_start_batch, Deleted};
use super::pod_state::{created_ms, is_available, is_ready, is_terminating, phase};
use super::status_writer::write_status;
use super::sync_result::{SyncFailed, SyncResult};
use super::template_hash::template_hash;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{Delta, Informer, ObjectRef, Recorder, WorkQueue};
use crate::sim::{Component, Ctx};
use placement::{daemon_template, pin_to_node, should_run, target_node, REVISION_HASH_LABEL};
use placement::{template_generation, TEMPLATE_GENERATION_LABEL};
use rolling::{next_step, NodePods};

/// The trace and event source name.
pub const NAME: &str = "daemonset-controller";

/// The most pods one sync creates or deletes (upstream's `BurstReplicas` for DaemonSets).
pub const BURST_REPLICAS: usize = 250;

const QUEUE_TIMERS: u64 = 0;

/// Runs a DaemonSet's pod on every node that should have one.
pub struct DaemonSetController {
    recorder: Recorder,
    sets: Informer<DaemonSet>,
    pods: Informer<Pod>,
    nodes: Informer<Node>,
    revisions: Informer<ControllerRevision>,
    /// Whether the pod, node and revision informers run (from the first DaemonSet on).
    watching: bool,
    queue: WorkQueue,
    expectations: Expectations,
    /// DaemonSet uid → its pods, by key.
    by_controller: BTreeMap<String, BTreeMap<String, Arc<Pod>>>,
}

impl Default for DaemonSetController {
    fn default() -> Self {
        DaemonSetController {
            recorder: Recorder::new(NAME, None),
            sets: Informer::new("/apis/apps/v1/daemonsets"),
            pods: Informer::new("/api/v1/pods"),
            nodes: Informer::new("/api/v1/nodes"),
            revisions: Informer::new("/apis/apps/v1/controllerrevisions"),
            watching: false,
            queue: WorkQueue::new(QUEUE_TIMERS),
            expectations: Expectations::default(),
            by_controller: BTreeMap::new(),
        }
    }
}

fn daemonset_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}")
}

/// Whether a pod runs the current template (its hash or its template generation matches).
fn is_updated(pod: &Pod, hash: &str, generation: Option<&str>) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
    label(REVISION_HASH_LABEL) == Some(hash)
        || generation.is_some_and(|g| label(TEMPLATE_GENERATION_LABEL) == Some(g))
}

/// A node's pods as the controller sees them in one sync.
struct NodeView {
    node: Arc<Node>,
    should_run: bool,
    should_continue: bool,
    /// Daemon pods targeting the node, oldest first.
    pods: Vec<Arc<Pod>>,
}

impl NodeView {
    fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or("")
    }
}

impl DaemonSetController {
    /// The DaemonSet key a pod's controller reference names, if cached with the same uid.
    fn owner_key(&self, pod: &Pod) -> Option<String> {
        self.resolve(pod, controller_of(&pod.metadata)?)
    }

    /// The cached DaemonSet `reference` (of `pod`) names, by key.
    fn resolve(&self, pod: &Pod, reference: &OwnerReference) -> Option<String> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        self.sets
            .resolve_controller_ref("DaemonSet", namespace, reference)
    }

    fn reindex(&mut self, key: &str, old: Option<&Pod>, new: Option<Arc<Pod>>) {
        if let Some(uid) = old
            .and_then(|o| controller_of(&o.metadata))
            .map(|r| r.uid.clone())
        {
            if let Some(pods) = self.by_controller.get_mut(&uid) {
                pods.remove(key);
                if pods.is_empty() {
                    self.by_controller.remove(&uid);
                }
            }
        }
        if let Some(new) = new {
            if let Some(uid) = controller_of(&new.metadata).map(|r| r.uid.clone()) {
                self.by_controller
                    .entry(uid)
                    .or_default()
                    .insert(key.to_string(), new);
            }
        }
    }

    fn on_pod(&mut self, delta: Delta<Pod>, ctx: &mut Ctx) {
        let current = match delta.kind {
            EventType::Deleted => None,
            _ => self.pods.get_shared(&delta.key),
        };
        self.reindex(&delta.key, delta.old.as_deref(), current.clone());
        let Some(pod) = current.or_else(|| delta.old.clone()) else {
            return;
        };
        if let Some(former) = former_controller(&delta, &pod) {
            if let Some(key) = self.resolve(&pod, former) {
                self.queue.add(&key, ctx);
            }
        }
        if controller_of(&pod.metadata).is_none() {
            return self.on_orphan(&delta, &pod, ctx);
        }
        let Some(ds_key) = self.owner_key(&pod) else {
            return;
        };
        match delta.kind {
            EventType::Added => self.expectations.creation_observed(&ds_key),
            EventType::Deleted => self.expectations.deletion_observed(&ds_key, &delta.key),
            _ if is_terminating(&pod) => self.expectations.deletion_observed(&ds_key, &delta.key),
            _ => {}
        }
        self.queue.add(&ds_key, ctx);
    }

    /// A pod without a controller: the DaemonSets that select it sync to adopt it.
    fn on_orphan(&mut self, delta: &Delta<Pod>, pod: &Pod, ctx: &mut Ctx) {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let sets = self.sets.in_namespace(namespace);
        let owners = sets.map(|ds| (&ds.metadata, ds.spec.as_ref().map(|s| &s.selector)));
        for key in adopters(delta, pod, owners) {
            self.queue.add(&key, ctx);
        }
    }

    /// Upstream's `getDaemonPods`: claims the namespace's pods for `ds`.
    fn claim_pods(&self, ds: &DaemonSet, ctx: &mut Ctx) -> Claimed {
        let claimant = Claimant {
            kind: "DaemonSet",
            meta: &ds.metadata,
            selector: ds.spec.as_ref().map(|s| &s.selector),
            path: daemonset_path(&key_of(&ds.metadata)),
        };
        let namespace = ds.metadata.namespace.as_deref().unwrap_or("");
        claimant.claim(self.pods.shared_in_namespace(namespace), |_| true, ctx)
    }

    /// Starts the pod, node and revision informers once a DaemonSet exists, so a
    /// cluster without DaemonSets pays nothing for them.
    fn ensure_watching(&mut self, ctx: &mut Ctx) {
        if self.watching || self.sets.is_empty() {
            return;
        }
        self.watching = true;
        self.nodes.start(ctx);
        self.revisions.start(ctx);
        for delta in self.pods.start(ctx) {
            self.on_pod(delta, ctx);
        }
        self.queue_all(ctx);
    }

    fn queue_all(&mut self, ctx: &mut Ctx) {
        let keys: Vec<String> = self.sets.iter().map(|(k, _)| k.clone()).collect();
        for key in keys {
            self.queue.add(&key, ctx);
        }
    }

    /// Every node with what the DaemonSet wants there and the daemon pods on it;
    /// also the pods whose node no longer exists.
    fn node_views(
        &self,
        ds: &DaemonSet,
        hash: &str,
        claimed: &Claimed,
    ) -> (Vec<NodeView>, Vec<Arc<Pod>>) {
        let template = daemon_template(ds, hash);
        let uid = ds.metadata.uid.as_deref().unwrap_or("");
        let mut by_node: BTreeMap<String, Vec<Arc<Pod>>> = BTreeMap::new();
        let controlled = self.by_controller.get(uid).into_iter().flatten();
        let kept = controlled.filter(|(key, _)| claimed.keeps(key));
        for pod in kept.map(|(_, pod)| pod).chain(&claimed.adopted) {
            let done_and_deleted =
                matches!(phase(pod), "Succeeded" | "Failed") && is_terminating(pod);
            if let (Some(node), false) = (target_node(pod), done_and_deleted) {
                by_node.entry(node).or_default().push(pod.clone());
            }
        }
        let mut views = Vec::new();
        for (name, node) in self.nodes.iter() {
            let (should_run, should_continue) = should_run(&template, node);
            let mut pods = by_node.remove(name).unwrap_or_default();
            pods.sort_by_key(|p| created_ms(p));
            views.push(NodeView {
                node: self.nodes.get_shared(name).expect("listed"),
                should_run,
                should_continue,
                pods,
            });
        }
        let orphaned = by_node.into_values().flatten().collect();
        (views, orphaned)
    }

    /// Upstream's `podsShouldBeOnNode` over every node: nodes needing a pod, pods to delete.
    fn plan(
        &mut self,
        ds: &DaemonSet,
        views: &[NodeView],
        hash: &str,
        surge: bool,
        ctx: &mut Ctx,
    ) -> (Vec<String>, Vec<Arc<Pod>>) {
        let about = ObjectRef::of(ds);
        let mut create_on = Vec::new();
        let mut delete = Vec::new();
        for view in views {
            if view.should_run && view.pods.is_empty() {
                create_on.push(view.name().to_string());
            } else if view.should_continue {
                let mut running = Vec::new();
                for pod in view.pods.iter().filter(|p| !is_terminating(p)) {
                    match phase(pod) {
                        "Failed" => {
                            let message = format!(
                                "Found failed daemon pod {}/{} on node {}, will try to kill it",
                                pod.metadata.namespace.as_deref().unwrap_or(""),
                                pod.metadata.name.as_deref().unwrap_or(""),
                                view.name()
                            );
                            self.recorder.event(
                                ctx,
                                &about,
                                "Warning",
                                "FailedDaemonPod",
                                &message,
                            );
                            delete.push(pod.clone());
                        }
                        "Succeeded" => delete.push(pod.clone()),
                        _ => running.push(pod.clone()),
                    }
                }
                delete.extend(surplus(running, hash, surge));
            } else if !view.should_continue {
                delete.extend(view.pods.iter().filter(|p| !is_terminating(p)).cloned());
            }
        }
        (create_on, delete)
    }

    /// Creates pods on `nodes` and deletes `pods`, in upstream's slow-start batches,
    /// with expectations and events; `Ok(true)` if it did anything, `Err` when the
    /// API refused a create or a delete.
    fn sync_nodes(
        &mut self,
        key: &str,
        ds: &DaemonSet,
        hash: &str,
        nodes: &[String],
        pods: &[Arc<Pod>],
        ctx: &mut Ctx,
    ) -> SyncResult<bool> {
        let about = ObjectRef::of(ds);
        let nodes = &nodes[..nodes.len().min(BURST_REPLICAS)];
        let pods = &pods[..pods.len().min(BURST_REPLICAS)];
        let now = ctx.now().millis();
        self.expectations.expect_creations(key, nodes.len(), now);
        let keys: Vec<String> = pods.iter().map(|p| key_of(&p.metadata)).collect();
        self.expectations.expect_deletions(key, &keys, now);
        let owner = controller_ref("apps/v1", "DaemonSet", &ds.metadata);
        let template = daemon_template(ds, hash);
        let namespace = ds.metadata.namespace.as_deref().unwrap_or("default");
        let path = format!("/api/v1/namespaces/{namespace}/pods");
        let recorder = &mut self.recorder;
        let (created, failure) = slow_start_batch(nodes.len(), |i| {
            let body = daemon_pod(ds, &template, &owner, &nodes[i]).to_string();
            create_pod(ctx, recorder, &about, &path, body)
        });
        self.expectations
            .lower_creations(key, nodes.len() - created);
        let mut failed = failure.is_some();
        for pod_key in &keys {
            let deleted = delete_pod(ctx, &mut self.recorder, &about, pod_key);
            if deleted != Deleted::Yes {
                self.expectations.deletion_observed(key, pod_key);
            }
            failed |= matches!(deleted, Deleted::Failed(_));
        }
        if failed {
            return Err(SyncFailed);
        }
        Ok(!nodes.is_empty() || !pods.is_empty())
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(ds) = self.sets.get(key).cloned() else {
            self.expectations.remove(key);
            return;
        };
        if ds.metadata.deletion_timestamp.is_some() {
            return;
        }
        let spec = ds.spec.clone().unwrap_or_default();
        let collision_count = ds.status.as_ref().and_then(|s| s.collision_count);
        let hash = template_hash(&spec.template, collision_count);
        let claimed = self.claim_pods(&ds, ctx);
        let (views, orphaned) = self.node_views(&ds, &hash, &claimed);
        let name = ds.metadata.name.clone().unwrap_or_default();
        let live: BTreeSet<String> = views
            .iter()
            .flat_map(|v| &v.pods)
            .filter_map(|p| p.metadata.labels.as_ref()?.get(REVISION_HASH_LABEL))
            .map(|hash| format!("{name}-{hash}"))
            .collect();
        let namespace = ds.metadata.namespace.clone().unwrap_or_default();
        let history = History {
            owner: &ds.metadata,
            owner_kind: "DaemonSet",
            template: &spec.template,
            hash: &hash,
            hash_label: REVISION_HASH_LABEL,
            annotations: ds.metadata.annotations.as_ref(),
            limit: spec.revision_history_limit.unwrap_or(10).max(0) as usize,
        };
        history.sync(self.revisions.in_namespace(&namespace), &live, ctx);
        let (max_surge, max_unavailable) = update_budget(&ds, &views);
        let mut synced = Ok(());
        if self.expectations.satisfied(key, ctx.now().millis()) {
            let (create_on, mut delete) = self.plan(&ds, &views, &hash, max_surge > 0, ctx);
            delete.extend(orphaned.into_iter().filter(|p| !is_terminating(p)));
            let rolling = spec
                .update_strategy
                .as_ref()
                .and_then(|s| s.type_.as_deref())
                .unwrap_or("RollingUpdate")
                == "RollingUpdate";
            synced = match self.sync_nodes(key, &ds, &hash, &create_on, &delete, ctx) {
                Ok(false) if rolling => {
                    self.rolling_update(key, &ds, &hash, &views, max_surge, max_unavailable, ctx)
                }
                acted => acted.map(drop),
            };
        }
        self.queue.finish(key, synced.is_err(), ctx);
        let status = status_of(&ds, &views, &hash, ctx.unix_millis());
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if min_ready > 0 && status.number_ready != status.number_available.unwrap_or(0) {
            self.queue.add_after(key, min_ready as u64 * 1000, ctx);
        }
        write_status(
            ctx,
            &daemonset_path(key),
            &ds,
            |ds| ds.status.as_ref() == Some(&status),
            |ds| ds.status = Some(status.clone()),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn rolling_update(
        &mut self,
        key: &str,
        ds: &DaemonSet,
        hash: &str,
        views: &[NodeView],
        max_surge: usize,
        max_unavailable: usize,
        ctx: &mut Ctx,
    ) -> SyncResult {
        let generation = template_generation(ds);
        let min_ready = ds
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        let now = ctx.unix_millis();
        let nodes: Vec<NodePods> = views
            .iter()
            .filter(|v| v.should_run || !v.pods.is_empty())
            .map(|v| {
                let live: Vec<&Pod> = v
                    .pods
                    .iter()
                    .filter(|p| !is_terminating(p))
                    .map(|p| &**p)
                    .collect();
                let (new, old): (Vec<&Pod>, Vec<&Pod>) = live
                    .iter()
                    .partition(|p| is_updated(p, hash, generation.as_deref()));
                NodePods {
                    node: v.name(),
                    should_run: v.should_run,
                    new_pod: new.first().copied(),
                    old_pod: old.first().copied(),
                    crowded: new.len() > 1 || old.len() > 1,
                }
            })
            .collect();
        let step = next_step(&nodes, max_surge, max_unavailable, |p| {
            is_available(p, min_ready, now)
        });
        let doomed: Vec<Arc<Pod>> = step
            .delete
            .iter()
            .filter_map(|k| self.pods.get_shared(k))
            .collect();
        self.sync_nodes(key, ds, hash, &step.create_on, &doomed, ctx)
            .map(drop)
    }
}

/// Pods beyond one on a node: without surge all but the oldest; with surge an old
/// and a new pod may overlap until the new one is ready (upstream's rules).
fn surplus(running: Vec<Arc<Pod>>, hash: &str, surge: bool) -> Vec<Arc<Pod>> {
    if running.len() <= 1 {
        return Vec::new();
    }
    if !surge {
        return running.into_iter().skip(1).collect();
    }
    let mut doomed = Vec::new();
    let (mut oldest_new, mut oldest_old) = (None, None);
    for pod in running {
        let current = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(REVISION_HASH_LABEL))
            .is_some_and(|h| h == hash);
        let slot = if current {
            &mut oldest_new
        } else {
            &mut oldest_old
        };
        if slot.is_none() {
            *slot = Some(pod);
        } else {
            doomed.push(pod);
        }
    }
    if let (Some(new), Some(old)) = (oldest_new, oldest_old) {
        if !is_ready(&old) || is_ready(&new) {
            doomed.push(old);
        }
    }
    doomed
}

/// Whether a node change cannot matter to DaemonSets: labels, taints,
/// schedulability and the condition statuses are the same (upstream's
/// `shouldIgnoreNodeUpdate`, which skips heartbeats).
fn same_for_daemons(old: &Node, new: &Node) -> bool {
    let conditions = |n: &Node| -> Vec<(String, String)> {
        n.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .map(|c| (c.type_.clone(), c.status.clone()))
            .collect()
    };
    old.metadata.labels == new.metadata.labels
        && old.spec == new.spec
        && conditions(old) == conditions(new)
}

/// `maxSurge` and `maxUnavailable` scaled to the nodes that should run the DaemonSet.
fn update_budget(ds: &DaemonSet, views: &[NodeView]) -> (usize, usize) {
    let desired = views.iter().filter(|v| v.should_run).count() as i32;
    let rolling = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.rolling_update.clone())
        .unwrap_or_default();
    let scaled = |v: Option<&IntOrString>| scaled_value(v, desired, true).max(0) as usize;
    let surge = scaled(rolling.max_surge.as_ref());
    let mut unavailable = scaled(rolling.max_unavailable.as_ref());
    if desired > 0 && surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// The pod a DaemonSet creates for `node`.
fn daemon_pod(
    ds: &DaemonSet,
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
    owner: &OwnerReference,
    node: &str,
) -> serde_json::Value {
    let meta = template.metadata.clone().unwrap_or_default();
    let mut spec = template.spec.clone().unwrap_or_default();
    pin_to_node(&mut spec, node);
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": format!("{}-", ds.metadata.name.as_deref().unwrap_or("")),
            "namespace": ds.metadata.namespace,
            "labels": meta.labels,
            "annotations": meta.annotations,
            "ownerReferences": [owner],
        },
        "spec": spec,
    })
}

/// Upstream's `updateDaemonSetStatus` counters.
fn status_of(ds: &DaemonSet, views: &[NodeView], hash: &str, now_ms: i64) -> DaemonSetStatus {
    let generation = template_generation(ds);
    let min_ready = ds
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let mut status = DaemonSetStatus {
        collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
        conditions: ds.status.as_ref().and_then(|s| s.conditions.clone()),
        observed_generation: ds.metadata.generation,
        ..Default::default()
    };
    let (mut available, mut updated) = (0, 0);
    for view in views {
        let scheduled = !view.pods.is_empty();
        if !view.should_run {
            if scheduled {
                status.number_misscheduled += 1;
            }
            continue;
        }
        status.desired_number_scheduled += 1;
        let Some(pod) = view.pods.first() else {
            continue;
        };
        status.current_number_scheduled += 1;
        if is_ready(pod) {
            status.number_ready += 1;
            if is_available(pod, min_ready, now_ms) {
                available += 1;
            }
        }
        if is_updated(pod, hash, generation.as_deref()) {
            updated += 1;
        }
    }
    let nonzero = |n: i32| (n != 0).then_some(n);
    status.number_available = nonzero(available);
    status.updated_number_scheduled = nonzero(updated);
    status.number_unavailable = nonzero(status.desired_number_scheduled - available);
    status
}

impl Component for DaemonSetController {
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
                if delta.kind == EventType::Deleted {
                    self.expectations.remove(&delta.key);
                }
                self.queue.add(&delta.key, ctx);
            }
            self.ensure_watching(ctx);
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                self.on_pod(delta, ctx);
            }
        } else if self.nodes.owns(watch) {
            let deltas = self.nodes.handle(event, ctx);
            let relevant = deltas.iter().any(|d| {
                let current = self.nodes.get(&d.key);
                d.kind != EventType::Modified
                    || !matches!((d.old.as_deref(), current), (Some(old), Some(new)) if same_for_daemons(old, new))
            });
            if relevant {
                self.queue_all(ctx);
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
