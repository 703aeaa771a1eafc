//! `kubectl autoscale (TYPE NAME | TYPE/NAME) --max=N [--min=N] [--cpu=50%|500m]
//! [--memory=70%|200Mi]`: creates an autoscaling/v2 HorizontalPodAutoscaler for
//! a scalable workload, as kubectl 1.35 builds it.

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use super::create::{dry_run, DryRun};
use super::target::fetch_target;
use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const MIN: Flag = value("min", None);
const MAX: Flag = value("max", None);
const CPU_PERCENT: Flag = value("cpu-percent", None);

const FLAGS: &[Flag] = &[
    MIN,
    MAX,
    CPU_PERCENT,
    value("cpu", None),
    value("memory", None),
    value("name", None),
    value("dry-run", None),
    value("output", Some('o')),
];

/// A `--cpu`/`--memory` target: `70%` is utilization, anything else an average
/// value (a bare number is millicores or mebibytes).
fn target(text: &str, resource: &str) -> Result<Value, String> {
    if let Some(percent) = text.strip_suffix('%') {
        let n: i64 = percent
            .parse()
            .map_err(|_| format!("invalid {resource} utilization {text:?}"))?;
        return Ok(json!({"type": "Utilization", "averageUtilization": n}));
    }
    let quantity = if text.bytes().all(|b| b.is_ascii_digit()) {
        let unit = if resource == "cpu" { "m" } else { "Mi" };
        format!("{text}{unit}")
    } else {
        text.to_string()
    };
    if kubecraft_cluster::api::quantity::value(&quantity).is_none() {
        return Err(format!("invalid {resource} quantity {text:?}"));
    }
    Ok(json!({"type": "AverageValue", "averageValue": quantity}))
}

/// Runs `kubectl autoscale`.
pub fn run(kubectl: &Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "autoscale") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let result = (|| -> Result<(i64, i64, i64), String> {
        Ok((
            parsed.int(&MIN, "autoscale")?.unwrap_or(-1),
            parsed.int(&MAX, "autoscale")?.unwrap_or(-1),
            parsed.int(&CPU_PERCENT, "autoscale")?.unwrap_or(-1),
        ))
    })();
    let (min, max, cpu_percent) = match result {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    if parsed.get("max").is_none() {
        out.fail("error: required flag(s) \"max\" not set\n");
        return out;
    }
    if parsed.get("cpu-percent").is_some() {
        out.err("Flag --cpu-percent has been deprecated, Use --cpu with percentage or resource quantity format (e.g., '70%' for utilization or '500m' for milliCPU).\n");
    }
    let mode = match dry_run(&parsed) {
        Ok(m) => m,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let fetched = match fetch_target(
        transport,
        &parsed.positional,
        "error: You must provide one or more resources by argument or filename.\n",
        &namespace,
    ) {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let kind = fetched.resource.kind.clone();
    if ![
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "ReplicationController",
    ]
    .contains(&kind.as_str())
    {
        out.fail(format!(
            "error: cannot autoscale a {kind}: cannot autoscale a {kind}\n"
        ));
        return out;
    }
    if max < 1 {
        out.fail(format!(
            "error: --max=MAXPODS is required and must be at least 1, max: {max}\n"
        ));
        return out;
    }
    if max < min {
        out.fail(format!(
            "error: --max=MAXPODS must be larger or equal to --min=MINPODS, max: {max}, min: {min}\n"
        ));
        return out;
    }
    if cpu_percent > 0 && parsed.get("cpu").is_some() {
        out.fail("error: --cpu-percent and --cpu are mutually exclusive\n");
        return out;
    }
    let mut metrics = Vec::new();
    if cpu_percent > 0 {
        metrics.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": cpu_percent}}}));
    }
    for resource in ["cpu", "memory"] {
        if let Some(text) = parsed.get(resource) {
            match target(text, resource) {
                Ok(t) => metrics
                    .push(json!({"type": "Resource", "resource": {"name": resource, "target": t}})),
                Err(e) => {
                    out.fail(format!("error: {e}\n"));
                    return out;
                }
            }
        }
    }
    let name = parsed.get("name").unwrap_or(&fetched.name).to_string();
    let api_version = if fetched.resource.group.is_empty() {
        fetched.resource.version.clone()
    } else {
        format!("{}/{}", fetched.resource.group, fetched.resource.version)
    };
    let mut hpa = json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": fetched.name},
            "maxReplicas": max,
        },
    });
    if min > 0 {
        hpa["spec"]["minReplicas"] = json!(min);
    }
    if !metrics.is_empty() {
        hpa["spec"]["metrics"] = json!(metrics);
    }
    let suffix = mode.suffix();
    if mode != DryRun::Client {
        let mut request = Request::post(
            format!("/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers"),
            hpa.to_string(),
        );
        if mode == DryRun::Server {
            request = request.with_query("dryRun", "All");
        }
        let response = transport.send(request);
        if !response.is_success() {
            out.fail(server_error(&response));
            return out;
        }
    }
    out.out(format!(
        "horizontalpodautoscaler.autoscaling/{name} autoscaled{suffix}\n"
    ));
    out
}
