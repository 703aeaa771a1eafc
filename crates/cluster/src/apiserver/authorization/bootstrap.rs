//! The RBAC objects every cluster starts with, and the user the API server's own
//! loopback client is (a member of `system:masters`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::policy::{Policy, PRIVILEGED_GROUP};
use crate::api::request::UserInfo;

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
    let texts: Vec<String> = documents
        .iter()
        .filter(|d| d["kind"] == "ClusterRole")
        .map(Value::to_string)
        .collect();
    let policy = Policy::from_objects(
        texts.iter().map(String::as_str),
        std::iter::empty(),
        std::iter::empty(),
        std::iter::empty(),
    );
    for document in &mut documents {
        if document["kind"] == "ClusterRole" && document.get("aggregationRule").is_some() {
            let name = document["metadata"]["name"].as_str().unwrap_or("");
            let rules = policy.gathered_rules(name, &mut BTreeSet::new());
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
