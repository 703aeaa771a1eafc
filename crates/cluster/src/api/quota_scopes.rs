//! Which objects a scoped ResourceQuota counts (upstream's pod evaluator
//! `podMatchesScopeFunc`): a quota with `scopes` or a `scopeSelector` counts only the
//! pods every scope matches — Terminating (an `activeDeadlineSeconds`),
//! NotTerminating, BestEffort (no container states a request or limit),
//! NotBestEffort, PriorityClass (In, NotIn, Exists, DoesNotExist over
//! `priorityClassName`) and CrossNamespacePodAffinity — and no other objects.

use k8s_openapi::api::core::v1::{Container, Pod, PodAffinityTerm, WeightedPodAffinityTerm};
use serde_json::Value;

/// A scope requirement: the scope, an operator and values.
struct Requirement {
    scope: String,
    operator: String,
    values: Vec<String>,
}

/// The quota spec's requirements: each of `scopes` as `Exists`, then the selector's.
fn requirements(spec: &Value) -> Vec<Requirement> {
    let listed = spec["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|scope| Requirement {
            scope: scope.to_string(),
            operator: "Exists".into(),
            values: Vec::new(),
        });
    let selected = spec["scopeSelector"]["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Requirement {
            scope: e["scopeName"].as_str().unwrap_or("").to_string(),
            operator: e["operator"].as_str().unwrap_or("").to_string(),
            values: e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        });
    listed.chain(selected).collect()
}

/// Whether the quota (its `spec`) has any scope.
pub fn is_scoped(spec: &Value) -> bool {
    !requirements(spec).is_empty()
}

fn states_resources(container: &Container) -> bool {
    container.resources.as_ref().is_some_and(|r| {
        r.requests.as_ref().is_some_and(|m| !m.is_empty())
            || r.limits.as_ref().is_some_and(|m| !m.is_empty())
    })
}

/// Upstream's BestEffort QoS: no container or init container states anything.
fn best_effort(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    !spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(states_resources)
}

/// Whether a term reaches outside the pod's namespace.
fn cross_namespace(term: &PodAffinityTerm) -> bool {
    term.namespace_selector.is_some() || term.namespaces.as_ref().is_some_and(|n| !n.is_empty())
}

/// A pod's required and preferred terms of one kind.
fn all_terms<'a>(
    required: Option<&'a Vec<PodAffinityTerm>>,
    preferred: Option<&'a Vec<WeightedPodAffinityTerm>>,
) -> impl Iterator<Item = &'a PodAffinityTerm> {
    let preferred = preferred
        .into_iter()
        .flatten()
        .map(|w| &w.pod_affinity_term);
    required.into_iter().flatten().chain(preferred)
}

fn cross_namespace_affinity(pod: &Pod) -> bool {
    let Some(affinity) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return false;
    };
    let affinity_terms = affinity.pod_affinity.iter().flat_map(|a| {
        all_terms(
            a.required_during_scheduling_ignored_during_execution
                .as_ref(),
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref(),
        )
    });
    let anti_terms = affinity.pod_anti_affinity.iter().flat_map(|a| {
        all_terms(
            a.required_during_scheduling_ignored_during_execution
                .as_ref(),
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref(),
        )
    });
    affinity_terms.chain(anti_terms).any(cross_namespace)
}

/// Upstream's Terminating: the pod has an active deadline.
fn terminating(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .is_some_and(|d| d >= 0)
}

fn matches(requirement: &Requirement, pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    match requirement.scope.as_str() {
        "Terminating" => terminating(pod),
        "NotTerminating" => !terminating(pod),
        "BestEffort" => best_effort(pod),
        "NotBestEffort" => !best_effort(pod),
        "CrossNamespacePodAffinity" => cross_namespace_affinity(pod),
        "PriorityClass" => {
            let class = spec
                .and_then(|s| s.priority_class_name.as_deref())
                .filter(|c| !c.is_empty());
            match requirement.operator.as_str() {
                "In" => class.is_some_and(|c| requirement.values.iter().any(|v| v == c)),
                "NotIn" => class.is_none_or(|c| !requirement.values.iter().any(|v| v == c)),
                "Exists" => class.is_some(),
                "DoesNotExist" => class.is_none(),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a quota with `spec` counts `pod` (every scope matches; unscoped quotas
/// count every pod).
pub fn counts_pod(spec: &Value, pod: &Pod) -> bool {
    requirements(spec).iter().all(|r| matches(r, pod))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(spec: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn scopes_select_pods_as_upstreams_evaluator_does() {
        let plain = pod(json!({"containers": [{"name": "a"}]}));
        let sized = pod(
            json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}],
            "activeDeadlineSeconds": 60, "priorityClassName": "high"}),
        );
        let scoped = |scopes: Value| json!({"scopes": scopes});
        assert!(counts_pod(&json!({}), &plain));
        assert!(counts_pod(&scoped(json!(["BestEffort"])), &plain));
        assert!(!counts_pod(&scoped(json!(["BestEffort"])), &sized));
        assert!(counts_pod(
            &scoped(json!(["NotBestEffort", "Terminating"])),
            &sized
        ));
        assert!(!counts_pod(&scoped(json!(["Terminating"])), &plain));
        assert!(counts_pod(&scoped(json!(["NotTerminating"])), &plain));
        let class = |operator: &str, values: Value| {
            json!({"scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": operator, "values": values}]}})
        };
        assert!(counts_pod(&class("In", json!(["high"])), &sized));
        assert!(!counts_pod(&class("In", json!(["high"])), &plain));
        assert!(counts_pod(&class("NotIn", json!(["high"])), &plain));
        assert!(counts_pod(&class("Exists", json!([])), &sized));
        assert!(counts_pod(&class("DoesNotExist", json!([])), &plain));
        assert!(is_scoped(&class("Exists", json!([]))));
        let reaching = pod(
            json!({"containers": [{"name": "a"}], "affinity": {"podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {
                "topologyKey": "zone", "namespaces": ["other"]}}]}}}),
        );
        let cross = scoped(json!(["CrossNamespacePodAffinity"]));
        assert!(counts_pod(&cross, &reaching));
        assert!(!counts_pod(&cross, &plain));
        assert!(!is_scoped(&json!({"hard": {"pods": "1"}})));
    }
}
