//! Discovery for components: every top-level resource the API serves at its
//! group's preferred version, as upstream's controllers find what to watch or
//! delete (the garbage collector, the namespace controller).

use serde_json::Value;

use crate::api::Request;
use crate::sim::Ctx;

/// One served resource.
#[derive(Clone, Debug)]
pub struct ServedResource {
    /// `/api/v1` or `/apis/<group>/<version>`.
    pub base: String,
    /// The API group (empty for core).
    pub group: String,
    pub plural: String,
    pub kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
}

impl ServedResource {
    /// Whether the resource supports every one of `verbs`.
    pub fn supports(&self, verbs: &[&str]) -> bool {
        verbs.iter().all(|v| self.verbs.iter().any(|x| x == v))
    }
}

/// The resources (not subresources) of core v1 and each group's preferred version.
pub fn served_resources(ctx: &mut Ctx) -> Vec<ServedResource> {
    let mut bases = vec!["/api/v1".to_string()];
    let groups = ctx.call(Request::get("/apis")).body_json();
    for group in groups["groups"].as_array().into_iter().flatten() {
        if let Some(gv) = group
            .pointer("/preferredVersion/groupVersion")
            .and_then(Value::as_str)
        {
            bases.push(format!("/apis/{gv}"));
        }
    }
    let mut found = Vec::new();
    for base in bases {
        let list = ctx.call(Request::get(base.clone())).body_json();
        let group = list["groupVersion"]
            .as_str()
            .and_then(|gv| gv.split_once('/'))
            .map_or("", |(g, _)| g)
            .to_string();
        for resource in list["resources"].as_array().into_iter().flatten() {
            let plural = resource["name"].as_str().unwrap_or("");
            if plural.contains('/') {
                continue;
            }
            found.push(ServedResource {
                base: base.clone(),
                group: group.clone(),
                plural: plural.to_string(),
                kind: resource["kind"].as_str().unwrap_or("").to_string(),
                namespaced: resource["namespaced"].as_bool().unwrap_or(false),
                verbs: resource["verbs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
            });
        }
    }
    found
}
