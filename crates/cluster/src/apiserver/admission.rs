//! Admission that needs other objects: the ServiceAccount plugin refuses a pod
//! whose ServiceAccount does not exist; the Priority plugin resolves a pod's
//! `priorityClassName` (or the global default class) into `spec.priority` and
//! `spec.preemptionPolicy`, with upstream's errors.

use serde::Deserialize;
use serde_json::{json, Value};

use super::system_priority_classes::system_priority_class;
use super::ApiServer;
use crate::api::status::StatusError;

/// The ServiceAccount a pod runs as when it names none.
const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// What the Priority plugin reads of a stored PriorityClass (the rest is skipped unparsed).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClassFacts {
    metadata: ClassName,
    #[serde(default)]
    value: i64,
    #[serde(default)]
    global_default: bool,
    preemption_policy: Option<String>,
}

#[derive(Deserialize)]
struct ClassName {
    #[serde(default)]
    name: String,
}

impl ApiServer {
    /// The stored PriorityClass named `name`, or the global default when `name` is empty.
    fn priority_class(&self, name: &str) -> Option<ClassFacts> {
        let id = self.resource_id("scheduling.k8s.io", "v1", "priorityclasses")?;
        let table = &self.served[id].table;
        let facts = |json: &str| serde_json::from_str::<ClassFacts>(json).ok();
        if name.is_empty() {
            // Stored JSON is compact, so only a global default holds this text
            // (inside a string its quotes would be escaped); most classes go unparsed.
            return table
                .scan("", None)
                .filter(|o| o.json.contains(r#""globalDefault":true"#))
                .filter_map(|o| facts(&o.json))
                .find(|c| c.global_default);
        }
        table.get(name).and_then(|o| facts(&o.json))
    }

    /// The ServiceAccount admission plugin for a pod being created: its
    /// `serviceAccountName` (defaulted to `default`) must name a ServiceAccount of
    /// its namespace. A missing `default` account passes: upstream waits for the
    /// serviceaccount controller to create it, which it does as soon as it sees
    /// the namespace. (The token volume upstream's plugin adds is not modelled.)
    /// `name` is the pod's name as mutating admission sees it.
    pub(super) fn admit_pod_service_account(
        &self,
        resource: usize,
        namespace: &str,
        name: &str,
        pod: &Value,
    ) -> Result<(), StatusError> {
        let account = pod["spec"]["serviceAccountName"]
            .as_str()
            .filter(|a| !a.is_empty())
            .unwrap_or(DEFAULT_SERVICE_ACCOUNT);
        let exists = self
            .resource_id("", "v1", "serviceaccounts")
            .is_some_and(|id| {
                self.served[id]
                    .table
                    .get(&format!("{namespace}/{account}"))
                    .is_some()
            });
        if exists || account == DEFAULT_SERVICE_ACCOUNT {
            return Ok(());
        }
        Err(StatusError::forbidden(
            &self.served[resource].info,
            name,
            &format!("error looking up service account {namespace}/{account}: serviceaccount \"{account}\" not found"),
        ))
    }

    /// The Priority admission plugin for a pod being created (`name` as mutating
    /// admission sees it).
    pub(super) fn admit_pod_priority(
        &self,
        resource: usize,
        name: &str,
        pod: &mut Value,
    ) -> Result<(), StatusError> {
        let info = &self.served[resource].info;
        let class_name = pod["spec"]["priorityClassName"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let (class_name, value, policy) = match self.priority_class(&class_name) {
            Some(class) => (class.metadata.name, class.value, class.preemption_policy),
            // A cluster restored from before the system classes were stored.
            None => match system_priority_class(&class_name) {
                Some(class) => (class.name.to_string(), class.value, None),
                None if class_name.is_empty() => (String::new(), 0, None),
                None => {
                    return Err(StatusError::forbidden(
                        info,
                        name,
                        &format!("no PriorityClass with name {class_name} was found"),
                    ))
                }
            },
        };
        if let Some(given) = pod["spec"]["priority"].as_i64() {
            if given != value {
                return Err(StatusError::forbidden(
                    info,
                    name,
                    &format!("the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"),
                ));
            }
        }
        let spec = &mut pod["spec"];
        if !class_name.is_empty() {
            spec["priorityClassName"] = json!(class_name);
        }
        spec["priority"] = json!(value);
        if spec.get("preemptionPolicy").is_none_or(Value::is_null) {
            spec["preemptionPolicy"] =
                json!(policy.unwrap_or_else(|| "PreemptLowerPriority".into()));
        }
        Ok(())
    }
}
