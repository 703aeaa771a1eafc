//! kube-scheduler, simulated: a client of the API server that watches pods and nodes,
//! keeps a cache of what each node holds, queues unscheduled pods, runs the framework's
//! plugins and POSTs `pods/binding`. Every attempt leaves an explanation on the pod
//! (annotations, as the kube-scheduler-simulator does) and, when it fails, a
//! FailedScheduling event and the PodScheduled=False condition in upstream's words.
//!
//! Its profiles come from a `KubeSchedulerConfiguration` kept in the ConfigMap
//! `kube-system/kube-scheduler-config` (key `config.yaml`), which it watches: without
//! one it runs upstream's default profile; an invalid one is refused with a Warning
//! event on the ConfigMap and the previous profiles stay.

pub mod affinity_terms;
pub mod binding;
pub mod config;
pub mod configure;
pub mod cycle;
pub mod explain;
pub mod fit_error;
pub mod framework;
pub mod listers;
pub mod match_count_memo;
pub mod node_cache;
pub mod node_sum_memo;
pub mod plugin_args;
pub mod plugins;
pub mod pod_label_index;
pub mod preemption;
pub mod profile;
pub mod queue;
pub mod resources;
pub mod throughput;
pub mod waiting_pods;

use std::collections::BTreeMap;

use std::rc::Rc;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod};
use serde_json::{json, Map, Value};

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::{pod_path, Delta, Informer, ObjectRef, Recorder};
use crate::sim::{Component, Ctx, VirtualTime};
use binding::Placement;
use framework::{ClusterView, NodeInfo, PodInfo, PodSummary};
use listers::Listers;
use node_cache::NodeCache;
use plugins::default_binder::BINDING_ANNOTATIONS;
use preemption::Outcome;
use profile::Profile;
use queue::SchedulingQueue;
use waiting_pods::WaitingPods;

/// Where the scheduler reads its configuration: this ConfigMap in `kube-system`,
/// under [`CONFIG_KEY`].
pub const CONFIG_MAP: &str = "kube-scheduler-config";
/// The ConfigMap key holding the `KubeSchedulerConfiguration` document.
pub const CONFIG_KEY: &str = "config.yaml";
/// The scheduler's name in the trace (upstream's component name).
const COMPONENT: &str = "kube-scheduler";

/// How often unschedulable pods are checked against the five-minute timeout.
const FLUSH_INTERVAL_MS: u64 = 30_000;
/// Virtual time one scheduling cycle takes.
const CYCLE_MS: u64 = 1;

const SCHEDULE_TIMER: u64 = 0;
const BACKOFF_TIMER: u64 = 1;
const FLUSH_TIMER: u64 = 2;
const PERMIT_TIMER: u64 = 3;

/// The scheduler component.
pub struct Scheduler {
    profiles: Vec<Rc<Profile>>,
    explain: bool,
    /// One event recorder per profile: events name the profile's scheduler.
    recorders: BTreeMap<String, Recorder>,
    config: Informer<ConfigMap>,
    pods: Informer<Pod>,
    nodes: Informer<Node>,
    listers: Listers,
    cache: NodeCache,
    /// Which node each accounted pod is on (bound or assumed).
    pod_nodes: BTreeMap<String, String>,
    queue: SchedulingQueue,
    next_start: usize,
    cycle_pending: bool,
    backoff_timer_at: Option<VirtualTime>,
    /// Pods held at Permit, and where each goes once allowed.
    waiting: WaitingPods,
    held: BTreeMap<String, Placement>,
    permit_timer_at: Option<VirtualTime>,
}

impl Default for Scheduler {
    /// The scheduler with upstream's default profile until a configuration says otherwise.
    fn default() -> Self {
        Scheduler {
            profiles: vec![Rc::new(Profile::default())],
            explain: true,
            recorders: BTreeMap::new(),
            config: Informer::new("/api/v1/namespaces/kube-system/configmaps")
                .with_query("fieldSelector", format!("metadata.name={CONFIG_MAP}")),
            pods: Informer::new("/api/v1/pods"),
            nodes: Informer::new("/api/v1/nodes"),
            listers: Listers::default(),
            cache: NodeCache::default(),
            pod_nodes: BTreeMap::new(),
            queue: SchedulingQueue::default(),
            next_start: 0,
            cycle_pending: false,
            backoff_timer_at: None,
            waiting: WaitingPods::default(),
            held: BTreeMap::new(),
            permit_timer_at: None,
        }
    }
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn assigned_node(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

impl Scheduler {
    /// Turns the per-attempt explanation annotations off (large benchmarks).
    pub fn without_explanations(mut self) -> Scheduler {
        self.explain = false;
        self
    }

    /// Runs `profile` (its own plugins, e.g. ones written outside the registry)
    /// instead of upstream's default profile, until a configuration ConfigMap says
    /// otherwise.
    pub fn with_profile(mut self, profile: Profile) -> Scheduler {
        self.profiles = vec![Rc::new(profile)];
        self
    }

    fn forget(&mut self, key: &str) -> bool {
        match self.pod_nodes.remove(key) {
            Some(node) => {
                self.cache.remove_pod(&node, key);
                true
            }
            None => false,
        }
    }

    /// Accounts `pod` on `node` (refreshing what is known of it: labels, start time);
    /// says whether that is news (it was elsewhere or nowhere).
    fn account(&mut self, key: &str, node: &str, pod: &Pod) -> bool {
        if self.pod_nodes.get(key).is_some_and(|n| n == node) {
            let current = self
                .cache
                .get(node)
                .and_then(|n| n.pods.get(key))
                .is_some_and(|summary| summary.describes(pod));
            if !current {
                self.cache.add_pod(node, key, PodSummary::of_pod(pod));
            }
            return false;
        }
        self.forget(key);
        self.cache.add_pod(node, key, PodSummary::of_pod(pod));
        self.pod_nodes.insert(key.to_string(), node.to_string());
        true
    }

    fn on_pods(&mut self, deltas: Vec<Delta<Pod>>, ctx: &mut Ctx) {
        let mut freed = false;
        let mut assigned = false;
        for delta in deltas {
            let key = delta.key;
            let pod = match delta.kind {
                EventType::Deleted => None,
                _ => self.pods.get_shared(&key),
            };
            let Some(pod) = pod else {
                if self.waiting.contains(&key) {
                    self.waiting.reject(&key, "", "removed");
                    continue;
                }
                freed |= self.forget(&key);
                self.queue.remove(&key);
                continue;
            };
            if let Some(node) = assigned_node(&pod) {
                self.queue.remove(&key);
                if is_terminal(&pod) {
                    freed |= self.forget(&key);
                } else {
                    assigned |= self.account(&key, node, &pod);
                }
                continue;
            }
            if self.pod_nodes.contains_key(&key) {
                continue; // assumed: bound by us, the binding not yet seen
            }
            // Pods naming no profile of ours stay Pending, as upstream.
            let gated = self.profile_of(&pod).is_none_or(|profile| {
                profile
                    .pre_enqueue
                    .iter()
                    .any(|p| !p.pre_enqueue(&pod).is_success())
            });
            if gated || pod.metadata.deletion_timestamp.is_some() {
                self.queue.remove(&key);
                continue;
            }
            let priority = pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
            self.queue.add(&key, priority, ctx.now());
        }
        if freed {
            self.queue.move_all(ctx.now());
        } else if assigned {
            self.queue.move_waiting_for_assigned_pods(ctx.now());
        }
        self.release_decided(ctx);
        self.kick(ctx);
    }

    fn on_nodes(&mut self, deltas: Vec<Delta<Node>>, ctx: &mut Ctx) {
        for delta in deltas {
            let previous = self.cache.remove(&delta.key);
            if let Some(node) = self.nodes.get(&delta.key) {
                let mut info = NodeInfo::new(node.clone());
                if let Some(previous) = previous {
                    for (key, pod) in previous.pods {
                        info.add_pod(&key, pod);
                    }
                } else {
                    // Pods bound before the node was seen are accounted now.
                    for (key, node_name) in &self.pod_nodes {
                        if node_name == &delta.key {
                            if let Some(pod) = self.pods.get(key) {
                                info.add_pod(key, PodSummary::of_pod(pod));
                            }
                        }
                    }
                }
                self.cache.insert(info);
            }
        }
        self.queue.move_all(ctx.now());
        self.kick(ctx);
    }

    /// The configuration ConfigMap changed: load it (or the defaults, when it is
    /// gone), then give every pending pod a fresh look under the new profiles.
    fn on_config(&mut self, deltas: Vec<Delta<ConfigMap>>, ctx: &mut Ctx) {
        if deltas.is_empty() {
            return;
        }
        let map = self
            .config
            .get(&format!("kube-system/{CONFIG_MAP}"))
            .cloned();
        let text = map.as_ref().map(|m| {
            m.data
                .as_ref()
                .and_then(|d| d.get(CONFIG_KEY))
                .map_or("", String::as_str)
        });
        let loaded = config::stored(text);
        match loaded.and_then(|config| Ok((profile::profiles(&config)?, config))) {
            Ok((profiles, config)) => {
                self.profiles = profiles.into_iter().map(Rc::new).collect();
                self.queue.set_backoff(
                    config.pod_initial_backoff_seconds as u64 * 1_000,
                    config.pod_max_backoff_seconds as u64 * 1_000,
                );
                let pending: Vec<Delta<Pod>> = self
                    .pods
                    .iter()
                    .map(|(key, _)| Delta {
                        kind: EventType::Modified,
                        key: key.clone(),
                        old: None,
                    })
                    .collect();
                self.on_pods(pending, ctx);
            }
            Err(message) => {
                if let Some(map) = &map {
                    let about = ObjectRef::of(map);
                    self.event(
                        COMPONENT,
                        &about,
                        "Warning",
                        "InvalidConfiguration",
                        &message,
                        ctx,
                    );
                }
            }
        }
    }

    fn kick(&mut self, ctx: &mut Ctx) {
        if self.queue.has_active() && !self.cycle_pending {
            self.cycle_pending = true;
            ctx.set_timer(CYCLE_MS, SCHEDULE_TIMER);
        }
        if let Some(end) = self.queue.next_backoff_end() {
            if self.backoff_timer_at.is_none_or(|at| end < at) {
                self.backoff_timer_at = Some(end);
                ctx.set_timer(
                    end.millis().saturating_sub(ctx.now().millis()),
                    BACKOFF_TIMER,
                );
            }
        }
        if let Some(end) = self.waiting.next_deadline() {
            if self.permit_timer_at.is_none_or(|at| end < at) {
                self.permit_timer_at = Some(end);
                ctx.set_timer(
                    end.millis().saturating_sub(ctx.now().millis()),
                    PERMIT_TIMER,
                );
            }
        }
    }

    /// One scheduling cycle for the next pod in activeQ.
    fn schedule_one(&mut self, ctx: &mut Ctx) {
        let Some(key) = self.queue.pop() else {
            return;
        };
        let Some(pod) = self.pods.get_shared(&key) else {
            self.queue.remove(&key);
            return;
        };
        let Some(profile) = self.profile_of(&pod) else {
            self.queue.remove(&key);
            return;
        };
        let info = PodInfo::new(&key, pod);
        let nodes = self.cache.all();
        let with_affinity = self.cache.with_scoring_affinity();
        let with_required_anti_affinity = self.cache.with_required_anti_affinity();
        let cluster = ClusterView {
            nodes: &nodes,
            nodes_with_scoring_affinity: &with_affinity,
            nodes_with_required_anti_affinity: &with_required_anti_affinity,
            image_nodes: self.cache.image_nodes(),
            listers: &self.listers,
            node_generations: Some(self.cache.generations()),
        };
        let attempt = cycle::run(
            &info,
            &cluster,
            &profile,
            self.next_start,
            ctx.rng(),
            if self.explain {
                cycle::EXPLAINED_NODES
            } else {
                0
            },
        );
        self.next_start = attempt.next_start;
        match attempt.selected.clone() {
            Some(node) => {
                drop(nodes);
                let explanation = self.explain.then(|| explain::annotations(&attempt));
                let mut state = attempt.state;
                if let Some(explanation) = explanation {
                    state.write(BINDING_ANNOTATIONS, explanation);
                }
                let placement = Placement {
                    profile,
                    info,
                    node,
                    state,
                };
                self.place(placement, ctx);
            }
            None => {
                let outcome = if nodes.is_empty() || !profile.preempts {
                    Outcome::NotHelpful(String::new())
                } else {
                    preemption::preempt(&info, &cluster, &attempt.failed, &profile)
                };
                drop(nodes);
                self.unschedulable(&profile, &key, &info, &attempt, outcome, ctx);
            }
        }
    }

    fn annotate(&mut self, key: &str, annotations: Map<String, Value>, ctx: &mut Ctx) {
        let patch = json!({"metadata": {"annotations": annotations}});
        ctx.call(Request::patch(
            pod_path(key),
            "application/merge-patch+json",
            patch.to_string(),
        ));
    }

    /// The profile a pod names with `spec.schedulerName`, if it is one of ours.
    fn profile_of(&self, pod: &Pod) -> Option<Rc<Profile>> {
        let name = pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref());
        self.profiles.iter().find(|p| p.serves(name)).cloned()
    }

    /// Records an event about `about` as `source` (a profile's scheduler name, or the
    /// component itself), each source with its own recorder.
    fn event(
        &mut self,
        source: &str,
        about: &ObjectRef,
        event_type: &str,
        reason: &str,
        message: &str,
        ctx: &mut Ctx,
    ) {
        if !self.recorders.contains_key(source) {
            self.recorders
                .insert(source.to_string(), Recorder::new(source, None));
        }
        if let Some(recorder) = self.recorders.get_mut(source) {
            recorder.event(ctx, about, event_type, reason, message);
        }
    }

    fn unschedulable(
        &mut self,
        profile: &Profile,
        key: &str,
        info: &PodInfo,
        attempt: &cycle::Attempt,
        outcome: Outcome,
        ctx: &mut Ctx,
    ) {
        let message = if attempt.num_all_nodes == 0 {
            "no nodes available to schedule pods".to_string()
        } else {
            let post = match &outcome {
                Outcome::NotHelpful(text) => Some(text.as_str()),
                Outcome::Preempt { .. } => None,
            };
            fit_error::message(attempt.num_all_nodes, &attempt.failed, None, post)
        };
        if self.explain {
            self.annotate(key, explain::annotations(attempt), ctx);
        }
        let nominated = match &outcome {
            Outcome::Preempt { node, victims } => {
                self.preempt_victims(&profile.scheduler_name, info, node, victims, ctx);
                Some(node.as_str())
            }
            Outcome::NotHelpful(_) => None,
        };
        let scheduler = &profile.scheduler_name;
        self.report_failure(scheduler, info, &message, "Unschedulable", nominated, ctx);
        let waits_for_assigned_pods = profile.filter.iter().any(|p| {
            p.requeues_on_assigned_pod() && attempt.failed.values().any(|s| s.plugin == p.name())
        });
        self.queue
            .failed(key, ctx.now(), false, waits_for_assigned_pods);
    }

    /// Upstream's failure handler: a FailedScheduling event and the PodScheduled=False
    /// condition with `reason` (Unschedulable or SchedulerError), and the node the pod
    /// was nominated to when preemption made room.
    fn report_failure(
        &mut self,
        scheduler: &str,
        info: &PodInfo,
        message: &str,
        reason: &str,
        nominated: Option<&str>,
        ctx: &mut Ctx,
    ) {
        let about = ObjectRef::of(info.pod.as_ref());
        self.event(
            scheduler,
            &about,
            "Warning",
            "FailedScheduling",
            message,
            ctx,
        );
        let mut status = json!({
            "conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": null,
                "lastTransitionTime": ctx.timestamp(),
                "reason": reason,
                "message": message,
            }],
        });
        if let Some(node) = nominated {
            status["nominatedNodeName"] = json!(node);
        }
        ctx.call(Request::patch(
            format!("{}/status", pod_path(&info.key)),
            "application/strategic-merge-patch+json",
            json!({"status": status}).to_string(),
        ));
    }

    /// Marks each victim with a DisruptionTarget condition, records Preempted, deletes it.
    fn preempt_victims(
        &mut self,
        scheduler: &str,
        preemptor: &PodInfo,
        node: &str,
        victims: &[String],
        ctx: &mut Ctx,
    ) {
        let uid = preemptor.pod.metadata.uid.clone().unwrap_or_default();
        for victim in victims {
            let Some(pod) = self.pods.get(victim).cloned() else {
                continue;
            };
            let condition = json!({"status": {"conditions": [{
                "type": "DisruptionTarget",
                "status": "True",
                "lastProbeTime": null,
                "lastTransitionTime": ctx.timestamp(),
                "reason": "PreemptionByScheduler",
                "message": format!("{scheduler}: preempting to accommodate a higher priority pod"),
            }]}});
            ctx.call(Request::patch(
                format!("{}/status", pod_path(victim)),
                "application/strategic-merge-patch+json",
                condition.to_string(),
            ));
            let message = format!("Preempted by pod {uid} on node {node}");
            self.event(
                scheduler,
                &ObjectRef::of(&pod),
                "Normal",
                "Preempted",
                &message,
                ctx,
            );
            ctx.call(Request::delete(pod_path(victim)));
        }
    }
}

impl Component for Scheduler {
    fn name(&self) -> &str {
        COMPONENT
    }

    fn start(&mut self, ctx: &mut Ctx) {
        let config = self.config.start(ctx);
        self.on_config(config, ctx);
        self.listers.start(ctx);
        let nodes = self.nodes.start(ctx);
        self.on_nodes(nodes, ctx);
        let pods = self.pods.start(ctx);
        self.on_pods(pods, ctx);
        ctx.set_background_timer(FLUSH_INTERVAL_MS, FLUSH_TIMER);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.config.owns(watch) {
            let deltas = self.config.handle(event, ctx);
            self.on_config(deltas, ctx);
        } else if self.pods.owns(watch) {
            let deltas = self.pods.handle(event, ctx);
            self.on_pods(deltas, ctx);
        } else if self.nodes.owns(watch) {
            let deltas = self.nodes.handle(event, ctx);
            // Heartbeat-only node updates change nothing the plugins read.
            let relevant: Vec<Delta<Node>> = deltas
                .into_iter()
                .filter(|d| {
                    let now = self.nodes.get(&d.key);
                    match (&d.old, now) {
                        (Some(old), Some(new)) => {
                            old.spec != new.spec
                                || old.metadata.labels != new.metadata.labels
                                || old.status.as_ref().map(|s| &s.allocatable)
                                    != new.status.as_ref().map(|s| &s.allocatable)
                                || old.status.as_ref().map(|s| &s.images)
                                    != new.status.as_ref().map(|s| &s.images)
                        }
                        _ => true,
                    }
                })
                .collect();
            if !relevant.is_empty() {
                self.on_nodes(relevant, ctx);
            }
        } else {
            self.listers.handle(watch, event, ctx);
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        match key {
            SCHEDULE_TIMER => {
                self.cycle_pending = false;
                self.schedule_one(ctx);
            }
            BACKOFF_TIMER => {
                self.backoff_timer_at = None;
                self.queue.flush(ctx.now());
            }
            PERMIT_TIMER => {
                self.permit_timer_at = None;
                self.waiting.expire(ctx.now());
                self.release_decided(ctx);
            }
            _ => {
                self.queue.flush(ctx.now());
                ctx.set_background_timer(FLUSH_INTERVAL_MS, FLUSH_TIMER);
            }
        }
        self.kick(ctx);
    }
}
