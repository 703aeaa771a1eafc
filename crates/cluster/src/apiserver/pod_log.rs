//! `GET pods/{name}/log`: reads `PodLogOptions` from the query, validates them,
//! picks the container as upstream's `LogLocation` does, and answers with what the
//! pod's kubelet serves (plain text), or the kubelet's refusal as a 400.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service};

use super::storage::object_key;
use super::{ApiServer, Env};
use crate::api::query::{bool_param, int_param};
use crate::api::request::{Request, Response};
use crate::api::status::{FieldError, StatusError};
use crate::kubelet::env::{plural_of, quantities, read_sources, referenced, Sources};
use crate::kubelet::logs::{container_log, LogRequest, SourcesOverTime};

/// What a pod's containers read, from the server's tables, with the versions of
/// ConfigMaps and Secrets as they were at each instant asked for.
struct LogSources<'a> {
    server: &'a ApiServer,
    pod: &'a Pod,
    namespace: &'a str,
    services: Vec<Arc<Service>>,
    node_allocatable: Arc<BTreeMap<String, String>>,
}

impl LogSources<'_> {
    /// The keys of the ConfigMaps and Secrets the pod reads, by resource.
    fn referenced(&self) -> impl Iterator<Item = (usize, String)> + '_ {
        referenced(self.pod).into_iter().filter_map(|(kind, name)| {
            let resource = self.server.config_resource(plural_of(kind))?;
            Some((resource, object_key(Some(self.namespace), &name)))
        })
    }
}

impl SourcesOverTime for LogSources<'_> {
    fn at(&self, unix_ms: i64) -> Sources {
        let server = self.server;
        let read = read_sources(self.pod, |plural, name| {
            let resource = server.config_resource(plural)?;
            let key = object_key(Some(self.namespace), name);
            let object = match server.config_history.at(resource, &key, unix_ms) {
                Some(then) => then,
                // Not changed since it was created (or restored): as it is now.
                None => server.served[resource].table.get(&key),
            };
            Some(object?.value())
        });
        Sources {
            services: self.services.clone(),
            node_allocatable: self.node_allocatable.clone(),
            ..read
        }
    }

    fn changes(&self, after: i64, until: i64) -> Vec<i64> {
        let mut changes: Vec<i64> = self
            .referenced()
            .flat_map(|(resource, key)| {
                self.server
                    .config_history
                    .changes(resource, &key, after, until)
            })
            .collect();
        changes.sort_unstable();
        changes.dedup();
        changes
    }
}

/// Upstream's `ValidatePodLogOptions`.
fn validate(
    tail_lines: Option<i64>,
    limit_bytes: Option<i64>,
    since_seconds: Option<i64>,
    since_time: Option<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(tail) = tail_lines.filter(|t| *t < 0) {
        errors.push(FieldError::invalid(
            "tailLines",
            &tail.into(),
            "must be greater than or equal to 0",
        ));
    }
    if let Some(limit) = limit_bytes.filter(|l| *l < 1) {
        errors.push(FieldError::invalid(
            "limitBytes",
            &limit.into(),
            "must be greater than 0",
        ));
    }
    match (since_seconds, since_time) {
        (Some(_), Some(_)) => errors.push(FieldError::forbidden(
            "",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        )),
        (Some(seconds), None) if seconds < 1 => errors.push(FieldError::invalid(
            "sinceSeconds",
            &seconds.into(),
            "must be greater than 0",
        )),
        _ => {}
    }
    errors
}

/// The container a log request reads: the one named, or the pod's only container.
fn choose_container(pod: &Pod, asked: &str, name: &str) -> Result<String, StatusError> {
    let names = |list: Option<&Vec<k8s_openapi::api::core::v1::Container>>| -> Vec<String> {
        list.into_iter().flatten().map(|c| c.name.clone()).collect()
    };
    let spec = pod.spec.clone().unwrap_or_default();
    let containers = names(Some(&spec.containers));
    let init = names(spec.init_containers.as_ref());
    if !asked.is_empty() {
        if containers.iter().chain(&init).any(|c| c == asked) {
            return Ok(asked.to_string());
        }
        return Err(StatusError::bad_request(format!(
            "container {asked} is not valid for pod {name}"
        )));
    }
    match containers.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(StatusError::bad_request(format!(
            "a container name must be specified for pod {name}"
        ))),
        many => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                many.join(" ")
            );
            if !init.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            Err(StatusError::bad_request(message))
        }
    }
}

impl ApiServer {
    /// `GET pods/{name}/log`.
    pub(super) fn pod_log(
        &self,
        req: &Request,
        resource: usize,
        ns: Option<&str>,
        name: &str,
        env: &Env,
    ) -> Result<Response, StatusError> {
        let tail_lines = int_param(req, "tailLines")?;
        let limit_bytes = int_param(req, "limitBytes")?;
        let since_seconds = int_param(req, "sinceSeconds")?;
        let since_time = req.query_param("sinceTime").filter(|t| !t.is_empty());
        let errors = validate(tail_lines, limit_bytes, since_seconds, since_time);
        if !errors.is_empty() {
            return Err(StatusError::invalid_kind(
                "",
                "PodLogOptions",
                name,
                &errors,
            ));
        }
        let now_unix_ms = env.now.unix_millis(self.epoch_unix_ms);
        let since_unix_ms = match (since_seconds, since_time) {
            (Some(seconds), _) => Some(now_unix_ms - seconds * 1000),
            (None, Some(text)) => Some(
                text.parse::<jiff::Timestamp>()
                    .map_err(|_| {
                        StatusError::bad_request(format!(
                            "parsing time {text:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {text:?} as \"2006\""
                        ))
                    })?
                    .as_millisecond(),
            ),
            (None, None) => None,
        };
        let served = &self.served[resource];
        let stored = served
            .table
            .get(&object_key(ns, name))
            .ok_or_else(|| StatusError::not_found(&served.info, name))?;
        let pod: Pod = serde_json::from_str(&stored.json)
            .map_err(|e| StatusError::internal(format!("stored pod: {e}")))?;
        let container = choose_container(&pod, req.query_param("container").unwrap_or(""), name)?;
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or("");
        if node_name.is_empty() {
            // No node, no kubelet to ask: upstream answers with an empty body.
            return Ok(Response::text(200, String::new()));
        }
        let request = LogRequest {
            container,
            previous: bool_param(req, "previous"),
            timestamps: bool_param(req, "timestamps"),
            since_unix_ms,
            tail_lines: tail_lines.map(|t| t as u64),
            limit_bytes: limit_bytes.map(|l| l as u64),
        };
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let node = self
            .resource_id("", "v1", "nodes")
            .and_then(|nodes| self.served[nodes].table.get(node_name))
            .map(|n| n.value());
        let allocatable = node
            .as_ref()
            .map(|n| quantities(&n["status"]["allocatable"]));
        let sources = LogSources {
            server: self,
            pod: &pod,
            namespace: &namespace,
            services: self.linkable_services(&namespace),
            node_allocatable: Arc::new(allocatable.unwrap_or_default()),
        };
        container_log(&pod, &sources, &self.access_log, &request, now_unix_ms)
            .map(|text| Response::text(200, text))
            .map_err(StatusError::bad_request)
    }

    /// The Services a pod in `namespace` may be linked to: its namespace's and
    /// the control plane's (`default/kubernetes`).
    fn linkable_services(&self, namespace: &str) -> Vec<Arc<Service>> {
        let Some(resource) = self.resource_id("", "v1", "services") else {
            return Vec::new();
        };
        let table = &self.served[resource].table;
        let own = format!("{namespace}/");
        let master = table.get("default/kubernetes");
        let stored = table.scan(&own, None).chain(master);
        stored
            .filter_map(|s| serde_json::from_str(&s.json).ok())
            .map(Arc::new)
            .collect()
    }
}
