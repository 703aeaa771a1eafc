//! The arithmetic and bookkeeping of upstream's `deploymentutil`: surge and
//! unavailability fenceposts, the pod-template hash, revisions and their
//! annotations, conditions, replica counts and proportional scaling.

use std::cmp::Ordering;

use crate::controllers::annotations::numeric_annotation;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The label that ties a ReplicaSet and its pods to one pod template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The revision of a ReplicaSet (and of the Deployment's current one).
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Earlier revisions a ReplicaSet had before a rollback made it current again.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// `spec.replicas` of the Deployment when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// `spec.replicas + maxSurge` of the Deployment when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// The most characters the revision history annotation keeps.
pub const MAX_REVISION_HISTORY_CHARS: usize = 2000;

/// Deployment annotations never copied to its ReplicaSets.
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// Condition reasons, in upstream's words.
pub mod reason {
    pub const NEW_RS: &str = "NewReplicaSetCreated";
    pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
    pub const RS_UPDATED: &str = "ReplicaSetUpdated";
    pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
    pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
    pub const PAUSED: &str = "DeploymentPaused";
    pub const RESUMED: &str = "DeploymentResumed";
    pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";
    pub const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
    pub const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
}

/// `spec.replicas` (default 1).
pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `spec.replicas` of a ReplicaSet (default 1).
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// Sets `spec.replicas` of a ReplicaSet.
pub fn set_rs_replicas(rs: &mut ReplicaSet, n: i32) {
    rs.spec.get_or_insert_with(Default::default).replicas = Some(n);
}

fn rs_status(rs: &ReplicaSet) -> k8s_openapi::api::apps::v1::ReplicaSetStatus {
    rs.status.clone().unwrap_or_default()
}

/// `status.availableReplicas` of a ReplicaSet.
pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs_status(rs).available_replicas.unwrap_or(0)
}

/// Whether the Deployment rolls out with `RollingUpdate`.
pub fn is_rolling_update(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

/// Upstream's `GetScaledValueFromIntOrPercent`.
pub fn scaled_value(value: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    match value {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(text)) => {
            let percent: i64 = text.trim_end_matches('%').parse().unwrap_or(0);
            let scaled = percent * i64::from(total);
            (if round_up {
                (scaled + 99).div_euclid(100)
            } else {
                scaled.div_euclid(100)
            }) as i32
        }
    }
}

/// maxSurge and maxUnavailable as numbers; both zero would stall, so unavailable becomes 1.
fn fenceposts(d: &Deployment) -> (i32, i32) {
    let rolling = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.clone())
        .unwrap_or_default();
    let desired = replicas(d);
    let surge = scaled_value(rolling.max_surge.as_ref(), desired, true);
    let unavailable = scaled_value(rolling.max_unavailable.as_ref(), desired, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// How many pods above `spec.replicas` a rollout may run.
pub fn max_surge(d: &Deployment) -> i32 {
    if is_rolling_update(d) {
        fenceposts(d).0
    } else {
        0
    }
}

/// How many pods below `spec.replicas` may be unavailable.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling_update(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

/// Whether two templates are equal once the pod-template-hash label is ignored.
fn equal_ignoring_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    // Only the metadata is copied to drop the label; the pod specs compare as they are.
    let stripped = |t: &PodTemplateSpec| {
        let mut meta = t.metadata.clone();
        if let Some(labels) = meta.as_mut().and_then(|m| m.labels.as_mut()) {
            labels.remove(POD_TEMPLATE_HASH);
        }
        meta
    };
    a.spec == b.spec && stripped(a) == stripped(b)
}

/// Whether the ReplicaSet's template is `template`, its pod-template-hash aside.
pub fn runs_template(rs: &ReplicaSet, template: &PodTemplateSpec) -> bool {
    match rs.spec.as_ref().and_then(|s| s.template.as_ref()) {
        Some(own) => equal_ignoring_hash(own, template),
        None => equal_ignoring_hash(&PodTemplateSpec::default(), template),
    }
}

/// Oldest first, ties by name (upstream's `ReplicaSetsByCreationTimestamp`).
pub fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    let time = |rs: &ReplicaSet| {
        rs.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_millisecond())
    };
    time(a)
        .cmp(&time(b))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// The ReplicaSet whose template is the Deployment's (the oldest, if several).
pub fn find_new<'a>(d: &Deployment, sets: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let template = &d.spec.as_ref()?.template;
    let mut sorted: Vec<&ReplicaSet> = sets.iter().collect();
    sorted.sort_by(|a, b| by_creation(a, b));
    sorted.into_iter().find(|rs| runs_template(rs, template))
}

/// A ReplicaSet's revision number (0 when unset or unreadable).
pub fn revision(rs: &ReplicaSet) -> i64 {
    numeric_annotation(&rs.metadata, REVISION)
}

/// The highest revision among `sets`.
pub fn max_revision(sets: &[ReplicaSet]) -> i64 {
    sets.iter().map(revision).max().unwrap_or(0)
}

fn annotation_i32(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

/// The desired-replicas annotation.
pub fn desired_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation_i32(rs, DESIRED_REPLICAS)
}

/// Sets desired-replicas and max-replicas; true if either changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(Default::default);
    let mut changed = false;
    for (key, value) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let value = value.to_string();
        if annotations.get(key) != Some(&value) {
            annotations.insert(key.to_string(), value);
            changed = true;
        }
    }
    changed
}

/// Whether desired-replicas or max-replicas differ from these values.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    annotation_i32(rs, DESIRED_REPLICAS) != Some(desired)
        || annotation_i32(rs, MAX_REPLICAS) != Some(max)
}

/// Upstream's `SetNewReplicaSetAnnotations`: copies the Deployment's annotations,
/// raises the revision (remembering the old one in the history on a rollback),
/// and for a ReplicaSet about to be created sets the replica annotations.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = false;
    let annotations = rs.metadata.annotations.get_or_insert_with(Default::default);
    for (key, value) in d.metadata.annotations.iter().flatten() {
        if ANNOTATIONS_TO_SKIP.contains(&key.as_str()) || annotations.get(key) == Some(value) {
            continue;
        }
        annotations.insert(key.clone(), value.clone());
        changed = true;
    }
    let old_text = annotations.get(REVISION).cloned();
    let old = match &old_text {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return changed,
        },
    };
    if old < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old_text) = old_text {
            let history = annotations
                .get(REVISION_HISTORY)
                .cloned()
                .unwrap_or_default();
            if history.is_empty() {
                annotations.insert(REVISION_HISTORY.into(), old_text);
            } else {
                let mut entries: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old_text.len() + 1;
                while total > MAX_REVISION_HISTORY_CHARS && !entries.is_empty() {
                    total -= entries.remove(0).len() + 1;
                }
                if total <= MAX_REVISION_HISTORY_CHARS {
                    entries.push(&old_text);
                    let joined = entries.join(",");
                    annotations.insert(REVISION_HISTORY.into(), joined);
                }
            }
        }
    }
    if !exists {
        let desired = replicas(d);
        changed |= set_replicas_annotations(rs, desired, desired + max_surge(d));
    }
    changed
}

/// Sets the Deployment's revision annotation; true if it changed.
pub fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let annotations = d.metadata.annotations.get_or_insert_with(Default::default);
    if annotations.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(REVISION.into(), revision.into());
    true
}

/// The condition of `kind` in a status.
pub fn condition<'a>(status: &'a DeploymentStatus, kind: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == kind)
}

/// A condition stamped `now` for both update and transition.
pub fn new_condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: String,
    now: &Time,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
    }
}

/// Upstream's `SetDeploymentCondition`: same status and reason is no change; same
/// status keeps the transition time; the condition moves to the end.
pub fn set_condition(status: &mut DeploymentStatus, mut new: DeploymentCondition) {
    if let Some(current) = condition(status, &new.type_) {
        if current.status == new.status && current.reason == new.reason {
            return;
        }
        if current.status == new.status {
            new.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &new.type_);
    status.conditions.get_or_insert_with(Vec::new).push(new);
}

/// Removes the condition of `kind`.
pub fn remove_condition(status: &mut DeploymentStatus, kind: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != kind);
    }
}

/// Whether the Deployment reports progress against a deadline.
pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_some_and(|s| s != i32::MAX)
}

/// The sum of `spec.replicas` over `sets`.
pub fn spec_replicas(sets: &[&ReplicaSet]) -> i32 {
    sets.iter().map(|rs| rs_replicas(rs)).sum()
}

/// The sum of `status.replicas` over `sets`.
pub fn actual_replicas(sets: &[&ReplicaSet]) -> i32 {
    sets.iter().map(|rs| rs_status(rs).replicas).sum()
}

/// The sum of `status.readyReplicas` over `sets`.
pub fn ready_replicas(sets: &[&ReplicaSet]) -> i32 {
    sets.iter()
        .map(|rs| rs_status(rs).ready_replicas.unwrap_or(0))
        .sum()
}

/// The sum of `status.availableReplicas` over `sets`.
pub fn available_replicas(sets: &[&ReplicaSet]) -> i32 {
    sets.iter().map(|rs| rs_available(rs)).sum()
}

/// The sum of `status.terminatingReplicas`, unknown if any set does not report it.
pub fn terminating_replicas(sets: &[&ReplicaSet]) -> Option<i32> {
    sets.iter()
        .map(|rs| rs_status(rs).terminating_replicas)
        .sum()
}

/// Upstream's `DeploymentComplete`.
pub fn is_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let want = replicas(d);
    status.updated_replicas.unwrap_or(0) == want
        && status.replicas.unwrap_or(0) == want
        && status.available_replicas.unwrap_or(0) == want
        && status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Upstream's `DeploymentProgressing`: more updated, fewer old, more ready or available.
pub fn is_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let n = |v: Option<i32>| v.unwrap_or(0);
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(new.replicas) - n(new.updated_replicas);
    n(new.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(new.ready_replicas) > n(old.ready_replicas)
        || n(new.available_replicas) > n(old.available_replicas)
}

/// Upstream's `DeploymentTimedOut` at `now_ms`.
pub fn is_timed_out(d: &Deployment, status: &DeploymentStatus, now_ms: i64) -> bool {
    let Some(cond) = condition(status, "Progressing") else {
        return false;
    };
    match cond.reason.as_deref() {
        Some(reason::NEW_RS_AVAILABLE) => false,
        Some(reason::TIMED_OUT) => true,
        _ => progress_deadline_ms(d, cond) < now_ms,
    }
}

/// When a Progressing condition runs out: its last update plus
/// `progressDeadlineSeconds`, in Unix milliseconds.
pub fn progress_deadline_ms(d: &Deployment, progressing: &DeploymentCondition) -> i64 {
    let deadline = d
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .unwrap_or(600);
    let from = progressing
        .last_update_time
        .as_ref()
        .map_or(0, |t| t.0.as_millisecond());
    from + i64::from(deadline) * 1000
}

/// Whether the new ReplicaSet already runs all replicas, available.
pub fn is_saturated(d: &Deployment, new_rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = new_rs else {
        return false;
    };
    let want = replicas(d);
    rs_replicas(rs) == want && desired_annotation(rs) == Some(want) && rs_available(rs) == want
}

/// The pods the new ReplicaSet should have now (upstream's `NewRSNewReplicas`).
pub fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let want = replicas(d);
    if !is_rolling_update(d) {
        return want;
    }
    let current = spec_replicas(all);
    let max_total = want + max_surge(d);
    if current >= max_total {
        return rs_replicas(new_rs);
    }
    let scale_up = (max_total - current).min(want - rs_replicas(new_rs));
    rs_replicas(new_rs) + scale_up
}

/// How many replicas this ReplicaSet takes of a proportional scale (`GetProportion`).
pub fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = {
        if replicas(d) == 0 {
            -rs_replicas(rs)
        } else {
            let max_now = replicas(d) + max_surge(d);
            let before = match annotation_i32(rs, MAX_REPLICAS) {
                Some(n) if n != 0 => n,
                _ => d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0),
            };
            let size = f64::from(rs_replicas(rs)) * f64::from(max_now) / f64::from(before.max(1));
            size.round() as i32 - rs_replicas(rs)
        }
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(
        replicas: i32,
        surge: serde_json::Value,
        unavailable: serde_json::Value,
    ) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {},
                "strategy": {"type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
                "template": {}},
        }))
        .unwrap()
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let d = deployment(10, json!("25%"), json!("25%"));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (3, 2));
        let d = deployment(1, json!(0), json!(0));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 1));
        let d = deployment(3, json!(1), json!(5));
        assert_eq!(max_unavailable(&d), 3);
    }

    #[test]
    fn conditions_keep_transition_time_for_the_same_status() {
        let t0 = Time(jiff::Timestamp::from_second(0).unwrap());
        let t1 = Time(jiff::Timestamp::from_second(60).unwrap());
        let mut status = DeploymentStatus::default();
        set_condition(
            &mut status,
            new_condition("Progressing", "True", reason::NEW_RS, "a".into(), &t0),
        );
        set_condition(
            &mut status,
            new_condition(
                "Available",
                "False",
                reason::MIN_UNAVAILABLE,
                "b".into(),
                &t0,
            ),
        );
        set_condition(
            &mut status,
            new_condition("Progressing", "True", reason::RS_UPDATED, "c".into(), &t1),
        );
        let conditions = status.conditions.unwrap();
        assert_eq!(conditions[0].type_, "Available");
        assert_eq!(conditions[1].last_update_time, Some(t1));
        assert_eq!(conditions[1].last_transition_time, Some(t0));
    }
}
