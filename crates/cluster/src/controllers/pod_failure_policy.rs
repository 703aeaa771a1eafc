//! A Job's `podFailurePolicy`: the first rule that matches a failed pod decides what
//! its failure means — `FailJob`, `Ignore` (not counted, replaced), `Count` (the
//! default) or `FailIndex` — matched on containers' exit codes or the pod's
//! conditions, with upstream's messages.

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyRule};
use k8s_openapi::api::core::v1::Pod;

/// What a matching rule says to do with a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Fail the Job, with upstream's message naming the pod and the rule.
    FailJob(String),
    Ignore,
    Count,
    FailIndex,
}

/// The first container (init containers after the others, as upstream looks) whose
/// non-zero exit code the rule's `onExitCodes` matches: (name, exit code).
fn exit_code_match(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<(String, i32)> {
    let requirement = rule.on_exit_codes.as_ref()?;
    let status = pod.status.as_ref()?;
    let statuses = status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten());
    statuses
        .filter(|s| {
            requirement
                .container_name
                .as_ref()
                .is_none_or(|name| *name == s.name)
        })
        .filter_map(|s| {
            let code = s.state.as_ref()?.terminated.as_ref()?.exit_code;
            Some((s.name.clone(), code))
        })
        .find(|(_, code)| {
            let listed = requirement.values.contains(code);
            *code != 0
                && if requirement.operator == "In" {
                    listed
                } else {
                    !listed
                }
        })
}

/// The first of the rule's `onPodConditions` the pod has.
fn condition_match(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<String> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    rule.on_pod_conditions.iter().flatten().find_map(|pattern| {
        let status = pattern.status.as_deref().unwrap_or("True");
        conditions
            .iter()
            .any(|c| c.type_ == pattern.type_ && c.status == status)
            .then(|| pattern.type_.clone())
    })
}

/// What the policy makes of the failed `pod`; `None` when no rule matches (the
/// failure counts as usual).
pub fn decide(policy: &PodFailurePolicy, pod: &Pod) -> Option<Action> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
    let name = pod.metadata.name.as_deref().unwrap_or("");
    for (index, rule) in policy.rules.iter().enumerate() {
        let reason = if let Some((container, code)) = exit_code_match(rule, pod) {
            format!(
                "Container {container} for pod {namespace}/{name} failed with exit code {code} matching {} rule at index {index}",
                rule.action
            )
        } else if let Some(condition) = condition_match(rule, pod) {
            format!(
                "Pod {namespace}/{name} has condition {condition} matching {} rule at index {index}",
                rule.action
            )
        } else {
            continue;
        };
        return Some(match rule.action.as_str() {
            "FailJob" => Action::FailJob(reason),
            "Ignore" => Action::Ignore,
            "FailIndex" => Action::FailIndex,
            _ => Action::Count,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failed_pod(code: i32, conditions: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default"},
            "status": {"phase": "Failed", "conditions": conditions, "containerStatuses": [{
                "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": code}}}]},
        }))
        .unwrap()
    }

    #[test]
    fn rules_match_in_order_with_upstreams_messages() {
        let policy: PodFailurePolicy = serde_json::from_value(json!({"rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [42]}},
        ]}))
        .unwrap();
        assert_eq!(
            decide(&policy, &failed_pod(42, json!([]))),
            Some(Action::FailJob("Container main for pod default/p failed with exit code 42 matching FailJob rule at index 1".into()))
        );
        assert_eq!(
            decide(
                &policy,
                &failed_pod(137, json!([{"type": "DisruptionTarget", "status": "True"}]))
            ),
            Some(Action::Ignore)
        );
        assert_eq!(
            decide(&policy, &failed_pod(1, json!([]))),
            Some(Action::Count)
        );
        assert_eq!(decide(&policy, &failed_pod(0, json!([]))), None);
    }
}
