//! Workload kinds (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob):
//! upstream's defaults, and validation of replicas, selectors and pod templates.

use crate::api::json_path::ValueExt;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetStatus, DaemonSetUpdateStrategy, Deployment, DeploymentStatus,
    DeploymentStrategy as RolloutStrategy, ReplicaSet, ReplicaSetStatus, RollingUpdateDaemonSet,
    RollingUpdateDeployment, RollingUpdateStatefulSetStrategy, StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetStatus, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job, JobStatus};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Value};

use super::pod::validate_pod_spec;
use super::pod_spec_defaults::default_pod_spec;
use super::{decode_status, typed, Source, StatusDecoder, Strategy, UnknownFields};
use crate::api::labels::LabelSelector;
use crate::api::status::FieldError;
use crate::controllers::daemonset::placement::TEMPLATE_GENERATION_ANNOTATION;

/// Go's `%#v` of a string map, as upstream prints labels in messages.
fn go_string_map(map: Option<&Value>) -> String {
    let mut pairs: Vec<(String, String)> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", inner.join(", "))
}

/// Go's `%#v` of a `metav1.LabelSelector`.
fn go_label_selector(selector: Option<&Value>) -> String {
    let labels = selector.and_then(|s| s.get("matchLabels"));
    let labels = if labels.is_some() {
        go_string_map(labels)
    } else {
        "map[string]string(nil)".into()
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}"
    )
}

/// `spec.replicas` ≥ 0, a non-empty selector that matches the template's labels, and a valid template.
fn validate_replicated(obj: &Value, restart_policies: &[&str]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(replicas) = obj.at("/spec/replicas").and_then(Value::as_i64) {
        if replicas < 0 {
            errors.push(FieldError::invalid(
                "spec.replicas",
                &json!(replicas),
                "must be greater than or equal to 0",
            ));
        }
    }
    errors.extend(validate_selector_and_template(
        obj,
        "spec",
        restart_policies,
    ));
    errors
}

fn validate_selector_and_template(
    obj: &Value,
    path: &str,
    restart_policies: &[&str],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let pointer = format!("/{}", path.replace('.', "/"));
    let spec = obj.at(&pointer);
    let selector = spec.and_then(|s| s.get("selector"));
    let template_labels = spec.and_then(|s| s.at("/template/metadata/labels"));
    match selector {
        None => errors.push(FieldError::required(format!("{path}.selector"), "")),
        Some(sel) => match LabelSelector::from_json(sel) {
            Ok(parsed) if parsed.is_empty() => errors.push(FieldError::invalid(
                format!("{path}.selector"),
                &Value::String(go_label_selector(Some(sel))),
                "empty selector is invalid for deployment",
            )),
            Ok(parsed) => {
                if !parsed.matches_json(template_labels) {
                    errors.push(FieldError {
                        reason: "FieldValueInvalid",
                        field: format!("{path}.template.metadata.labels"),
                        message: format!(
                            "Invalid value: {}: `selector` does not match template `labels`",
                            go_string_map(template_labels)
                        ),
                    });
                }
            }
            Err(e) => errors.push(FieldError::invalid(format!("{path}.selector"), sel, &e)),
        },
    }
    let template_spec = spec.and_then(|s| s.at("/template/spec"));
    errors.extend(validate_pod_spec(
        template_spec,
        &format!("{path}.template.spec"),
    ));
    if let Some(policy) = template_spec.and_then(|s| s.get("restartPolicy")) {
        if !restart_policies.contains(&policy.as_str().unwrap_or("")) {
            errors.push(FieldError::not_supported(
                format!("{path}.template.spec.restartPolicy"),
                policy,
                restart_policies,
            ));
        }
    }
    errors
}

/// `spec.selector` may not change (apps/v1).
fn immutable_selector(new: &Value, old: &Value) -> Option<FieldError> {
    let (n, o) = (new.at("/spec/selector"), old.at("/spec/selector"));
    (n != o).then(|| FieldError {
        reason: "FieldValueInvalid",
        field: "spec.selector".into(),
        message: format!(
            "Invalid value: {}: field is immutable",
            go_label_selector(n)
        ),
    })
}

fn percent(value: &str) -> Option<IntOrString> {
    Some(IntOrString::String(value.into()))
}

/// The strategy for `deployments`.
pub struct DeploymentStrategy;

impl Strategy for DeploymentStrategy {
    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<DeploymentStatus>)
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<Deployment>(obj, unknown, |d| {
            let spec = d.spec.get_or_insert_with(Default::default);
            spec.replicas.get_or_insert(1);
            spec.revision_history_limit.get_or_insert(10);
            spec.progress_deadline_seconds.get_or_insert(600);
            let strategy = spec.strategy.get_or_insert_with(RolloutStrategy::default);
            let kind = strategy
                .type_
                .get_or_insert_with(|| "RollingUpdate".into())
                .clone();
            if kind == "RollingUpdate" {
                let rolling = strategy
                    .rolling_update
                    .get_or_insert_with(RollingUpdateDeployment::default);
                if rolling.max_surge.is_none() {
                    rolling.max_surge = percent("25%");
                }
                if rolling.max_unavailable.is_none() {
                    rolling.max_unavailable = percent("25%");
                }
            }
            if let Some(pod) = spec.template.spec.as_mut() {
                default_pod_spec(pod);
            }
        })
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_replicated(obj, &["Always"])
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errors = self.validate(new);
        errors.extend(immutable_selector(new, old));
        errors
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The strategy for `replicasets`.
pub struct ReplicaSetStrategy;

impl Strategy for ReplicaSetStrategy {
    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<ReplicaSetStatus>)
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<ReplicaSet>(obj, unknown, |rs| {
            let spec = rs.spec.get_or_insert_with(Default::default);
            spec.replicas.get_or_insert(1);
            if let Some(pod) = spec.template.as_mut().and_then(|t| t.spec.as_mut()) {
                default_pod_spec(pod);
            }
        })
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_replicated(obj, &["Always"])
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errors = self.validate(new);
        errors.extend(immutable_selector(new, old));
        errors
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The strategy for `statefulsets`.
pub struct StatefulSetStrategy;

impl Strategy for StatefulSetStrategy {
    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<StatefulSetStatus>)
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<StatefulSet>(obj, unknown, |sts| {
            let spec = sts.spec.get_or_insert_with(Default::default);
            spec.replicas.get_or_insert(1);
            spec.revision_history_limit.get_or_insert(10);
            spec.pod_management_policy
                .get_or_insert_with(|| "OrderedReady".into());
            let update = spec
                .update_strategy
                .get_or_insert_with(StatefulSetUpdateStrategy::default);
            if update.type_.get_or_insert_with(|| "RollingUpdate".into()) == "RollingUpdate" {
                update
                    .rolling_update
                    .get_or_insert_with(RollingUpdateStatefulSetStrategy::default)
                    .partition
                    .get_or_insert(0);
            }
            let retention = spec
                .persistent_volume_claim_retention_policy
                .get_or_insert_with(StatefulSetPersistentVolumeClaimRetentionPolicy::default);
            retention
                .when_deleted
                .get_or_insert_with(|| "Retain".into());
            retention.when_scaled.get_or_insert_with(|| "Retain".into());
            if let Some(pod) = spec.template.spec.as_mut() {
                default_pod_spec(pod);
            }
        })
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_replicated(obj, &["Always"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The strategy for `daemonsets`.
pub struct DaemonSetStrategy;

impl Strategy for DaemonSetStrategy {
    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<DaemonSetStatus>)
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<DaemonSet>(obj, unknown, |ds| {
            let spec = ds.spec.get_or_insert_with(Default::default);
            spec.revision_history_limit.get_or_insert(10);
            let update = spec
                .update_strategy
                .get_or_insert_with(DaemonSetUpdateStrategy::default);
            if update.type_.get_or_insert_with(|| "RollingUpdate".into()) == "RollingUpdate" {
                let rolling = update
                    .rolling_update
                    .get_or_insert_with(RollingUpdateDaemonSet::default);
                rolling.max_unavailable.get_or_insert(IntOrString::Int(1));
                rolling.max_surge.get_or_insert(IntOrString::Int(0));
            }
            if let Some(pod) = spec.template.spec.as_mut() {
                default_pod_spec(pod);
            }
        })
    }
    fn prepare_for_create(&self, obj: &mut Value, has_status: bool) {
        if has_status {
            if let Some(map) = obj.as_object_mut() {
                map.remove("status");
            }
        }
        obj["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION] = json!("1");
    }
    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        let kept: i64 = old["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION]
            .as_str()
            .and_then(|g| g.parse().ok())
            .unwrap_or(1);
        let changed = new.at("/spec/template") != old.at("/spec/template");
        let generation = if changed { kept + 1 } else { kept };
        new["metadata"]["annotations"][TEMPLATE_GENERATION_ANNOTATION] =
            json!(generation.to_string());
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_selector_and_template(obj, "spec", &["Always"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The strategy for `jobs`: defaults, the generated selector and template labels.
pub struct JobStrategy;

impl Strategy for JobStrategy {
    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<JobStatus>)
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<Job>(obj, unknown, |job| {
            let uid = job.metadata.uid.clone().unwrap_or_default();
            let name = job.metadata.name.clone().unwrap_or_default();
            let spec = job.spec.get_or_insert_with(Default::default);
            if spec.completions.is_none() && spec.parallelism.is_none() {
                spec.completions = Some(1);
            }
            spec.parallelism.get_or_insert(1);
            let default_limit = match spec.backoff_limit_per_index {
                Some(_) => i32::MAX,
                None => 6,
            };
            spec.backoff_limit.get_or_insert(default_limit);
            spec.completion_mode
                .get_or_insert_with(|| "NonIndexed".into());
            spec.suspend.get_or_insert(false);
            let replacement = match spec.pod_failure_policy {
                Some(_) => "Failed",
                None => "TerminatingOrFailed",
            };
            spec.pod_replacement_policy
                .get_or_insert_with(|| replacement.into());
            if !spec.manual_selector.unwrap_or(false) && spec.selector.is_none() && !uid.is_empty()
            {
                let mut selector =
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector::default();
                selector
                    .match_labels
                    .get_or_insert_with(Default::default)
                    .insert("batch.kubernetes.io/controller-uid".into(), uid.clone());
                spec.selector = Some(selector);
                let labels = spec
                    .template
                    .metadata
                    .get_or_insert_with(Default::default)
                    .labels
                    .get_or_insert_with(Default::default);
                labels.insert("batch.kubernetes.io/controller-uid".into(), uid.clone());
                labels.insert("batch.kubernetes.io/job-name".into(), name.clone());
                labels.insert("controller-uid".into(), uid);
                labels.insert("job-name".into(), name);
            }
            if let Some(pod) = spec.template.spec.as_mut() {
                default_pod_spec(pod);
            }
        })
    }

    /// The generated selector and template labels carry the uid and name.
    fn defaults_read_server_metadata(&self) -> bool {
        true
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let policy = obj
            .at("/spec/template/spec/restartPolicy")
            .and_then(Value::as_str);
        let spec = obj.at("/spec/template/spec");
        errors.extend(validate_pod_spec(spec, "spec.template.spec"));
        if !matches!(policy, Some("OnFailure" | "Never")) {
            errors.push(FieldError::required(
                "spec.template.spec.restartPolicy",
                "valid values: \"OnFailure\", \"Never\"",
            ));
        }
        let failure_policy = obj
            .at("/spec/podFailurePolicy")
            .is_some_and(|p| !p.is_null());
        if failure_policy && policy == Some("OnFailure") {
            errors.push(FieldError::invalid(
                "spec.template.spec.restartPolicy",
                &json!("OnFailure"),
                "only \"Never\" is supported when podFailurePolicy is specified",
            ));
        }
        errors.extend(validate_completion_mode(obj));
        errors
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The most pods (and completions) an Indexed Job may ask for.
const MAX_INDEXED: i64 = 100_000;

/// Upstream's checks of `completionMode` and what Indexed requires.
fn validate_completion_mode(job: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mode = job.at("/spec/completionMode").and_then(Value::as_str);
    match mode {
        None | Some("NonIndexed") => {}
        Some("Indexed") => {
            let limit = |field: &str| {
                job.at(&format!("/spec/{field}"))
                    .and_then(Value::as_i64)
                    .filter(|n| *n > MAX_INDEXED)
                    .map(|n| {
                        FieldError::invalid(
                            format!("spec.{field}"),
                            &json!(n),
                            &format!("must be less than or equal to {MAX_INDEXED} when completion mode is Indexed"),
                        )
                    })
            };
            if job.at("/spec/completions").is_none_or(Value::is_null) {
                errors.push(FieldError::required(
                    "spec.completions",
                    "when completion mode is Indexed",
                ));
            }
            errors.extend(limit("completions"));
            errors.extend(limit("parallelism"));
            let max_failed = job.at("/spec/maxFailedIndexes").and_then(Value::as_i64);
            let completions = job.at("/spec/completions").and_then(Value::as_i64);
            if let (Some(max), Some(c)) = (max_failed, completions) {
                if max > c {
                    errors.push(FieldError::invalid(
                        "spec.maxFailedIndexes",
                        &json!(max),
                        "must be less than or equal to completions",
                    ));
                }
            }
        }
        Some(other) => errors.push(FieldError::not_supported(
            "spec.completionMode",
            &json!(other),
            &["NonIndexed", "Indexed"],
        )),
    }
    let per_index = job
        .at("/spec/backoffLimitPerIndex")
        .filter(|v| !v.is_null());
    if per_index.is_some() && mode != Some("Indexed") {
        errors.push(FieldError::forbidden(
            "spec.backoffLimitPerIndex",
            "requires indexed completion mode",
        ));
    }
    if job
        .at("/spec/maxFailedIndexes")
        .is_some_and(|v| !v.is_null())
        && per_index.is_none()
    {
        errors.push(FieldError::required(
            "spec.backoffLimitPerIndex",
            "when maxFailedIndexes is specified",
        ));
    }
    errors
}

/// The strategy for `cronjobs`.
pub struct CronJobStrategy;

impl Strategy for CronJobStrategy {
    fn status_decoder(&self) -> Option<StatusDecoder> {
        Some(decode_status::<CronJobStatus>)
    }
    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<CronJob>(obj, unknown, |cj| {
            let spec = cj.spec.get_or_insert_with(Default::default);
            spec.concurrency_policy
                .get_or_insert_with(|| "Allow".into());
            spec.suspend.get_or_insert(false);
            spec.successful_jobs_history_limit.get_or_insert(3);
            spec.failed_jobs_history_limit.get_or_insert(1);
            if let Some(pod) = spec
                .job_template
                .spec
                .as_mut()
                .and_then(|j| j.template.spec.as_mut())
            {
                default_pod_spec(pod);
            }
        })
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if obj
            .at("/spec/schedule")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            errors.push(FieldError::required("spec.schedule", ""));
        }
        errors
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}
