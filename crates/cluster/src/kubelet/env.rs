//! A container's environment as the kubelet resolves it (`makeEnvironmentVariables`):
//! `envFrom` ConfigMaps and Secrets first, then `env` — `value`s (with `$(VAR)`
//! references to the variables before them expanded), the downward API's
//! `fieldRef`s, `configMapKeyRef` and `secretKeyRef` — with upstream's errors for
//! what is missing; and Kubernetes' `$(VAR)` expansion of `command` and `args`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};

/// Variable name → value.
pub type Environment = BTreeMap<String, String>;

/// The ConfigMaps and Secrets a pod's containers refer to, as the kubelet read them:
/// (`ConfigMap` or `Secret`, name) → their data (`None`: not found).
pub type Sources = BTreeMap<(&'static str, String), Option<BTreeMap<String, String>>>;

/// The ConfigMaps and Secrets the containers' environments name.
pub fn referenced(pod: &Pod) -> Vec<(&'static str, String)> {
    let mut names = Vec::new();
    let spec = pod.spec.iter();
    let containers = spec.flat_map(|s| s.init_containers.iter().flatten().chain(&s.containers));
    for c in containers {
        for from in c.env_from.iter().flatten() {
            if let Some(r) = &from.config_map_ref {
                names.push(("ConfigMap", r.name.clone()));
            }
            if let Some(r) = &from.secret_ref {
                names.push(("Secret", r.name.clone()));
            }
        }
        for source in c.env.iter().flatten().filter_map(|v| v.value_from.as_ref()) {
            if let Some(r) = &source.config_map_key_ref {
                names.push(("ConfigMap", r.name.clone()));
            }
            if let Some(r) = &source.secret_key_ref {
                names.push(("Secret", r.name.clone()));
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// What a ConfigMap's `data` or a Secret's (base64-decoded) `data` holds, from the
/// object's JSON.
pub fn data_of(kind: &str, obj: &serde_json::Value) -> BTreeMap<String, String> {
    use base64::Engine;
    let entries = obj["data"].as_object().into_iter().flatten();
    entries
        .filter_map(|(key, value)| {
            let text = value.as_str()?;
            let value = if kind == "Secret" {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()?;
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                text.to_string()
            };
            Some((key.clone(), value))
        })
        .collect()
}

/// Reads each ConfigMap and Secret the pod's containers name through `read`
/// (kind's plural and name → the object's JSON, if it exists).
pub fn read_sources(
    pod: &Pod,
    mut read: impl FnMut(&str, &str) -> Option<serde_json::Value>,
) -> Sources {
    referenced(pod)
        .into_iter()
        .map(|(kind, name)| {
            let plural = if kind == "Secret" {
                "secrets"
            } else {
                "configmaps"
            };
            let data = read(plural, &name).map(|obj| data_of(kind, &obj));
            ((kind, name), data)
        })
        .collect()
}

/// The data of a referenced ConfigMap or Secret, or upstream's not-found error
/// (`None` when it may be missing).
fn source<'a>(
    sources: &'a Sources,
    kind: &'static str,
    name: &str,
    optional: bool,
) -> Result<Option<&'a BTreeMap<String, String>>, String> {
    match sources.get(&(kind, name.to_string())) {
        Some(Some(data)) => Ok(Some(data)),
        _ if optional => Ok(None),
        _ => Err(format!("{} {name:?} not found", kind.to_ascii_lowercase())),
    }
}

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

/// The container's variables: `envFrom` first, then `env` in order, each seeing the
/// ones before it; the error is the kubelet's (`configmap "app" not found`).
pub fn environment(
    pod: &Pod,
    container: &Container,
    sources: &Sources,
) -> Result<Environment, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut env = Environment::new();
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.as_deref().unwrap_or("");
        let data = match (&from.config_map_ref, &from.secret_ref) {
            (Some(r), _) => source(sources, "ConfigMap", &r.name, r.optional == Some(true))?,
            (None, Some(r)) => source(sources, "Secret", &r.name, r.optional == Some(true))?,
            (None, None) => None,
        };
        for (key, value) in data.into_iter().flatten() {
            env.insert(format!("{prefix}{key}"), value.clone());
        }
    }
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(value), _) => Some(expand(value, &env)),
            (None, Some(from)) => {
                if let Some(f) = &from.field_ref {
                    field(pod, &f.field_path)
                } else if let Some(r) = &from.config_map_key_ref {
                    key_of(
                        sources,
                        "ConfigMap",
                        &r.name,
                        &r.key,
                        r.optional == Some(true),
                        namespace,
                    )?
                } else if let Some(r) = &from.secret_key_ref {
                    key_of(
                        sources,
                        "Secret",
                        &r.name,
                        &r.key,
                        r.optional == Some(true),
                        namespace,
                    )?
                } else {
                    None
                }
            }
            (None, None) => Some(String::new()),
        };
        if let Some(value) = value {
            env.insert(var.name.clone(), value);
        }
    }
    Ok(env)
}

/// One key of a referenced ConfigMap or Secret, with upstream's errors.
fn key_of(
    sources: &Sources,
    kind: &'static str,
    name: &str,
    key: &str,
    optional: bool,
    namespace: &str,
) -> Result<Option<String>, String> {
    let Some(data) = source(sources, kind, name, optional)? else {
        return Ok(None);
    };
    match data.get(key) {
        Some(value) => Ok(Some(value.clone())),
        None if optional => Ok(None),
        None => Err(format!(
            "couldn't find key {key} in {kind} {namespace}/{name}"
        )),
    }
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
        let env = environment(&pod, &container, &Sources::new()).unwrap();
        assert_eq!(env["APP"], "web");
        assert_eq!(env["GREETING"], "web on node-2, $(MISSING), $(APP)");
    }

    #[test]
    fn config_maps_and_secrets_with_upstreams_errors() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": []}}))
        .unwrap();
        let container = |env: serde_json::Value| -> Container {
            serde_json::from_value(json!({"name": "c", "envFrom": [
                {"configMapRef": {"name": "settings"}, "prefix": "CFG_"}], "env": env}))
            .unwrap()
        };
        let data = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let mut sources = Sources::new();
        sources.insert(("ConfigMap", "settings".into()), data(&[("mode", "fast")]));
        sources.insert(("Secret", "token".into()), data(&[("key", "s3cret")]));
        let env = environment(&pod, &container(json!([
            {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "token", "key": "key"}}},
            {"name": "MAYBE", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "x", "optional": true}}},
        ])), &sources)
        .unwrap();
        assert_eq!(env["CFG_mode"], "fast");
        assert_eq!(env["KEY"], "s3cret");
        assert!(!env.contains_key("MAYBE"));
        let missing =
            |env: serde_json::Value| environment(&pod, &container(env), &sources).unwrap_err();
        assert_eq!(
            missing(
                json!([{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "x"}}}])
            ),
            "configmap \"gone\" not found"
        );
        assert_eq!(
            missing(
                json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "token", "key": "nope"}}}])
            ),
            "couldn't find key nope in Secret shop/token"
        );
    }
}
