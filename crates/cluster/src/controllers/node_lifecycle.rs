//! The node lifecycle controller, as upstream's: every 5 s it checks each node's
//! last heartbeat (its Lease renewal or Ready heartbeat). A node silent for the
//! 50 s grace period gets its conditions set to Unknown ("Kubelet stopped
//! posting node status."), the `node.kubernetes.io/unreachable` NoSchedule and
//! NoExecute taints, a `NodeNotReady` event, and its pods marked not ready. A
//! node that reports Ready again loses those taints.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use serde_json::{json, Value};

use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::{pod_path, Informer, ObjectRef, Recorder};
use crate::sim::{Component, Ctx};

/// The trace name and the events' source.
pub const NAME: &str = "node-controller";

/// How often node health is checked (`--node-monitor-period`).
pub const MONITOR_PERIOD_MS: u64 = 5_000;
/// How long a node may stay silent before it is Unknown (`--node-monitor-grace-period`).
pub const GRACE_PERIOD_MS: i64 = 50_000;

/// The taint of a node whose kubelet stopped reporting.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The taint of a node that reports Ready=False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";

const MONITOR_TIMER: u64 = 0;

/// The node conditions the kubelet owns, set to Unknown when it goes silent.
const KUBELET_CONDITIONS: &[&str] = &["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// Watches node heartbeats and taints silent nodes.
pub struct NodeLifecycleController {
    recorder: Recorder,
    nodes: Informer<Node>,
    leases: Informer<Lease>,
}

impl Default for NodeLifecycleController {
    fn default() -> Self {
        NodeLifecycleController {
            recorder: Recorder::new(NAME, None),
            nodes: Informer::new("/api/v1/nodes"),
            leases: Informer::new("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"),
        }
    }
}

fn ready_status(node: &Node) -> Option<&str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.as_str())
}

fn taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
}

/// The taints a node's Ready condition calls for (key, effect).
fn wanted_taints(ready: Option<&str>) -> Vec<(&'static str, &'static str)> {
    match ready {
        Some("Unknown") => vec![(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")],
        Some("False") => vec![(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")],
        _ => Vec::new(),
    }
}

impl NodeLifecycleController {
    /// When the node last showed life, in Unix milliseconds.
    fn last_heartbeat(&self, node: &Node) -> i64 {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let lease = self
            .leases
            .get(&format!("kube-node-lease/{name}"))
            .and_then(|l| l.spec.as_ref())
            .and_then(|s| s.renew_time.as_ref())
            .map_or(0, |t| t.0.as_millisecond());
        let ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .and_then(|c| c.last_heartbeat_time.as_ref())
            .map_or(0, |t| t.0.as_millisecond());
        let created = node
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or(0, |t| t.0.as_millisecond());
        lease.max(ready).max(created)
    }

    /// Upstream's `monitorNodeHealth`.
    fn monitor(&mut self, ctx: &mut Ctx) {
        let now = ctx.unix_millis();
        let silent: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, node)| ready_status(node) != Some("Unknown"))
            .filter(|(_, node)| self.last_heartbeat(node) + GRACE_PERIOD_MS < now)
            .map(|(key, _)| key.clone())
            .collect();
        for name in silent {
            ctx.become_foreground();
            self.mark_unknown(&name, ctx);
        }
        let keys: Vec<String> = self.nodes.iter().map(|(k, _)| k.clone()).collect();
        for name in keys {
            self.sync_taints(&name, ctx);
        }
    }

    /// Sets the kubelet's conditions to Unknown and marks the node's pods not ready.
    fn mark_unknown(&mut self, name: &str, ctx: &mut Ctx) {
        let Some(node) = self.nodes.get(name).cloned() else {
            return;
        };
        let now = ctx.timestamp();
        let mut conditions: Vec<Value> = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| serde_json::to_value(c).ok())
                    .collect()
            })
            .unwrap_or_default();
        for kind in KUBELET_CONDITIONS {
            match conditions.iter_mut().find(|c| c["type"] == *kind) {
                Some(c) => {
                    c["status"] = json!("Unknown");
                    c["reason"] = json!("NodeStatusUnknown");
                    c["message"] = json!("Kubelet stopped posting node status.");
                    c["lastTransitionTime"] = json!(now);
                }
                None => conditions.push(json!({
                    "type": kind, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastHeartbeatTime": null, "lastTransitionTime": now,
                })),
            }
        }
        let patch = json!({"status": {"conditions": conditions}});
        ctx.call(Request::patch(
            format!("/api/v1/nodes/{name}/status"),
            "application/strategic-merge-patch+json",
            patch.to_string(),
        ));
        let message = format!("Node {name} status is now: NodeNotReady");
        self.recorder.event(
            ctx,
            &ObjectRef::node(name),
            "Normal",
            "NodeNotReady",
            &message,
        );
        self.mark_pods_not_ready(name, ctx);
    }

    /// Upstream's `MarkPodsNotReady`: Ready=False on every pod of the node.
    fn mark_pods_not_ready(&mut self, node: &str, ctx: &mut Ctx) {
        let list = ctx.call(
            Request::get("/api/v1/pods")
                .with_query("fieldSelector", format!("spec.nodeName={node}")),
        );
        let now = ctx.timestamp();
        for item in list.body_json()["items"].as_array().into_iter().flatten() {
            let Ok(pod) = serde_json::from_value::<Pod>(item.clone()) else {
                continue;
            };
            let ready = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
            if ready.is_none_or(|c| c.status == "False") {
                continue;
            }
            let key = format!(
                "{}/{}",
                pod.metadata.namespace.as_deref().unwrap_or(""),
                pod.metadata.name.as_deref().unwrap_or("")
            );
            let patch = json!({"status": {"conditions": [
                {"type": "Ready", "status": "False", "lastTransitionTime": now},
            ]}});
            ctx.call(Request::patch(
                format!("{}/status", pod_path(&key)),
                "application/strategic-merge-patch+json",
                patch.to_string(),
            ));
            self.recorder.event(
                ctx,
                &ObjectRef::of(&pod),
                "Warning",
                "NodeNotReady",
                "Node is not ready",
            );
        }
    }

    /// Adds or removes the not-ready and unreachable taints to match Ready.
    fn sync_taints(&mut self, name: &str, ctx: &mut Ctx) {
        let Some(node) = self.nodes.get(name) else {
            return;
        };
        let wanted = wanted_taints(ready_status(node));
        let ours = |t: &Taint| t.key == UNREACHABLE || t.key == NOT_READY;
        let has_ours = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .is_some_and(|taints| taints.iter().any(ours));
        // A healthy node without our taints (nearly every node, every period).
        if wanted.is_empty() && !has_ours {
            return;
        }
        let current = taints(node);
        let mut next: Vec<Taint> = current
            .iter()
            .filter(|t| !ours(t) || wanted.contains(&(t.key.as_str(), t.effect.as_str())))
            .cloned()
            .collect();
        for (key, effect) in &wanted {
            if !next.iter().any(|t| t.key == *key && t.effect == *effect) {
                let time_added = (*effect == "NoExecute").then(|| ctx.time());
                next.push(Taint {
                    key: key.to_string(),
                    effect: effect.to_string(),
                    value: None,
                    time_added,
                });
            }
        }
        if next == current {
            return;
        }
        ctx.become_foreground();
        let taints = if next.is_empty() {
            Value::Null
        } else {
            serde_json::to_value(&next).unwrap_or_default()
        };
        let patch = json!({"spec": {"taints": taints}});
        ctx.call(Request::patch(
            format!("/api/v1/nodes/{name}"),
            "application/merge-patch+json",
            patch.to_string(),
        ));
    }
}

impl Component for NodeLifecycleController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.nodes.start(ctx);
        self.leases.start(ctx);
        ctx.set_background_timer(MONITOR_PERIOD_MS, MONITOR_TIMER);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.nodes.owns(watch) {
            let changed: BTreeMap<String, ()> = self
                .nodes
                .handle(event, ctx)
                .into_iter()
                .map(|d| (d.key, ()))
                .collect();
            for name in changed.keys() {
                self.sync_taints(name, ctx);
            }
        } else if self.leases.owns(watch) {
            self.leases.handle(event, ctx);
        }
    }

    fn on_timer(&mut self, _key: u64, ctx: &mut Ctx) {
        self.monitor(ctx);
        ctx.set_background_timer(MONITOR_PERIOD_MS, MONITOR_TIMER);
    }
}
