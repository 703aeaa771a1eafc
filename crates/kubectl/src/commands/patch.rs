//! `kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json]`.

use kubecraft_cluster::api::Request;
use serde_json::Value;

use super::target::{fetch_target, Fetched};
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[value("patch", Some('p')), value("type", None)];

/// Runs `kubectl patch`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "patch") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let content_type = match parsed.get("type").unwrap_or("strategic") {
        "strategic" => "application/strategic-merge-patch+json",
        "merge" => "application/merge-patch+json",
        "json" => "application/json-patch+json",
        other => {
            out.fail(format!(
                "error: --type must be one of [json merge strategic], not {other:?}\n"
            ));
            return out;
        }
    };
    let Some(text) = parsed.get("patch") else {
        out.fail(
            "error: must specify --patch or --patch-file containing the contents of the patch\n",
        );
        return out;
    };
    // kubectl accepts the patch as YAML or JSON.
    let patch: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.fail(format!("error: unable to parse {text:?}: yaml: {e}\n"));
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let target = fetch_target(
        transport,
        &parsed.positional,
        "error: resource(s) were provided, but no name was specified\n",
        &namespace,
    );
    let Fetched {
        resource,
        name,
        path,
        object: before,
    } = match target {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let response = transport.send(Request::patch(path, content_type, patch.to_string()));
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let rv = |v: &Value| v.pointer("/metadata/resourceVersion").cloned();
    let unchanged = rv(&before) == rv(&response.body_json());
    out.out(format!(
        "{}/{name} patched{}\n",
        kind_prefix(&resource),
        if unchanged { " (no change)" } else { "" }
    ));
    out
}
