//! `kubectl rollout status|history|undo|restart|pause|resume` for Deployments.

mod history;
mod status;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::sim::clock::rfc3339_seconds;
use serde_json::json;

use super::target::{fetch_target, Fetched};
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::transport::{response_date_ms, Transport};
use crate::Kubectl;

const SUBCOMMANDS: &str = "history, pause, restart, resume, status, undo";

/// Runs `kubectl rollout SUBCOMMAND TYPE/NAME`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let Some(sub) = args.first().map(String::as_str) else {
        out.fail(format!(
            "error: a subcommand is required: one of {SUBCOMMANDS}\nSee 'kubectl rollout -h' for help and examples\n"
        ));
        return out;
    };
    let flags: &[Flag] = match sub {
        "status" => &[
            boolean("watch", Some('w')),
            value("timeout", None),
            value("revision", None),
        ],
        "history" => &[value("revision", None)],
        "undo" => &[value("to-revision", None)],
        "restart" | "pause" | "resume" => &[],
        other => {
            out.fail(format!(
                "error: unknown command {other:?} for \"kubectl rollout\"\n"
            ));
            return out;
        }
    };
    let parsed = match flags::parse(&args[1..], flags, &format!("rollout {sub}")) {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let target = fetch_target(
        transport,
        &parsed.positional,
        "error: required resource not specified\n",
        &namespace,
    );
    let fetched = match target {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let supported = match sub {
        "status" | "history" | "undo" => {
            ["Deployment", "DaemonSet", "StatefulSet"].contains(&fetched.resource.kind.as_str())
        }
        _ => fetched.resource.kind == "Deployment",
    };
    if !supported {
        let viewer = match sub {
            "status" => "no status viewer has been implemented for",
            "history" => "no history viewer has been implemented for",
            "undo" => "no rollbacker has been implemented for",
            _ => "",
        };
        if !viewer.is_empty() {
            out.fail(format!("error: {viewer} {}\n", fetched.resource.kind));
            return out;
        }
    }
    match sub {
        "status" => status::run(transport, &fetched, &parsed, &mut out),
        "history" => history::show(transport, &fetched, &parsed, &mut out),
        "undo" => history::undo(transport, &fetched, &parsed, &mut out),
        "restart" => restart(transport, &fetched, &mut out),
        _ => pause_or_resume(transport, &fetched, sub == "pause", &mut out),
    }
    out
}

/// Strategic-merges `patch` into the object and reports `<kind>/<name> <verb>`.
fn patch_and_report(
    transport: &mut dyn Transport,
    fetched: &Fetched,
    patch: serde_json::Value,
    verb: &str,
    out: &mut Output,
) {
    let response = transport.send(Request::patch(
        fetched.path.clone(),
        "application/strategic-merge-patch+json",
        patch.to_string(),
    ));
    if response.is_success() {
        out.out(format!(
            "{}/{} {verb}\n",
            kind_prefix(&fetched.resource),
            fetched.name
        ));
    } else {
        out.fail(server_error(&response));
    }
}

/// `rollout restart`: stamps the template with `kubectl.kubernetes.io/restartedAt`
/// (the time is the server's, from the response's `Date`).
fn restart(transport: &mut dyn Transport, fetched: &Fetched, out: &mut Output) {
    if fetched.object.pointer("/spec/paused") == Some(&json!(true)) {
        out.fail(format!(
            "error: {} {:?} can't restart paused deployment (run rollout resume first)\n",
            resource_string(fetched),
            fetched.name
        ));
        return;
    }
    let now = server_time(transport);
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": now,
    }}}}});
    patch_and_report(transport, fetched, patch, "restarted", out);
}

/// `deployments.apps`: resource and group, as kubectl names them in errors.
fn resource_string(fetched: &Fetched) -> String {
    if fetched.resource.group.is_empty() {
        fetched.resource.plural.clone()
    } else {
        format!("{}.{}", fetched.resource.plural, fetched.resource.group)
    }
}

/// The server's clock as RFC 3339 (kubectl's own clock in a real cluster).
fn server_time(transport: &mut dyn Transport) -> String {
    let response = transport.send(Request::get("/version"));
    rfc3339_seconds(response_date_ms(&response).div_euclid(1000))
}

/// `rollout pause` / `rollout resume`.
fn pause_or_resume(
    transport: &mut dyn Transport,
    fetched: &Fetched,
    pause: bool,
    out: &mut Output,
) {
    let paused = fetched.object.pointer("/spec/paused") == Some(&json!(true));
    if paused == pause {
        let state = if pause {
            "is already paused"
        } else {
            "is not paused"
        };
        out.fail(format!(
            "error: {} {:?} {state}\n",
            resource_string(fetched),
            fetched.name
        ));
        return;
    }
    let verb = if pause { "paused" } else { "resumed" };
    let patch = json!({"spec": {"paused": if pause { json!(true) } else { json!(null) }}});
    patch_and_report(transport, fetched, patch, verb, out);
}
