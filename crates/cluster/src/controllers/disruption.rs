//! The disruption controller, as upstream's: for each PodDisruptionBudget it
//! counts the selected pods, how many are healthy (ready, not being deleted,
//! not just evicted), how many must stay healthy (`minAvailable`, or the
//! controllers' scale minus `maxUnavailable`), and so how many disruptions the
//! eviction API may allow now; the `DisruptionAllowed` condition says the same.
//! Evictions the API server records in `disruptedPods` count as gone until the
//! pod is deleted or two minutes pass.
//!
//! Its pod informer starts with the first PodDisruptionBudget, so a cluster
//! without budgets pays nothing for it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::deployment::util::scaled_value;
use super::owners::controller_of;
use super::pod_state::{is_ready, is_terminating};
use crate::api::labels::LabelSelector;
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{Informer, ObjectRef, Recorder, WorkQueue};
use crate::sim::{Component, Ctx};

/// The trace and event source name.
pub const NAME: &str = "disruption-controller";

/// How long an eviction recorded in `disruptedPods` counts before the pod must be gone.
pub const DELETION_TIMEOUT_MS: i64 = 2 * 60_000;

/// Keeps PodDisruptionBudgets' status current.
pub struct DisruptionController {
    recorder: Recorder,
    budgets: Informer<PodDisruptionBudget>,
    pods: Informer<Pod>,
    pods_started: bool,
    queue: WorkQueue,
}

impl Default for DisruptionController {
    fn default() -> Self {
        DisruptionController {
            recorder: Recorder::new(NAME, None),
            budgets: Informer::new("/apis/policy/v1/poddisruptionbudgets"),
            pods: Informer::new("/api/v1/pods"),
            pods_started: false,
            queue: WorkQueue::new(0),
        }
    }
}

fn budget_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}")
}

/// The replicas of a workload at `path` (a `scale` subresource read), if it exists.
fn scale_of(ctx: &mut Ctx, path: &str) -> Option<(String, i32)> {
    let response = ctx.call(Request::get(format!("{path}/scale")));
    let scale = response.body_json();
    (response.status == 200).then(|| {
        (
            scale["metadata"]["uid"].as_str().unwrap_or("").to_string(),
            scale["spec"]["replicas"].as_i64().unwrap_or(0) as i32,
        )
    })
}

/// The scale of the controller behind a pod (a ReplicaSet's Deployment counts,
/// not the ReplicaSet), as upstream's finders look it up.
fn controller_scale(ctx: &mut Ctx, pod: &Pod) -> Option<(String, i32)> {
    let reference = controller_of(&pod.metadata)?;
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let apps = format!("/apis/apps/v1/namespaces/{namespace}");
    match reference.kind.as_str() {
        "ReplicaSet" => {
            let rs = ctx
                .call(Request::get(format!(
                    "{apps}/replicasets/{}",
                    reference.name
                )))
                .body_json();
            let owner = rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["controller"] == true && r["kind"] == "Deployment");
            match owner {
                Some(d) => scale_of(
                    ctx,
                    &format!("{apps}/deployments/{}", d["name"].as_str().unwrap_or("")),
                ),
                None => scale_of(ctx, &format!("{apps}/replicasets/{}", reference.name)),
            }
        }
        "StatefulSet" => scale_of(ctx, &format!("{apps}/statefulsets/{}", reference.name)),
        "ReplicationController" => scale_of(
            ctx,
            &format!(
                "/api/v1/namespaces/{namespace}/replicationcontrollers/{}",
                reference.name
            ),
        ),
        _ => None,
    }
}

/// Upstream's `SetStatusCondition` for `DisruptionAllowed`.
fn disruption_condition(
    previous: Option<&Vec<Condition>>,
    allowed: bool,
    generation: Option<i64>,
    now: Time,
) -> Vec<Condition> {
    let (status, reason) = if allowed {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let mut conditions: Vec<Condition> = previous.cloned().unwrap_or_default();
    match conditions
        .iter_mut()
        .find(|c| c.type_ == "DisruptionAllowed")
    {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = now;
            }
            c.status = status.into();
            c.reason = reason.into();
            c.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: "DisruptionAllowed".into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            observed_generation: generation,
            last_transition_time: now,
        }),
    }
    conditions
}

impl DisruptionController {
    /// Starts the pod informer once a budget exists, and syncs every budget with it.
    fn ensure_pods_watched(&mut self, ctx: &mut Ctx) {
        if !self.pods_started && !self.budgets.is_empty() {
            self.pods_started = true;
            self.pods.start(ctx);
            let keys: Vec<String> = self.budgets.iter().map(|(k, _)| k.clone()).collect();
            for key in keys {
                self.queue.add(&key, ctx);
            }
        }
    }

    /// Budgets in the pod's namespace whose selector matches it.
    fn budgets_for(&self, pod: &Pod) -> Vec<String> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        self.budgets
            .in_namespace(namespace)
            .filter(|pdb| {
                pdb.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| LabelSelector::of(s).ok())
                    .is_some_and(|s| !s.is_empty() && s.matches_map(pod.metadata.labels.as_ref()))
            })
            .map(|pdb| key_of(&pdb.metadata))
            .collect()
    }

    /// (expected pods, desired healthy), as upstream's `getExpectedPodCount`.
    fn expected_counts(
        &mut self,
        pdb: &PodDisruptionBudget,
        pods: &[&Pod],
        ctx: &mut Ctx,
    ) -> (i32, i32) {
        let spec = pdb.spec.clone().unwrap_or_default();
        let scale = |ctx: &mut Ctx, recorder: &mut Recorder| {
            let mut seen = BTreeSet::new();
            let mut total = 0;
            let mut unmanaged = false;
            for pod in pods {
                match controller_scale(ctx, pod) {
                    Some((uid, replicas)) => {
                        if seen.insert(uid) {
                            total += replicas;
                        }
                    }
                    None => unmanaged = true,
                }
            }
            if unmanaged {
                let message = format!(
                    "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                    spec.selector
                        .as_ref()
                        .and_then(|s| LabelSelector::of(s).ok())
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                );
                recorder.event(
                    ctx,
                    &ObjectRef::of(pdb),
                    "Warning",
                    "UnmanagedPods",
                    &message,
                );
            }
            total
        };
        match (&spec.max_unavailable, &spec.min_available) {
            (Some(max_unavailable), _) => {
                let expected = scale(ctx, &mut self.recorder);
                let unavailable = scaled_value(Some(max_unavailable), expected, true);
                (expected, (expected - unavailable).max(0))
            }
            (None, Some(IntOrString::Int(min))) => (pods.len() as i32, *min),
            (None, Some(min)) => {
                let expected = scale(ctx, &mut self.recorder);
                (expected, scaled_value(Some(min), expected, true))
            }
            (None, None) => (pods.len() as i32, 0),
        }
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(pdb) = self.budgets.get(key).cloned() else {
            return;
        };
        let namespace = pdb.metadata.namespace.clone().unwrap_or_default();
        let Ok(selector) = pdb
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .map_or(Ok(LabelSelector::default()), LabelSelector::of)
        else {
            return;
        };
        let selected: Vec<Arc<Pod>> = self
            .pods
            .shared_in_namespace(&namespace)
            .filter(|p| !selector.is_empty() && selector.matches_map(p.metadata.labels.as_ref()))
            .cloned()
            .collect();
        let pods: Vec<&Pod> = selected.iter().map(|p| &**p).collect();
        if pods.is_empty() {
            self.recorder.event(
                ctx,
                &ObjectRef::of(&pdb),
                "Normal",
                "NoPods",
                "No matching pods found",
            );
        }
        let (expected, desired) = self.expected_counts(&pdb, &pods, ctx);
        let now = ctx.unix_millis();
        let previous = pdb.status.clone().unwrap_or_default();
        let mut disrupted: BTreeMap<String, Time> = BTreeMap::new();
        let mut recheck: Option<i64> = None;
        for (name, at) in previous.disrupted_pods.clone().unwrap_or_default() {
            let present = pods
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some(name.as_str()) && !is_terminating(p));
            let expires = at.0.as_millisecond() + DELETION_TIMEOUT_MS;
            if present && expires > now {
                recheck = Some(recheck.map_or(expires, |r| r.min(expires)));
                disrupted.insert(name, at);
            }
        }
        let healthy = pods
            .iter()
            .filter(|p| !is_terminating(p))
            .filter(|p| !disrupted.contains_key(p.metadata.name.as_deref().unwrap_or("")))
            .filter(|p| is_ready(p))
            .count() as i32;
        let mut allowed = healthy - desired;
        if expected <= 0 || allowed <= 0 {
            allowed = 0;
        }
        let status = PodDisruptionBudgetStatus {
            current_healthy: healthy,
            desired_healthy: desired,
            expected_pods: expected,
            disruptions_allowed: allowed,
            disrupted_pods: (!disrupted.is_empty()).then_some(disrupted),
            observed_generation: pdb.metadata.generation,
            conditions: Some(disruption_condition(
                previous.conditions.as_ref(),
                allowed > 0,
                pdb.metadata.generation,
                ctx.time(),
            )),
        };
        if let Some(at) = recheck {
            self.queue.add_after(key, (at - now).max(0) as u64 + 1, ctx);
        }
        if pdb.status.as_ref() == Some(&status) {
            return;
        }
        let mut updated = pdb;
        updated.status = Some(status);
        let body = serde_json::to_string(&updated).unwrap_or_default();
        let response = ctx.call(Request::put(format!("{}/status", budget_path(key)), body));
        if response.status == 409 {
            self.queue.add_rate_limited(key, ctx);
        }
    }
}

impl Component for DisruptionController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        for delta in self.budgets.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
        self.ensure_pods_watched(ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.budgets.owns(watch) {
            for delta in self.budgets.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
            self.ensure_pods_watched(ctx);
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                let mut keys = Vec::new();
                if let Some(pod) = self.pods.get(&delta.key) {
                    keys.extend(self.budgets_for(pod));
                }
                if let Some(old) = &delta.old {
                    keys.extend(self.budgets_for(old));
                }
                for key in keys {
                    self.queue.add(&key, ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            self.sync(&item, ctx);
        }
    }
}
