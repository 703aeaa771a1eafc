//! `kubectl expose TYPE NAME --port=P [--target-port] [--type] [--name]
//! [--session-affinity]`: a Service selecting what a Deployment, ReplicaSet,
//! Service or Pod selects.

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use super::target::{fetch_target, Fetched};
use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("port", None),
    value("target-port", None),
    value("type", None),
    value("name", None),
    value("protocol", None),
    value("session-affinity", None),
];

/// Runs `kubectl expose`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "expose") {
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
        "error: You must provide one or more resources by argument or filename.\n",
        &namespace,
    );
    let Fetched {
        resource,
        name,
        object: source,
        ..
    } = match target {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let affinity = parsed.get("session-affinity").filter(|a| !a.is_empty());
    if let Some(other) = affinity.filter(|a| !matches!(*a, "None" | "ClientIP")) {
        out.fail(format!("error: unknown session affinity: {other}\n"));
        return out;
    }
    let selector = match resource.kind.as_str() {
        "Pod" => source.pointer("/metadata/labels").cloned(),
        "Service" => source.pointer("/spec/selector").cloned(),
        "Deployment" | "ReplicaSet" | "StatefulSet" => {
            source.pointer("/spec/selector/matchLabels").cloned()
        }
        other => {
            out.fail(format!("error: cannot expose a {other}\n"));
            return out;
        }
    };
    let Some(selector) = selector.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
        out.fail(format!("error: couldn't retrieve selectors via --selector flag or introspection: the {} has no selector\n", resource.kind));
        return out;
    };
    let container_port = |s: &Value| {
        let spec = if resource.kind == "Pod" {
            s.pointer("/spec")
        } else {
            s.pointer("/spec/template/spec")
        };
        spec.and_then(|sp| sp.pointer("/containers/0/ports/0/containerPort"))
            .and_then(Value::as_i64)
    };
    let port = match parsed.get("port").map(|p| p.parse::<i64>()) {
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            out.fail(format!(
                "error: invalid port {:?}\n",
                parsed.get("port").unwrap_or("")
            ));
            return out;
        }
        None => match container_port(&source) {
            Some(p) => p,
            None => {
                out.fail("error: couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and examples\n");
                return out;
            }
        },
    };
    let target: Value = match parsed.get("target-port") {
        Some(t) => t
            .parse::<i64>()
            .map(|n| json!(n))
            .unwrap_or_else(|_| json!(t)),
        None => json!(port),
    };
    let service_name = parsed.get("name").unwrap_or(&name).to_string();
    let mut service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": service_name},
        "spec": {
            "ports": [{"port": port, "protocol": parsed.get("protocol").unwrap_or("TCP"), "targetPort": target}],
            "selector": selector,
        }
    });
    if let Some(labels) = source.pointer("/metadata/labels") {
        service["metadata"]["labels"] = labels.clone();
    }
    if let Some(kind) = parsed.get("type") {
        service["spec"]["type"] = json!(kind);
    }
    if let Some(affinity) = affinity {
        service["spec"]["sessionAffinity"] = json!(affinity);
    }
    let response = transport.send(Request::post(
        format!("/api/v1/namespaces/{namespace}/services"),
        service.to_string(),
    ));
    if response.is_success() {
        out.out(format!("service/{service_name} exposed\n"));
    } else {
        out.fail(server_error(&response));
    }
    out
}
