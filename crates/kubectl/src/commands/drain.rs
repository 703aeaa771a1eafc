//! `kubectl drain NODE`: cordons the node, then evicts its pods through the
//! eviction API (so PodDisruptionBudgets are honoured), retrying refused
//! evictions every 5 seconds and waiting for each pod to be gone, with
//! upstream's filters (DaemonSet pods, local storage, pods without a
//! controller) and messages. Waiting lets cluster time pass; without
//! `--timeout` it gives up after an hour.

use kubecraft_cluster::api::Request;
use kubecraft_cluster::sim::clock::go_duration;
use serde_json::{json, Value};

use super::cordon;
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag, Parsed};
use crate::output::Output;
use crate::transport::{Deadline, Transport};

/// How long drain waits without `--timeout` (upstream waits forever).
const DEFAULT_WAIT_MS: u64 = 3_600_000;
/// Upstream's delay before retrying a refused eviction.
const EVICT_RETRY_MS: u64 = 5_000;

const TIMEOUT: Flag = value("timeout", None);
const GRACE_PERIOD: Flag = value("grace-period", None);

const FLAGS: &[Flag] = &[
    TIMEOUT,
    GRACE_PERIOD,
    boolean("ignore-daemonsets", None),
    boolean("delete-emptydir-data", None),
    boolean("force", None),
    boolean("disable-eviction", None),
    value("pod-selector", None),
    value("selector", Some('l')),
];

fn pod_ref(pod: &Value) -> String {
    format!(
        "{}/{}",
        pod["metadata"]["namespace"].as_str().unwrap_or(""),
        pod["metadata"]["name"].as_str().unwrap_or("")
    )
}

fn finished(pod: &Value) -> bool {
    matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    )
}

/// What upstream's filters decide for one pod.
enum Verdict {
    Delete,
    /// Deleted, with a warning message.
    DeleteWarning(&'static str),
    /// Left alone, with a warning message.
    SkipWarning(&'static str),
    Skip,
    Error(String),
}

/// Upstream's filter chain: DaemonSet, mirror pods, local storage, no controller.
fn verdict(transport: &mut dyn Transport, pod: &Value, parsed: &Parsed) -> Verdict {
    let controller = pod["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["controller"] == true);
    let mut warning = None;
    if let Some(owner) =
        controller.filter(|o| o["kind"] == "DaemonSet" && o["apiVersion"] == "apps/v1")
    {
        if !finished(pod) {
            let path = format!(
                "/apis/apps/v1/namespaces/{}/daemonsets/{}",
                pod["metadata"]["namespace"].as_str().unwrap_or(""),
                owner["name"].as_str().unwrap_or("")
            );
            let response = transport.send(Request::get(path));
            if !response.is_success() {
                if response.status == 404 && parsed.is_set("force") {
                    return Verdict::DeleteWarning("daemonset not found");
                }
                return Verdict::Error(response.status_message());
            }
            if !parsed.is_set("ignore-daemonsets") {
                return Verdict::Error(
                    "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)".into(),
                );
            }
            return Verdict::SkipWarning("ignoring DaemonSet-managed Pods");
        }
    }
    if pod["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_string() {
        return Verdict::Skip;
    }
    let local_storage = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|v| v.get("emptyDir").is_some());
    if local_storage && !finished(pod) {
        if !parsed.is_set("delete-emptydir-data") {
            return Verdict::Error(
                "Pods with local storage (use --delete-emptydir-data to override)".into(),
            );
        }
        warning = Some("deleting Pods with local storage");
    }
    if controller.is_none() && !finished(pod) {
        if !parsed.is_set("force") {
            return Verdict::Error(
                "Pods that declare no controller (use --force to override)".into(),
            );
        }
        warning = Some("deleting Pods that declare no controller");
    }
    match warning {
        Some(w) => Verdict::DeleteWarning(w),
        None => Verdict::Delete,
    }
}

/// Messages and the pods they name, in the order first seen.
#[derive(Default)]
struct Grouped(Vec<(String, Vec<String>)>);

impl Grouped {
    fn add(&mut self, message: &str, pod: String) {
        match self.0.iter_mut().find(|(m, _)| m == message) {
            Some((_, pods)) => pods.push(pod),
            None => self.0.push((message.to_string(), vec![pod])),
        }
    }
}

/// The pods to evict from `node`, after printing upstream's warnings; the error
/// lists pods that block the drain.
fn pods_for_deletion(
    transport: &mut dyn Transport,
    node: &str,
    parsed: &Parsed,
    out: &mut Output,
) -> Result<Vec<Value>, String> {
    let mut request =
        Request::get("/api/v1/pods").with_query("fieldSelector", format!("spec.nodeName={node}"));
    if let Some(selector) = parsed.get("pod-selector") {
        request = request.with_query("labelSelector", selector);
    }
    let response = transport.send(request);
    if !response.is_success() {
        return Err(server_error(&response).trim_end().to_string());
    }
    let mut warnings = Grouped::default();
    let mut errors = Grouped::default();
    let mut doomed = Vec::new();
    for pod in response.body_json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        match verdict(transport, &pod, parsed) {
            Verdict::Delete => doomed.push(pod),
            Verdict::DeleteWarning(w) => {
                warnings.add(w, pod_ref(&pod));
                doomed.push(pod);
            }
            Verdict::SkipWarning(w) => warnings.add(w, pod_ref(&pod)),
            Verdict::Skip => {}
            Verdict::Error(e) => errors.add(&e, pod_ref(&pod)),
        }
    }
    if !errors.0.is_empty() {
        let messages: Vec<String> = errors
            .0
            .iter()
            .map(|(m, pods)| format!("cannot delete {m}: {}", pods.join(", ")))
            .collect();
        return Err(aggregate(&messages));
    }
    if !warnings.0.is_empty() {
        let messages: Vec<String> = warnings
            .0
            .iter()
            .map(|(m, pods)| format!("{m}: {}", pods.join(", ")))
            .collect();
        out.err(format!("Warning: {}\n", messages.join("; ")));
    }
    Ok(doomed)
}

/// Go's `utilerrors.NewAggregate(...).Error()`.
fn aggregate(messages: &[String]) -> String {
    match messages {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// One pod on its way out.
struct Leaving {
    pod: Value,
    /// When to (re)try the eviction; `None` once it was accepted.
    retry_at: Option<u64>,
}

/// Evicts (or deletes) `pods`, retrying refusals, until each is gone or time runs out.
fn evict_all(
    transport: &mut dyn Transport,
    pods: Vec<Value>,
    parsed: &Parsed,
    limit_ms: u64,
    out: &mut Output,
) -> Result<(), String> {
    let disable_eviction = parsed.is_set("disable-eviction");
    let grace = parsed.int(&GRACE_PERIOD, "drain")?.filter(|g| *g >= 0);
    let mut leaving: Vec<Leaving> = pods
        .into_iter()
        .map(|pod| Leaving {
            pod,
            retry_at: Some(0),
        })
        .collect();
    let mut errors = Vec::new();
    let mut deadline = Deadline::new(limit_ms);
    loop {
        let elapsed = deadline.waited_ms();
        let mut still = Vec::new();
        for mut item in leaving {
            let name = item.pod["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let namespace = item.pod["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let path = format!("/api/v1/namespaces/{namespace}/pods/{name}");
            if item.retry_at.is_some_and(|at| at <= elapsed) {
                let mut delete_options = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
                if let Some(g) = grace {
                    delete_options["gracePeriodSeconds"] = json!(g);
                }
                let response = if disable_eviction {
                    transport.send(
                        Request::delete(path.clone())
                            .with_body(delete_options.to_string(), "application/json"),
                    )
                } else {
                    out.out(format!("evicting pod {namespace}/{name}\n"));
                    let eviction = json!({
                        "apiVersion": "policy/v1", "kind": "Eviction",
                        "metadata": {"name": name, "namespace": namespace},
                        "deleteOptions": delete_options,
                    });
                    transport.send(Request::post(
                        format!("{path}/eviction"),
                        eviction.to_string(),
                    ))
                };
                match response.status {
                    200..=299 => item.retry_at = None,
                    404 => continue,
                    429 => {
                        out.err(format!(
                            "error when evicting pods/{name:?} -n {namespace:?} (will retry after 5s): {}\n",
                            response.status_message()
                        ));
                        item.retry_at = Some(elapsed + EVICT_RETRY_MS);
                    }
                    _ => {
                        errors.push(format!(
                            "error when evicting pods/{name:?} -n {namespace:?}: {}",
                            response.status_message()
                        ));
                        continue;
                    }
                }
            }
            if item.retry_at.is_none() {
                let response = transport.send(Request::get(path));
                let gone = response.status == 404
                    || response.body_json()["metadata"]["uid"] != item.pod["metadata"]["uid"];
                if gone {
                    let verb = if disable_eviction {
                        "deleted"
                    } else {
                        "evicted"
                    };
                    out.out(format!("pod/{name} {verb}\n"));
                    continue;
                }
            }
            still.push(item);
        }
        leaving = still;
        if leaving.is_empty() {
            break;
        }
        if !deadline.pass(transport) {
            for item in &leaving {
                errors.push(format!(
                    "error when evicting pods/{:?} -n {:?}: global timeout reached: {}",
                    item.pod["metadata"]["name"].as_str().unwrap_or(""),
                    item.pod["metadata"]["namespace"].as_str().unwrap_or(""),
                    go_duration(limit_ms)
                ));
            }
            break;
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(aggregate(&errors))
    }
}

/// Runs `kubectl drain`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "drain") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let limit_ms = match parsed.duration_ms(&TIMEOUT, "drain") {
        Ok(Some(ms)) if ms > 0 => ms as u64,
        Ok(_) => DEFAULT_WAIT_MS,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let nodes: Vec<String> = match (parsed.positional.as_slice(), parsed.get("selector")) {
        ([], None) => {
            out.fail(flags::usage_error("drain", "USAGE: drain NODE [flags]"));
            return out;
        }
        ([_, ..], Some(_)) => {
            out.fail(flags::usage_error(
                "drain",
                "cannot specify both a node name and a --selector option",
            ));
            return out;
        }
        ([], Some(selector)) => {
            let response =
                transport.send(Request::get("/api/v1/nodes").with_query("labelSelector", selector));
            response.body_json()["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n["metadata"]["name"].as_str().map(String::from))
                .collect()
        }
        (names, None) => names.to_vec(),
    };
    let cordoned = cordon::run(transport, &nodes, true);
    let failed = cordoned.exit_code != 0;
    out.extend(cordoned);
    if failed {
        return out;
    }
    let mut pending = Vec::new();
    let mut fatal = Vec::new();
    for node in &nodes {
        let result = pods_for_deletion(transport, node, &parsed, &mut out)
            .and_then(|pods| evict_all(transport, pods, &parsed, limit_ms, &mut out));
        match result {
            Ok(()) => out.out(format!("node/{node} drained\n")),
            Err(e) => {
                out.err(format!(
                    "error: unable to drain node {node:?} due to error: {e}, continuing command...\n"
                ));
                pending.push(node.clone());
                fatal.push(e);
            }
        }
    }
    if !pending.is_empty() {
        let mut text = String::from("There are pending nodes to be drained:\n");
        for node in &pending {
            text.push_str(&format!(" {node}\n"));
        }
        out.err(text);
        out.fail(format!("error: {}\n", aggregate(&fatal)));
    }
    out
}
