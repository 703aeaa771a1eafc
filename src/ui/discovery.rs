//! Turning discovery documents into rows for the resource table (plain functions,
//! tested natively).

use serde_json::Value;

/// One served resource as the discovery view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRow {
    /// `v1` or `apps/v1`.
    pub group_version: String,
    pub name: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: String,
    pub verbs: String,
}

impl ResourceRow {
    /// The name kubectl qualifies with the group (`deployments.apps`; `pods` for the core
    /// group), unique across the table (`pods` and `pods.metrics.k8s.io` both exist).
    pub fn qualified_name(&self) -> String {
        match self.group_version.split_once('/') {
            Some((group, _)) => format!("{}.{group}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The group versions an `/apis` APIGroupList names, preferred version only.
pub fn group_versions(group_list: &Value) -> Vec<String> {
    group_list["groups"]
        .as_array()
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| {
                    g["preferredVersion"]["groupVersion"]
                        .as_str()
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The top-level resources (no subresources) of an APIResourceList.
pub fn resource_rows(resource_list: &Value) -> Vec<ResourceRow> {
    let group_version = resource_list["groupVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let join = |v: &Value| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    resource_list["resources"]
        .as_array()
        .map(|resources| {
            resources
                .iter()
                .filter(|r| !r["name"].as_str().unwrap_or("/").contains('/'))
                .map(|r| ResourceRow {
                    group_version: group_version.clone(),
                    name: r["name"].as_str().unwrap_or("").to_string(),
                    kind: r["kind"].as_str().unwrap_or("").to_string(),
                    namespaced: r["namespaced"].as_bool().unwrap_or(false),
                    short_names: join(&r["shortNames"]),
                    verbs: join(&r["verbs"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubecraft_cluster::api::Request;
    use kubecraft_cluster::sim::World;

    #[test]
    fn rows_from_the_engines_discovery() {
        let mut world = World::new(1);
        let core = world.call("ui", &Request::get("/api/v1")).body_json();
        let rows = resource_rows(&core);
        let pods = rows.iter().find(|r| r.name == "pods").unwrap();
        assert_eq!(pods.kind, "Pod");
        assert_eq!(pods.short_names, "po");
        assert!(pods.namespaced);
        assert!(!rows.iter().any(|r| r.name.contains('/')));
        assert_eq!(pods.qualified_name(), "pods");
        let groups = world.call("ui", &Request::get("/apis")).body_json();
        let versions = group_versions(&groups);
        assert_eq!(versions[0], "apps/v1");
        let metrics = world
            .call("ui", &Request::get("/apis/metrics.k8s.io/v1beta1"))
            .body_json();
        let pod_metrics = resource_rows(&metrics);
        assert_eq!(
            pod_metrics
                .iter()
                .map(ResourceRow::qualified_name)
                .collect::<Vec<_>>(),
            ["nodes.metrics.k8s.io", "pods.metrics.k8s.io"]
        );
    }
}
