//! Which pods a ReplicaSet deletes first when it scales down: upstream's
//! `ActivePodsWithRanks` order (unassigned, pending, not ready, lower
//! pod-deletion-cost, doubled up on a node, ready more recently, more restarts,
//! newer — times compared on upstream's logarithmic scale).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use super::annotations::numeric_annotation;
use super::pod_state::{created_ms, is_active, is_ready, phase, ready_since_ms};

/// The annotation with which users say which pods are cheaper to delete.
pub const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

fn node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn phase_ordinal(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    numeric_annotation(&pod.metadata, DELETION_COST_ANNOTATION)
}

/// The highest restart count among containers and sidecars.
fn max_restarts(pod: &Pod) -> i32 {
    let status = pod.status.as_ref();
    let containers = status.and_then(|s| s.container_statuses.as_ref());
    let sidecars = status.and_then(|s| s.init_container_statuses.as_ref());
    containers
        .into_iter()
        .flatten()
        .chain(sidecars.into_iter().flatten())
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

/// Base-2 logarithm of the age in nanoseconds (-1 for the future), as upstream buckets times.
fn log_rank(since_ms: i64, now_ms: i64) -> i64 {
    let nanos = (now_ms - since_ms) as f64 * 1e6;
    if nanos > 0.0 {
        nanos.log2() as i64
    } else {
        -1
    }
}

/// Upstream's time comparison: a zero time first, then the more recent on the
/// logarithmic scale; within one bucket the lower UID (`None` = undecided only for
/// equal times).
fn recent_first(a: i64, b: i64, now_ms: i64, uids: (&str, &str)) -> Option<Ordering> {
    if a == b {
        return None;
    }
    Some(match (a, b) {
        (0, _) => Ordering::Less,
        (_, 0) => Ordering::Greater,
        _ => log_rank(a, now_ms)
            .cmp(&log_rank(b, now_ms))
            .then_with(|| uids.0.cmp(uids.1)),
    })
}

/// Sorts `pods` so the ones to delete first come first. `related` are the pods
/// of the same owner (all ReplicaSets of one Deployment) that count toward
/// "doubled up on a node".
pub fn rank_for_deletion(pods: &mut [Pod], related: &[&Pod], now_ms: i64) {
    let mut on_node: BTreeMap<String, usize> = BTreeMap::new();
    for pod in related.iter().filter(|p| is_active(p)) {
        *on_node.entry(node(pod).to_string()).or_default() += 1;
    }
    let rank_of = |p: &Pod| on_node.get(node(p)).copied().unwrap_or(0);
    pods.sort_by(|a, b| {
        let (na, nb) = (node(a), node(b));
        if na != nb && (na.is_empty() || nb.is_empty()) {
            return if na.is_empty() {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let by_state = phase_ordinal(a)
            .cmp(&phase_ordinal(b))
            .then_with(|| is_ready(a).cmp(&is_ready(b)))
            .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
            .then_with(|| rank_of(b).cmp(&rank_of(a)));
        if by_state != Ordering::Equal {
            return by_state;
        }
        let uids = (
            a.metadata.uid.as_deref().unwrap_or(""),
            b.metadata.uid.as_deref().unwrap_or(""),
        );
        if is_ready(a) && is_ready(b) {
            let ready = (
                ready_since_ms(a).unwrap_or(0),
                ready_since_ms(b).unwrap_or(0),
            );
            if let Some(order) = recent_first(ready.0, ready.1, now_ms, uids) {
                return order;
            }
        }
        let restarts = max_restarts(b).cmp(&max_restarts(a));
        if restarts != Ordering::Equal {
            return restarts;
        }
        recent_first(created_ms(a), created_ms(b), now_ms, uids)
            .unwrap_or_else(|| uids.0.cmp(uids.1))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, phase: &str, ready_at: Option<&str>, created: &str) -> Pod {
        let mut conditions = vec![];
        if let Some(at) = ready_at {
            conditions.push(json!({"type": "Ready", "status": "True", "lastTransitionTime": at}));
        }
        serde_json::from_value(json!({
            "metadata": {"name": name, "uid": name, "creationTimestamp": created},
            "spec": {"nodeName": node, "containers": []},
            "status": {"phase": phase, "conditions": conditions},
        }))
        .unwrap()
    }

    fn names(pods: &[Pod]) -> Vec<&str> {
        pods.iter()
            .map(|p| p.metadata.name.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn unassigned_pending_unready_doubled_up_and_newer_go_first() {
        let now = jiff::Timestamp::from_second(1_000_000)
            .unwrap()
            .as_millisecond();
        let t = |s: i64| jiff::Timestamp::from_second(s).unwrap().to_string();
        let mut pods = vec![
            pod("old-ready", "n1", "Running", Some(&t(100_000)), &t(100_000)),
            pod("new-ready", "n2", "Running", Some(&t(999_000)), &t(998_000)),
            pod("unassigned", "", "Pending", None, &t(999_990)),
            pod("pending", "n3", "Pending", None, &t(999_990)),
            pod("running-unready", "n3", "Running", None, &t(500_000)),
            pod("doubled", "n1", "Running", Some(&t(100_000)), &t(100_000)),
        ];
        let snapshot = pods.clone();
        let related: Vec<&Pod> = snapshot.iter().collect();
        rank_for_deletion(&mut pods, &related, now);
        assert_eq!(
            names(&pods),
            [
                "unassigned",
                "pending",
                "running-unready",
                "doubled",
                "old-ready",
                "new-ready"
            ]
        );
        // Without other pods on n1, the recently ready pod goes before the old one.
        let mut two = vec![snapshot[0].clone(), snapshot[1].clone()];
        let alone: Vec<&Pod> = vec![];
        rank_for_deletion(&mut two, &alone, now);
        assert_eq!(names(&two), ["new-ready", "old-ready"]);
    }
}
