//! `kubectl cordon NODE` / `kubectl uncordon NODE`: mark a node (un)schedulable.

use kubecraft_cluster::api::Request;
use serde_json::json;

use super::target::fetch;
use crate::errors::server_error;
use crate::flags;
use crate::output::Output;
use crate::transport::Transport;

/// Runs `kubectl cordon` (`cordon` true) or `kubectl uncordon`.
pub fn run(transport: &mut dyn Transport, args: &[String], cordon: bool) -> Output {
    let mut out = Output::default();
    let command = if cordon { "cordon" } else { "uncordon" };
    let parsed = match flags::parse(args, &[], command) {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    if parsed.positional.is_empty() {
        out.fail(format!(
            "error: USAGE: {command} NODE [flags]\nSee 'kubectl {command} -h' for help and examples\n"
        ));
        return out;
    }
    for name in &parsed.positional {
        let fetched = match fetch(transport, "nodes", name, "") {
            Ok(f) => f,
            Err(e) => {
                out.fail(e);
                return out;
            }
        };
        let already = (fetched.object["spec"]["unschedulable"] == true) == cordon;
        let verb = match (already, cordon) {
            (true, true) => "already cordoned",
            (true, false) => "already uncordoned",
            (false, true) => "cordoned",
            (false, false) => "uncordoned",
        };
        if !already {
            let value = if cordon { json!(true) } else { json!(null) };
            let patch = json!({"spec": {"unschedulable": value}});
            let response = transport.send(Request::patch(
                fetched.path.clone(),
                "application/strategic-merge-patch+json",
                patch.to_string(),
            ));
            if !response.is_success() {
                out.fail(server_error(&response));
                return out;
            }
        }
        out.out(format!("node/{name} {verb}\n"));
    }
    out
}
