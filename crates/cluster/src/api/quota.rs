//! ResourceQuota accounting shared by quota admission and the resource quota
//! controller: what an object uses (upstream's pod and object-count evaluators),
//! `hard` lists, and upstream's text for amounts (`requests.cpu=500m,pods=2`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use serde_json::Value;

use super::quantity;
use crate::scheduler::resources::{pod_limits, pod_requests};

/// Resource name → amount in thousandths (so CPU and counts share one scale).
pub type Usage = BTreeMap<String, i128>;

/// The compute resources a quota can require every container to state.
const REQUIRABLE: [&str; 4] = [
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];

/// Core kinds upstream also counts under their bare plural (`services: 10`).
const LEGACY_COUNTS: [&str; 6] = [
    "configmaps",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "services",
];

/// What one object uses: for pods that are not finished, `pods` and its compute
/// requests and limits; for every object, `count/<resource>[.<group>]`.
pub fn usage_of(group: &str, plural: &str, obj: &Value) -> Usage {
    let mut usage = Usage::new();
    let count_key = if group.is_empty() {
        format!("count/{plural}")
    } else {
        format!("count/{plural}.{group}")
    };
    if group.is_empty() && plural == "pods" {
        return Pod::deserialize(obj)
            .map(|pod| pod_usage(&pod))
            .unwrap_or_default();
    }
    usage.insert(count_key, 1000);
    if group.is_empty() && LEGACY_COUNTS.contains(&plural) {
        usage.insert(plural.to_string(), 1000);
    }
    usage
}

/// What a pod uses: nothing once it has finished; else `pods`, `count/pods` and its
/// compute requests (also as bare `cpu`/`memory`) and limits.
pub fn pod_usage(pod: &Pod) -> Usage {
    let mut usage = Usage::new();
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return usage;
    }
    usage.insert("count/pods".into(), 1000);
    usage.insert("pods".into(), 1000);
    let requests = pod_requests(pod);
    let limits = pod_limits(pod);
    for (prefix, amounts) in [("requests", &requests), ("limits", &limits)] {
        let entries = [
            ("cpu", i128::from(amounts.milli_cpu)),
            ("memory", i128::from(amounts.memory) * 1000),
            (
                "ephemeral-storage",
                i128::from(amounts.ephemeral_storage) * 1000,
            ),
        ];
        for (name, amount) in entries.into_iter().filter(|(_, a)| *a > 0) {
            usage.insert(format!("{prefix}.{name}"), amount);
            if prefix == "requests" && name != "ephemeral-storage" {
                usage.insert(name.to_string(), amount);
            }
        }
        for (name, amount) in &amounts.scalar {
            usage.insert(format!("{prefix}.{name}"), i128::from(*amount) * 1000);
        }
    }
    usage
}

/// Adds `more` into `total`.
pub fn add(total: &mut Usage, more: &Usage) {
    for (name, amount) in more {
        *total.entry(name.clone()).or_default() += amount;
    }
}

/// A `ResourceList` (`{"requests.cpu": "1"}`) in thousandths.
pub fn parse_list(list: &Value) -> Usage {
    list.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, amount)| {
            let milli = quantity::milli_value(amount.as_str()?)?;
            Some((name.clone(), i128::from(milli)))
        })
        .collect()
}

/// An amount as a quantity's text: `500m`, `2`, `256Mi`.
pub fn format_amount(name: &str, milli: i128) -> String {
    if milli % 1000 != 0 {
        return format!("{milli}m");
    }
    let whole = (milli / 1000) as i64;
    if (name.contains("memory") || name.contains("storage")) && whole % 1024 == 0 && whole != 0 {
        quantity::format_bytes(whole, true)
    } else {
        whole.to_string()
    }
}

/// A `ResourceList` of the amounts (what a quota's `status.used` holds).
pub fn to_list(usage: &Usage) -> Value {
    usage
        .iter()
        .map(|(name, milli)| (name.clone(), Value::String(format_amount(name, *milli))))
        .collect::<serde_json::Map<String, Value>>()
        .into()
}

/// Upstream's `prettyPrint`: `name=amount` pairs, sorted, comma-separated.
pub fn pretty(usage: &Usage) -> String {
    usage
        .iter()
        .map(|(name, milli)| format!("{name}={}", format_amount(name, *milli)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The compute resources `hard` constrains that some container of `pod` does not
/// state (upstream's `must specify`), sorted.
pub fn missing_requirements(pod: &Value, hard: &Usage) -> Vec<String> {
    let required: Vec<&str> = REQUIRABLE
        .into_iter()
        .filter(|r| {
            hard.contains_key(*r)
                || (*r == "requests.cpu" && hard.contains_key("cpu"))
                || (*r == "requests.memory" && hard.contains_key("memory"))
        })
        .collect();
    let containers = pod["spec"]["containers"].as_array().into_iter().flatten();
    let inits = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten();
    let mut missing: Vec<String> = Vec::new();
    for container in containers.chain(inits) {
        for resource in &required {
            let (kind, name) = resource.split_once('.').unwrap_or(("", resource));
            if container["resources"][kind][name].is_null()
                && !missing.iter().any(|m| m == resource)
            {
                missing.push(resource.to_string());
            }
        }
    }
    missing.sort();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_usage_and_upstreams_text() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
            {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
        ]}});
        let usage = usage_of("", "pods", &pod);
        assert_eq!(
            pretty(&usage),
            "count/pods=1,cpu=500m,limits.cpu=1,memory=128Mi,pods=1,requests.cpu=500m,requests.memory=128Mi"
        );
        let hard = parse_list(&json!({"limits.cpu": "2", "requests.memory": "1Gi"}));
        assert_eq!(missing_requirements(&pod, &hard), ["limits.cpu"]);
        assert_eq!(
            pretty(&usage_of("", "services", &json!({}))),
            "count/services=1,services=1"
        );
        assert_eq!(
            pretty(&usage_of("apps", "deployments", &json!({}))),
            "count/deployments.apps=1"
        );
    }
}
