//! `kubectl logs (POD | TYPE/NAME) [CONTAINER]`: reads `pods/{name}/log` for one
//! container, every container (`--all-containers`), the first pod of a workload
//! (or all of them, `--all-pods`), or the pods a selector (`-l`) matches, with
//! upstream's defaults, messages and errors.
//!
//! `-f` lets cluster time pass while the container runs, then prints what it
//! wrote: the console shows a command's output when the command ends, so
//! following stops when the container stops or after `FOLLOW_LIMIT_MS`.

mod by_logging;

use kubecraft_cluster::api::labels::LabelSelector;
use kubecraft_cluster::api::Request;
use serde_json::Value;

use super::target::fetch;
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag, Parsed};
use crate::output::Output;
use crate::transport::{Deadline, Transport};
use crate::Kubectl;
use by_logging::by_logging;

const USAGE: &str = "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]";

/// How long `-f` follows a container that keeps running, in cluster milliseconds.
pub const FOLLOW_LIMIT_MS: u64 = 60_000;

/// How many lines a selector shows per container unless `--tail` says otherwise.
const SELECTOR_TAIL: i64 = 10;

const CONTAINER: Flag = value("container", Some('c'));
const TAIL: Flag = value("tail", None);
const SINCE: Flag = value("since", None);
const LIMIT_BYTES: Flag = value("limit-bytes", None);
const MAX_LOG_REQUESTS: Flag = value("max-log-requests", None);
const POD_RUNNING_TIMEOUT: Flag = value("pod-running-timeout", None);

const FLAGS: &[Flag] = &[
    CONTAINER,
    TAIL,
    SINCE,
    LIMIT_BYTES,
    MAX_LOG_REQUESTS,
    POD_RUNNING_TIMEOUT,
    value("since-time", None),
    value("selector", Some('l')),
    boolean("previous", Some('p')),
    boolean("follow", Some('f')),
    boolean("timestamps", None),
    boolean("all-containers", None),
    boolean("all-pods", None),
    boolean("prefix", None),
    boolean("ignore-errors", None),
    boolean("insecure-skip-tls-verify-backend", None),
];

/// What the user asked for, read from the flags.
struct LogOptions {
    container: String,
    follow: bool,
    all_containers: bool,
    all_pods: bool,
    prefix: bool,
    ignore_errors: bool,
    max_log_requests: i64,
    pod_running_timeout_ms: u64,
    /// The `pods/log` query every request carries (container aside).
    query: Vec<(&'static str, String)>,
}

/// One log stream to read: a pod and one of its containers.
struct LogSource {
    pod: Value,
    container: String,
}

impl LogSource {
    fn pod_name(&self) -> &str {
        self.pod["metadata"]["name"].as_str().unwrap_or("")
    }
}

/// Reads the flags and checks them as upstream's `Complete`/`Validate` do.
fn log_options(parsed: &Parsed, inline_container: Option<&str>) -> Result<LogOptions, String> {
    let tail = parsed.int(&TAIL, "logs")?;
    let since_ms = parsed.duration_ms(&SINCE, "logs")?;
    let limit_bytes = parsed.int(&LIMIT_BYTES, "logs")?;
    let max_log_requests = parsed.int(&MAX_LOG_REQUESTS, "logs")?.unwrap_or(5);
    let pod_running_timeout_ms = parsed
        .duration_ms(&POD_RUNNING_TIMEOUT, "logs")?
        .unwrap_or(20_000)
        .max(0) as u64;
    let since_time = parsed.get("since-time").filter(|t| !t.is_empty());
    if let Some(text) = since_time {
        if text.parse::<jiff::Timestamp>().is_err() {
            return Err(format!(
                "error: parsing time {text:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {text:?} as \"2006\"\n"
            ));
        }
    }
    let container = match (parsed.get("container"), inline_container) {
        (Some(_), Some(_)) => {
            return Err("error: only one of -c or an inline [CONTAINER] arg is allowed\n".into())
        }
        (Some(c), None) | (None, Some(c)) => c.to_string(),
        (None, None) => String::new(),
    };
    let all_containers = parsed.is_set("all-containers");
    if since_time.is_some() && since_ms.is_some_and(|ms| ms != 0) {
        return Err(
            "error: at most one of `sinceTime` or `sinceSeconds` may be specified\n".into(),
        );
    }
    if all_containers && !container.is_empty() {
        return Err(format!(
            "error: --all-containers=true should not be specified with container name {container}\n"
        ));
    }
    if limit_bytes.is_some_and(|l| l < 0) {
        return Err("error: --limit-bytes must be greater than 0\n".into());
    }
    if since_ms.is_some_and(|ms| ms < 0) {
        return Err("error: --since must be greater than 0\n".into());
    }
    if tail.is_some_and(|t| t < -1) {
        return Err("error: --tail must be greater than or equal to -1\n".into());
    }
    let mut query: Vec<(&'static str, String)> = Vec::new();
    let follow = parsed.is_set("follow");
    for (flag, key) in [
        ("follow", "follow"),
        ("previous", "previous"),
        ("timestamps", "timestamps"),
        (
            "insecure-skip-tls-verify-backend",
            "insecureSkipTLSVerifyBackend",
        ),
    ] {
        if parsed.is_set(flag) {
            query.push((key, "true".into()));
        }
    }
    if let Some(ms) = since_ms.filter(|ms| *ms != 0) {
        query.push(("sinceSeconds", ((ms + 500) / 1000).to_string()));
    }
    if let Some(text) = since_time {
        query.push(("sinceTime", text.to_string()));
    }
    match tail {
        Some(t) if t != -1 => query.push(("tailLines", t.to_string())),
        None if parsed.get("selector").is_some() => {
            query.push(("tailLines", SELECTOR_TAIL.to_string()))
        }
        _ => {}
    }
    if let Some(limit) = limit_bytes.filter(|l| *l != 0) {
        query.push(("limitBytes", limit.to_string()));
    }
    let all_pods = parsed.is_set("all-pods");
    Ok(LogOptions {
        container,
        follow,
        all_containers,
        all_pods,
        prefix: parsed.is_set("prefix") || all_pods,
        ignore_errors: parsed.is_set("ignore-errors"),
        max_log_requests,
        pod_running_timeout_ms,
        query,
    })
}

/// Every container name of a pod: regular, then ephemeral, then init, as upstream lists them.
fn all_container_names(pod: &Value) -> String {
    let names = |field: &str, suffix: &str| -> Vec<String> {
        pod["spec"][field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .map(|n| format!("{n}{suffix}"))
            .collect()
    };
    let mut all = names("containers", "");
    all.extend(names("ephemeralContainers", " (ephem)"));
    all.extend(names("initContainers", " (init)"));
    all.join(", ")
}

fn has_container(pod: &Value, name: &str) -> bool {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|f| pod["spec"][*f].as_array().into_iter().flatten())
        .any(|c| c["name"] == name)
}

/// The streams to read from one pod (upstream's `logsForObject` for a Pod).
fn pod_sources(
    pod: Value,
    options: &LogOptions,
    quiet_default: bool,
    out: &mut Output,
) -> Result<Vec<LogSource>, String> {
    if options.all_containers {
        let containers: Vec<String> = ["initContainers", "containers", "ephemeralContainers"]
            .iter()
            .flat_map(|f| pod["spec"][*f].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect();
        return Ok(containers
            .into_iter()
            .map(|container| LogSource {
                pod: pod.clone(),
                container,
            })
            .collect());
    }
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let mut container = options.container.clone();
    if container.is_empty() {
        let annotated = pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"]
            .as_str()
            .unwrap_or("");
        if !annotated.is_empty() {
            if has_container(&pod, annotated) {
                container = annotated.to_string();
            } else {
                out.err(format!(
                    "Default container name {annotated:?} not found in pod {name}\n"
                ));
            }
        }
    }
    if container.is_empty() {
        container = pod["spec"]["containers"][0]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let others = ["initContainers", "ephemeralContainers"]
            .iter()
            .any(|f| pod["spec"][*f].as_array().is_some_and(|l| !l.is_empty()));
        let several = pod["spec"]["containers"]
            .as_array()
            .is_some_and(|l| l.len() > 1);
        if (several || others) && !quiet_default {
            out.err(format!(
                "Defaulted container {container:?} out of: {}\n",
                all_container_names(&pod)
            ));
        }
    }
    if !has_container(&pod, &container) {
        return Err(format!(
            "error: container {container} is not valid for pod {name} out of: {}\n",
            all_container_names(&pod)
        ));
    }
    Ok(vec![LogSource { pod, container }])
}

/// The label selector of a workload or Service, as upstream's `SelectorsForObject`.
fn selector_of(kind: &str, version: &str, object: &Value) -> Result<String, String> {
    let selector = match kind {
        "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" | "Deployment" => {
            LabelSelector::from_json(&object["spec"]["selector"])
                .map_err(|e| format!("error: invalid label selector: {e}\n"))?
        }
        "Service" | "ReplicationController" => {
            let selector = &object["spec"]["selector"];
            if selector.as_object().is_none_or(|m| m.is_empty()) && kind == "Service" {
                return Err(format!(
                    "error: cannot get the logs from *{version}.{kind}: invalid service '{}': Service is defined without a selector\n",
                    object["metadata"]["name"].as_str().unwrap_or("")
                ));
            }
            LabelSelector::from_json(&serde_json::json!({ "matchLabels": selector }))
                .map_err(|e| format!("error: invalid label selector: {e}\n"))?
        }
        other => {
            return Err(format!(
                "error: cannot get the logs from *{version}.{other}: selector for *{version}.{other} not implemented\n"
            ))
        }
    };
    Ok(selector.to_string())
}

/// Lists the pods `selector` matches in `namespace`, in the server's order.
fn list_pods(
    transport: &mut dyn Transport,
    namespace: &str,
    selector: &str,
) -> Result<Vec<Value>, String> {
    let response = transport.send(
        Request::get(format!("/api/v1/namespaces/{namespace}/pods"))
            .with_query("labelSelector", selector),
    );
    if !response.is_success() {
        return Err(server_error(&response));
    }
    Ok(response.body_json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The pods of a workload, best first, waiting up to the pod-running timeout for one to exist.
fn workload_pods(
    transport: &mut dyn Transport,
    namespace: &str,
    selector: &str,
    timeout_ms: u64,
) -> Result<Vec<Value>, String> {
    let mut deadline = Deadline::new(timeout_ms);
    loop {
        let mut pods = list_pods(transport, namespace, selector)?;
        if !pods.is_empty() {
            pods.sort_by(by_logging);
            return Ok(pods);
        }
        if !deadline.pass(transport) {
            return Err("error: timed out waiting for the condition\n".into());
        }
    }
}

/// The streams the command reads.
fn sources(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    parsed: &Parsed,
    options: &LogOptions,
    out: &mut Output,
) -> Result<Vec<LogSource>, String> {
    let namespace = kubectl.namespace_for(parsed);
    if let Some(selector) = parsed.get("selector") {
        let pods = list_pods(transport, &namespace, selector)?;
        if pods.is_empty() {
            out.err(format!("No resources found in {namespace} namespace.\n"));
        }
        let mut all = Vec::new();
        for pod in pods {
            all.extend(pod_sources(pod, options, false, out)?);
        }
        return Ok(all);
    }
    let target = &parsed.positional[0];
    let (typed, name) = target.split_once('/').unwrap_or(("pods", target));
    let fetched = fetch(transport, typed, name, &namespace).map_err(|e| {
        match e.strip_prefix("Error from server (NotFound): ") {
            Some(rest) => format!(
                "error: error from server (NotFound): {} in namespace {namespace:?}\n",
                rest.trim_end()
            ),
            None => e,
        }
    })?;
    if fetched.resource.kind == "Pod" {
        return pod_sources(fetched.object, options, false, out);
    }
    let selector = selector_of(
        &fetched.resource.kind,
        &fetched.resource.version,
        &fetched.object,
    )?;
    let pods = workload_pods(
        transport,
        &namespace,
        &selector,
        options.pod_running_timeout_ms,
    )?;
    if options.all_pods {
        let mut all = Vec::new();
        for pod in pods {
            all.extend(pod_sources(pod, options, true, out)?);
        }
        return Ok(all);
    }
    if pods.len() > 1 {
        out.err(format!(
            "Found {} pods, using pod/{}\n",
            pods.len(),
            pods[0]["metadata"]["name"].as_str().unwrap_or("")
        ));
    }
    let first = pods.into_iter().next().expect("at least one pod");
    pod_sources(first, options, false, out)
}

/// Whether the container (regular or init) is running now.
fn container_running(pod: &Value, container: &str) -> bool {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|f| pod["status"][*f].as_array().into_iter().flatten())
        .any(|s| s["name"] == container && s["state"]["running"].is_object())
}

/// `-f`: lets time pass until the container has run and stopped, or the follow limit passes.
fn follow(transport: &mut dyn Transport, source: &LogSource, options: &LogOptions) {
    let path = format!(
        "/api/v1/namespaces/{}/pods/{}",
        source.pod["metadata"]["namespace"].as_str().unwrap_or(""),
        source.pod_name()
    );
    let mut started = container_running(&source.pod, &source.container);
    let mut deadline = Deadline::new(if started {
        FOLLOW_LIMIT_MS
    } else {
        options.pod_running_timeout_ms
    });
    loop {
        if !deadline.pass(transport) {
            return;
        }
        let response = transport.send(Request::get(path.clone()));
        if !response.is_success() {
            return;
        }
        let running = container_running(&response.body_json(), &source.container);
        if started && !running {
            return;
        }
        if running && !started {
            started = true;
            deadline = Deadline::new(FOLLOW_LIMIT_MS);
        }
    }
}

/// Runs `kubectl logs`.
pub fn run(kubectl: &Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "logs") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let missing = format!(
        "expected '{USAGE}'.\nPOD or TYPE/NAME is a required argument for the logs command"
    );
    let has_selector = parsed.get("selector").is_some();
    let inline_container = match parsed.positional.len() {
        0 if !has_selector => Err(flags::usage_error("logs", &missing)),
        0 => Ok(None),
        1 if has_selector => Err(flags::usage_error(
            "logs",
            "only a selector (-l) or a POD name is allowed",
        )),
        1 => Ok(None),
        2 => Ok(Some(parsed.positional[1].as_str())),
        _ => Err(flags::usage_error("logs", &missing)),
    };
    let result = inline_container
        .and_then(|inline| log_options(&parsed, inline))
        .and_then(|options| {
            let sources = sources(kubectl, transport, &parsed, &options, &mut out)?;
            Ok((options, sources))
        });
    let (options, sources) = match result {
        Ok(r) => r,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    if options.follow && sources.len() > 1 && sources.len() as i64 > options.max_log_requests {
        out.fail(format!(
            "error: you are attempting to follow {} log streams, but maximum allowed concurrency is {}, use --max-log-requests to increase the limit\n",
            sources.len(),
            options.max_log_requests
        ));
        return out;
    }
    for source in &sources {
        if options.follow {
            follow(transport, source, &options);
        }
        let mut request = Request::get(format!(
            "/api/v1/namespaces/{}/pods/{}/log",
            source.pod["metadata"]["namespace"].as_str().unwrap_or(""),
            source.pod_name()
        ))
        .with_query("container", source.container.as_str());
        for (key, value) in &options.query {
            request = request.with_query(key, value.as_str());
        }
        let response = transport.send(request);
        if !response.is_success() {
            if options.ignore_errors {
                out.out(format!("error: {}\n", response.status_message()));
                continue;
            }
            out.fail(server_error(&response));
            return out;
        }
        let text = response.body_text();
        if options.prefix {
            let prefix = format!("[pod/{}/{}] ", source.pod_name(), source.container);
            for line in text.split_inclusive('\n') {
                out.out(format!("{prefix}{line}"));
            }
        } else {
            out.out(text.to_string());
        }
    }
    out
}
