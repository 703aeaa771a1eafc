//! Finding the new and old ReplicaSets (creating the new one), scaling them with
//! `ScalingReplicaSet` events, proportional scaling, history cleanup and the
//! paused conditions — upstream's `sync.go`.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::util::{self, reason};
use super::{deployment_path, DeploymentController};
use crate::api::Request;
use crate::client::informer::key_of;
use crate::client::ObjectRef;
use crate::controllers::owners::controller_ref;
use crate::controllers::replicaset::replicaset_path;
use crate::controllers::sync_result::{SyncFailed, SyncResult};
use crate::controllers::template_hash::template_hash;
use crate::sim::Ctx;

/// The new ReplicaSet (if any) and the old ones.
pub(super) type Sets = (Option<ReplicaSet>, Vec<ReplicaSet>);

/// PUTs a ReplicaSet; the stored object on success.
pub(super) fn put_replicaset(ctx: &mut Ctx, rs: &ReplicaSet) -> SyncResult<ReplicaSet> {
    let path = replicaset_path(&key_of(&rs.metadata));
    let response = ctx.call(Request::put(
        path,
        serde_json::to_string(rs).unwrap_or_default(),
    ));
    if response.status != 200 {
        return Err(SyncFailed);
    }
    serde_json::from_str(response.body_text()).map_err(|_| SyncFailed)
}

/// PUTs the Deployment's status (and its annotations, which the status strategy keeps).
pub(super) fn put_status(ctx: &mut Ctx, d: &Deployment) -> SyncResult {
    let path = format!("{}/status", deployment_path(&key_of(&d.metadata)));
    let response = ctx.call(Request::put(
        path,
        serde_json::to_string(d).unwrap_or_default(),
    ));
    if response.status == 200 {
        Ok(())
    } else {
        Err(SyncFailed)
    }
}

/// Sets whose `spec.replicas` is above zero.
pub(super) fn active<'a>(sets: impl IntoIterator<Item = &'a ReplicaSet>) -> Vec<&'a ReplicaSet> {
    sets.into_iter()
        .filter(|rs| util::rs_replicas(rs) > 0)
        .collect()
}

/// The new set and the old ones, together.
pub(super) fn all_of(sets: &Sets) -> Vec<&ReplicaSet> {
    sets.1.iter().chain(sets.0.iter()).collect()
}

impl DeploymentController {
    /// Upstream's `getAllReplicaSetsAndSyncRevision`.
    pub(super) fn new_and_old(
        &mut self,
        d: &mut Deployment,
        sets: &[ReplicaSet],
        create: bool,
        ctx: &mut Ctx,
    ) -> SyncResult<Sets> {
        let existing = util::find_new(d, sets);
        let old: Vec<ReplicaSet> = sets
            .iter()
            .filter(|rs| {
                existing
                    .as_ref()
                    .is_none_or(|n| n.metadata.uid != rs.metadata.uid)
            })
            .cloned()
            .collect();
        let new = self.new_replicaset(d, existing, &old, create, ctx)?;
        Ok((new, old))
    }

    /// Upstream's `getNewReplicaSet`: syncs the existing new set's annotations and
    /// the Deployment's revision, or creates the new set.
    fn new_replicaset(
        &mut self,
        d: &mut Deployment,
        existing: Option<&ReplicaSet>,
        old: &[ReplicaSet],
        create: bool,
        ctx: &mut Ctx,
    ) -> SyncResult<Option<ReplicaSet>> {
        let new_revision = util::max_revision(old) + 1;
        let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        let now = ctx.time();
        if let Some(existing) = existing {
            let mut copy = existing.clone();
            let annotations_changed =
                util::set_new_rs_annotations(d, &mut copy, new_revision, true);
            let spec = copy.spec.get_or_insert_with(Default::default);
            if annotations_changed || spec.min_ready_seconds != min_ready {
                spec.min_ready_seconds = min_ready;
                return put_replicaset(ctx, &copy).map(Some);
            }
            let revision = copy
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(util::REVISION))
                .cloned()
                .unwrap_or_default();
            let mut needs_update = util::set_deployment_revision(d, &revision);
            let has_deadline = util::has_progress_deadline(d);
            let status = d.status.get_or_insert_with(Default::default);
            if has_deadline && util::condition(status, "Progressing").is_none() {
                let message = format!("Found new replica set {:?}", name_of(&copy.metadata));
                util::set_condition(
                    status,
                    util::new_condition("Progressing", "True", reason::FOUND_NEW_RS, message, &now),
                );
                needs_update = true;
            }
            if needs_update {
                put_status(ctx, d)?;
            }
            return Ok(Some(copy));
        }
        if !create {
            return Ok(None);
        }
        let spec = d.spec.clone().unwrap_or_default();
        let collision_count = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = template_hash(&spec.template, collision_count);
        let mut template = spec.template.clone();
        template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(util::POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(Default::default)
            .insert(util::POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{}-{hash}", name_of(&d.metadata));
        let mut new_rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: d.metadata.namespace.clone(),
                owner_references: Some(vec![controller_ref("apps/v1", "Deployment", &d.metadata)]),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: min_ready,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let mut all: Vec<&ReplicaSet> = old.iter().collect();
        all.push(&new_rs);
        let count = util::new_rs_new_replicas(d, &all, &new_rs);
        util::set_rs_replicas(&mut new_rs, count);
        util::set_new_rs_annotations(d, &mut new_rs, new_revision, false);
        let namespace = d.metadata.namespace.clone().unwrap_or_default();
        let response = ctx.call(Request::post(
            format!("/apis/apps/v1/namespaces/{namespace}/replicasets"),
            serde_json::to_string(&new_rs).unwrap_or_default(),
        ));
        let about = ObjectRef::of(&*d);
        let created: ReplicaSet = match response.status {
            201 => serde_json::from_str(response.body_text()).map_err(|_| SyncFailed)?,
            409 => {
                // Probably our own set, not yet in the cache: look again later.
                let key = format!("{namespace}/{name}");
                let Some(rs) = self.sets.get(&key) else {
                    return Err(SyncFailed);
                };
                let uid = d.metadata.uid.as_deref().unwrap_or("");
                if crate::controllers::owners::is_controlled_by(&rs.metadata, uid)
                    && util::runs_template(rs, &spec.template)
                {
                    return Ok(Some(rs.clone()));
                }
                let status = d.status.get_or_insert_with(Default::default);
                status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                put_status(ctx, d)?;
                return Err(SyncFailed);
            }
            _ => {
                let message = format!(
                    "Failed to create new replica set {name:?}: {}",
                    response.status_message()
                );
                if util::has_progress_deadline(d) {
                    let status = d.status.get_or_insert_with(Default::default);
                    let cond = util::new_condition(
                        "Progressing",
                        "False",
                        reason::FAILED_RS_CREATE,
                        message.clone(),
                        &now,
                    );
                    util::set_condition(status, cond);
                    let _ = put_status(ctx, d);
                }
                self.recorder
                    .event(ctx, &about, "Warning", reason::FAILED_RS_CREATE, &message);
                return Err(SyncFailed);
            }
        };
        if count > 0 {
            let message = format!("Scaled up replica set {name} to {count}");
            self.recorder
                .event(ctx, &about, "Normal", "ScalingReplicaSet", &message);
        }
        let mut needs_update = util::set_deployment_revision(d, &new_revision.to_string());
        if util::has_progress_deadline(d) {
            let message = format!("Created new replica set {name:?}");
            let status = d.status.get_or_insert_with(Default::default);
            util::set_condition(
                status,
                util::new_condition("Progressing", "True", reason::NEW_RS, message, &now),
            );
            needs_update = true;
        }
        if needs_update {
            put_status(ctx, d)?;
        }
        Ok(Some(created))
    }

    /// Upstream's `scaleReplicaSetAndRecordEvent`.
    pub(super) fn scale_and_record(
        &mut self,
        rs: &ReplicaSet,
        to: i32,
        d: &Deployment,
        ctx: &mut Ctx,
    ) -> SyncResult<(bool, ReplicaSet)> {
        let from = util::rs_replicas(rs);
        if from == to {
            return Ok((false, rs.clone()));
        }
        let operation = if from < to { "up" } else { "down" };
        self.scale_replicaset(rs, to, d, operation, ctx)
    }

    /// Upstream's `scaleReplicaSet`: new size and replica annotations in one update.
    pub(super) fn scale_replicaset(
        &mut self,
        rs: &ReplicaSet,
        to: i32,
        d: &Deployment,
        operation: &str,
        ctx: &mut Ctx,
    ) -> SyncResult<(bool, ReplicaSet)> {
        let from = util::rs_replicas(rs);
        let desired = util::replicas(d);
        let max = desired + util::max_surge(d);
        let size_changes = from != to;
        if !size_changes && !util::replicas_annotations_need_update(rs, desired, max) {
            return Ok((false, rs.clone()));
        }
        let mut copy = rs.clone();
        util::set_rs_replicas(&mut copy, to);
        util::set_replicas_annotations(&mut copy, desired, max);
        let updated = put_replicaset(ctx, &copy)?;
        if size_changes {
            let message = format!(
                "Scaled {operation} replica set {} to {to} from {from}",
                name_of(&rs.metadata)
            );
            self.recorder.event(
                ctx,
                &ObjectRef::of(d),
                "Normal",
                "ScalingReplicaSet",
                &message,
            );
        }
        Ok((size_changes, updated))
    }

    /// Upstream's `scale`: one active set takes the whole count; a saturated new
    /// set scales the old ones to zero; otherwise sets scale in proportion.
    fn scale(&mut self, d: &Deployment, sets: &Sets, ctx: &mut Ctx) -> SyncResult {
        let want = util::replicas(d);
        if let Some(only) = active_or_latest(sets) {
            if util::rs_replicas(&only) != want {
                self.scale_and_record(&only, want, d, ctx)?;
            }
            return Ok(());
        }
        if util::is_saturated(d, sets.0.as_ref()) {
            for old in active(&sets.1) {
                self.scale_and_record(old, 0, d, ctx)?;
            }
            return Ok(());
        }
        if !util::is_rolling_update(d) {
            return Ok(());
        }
        let mut all: Vec<ReplicaSet> = active(all_of(sets)).into_iter().cloned().collect();
        let current = util::spec_replicas(&all.iter().collect::<Vec<_>>());
        let allowed = if want > 0 {
            want + util::max_surge(d)
        } else {
            0
        };
        let to_add = allowed - current;
        let operation = match to_add.signum() {
            1 => {
                // Larger first; among equals the newer first.
                all.sort_by(|a, b| {
                    util::rs_replicas(b)
                        .cmp(&util::rs_replicas(a))
                        .then_with(|| util::by_creation(b, a))
                });
                "up"
            }
            -1 => {
                // Larger first; among equals the older first.
                all.sort_by(|a, b| {
                    util::rs_replicas(b)
                        .cmp(&util::rs_replicas(a))
                        .then_with(|| util::by_creation(a, b))
                });
                "down"
            }
            _ => "",
        };
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
        for rs in &all {
            let share = if to_add != 0 {
                util::proportion(rs, d, to_add, added)
            } else {
                0
            };
            added += share;
            sizes.push(util::rs_replicas(rs) + share);
        }
        for (i, rs) in all.iter().enumerate() {
            if i == 0 && to_add != 0 {
                sizes[0] = (sizes[0] + to_add - added).max(0);
            }
            self.scale_replicaset(rs, sizes[i], d, operation, ctx)?;
        }
        Ok(())
    }

    /// Upstream's `sync`, for paused Deployments and scaling events.
    pub(super) fn sync_scale(
        &mut self,
        d: &mut Deployment,
        sets: &[ReplicaSet],
        ctx: &mut Ctx,
    ) -> SyncResult {
        let found = self.new_and_old(d, sets, false, ctx)?;
        self.scale(d, &found, ctx)?;
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused {
            self.cleanup(d, &found.1, ctx)?;
        }
        self.sync_status(d, &found, ctx)
    }

    /// Upstream's `syncStatusOnly`, for Deployments being deleted.
    pub(super) fn sync_status_only(
        &mut self,
        d: &mut Deployment,
        sets: &[ReplicaSet],
        ctx: &mut Ctx,
    ) -> SyncResult {
        let found = self.new_and_old(d, sets, false, ctx)?;
        self.sync_status(d, &found, ctx)
    }

    /// Upstream's `isScalingEvent`: an active set's desired-replicas annotation
    /// differs from `spec.replicas`.
    pub(super) fn is_scaling_event(
        &mut self,
        d: &mut Deployment,
        sets: &[ReplicaSet],
        ctx: &mut Ctx,
    ) -> SyncResult<bool> {
        let found = self.new_and_old(d, sets, false, ctx)?;
        let want = util::replicas(d);
        Ok(active(all_of(&found))
            .into_iter()
            .any(|rs| util::desired_annotation(rs).is_some_and(|n| n != want)))
    }

    /// Upstream's `checkPausedConditions`.
    pub(super) fn check_paused_conditions(
        &mut self,
        d: &mut Deployment,
        ctx: &mut Ctx,
    ) -> SyncResult {
        if !util::has_progress_deadline(d) {
            return Ok(());
        }
        let status = d.status.clone().unwrap_or_default();
        let cond = util::condition(&status, "Progressing");
        if cond.is_some_and(|c| c.reason.as_deref() == Some(reason::TIMED_OUT)) {
            return Ok(());
        }
        let paused_recorded = cond.is_some_and(|c| c.reason.as_deref() == Some(reason::PAUSED));
        let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let now = ctx.time();
        let condition = if paused && !paused_recorded {
            util::new_condition(
                "Progressing",
                "Unknown",
                reason::PAUSED,
                "Deployment is paused".into(),
                &now,
            )
        } else if !paused && paused_recorded {
            util::new_condition(
                "Progressing",
                "Unknown",
                reason::RESUMED,
                "Deployment is resumed".into(),
                &now,
            )
        } else {
            return Ok(());
        };
        util::set_condition(d.status.get_or_insert_with(Default::default), condition);
        put_status(ctx, d)
    }

    /// Upstream's `cleanupDeployment`: deletes the oldest fully scaled-down sets
    /// beyond `revisionHistoryLimit`.
    pub(super) fn cleanup(
        &mut self,
        d: &Deployment,
        old: &[ReplicaSet],
        ctx: &mut Ctx,
    ) -> SyncResult {
        let Some(limit) = d.spec.as_ref().and_then(|s| s.revision_history_limit) else {
            return Ok(());
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let excess = cleanable.len() as i64 - i64::from(limit);
        if excess <= 0 {
            return Ok(());
        }
        cleanable.sort_by(|a, b| {
            util::revision(a)
                .cmp(&util::revision(b))
                .then_with(|| util::by_creation(a, b))
        });
        for rs in cleanable.into_iter().take(excess as usize) {
            let status = rs.status.clone().unwrap_or_default();
            if status.replicas != 0
                || util::rs_replicas(rs) != 0
                || rs.metadata.generation > status.observed_generation
            {
                continue;
            }
            let response = ctx.call(Request::delete(replicaset_path(&key_of(&rs.metadata))));
            if !matches!(response.status, 200 | 202 | 404) {
                return Err(SyncFailed);
            }
        }
        Ok(())
    }
}

/// Upstream's `FindActiveOrLatest`: the only active set, or the newest when none is active.
fn active_or_latest(sets: &Sets) -> Option<ReplicaSet> {
    let (new, old) = sets;
    if new.is_none() && old.is_empty() {
        return None;
    }
    let mut newest_first: Vec<&ReplicaSet> = old.iter().collect();
    newest_first.sort_by(|a, b| util::by_creation(b, a));
    let all: Vec<&ReplicaSet> = active(newest_first.iter().copied().chain(new.iter()));
    match all.len() {
        0 => new
            .clone()
            .or_else(|| newest_first.first().map(|rs| (*rs).clone())),
        1 => Some(all[0].clone()),
        _ => None,
    }
}

fn name_of(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}
