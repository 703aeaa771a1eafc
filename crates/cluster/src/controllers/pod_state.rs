//! What controllers ask of a pod, as upstream's `podutil` answers it: active,
//! terminating, ready, and available for `minReadySeconds`.

use k8s_openapi::api::core::v1::{Pod, PodCondition};

/// The pod's `Ready` condition, if reported.
pub fn ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// The pod's phase (`Pending` when not reported).
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// Whether the pod has finished (`Succeeded` or `Failed`).
pub fn is_finished(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Whether deletion of the pod has begun.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Upstream's `FilterActivePods`: not finished and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    !is_finished(pod) && !is_terminating(pod)
}

/// Whether the Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// When the pod became ready, in Unix milliseconds.
pub fn ready_since_ms(pod: &Pod) -> Option<i64> {
    ready_condition(pod)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0.as_millisecond())
}

/// Upstream's `IsPodAvailable`: ready, and for at least `min_ready_seconds` by `now_ms`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now_ms: i64) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since_ms(pod).is_some_and(|since| since + i64::from(min_ready_seconds) * 1000 <= now_ms)
}

/// The pod's creation time in Unix milliseconds (0 when unset).
pub fn created_ms(pod: &Pod) -> i64 {
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map_or(0, |t| t.0.as_millisecond())
}
