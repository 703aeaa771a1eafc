//! Discovery and resource mapping: what the user typed (`po`, `pods`, `Pod`,
//! `deployments.apps`, `deploy`, the `all` category) → a served resource.

use kubecraft_cluster::api::Request;
use serde_json::Value;

use crate::transport::Transport;

/// A served resource as discovery describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResource {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
}

impl ApiResource {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `/api/v1` or `/apis/apps/v1`.
    pub fn group_version_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection path, in `namespace` when namespaced and given.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!(
                "{}/namespaces/{ns}/{}",
                self.group_version_path(),
                self.plural
            ),
            _ => format!("{}/{}", self.group_version_path(), self.plural),
        }
    }

    /// `pod`, `deployment.apps`: how `-o name` and multi-type listings name the kind.
    pub fn kind_prefix(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        if self.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.group)
        }
    }

    /// `pods`, `deployments.apps`: how errors name the resource.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every served top-level resource, core group first, then groups in discovery order.
pub fn discover(transport: &mut dyn Transport) -> Vec<ApiResource> {
    let mut versions = vec![(String::new(), "v1".to_string())];
    let groups = transport.send(Request::get("/apis")).body_json();
    for group in groups["groups"].as_array().into_iter().flatten() {
        let name = group["name"].as_str().unwrap_or("").to_string();
        let version = group["preferredVersion"]["version"]
            .as_str()
            .unwrap_or("")
            .to_string();
        versions.push((name, version));
    }
    let mut resources = Vec::new();
    for (group, version) in versions {
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let list = transport.send(Request::get(path)).body_json();
        for r in list["resources"].as_array().into_iter().flatten() {
            let plural = r["name"].as_str().unwrap_or("");
            if plural.contains('/') {
                continue;
            }
            resources.push(ApiResource {
                group: group.clone(),
                version: version.clone(),
                plural: plural.to_string(),
                singular: r["singularName"].as_str().unwrap_or("").to_string(),
                kind: r["kind"].as_str().unwrap_or("").to_string(),
                namespaced: r["namespaced"].as_bool().unwrap_or(false),
                short_names: strings(&r["shortNames"]),
                categories: strings(&r["categories"]),
                verbs: strings(&r["verbs"]),
            });
        }
    }
    resources
}

/// Resolves one resource argument; `None` when the server has no such type.
pub fn resolve<'a>(resources: &'a [ApiResource], typed: &str) -> Option<&'a ApiResource> {
    let lower = typed.to_ascii_lowercase();
    let (name, group) = match lower.split_once('.') {
        Some((name, group)) => (name.to_string(), Some(group.to_string())),
        None => (lower.clone(), None),
    };
    let in_group = |r: &&ApiResource| match &group {
        // `deployments.apps` or `deployments.v1.apps`.
        Some(g) => r.group == *g || format!("{}.{}", r.version, r.group) == *g,
        None => true,
    };
    let candidates = || resources.iter().filter(in_group);
    candidates()
        .find(|r| r.plural == name)
        .or_else(|| candidates().find(|r| r.singular == name))
        .or_else(|| candidates().find(|r| r.short_names.contains(&name)))
        .or_else(|| candidates().find(|r| r.kind.to_ascii_lowercase() == name))
}

/// The resources in a category such as `all`, in kubectl's order for `all`.
pub fn category<'a>(resources: &'a [ApiResource], name: &str) -> Vec<&'a ApiResource> {
    resources
        .iter()
        .filter(|r| r.categories.iter().any(|c| c == name))
        .collect()
}
