//! HorizontalPodAutoscalers (autoscaling/v2): upstream's defaults for minReplicas,
//! metrics (80% CPU) and scaling behavior.

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior,
    MetricSpec, MetricTarget, ResourceMetricSource,
};

use super::{typed, Source, Strategy, UnknownFields};
use crate::api::names::NameRule;

/// The strategy for `horizontalpodautoscalers`.
pub struct HpaStrategy;

fn policy(kind: &str, value: i32) -> HPAScalingPolicy {
    HPAScalingPolicy {
        type_: kind.into(),
        value,
        period_seconds: 15,
    }
}

impl Strategy for HpaStrategy {
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }

    fn normalize(
        &self,
        obj: Source,
        unknown: &mut UnknownFields,
    ) -> Result<serde_json::Value, String> {
        typed::<HorizontalPodAutoscaler>(obj, unknown, |hpa| {
            let spec = hpa.spec.get_or_insert_with(Default::default);
            spec.min_replicas.get_or_insert(1);
            if spec.metrics.as_ref().is_none_or(Vec::is_empty) {
                spec.metrics = Some(vec![MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: "cpu".into(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(80),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                }]);
            }
            let behavior = spec
                .behavior
                .get_or_insert_with(HorizontalPodAutoscalerBehavior::default);
            let up = behavior
                .scale_up
                .get_or_insert_with(HPAScalingRules::default);
            up.stabilization_window_seconds.get_or_insert(0);
            up.select_policy.get_or_insert_with(|| "Max".into());
            if up.policies.is_none() {
                up.policies = Some(vec![policy("Pods", 4), policy("Percent", 100)]);
            }
            let down = behavior
                .scale_down
                .get_or_insert_with(HPAScalingRules::default);
            down.stabilization_window_seconds.get_or_insert(300);
            down.select_policy.get_or_insert_with(|| "Max".into());
            if down.policies.is_none() {
                down.policies = Some(vec![policy("Percent", 100)]);
            }
        })
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}
