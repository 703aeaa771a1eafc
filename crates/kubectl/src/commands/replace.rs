//! `kubectl replace -f`: PUTs each object of the manifests.

use kubecraft_cluster::api::Request;

use crate::commands::mapping::{locate, source_error, Located};
use crate::discovery::{discover, kind_prefix};
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[value("filename", Some('f')), value("validate", None)];

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
    let validation = match flags::field_validation(&parsed) {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let (read, source) = match super::read_manifests(kubectl, file, stdin) {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let resources = discover(transport);
    let mut errors = Output::default();
    for obj in &read.objects {
        let Located {
            resource,
            name,
            path,
            ..
        } = match locate(&resources, obj, &source, &namespace) {
            Ok(l) => l,
            Err(e) => {
                errors.fail(e);
                continue;
            }
        };
        let response = transport
            .send(Request::put(path, obj.to_string()).with_query("fieldValidation", validation));
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
