//! A container's environment as the kubelet resolves it: `value`s (with `$(VAR)`
//! references to the variables before them expanded) and the downward API's
//! `fieldRef`s; and Kubernetes' `$(VAR)` expansion of `command` and `args`.
//! (`configMapKeyRef`, `secretKeyRef` and `envFrom` are not resolved yet.)

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};

/// Variable name → value.
pub type Environment = BTreeMap<String, String>;

/// The value of a downward API field path (`metadata.labels['app']`, `spec.nodeName`, ...).
fn field(pod: &Pod, path: &str) -> Option<String> {
    let meta = &pod.metadata;
    let keyed = |prefix: &str| {
        path.strip_prefix(prefix)?
            .strip_suffix("']")
            .map(str::to_string)
    };
    if let Some(key) = keyed("metadata.labels['") {
        return meta.labels.as_ref()?.get(&key).cloned();
    }
    if let Some(key) = keyed("metadata.annotations['") {
        return meta.annotations.as_ref()?.get(&key).cloned();
    }
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    match path {
        "metadata.name" => meta.name.clone(),
        "metadata.namespace" => meta.namespace.clone(),
        "metadata.uid" => meta.uid.clone(),
        "spec.nodeName" => spec?.node_name.clone(),
        "spec.serviceAccountName" => spec?.service_account_name.clone(),
        "status.podIP" => status?.pod_ip.clone(),
        "status.hostIP" => status?.host_ip.clone(),
        _ => None,
    }
}

/// The container's variables, in order, each seeing the ones before it.
pub fn environment(pod: &Pod, container: &Container) -> Environment {
    let mut env = Environment::new();
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(value), _) => Some(expand(value, &env)),
            (None, Some(from)) => from
                .field_ref
                .as_ref()
                .and_then(|f| field(pod, &f.field_path)),
            (None, None) => Some(String::new()),
        };
        if let Some(value) = value {
            env.insert(var.name.clone(), value);
        }
    }
    env
}

/// Kubernetes' expansion: `$(VAR)` becomes the variable's value when it is defined
/// (and stays as written when not); `$$` is a literal `$`.
pub fn expand(text: &str, env: &Environment) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after
            .strip_prefix('(')
            .and_then(|inner| inner.split_once(')'))
        {
            match env.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&format!("$({name})")),
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_field_refs_and_references() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-0", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"nodeName": "node-2", "containers": []},
        }))
        .unwrap();
        let container: Container = serde_json::from_value(json!({"name": "c", "env": [
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "GREETING", "value": "$(APP) on $(NODE), $(MISSING), $$(APP)"},
        ]}))
        .unwrap();
        let env = environment(&pod, &container);
        assert_eq!(env["APP"], "web");
        assert_eq!(env["GREETING"], "web on node-2, $(MISSING), $(APP)");
    }
}
