//! Discovery documents as upstream serves them: `/version`, `/api`, `/apis`,
//! `/apis/{group}`, and the APIResourceList of each group version.

use serde_json::{json, Value};

use super::route::Route;
use super::ApiServer;
use crate::api::builtin::GROUP_ORDER;
use crate::api::kube_version;
use crate::api::request::Response;
use crate::api::status::StatusError;
use crate::KUBERNETES_VERSION;

impl ApiServer {
    /// Answers a discovery route.
    pub(super) fn discovery(&self, route: &Route) -> Response {
        let body = match route {
            Route::Version => Some(version_info()),
            Route::CoreVersions => Some(json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}],
            })),
            Route::Groups => Some(json!({
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": self.groups().iter().map(|g| self.group_value(g)).collect::<Vec<_>>(),
            })),
            Route::Group(group) => self.groups().contains(group).then(|| {
                let mut value = self.group_value(group);
                value["kind"] = json!("APIGroup");
                value["apiVersion"] = json!("v1");
                value
            }),
            Route::GroupVersion { group, version } => self.resource_list(group, version),
            Route::OpenApiIndex => Some(self.openapi_index()),
            Route::OpenApi { group, version } => self.openapi_document(group, version),
            Route::Resource(_) => None,
        };
        match body {
            Some(value) => Response::json(200, value.to_string()),
            None => StatusError::no_route().into(),
        }
    }

    /// Named groups in discovery order: upstream's built-in order, then custom groups by name.
    fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for group in GROUP_ORDER {
            if self.resources().any(|r| r.group == *group) {
                groups.push(group.to_string());
            }
        }
        let mut custom: Vec<String> = self
            .resources()
            .filter(|r| !r.group.is_empty() && !GROUP_ORDER.contains(&r.group.as_str()))
            .map(|r| r.group.clone())
            .collect();
        custom.sort();
        custom.dedup();
        groups.extend(custom);
        groups
    }

    /// A group's versions, preferred first: built-in groups in upstream's order,
    /// custom groups by upstream's kube-aware version priority.
    fn versions_of(&self, group: &str) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for r in self.resources().filter(|r| r.group == group) {
            if !versions.contains(&r.version) {
                versions.push(r.version.clone());
            }
        }
        if !GROUP_ORDER.contains(&group) {
            kube_version::sort_by_priority(&mut versions);
        }
        versions
    }

    fn group_value(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .versions_of(group)
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        json!({
            "name": group,
            "versions": versions,
            "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
        })
    }

    fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        for info in self
            .resources()
            .filter(|r| r.group == group && r.version == version)
        {
            let mut entry = json!({
                "name": info.plural,
                "singularName": info.singular,
                "namespaced": info.namespaced(),
                "kind": info.kind,
                "verbs": info.verbs,
            });
            if !info.short_names.is_empty() {
                entry["shortNames"] = json!(info.short_names);
            }
            if !info.categories.is_empty() {
                entry["categories"] = json!(info.categories);
            }
            entries.push((info.plural.clone(), entry));
            for sub in &info.subresources {
                let name = format!("{}/{}", info.plural, sub.name);
                let mut entry =
                    json!({"name": name, "singularName": "", "namespaced": info.namespaced()});
                if let (Some(g), Some(v)) = (&sub.group, &sub.version) {
                    entry["group"] = json!(g);
                    entry["version"] = json!(v);
                }
                entry["kind"] = json!(sub.kind);
                entry["verbs"] = json!(sub.verbs);
                entries.push((name, entry));
            }
        }
        if entries.is_empty() {
            return None;
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let mut list = json!({"kind": "APIResourceList", "groupVersion": group_version});
        if !group.is_empty() {
            list["apiVersion"] = json!("v1");
        }
        list["resources"] = Value::Array(entries.into_iter().map(|(_, e)| e).collect());
        Some(list)
    }
}

/// The `/version` document.
fn version_info() -> Value {
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or("0");
    json!({
        "major": "1",
        "minor": minor,
        "emulationMajor": "1",
        "emulationMinor": minor,
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": (minor.parse::<u32>().unwrap_or(1) - 1).to_string(),
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "kubecraft",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "kubecraft (Rust)",
        "compiler": "kubecraft",
        "platform": "wasm32/kubecraft",
    })
}
