//! The Recreate strategy: scale every old ReplicaSet to zero, wait until their
//! pods are gone, then create and scale up the new one (upstream's `recreate.go`).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use super::sync::{active, all_of};
use super::util;
use super::DeploymentController;
use crate::controllers::owners::controller_of;
use crate::controllers::pod_state::is_finished;
use crate::controllers::sync_result::SyncResult;
use crate::sim::Ctx;

impl DeploymentController {
    /// Upstream's `rolloutRecreate`.
    pub(super) fn rollout_recreate(
        &mut self,
        d: &mut Deployment,
        sets: &[ReplicaSet],
        ctx: &mut Ctx,
    ) -> SyncResult {
        let mut found = self.new_and_old(d, sets, false, ctx)?;
        let mut scaled_down = false;
        for rs in active(&found.1.clone()) {
            if self.scale_and_record(rs, 0, d, ctx)?.0 {
                scaled_down = true;
            }
        }
        if scaled_down {
            return self.sync_rollout_status(d, &found, ctx);
        }
        if self.old_pods_running(&found) {
            return self.sync_rollout_status(d, &found, ctx);
        }
        if found.0.is_none() {
            found = self.new_and_old(d, sets, true, ctx)?;
        }
        if let Some(new_rs) = found.0.clone() {
            let (_, updated) = self.scale_and_record(&new_rs, util::replicas(d), d, ctx)?;
            found.0 = Some(updated);
        }
        if util::is_complete(d, &d.status.clone().unwrap_or_default()) {
            self.cleanup(d, &found.1, ctx)?;
        }
        self.sync_rollout_status(d, &found, ctx)
    }

    /// Whether any pod of an old set has not finished yet.
    fn old_pods_running(&self, found: &super::sync::Sets) -> bool {
        if util::actual_replicas(&found.1.iter().collect::<Vec<_>>()) > 0 {
            return true;
        }
        let new_uid = found.0.as_ref().and_then(|rs| rs.metadata.uid.clone());
        all_of(found).iter().any(|rs| {
            let uid = rs.metadata.uid.clone();
            uid != new_uid
                && self
                    .pods
                    .in_namespace(rs.metadata.namespace.as_deref().unwrap_or(""))
                    .any(|p| {
                        controller_of(&p.metadata).is_some_and(|r| Some(&r.uid) == uid.as_ref())
                            && !is_finished(p)
                    })
        })
    }
}
