//! Pods: defaulting (spec and the admission defaults every cluster applies),
//! the Pending status on create, validation and upstream's update restrictions.

use crate::api::json_path::ValueExt;
use k8s_openapi::api::core::v1::{Pod, PodSpec, PodStatus, Toleration};
use serde_json::{json, Value};

use super::pod_spec_defaults::default_pod_spec;
use super::{decode_status, typed, Source, StatusDecoder, Strategy, UnknownFields};
use crate::api::equality::equal_ignoring;
use crate::api::names::{is_dns1123_label, name_problems, NameRule};
use crate::api::status::FieldError;

/// The strategy for `pods`.
pub struct PodStrategy;

/// Admission defaults: the ServiceAccount, DefaultTolerationSeconds and Priority plugins.
fn admission_defaults(spec: &mut PodSpec) {
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        spec.service_account_name = Some("default".into());
    }
    spec.service_account = spec.service_account_name.clone();
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let present = tolerations.iter().any(|t| {
            t.key.as_deref() == Some(key) && t.effect.as_deref().is_none_or(|e| e == "NoExecute")
        });
        if !present {
            tolerations.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(300),
                ..Default::default()
            });
        }
    }
}

/// Upstream's QoS class of a pod spec.
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|f| spec.get(*f).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        let requests = c.at("/resources/requests").and_then(Value::as_object);
        let limits = c.at("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for resource in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(resource));
            let request = requests.and_then(|r| r.get(resource));
            if limit.is_none() || (request.is_some() && request != limit) {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Validates the containers of a pod spec at `path` (e.g. `spec`, `spec.template.spec`).
pub fn validate_pod_spec(spec: Option<&Value>, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => errors.push(FieldError::required(format!("{path}.containers"), "")),
        Some(list) if list.is_empty() => {
            errors.push(FieldError::required(format!("{path}.containers"), ""))
        }
        Some(list) => {
            let mut seen: Vec<&str> = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let at = format!("{path}.containers[{i}]");
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    errors.push(FieldError::required(format!("{at}.name"), ""));
                } else if !is_dns1123_label(name) {
                    for problem in name_problems(NameRule::Label, name) {
                        errors.push(FieldError::invalid(
                            format!("{at}.name"),
                            &json!(name),
                            &problem,
                        ));
                    }
                } else if seen.contains(&name) {
                    errors.push(FieldError::duplicate(format!("{at}.name"), &json!(name)));
                }
                seen.push(name);
                if c.get("image")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .is_empty()
                {
                    errors.push(FieldError::required(format!("{at}.image"), ""));
                }
                if let Some(policy) = c.get("imagePullPolicy") {
                    if !matches!(policy.as_str(), Some("Always" | "IfNotPresent" | "Never")) {
                        errors.push(FieldError::not_supported(
                            format!("{at}.imagePullPolicy"),
                            policy,
                            &["Always", "IfNotPresent", "Never"],
                        ));
                    }
                }
            }
        }
    }
    if let Some(policy) = spec.and_then(|s| s.get("restartPolicy")) {
        if !matches!(policy.as_str(), Some("Always" | "OnFailure" | "Never")) {
            errors.push(FieldError::not_supported(
                format!("{path}.restartPolicy"),
                policy,
                &["Always", "Never", "OnFailure"],
            ));
        }
    }
    errors
}

const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Fields of a pod spec that updates may change (containers' images are checked separately).
const MUTABLE_SPEC_FIELDS: &[&str] = &[
    "activeDeadlineSeconds",
    "tolerations",
    "terminationGracePeriodSeconds",
    "nodeName",
    "containers",
    "initContainers",
    "schedulingGates",
];

/// Whether an update changed only what upstream lets pod updates change.
fn only_mutable_changes(new: Option<&Value>, old: Option<&Value>) -> bool {
    let (new, old) = (new.unwrap_or(&Value::Null), old.unwrap_or(&Value::Null));
    if !equal_ignoring(new, old, MUTABLE_SPEC_FIELDS) {
        return false;
    }
    // Scheduling gates may only be removed.
    let gates = |spec: &Value| {
        spec.get("schedulingGates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let old_gates = gates(old);
    if !gates(new).iter().all(|g| old_gates.contains(g)) {
        return false;
    }
    ["containers", "initContainers"].iter().all(|list| {
        match (
            new.get(*list).and_then(Value::as_array),
            old.get(*list).and_then(Value::as_array),
        ) {
            (Some(n), Some(o)) => {
                n.len() == o.len()
                    && n.iter()
                        .zip(o)
                        .all(|(a, b)| equal_ignoring(a, b, &["image"]))
            }
            (n, o) => n == o,
        }
    })
}

impl Strategy for PodStrategy {
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<Pod>(obj, unknown, |pod| {
            let spec = pod.spec.get_or_insert_with(Default::default);
            default_pod_spec(spec);
            admission_defaults(spec);
        })
    }

    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<PodStatus>)
    }

    fn prepare_for_create(&self, obj: &mut Value, _has_status: bool) {
        let qos = qos_class(obj.get("spec").unwrap_or(&Value::Null));
        obj["status"] = json!({"phase": "Pending", "qosClass": qos});
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_pod_spec(obj.get("spec"), "spec")
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errors = self.validate(new);
        if !only_mutable_changes(new.get("spec"), old.get("spec")) {
            errors.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN));
        }
        let old_node = old.at("/spec/nodeName");
        if old_node.is_some() && new.at("/spec/nodeName") != old_node {
            errors.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN));
        }
        errors
    }

    fn returns_deleted_object(&self) -> bool {
        true
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        assert_eq!(
            qos_class(&json!({"containers": [{"name": "a"}]})),
            "BestEffort"
        );
        assert_eq!(
            qos_class(
                &json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}}]})
            ),
            "Guaranteed"
        );
        assert_eq!(
            qos_class(&json!({"containers": [{"resources": {"requests": {"cpu": "100m"}}}]})),
            "Burstable"
        );
    }

    #[test]
    fn defaults_match_upstream() {
        let given = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], "bogus": 1}});
        let text = given.to_string();
        let mut unknown = Vec::new();
        let pod = PodStrategy
            .normalize(Source::Tree(given), &mut unknown)
            .unwrap();
        // A request body's text decodes to the same defaulted object.
        let mut unknown_in_text = Vec::new();
        let from_text = PodStrategy
            .normalize(Source::Text(&text), &mut unknown_in_text)
            .unwrap();
        assert_eq!(from_text, pod);
        assert_eq!(unknown, ["spec.bogus"]);
        assert_eq!(unknown_in_text, unknown);
        assert!(PodStrategy
            .normalize(Source::Text(&format!("{text} trailing")), &mut Vec::new())
            .is_err());
        assert_eq!(pod["spec"]["restartPolicy"], "Always");
        assert_eq!(pod["spec"]["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["spec"]["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["spec"]["schedulerName"], "default-scheduler");
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(
            pod["spec"]["containers"][0]["terminationMessagePath"],
            "/dev/termination-log"
        );
        assert_eq!(pod["spec"]["tolerations"][0]["tolerationSeconds"], 300);
    }
}
