//! `kubectl cluster-info`: where the control plane (and cluster services) answer.

use kubecraft_cluster::api::Request;
use serde_json::Value;

use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

/// Runs `kubectl cluster-info`.
pub fn run(kubectl: &Kubectl, transport: &mut dyn Transport) -> Output {
    let mut out = Output::default();
    let server = &kubectl.config.server;
    out.out(format!("Kubernetes control plane is running at {server}\n"));
    let services = transport
        .send(
            Request::get("/api/v1/namespaces/kube-system/services")
                .with_query("labelSelector", "kubernetes.io/cluster-service=true"),
        )
        .body_json();
    for svc in services["items"].as_array().into_iter().flatten() {
        let name = svc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let title = svc
            .pointer("/metadata/labels/kubernetes.io~1name")
            .and_then(Value::as_str)
            .unwrap_or(name);
        let port = svc
            .pointer("/spec/ports/0/name")
            .and_then(Value::as_str)
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        out.out(format!("{title} is running at {server}/api/v1/namespaces/kube-system/services/{name}{port}/proxy\n"));
    }
    out.out("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n");
    out
}
