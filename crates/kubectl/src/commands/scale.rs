//! `kubectl scale TYPE NAME --replicas=N`: writes the scale subresource.

use kubecraft_cluster::api::Request;
use serde_json::json;

use crate::discovery::{discover, kind_prefix, resolve_known, warn_ambiguous};
use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[value("replicas", None)];

/// Runs `kubectl scale`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "scale") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let replicas = match parsed.int(&value("replicas", None), "scale") {
        Ok(Some(replicas)) => replicas,
        Ok(None) => {
            out.fail("error: required flag(s) \"replicas\" not set\n");
            return out;
        }
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    if replicas < 0 {
        out.fail("error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n");
        return out;
    }
    let namespace = kubectl.namespace_for(&parsed);
    let targets: Vec<(String, String)> = match parsed.positional.as_slice() {
        [one] if one.contains('/') => {
            let (t, n) = one.split_once('/').expect("checked");
            vec![(t.to_string(), n.to_string())]
        }
        [t, names @ ..] if !names.is_empty() => {
            names.iter().map(|n| (t.clone(), n.clone())).collect()
        }
        _ => {
            out.fail("error: resource(s) were provided, but no name was specified\n");
            return out;
        }
    };
    let resources = discover(transport);
    warn_ambiguous(transport, &resources, &parsed.positional);
    for (typed, name) in targets {
        let resource = match resolve_known(&resources, &typed) {
            Ok(resource) => resource,
            Err(error) => {
                out.fail(error);
                return out;
            }
        };
        let path = format!(
            "{}/{name}/scale",
            resource.collection_path(Some(&namespace))
        );
        let patch = json!({"spec": {"replicas": replicas}});
        let response = transport.send(Request::patch(
            path,
            "application/merge-patch+json",
            patch.to_string(),
        ));
        if response.is_success() {
            out.out(format!("{}/{name} scaled\n", kind_prefix(resource)));
        } else {
            out.fail(server_error(&response));
        }
    }
    out
}
