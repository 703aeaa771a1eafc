//! The PriorityClasses every cluster has: the API server creates them when it
//! starts (upstream's `scheduling/bootstrap-system-priority-classes` hook) and
//! refuses to delete them.

use serde_json::{json, Value};

/// A system class: name, value and upstream's description.
pub struct SystemPriorityClass {
    pub name: &'static str,
    pub value: i64,
    pub description: &'static str,
}

/// Upstream's two system classes.
pub const SYSTEM_PRIORITY_CLASSES: [SystemPriorityClass; 2] = [
    SystemPriorityClass {
        name: "system-node-critical",
        value: 2_000_001_000,
        description: "Used for system critical pods that must not be moved from their current node.",
    },
    SystemPriorityClass {
        name: "system-cluster-critical",
        value: 2_000_000_000,
        description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    },
];

/// The system class named `name`, if it is one.
pub fn system_priority_class(name: &str) -> Option<&'static SystemPriorityClass> {
    SYSTEM_PRIORITY_CLASSES.iter().find(|c| c.name == name)
}

impl SystemPriorityClass {
    /// The class as the object the API server stores.
    pub fn object(&self) -> Value {
        json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": self.name},
            "value": self.value,
            "description": self.description,
        })
    }
}
