//! The Job controller, as upstream's: it runs up to `parallelism` pods until
//! `completions` succeed (for `completionMode: Indexed`, one pod per completion
//! index until every index has succeeded: pods carry their index in an annotation,
//! a label, their hostname and `JOB_COMPLETION_INDEX`, and the status lists
//! `completedIndexes`), recreates failed pods with
//! upstream's back-off (10 s doubling, at most 10 minutes) — with
//! `podReplacementPolicy: Failed`, only once a terminating pod has failed — fails the Job when
//! failures pass `backoffLimit` or `activeDeadlineSeconds` runs out, and tracks
//! finished pods with the `batch.kubernetes.io/job-tracking` finalizer so each
//! is counted once. Status: active, ready, terminating, succeeded, failed,
//! startTime, completionTime and the SuccessCriteriaMet/Complete or
//! FailureTarget/Failed conditions.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use super::completion_index::{self, index_of, COMPLETION_INDEX, COMPLETION_INDEX_ENV};
use super::expectations::Expectations;
use super::owners::{controller_of, controller_ref};
use super::pod_control::{create_pod, slow_start_batch};
use super::pod_failure_policy::{decide, Action};
use super::pod_state::{is_ready, is_terminating, phase};
use super::sync_result::{SyncFailed, SyncResult};
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{pod_path, Informer, ObjectRef, Recorder, WorkQueue};
use crate::controllers::annotations::numeric_annotation;
use crate::sim::clock::doubled;
use crate::sim::{Component, Ctx};

/// The trace and event source name.
pub const NAME: &str = "job-controller";
/// The finalizer that keeps a Job's pod until the Job has counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// The first delay before a failed pod is replaced.
pub const BACKOFF_INITIAL_MS: u64 = 10_000;
/// The longest delay before a failed pod is replaced (upstream's
/// `MaxJobPodFailureBackOff`, 10 minutes).
pub const BACKOFF_MAX_MS: u64 = 600_000;
/// The first retry delay of a Job whose sync the API refused (upstream's `DefaultJobApiBackOff`).
const API_BACKOFF_MS: u64 = 1_000;
/// The longest one (upstream's `MaxJobApiBackOff`).
const API_BACKOFF_MAX_MS: u64 = 60_000;
/// The most pods one sync creates (upstream's `MaxPodCreateDeletePerSync`).
const MAX_POD_CREATE_PER_SYNC: usize = 500;

/// Runs Jobs to completion.
pub struct JobController {
    recorder: Recorder,
    jobs: Informer<Job>,
    pods: Informer<Pod>,
    queue: WorkQueue,
    expectations: Expectations,
    /// UIDs of finished pods already counted in a Job's status whose tracking
    /// finalizer removal has not been observed yet (so none is counted twice).
    counted: BTreeSet<String>,
    /// Job uid → its counts as last written: the controller is the only writer of
    /// these, so its tally is ahead of a stale cache.
    tally: BTreeMap<String, Tally>,
    /// Jobs this controller has finished (their condition may not be cached yet).
    done: BTreeSet<String>,
}

impl Default for JobController {
    fn default() -> Self {
        JobController {
            recorder: Recorder::new(NAME, None),
            jobs: Informer::new("/apis/batch/v1/jobs"),
            pods: Informer::new("/api/v1/pods"),
            queue: WorkQueue::new(0).with_backoff(API_BACKOFF_MS, API_BACKOFF_MAX_MS),
            expectations: Expectations::default(),
            counted: BTreeSet::new(),
            tally: BTreeMap::new(),
            done: BTreeSet::new(),
        }
    }
}

/// What a Job's status counts: succeeded and failed pods, and (Indexed) the
/// completed indexes.
#[derive(Clone, Default)]
struct Tally {
    succeeded: i32,
    failed: i32,
    completed: BTreeSet<i32>,
    /// Indexes past `backoffLimitPerIndex`, and each index's failures so far.
    failed_indexes: BTreeSet<i32>,
    index_failures: BTreeMap<i32, i32>,
}

impl Tally {
    /// Whether index `i` needs no more pods: it completed, or it failed for good.
    fn index_done(&self, i: i32) -> bool {
        self.completed.contains(&i) || self.failed_indexes.contains(&i)
    }
}

/// The annotation carrying how often a pod's index failed before it.
pub const INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";

/// The pod template made for completion index `index` (upstream's
/// `addCompletionIndexAnnotation`, label, hostname and environment variable).
fn indexed_template(job_name: &str, template: &Value, index: i32) -> Value {
    let mut pod = template.clone();
    let text = index.to_string();
    pod["metadata"]["generateName"] = json!(format!("{job_name}-{index}-"));
    for map in ["labels", "annotations"] {
        if !pod["metadata"][map].is_object() {
            pod["metadata"][map] = json!({});
        }
        pod["metadata"][map][COMPLETION_INDEX] = json!(text);
    }
    if pod["spec"]["hostname"].as_str().is_none_or(str::is_empty) {
        pod["spec"]["hostname"] = json!(format!("{job_name}-{index}"));
    }
    let env = json!({"name": COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": {
        "fieldPath": format!("metadata.labels['{COMPLETION_INDEX}']")}}});
    for list in ["initContainers", "containers"] {
        for container in pod["spec"][list].as_array_mut().into_iter().flatten() {
            let vars = container["env"].as_array().cloned().unwrap_or_default();
            if !vars.iter().any(|v| v["name"] == COMPLETION_INDEX_ENV) {
                let mut vars = vars;
                vars.push(env.clone());
                container["env"] = Value::Array(vars);
            }
        }
    }
    pod
}

/// How a finished Job ended: the conditions it gets (each with status True), their
/// reason and message.
struct Outcome {
    conditions: [&'static str; 2],
    reason: &'static str,
    message: Cow<'static, str>,
}

/// A failure: the FailureTarget and Failed conditions with `reason` and `message`.
const fn failure(reason: &'static str, message: Cow<'static, str>) -> Outcome {
    Outcome {
        conditions: ["FailureTarget", "Failed"],
        reason,
        message,
    }
}

const COMPLETED: Outcome = Outcome {
    conditions: ["SuccessCriteriaMet", "Complete"],
    reason: "CompletionsReached",
    message: Cow::Borrowed("Reached expected number of succeeded pods"),
};
const BACKOFF_LIMIT: Outcome = failure(
    "BackoffLimitExceeded",
    Cow::Borrowed("Job has reached the specified backoff limit"),
);
const FAILED_INDEXES: Outcome = failure("FailedIndexes", Cow::Borrowed("Job has failed indexes"));
const MAX_FAILED_INDEXES: Outcome = failure(
    "MaxFailedIndexesExceeded",
    Cow::Borrowed("Job has exceeded the specified maximal number of failed indexes"),
);
const DEADLINE: Outcome = failure(
    "DeadlineExceeded",
    Cow::Borrowed("Job was active longer than specified deadline"),
);

fn job_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
}

fn finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        })
}

fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == TRACKING_FINALIZER)
}

/// The delay before replacing a pod after `failures` failures.
fn backoff_ms(failures: i32) -> u64 {
    if failures <= 0 {
        return 0;
    }
    doubled(BACKOFF_INITIAL_MS, (failures - 1) as u32, BACKOFF_MAX_MS)
}

impl JobController {
    /// Pods whose controller is the Job.
    fn pods_of(&self, job: &Job) -> Vec<Arc<Pod>> {
        let namespace = job.metadata.namespace.as_deref().unwrap_or("");
        let uid = job.metadata.uid.as_deref().unwrap_or("");
        self.pods
            .shared_in_namespace(namespace)
            .filter(|p| controller_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .cloned()
            .collect()
    }

    fn remove_finalizer(&self, pod: &Pod, ctx: &mut Ctx) {
        let patch = json!({"metadata": {
            "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER],
        }});
        ctx.call(Request::patch(
            pod_path(&key_of(&pod.metadata)),
            "application/strategic-merge-patch+json",
            patch.to_string(),
        ));
    }

    /// Creates one pod per entry (at most 500, in slow-start batches): for its
    /// completion index, or plain (`None`); with `backoffLimitPerIndex`, each pod
    /// carries its index's failures so far. `Err` when the API refused one.
    fn create_pods(
        &mut self,
        key: &str,
        job: &Job,
        indexes: &[Option<i32>],
        index_failures: Option<&BTreeMap<i32, i32>>,
        ctx: &mut Ctx,
    ) -> SyncResult {
        let indexes = &indexes[..indexes.len().min(MAX_POD_CREATE_PER_SYNC)];
        self.expectations
            .expect_creations(key, indexes.len(), ctx.now().millis());
        let spec = job.spec.clone().unwrap_or_default();
        let template = spec.template;
        let meta = template.metadata.unwrap_or_default();
        let mut finalizers = meta.finalizers.unwrap_or_default();
        finalizers.push(TRACKING_FINALIZER.into());
        let namespace = job.metadata.namespace.clone().unwrap_or_default();
        let body = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": format!("{}-", job.metadata.name.as_deref().unwrap_or("")),
                "namespace": namespace,
                "labels": meta.labels,
                "annotations": meta.annotations,
                "finalizers": finalizers,
                "ownerReferences": [controller_ref("batch/v1", "Job", &job.metadata)],
            },
            "spec": template.spec,
        });
        let about = ObjectRef::of(job);
        let job_name = job.metadata.name.as_deref().unwrap_or("");
        let path = format!("/api/v1/namespaces/{namespace}/pods");
        let recorder = &mut self.recorder;
        let (created, failure) = slow_start_batch(indexes.len(), |n| {
            let pod = match indexes[n] {
                Some(i) => {
                    let mut pod = indexed_template(job_name, &body, i);
                    if let Some(failures) = index_failures {
                        let count = failures.get(&i).copied().unwrap_or(0);
                        pod["metadata"]["annotations"][INDEX_FAILURE_COUNT] =
                            json!(count.to_string());
                    }
                    pod
                }
                None => body.clone(),
            };
            create_pod(ctx, recorder, &about, &path, pod.to_string())
        });
        self.expectations
            .lower_creations(key, indexes.len() - created);
        match failure {
            Some(_) => Err(SyncFailed),
            None => Ok(()),
        }
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(job) = self.jobs.get(key).cloned() else {
            return;
        };
        let pods = self.pods_of(&job);
        let job_uid = job.metadata.uid.clone().unwrap_or_default();
        if finished(&job) || self.done.contains(&job_uid) {
            for pod in pods.iter().filter(|p| has_tracking_finalizer(p)) {
                self.remove_finalizer(pod, ctx);
            }
            return;
        }
        let spec = job.spec.clone().unwrap_or_default();
        let status = job.status.clone().unwrap_or_default();
        let now_ms = ctx.unix_millis();
        let now = ctx.timestamp();
        let on_failure = spec
            .template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            == Some("OnFailure");
        let (mut newly_succeeded, mut newly_failed) = (Vec::new(), Vec::new());
        let (mut active, mut ready, mut terminating, mut restarts) = (Vec::new(), 0, 0, 0);
        let uncounted = |pod: &Pod| {
            has_tracking_finalizer(pod)
                && !self
                    .counted
                    .contains(pod.metadata.uid.as_deref().unwrap_or(""))
        };
        for pod in &pods {
            match phase(pod) {
                "Succeeded" if uncounted(pod) => newly_succeeded.push(pod.clone()),
                "Failed" if uncounted(pod) => newly_failed.push(pod.clone()),
                "Succeeded" | "Failed" => {}
                _ if is_terminating(pod) => {
                    terminating += 1;
                    if uncounted(pod) {
                        newly_failed.push(pod.clone());
                    }
                }
                _ => {
                    ready += i32::from(is_ready(pod));
                    if on_failure {
                        restarts += pod
                            .status
                            .iter()
                            .flat_map(|s| s.container_statuses.iter().flatten())
                            .map(|c| c.restart_count)
                            .sum::<i32>();
                    }
                    active.push(pod.clone());
                }
            }
        }
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let completions_count = spec.completions.unwrap_or(0);
        let mut tally = self
            .tally
            .entry(job_uid.clone())
            .or_insert_with(|| Tally {
                succeeded: status.succeeded.unwrap_or(0),
                failed: status.failed.unwrap_or(0),
                completed: completion_index::parse(
                    status.completed_indexes.as_deref().unwrap_or(""),
                    completions_count,
                ),
                failed_indexes: completion_index::parse(
                    status.failed_indexes.as_deref().unwrap_or(""),
                    completions_count,
                ),
                index_failures: BTreeMap::new(),
            })
            .clone();
        // The pod failure policy decides what each failure means.
        let decisions: Vec<Option<Action>> = newly_failed
            .iter()
            .map(|pod| {
                spec.pod_failure_policy
                    .as_ref()
                    .and_then(|policy| decide(policy, pod))
            })
            .collect();
        let fail_job = decisions.iter().find_map(|d| match d {
            Some(Action::FailJob(message)) => Some(message.clone()),
            _ => None,
        });
        let ignored = decisions
            .iter()
            .filter(|d| **d == Some(Action::Ignore))
            .count();
        tally.failed += (newly_failed.len() - ignored) as i32;
        for (pod, decision) in newly_failed.iter().zip(&decisions) {
            if *decision == Some(Action::FailIndex) && indexed {
                tally
                    .failed_indexes
                    .extend(index_of(pod, completions_count));
            }
        }
        let per_index_limit = spec.backoff_limit_per_index.filter(|_| indexed);
        if let Some(limit) = per_index_limit {
            let counted = newly_failed
                .iter()
                .zip(&decisions)
                .filter(|(_, d)| **d != Some(Action::Ignore))
                .map(|(pod, _)| pod);
            for pod in counted {
                let Some(index) = index_of(pod, completions_count) else {
                    continue;
                };
                let before = index_failure_count(pod);
                let failures = tally.index_failures.entry(index).or_insert(0);
                *failures = (*failures).max(before + 1);
                if *failures > limit {
                    tally.failed_indexes.insert(index);
                }
            }
        }
        if indexed {
            tally.completed.extend(
                newly_succeeded
                    .iter()
                    .filter_map(|p| index_of(p, completions_count)),
            );
            tally.succeeded = tally.completed.len() as i32;
        } else {
            tally.succeeded += newly_succeeded.len() as i32;
        }
        let (succeeded, failed) = (tally.succeeded, tally.failed);
        // Indexed: one active pod per index not yet completed; the rest go.
        let mut redundant = Vec::new();
        if indexed {
            let mut seen = BTreeSet::new();
            active.retain(|pod| {
                let keep = index_of(pod, completions_count)
                    .is_some_and(|i| !tally.index_done(i) && seen.insert(i));
                if !keep {
                    redundant.push(key_of(&pod.metadata));
                }
                keep
            });
        }
        let start_ms = status
            .start_time
            .as_ref()
            .map_or(now_ms, |t| t.0.as_millisecond());
        let completions = spec.completions;
        let parallelism = spec.parallelism.unwrap_or(1);
        let failed_indexes = tally.failed_indexes.len() as i32;
        let outcome = if let Some(message) = fail_job {
            Some(failure("PodFailurePolicy", Cow::Owned(message)))
        } else if failed + restarts > spec.backoff_limit.unwrap_or(6) {
            Some(BACKOFF_LIMIT)
        } else if spec
            .max_failed_indexes
            .is_some_and(|max| failed_indexes > max)
        {
            Some(MAX_FAILED_INDEXES)
        } else if failed_indexes > 0 && succeeded + failed_indexes >= completions_count {
            Some(FAILED_INDEXES)
        } else if spec
            .active_deadline_seconds
            .is_some_and(|d| now_ms - start_ms >= d * 1000)
        {
            Some(DEADLINE)
        } else {
            match completions {
                Some(c) if succeeded >= c => Some(COMPLETED),
                None if succeeded > 0 && active.is_empty() => Some(COMPLETED),
                _ => None,
            }
        };
        let mut body = serde_json::to_value(&job).unwrap_or_default();
        let about = ObjectRef::of(&job);
        let mut synced = Ok(());
        if let Some(outcome) = &outcome {
            for pod in &active {
                ctx.call(Request::delete(pod_path(&key_of(&pod.metadata))));
            }
            if outcome.conditions[1] == "Complete" {
                body["status"]["completionTime"] = json!(now);
            }
            let mut conditions = status
                .conditions
                .as_ref()
                .map(|c| serde_json::to_value(c).unwrap_or_default())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default();
            for kind in outcome.conditions {
                conditions.push(json!({
                    "type": kind, "status": "True",
                    "lastProbeTime": now, "lastTransitionTime": now,
                    "reason": outcome.reason, "message": outcome.message,
                }));
            }
            body["status"]["conditions"] = Value::Array(conditions);
        } else if self.expectations.satisfied(key, ctx.now().millis()) {
            // Without completions, once a pod has succeeded the running ones are left
            // to finish and none are added.
            let want = match completions {
                Some(c) => (c - succeeded - failed_indexes).min(parallelism),
                None if succeeded > 0 => active.len() as i32,
                None => parallelism,
            }
            .max(0) as usize;
            // With `podReplacementPolicy: Failed` (implied by a podFailurePolicy),
            // a terminating pod is replaced only once it has failed.
            let only_replace_failed = spec.pod_replacement_policy.as_deref() == Some("Failed")
                || spec.pod_failure_policy.is_some();
            let still_terminating = if only_replace_failed { terminating } else { 0 };
            if !redundant.is_empty() {
                self.expectations
                    .expect_deletions(key, &redundant, ctx.now().millis());
                for pod in &redundant {
                    ctx.call(Request::delete(pod_path(pod)));
                }
            }
            if active.len() + still_terminating < want {
                let count = want - active.len() - still_terminating;
                let indexes: Vec<Option<i32>> = if indexed {
                    let busy: BTreeSet<i32> = active
                        .iter()
                        .filter_map(|p| index_of(p, completions_count))
                        .collect();
                    (0..completions_count)
                        .filter(|i| !tally.index_done(*i) && !busy.contains(i))
                        .take(count)
                        .map(Some)
                        .collect()
                } else {
                    vec![None; count]
                };
                // With per-index limits each index waits out its own back-off: those
                // past it start now, else the sync comes back for the first that ends.
                let (indexes, wait) = match per_index_limit {
                    Some(_) => {
                        let waits: Vec<(Option<i32>, u64)> = indexes
                            .into_iter()
                            .map(|i| {
                                let wait = i.map_or(0, |i| {
                                    index_wait_ms(&pods, i, completions_count, now_ms)
                                });
                                (i, wait)
                            })
                            .collect();
                        let now: Vec<Option<i32>> = waits
                            .iter()
                            .filter(|(_, wait)| *wait == 0)
                            .map(|(i, _)| *i)
                            .collect();
                        let soonest = waits.iter().map(|(_, wait)| *wait).min().unwrap_or(0);
                        (now, soonest)
                    }
                    // After failures, replacements wait out the back-off since the last one.
                    None => {
                        let since = self.since_last_failure(&pods, now_ms);
                        (indexes, backoff_ms(failed).saturating_sub(since))
                    }
                };
                if wait == 0 {
                    let failures = per_index_limit.map(|_| &tally.index_failures);
                    synced = self.create_pods(key, &job, &indexes, failures, ctx);
                } else {
                    self.queue.add_after(key, wait, ctx);
                }
            } else if active.len() > want {
                let surplus: Vec<String> = active
                    .iter()
                    .skip(want)
                    .map(|p| key_of(&p.metadata))
                    .collect();
                self.expectations
                    .expect_deletions(key, &surplus, ctx.now().millis());
                for pod in &surplus {
                    ctx.call(Request::delete(pod_path(pod)));
                }
            }
            if let Some(deadline) = spec.active_deadline_seconds {
                let left = (start_ms + deadline * 1000 - now_ms).max(1) as u64;
                self.queue.add_after(key, left, ctx);
            }
        }
        if status.start_time.is_none() {
            body["status"]["startTime"] = json!(now);
        }
        body["status"]["active"] = json!(active.len());
        body["status"]["ready"] = json!(ready);
        body["status"]["terminating"] = json!(terminating);
        body["status"]["succeeded"] = json!(succeeded);
        body["status"]["failed"] = json!(failed);
        body["status"]["uncountedTerminatedPods"] = json!({});
        if indexed && !tally.completed.is_empty() {
            body["status"]["completedIndexes"] = json!(completion_index::format(&tally.completed));
        }
        if per_index_limit.is_some() {
            body["status"]["failedIndexes"] =
                json!(completion_index::format(&tally.failed_indexes));
        }
        for field in ["active", "succeeded", "failed"] {
            if body["status"][field] == 0 {
                body["status"].as_object_mut().map(|s| s.remove(field));
            }
        }
        if serde_json::to_value(&job).unwrap_or_default()["status"] != body["status"] {
            let response = ctx.call(Request::put(
                format!("{}/status", job_path(key)),
                body.to_string(),
            ));
            if response.status != 200 {
                self.queue.add_rate_limited(key, ctx);
                return;
            }
        }
        self.queue.finish(key, synced.is_err(), ctx);
        if let Some(outcome) = &outcome {
            self.done.insert(job_uid.clone());
            let (kind, reason, message) = if outcome.conditions[1] == "Failed" {
                ("Warning", outcome.reason, outcome.message.as_ref())
            } else {
                ("Normal", "Completed", "Job completed")
            };
            self.recorder.event(ctx, &about, kind, reason, message);
        }
        self.tally.insert(job_uid, tally);
        for pod in newly_succeeded.iter().chain(&newly_failed) {
            self.counted
                .insert(pod.metadata.uid.clone().unwrap_or_default());
            self.remove_finalizer(pod, ctx);
        }
    }

    /// Milliseconds since the most recent pod failure (a large number if none).
    fn since_last_failure(&self, pods: &[Arc<Pod>], now_ms: i64) -> u64 {
        pods.iter()
            .filter(|p| phase(p) == "Failed")
            .filter_map(|p| finished_ms(p))
            .max()
            .map_or(u64::MAX, |last| (now_ms - last).max(0) as u64)
    }
}

/// When the pod's containers last finished, in Unix milliseconds.
fn finished_ms(pod: &Pod) -> Option<i64> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(|t| t.0.as_millisecond())
        .max()
}

/// The failures of its index before `pod` (its `job-index-failure-count` annotation).
fn index_failure_count(pod: &Pod) -> i32 {
    numeric_annotation(&pod.metadata, INDEX_FAILURE_COUNT)
}

/// With `backoffLimitPerIndex`, how long `index` still waits before a replacement,
/// as upstream's `getRemainingTimePerIndex`: the back-off for its failures so far
/// (its last failed pod's count plus that failure), counted from when that pod finished.
fn index_wait_ms(pods: &[Arc<Pod>], index: i32, completions: i32, now_ms: i64) -> u64 {
    let last_failed = pods
        .iter()
        .filter(|p| phase(p) == "Failed" && index_of(p, completions) == Some(index))
        .filter_map(|p| Some((finished_ms(p)?, p)))
        .max_by_key(|(finished, _)| *finished);
    let Some((finished, pod)) = last_failed else {
        return 0;
    };
    backoff_ms(index_failure_count(pod) + 1).saturating_sub((now_ms - finished).max(0) as u64)
}

impl Component for JobController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.pods.start(ctx);
        for delta in self.jobs.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.jobs.owns(watch) {
            for delta in self.jobs.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                let namespace = delta.key.split('/').next().unwrap_or("").to_string();
                let current = self.pods.get(&delta.key).map(|p| p.metadata.clone());
                let tracked = current.as_ref().is_some_and(|m| {
                    m.finalizers
                        .iter()
                        .flatten()
                        .any(|f| f == TRACKING_FINALIZER)
                });
                if !tracked {
                    let gone = current.as_ref().or(delta.old.as_ref().map(|p| &p.metadata));
                    if let Some(uid) = gone.and_then(|m| m.uid.as_deref()) {
                        self.counted.remove(uid);
                    }
                }
                let owner = current
                    .as_ref()
                    .or(delta.old.as_ref().map(|p| &p.metadata))
                    .and_then(controller_of)
                    .filter(|r| r.kind == "Job")
                    .map(|r| format!("{namespace}/{}", r.name));
                if let Some(key) = owner {
                    match (&delta.old, &current) {
                        (None, Some(_)) => self.expectations.creation_observed(&key),
                        (Some(_), None) => self.expectations.deletion_observed(&key, &delta.key),
                        (_, Some(meta)) if meta.deletion_timestamp.is_some() => {
                            self.expectations.deletion_observed(&key, &delta.key)
                        }
                        _ => {}
                    }
                    self.queue.add(&key, ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for job in self.queue.on_timer(key, ctx) {
            self.sync(&job, ctx);
        }
    }
}
