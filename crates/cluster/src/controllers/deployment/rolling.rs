//! The RollingUpdate strategy: scale the new ReplicaSet up within maxSurge, the
//! old ones down within maxUnavailable, unhealthy old pods first (upstream's
//! `rolling.go`).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::sync::{active, all_of};
use super::util;
use super::DeploymentController;
use crate::controllers::sync_result::SyncResult;
use crate::sim::Ctx;

impl DeploymentController {
    /// Upstream's `rolloutRolling`.
    pub(super) fn rollout_rolling(
        &mut self,
        d: &mut Deployment,
        sets: &[ReplicaSet],
        ctx: &mut Ctx,
    ) -> SyncResult {
        let mut found = self.new_and_old(d, sets, true, ctx)?;
        let Some(new_rs) = found.0.clone() else {
            return Ok(());
        };
        if self.reconcile_new(d, &found, &new_rs, ctx)? {
            return self.sync_rollout_status(d, &found, ctx);
        }
        if self.reconcile_old(d, &mut found, &new_rs, ctx)? {
            return self.sync_rollout_status(d, &found, ctx);
        }
        if util::is_complete(d, &d.status.clone().unwrap_or_default()) {
            self.cleanup(d, &found.1, ctx)?;
        }
        self.sync_rollout_status(d, &found, ctx)
    }

    /// Upstream's `reconcileNewReplicaSet`.
    fn reconcile_new(
        &mut self,
        d: &Deployment,
        found: &super::sync::Sets,
        new_rs: &ReplicaSet,
        ctx: &mut Ctx,
    ) -> SyncResult<bool> {
        let want = util::replicas(d);
        let have = util::rs_replicas(new_rs);
        if have == want {
            return Ok(false);
        }
        let to = if have > want {
            want
        } else {
            util::new_rs_new_replicas(d, &all_of(found), new_rs)
        };
        Ok(self.scale_and_record(new_rs, to, d, ctx)?.0)
    }

    /// Upstream's `reconcileOldReplicaSets`.
    fn reconcile_old(
        &mut self,
        d: &Deployment,
        found: &mut super::sync::Sets,
        new_rs: &ReplicaSet,
        ctx: &mut Ctx,
    ) -> SyncResult<bool> {
        let old_pods: i32 = util::spec_replicas(&active(&found.1));
        if old_pods == 0 {
            return Ok(false);
        }
        let all_pods = util::spec_replicas(&all_of(found));
        let min_available = util::replicas(d) - util::max_unavailable(d);
        let new_unavailable = util::rs_replicas(new_rs) - util::rs_available(new_rs);
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        let cleaned = self.cleanup_unhealthy(d, &mut found.1, max_scaled_down, ctx)?;
        let scaled = self.scale_down_old(d, found, ctx)?;
        Ok(cleaned + scaled > 0)
    }

    /// Scales old sets down by their unavailable pods, oldest first.
    fn cleanup_unhealthy(
        &mut self,
        d: &Deployment,
        old: &mut [ReplicaSet],
        max_cleanup: i32,
        ctx: &mut Ctx,
    ) -> SyncResult<i32> {
        old.sort_by(util::by_creation);
        let mut total = 0;
        for rs in old.iter_mut() {
            if total >= max_cleanup {
                break;
            }
            let replicas = util::rs_replicas(rs);
            let available = util::rs_available(rs);
            if replicas == 0 || replicas == available {
                continue;
            }
            let count = (max_cleanup - total).min(replicas - available);
            if count < 0 {
                // Status still counts pods being removed: an invalid scale "down" upward.
                return Err(super::SyncFailed);
            }
            let (_, updated) = self.scale_and_record(rs, replicas - count, d, ctx)?;
            *rs = updated;
            total += count;
        }
        Ok(total)
    }

    /// Scales old sets down as far as availability allows, oldest first.
    fn scale_down_old(
        &mut self,
        d: &Deployment,
        found: &mut super::sync::Sets,
        ctx: &mut Ctx,
    ) -> SyncResult<i32> {
        let min_available = util::replicas(d) - util::max_unavailable(d);
        let available = util::available_replicas(&all_of(found));
        if available <= min_available {
            return Ok(0);
        }
        let wanted = available - min_available;
        found.1.sort_by(util::by_creation);
        let mut total = 0;
        for rs in found.1.iter_mut() {
            if total >= wanted {
                break;
            }
            let replicas = util::rs_replicas(rs);
            if replicas == 0 {
                continue;
            }
            let count = replicas.min(wanted - total);
            let (_, updated) = self.scale_and_record(rs, replicas - count, d, ctx)?;
            *rs = updated;
            total += count;
        }
        Ok(total)
    }
}
