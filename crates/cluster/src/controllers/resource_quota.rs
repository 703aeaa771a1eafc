//! The resource quota controller, as upstream's: each ResourceQuota's status holds
//! its `hard` amounts and what its namespace `used` of them — pods' compute requests
//! and limits (finished pods aside), object counts — recalculated whenever a quota,
//! a pod or a counted object changes, and every five minutes.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, ResourceQuota};
use serde_json::json;

use crate::api::quota::{add, parse_list, pod_usage, to_list, Usage};
use crate::api::quota_scopes::{counts_pod, is_scoped};
use crate::api::Request;
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::informer::PartialObject;
use crate::client::Informer;
use crate::sim::{Component, Ctx};

/// The trace name.
pub const NAME: &str = "resourcequota-controller";
/// Upstream's `--resource-quota-sync-period`.
const RESYNC_MS: u64 = 5 * 60_000;

/// Keeps ResourceQuota statuses current.
pub struct ResourceQuotaController {
    quotas: Informer<ResourceQuota>,
    pods: Informer<Pod>,
    /// Kinds counted under their bare plural, watched so deletions show at once.
    counted: Vec<(&'static str, Informer<PartialObject>)>,
}

impl Default for ResourceQuotaController {
    fn default() -> Self {
        let counted = [
            "services",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
        ]
        .into_iter()
        .map(|plural| (plural, Informer::new(format!("/api/v1/{plural}"))))
        .collect();
        ResourceQuotaController {
            quotas: Informer::new("/api/v1/resourcequotas"),
            pods: Informer::new("/api/v1/pods"),
            counted,
        }
    }
}

/// The group and plural a `count/<plural>[.<group>]` name counts.
fn counted_kind(name: &str) -> Option<(&str, &str)> {
    let kind = name.strip_prefix("count/")?;
    Some(match kind.split_once('.') {
        Some((plural, group)) => (group, plural),
        None => ("", kind),
    })
}

impl ResourceQuotaController {
    /// What `namespace` uses of the resources `wanted` names, as a quota with `spec`
    /// counts it (a scoped quota counts only the pods its scopes select).
    fn used(
        &self,
        namespace: &str,
        wanted: &BTreeSet<String>,
        spec: &serde_json::Value,
        ctx: &mut Ctx,
    ) -> Usage {
        let mut used = Usage::new();
        for pod in self.pods.in_namespace(namespace) {
            if counts_pod(spec, pod) {
                add(&mut used, &pod_usage(pod));
            }
        }
        if is_scoped(spec) {
            return used;
        }
        for (plural, informer) in &self.counted {
            let count = informer.in_namespace(namespace).count() as i128 * 1000;
            used.insert(format!("count/{plural}"), count);
            used.insert(plural.to_string(), count);
        }
        let others: Vec<&String> = wanted.iter().filter(|n| !used.contains_key(*n)).collect();
        for name in others {
            let Some((group, plural)) = counted_kind(name) else {
                continue;
            };
            let path = if group.is_empty() {
                format!("/api/v1/namespaces/{namespace}/{plural}")
            } else {
                format!("/apis/{group}/v1/namespaces/{namespace}/{plural}")
            };
            let response = ctx.call(Request::get(path));
            if response.is_success() {
                let items = response.body_json()["items"].as_array().map_or(0, Vec::len);
                used.insert(name.clone(), items as i128 * 1000);
            }
        }
        used
    }

    /// Writes the status of every quota in `namespace` that changed.
    fn sync(&mut self, namespace: &str, ctx: &mut Ctx) {
        let quotas: Vec<ResourceQuota> = self.quotas.in_namespace(namespace).cloned().collect();
        for quota in quotas {
            let spec_hard = quota
                .spec
                .as_ref()
                .and_then(|s| s.hard.clone())
                .unwrap_or_default();
            let hard_json = serde_json::to_value(&spec_hard).unwrap_or_default();
            let hard = parse_list(&hard_json);
            let wanted: BTreeSet<String> = hard.keys().cloned().collect();
            let spec = serde_json::to_value(&quota.spec).unwrap_or_default();
            let all = self.used(namespace, &wanted, &spec, ctx);
            let used: Usage = wanted
                .iter()
                .map(|k| (k.clone(), all.get(k).copied().unwrap_or(0)))
                .collect();
            let status = json!({"hard": hard_json, "used": to_list(&used)});
            let current = serde_json::to_value(&quota.status).unwrap_or_default();
            if current == status {
                continue;
            }
            let name = quota.metadata.name.as_deref().unwrap_or("");
            let mut body = serde_json::to_value(&quota).unwrap_or_default();
            body["status"] = status;
            ctx.call(Request::put(
                format!("/api/v1/namespaces/{namespace}/resourcequotas/{name}/status"),
                body.to_string(),
            ));
        }
    }

    /// The namespaces with quotas among those `namespaces` touched.
    fn sync_namespaces(&mut self, namespaces: BTreeSet<String>, ctx: &mut Ctx) {
        for namespace in namespaces {
            if self.quotas.in_namespace(&namespace).next().is_some() {
                self.sync(&namespace, ctx);
            }
        }
    }
}

/// The namespace part of informer keys (`namespace/name`).
fn namespace_of(key: &str) -> String {
    key.split_once('/').map_or("", |(ns, _)| ns).to_string()
}

impl Component for ResourceQuotaController {
    fn name(&self) -> &str {
        NAME
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.pods.start(ctx);
        for (_, informer) in &mut self.counted {
            informer.start(ctx);
        }
        let quotas = self.quotas.start(ctx);
        let namespaces = quotas.iter().map(|d| namespace_of(&d.key)).collect();
        self.sync_namespaces(namespaces, ctx);
        ctx.set_background_timer(RESYNC_MS, 0);
    }

    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        let keys: Vec<String> = if self.quotas.owns(watch) {
            self.quotas
                .handle(event, ctx)
                .into_iter()
                .map(|d| d.key)
                .collect()
        } else if self.pods.owns(watch) {
            self.pods
                .handle(event, ctx)
                .into_iter()
                .map(|d| d.key)
                .collect()
        } else {
            match self.counted.iter_mut().find(|(_, i)| i.owns(watch)) {
                Some((_, informer)) => informer
                    .handle(event, ctx)
                    .into_iter()
                    .map(|d| d.key)
                    .collect(),
                None => Vec::new(),
            }
        };
        let namespaces = keys.iter().map(|k| namespace_of(k)).collect();
        self.sync_namespaces(namespaces, ctx);
    }

    fn on_timer(&mut self, _key: u64, ctx: &mut Ctx) {
        let namespaces = self.quotas.iter().map(|(k, _)| namespace_of(k)).collect();
        self.sync_namespaces(namespaces, ctx);
        ctx.set_background_timer(RESYNC_MS, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_names() {
        assert_eq!(
            counted_kind("count/deployments.apps"),
            Some(("apps", "deployments"))
        );
        assert_eq!(counted_kind("count/pods"), Some(("", "pods")));
        assert_eq!(counted_kind("pods"), None);
    }
}
