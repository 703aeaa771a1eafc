//! A container's environment as the kubelet resolves it (`makeEnvironmentVariables`):
//! the Service links, then `envFrom` ConfigMaps and Secrets, then `env` — `value`s
//! (with `$(VAR)` references to the variables before them and to the Service links
//! expanded), the downward API's `fieldRef`s and `resourceFieldRef`s,
//! `configMapKeyRef` and `secretKeyRef` — with upstream's errors for what is
//! missing; under them what the image and the runtime set (`PATH`, `HOME`,
//! `HOSTNAME`); the files of its volume mounts; and Kubernetes' `$(VAR)`
//! expansion of `command` and `args`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Container, Pod, Service};

use super::containers;
use super::service_links::service_links;
use super::usage;
use super::volumes::{self, Files};
use crate::api::quantity::{milli_value, value};

/// Variable name → value.
pub type Variables = BTreeMap<String, String>;

/// The `PATH` of the images' configurations (Debian's, busybox's and alpine's alike).
const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The longest hostname a pod gets (a DNS label).
const MAX_HOSTNAME_LENGTH: usize = 63;

/// A container process's environment: the variables the kubelet passes (declared
/// ones and Service links), over those the image and the runtime set; and the
/// files its volume mounts show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// What the kubelet passes; `$(VAR)` in `command` and `args` expands from these only.
    kubelet: Variables,
    /// `PATH` and `HOME` from the image, `HOSTNAME` from the runtime.
    runtime: Variables,
    /// What the mounts show, by path.
    files: Files,
}

impl Environment {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value the process sees for `name`.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.kubelet.get(name).or_else(|| self.runtime.get(name))
    }

    /// The variables the kubelet passes (what `$(VAR)` references expand from).
    pub fn kubelet(&self) -> &Variables {
        &self.kubelet
    }

    /// The environment with `files` as what its mounts show (say, a volume's later version).
    pub fn with_files(self, files: Files) -> Self {
        Environment { files, ..self }
    }

    /// The files the container's volume mounts show, by path.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// Every variable the process sees, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        let hidden = |name: &&String| !self.kubelet.contains_key(*name);
        let runtime = self.runtime.iter().filter(move |(name, _)| hidden(name));
        let mut all: Vec<(&String, &String)> = self.kubelet.iter().chain(runtime).collect();
        all.sort();
        all.into_iter()
    }
}

impl FromIterator<(String, String)> for Environment {
    /// Variables the kubelet passes, with nothing from the image or runtime.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(variables: I) -> Self {
        Environment {
            kubelet: variables.into_iter().collect(),
            ..Environment::default()
        }
    }
}

/// What a pod's containers' environments read besides the pod: the ConfigMaps and
/// Secrets they name, and the Services whose links the kubelet adds.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// (`ConfigMap` or `Secret`, name) → their data (`None`: not found).
    pub data: BTreeMap<(&'static str, String), Option<BTreeMap<String, String>>>,
    /// The Services the kubelet knew of (all namespaces; [`service_links`] picks).
    pub services: Vec<Arc<Service>>,
    /// The node's allocatable resources (name → quantity), the limits of a
    /// container that sets none.
    pub node_allocatable: Arc<BTreeMap<String, String>>,
}

/// The ConfigMaps and Secrets the containers' environments and the pod's volumes name.
pub fn referenced(pod: &Pod) -> Vec<(&'static str, String)> {
    let mut names = volumes::referenced(pod);
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

/// Resource quantities by name from a JSON object (a Node's `allocatable`).
pub fn quantities(resources: &serde_json::Value) -> BTreeMap<String, String> {
    let entries = resources.as_object().into_iter().flatten();
    entries
        .filter_map(|(name, q)| Some((name.clone(), q.as_str()?.to_string())))
        .collect()
}

/// Reads each ConfigMap and Secret the pod's containers name through `read`
/// (kind's plural and name → the object's JSON, if it exists); the Services and
/// the node's allocatable are the caller's to add.
pub fn read_sources(
    pod: &Pod,
    mut read: impl FnMut(&str, &str) -> Option<serde_json::Value>,
) -> Sources {
    let data = referenced(pod)
        .into_iter()
        .map(|(kind, name)| {
            let data = read(plural_of(kind), &name).map(|obj| data_of(kind, &obj));
            ((kind, name), data)
        })
        .collect();
    Sources {
        data,
        ..Sources::default()
    }
}

/// The resource a referenced `ConfigMap` or `Secret` is stored as.
pub fn plural_of(kind: &str) -> &'static str {
    if kind == "Secret" {
        "secrets"
    } else {
        "configmaps"
    }
}

/// The data of a referenced ConfigMap or Secret, or upstream's not-found error
/// (`None` when it may be missing).
fn source<'a>(
    sources: &'a Sources,
    kind: &'static str,
    name: &str,
    optional: bool,
) -> Result<Option<&'a BTreeMap<String, String>>, String> {
    match sources.data.get(&(kind, name.to_string())) {
        Some(Some(data)) => Ok(Some(data)),
        _ if optional => Ok(None),
        _ => Err(format!("{} {name:?} not found", kind.to_ascii_lowercase())),
    }
}

/// The value of a downward API field path (`metadata.labels['app']`, `spec.nodeName`, ...).
pub(super) fn field(pod: &Pod, path: &str) -> Option<String> {
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
        "status.podIPs" => Some(joined(status?.pod_ips.iter().flatten().map(|a| &a.ip))),
        "status.hostIPs" => Some(joined(status?.host_ips.iter().flatten().map(|a| &a.ip))),
        _ => None,
    }
}

/// Addresses joined with commas, as the downward API gives a list.
fn joined<'a>(addresses: impl Iterator<Item = &'a String>) -> String {
    addresses.map(String::as_str).collect::<Vec<_>>().join(",")
}

/// The value of a downward API resource field (`limits.cpu`, `requests.memory`, ...)
/// of `container` in units of `divisor` (default 1), rounded up as upstream's
/// `ExtractContainerResourceValue` does; an unset limit is the node's allocatable.
pub(super) fn resource_field(
    container: &Container,
    resource: &str,
    divisor: Option<&str>,
    node_allocatable: &BTreeMap<String, String>,
) -> Result<String, String> {
    let (kind, name) = resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource : {resource}"))?;
    let cpu = name == "cpu";
    let measure = |text: &str| {
        if cpu {
            milli_value(text)
        } else {
            value(text)
        }
    };
    let amount = match kind {
        "limits" => usage::limit(container, name)
            .or_else(|| node_allocatable.get(name).and_then(|text| measure(text))),
        "requests" => usage::request(container, name),
        _ => return Err(format!("unsupported container resource : {resource}")),
    }
    .unwrap_or(0);
    let divisor = divisor
        .and_then(measure)
        .filter(|d| *d > 0)
        .unwrap_or(if cpu { 1000 } else { 1 });
    Ok(((amount as f64) / (divisor as f64)).ceil().to_string())
}

/// The container's variables: the Service links, then `envFrom`, then `env` in
/// order, each seeing the ones before it, over the image's and the runtime's; the
/// error is the kubelet's (`configmap "app" not found`).
pub fn environment(
    pod: &Pod,
    container: &Container,
    sources: &Sources,
) -> Result<Environment, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let enable_links = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    let mut env = service_links(linked_services(pod, sources), namespace, enable_links);
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
                } else if let Some(r) = &from.resource_field_ref {
                    let divisor = r.divisor.as_ref().map(|d| d.0.as_str());
                    let named = r.container_name.as_deref().filter(|n| !n.is_empty());
                    let of = named.and_then(|name| containers::named(pod, name));
                    Some(resource_field(
                        of.unwrap_or(container),
                        &r.resource,
                        divisor,
                        &sources.node_allocatable,
                    )?)
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
    Ok(Environment {
        kubelet: env,
        runtime: runtime_variables(pod),
        files: volumes::mounted_files(pod, container, sources),
    })
}

/// The Services the kubelet knew when it admitted the pod: those created by the
/// second of its `startTime`, so that its containers' environments and logs,
/// whenever they are worked out, agree on them (a Service created later in that
/// same second counts, within the race upstream documents between a pod and the
/// Services it links to).
fn linked_services<'a>(pod: &Pod, sources: &'a Sources) -> impl Iterator<Item = &'a Service> {
    let admitted = pod.status.as_ref().and_then(|s| s.start_time.as_ref());
    let admitted_ms = admitted.map(|t| t.0.as_millisecond());
    sources
        .services
        .iter()
        .map(|s| &**s)
        .filter(move |service| {
            let created = service.metadata.creation_timestamp.as_ref();
            let created_ms = created.map(|t| t.0.as_millisecond());
            match (created_ms, admitted_ms) {
                (Some(created), Some(admitted)) => created / 1000 <= admitted / 1000,
                _ => true,
            }
        })
}

/// What the image and the runtime set: the image's `PATH` and `HOME`, and the
/// pod's hostname (`spec.hostname`, else its name cut to 63 characters).
fn runtime_variables(pod: &Pod) -> Variables {
    let spec = pod.spec.as_ref();
    let hostname = match spec.and_then(|s| s.hostname.as_deref()) {
        Some(hostname) if !hostname.is_empty() => hostname.to_string(),
        _ => {
            let name = pod.metadata.name.as_deref().unwrap_or("");
            let cut = &name[..name.len().min(MAX_HOSTNAME_LENGTH)];
            cut.trim_end_matches(['-', '.']).to_string()
        }
    };
    Variables::from([
        ("HOME".to_string(), "/root".to_string()),
        ("HOSTNAME".to_string(), hostname),
        ("PATH".to_string(), IMAGE_PATH.to_string()),
    ])
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
pub fn expand(text: &str, env: &Variables) -> String {
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
        let env = environment(&pod, &container, &Sources::default()).unwrap();
        assert_eq!(env.kubelet["APP"], "web");
        assert_eq!(env.kubelet["GREETING"], "web on node-2, $(MISSING), $(APP)");
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
        let mut sources = Sources::default();
        sources
            .data
            .insert(("ConfigMap", "settings".into()), data(&[("mode", "fast")]));
        sources
            .data
            .insert(("Secret", "token".into()), data(&[("key", "s3cret")]));
        let env = environment(&pod, &container(json!([
            {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "token", "key": "key"}}},
            {"name": "MAYBE", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "x", "optional": true}}},
        ])), &sources)
        .unwrap();
        assert_eq!(env.kubelet["CFG_mode"], "fast");
        assert_eq!(env.kubelet["KEY"], "s3cret");
        assert!(!env.kubelet.contains_key("MAYBE"));
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
