//! The RBAC objects every cluster starts with, and the user the API server's own
//! loopback client is (a member of `system:masters`).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::ClusterRole;
use serde_json::Value;

use super::policy::PRIVILEGED_GROUP;
use crate::api::request::UserInfo;
use crate::api::role_aggregation::gathered_rules;

const POLICY: &str = include_str!("bootstrap_policy.yaml");

/// The API server's own client: upstream's `system:apiserver` in `system:masters`.
pub fn loopback_user() -> UserInfo {
    UserInfo {
        username: "system:apiserver".into(),
        groups: vec![PRIVILEGED_GROUP.into()],
    }
}

/// The bootstrap ClusterRoles and ClusterRoleBindings, each with the collection it
/// is created in; aggregated ClusterRoles carry the rules the aggregation gathers.
pub fn objects() -> Vec<(&'static str, Value)> {
    let mut documents: Vec<Value> = serde_yaml::Deserializer::from_str(POLICY)
        .map(|document| {
            let value: Value = serde::Deserialize::deserialize(document)
                .expect("the bootstrap policy is valid YAML");
            value
        })
        .collect();
    let roles: BTreeMap<String, ClusterRole> = documents
        .iter()
        .filter(|d| d["kind"] == "ClusterRole")
        .filter_map(|d| serde_json::from_value::<ClusterRole>(d.clone()).ok())
        .map(|role| (role.metadata.name.clone().unwrap_or_default(), role))
        .collect();
    for document in &mut documents {
        if document["kind"] == "ClusterRole" && document.get("aggregationRule").is_some() {
            let name = document["metadata"]["name"].as_str().unwrap_or("");
            let rules = gathered_rules(&roles, name);
            document["rules"] = serde_json::to_value(rules).expect("rules serialise");
        }
    }
    documents
        .into_iter()
        .map(|document| {
            let collection = if document["kind"] == "ClusterRole" {
                "/apis/rbac.authorization.k8s.io/v1/clusterroles"
            } else {
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
            };
            (collection, document)
        })
        .collect()
}
