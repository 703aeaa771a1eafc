//! Simulated kubelets, one per node: register the Node, renew its Lease every 10 s,
//! report node status every 5 minutes, and run the pods bound to the node.
//! Everything goes through the API server as the actor `kubelet/<node>`.

pub mod access_log;
pub mod behaviour;
pub mod containers;
pub mod env;
pub mod images;
pub mod logs;
pub mod node_config;
pub mod output;
pub mod pi;
pub mod pods;
pub mod probes;
pub mod pull_back_off;
pub mod registry;
pub mod resume;
pub mod script;
pub mod service_links;
pub mod shared_files;
pub mod shell;
pub mod shell_filters;
pub mod shell_parse;
pub mod termination_message;
pub mod usage;
pub mod volumes;

use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::json;

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::{Informer, Recorder};
use crate::sim::{Component, Ctx};
pub use node_config::{NodeConfig, TaintSpec};
use pods::PodWorkers;

/// How often the kubelet renews its Lease (a quarter of the 40 s lease duration).
pub const LEASE_RENEW_MS: u64 = 10_000;
/// The Lease duration upstream's kubelet asks for.
pub const LEASE_DURATION_SECONDS: u64 = 40;
/// How often node status is reported when nothing changed (`nodeStatusReportFrequency`).
pub const STATUS_REPORT_MS: u64 = 5 * 60_000;

const RENEW_TIMER: u64 = 0;
const REPORT_TIMER: u64 = 1;
/// Timer keys from here on belong to pod workers.
const POD_TIMERS: u64 = 16;

/// The node agent of one simulated machine.
pub struct Kubelet {
    actor: String,
    config: NodeConfig,
    recorder: Recorder,
    /// The Lease as the API last returned it, kept as its JSON text: it is read
    /// once every 10 s, and one block of text is cheaper to come back to than a
    /// tree of maps scattered over the heap.
    lease: Option<String>,
    pods: Informer<Pod>,
    /// Every Service, for the links in containers' environments.
    services: Informer<Service>,
    workers: PodWorkers,
    /// How many images had been pulled at the last status report: a pull is
    /// reported at the next 10-second status check rather than with the 5-minute report.
    reported_images: usize,
}

/// The trace name of the kubelet on `node`.
pub fn actor_name(node: &str) -> String {
    format!("kubelet/{node}")
}

impl Kubelet {
    /// A kubelet for the machine `config` describes.
    pub fn new(config: NodeConfig) -> Kubelet {
        Kubelet {
            actor: actor_name(&config.name),
            recorder: Recorder::new("kubelet", Some(&config.name)),
            pods: Informer::new("/api/v1/pods")
                .with_query("fieldSelector", format!("spec.nodeName={}", config.name)),
            services: Informer::new("/api/v1/services"),
            workers: PodWorkers::new(&config.internal_ip(), &config.pod_cidr(), POD_TIMERS)
                .with_node_allocatable(config.allocatable_quantities()),
            lease: None,
            reported_images: 0,
            config,
        }
    }

    fn node_path(&self) -> String {
        format!("/api/v1/nodes/{}", self.config.name)
    }

    /// Registers the Node, or (after a restart) reports it ready again.
    fn register(&mut self, ctx: &mut Ctx) {
        let existing = ctx.call(Request::get(self.node_path()));
        if existing.status == 200 {
            self.report_status(ctx, true);
            return;
        }
        let boot_id = ctx.rng().uuid();
        let node = self.config.node_object(&ctx.timestamp(), &boot_id);
        ctx.call(Request::post("/api/v1/nodes", node.to_string()));
        let about = crate::client::ObjectRef::node(&self.config.name);
        for (reason, message) in [
            ("Starting", "Starting kubelet.".to_string()),
            (
                "NodeHasSufficientMemory",
                format!(
                    "Node {} status is now: NodeHasSufficientMemory",
                    self.config.name
                ),
            ),
            (
                "NodeHasNoDiskPressure",
                format!(
                    "Node {} status is now: NodeHasNoDiskPressure",
                    self.config.name
                ),
            ),
            (
                "NodeHasSufficientPID",
                format!(
                    "Node {} status is now: NodeHasSufficientPID",
                    self.config.name
                ),
            ),
            (
                "NodeReady",
                format!("Node {} status is now: NodeReady", self.config.name),
            ),
        ] {
            self.recorder.event(ctx, &about, "Normal", reason, &message);
        }
    }

    /// Patches the node's conditions with a fresh heartbeat (a condition whose
    /// status is unchanged keeps its lastTransitionTime) and its pulled images.
    fn report_status(&mut self, ctx: &mut Ctx, ready: bool) {
        let current = ctx.call(Request::get(self.node_path())).body_json();
        let mut conditions = node_config::conditions(&ctx.timestamp(), ready);
        for c in conditions.as_array_mut().into_iter().flatten() {
            let before = current["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|b| b["type"] == c["type"] && b["status"] == c["status"]);
            if let Some(before) = before {
                c["lastTransitionTime"] = before["lastTransitionTime"].clone();
            }
        }
        let mut patch = json!({"status": {"conditions": conditions}});
        let images = self.workers.node_images();
        if !images.is_empty() {
            patch["status"]["images"] = json!(images);
        }
        self.reported_images = self.workers.pulled_images();
        ctx.call(Request::patch(
            format!("{}/status", self.node_path()),
            "application/strategic-merge-patch+json",
            patch.to_string(),
        ));
    }

    /// Creates or renews the node's Lease in `kube-node-lease`.
    fn renew_lease(&mut self, ctx: &mut Ctx) {
        let path = format!(
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{}",
            self.config.name
        );
        let now = ctx.micro_timestamp();
        let kept = self.lease.take();
        if let Some(renewed) = kept.and_then(|text| with_renew_time(&text, &now)) {
            let response = ctx.call(Request::put(path.clone(), renewed));
            if response.status == 200 {
                self.lease = Some(response.into_body_text());
                return;
            }
        }
        let current = ctx.call(Request::get(path.clone()));
        if current.status == 200 {
            let mut lease = current.body_json();
            lease["spec"]["renewTime"] = json!(now);
            lease["spec"]["holderIdentity"] = json!(self.config.name);
            let response = ctx.call(Request::put(path, lease.to_string()));
            self.lease = (response.status == 200).then(|| response.into_body_text());
            return;
        }
        let node = ctx.call(Request::get(self.node_path())).body_json();
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self.config.name,
                "namespace": "kube-node-lease",
                "ownerReferences": [{
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": self.config.name,
                    "uid": node["metadata"]["uid"],
                }],
            },
            "spec": {
                "holderIdentity": self.config.name,
                "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": now,
            },
        });
        let response = ctx.call(Request::post(
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
            lease.to_string(),
        ));
        self.lease = (response.status == 201).then(|| response.into_body_text());
    }

    /// Hands the pod workers the Services as the informer holds them now.
    fn share_services(&mut self) {
        let keys = self.services.iter().map(|(key, _)| key);
        let services = keys
            .filter_map(|key| self.services.get_shared(key))
            .collect();
        self.workers.set_services(services);
    }

    fn sync_pods(&mut self, deltas: Vec<crate::client::Delta<Pod>>, ctx: &mut Ctx) {
        for delta in deltas {
            let pod = match delta.kind {
                EventType::Deleted => None,
                _ => self.pods.get(&delta.key),
            };
            self.workers.sync(&delta.key, pod, ctx, &mut self.recorder);
        }
    }
}

impl Component for Kubelet {
    fn name(&self) -> &str {
        &self.actor
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.register(ctx);
        self.renew_lease(ctx);
        ctx.set_background_timer(LEASE_RENEW_MS, RENEW_TIMER);
        ctx.set_background_timer(STATUS_REPORT_MS, REPORT_TIMER);
        // Pods start once the Services are known (upstream's `serviceHasSynced`).
        self.services.start(ctx);
        self.share_services();
        let deltas = self.pods.start(ctx);
        // Containers that ran before this kubelet started keep running.
        for delta in &deltas {
            if let Some(pod) = self.pods.get(&delta.key) {
                self.workers.adopt(&delta.key, pod, ctx);
            }
        }
        self.sync_pods(deltas, ctx);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.pods.owns(watch) {
            let deltas = self.pods.handle(event, ctx);
            self.sync_pods(deltas, ctx);
        } else if self.services.owns(watch) {
            self.services.handle(event, ctx);
            self.share_services();
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        match key {
            RENEW_TIMER => {
                if self.workers.pulled_images() != self.reported_images {
                    self.report_status(ctx, true);
                }
                self.renew_lease(ctx);
                ctx.set_background_timer(LEASE_RENEW_MS, RENEW_TIMER);
            }
            REPORT_TIMER => {
                self.report_status(ctx, true);
                ctx.set_background_timer(STATUS_REPORT_MS, REPORT_TIMER);
            }
            _ => {
                let pods = &self.pods;
                let lookup = |key: &str| pods.get_shared(key);
                self.workers
                    .fire(key - POD_TIMERS, &lookup, ctx, &mut self.recorder);
            }
        }
    }
}

/// The Lease text `lease` (as the API server wrote it) with `spec.renewTime` set to
/// `now`: the one value a renewal changes, put in place without parsing the rest.
/// `None` when the text has no renewTime to replace.
fn with_renew_time(lease: &str, now: &str) -> Option<String> {
    const FIELD: &str = "\"renewTime\":\"";
    // The last top-level key as serde_json writes them, with nothing named `spec` inside.
    let spec = lease.rfind("\"spec\":{")?;
    let start = spec + lease[spec..].find(FIELD)? + FIELD.len();
    let end = start + lease[start..].find('"')?;
    Some([&lease[..start], now, &lease[end..]].concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_renewal_changes_only_the_renew_time() {
        let lease = r#"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"annotations":{"renewTime":"x"},"name":"node-1","resourceVersion":"7"},"spec":{"holderIdentity":"node-1","leaseDurationSeconds":40,"renewTime":"2026-01-01T00:00:00.000000Z"}}"#;
        let renewed = with_renew_time(lease, "2026-01-01T00:00:10.000000Z").unwrap();
        let mut expected: Value = serde_json::from_str(lease).unwrap();
        expected["spec"]["renewTime"] = json!("2026-01-01T00:00:10.000000Z");
        assert_eq!(serde_json::from_str::<Value>(&renewed).unwrap(), expected);
        assert_eq!(
            with_renew_time(r#"{"spec":{"holderIdentity":"n"}}"#, "t"),
            None
        );
    }
}
