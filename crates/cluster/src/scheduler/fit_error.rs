//! The FailedScheduling message, built as upstream's `FitError.Error()` builds it:
//! `0/N nodes are available: <count reason, sorted>. <post-filter message>.`

use std::collections::BTreeMap;

use super::framework::Status;

/// `0/N nodes are available: ...` from the failing nodes' statuses; nodes without a
/// status count under `absent` (if any).
pub fn message(
    num_all_nodes: usize,
    failed: &BTreeMap<String, Status>,
    absent: Option<&str>,
    post_filter: Option<&str>,
) -> String {
    let mut text = format!("0/{num_all_nodes} nodes are available:");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for status in failed.values() {
        for reason in &status.reasons {
            *counts.entry(reason).or_default() += 1;
        }
    }
    if let Some(absent) = absent {
        let missing = num_all_nodes.saturating_sub(failed.len());
        if missing > 0 {
            *counts.entry(absent).or_default() += missing;
        }
    }
    let mut reasons: Vec<String> = counts
        .iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    reasons.sort();
    if !reasons.is_empty() {
        text.push_str(&format!(" {}.", reasons.join(", ")));
    }
    if let Some(post) = post_filter.filter(|p| !p.is_empty()) {
        text.push_str(&format!(" {post}."));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::framework::Code;

    #[test]
    fn upstream_layout() {
        let mut failed = BTreeMap::new();
        failed.insert(
            "control-plane".to_string(),
            Status::new(
                Code::UnschedulableAndUnresolvable,
                &["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"],
            ),
        );
        for n in ["node-1", "node-2"] {
            failed.insert(
                n.to_string(),
                Status::new(Code::Unschedulable, &["Insufficient cpu"]),
            );
        }
        assert_eq!(
            message(3, &failed, None, Some("preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.."
        );
    }
}
