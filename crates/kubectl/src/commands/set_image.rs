//! `kubectl set image TYPE/NAME CONTAINER=IMAGE ...`: a strategic patch of the pod
//! template's (or pod's) container images.

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use super::target::{fetch_target, Fetched};
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::flags;
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

/// Runs `kubectl set image`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, &[], "set image") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let (targets, images): (Vec<&String>, Vec<&String>) =
        parsed.positional.iter().partition(|a| !a.contains('='));
    if images.is_empty() {
        out.fail("error: at least one image update is required\n");
        return out;
    }
    let namespace = kubectl.namespace_for(&parsed);
    let target = fetch_target(
        transport,
        &targets,
        "error: You must provide one or more resources by argument or filename.\n",
        &namespace,
    );
    let Fetched {
        resource,
        name,
        path,
        object: current,
    } = match target {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let spec_pointer = if resource.kind == "Pod" {
        "/spec"
    } else {
        "/spec/template/spec"
    };
    let names: Vec<String> = current
        .pointer(&format!("{spec_pointer}/containers"))
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut containers = Vec::new();
    for update in images {
        let (container, image) = update.split_once('=').expect("partitioned on =");
        if container == "*" {
            containers.extend(names.iter().map(|n| json!({"name": n, "image": image})));
        } else if names.iter().any(|n| n == container) {
            containers.push(json!({"name": container, "image": image}));
        } else {
            out.fail(format!(
                "error: unable to find container named {container:?}\n"
            ));
            return out;
        }
    }
    let patch = if resource.kind == "Pod" {
        json!({"spec": {"containers": containers}})
    } else {
        json!({"spec": {"template": {"spec": {"containers": containers}}}})
    };
    let response = transport.send(Request::patch(
        path,
        "application/strategic-merge-patch+json",
        patch.to_string(),
    ));
    if response.is_success() {
        out.out(format!("{}/{name} image updated\n", kind_prefix(&resource)));
    } else {
        out.fail(server_error(&response));
    }
    out
}
