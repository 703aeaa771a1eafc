//! `kubectl rollout status`: prints a Deployment's, DaemonSet's or StatefulSet's rollout state
//! each time it changes until the rollout is done, in upstream's words. In the simulation,
//! waiting lets virtual time pass; without `--timeout` it gives up after an hour.

use crate::flags;
use kubecraft_cluster::api::Request;
use serde_json::Value;

use super::Fetched;
use crate::errors::server_error;
use crate::flags::Parsed;
use crate::output::Output;
use crate::transport::{Deadline, Transport};

/// How long `rollout status` waits without `--timeout` (upstream waits forever).
const DEFAULT_WAIT_MS: u64 = 3_600_000;

/// Upstream's `DaemonSetStatusViewer.Status`: (message, done) or an error.
fn daemonset_status(ds: &Value) -> Result<(String, bool), String> {
    let name = ds["metadata"]["name"].as_str().unwrap_or("");
    let int = |p: &str| ds.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if ds["spec"]["updateStrategy"]["type"] != "RollingUpdate" {
        return Err("rollout status is only available for RollingUpdate strategy type".into());
    }
    if int("/metadata/generation") > int("/status/observedGeneration") {
        return Ok((
            "Waiting for daemon set spec update to be observed...\n".into(),
            false,
        ));
    }
    let desired = int("/status/desiredNumberScheduled");
    let updated = int("/status/updatedNumberScheduled");
    let available = int("/status/numberAvailable");
    if updated < desired {
        return Ok((format!(
            "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated...\n"
        ), false));
    }
    if available < desired {
        return Ok((format!(
            "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available...\n"
        ), false));
    }
    Ok((
        format!("daemon set {name:?} successfully rolled out\n"),
        true,
    ))
}

/// Upstream's `StatefulSetStatusViewer.Status`: (message, done) or an error.
fn statefulset_status(sts: &Value) -> Result<(String, bool), String> {
    let int = |p: &str| sts.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if sts["spec"]["updateStrategy"]["type"] != "RollingUpdate" {
        return Err("rollout status is only available for RollingUpdate strategy type".into());
    }
    let observed = int("/status/observedGeneration");
    if observed == 0 || int("/metadata/generation") > observed {
        return Ok((
            "Waiting for statefulset spec update to be observed...\n".into(),
            false,
        ));
    }
    let replicas = sts.pointer("/spec/replicas").and_then(Value::as_i64);
    let ready = int("/status/readyReplicas");
    if let Some(replicas) = replicas.filter(|r| ready < *r) {
        return Ok((
            format!("Waiting for {} pods to be ready...\n", replicas - ready),
            false,
        ));
    }
    let updated = int("/status/updatedReplicas");
    let partition = sts.pointer("/spec/updateStrategy/rollingUpdate/partition");
    if sts.pointer("/spec/updateStrategy/rollingUpdate").is_some() {
        if let (Some(replicas), Some(partition)) = (replicas, partition.and_then(Value::as_i64)) {
            if updated < replicas - partition {
                return Ok((format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...\n",
                    replicas - partition
                ), false));
            }
        }
        return Ok((
            format!("partitioned roll out complete: {updated} new pods have been updated...\n"),
            true,
        ));
    }
    let (current, update) = (
        sts["status"]["currentRevision"].as_str().unwrap_or(""),
        sts["status"]["updateRevision"].as_str().unwrap_or(""),
    );
    if update != current {
        return Ok((format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update}...\n"
        ), false));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {current}...\n",
            int("/status/currentReplicas")
        ),
        true,
    ))
}

/// The status viewer for the object's kind: (message, done) or an error.
fn status(obj: &Value, revision: Option<i64>) -> Result<(String, bool), String> {
    match obj["kind"].as_str() {
        Some("DaemonSet") => daemonset_status(obj),
        Some("StatefulSet") => statefulset_status(obj),
        _ => deployment_status(obj, revision),
    }
}

/// Upstream's `DeploymentStatusViewer.Status`: (message, done) or an error.
fn deployment_status(d: &Value, revision: Option<i64>) -> Result<(String, bool), String> {
    let name = d["metadata"]["name"].as_str().unwrap_or("");
    let int = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if let Some(wanted) = revision {
        let running = d
            .pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
            .and_then(Value::as_str)
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0);
        if wanted != running {
            return Err(format!(
                "desired revision ({wanted}) is different from the running revision ({running})"
            ));
        }
    }
    if int("/metadata/generation") > int("/status/observedGeneration") {
        return Ok((
            "Waiting for deployment spec update to be observed...\n".into(),
            false,
        ));
    }
    let timed_out = d["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
    });
    if timed_out {
        return Err(format!(
            "deployment {name:?} exceeded its progress deadline"
        ));
    }
    let (updated, replicas) = (int("/status/updatedReplicas"), int("/status/replicas"));
    let available = int("/status/availableReplicas");
    if let Some(wanted) = d.pointer("/spec/replicas").and_then(Value::as_i64) {
        if updated < wanted {
            return Ok((format!(
                "Waiting for deployment {name:?} rollout to finish: {updated} out of {wanted} new replicas have been updated...\n"
            ), false));
        }
    }
    if replicas > updated {
        return Ok((format!(
            "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...\n",
            replicas - updated
        ), false));
    }
    if available < updated {
        return Ok((format!(
            "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available...\n"
        ), false));
    }
    Ok((
        format!("deployment {name:?} successfully rolled out\n"),
        true,
    ))
}

/// Runs `rollout status` for a fetched Deployment.
pub fn run(transport: &mut dyn Transport, fetched: &Fetched, parsed: &Parsed, out: &mut Output) {
    let watch = parsed.get("watch").is_none_or(|w| w != "false");
    let limit = match parsed.duration_ms(&flags::value("timeout", None), "rollout status") {
        Ok(Some(ms)) if ms > 0 => ms as u64,
        Ok(_) => DEFAULT_WAIT_MS,
        Err(e) => {
            out.fail(e);
            return;
        }
    };
    let revision = match parsed.get("revision").map(str::parse::<i64>) {
        None => None,
        Some(Ok(r)) if r > 0 => Some(r),
        Some(Ok(0)) => None,
        Some(_) => {
            out.fail("error: revision must be a positive integer\n");
            return;
        }
    };
    let mut current = fetched.object.clone();
    let mut seen_version = String::new();
    let mut deadline = Deadline::new(limit);
    loop {
        let version = current["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if version != seen_version {
            seen_version = version;
            match status(&current, revision) {
                Err(message) => {
                    out.fail(format!("error: {message}\n"));
                    return;
                }
                Ok((message, done)) => {
                    out.out(message);
                    if done || !watch {
                        return;
                    }
                }
            }
        }
        if !deadline.pass(transport) {
            out.fail("error: timed out waiting for the condition\n");
            return;
        }
        let response = transport.send(Request::get(fetched.path.clone()));
        if response.status == 404 {
            out.fail("error: object has been deleted\n");
            return;
        }
        if !response.is_success() {
            out.fail(server_error(&response));
            return;
        }
        current = response.body_json();
    }
}
