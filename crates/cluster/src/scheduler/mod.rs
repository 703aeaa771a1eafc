//! kube-scheduler, simulated: a client of the API server that watches pods and nodes,
//! keeps a cache of what each node holds, queues unscheduled pods, runs the framework's
//! plugins and POSTs `pods/binding`. Every attempt leaves an explanation on the pod
//! (annotations, as the kube-scheduler-simulator does) and, when it fails, a
//! FailedScheduling event and the PodScheduled=False condition in upstream's words.

pub mod affinity_terms;
pub mod cycle;
pub mod explain;
pub mod fit_error;
pub mod framework;
pub mod listers;
pub mod node_cache;
pub mod plugins;
pub mod preemption;
pub mod queue;
pub mod resources;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::{pod_path, Delta, Informer, ObjectRef, Recorder};
use crate::sim::{Component, Ctx, VirtualTime};
use framework::{ClusterView, NodeInfo, PodInfo, PodSummary};
use listers::Listers;
use node_cache::NodeCache;
use plugins::Enabled;
use preemption::Outcome;
use queue::SchedulingQueue;

/// The default profile's scheduler name.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// How often unschedulable pods are checked against the five-minute timeout.
const FLUSH_INTERVAL_MS: u64 = 30_000;
/// Virtual time one scheduling cycle takes.
const CYCLE_MS: u64 = 1;

const SCHEDULE_TIMER: u64 = 0;
const BACKOFF_TIMER: u64 = 1;
const FLUSH_TIMER: u64 = 2;

/// The scheduler component.
pub struct Scheduler {
    name: String,
    plugins: Vec<Enabled>,
    percentage_of_nodes_to_score: Option<usize>,
    explain: bool,
    recorder: Recorder,
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
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new(DEFAULT_SCHEDULER, plugins::default_plugins())
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
    /// A scheduler named `name` (pods choose it with `spec.schedulerName`) running `plugins`.
    pub fn new(name: &str, plugins: Vec<Enabled>) -> Scheduler {
        Scheduler {
            name: name.into(),
            plugins,
            percentage_of_nodes_to_score: None,
            explain: true,
            recorder: Recorder::new(name, None),
            pods: Informer::new("/api/v1/pods"),
            nodes: Informer::new("/api/v1/nodes"),
            listers: Listers::default(),
            cache: NodeCache::default(),
            pod_nodes: BTreeMap::new(),
            queue: SchedulingQueue::default(),
            next_start: 0,
            cycle_pending: false,
            backoff_timer_at: None,
        }
    }

    /// Turns the per-attempt explanation annotations off (large benchmarks).
    pub fn without_explanations(mut self) -> Scheduler {
        self.explain = false;
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
                _ => self.pods.get(&key).cloned(),
            };
            let Some(pod) = pod else {
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
            let ours = pod
                .spec
                .as_ref()
                .and_then(|s| s.scheduler_name.as_deref())
                .unwrap_or(DEFAULT_SCHEDULER)
                == self.name;
            let gated = self
                .plugins
                .iter()
                .any(|p| !p.plugin.pre_enqueue(&pod).is_success());
            if self.pod_nodes.contains_key(&key) {
                continue; // assumed: bound by us, the binding not yet seen
            }
            if !ours || gated || pod.metadata.deletion_timestamp.is_some() {
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
    }

    /// One scheduling cycle for the next pod in activeQ.
    fn schedule_one(&mut self, ctx: &mut Ctx) {
        let Some(key) = self.queue.pop() else {
            return;
        };
        let Some(pod) = self.pods.get(&key).cloned() else {
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
        };
        let attempt = cycle::run(
            &info,
            &cluster,
            &self.plugins,
            self.next_start,
            self.percentage_of_nodes_to_score,
            ctx.rng(),
            self.explain,
        );
        self.next_start = attempt.next_start;
        match attempt.selected.clone() {
            Some(node) => {
                drop(nodes);
                if self.explain {
                    self.annotate(&key, &explain::annotations(&attempt), ctx);
                }
                self.bind(&key, &info, &node, ctx);
            }
            None => {
                let outcome = if nodes.is_empty() {
                    Outcome::NotHelpful(String::new())
                } else {
                    preemption::preempt(&info, &cluster, &attempt.failed, &self.plugins)
                };
                drop(nodes);
                self.unschedulable(&key, &info, &attempt, outcome, ctx);
            }
        }
    }

    fn annotate(&mut self, key: &str, annotations: &serde_json::Value, ctx: &mut Ctx) {
        let patch = json!({"metadata": {"annotations": annotations}});
        ctx.call(Request::patch(
            pod_path(key),
            "application/merge-patch+json",
            patch.to_string(),
        ));
    }

    fn bind(&mut self, key: &str, info: &PodInfo, node: &str, ctx: &mut Ctx) {
        // Assume the pod on the node so the next cycle sees it before the watch does.
        if self.account(key, node, &info.pod) {
            self.queue.move_waiting_for_assigned_pods(ctx.now());
        }
        let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let response = ctx.call(Request::post(
            format!("{}/binding", pod_path(key)),
            binding.to_string(),
        ));
        if response.status == 201 {
            self.queue.remove(key);
            self.recorder.event(
                ctx,
                &ObjectRef::of(&info.pod),
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {namespace}/{name} to {node}"),
            );
        } else {
            self.forget(key);
            let reason = response.body_json()["message"]
                .as_str()
                .unwrap_or("")
                .to_string();
            self.recorder.event(
                ctx,
                &ObjectRef::of(&info.pod),
                "Warning",
                "FailedScheduling",
                &format!("running Bind plugin \"DefaultBinder\": {reason}"),
            );
            self.queue.failed(key, ctx.now(), true, false);
        }
    }

    fn unschedulable(
        &mut self,
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
            self.annotate(key, &explain::annotations(attempt), ctx);
        }
        self.recorder.event(
            ctx,
            &ObjectRef::of(&info.pod),
            "Warning",
            "FailedScheduling",
            &message,
        );
        let mut status = json!({
            "conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": null,
                "lastTransitionTime": ctx.timestamp(),
                "reason": "Unschedulable",
                "message": message,
            }],
        });
        if let Outcome::Preempt { node, victims } = &outcome {
            status["nominatedNodeName"] = json!(node);
            self.preempt_victims(info, node, victims, ctx);
        }
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/strategic-merge-patch+json",
            json!({"status": status}).to_string(),
        ));
        let waits_for_assigned_pods = self.plugins.iter().any(|e| {
            e.plugin.requeues_on_assigned_pod()
                && attempt.failed.values().any(|s| s.plugin == e.plugin.name())
        });
        self.queue
            .failed(key, ctx.now(), false, waits_for_assigned_pods);
    }

    /// Marks each victim with a DisruptionTarget condition, records Preempted, deletes it.
    fn preempt_victims(
        &mut self,
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
                "message": format!("{}: preempting to accommodate a higher priority pod", self.name),
            }]}});
            ctx.call(Request::patch(
                format!("{}/status", pod_path(victim)),
                "application/strategic-merge-patch+json",
                condition.to_string(),
            ));
            self.recorder.event(
                ctx,
                &ObjectRef::of(&pod),
                "Normal",
                "Preempted",
                &format!("Preempted by pod {uid} on node {node}"),
            );
            ctx.call(Request::delete(pod_path(victim)));
        }
    }
}

impl Component for Scheduler {
    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.listers.start(ctx);
        let nodes = self.nodes.start(ctx);
        self.on_nodes(nodes, ctx);
        let pods = self.pods.start(ctx);
        self.on_pods(pods, ctx);
        ctx.set_background_timer(FLUSH_INTERVAL_MS, FLUSH_TIMER);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.pods.owns(watch) {
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
            _ => {
                self.queue.flush(ctx.now());
                ctx.set_background_timer(FLUSH_INTERVAL_MS, FLUSH_TIMER);
            }
        }
        self.kick(ctx);
    }
}
