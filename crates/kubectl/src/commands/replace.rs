//! `kubectl replace -f`: PUTs each object of the manifests.

use kubecraft_cluster::api::Request;
use serde_json::Value;

use crate::commands::mapping::{resource_for, source_error};
use crate::discovery::{discover, kind_prefix};
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[value("filename", Some('f'))];

/// Runs `kubectl replace`.
pub fn run(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "replace") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let Some(file) = parsed.get("filename") else {
        out.fail("error: must specify --filename to replace\n");
        return out;
    };
    let (read, source) = match super::read_manifests(kubectl, file, stdin) {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let namespace = parsed
        .get("namespace")
        .map(String::from)
        .unwrap_or_else(|| kubectl.namespace());
    let resources = discover(transport);
    let mut errors = Output::default();
    for obj in &read.objects {
        let resource = match resource_for(&resources, obj, &source) {
            Ok(r) => r,
            Err(e) => {
                errors.fail(e);
                continue;
            }
        };
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(&namespace)
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let path = format!("{}/{name}", resource.collection_path(Some(&ns)));
        let response = transport.send(Request::put(path, obj.to_string()));
        if response.is_success() {
            out.out(format!("{}/{name} replaced\n", kind_prefix(resource)));
        } else {
            errors.fail(source_error(&response, "replacing", &source));
        }
    }
    out.extend(errors);
    if let Some(e) = read.error {
        out.fail(e);
    }
    out
}
