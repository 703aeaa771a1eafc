//! The TTL-after-finished controller, as upstream's: a Job with
//! `ttlSecondsAfterFinished` is deleted that many seconds after it finished
//! (its Complete or Failed condition's transition time), in the foreground so its
//! pods go first, with a UID precondition so a new Job of the same name is safe.

use k8s_openapi::api::batch::v1::Job;
use serde_json::json;

use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::Informer;
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "ttl-after-finished-controller";

const EXPIRY_TIMER: u64 = 0;

/// Deletes finished Jobs once their TTL has passed.
pub struct TtlAfterFinishedController {
    jobs: Informer<Job>,
}

impl Default for TtlAfterFinishedController {
    fn default() -> Self {
        TtlAfterFinishedController {
            jobs: Informer::new("/apis/batch/v1/jobs"),
        }
    }
}

/// When a Job with a TTL that is not being deleted may go (unix ms), once it has finished.
fn expires_at(job: &Job) -> Option<i64> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    if job.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let finished = job
        .status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")?;
    let at = finished.last_transition_time.as_ref()?.0.as_millisecond();
    Some(at + i64::from(ttl) * 1_000)
}

impl TtlAfterFinishedController {
    /// Deletes every expired Job and waits (in the background) for the next expiry.
    fn sync(&mut self, ctx: &mut Ctx) {
        let now = ctx.unix_millis();
        let mut next: Option<i64> = None;
        let mut expired = Vec::new();
        for (_, job) in self.jobs.iter() {
            match expires_at(job) {
                Some(at) if at <= now => expired.push(job.clone()),
                Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
                None => {}
            }
        }
        if !expired.is_empty() {
            ctx.become_foreground();
        }
        for job in expired {
            let namespace = job.metadata.namespace.as_deref().unwrap_or("default");
            let name = job.metadata.name.as_deref().unwrap_or("");
            let options = json!({"kind": "DeleteOptions", "apiVersion": "v1",
                "propagationPolicy": "Foreground",
                "preconditions": {"uid": job.metadata.uid}});
            ctx.call(
                Request::delete(format!("/apis/batch/v1/namespaces/{namespace}/jobs/{name}"))
                    .with_body(options.to_string(), "application/json"),
            );
        }
        if let Some(at) = next {
            ctx.set_background_timer((at - now).max(0) as u64, EXPIRY_TIMER);
        }
    }
}

impl Component for TtlAfterFinishedController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.jobs.start(ctx);
        self.sync(ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.jobs.owns(watch) && !self.jobs.handle(event, ctx).is_empty() {
            self.sync(ctx);
        }
    }

    fn on_timer(&mut self, _key: u64, ctx: &mut Ctx) {
        self.sync(ctx);
    }
}
