//! `kubectl apply -f`: client-side apply. Each object carries its manifest in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation; an existing object
//! is patched with a three-way patch (`configured`), or left alone (`unchanged`).

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use super::create::{dry_run, DryRun};
use super::three_way::three_way;
use crate::commands::mapping::{locate, source_error, Located};
use crate::discovery::{discover, kind_prefix};
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::printers::structured;
use crate::transport::Transport;
use crate::Kubectl;

/// The annotation client-side apply keeps the last applied manifest in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

const FLAGS: &[Flag] = &[
    value("filename", Some('f')),
    value("dry-run", None),
    value("output", Some('o')),
    value("validate", None),
];

/// The manifest as client-side apply sends it (upstream's modified configuration):
/// the namespace filled in for namespaced kinds, as kubectl's builder does, with
/// `metadata.annotations` present (empty if need be) and, when `annotate`, the
/// last-applied annotation holding sorted-key compact JSON of all that plus a newline.
pub(super) fn modified_configuration(
    obj: &Value,
    namespace: Option<&str>,
    annotate: bool,
) -> Value {
    let mut modified = with_namespace(obj, namespace);
    if !modified["metadata"]
        .get("annotations")
        .is_some_and(Value::is_object)
    {
        modified["metadata"]["annotations"] = json!({});
    }
    if let Some(annotations) = modified["metadata"]["annotations"].as_object_mut() {
        annotations.remove(LAST_APPLIED);
    }
    if annotate {
        let text = format!("{}\n", structured::sorted(&modified));
        modified["metadata"]["annotations"][LAST_APPLIED] = json!(text);
    }
    modified
}

/// The configuration last applied to a live object (its last-applied annotation).
pub(super) fn last_applied(live: &Value) -> Option<Value> {
    live.pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
}

/// The manifest with `namespace` filled in when it names none (kubectl's builder
/// defaulting, for namespaced kinds).
pub(super) fn with_namespace(obj: &Value, namespace: Option<&str>) -> Value {
    let mut obj = obj.clone();
    if let Some(ns) = namespace {
        let named = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if !named {
            obj["metadata"]["namespace"] = json!(ns);
        }
    }
    obj
}

/// Sends apply's patch to `path`: a strategic merge patch for built-in kinds, a merge
/// patch for custom resources (which answer 415 to the first); `dry_run` sends
/// `dryRun=All`.
pub(super) fn send_patch(
    transport: &mut dyn Transport,
    path: &str,
    patch: &Value,
    validation: &str,
    dry_run: bool,
) -> kubecraft_cluster::api::Response {
    let mut send = |content_type: &str| {
        let mut req = Request::patch(path, content_type, patch.to_string())
            .with_query("fieldValidation", validation);
        if dry_run {
            req = req.with_query("dryRun", "All");
        }
        transport.send(req)
    };
    let response = send("application/strategic-merge-patch+json");
    if response.status == 415 {
        return send("application/merge-patch+json");
    }
    response
}

/// Runs `kubectl apply`.
pub fn run(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "apply") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let Some(file) = parsed.get("filename") else {
        out.fail("error: must specify one of -f and -k\n\n");
        return out;
    };
    let mode = match dry_run(&parsed) {
        Ok(mode) => mode,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let suffix = mode.suffix();
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
    if read.objects.is_empty() && read.error.is_none() {
        out.fail("error: no objects passed to apply\n");
        return out;
    }
    let resources = discover(transport);
    let mut errors = Output::default();
    for obj in &read.objects {
        let Located {
            resource,
            namespace: ns,
            name,
            path,
        } = match locate(&resources, obj, &source, &namespace) {
            Ok(l) => l,
            Err(e) => {
                errors.fail(e);
                continue;
            }
        };
        let modified =
            modified_configuration(obj, resource.namespaced().then_some(ns.as_str()), true);
        let current = transport.send(Request::get(path.clone()));
        let server_dry = mode == DryRun::Server;
        let (verb, response) = if current.status == 404 {
            if mode == DryRun::Client {
                ("created", None)
            } else {
                let mut req =
                    Request::post(resource.collection_path(Some(&ns)), modified.to_string())
                        .with_query("fieldValidation", validation);
                if server_dry {
                    req = req.with_query("dryRun", "All");
                }
                ("created", Some((transport.send(req), "creating")))
            }
        } else if !current.is_success() {
            errors.fail(source_error(
                &current,
                "retrieving current configuration of",
                &source,
            ));
            continue;
        } else {
            let current = current.body_json();
            let original = last_applied(&current);
            if original.is_none() {
                out.err(format!(
                    "Warning: resource {}/{name} is missing the {LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n",
                    resource.plural
                ));
            }
            let patch = three_way(original.as_ref(), &modified, &current);
            if patch.as_object().is_some_and(|p| p.is_empty()) {
                ("unchanged", None)
            } else if mode == DryRun::Client {
                ("configured", None)
            } else {
                let response = send_patch(transport, &path, &patch, validation, server_dry);
                ("configured", Some((response, "patching")))
            }
        };
        if let Some((response, doing)) = response {
            if !response.is_success() {
                errors.fail(source_error(&response, doing, &source));
                continue;
            }
        }
        out.out(format!("{}/{name} {verb}{suffix}\n", kind_prefix(resource)));
    }
    out.extend(errors);
    if let Some(e) = read.error {
        out.fail(e);
    }
    out
}
