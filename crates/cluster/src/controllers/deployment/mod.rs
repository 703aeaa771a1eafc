//! The Deployment controller, as upstream's: it owns ReplicaSets (adopting and
//! releasing by selector), creates the new one for the current template (named
//! `<deployment>-<pod-template-hash>`), rolls out with RollingUpdate (maxSurge,
//! maxUnavailable) or Recreate, scales proportionally, keeps
//! `revisionHistoryLimit` old sets, and reports status and the Available and
//! Progressing conditions (with the progress deadline).
//!
//! `sync.rs` finds the new and old sets, scales and cleans up; `rolling.rs` and
//! `recreate.rs` are the strategies; `progress.rs` writes status; `util.rs` holds
//! upstream's `deploymentutil` arithmetic.

mod progress;
mod recreate;
mod rolling;
mod sync;
pub mod util;

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::owners::{
    adopt, controller_of, controller_ref, is_controlled_by, release, still_current,
};
use crate::api::labels::LabelSelector;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::informer::key_of;
use crate::client::{Delta, Informer, Recorder, WorkQueue};
use crate::controllers::replicaset::replicaset_path;
use crate::controllers::sync_result::{SyncFailed, SyncResult};
use crate::sim::{Component, Ctx};

/// The trace and event source name.
pub const NAME: &str = "deployment-controller";

const QUEUE_TIMERS: u64 = 0;

/// Rolls Deployments out through their ReplicaSets.
pub struct DeploymentController {
    recorder: Recorder,
    deployments: Informer<Deployment>,
    sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: WorkQueue,
}

impl Default for DeploymentController {
    fn default() -> Self {
        DeploymentController {
            recorder: Recorder::new(NAME, None),
            deployments: Informer::new("/apis/apps/v1/deployments"),
            sets: Informer::new("/apis/apps/v1/replicasets"),
            pods: Informer::new("/api/v1/pods"),
            queue: WorkQueue::new(QUEUE_TIMERS),
        }
    }
}

/// The API path of the Deployment stored under `key`.
pub fn deployment_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
}

fn selector_of(d: &Deployment) -> Option<LabelSelector> {
    let selector = LabelSelector::of(&d.spec.as_ref()?.selector).ok()?;
    (!selector.is_empty()).then_some(selector)
}

impl DeploymentController {
    /// The Deployment in the cache that `reference` names as controller.
    fn resolve(&self, namespace: &str, reference: &OwnerReference) -> Option<String> {
        self.deployments
            .resolve_controller_ref("Deployment", namespace, reference)
    }

    fn on_replicaset(&mut self, delta: Delta<ReplicaSet>, ctx: &mut Ctx) {
        let namespace = delta.key.split('/').next().unwrap_or("").to_string();
        let current = match delta.kind {
            EventType::Deleted => None,
            _ => self.sets.get_shared(&delta.key),
        };
        let old_owner = delta
            .old
            .as_ref()
            .and_then(|rs| controller_of(&rs.metadata).cloned());
        let new_owner = current
            .as_ref()
            .and_then(|rs| controller_of(&rs.metadata).cloned());
        for owner in [&old_owner, &new_owner].into_iter().flatten() {
            if let Some(key) = self.resolve(&namespace, owner) {
                self.queue.add(&key, ctx);
            }
        }
        if let (Some(rs), None) = (&current, &new_owner) {
            let matching: Vec<String> = self
                .deployments
                .in_namespace(&namespace)
                .filter(|d| {
                    selector_of(d).is_some_and(|s| s.matches_map(rs.metadata.labels.as_ref()))
                })
                .map(|d| key_of(&d.metadata))
                .collect();
            for key in matching {
                self.queue.add(&key, ctx);
            }
        }
    }

    /// A deleted pod may unblock a Recreate rollout waiting for old pods to go.
    fn on_pod(&mut self, delta: Delta<Pod>, ctx: &mut Ctx) {
        if delta.kind != EventType::Deleted {
            return;
        }
        let Some(pod) = &delta.old else { return };
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let owner_key = controller_of(&pod.metadata)
            .filter(|r| r.kind == "ReplicaSet")
            .and_then(|r| self.sets.get(&format!("{namespace}/{}", r.name)))
            .and_then(|rs| controller_of(&rs.metadata).cloned())
            .and_then(|r| self.resolve(&namespace, &r));
        if let Some(key) = owner_key {
            let recreate = self
                .deployments
                .get(&key)
                .is_some_and(|d| !util::is_rolling_update(d));
            if recreate {
                self.queue.add(&key, ctx);
            }
        }
    }

    /// The ReplicaSets the Deployment controls, adopting matching orphans and
    /// releasing sets that stopped matching (upstream's `ClaimReplicaSets`).
    fn claim_replica_sets(&mut self, d: &Deployment, ctx: &mut Ctx) -> Vec<ReplicaSet> {
        let namespace = d.metadata.namespace.clone().unwrap_or_default();
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let selector = selector_of(d);
        let deleting = d.metadata.deletion_timestamp.is_some();
        let owner = controller_ref("apps/v1", "Deployment", &d.metadata);
        // Shared handles: only the sets claimed are copied (a namespace may hold many).
        let candidates: Vec<Arc<ReplicaSet>> =
            self.sets.shared_in_namespace(&namespace).cloned().collect();
        let mut claimed = Vec::new();
        let mut adoption_checked = None;
        for rs in candidates {
            let matches = selector
                .as_ref()
                .is_some_and(|s| s.matches_map(rs.metadata.labels.as_ref()));
            // Formatted only for a release or an adoption (a sync passes every set
            // in the namespace).
            let path = || replicaset_path(&key_of(&rs.metadata));
            if is_controlled_by(&rs.metadata, &uid) {
                if matches || deleting {
                    claimed.push(ReplicaSet::clone(&rs));
                } else {
                    release(ctx, &path(), &uid, &rs.metadata);
                }
            } else if controller_of(&rs.metadata).is_none()
                && matches
                && !deleting
                && rs.metadata.deletion_timestamp.is_none()
            {
                let can_adopt = *adoption_checked.get_or_insert_with(|| {
                    let path = deployment_path(&key_of(&d.metadata));
                    still_current(ctx, &path, d.metadata.uid.as_deref())
                });
                if can_adopt && adopt(ctx, &path(), &owner, &rs.metadata) {
                    claimed.push(ReplicaSet::clone(&rs));
                }
            }
        }
        claimed
    }

    /// Upstream's `syncDeployment`.
    fn sync(&mut self, key: &str, ctx: &mut Ctx) -> SyncResult {
        let Some(mut d) = self.deployments.get(key).cloned() else {
            return Ok(());
        };
        if selector_of(&d).is_none() {
            return Ok(());
        }
        let sets = self.claim_replica_sets(&d, ctx);
        if d.metadata.deletion_timestamp.is_some() {
            return self.sync_status_only(&mut d, &sets, ctx);
        }
        self.check_paused_conditions(&mut d, ctx)?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused || self.is_scaling_event(&mut d, &sets, ctx)? {
            return self.sync_scale(&mut d, &sets, ctx);
        }
        if util::is_rolling_update(&d) {
            self.rollout_rolling(&mut d, &sets, ctx)
        } else {
            self.rollout_recreate(&mut d, &sets, ctx)
        }
    }
}

impl Component for DeploymentController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.pods.start(ctx);
        for delta in self.sets.start(ctx) {
            self.on_replicaset(delta, ctx);
        }
        for delta in self.deployments.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.deployments.owns(watch) {
            for delta in self.deployments.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
        } else if self.sets.owns(watch) {
            for delta in self.sets.handle(event, ctx) {
                self.on_replicaset(delta, ctx);
            }
        } else if self.pods.owns(watch) {
            for delta in self.pods.handle(event, ctx) {
                self.on_pod(delta, ctx);
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            let synced = self.sync(&item, ctx);
            self.queue.finish(&item, synced.is_err(), ctx);
        }
    }
}
