//! Upstream's PVC protection controller: a PersistentVolumeClaim carries the
//! `kubernetes.io/pvc-protection` finalizer (the API server's
//! StorageObjectInUseProtection admission adds it), and once the claim is being
//! deleted the controller removes the finalizer only when no pod that has not
//! finished uses the claim, so a claim in use outlives its deletion until its
//! pods are gone. It asks the API server for the namespace's pods (upstream also
//! confirms with a live list) and checks again a little later while they remain.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use serde_json::{json, Value};

use crate::api::{Request, PVC_PROTECTION_FINALIZER};
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::{Informer, WorkQueue};
use crate::sim::{Component, Ctx};

const QUEUE_TIMERS: u64 = 0;

/// The controller.
pub struct PvcProtectionController {
    claims: Informer<PersistentVolumeClaim>,
    queue: WorkQueue,
}

impl Default for PvcProtectionController {
    fn default() -> Self {
        PvcProtectionController {
            claims: Informer::new("/api/v1/persistentvolumeclaims"),
            queue: WorkQueue::new(QUEUE_TIMERS),
        }
    }
}

/// Whether a pod (as JSON) that has not finished mounts the claim `name`.
fn uses(pod: &Value, name: &str) -> bool {
    let finished = matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    );
    !finished
        && pod["spec"]["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == name)
}

impl PvcProtectionController {
    fn sync(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(claim) = self.claims.get(key) else {
            return;
        };
        let finalizers = claim.metadata.finalizers.clone().unwrap_or_default();
        if claim.metadata.deletion_timestamp.is_none()
            || !finalizers.iter().any(|f| f == PVC_PROTECTION_FINALIZER)
        {
            return;
        }
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        let pods = ctx.call(Request::get(format!("/api/v1/namespaces/{namespace}/pods")));
        let in_use = pods.body_json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|pod| uses(pod, name));
        if in_use || !pods.is_success() {
            self.queue.add_rate_limited(key, ctx);
            return;
        }
        let remaining: Vec<&String> = finalizers
            .iter()
            .filter(|f| *f != PVC_PROTECTION_FINALIZER)
            .collect();
        let patch = json!({"metadata": {
            "finalizers": remaining,
            "resourceVersion": claim.metadata.resource_version,
        }});
        let response = ctx.call(Request::patch(
            format!("/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"),
            "application/merge-patch+json",
            patch.to_string(),
        ));
        let failed = response.status == 409 || response.status >= 500;
        self.queue.finish(key, failed, ctx);
    }
}

impl Component for PvcProtectionController {
    fn name(&self) -> &str {
        "pvc-protection-controller"
    }

    fn start(&mut self, ctx: &mut Ctx) {
        for delta in self.claims.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.claims.owns(watch) {
            for delta in self.claims.handle(event, ctx) {
                self.queue.add(&delta.key, ctx);
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for claim in self.queue.on_timer(key, ctx) {
            self.sync(&claim, ctx);
        }
    }
}
