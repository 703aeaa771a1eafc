//! `kubectl auth can-i VERB [TYPE | TYPE/NAME | NONRESOURCEURL]` and `--list`:
//! a SelfSubjectAccessReview (or SelfSubjectRulesReview) and upstream's answer,
//! `yes` or `no` with exit code 1.

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use super::rules;
use crate::discovery::{discover, resolve};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    boolean("all-namespaces", Some('A')),
    boolean("quiet", Some('q')),
    value("subresource", None),
    boolean("list", None),
    boolean("no-headers", None),
];

/// Verbs kubectl knows for resources and for non-resource URLs.
const RESOURCE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "*",
    "approve",
    "sign",
    "escalate",
    "attest",
];
const NON_RESOURCE_VERBS: &[&str] = &[
    "get", "put", "post", "head", "options", "delete", "patch", "*",
];

/// Resources the server authorizes but does not serve.
const NON_STANDARD_RESOURCES: &[&str] = &["users", "groups"];

/// What the question is about.
enum Subject {
    Resource {
        group: String,
        resource: String,
        name: String,
        /// Whether discovery says the resource is namespaced (unknown types count as namespaced).
        namespaced: bool,
    },
    Url(String),
}

/// kubectl's warning line for `text`; can-i's texts end in a newline of their own,
/// and the printer adds another.
fn warning(text: &str) -> String {
    format!("Warning: {text}\n\n")
}

/// Maps `TYPE[/NAME]` as kubectl's `resourceFor` does, warning about unknown types.
fn resource_subject(transport: &mut dyn Transport, typed: &str, out: &mut Output) -> Subject {
    let (kind, name) = match typed.split_once('/') {
        Some((kind, name)) => (kind, name.to_string()),
        None => (typed, String::new()),
    };
    let unmapped = |namespaced| Subject::Resource {
        group: String::new(),
        resource: kind.to_string(),
        name: name.clone(),
        namespaced,
    };
    if kind == "*" {
        return unmapped(true);
    }
    let resources = discover(transport);
    if let Some(info) = resolve(&resources, kind) {
        return Subject::Resource {
            group: info.group.clone(),
            resource: info.plural.clone(),
            name,
            namespaced: info.namespaced(),
        };
    }
    let lower = kind.to_ascii_lowercase();
    if !NON_STANDARD_RESOURCES.contains(&lower.as_str()) {
        out.err(warning(&match lower.split_once('.') {
            Some((resource, group)) => {
                format!("the server doesn't have a resource type '{resource}' in group '{group}'")
            }
            None => format!("the server doesn't have a resource type '{lower}'"),
        }));
    }
    unmapped(true)
}

/// Runs `kubectl auth can-i`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "auth can-i") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let all_namespaces = parsed.is_set("all-namespaces");
    let quiet = parsed.is_set("quiet");
    let list = parsed.is_set("list");
    let subresource = parsed.get("subresource").unwrap_or("").to_string();
    let namespace = if all_namespaces {
        String::new()
    } else {
        kubectl.namespace_for(&parsed)
    };
    if list {
        if !parsed.positional.is_empty() {
            out.fail("error: list option must be specified with no arguments\n");
        } else if quiet || all_namespaces || !subresource.is_empty() {
            out.fail("error: list option can't be specified with neither quiet, all-namespaces nor subresource options\n");
        } else {
            out.extend(rules::run(
                transport,
                &namespace,
                parsed.is_set("no-headers"),
            ));
        }
        return out;
    }
    let [verb, what] = parsed.positional.as_slice() else {
        out.fail("error: you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl auth can-i -h' for help and examples.\n");
        return out;
    };
    let subject = if what.starts_with('/') {
        Subject::Url(what.clone())
    } else {
        resource_subject(transport, what, &mut out)
    };
    match &subject {
        Subject::Url(_) => {
            if !subresource.is_empty() {
                out.fail("error: --subresource can not be used with NonResourceURL\n");
                return out;
            }
            if !NON_RESOURCE_VERBS.contains(&verb.as_str()) {
                out.err(warning(&format!("verb '{verb}' is not a known verb")));
            }
        }
        Subject::Resource {
            group,
            resource,
            namespaced,
            ..
        } => {
            if !all_namespaces && !namespaced {
                out.err(warning(&if group.is_empty() {
                    format!("resource '{resource}' is not namespace scoped")
                } else {
                    format!("resource '{resource}' is not namespace scoped in group '{group}'")
                }));
            }
            if !RESOURCE_VERBS.contains(&verb.as_str()) {
                out.err(warning(&format!("verb '{verb}' is not a known verb")));
            }
        }
    }
    if parsed.is_set("no-headers") {
        out.fail("error: --no-headers cannot be set without --list specified\n");
        return out;
    }
    let spec = match &subject {
        Subject::Url(path) => json!({"nonResourceAttributes": {"path": path, "verb": verb}}),
        Subject::Resource {
            group,
            resource,
            name,
            ..
        } => {
            let mut attributes = json!({"verb": verb, "resource": resource});
            for (key, value) in [
                ("namespace", namespace.as_str()),
                ("group", group.as_str()),
                ("subresource", subresource.as_str()),
                ("name", name.as_str()),
            ] {
                if !value.is_empty() {
                    attributes[key] = Value::String(value.to_string());
                }
            }
            json!({ "resourceAttributes": attributes })
        }
    };
    let review = json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": spec,
    });
    let response = transport.send(Request::post(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        review.to_string(),
    ));
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let status = &response.body_json()["status"];
    let text = |key: &str| status[key].as_str().unwrap_or("").to_string();
    let allowed = status["allowed"].as_bool().unwrap_or(false);
    let mut answer = if allowed {
        "yes".to_string()
    } else {
        "no".to_string()
    };
    if !allowed {
        for extra in [text("reason"), text("evaluationError")] {
            if !extra.is_empty() {
                answer.push_str(&format!(" - {extra}"));
            }
        }
    }
    if !quiet {
        out.out(format!("{answer}\n"));
    }
    if !allowed {
        out.exit_code = 1;
    }
    out
}
