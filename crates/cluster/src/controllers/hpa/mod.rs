//! The HorizontalPodAutoscaler controller (autoscaling/v2), as upstream's: every
//! 15 seconds it reads the target's `scale`, the pods' resource metrics from
//! `metrics.k8s.io`, computes the replicas each Resource metric asks for, keeps
//! the highest, applies the behavior (scale-down stabilization, scale-up and
//! scale-down rate policies), clamps to min/max, rescales and reports status,
//! conditions and `SuccessfulRescale` events.

pub mod replicas;

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, HorizontalPodAutoscaler};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::List;
use serde_json::{json, Value};

use super::pod_state::{is_ready, is_terminating, phase};
use crate::api::quantity::{milli_value, value};
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::{Informer, ObjectRef, Recorder, WorkQueue};
use crate::kubelet::usage;
use crate::sim::{Component, Ctx};
use replicas::{for_utilization, PodSample};

/// The trace and event source name.
pub const NAME: &str = "horizontal-pod-autoscaler";

/// Upstream's `--horizontal-pod-autoscaler-sync-period`.
pub const SYNC_PERIOD_MS: u64 = 15_000;

/// Scales workloads to their metrics.
pub struct HpaController {
    recorder: Recorder,
    autoscalers: Informer<HorizontalPodAutoscaler>,
    queue: WorkQueue,
    /// HPA key → (virtual ms, recommended replicas), for scale-down stabilization.
    recommendations: BTreeMap<String, Vec<(u64, i32)>>,
    /// HPA key → (virtual ms, replicas added or removed), for the rate policies.
    scale_events: BTreeMap<String, Vec<(u64, i32)>>,
}

impl Default for HpaController {
    fn default() -> Self {
        HpaController {
            recorder: Recorder::new(NAME, None),
            autoscalers: Informer::new("/apis/autoscaling/v2/horizontalpodautoscalers"),
            queue: WorkQueue::new(0),
            recommendations: BTreeMap::new(),
            scale_events: BTreeMap::new(),
        }
    }
}

fn condition(kind: &str, status: bool, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": if status { "True" } else { "False" },
        "lastTransitionTime": now, "reason": reason, "message": message})
}

/// The most replicas `rules` allow in one period from `current` (scaling up) or
/// the fewest (scaling down), given the changes already made in the period.
fn rate_limit(
    rules: &HPAScalingRules,
    current: i32,
    events: &[(u64, i32)],
    now: u64,
    up: bool,
) -> i32 {
    let policies = rules.policies.clone().unwrap_or_default();
    let select_min = rules.select_policy.as_deref() == Some("Min");
    let mut limits = Vec::new();
    for policy in &policies {
        let period = policy.period_seconds.max(1) as u64 * 1000;
        let changed: i32 = events
            .iter()
            .filter(|(at, _)| now.saturating_sub(*at) < period)
            .map(|(_, delta)| *delta)
            .sum();
        let start = current - changed;
        let limit = match (policy.type_.as_str(), up) {
            ("Pods", true) => start + policy.value,
            ("Pods", false) => start - policy.value,
            (_, true) => (f64::from(start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32,
            (_, false) => {
                (f64::from(start) * (1.0 - f64::from(policy.value) / 100.0)).floor() as i32
            }
        };
        limits.push(limit);
    }
    let pick = |l: &Vec<i32>, want_max: bool| {
        if want_max {
            l.iter().copied().max()
        } else {
            l.iter().copied().min()
        }
    };
    // For scale up "Max" picks the largest limit; for scale down the smallest floor.
    match pick(&limits, up != select_min) {
        Some(limit) => limit,
        None if up => i32::MAX,
        None => 0,
    }
}

impl HpaController {
    /// The replicas one Resource metric asks for, with its status entry and reason text.
    fn metric_replicas(
        &self,
        metric: &Value,
        current: i32,
        pods: &[Pod],
        metrics: &BTreeMap<String, (i64, i64)>,
    ) -> Result<(i32, Value, String), String> {
        let name = metric["resource"]["name"]
            .as_str()
            .unwrap_or("cpu")
            .to_string();
        let target = &metric["resource"]["target"];
        let mut samples = Vec::new();
        for pod in pods {
            let pod_name = pod.metadata.name.as_deref().unwrap_or("");
            let mut request = 0;
            for container in pod.spec.iter().flat_map(|s| &s.containers) {
                match usage::request(container, &name) {
                    Some(r) => request += r,
                    None if target["type"] == "Utilization" => {
                        return Err(format!(
                            "failed to get {name} utilization: missing request for {name} in container {} of Pod {pod_name}",
                            container.name
                        ))
                    }
                    None => {}
                }
            }
            let usage = metrics
                .get(pod_name)
                .map(|(cpu, memory)| if name == "cpu" { *cpu } else { *memory });
            samples.push(PodSample {
                ready: phase(pod) == "Running" && is_ready(pod),
                usage,
                request,
            });
        }
        let reason = format!("{name} resource utilization (percentage of request)");
        if target["type"] == "Utilization" {
            let goal = target["averageUtilization"].as_i64().unwrap_or(80);
            let r = for_utilization(current, &samples, goal)
                .map_err(|e| format!("failed to get {name} utilization: {e}"))?;
            let average = if name == "cpu" {
                format!("{}m", r.average_usage)
            } else {
                r.average_usage.to_string()
            };
            let status = json!({"type": "Resource", "resource": {"name": name,
                "current": {"averageUtilization": r.utilization, "averageValue": average}}});
            return Ok((r.replicas, status, reason));
        }
        // AverageValue: usage per pod against the target quantity.
        let text = target["averageValue"].as_str().unwrap_or("0");
        let goal = if name == "cpu" {
            milli_value(text)
        } else {
            value(text)
        }
        .unwrap_or(1)
        .max(1);
        let measured: Vec<i64> = samples.iter().filter_map(|s| s.usage).collect();
        if measured.is_empty() {
            return Err(format!(
                "failed to get {name} usage: no metrics returned from resource metrics API"
            ));
        }
        let total: i64 = measured.iter().sum();
        let ratio = total as f64 / (goal as f64 * f64::from(current.max(1)));
        let replicas = if (1.0 - ratio).abs() <= replicas::TOLERANCE {
            current
        } else {
            (total as f64 / goal as f64).ceil() as i32
        };
        let average = total / measured.len() as i64;
        let average = if name == "cpu" {
            format!("{average}m")
        } else {
            average.to_string()
        };
        let status = json!({"type": "Resource", "resource": {"name": name, "current": {"averageValue": average}}});
        Ok((replicas, status, format!("{name} resource")))
    }

    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(hpa) = self.autoscalers.get(key).cloned() else {
            self.recommendations.remove(key);
            self.scale_events.remove(key);
            return;
        };
        self.queue.check_after(key, SYNC_PERIOD_MS, ctx);
        let obj = serde_json::to_value(&hpa).unwrap_or_default();
        let namespace = hpa.metadata.namespace.clone().unwrap_or_default();
        let spec = hpa.spec.clone().unwrap_or_default();
        let target = &spec.scale_target_ref;
        let group = target.api_version.as_deref().unwrap_or("apps/v1");
        let scale_path = format!(
            "/apis/{group}/namespaces/{namespace}/{}s/{}/scale",
            target.kind.to_lowercase(),
            target.name
        );
        let about = ObjectRef::of(&hpa);
        let now = ctx.timestamp();
        let scale = ctx.call(Request::get(scale_path.clone()));
        if !scale.is_success() {
            let message = format!(
                "the HPA controller was unable to get the target's current scale: {}",
                scale.status_message()
            );
            self.recorder.event(
                ctx,
                &about,
                "Warning",
                "FailedGetScale",
                &scale.status_message(),
            );
            self.write_status(
                key,
                &obj,
                None,
                vec![condition(
                    "AbleToScale",
                    false,
                    "FailedGetScale",
                    &message,
                    &now,
                )],
                None,
                ctx,
            );
            return;
        }
        let scale = scale.body_json();
        let current = scale["spec"]["replicas"].as_i64().unwrap_or(0) as i32;
        let selector = scale["status"]["selector"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let min = spec.min_replicas.unwrap_or(1);
        let max = spec.max_replicas;
        if current == 0 && min != 0 {
            let conditions = vec![condition(
                "ScalingActive",
                false,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                &now,
            )];
            self.write_status(key, &obj, Some((current, current)), conditions, None, ctx);
            return;
        }
        let listed = ctx.call(
            Request::get(format!("/api/v1/namespaces/{namespace}/pods"))
                .with_query("labelSelector", selector.as_str()),
        );
        let pods: Vec<Pod> = serde_json::from_str::<List<Pod>>(listed.body_text())
            .map(|list| list.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !is_terminating(p) && phase(p) != "Failed")
            .collect();
        let metric_list = ctx
            .call(
                Request::get(format!(
                    "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
                ))
                .with_query("labelSelector", selector.as_str()),
            )
            .body_json();
        let mut metrics: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for item in metric_list["items"].as_array().into_iter().flatten() {
            let (mut cpu, mut memory) = (0, 0);
            for c in item["containers"].as_array().into_iter().flatten() {
                cpu += milli_value(c["usage"]["cpu"].as_str().unwrap_or("0")).unwrap_or(0);
                memory += value(c["usage"]["memory"].as_str().unwrap_or("0")).unwrap_or(0);
            }
            metrics.insert(
                item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                (cpu, memory),
            );
        }
        let mut proposal = 0;
        let mut reason = String::new();
        let mut current_metrics = Vec::new();
        let mut valid = String::new();
        for metric in obj["spec"]["metrics"].as_array().into_iter().flatten() {
            match self.metric_replicas(metric, current, &pods, &metrics) {
                Ok((replicas, status, what)) => {
                    current_metrics.push(status);
                    if replicas > proposal || valid.is_empty() {
                        proposal = replicas;
                        reason = what.clone();
                    }
                    valid = what;
                }
                Err(e) => {
                    let message = format!("the HPA was unable to compute the replica count: {e}");
                    self.recorder
                        .event(ctx, &about, "Warning", "FailedGetResourceMetric", &e);
                    let conditions = vec![
                        condition(
                            "AbleToScale",
                            true,
                            "SucceededGetScale",
                            "the HPA controller was able to get the target's current scale",
                            &now,
                        ),
                        condition(
                            "ScalingActive",
                            false,
                            "FailedGetResourceMetric",
                            &message,
                            &now,
                        ),
                    ];
                    self.write_status(
                        key,
                        &obj,
                        Some((current, current)),
                        conditions,
                        Some(current_metrics),
                        ctx,
                    );
                    return;
                }
            }
        }
        let now_ms = ctx.now().millis();
        let (desired, able, limited) =
            self.normalize(key, &spec, current, proposal, min, max, now_ms);
        let mut able_condition = condition("AbleToScale", true, able.0, able.1, &now);
        let mut last_scale = None;
        if desired != current {
            let patch = json!({"spec": {"replicas": desired}});
            let response = ctx.call(Request::patch(
                scale_path,
                "application/merge-patch+json",
                patch.to_string(),
            ));
            if response.is_success() {
                let direction = if desired > current {
                    format!("{reason} above target")
                } else {
                    "All metrics below target".to_string()
                };
                self.recorder.event(
                    ctx,
                    &about,
                    "Normal",
                    "SuccessfulRescale",
                    &format!("New size: {desired}; reason: {direction}"),
                );
                self.scale_events
                    .entry(key.to_string())
                    .or_default()
                    .push((now_ms, desired - current));
                able_condition = condition(
                    "AbleToScale",
                    true,
                    "SucceededRescale",
                    &format!("the HPA controller was able to update the target scale to {desired}"),
                    &now,
                );
                last_scale = Some(now.clone());
            } else {
                let message = format!(
                    "the HPA controller was unable to update the target scale: {}",
                    response.status_message()
                );
                self.recorder.event(
                    ctx,
                    &about,
                    "Warning",
                    "FailedRescale",
                    &format!(
                        "New size: {desired}; reason: {reason}; error: {}",
                        response.status_message()
                    ),
                );
                able_condition =
                    condition("AbleToScale", false, "FailedUpdateScale", &message, &now);
            }
        }
        let conditions = vec![
            able_condition,
            condition(
                "ScalingActive",
                true,
                "ValidMetricFound",
                &format!("the HPA was able to successfully calculate a replica count from {valid}"),
                &now,
            ),
            condition("ScalingLimited", limited.0, limited.1, limited.2, &now),
        ];
        let mut status_obj = obj.clone();
        if let Some(at) = last_scale {
            status_obj["status"]["lastScaleTime"] = json!(at);
        }
        self.write_status(
            key,
            &status_obj,
            Some((current, desired)),
            conditions,
            Some(current_metrics),
            ctx,
        );
    }

    /// Upstream's `normalizeDesiredReplicasWithBehaviors`: stabilization, rate
    /// policies and min/max; returns (replicas, AbleToScale reason and message,
    /// ScalingLimited status, reason and message).
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn normalize(
        &mut self,
        key: &str,
        spec: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec,
        current: i32,
        proposal: i32,
        min: i32,
        max: i32,
        now: u64,
    ) -> (
        i32,
        (&'static str, &'static str),
        (bool, &'static str, &'static str),
    ) {
        let behavior = spec.behavior.clone().unwrap_or_default();
        let up = behavior.scale_up.unwrap_or_default();
        let down = behavior.scale_down.unwrap_or_default();
        let window =
            |r: &HPAScalingRules| r.stabilization_window_seconds.unwrap_or(0).max(0) as u64 * 1000;
        let history = self.recommendations.entry(key.to_string()).or_default();
        let (up_window, down_window) = (window(&up), window(&down));
        let mut up_rec = proposal;
        let mut down_rec = proposal;
        for (at, replicas) in history.iter() {
            if now.saturating_sub(*at) < up_window {
                up_rec = up_rec.min(*replicas);
            }
            if now.saturating_sub(*at) < down_window {
                down_rec = down_rec.max(*replicas);
            }
        }
        history.push((now, proposal));
        let keep = up_window.max(down_window);
        history.retain(|(at, _)| now.saturating_sub(*at) < keep.max(1));
        let mut desired = current.max(up_rec).min(down_rec);
        let mut able = ("ReadyForNewScale", "recommended size matches current size");
        if desired > proposal {
            able = ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation");
        }
        let events = self.scale_events.entry(key.to_string()).or_default();
        events.retain(|(at, _)| now.saturating_sub(*at) < 30 * 60_000);
        let mut limited = (
            false,
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        );
        if desired > current {
            let limit = rate_limit(&up, current, events, now, true).max(current);
            if desired > limit.min(max) {
                limited = if limit < max {
                    (true, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
                } else {
                    (
                        true,
                        "TooManyReplicas",
                        "the desired replica count is more than the maximum replica count",
                    )
                };
                desired = limit.min(max);
            }
        } else if desired < current {
            let limit = rate_limit(&down, current, events, now, false).min(current);
            if desired < limit.max(min) {
                limited = if limit > min {
                    (true, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")
                } else {
                    (
                        true,
                        "TooFewReplicas",
                        "the desired replica count is less than the minimum replica count",
                    )
                };
                desired = limit.max(min);
            }
        }
        if desired > max {
            desired = max;
            limited = (
                true,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            );
        } else if desired < min {
            desired = min;
            limited = (
                true,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            );
        }
        (desired, able, limited)
    }

    /// Writes the status (keeping each condition's transition time while its status holds).
    fn write_status(
        &mut self,
        key: &str,
        hpa: &Value,
        replicas: Option<(i32, i32)>,
        conditions: Vec<Value>,
        current_metrics: Option<Vec<Value>>,
        ctx: &mut Ctx,
    ) {
        let previous = hpa["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let conditions: Vec<Value> = conditions
            .into_iter()
            .map(|mut c| {
                if let Some(old) = previous
                    .iter()
                    .find(|o| o["type"] == c["type"] && o["status"] == c["status"])
                {
                    c["lastTransitionTime"] = old["lastTransitionTime"].clone();
                }
                c
            })
            .collect();
        let mut status = json!({
            "observedGeneration": hpa["metadata"]["generation"],
            "conditions": conditions,
        });
        if let Some((current, desired)) = replicas {
            status["currentReplicas"] = json!(current);
            status["desiredReplicas"] = json!(desired);
        }
        if let Some(metrics) = current_metrics.filter(|m| !m.is_empty()) {
            status["currentMetrics"] = json!(metrics);
        }
        let last = hpa["status"]["lastScaleTime"].clone();
        if !last.is_null() {
            status["lastScaleTime"] = last;
        }
        if hpa["status"] == status {
            return;
        }
        let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
        let mut updated = hpa.clone();
        updated["status"] = status;
        ctx.call(Request::put(
            format!("/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}/status"),
            updated.to_string(),
        ));
    }
}

impl Component for HpaController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        for delta in self.autoscalers.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.autoscalers.owns(watch) {
            for delta in self.autoscalers.handle(event, ctx) {
                if delta.kind == crate::apiserver::watch::EventType::Added {
                    self.queue.add(&delta.key, ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            self.sync(&item, ctx);
        }
    }
}
