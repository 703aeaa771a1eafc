//! Printers for Deployments and ReplicaSets.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::age::{age, human_duration, seconds_since};
use super::{col, int, map_string, or_none, text, wide, PrintContext, Printer, RowFn};
use crate::apiserver::subresources::selector_string;

fn containers_and_images(obj: &Value) -> (String, String) {
    let containers = obj
        .at("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["image"].as_str())
        .collect();
    (names.join(","), images.join(","))
}

fn selector(obj: &Value) -> String {
    or_none(&selector_string(
        obj.at("/spec/selector").unwrap_or(&Value::Null),
    ))
}

/// Deployments: READY, UP-TO-DATE, AVAILABLE.
pub fn deployment_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Ready", "string"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: RowFn::Value(|d, ctx: &PrintContext| {
            let (containers, images) = containers_and_images(d);
            vec![
                json!(text(d, "/metadata/name")),
                json!(format!(
                    "{}/{}",
                    int(d, "/status/readyReplicas"),
                    int(d, "/spec/replicas")
                )),
                json!(int(d, "/status/updatedReplicas")),
                json!(int(d, "/status/availableReplicas")),
                json!(ctx.age_of(d)),
                json!(containers),
                json!(images),
                json!(selector(d)),
            ]
        }),
    }
}

/// ReplicaSets: DESIRED, CURRENT, READY.
pub fn replicaset_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: RowFn::Value(|rs, ctx: &PrintContext| {
            let (containers, images) = containers_and_images(rs);
            vec![
                json!(text(rs, "/metadata/name")),
                json!(int(rs, "/spec/replicas")),
                json!(int(rs, "/status/replicas")),
                json!(int(rs, "/status/readyReplicas")),
                json!(ctx.age_of(rs)),
                json!(containers),
                json!(images),
                json!(selector(rs)),
            ]
        }),
    }
}

/// StatefulSets: READY as ready/desired.
pub fn statefulset_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Ready", "string"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
        ],
        row: RowFn::Value(|s, ctx: &PrintContext| {
            let (containers, images) = containers_and_images(s);
            vec![
                json!(text(s, "/metadata/name")),
                json!(format!(
                    "{}/{}",
                    int(s, "/status/readyReplicas"),
                    int(s, "/spec/replicas")
                )),
                json!(ctx.age_of(s)),
                json!(containers),
                json!(images),
            ]
        }),
    }
}

/// DaemonSets: the scheduling counters and the node selector.
pub fn daemonset_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            col("Node Selector", "string"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: RowFn::Value(|d, ctx: &PrintContext| {
            let (containers, images) = containers_and_images(d);
            vec![
                json!(text(d, "/metadata/name")),
                json!(int(d, "/status/desiredNumberScheduled")),
                json!(int(d, "/status/currentNumberScheduled")),
                json!(int(d, "/status/numberReady")),
                json!(int(d, "/status/updatedNumberScheduled")),
                json!(int(d, "/status/numberAvailable")),
                json!(map_string(d.at("/spec/template/spec/nodeSelector"))),
                json!(ctx.age_of(d)),
                json!(containers),
                json!(images),
                json!(selector(d)),
            ]
        }),
    }
}

fn has_condition(obj: &Value, kind: &str) -> bool {
    obj.at("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == "True"))
}

/// Jobs: STATUS from conditions, COMPLETIONS, DURATION.
pub fn job_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Status", "string"),
            col("Completions", "string"),
            col("Duration", "string"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: RowFn::Value(|job, ctx: &PrintContext| {
            let status = if has_condition(job, "Complete") {
                "Complete"
            } else if has_condition(job, "Failed") {
                "Failed"
            } else if job.at("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else if has_condition(job, "Suspended") {
                "Suspended"
            } else if has_condition(job, "FailureTarget") {
                "FailureTarget"
            } else if has_condition(job, "SuccessCriteriaMet") {
                "SuccessCriteriaMet"
            } else {
                "Running"
            };
            let succeeded = int(job, "/status/succeeded");
            let completions = match job.at("/spec/completions").and_then(Value::as_i64) {
                Some(c) => format!("{succeeded}/{c}"),
                None => match int(job, "/spec/parallelism") {
                    p if p > 1 => format!("{succeeded}/1 of {p}"),
                    _ => format!("{succeeded}/1"),
                },
            };
            let start = job.at("/status/startTime").and_then(Value::as_str);
            let end = job.at("/status/completionTime").and_then(Value::as_str);
            let duration = match (start, end) {
                (None, _) => String::new(),
                (Some(s), None) => age(Some(s), ctx.now_unix_ms),
                (Some(s), Some(e)) => match (seconds_since(s, 0), seconds_since(e, 0)) {
                    (Some(a), Some(b)) => human_duration(a - b),
                    _ => String::new(),
                },
            };
            let (containers, images) = containers_and_images(job);
            vec![
                json!(text(job, "/metadata/name")),
                json!(status),
                json!(completions),
                json!(duration),
                json!(ctx.age_of(job)),
                json!(containers),
                json!(images),
                json!(selector(job)),
            ]
        }),
    }
}

/// CronJobs: SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE.
pub fn cronjob_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Schedule", "string"),
            col("Timezone", "string"),
            col("Suspend", "boolean"),
            col("Active", "integer"),
            col("Last Schedule", "string"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: RowFn::Value(|cj, ctx: &PrintContext| {
            let template =
                json!({"spec": cj.at("/spec/jobTemplate/spec").cloned().unwrap_or(Value::Null)});
            let (containers, images) = containers_and_images(&template);
            let suspend = match cj.at("/spec/suspend").and_then(Value::as_bool) {
                Some(true) => "True",
                Some(false) => "False",
                None => "<unset>",
            };
            let last = match cj.at("/status/lastScheduleTime").and_then(Value::as_str) {
                Some(t) => age(Some(t), ctx.now_unix_ms),
                None => "<none>".into(),
            };
            vec![
                json!(text(cj, "/metadata/name")),
                json!(text(cj, "/spec/schedule")),
                json!(or_none(text(cj, "/spec/timeZone"))),
                json!(suspend),
                json!(cj
                    .at("/status/active")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)),
                json!(last),
                json!(ctx.age_of(cj)),
                json!(containers),
                json!(images),
                json!(selector(&template)),
            ]
        }),
    }
}

/// HorizontalPodAutoscalers (autoscaling/v2): REFERENCE, TARGETS, MINPODS, MAXPODS, REPLICAS.
pub fn hpa_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Reference", "string"),
            col("Targets", "string"),
            col("MinPods", "string"),
            col("MaxPods", "integer"),
            col("Replicas", "integer"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|hpa, ctx: &PrintContext| {
            let reference = format!(
                "{}/{}",
                text(hpa, "/spec/scaleTargetRef/kind"),
                text(hpa, "/spec/scaleTargetRef/name")
            );
            let min = hpa
                .at("/spec/minReplicas")
                .and_then(Value::as_i64)
                .map_or("<unset>".to_string(), |m| m.to_string());
            vec![
                json!(text(hpa, "/metadata/name")),
                json!(reference),
                json!(hpa_targets(hpa)),
                json!(min),
                json!(int(hpa, "/spec/maxReplicas")),
                json!(int(hpa, "/status/currentReplicas")),
                json!(ctx.age_of(hpa)),
            ]
        }),
    }
}

/// Upstream's `formatHPAMetrics` for Resource metrics: `cpu: 40%/50%`, `<unknown>` while unmeasured.
fn hpa_targets(hpa: &Value) -> String {
    let specs = hpa
        .at("/spec/metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if specs.is_empty() {
        return "<none>".into();
    }
    let current = hpa
        .at("/status/currentMetrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut parts = Vec::new();
    for (i, metric) in specs.iter().enumerate() {
        if metric["type"] != "Resource" {
            parts.push("<unknown>/<unknown>".to_string());
            continue;
        }
        let name = metric
            .at("/resource/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let target = metric
            .at("/resource/target")
            .cloned()
            .unwrap_or(Value::Null);
        let now = current.get(i).and_then(|c| c.at("/resource/current"));
        let part = match target.get("averageUtilization").and_then(Value::as_i64) {
            Some(goal) => {
                let seen = now
                    .and_then(|c| c.get("averageUtilization"))
                    .and_then(Value::as_i64)
                    .map_or("<unknown>".to_string(), |u| format!("{u}%"));
                format!("{name}: {seen}/{goal}%")
            }
            None => {
                let goal = target
                    .get("averageValue")
                    .or(target.get("value"))
                    .and_then(Value::as_str)
                    .unwrap_or("<unset>");
                let seen = now
                    .and_then(|c| c.get("averageValue").or(c.get("value")))
                    .and_then(Value::as_str)
                    .unwrap_or("<unknown>");
                format!("{name}: {seen}/{goal}")
            }
        };
        parts.push(part);
    }
    if parts.len() > 2 {
        let more = parts.len() - 2;
        parts.truncate(2);
        return format!("{} + {more} more...", parts.join(", "));
    }
    parts.join(", ")
}
