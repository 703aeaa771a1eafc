//! The CronJob controller, as upstream's (v2): on each scheduled time of the
//! virtual clock it creates the Job `<cronjob>-<scheduled minute>` from the
//! template, honouring `suspend`, `startingDeadlineSeconds` and
//! `concurrencyPolicy` (Allow, Forbid, Replace); it keeps `status.active`,
//! `lastScheduleTime` and `lastSuccessfulTime`, and deletes finished Jobs beyond
//! the history limits. Waiting for the next time never keeps the cluster busy.

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use serde_json::{json, Value};

use super::cron::Schedule;
use super::owners::{controller_of, controller_ref};
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{Informer, ObjectRef, Recorder, WorkQueue};
use crate::sim::clock::{rfc1123z, rfc3339_seconds as rfc3339};
use crate::sim::{Component, Ctx};

/// The trace and event source name.
pub const NAME: &str = "cronjob-controller";
/// The annotation with the time a Job was scheduled for.
pub const SCHEDULED_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// More missed start times than this are reported instead of caught up.
const MAX_MISSED: usize = 100;

/// Starts Jobs on schedule.
pub struct CronJobController {
    recorder: Recorder,
    cronjobs: Informer<CronJob>,
    jobs: Informer<Job>,
    queue: WorkQueue,
    /// UIDs of finished Jobs already reported (the cached status may lag).
    reported: BTreeSet<String>,
}

impl Default for CronJobController {
    fn default() -> Self {
        CronJobController {
            recorder: Recorder::new(NAME, None),
            cronjobs: Informer::new("/apis/batch/v1/cronjobs"),
            jobs: Informer::new("/apis/batch/v1/jobs"),
            queue: WorkQueue::new(0),
            reported: BTreeSet::new(),
        }
    }
}

/// `Complete` or `Failed` once the Job has finished.
fn finished_as(job: &Job) -> Option<String> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| c.type_.clone())
}

impl CronJobController {
    fn jobs_of(&self, cronjob: &CronJob) -> Vec<Job> {
        let namespace = cronjob.metadata.namespace.as_deref().unwrap_or("");
        let uid = cronjob.metadata.uid.as_deref().unwrap_or("");
        self.jobs
            .in_namespace(namespace)
            .filter(|j| controller_of(&j.metadata).is_some_and(|r| r.uid == uid))
            .cloned()
            .collect()
    }

    fn delete_job(&mut self, cronjob: &CronJob, job: &Job, ctx: &mut Ctx) {
        let name = job.metadata.name.clone().unwrap_or_default();
        let namespace = job.metadata.namespace.clone().unwrap_or_default();
        let response = ctx.call(
            Request::delete(format!("/apis/batch/v1/namespaces/{namespace}/jobs/{name}"))
                .with_query("propagationPolicy", "Background"),
        );
        if response.is_success() {
            self.recorder.event(
                ctx,
                &ObjectRef::of(cronjob),
                "Normal",
                "SuccessfulDelete",
                &format!("Deleted job {name}"),
            );
        }
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(cronjob) = self.cronjobs.get(key).cloned() else {
            return;
        };
        let about = ObjectRef::of(&cronjob);
        let spec = cronjob.spec.clone().unwrap_or_default();
        let mut status = serde_json::to_value(&cronjob.status).unwrap_or(json!({}));
        if status.is_null() {
            status = json!({});
        }
        let jobs = self.jobs_of(&cronjob);
        // Active Jobs: running ones we own; finished ones are reported once.
        let previously_active: Vec<String> = status["active"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str().map(String::from))
            .collect();
        let mut active = Vec::new();
        for job in &jobs {
            let name = job.metadata.name.clone().unwrap_or_default();
            match finished_as(job) {
                None => active.push(job.clone()),
                Some(condition)
                    if previously_active.contains(&name)
                        && self
                            .reported
                            .insert(job.metadata.uid.clone().unwrap_or_default()) =>
                {
                    self.recorder.event(
                        ctx,
                        &about,
                        "Normal",
                        "SawCompletedJob",
                        &format!("Saw completed job: {name}, condition: {condition}"),
                    );
                    if condition == "Complete" {
                        let done = job
                            .status
                            .as_ref()
                            .and_then(|s| s.completion_time.as_ref())
                            .map(|t| t.0.as_second())
                            .unwrap_or(ctx.unix_millis() / 1000);
                        status["lastSuccessfulTime"] = json!(rfc3339(done));
                    }
                }
                Some(_) => {}
            }
        }
        let now = ctx.unix_millis().div_euclid(1000);
        let mut created = None;
        if cronjob.metadata.deletion_timestamp.is_none() && !spec.suspend.unwrap_or(false) {
            match Schedule::parse(&spec.schedule) {
                Err(e) => {
                    let message = format!("invalid schedule: {} : {e}", spec.schedule);
                    self.recorder
                        .event(ctx, &about, "Warning", "InvalidSchedule", &message);
                }
                Ok(schedule) => {
                    created = self.run_due(&cronjob, &schedule, &mut active, &status, now, ctx);
                    if let Some(next) = schedule.next_after(now) {
                        let delay = ((next - now) * 1000 + 100) as u64;
                        self.queue.check_after(key, delay, ctx);
                    }
                }
            }
        }
        if let Some((scheduled, job)) = created {
            status["lastScheduleTime"] = json!(rfc3339(scheduled));
            active.push(job);
        }
        status["active"] = Value::Array(
            active
                .iter()
                .map(|j| {
                    json!({
                        "apiVersion": "batch/v1", "kind": "Job",
                        "name": j.metadata.name, "namespace": j.metadata.namespace,
                        "uid": j.metadata.uid, "resourceVersion": j.metadata.resource_version,
                    })
                })
                .collect(),
        );
        if status["active"].as_array().is_some_and(Vec::is_empty) {
            status.as_object_mut().map(|s| s.remove("active"));
        }
        if serde_json::to_value(&cronjob.status).unwrap_or(json!({})) != status {
            let mut body = serde_json::to_value(&cronjob).unwrap_or_default();
            body["status"] = status;
            let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
            ctx.call(Request::put(
                format!("/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}/status"),
                body.to_string(),
            ));
        }
        self.clean_history(&cronjob, &jobs, ctx);
    }

    /// Creates the Job for the most recent unmet scheduled time, if it is due;
    /// returns (scheduled time, Job).
    fn run_due(
        &mut self,
        cronjob: &CronJob,
        schedule: &Schedule,
        active: &mut Vec<Job>,
        status: &Value,
        now: i64,
        ctx: &mut Ctx,
    ) -> Option<(i64, Job)> {
        let spec = cronjob.spec.clone().unwrap_or_default();
        let about = ObjectRef::of(cronjob);
        let since = status["lastScheduleTime"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .or_else(|| cronjob.metadata.creation_timestamp.as_ref().map(|t| t.0))
            .map_or(now, |t| t.as_second());
        let mut missed = Vec::new();
        let mut t = since;
        while let Some(next) = schedule.next_after(t).filter(|n| *n <= now) {
            missed.push(next);
            t = next;
            if missed.len() > MAX_MISSED {
                break;
            }
        }
        let scheduled = *missed.last()?;
        if missed.len() > MAX_MISSED {
            self.recorder.event(
                ctx,
                &about,
                "Warning",
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            );
        }
        if spec
            .starting_deadline_seconds
            .is_some_and(|d| scheduled + d < now)
        {
            let message = format!(
                "Missed scheduled time to start a job: {}",
                rfc1123z(scheduled)
            );
            self.recorder
                .event(ctx, &about, "Warning", "MissSchedule", &message);
            return None;
        }
        match spec.concurrency_policy.as_deref().unwrap_or("Allow") {
            "Forbid" if !active.is_empty() => return None,
            "Replace" => {
                ctx.become_foreground();
                for job in std::mem::take(active) {
                    self.delete_job(cronjob, &job, ctx);
                }
            }
            _ => {}
        }
        ctx.become_foreground();
        let template = spec.job_template;
        let meta = template.metadata.unwrap_or_default();
        let mut annotations = meta.annotations.unwrap_or_default();
        annotations.insert(SCHEDULED_ANNOTATION.into(), rfc3339(scheduled));
        let name = format!(
            "{}-{}",
            cronjob.metadata.name.as_deref().unwrap_or(""),
            scheduled / 60
        );
        let namespace = cronjob.metadata.namespace.clone().unwrap_or_default();
        let job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {
                "name": name, "namespace": namespace,
                "labels": meta.labels, "annotations": annotations,
                "ownerReferences": [controller_ref("batch/v1", "CronJob", &cronjob.metadata)],
            },
            "spec": template.spec,
        });
        let response = ctx.call(Request::post(
            format!("/apis/batch/v1/namespaces/{namespace}/jobs"),
            job.to_string(),
        ));
        if response.status != 201 {
            return None;
        }
        self.recorder.event(
            ctx,
            &about,
            "Normal",
            "SuccessfulCreate",
            &format!("Created job {name}"),
        );
        let job: Job = serde_json::from_str(response.body_text()).ok()?;
        Some((scheduled, job))
    }

    /// Deletes the oldest finished Jobs beyond the history limits.
    fn clean_history(&mut self, cronjob: &CronJob, jobs: &[Job], ctx: &mut Ctx) {
        let spec = cronjob.spec.clone().unwrap_or_default();
        for (condition, limit) in [
            ("Complete", spec.successful_jobs_history_limit.unwrap_or(3)),
            ("Failed", spec.failed_jobs_history_limit.unwrap_or(1)),
        ] {
            let mut finished: Vec<&Job> = jobs
                .iter()
                .filter(|j| finished_as(j).as_deref() == Some(condition))
                .filter(|j| j.metadata.deletion_timestamp.is_none())
                .collect();
            finished.sort_by_key(|j| {
                (
                    j.status
                        .as_ref()
                        .and_then(|s| s.start_time.as_ref())
                        .map(|t| t.0),
                    key_of(&j.metadata),
                )
            });
            let excess = finished.len().saturating_sub(limit.max(0) as usize);
            for job in finished.into_iter().take(excess) {
                self.delete_job(cronjob, job, ctx);
            }
        }
    }
}

impl Component for CronJobController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.jobs.start(ctx);
        for delta in self.cronjobs.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.cronjobs.owns(watch) {
            for delta in self.cronjobs.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
        } else if self.jobs.owns(watch) {
            for delta in self.jobs.handle(event, ctx) {
                let namespace = delta.key.split('/').next().unwrap_or("").to_string();
                if self.jobs.get(&delta.key).is_none() {
                    if let Some(uid) = delta.old.as_ref().and_then(|j| j.metadata.uid.as_ref()) {
                        self.reported.remove(uid);
                    }
                }
                let owner = self
                    .jobs
                    .get(&delta.key)
                    .map(|j| j.metadata.clone())
                    .or(delta.old.as_ref().map(|j| j.metadata.clone()))
                    .and_then(|m| controller_of(&m).cloned())
                    .filter(|r| r.kind == "CronJob");
                if let Some(owner) = owner {
                    self.queue.add(&format!("{namespace}/{}", owner.name), ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for cronjob in self.queue.on_timer(key, ctx) {
            self.sync(&cronjob, ctx);
        }
    }
}
