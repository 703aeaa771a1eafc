//! Objects kube-controller-manager puts in every namespace: the `default`
//! ServiceAccount (upstream's serviceaccount controller) and the `kube-root-ca.crt`
//! ConfigMap (upstream's root CA certificate publisher). Each controller creates
//! its object in every namespace that is not being deleted, and again whenever it
//! is deleted, as upstream's do.

use serde_json::{json, Value};

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::informer::PartialObject;
use crate::client::{Informer, WorkQueue};
use crate::sim::{Component, Ctx};

/// The ConfigMap the publisher keeps in every namespace.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

/// Upstream's `kubernetes.io/description` of the root CA ConfigMap.
const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// The simulated cluster's CA bundle. There is no TLS in the simulation, so this
/// is PEM-shaped text that says so rather than a certificate.
const SIMULATED_CA_PEM: &str = "-----BEGIN CERTIFICATE-----\na3ViZWNyYWZ0IHNpbXVsYXRlZCBjbHVzdGVyIENBOiB0aGVyZSBpcyBubyBUTFMg\naW4gdGhlIHNpbXVsYXRpb24sIHNvIHRoaXMgaXMgbm90IGEgY2VydGlmaWNhdGUu\n-----END CERTIFICATE-----\n";

const QUEUE_TIMERS: u64 = 0;

/// Keeps one named object in every active namespace.
pub struct NamespaceDefaults {
    name: &'static str,
    /// The collection under `/api/v1/namespaces/{ns}/` and the object's name.
    collection: &'static str,
    object_name: &'static str,
    /// The object to create in a namespace.
    object: fn(&str) -> Value,
    namespaces: Informer<PartialObject>,
    objects: Informer<PartialObject>,
    queue: WorkQueue,
}

impl NamespaceDefaults {
    fn new(
        name: &'static str,
        collection: &'static str,
        object_name: &'static str,
        object: fn(&str) -> Value,
    ) -> NamespaceDefaults {
        NamespaceDefaults {
            name,
            collection,
            object_name,
            object,
            namespaces: Informer::new("/api/v1/namespaces"),
            objects: Informer::new(format!("/api/v1/{collection}"))
                .with_query("fieldSelector", format!("metadata.name={object_name}")),
            queue: WorkQueue::new(QUEUE_TIMERS),
        }
    }

    /// Upstream's serviceaccount controller: the `default` ServiceAccount.
    pub fn service_accounts() -> NamespaceDefaults {
        NamespaceDefaults::new(
            "serviceaccount-controller",
            "serviceaccounts",
            "default",
            |namespace| {
                json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": namespace}})
            },
        )
    }

    /// Upstream's root CA certificate publisher: the `kube-root-ca.crt` ConfigMap.
    pub fn root_ca_publisher() -> NamespaceDefaults {
        NamespaceDefaults::new(
            "root-ca-certificate-publisher",
            "configmaps",
            ROOT_CA_CONFIGMAP,
            |namespace| {
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": ROOT_CA_CONFIGMAP, "namespace": namespace,
                        "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                    "data": {"ca.crt": SIMULATED_CA_PEM}})
            },
        )
    }

    /// Creates the object in `namespace` unless it is there or the namespace is going.
    fn sync(&mut self, namespace: &str, ctx: &mut Ctx) {
        let active = self
            .namespaces
            .get(namespace)
            .is_some_and(|ns| ns.metadata.deletion_timestamp.is_none());
        let key = format!("{namespace}/{}", self.object_name);
        if !active || self.objects.get(&key).is_some() {
            return;
        }
        let path = format!("/api/v1/namespaces/{namespace}/{}", self.collection);
        let response = ctx.call(Request::post(path, (self.object)(namespace).to_string()));
        // AlreadyExists: the cache is behind, the object is there. A namespace that
        // began terminating meanwhile refuses it, rightly.
        if response.status >= 500 {
            self.queue.add_rate_limited(namespace, ctx);
        }
    }
}

impl Component for NamespaceDefaults {
    fn name(&self) -> &str {
        self.name
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.objects.start(ctx);
        for delta in self.namespaces.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.namespaces.owns(watch) {
            for delta in self.namespaces.handle(event, ctx) {
                if delta.kind != EventType::Deleted {
                    self.queue.add(&delta.key, ctx);
                }
            }
        } else if self.objects.owns(watch) {
            for delta in self.objects.handle(event, ctx) {
                if delta.kind == EventType::Deleted {
                    let namespace = delta.key.split('/').next().unwrap_or("");
                    self.queue.add(namespace, ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for namespace in self.queue.on_timer(key, ctx) {
            self.sync(&namespace, ctx);
        }
    }
}
