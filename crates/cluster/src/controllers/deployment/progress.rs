//! Deployment status: the counts summed over its ReplicaSets, the Available
//! condition, and the Progressing condition against `progressDeadlineSeconds`
//! (upstream's `syncDeploymentStatus`, `calculateStatus` and `progress.go`).

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus};

use super::sync::{all_of, put_status, Sets};
use super::util::{self, reason};
use super::DeploymentController;
use crate::client::informer::key_of;
use crate::controllers::sync_result::SyncResult;
use crate::sim::Ctx;

/// Upstream's `calculateStatus`.
fn calculate_status(d: &Deployment, sets: &Sets, ctx: &Ctx) -> DeploymentStatus {
    let all = all_of(sets);
    let new: Vec<_> = sets.0.iter().collect();
    let available = util::available_replicas(&all);
    let total = util::spec_replicas(&all);
    let nonzero = |n: i32| (n != 0).then_some(n);
    let previous = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: nonzero(util::actual_replicas(&all)),
        updated_replicas: nonzero(util::actual_replicas(&new)),
        ready_replicas: nonzero(util::ready_replicas(&all)),
        available_replicas: nonzero(available),
        unavailable_replicas: nonzero((total - available).max(0)),
        terminating_replicas: util::terminating_replicas(&all),
        collision_count: previous.collision_count,
        conditions: previous.conditions,
    };
    let now = ctx.time();
    let condition = if available >= util::replicas(d) - util::max_unavailable(d) {
        util::new_condition(
            "Available",
            "True",
            reason::MIN_AVAILABLE,
            "Deployment has minimum availability.".into(),
            &now,
        )
    } else {
        util::new_condition(
            "Available",
            "False",
            reason::MIN_UNAVAILABLE,
            "Deployment does not have minimum availability.".into(),
            &now,
        )
    };
    util::set_condition(&mut status, condition);
    status
}

impl DeploymentController {
    /// Upstream's `syncDeploymentStatus`: writes the calculated status if it changed.
    pub(super) fn sync_status(
        &mut self,
        d: &mut Deployment,
        sets: &Sets,
        ctx: &mut Ctx,
    ) -> SyncResult {
        let status = calculate_status(d, sets, ctx);
        if d.status.as_ref() == Some(&status) {
            return Ok(());
        }
        d.status = Some(status);
        put_status(ctx, d)
    }

    /// Upstream's `syncRolloutStatus`: status plus the Progressing condition,
    /// requeueing a rollout in progress for when its deadline passes.
    pub(super) fn sync_rollout_status(
        &mut self,
        d: &mut Deployment,
        sets: &Sets,
        ctx: &mut Ctx,
    ) -> SyncResult {
        let mut status = calculate_status(d, sets, ctx);
        let has_deadline = util::has_progress_deadline(d);
        if !has_deadline {
            util::remove_condition(&mut status, "Progressing");
        }
        let previous = d.status.clone().unwrap_or_default();
        let current = util::condition(&previous, "Progressing").cloned();
        let complete_before = status.replicas == status.updated_replicas
            && current
                .as_ref()
                .is_some_and(|c| c.reason.as_deref() == Some(reason::NEW_RS_AVAILABLE));
        let now = ctx.time();
        let name = d.metadata.name.clone().unwrap_or_default();
        let subject = match &sets.0 {
            Some(rs) => format!("ReplicaSet {:?}", rs.metadata.name.as_deref().unwrap_or("")),
            None => format!("Deployment {name:?}"),
        };
        if has_deadline && !complete_before {
            if util::is_complete(d, &status) {
                let cond = util::new_condition(
                    "Progressing",
                    "True",
                    reason::NEW_RS_AVAILABLE,
                    format!("{subject} has successfully progressed."),
                    &now,
                );
                util::set_condition(&mut status, cond);
            } else if util::is_progressing(d, &status) {
                let mut cond = util::new_condition(
                    "Progressing",
                    "True",
                    reason::RS_UPDATED,
                    format!("{subject} is progressing."),
                    &now,
                );
                if let Some(current) = &current {
                    if current.status == "True" {
                        cond.last_transition_time = current.last_transition_time.clone();
                    }
                    util::remove_condition(&mut status, "Progressing");
                }
                util::set_condition(&mut status, cond);
            } else if util::is_timed_out(d, &status, ctx.unix_millis()) {
                let cond = util::new_condition(
                    "Progressing",
                    "False",
                    reason::TIMED_OUT,
                    format!("{subject} has timed out progressing."),
                    &now,
                );
                util::set_condition(&mut status, cond);
            }
        }
        if d.status.as_ref() == Some(&status) {
            self.requeue_stuck(d, &status, ctx);
            return Ok(());
        }
        d.status = Some(status);
        put_status(ctx, d)
    }

    /// Upstream's `requeueStuckDeployment`: look again when the deadline would pass.
    fn requeue_stuck(&mut self, d: &Deployment, status: &DeploymentStatus, ctx: &mut Ctx) {
        let Some(cond) = util::condition(status, "Progressing") else {
            return;
        };
        if !util::has_progress_deadline(d)
            || util::is_complete(d, status)
            || cond.reason.as_deref() == Some(reason::TIMED_OUT)
        {
            return;
        }
        let after = util::progress_deadline_ms(d, cond) - ctx.unix_millis();
        let key = key_of(&d.metadata);
        if after < 1000 {
            self.queue.add_rate_limited(&key, ctx);
        } else {
            self.queue.check_after(&key, after as u64 + 1000, ctx);
        }
    }
}
