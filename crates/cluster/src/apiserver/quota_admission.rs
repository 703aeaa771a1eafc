//! The ResourceQuota admission plugin: an object created in a namespace with quotas
//! must state what the quotas constrain (`must specify requests.cpu`) and must not
//! take the namespace past any `hard` amount, with upstream's Forbidden messages.
//! What is used is summed from storage, so it is never stale. A scoped quota counts
//! only the pods its scopes select (`api::quota_scopes`).

use serde_json::Value;

use super::ApiServer;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

use crate::api::quota::{
    add, missing_requirements, parse_list, pod_usage, pretty, usage_of, Usage,
};
use crate::api::quota_scopes::{counts_pod, is_scoped};
use crate::api::status::StatusError;

/// Whether a quota with `spec` counts `obj`: scoped quotas count only the pods
/// their scopes select.
fn counts(spec: &Value, obj: &Value) -> bool {
    !is_scoped(spec) || Pod::deserialize(obj).is_ok_and(|pod| counts_pod(spec, &pod))
}

impl ApiServer {
    /// What the stored objects of `resource` in `namespace` that a quota with
    /// `spec` counts use.
    fn used_in(&self, resource: usize, namespace: &str, spec: &Value) -> Usage {
        let info = &self.served[resource].info;
        let scoped = is_scoped(spec);
        let pods = info.group.is_empty() && info.plural == "pods";
        let mut used = Usage::new();
        if scoped && !pods {
            return used;
        }
        for stored in self.served[resource]
            .table
            .scan(&format!("{namespace}/"), None)
        {
            let obj = stored.value();
            let usage = if scoped {
                // Decoded once for both the scopes and the usage.
                match Pod::deserialize(&obj) {
                    Ok(pod) if counts_pod(spec, &pod) => pod_usage(&pod),
                    _ => continue,
                }
            } else {
                usage_of(&info.group, &info.plural, &obj)
            };
            add(&mut used, &usage);
        }
        used
    }

    /// Admits `obj` (being created as `resource`) against its namespace's quotas.
    pub(super) fn admit_quota(&self, resource: usize, obj: &Value) -> Result<(), StatusError> {
        let info = &self.served[resource].info;
        let namespace = obj["metadata"]["namespace"].as_str().unwrap_or("");
        if namespace.is_empty() || !info.namespaced() {
            return Ok(());
        }
        let Some(quotas) = self.resource_id("", "v1", "resourcequotas") else {
            return Ok(());
        };
        let prefix = format!("{namespace}/");
        let mut quotas = self.served[quotas].table.scan(&prefix, None).peekable();
        if quotas.peek().is_none() {
            return Ok(());
        }
        let name = obj["metadata"]["name"].as_str().unwrap_or("");
        let is_pod = info.group.is_empty() && info.plural == "pods";
        let requested = usage_of(&info.group, &info.plural, obj);
        let mut unscoped_used: Option<Usage> = None;
        for quota in quotas {
            let quota = quota.value();
            let spec = &quota["spec"];
            if !counts(spec, obj) {
                continue;
            }
            let quota_name = quota["metadata"]["name"].as_str().unwrap_or("");
            let hard = parse_list(&quota["spec"]["hard"]);
            if is_pod {
                let missing = missing_requirements(obj, &hard);
                if !missing.is_empty() {
                    return Err(StatusError::forbidden(
                        info,
                        name,
                        &format!(
                            "failed quota: {quota_name}: must specify {}",
                            missing.join(",")
                        ),
                    ));
                }
            }
            let relevant: Vec<&String> =
                hard.keys().filter(|k| requested.contains_key(*k)).collect();
            if relevant.is_empty() {
                continue;
            }
            let scoped_used;
            let used = if is_scoped(spec) {
                scoped_used = self.used_in(resource, namespace, spec);
                &scoped_used
            } else {
                &*unscoped_used.get_or_insert_with(|| self.used_in(resource, namespace, spec))
            };
            let exceeded: Vec<&String> = relevant
                .into_iter()
                .filter(|k| used.get(*k).copied().unwrap_or(0) + requested[*k] > hard[*k])
                .collect();
            if exceeded.is_empty() {
                continue;
            }
            let masked = |usage: &Usage| -> Usage {
                exceeded
                    .iter()
                    .map(|k| ((*k).clone(), usage.get(*k).copied().unwrap_or(0)))
                    .collect()
            };
            return Err(StatusError::forbidden(
                info,
                name,
                &format!(
                    "exceeded quota: {quota_name}, requested: {}, used: {}, limited: {}",
                    pretty(&masked(&requested)),
                    pretty(&masked(used)),
                    pretty(&masked(&hard))
                ),
            ));
        }
        Ok(())
    }
}
