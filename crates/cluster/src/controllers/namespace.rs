//! The namespace controller, as upstream's: when a namespace is terminating it
//! deletes every namespaced resource in it (found through discovery), reports
//! progress in the namespace's deletion conditions, waits for graceful pod
//! termination, and finally removes the `kubernetes` finalizer through
//! `/finalize` so the API server can remove the namespace.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use serde_json::{json, Value};

use crate::api::Request;
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::client::discovery::served_resources;
use crate::client::{Informer, WorkQueue};
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "namespace-controller";

/// The finalizer this controller owns.
pub const FINALIZER: &str = "kubernetes";

const QUEUE_TIMERS: u64 = 0;

/// One namespaced resource to empty.
struct Resource {
    /// `/api/v1` or `/apis/<group>/<version>`.
    base: String,
    plural: String,
    /// `pods.` or `replicasets.apps`, as the conditions name it (resource.group).
    display: String,
    delete_collection: bool,
}

/// What is still in a namespace after one round of deletes.
#[derive(Default)]
struct Remaining {
    /// resource → instances left.
    resources: BTreeMap<String, usize>,
    /// finalizer → instances holding it.
    finalizers: BTreeMap<String, usize>,
    /// Seconds until the slowest pod should be gone.
    estimate_seconds: i64,
}

/// Empties and then finalizes terminating namespaces.
pub struct NamespaceController {
    namespaces: Informer<Namespace>,
    queue: WorkQueue,
}

impl Default for NamespaceController {
    fn default() -> Self {
        NamespaceController {
            namespaces: Informer::new("/api/v1/namespaces"),
            queue: WorkQueue::new(QUEUE_TIMERS),
        }
    }
}

/// Every namespaced resource that can be listed and deleted.
fn discover(ctx: &mut Ctx) -> Vec<Resource> {
    served_resources(ctx)
        .into_iter()
        .filter(|r| r.namespaced && r.supports(&["list", "delete"]))
        .map(|r| Resource {
            display: format!("{}.{}", r.plural, r.group),
            delete_collection: r.supports(&["deletecollection"]),
            base: r.base,
            plural: r.plural,
        })
        .collect()
}

/// Seconds until a terminating pod should be gone (its deletion grace period).
fn grace_left(item: &Value) -> i64 {
    if matches!(
        item.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    ) {
        return 0;
    }
    item.pointer("/metadata/deletionGracePeriodSeconds")
        .or_else(|| item.pointer("/spec/terminationGracePeriodSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(30)
}

/// The five deletion conditions, in upstream's order and words.
fn conditions(remaining: &Remaining, now: &str) -> Value {
    let condition = |kind: &str, status: bool, reason: &str, message: String| {
        json!({
            "type": kind,
            "status": if status { "True" } else { "False" },
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        })
    };
    let content = if remaining.resources.is_empty() {
        condition(
            "NamespaceContentRemaining",
            false,
            "ContentRemoved",
            "All content successfully removed".into(),
        )
    } else {
        let parts: Vec<String> = remaining
            .resources
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect();
        condition(
            "NamespaceContentRemaining",
            true,
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", parts.join(", ")),
        )
    };
    let finalizers = if remaining.finalizers.is_empty() {
        condition(
            "NamespaceFinalizersRemaining",
            false,
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished".into(),
        )
    } else {
        let parts: Vec<String> = remaining
            .finalizers
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect();
        condition(
            "NamespaceFinalizersRemaining",
            true,
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                parts.join(", ")
            ),
        )
    };
    json!([
        condition(
            "NamespaceDeletionDiscoveryFailure",
            false,
            "ResourcesDiscovered",
            "All resources successfully discovered".into()
        ),
        condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            false,
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed".into()
        ),
        condition(
            "NamespaceDeletionContentFailure",
            false,
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".into()
        ),
        content,
        finalizers,
    ])
}

impl NamespaceController {
    /// Deletes everything in `namespace`; reports what is left.
    fn delete_content(&self, namespace: &str, ctx: &mut Ctx) -> Remaining {
        let mut remaining = Remaining::default();
        for resource in discover(ctx) {
            let collection = format!(
                "{}/namespaces/{namespace}/{}",
                resource.base, resource.plural
            );
            let options = json!({"kind": "DeleteOptions", "apiVersion": "v1",
                "propagationPolicy": "Background"})
            .to_string();
            let items = |ctx: &mut Ctx| {
                let list = ctx.call(Request::get(collection.clone())).body_json();
                list["items"].as_array().cloned().unwrap_or_default()
            };
            let present = items(ctx);
            if present.is_empty() {
                continue;
            }
            if resource.delete_collection {
                ctx.call(
                    Request::delete(collection.clone())
                        .with_body(options.clone(), "application/json"),
                );
            } else {
                for item in &present {
                    let name = item.pointer("/metadata/name").and_then(Value::as_str);
                    let path = format!("{collection}/{}", name.unwrap_or(""));
                    ctx.call(Request::delete(path).with_body(options.clone(), "application/json"));
                }
            }
            let left = items(ctx);
            if left.is_empty() {
                continue;
            }
            remaining
                .resources
                .insert(resource.display.clone(), left.len());
            for item in &left {
                if resource.display == "pods." {
                    remaining.estimate_seconds = remaining.estimate_seconds.max(grace_left(item));
                }
                for finalizer in item["metadata"]["finalizers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let name = finalizer.as_str().unwrap_or("").to_string();
                    *remaining.finalizers.entry(name).or_default() += 1;
                }
            }
        }
        remaining
    }

    /// Upstream's `syncNamespaceFromKey` for one namespace.
    fn sync(&mut self, name: &str, ctx: &mut Ctx) {
        let path = format!("/api/v1/namespaces/{name}");
        let response = ctx.call(Request::get(path.clone()));
        if response.status != 200 {
            return;
        }
        let mut namespace = response.body_json();
        let finalizers: Vec<Value> = namespace["spec"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if namespace.pointer("/metadata/deletionTimestamp").is_none()
            || !finalizers.iter().any(|f| f == FINALIZER)
        {
            return;
        }
        let remaining = self.delete_content(name, ctx);
        let conditions = conditions(&remaining, &ctx.timestamp());
        if namespace["status"]["conditions"] != conditions {
            let mut updated = namespace.clone();
            updated["status"]["conditions"] = conditions;
            let response = ctx.call(Request::put(format!("{path}/status"), updated.to_string()));
            if response.status == 200 {
                namespace = response.body_json();
            }
        }
        if !remaining.resources.is_empty() {
            if remaining.estimate_seconds > 0 {
                // Upstream looks again after half the estimate, plus a second.
                let delay = (remaining.estimate_seconds as u64 / 2 + 1) * 1000;
                self.queue.add_after(name, delay, ctx);
            } else {
                self.queue.add_rate_limited(name, ctx);
            }
            return;
        }
        self.queue.forget(name);
        namespace["spec"]["finalizers"] =
            Value::Array(finalizers.into_iter().filter(|f| f != FINALIZER).collect());
        ctx.call(Request::put(
            format!("{path}/finalize"),
            namespace.to_string(),
        ));
    }
}

impl Component for NamespaceController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        for delta in self.namespaces.start(ctx) {
            self.queue.add(&delta.key, ctx);
        }
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.namespaces.owns(watch) {
            for delta in self.namespaces.handle(event, ctx) {
                let terminating = self
                    .namespaces
                    .get(&delta.key)
                    .is_some_and(|ns| ns.metadata.deletion_timestamp.is_some());
                if delta.kind != EventType::Deleted && terminating {
                    self.queue.add(&delta.key, ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, key: u64, ctx: &mut Ctx) {
        for item in self.queue.on_timer(key, ctx) {
            self.sync(&item, ctx);
        }
    }
}
