//! `kubectl describe`: upstream's describers for pods, namespaces, config maps,
//! secrets, services, (in `workloads.rs`) Deployments, ReplicaSets,
//! DaemonSets and StatefulSets, (in `node.rs`) nodes, (in `disruption_budget.rs`)
//! PodDisruptionBudgets, (in `autoscaler.rs`) HorizontalPodAutoscalers, (in
//! `rbac.rs`) roles and bindings, (in `endpoints.rs`) Endpoints and EndpointSlices,
//! (in `limit_range.rs`) LimitRanges and (in `claim.rs`) PersistentVolumeClaims,
//! with their Events, laid out through Go's tabwriter as kubectl does.

use kubecraft_cluster::api::labels::LabelSelector;
use kubecraft_cluster::api::{Request, ResourceInfo};
use serde_json::Value;

use crate::discovery::{discover, resolve_known, warn_ambiguous};
use crate::errors::server_error;
use crate::flags::{self};
use crate::output::Output;
use crate::printers::tabwriter::format;
use crate::transport::{response_date_ms, Transport};
use crate::Kubectl;

mod autoscaler;
mod claim;
mod disruption_budget;
mod endpoints;
mod jobs;
mod limit_range;
mod node;
mod priority_class;
mod quota;
mod rbac;
mod service_account;
mod volumes;
mod workloads;

pub(super) use workloads::pod_template_text;

/// Annotations longer than this print on their own lines (upstream's maxAnnotationLen).
const MAX_ANNOTATION_LEN: usize = 140;

/// Upstream's PrefixWriter over a tabwriter (minwidth 0, padding 2), with Flush.
#[derive(Default)]
struct Writer {
    done: String,
    pending: String,
}

impl Writer {
    fn write(&mut self, level: usize, text: &str) {
        self.pending.push_str(&"  ".repeat(level));
        self.pending.push_str(text);
    }
    /// Writes `Title:\tvalue` at level 0 when the value is not empty.
    fn optional(&mut self, title: &str, value: &str) {
        if !value.is_empty() {
            self.write(0, &format!("{title}:\t{value}\n"));
        }
    }
    fn flush(&mut self) {
        self.done.push_str(&format(&self.pending, 0, 2));
        self.pending.clear();
    }
    fn finish(mut self) -> String {
        self.flush();
        self.done
    }
}

/// The strings of a JSON list (none when it is missing or not a list).
fn strings(list: &Value) -> Vec<&str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn sorted_pairs(map: Option<&Value>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs
}

/// Upstream's `labels.FormatLabels`: `k=v,k2=v2` in key order, `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let pairs: Vec<String> = sorted_pairs(map)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

fn labels(w: &mut Writer, title: &str, map: Option<&Value>) {
    w.write(0, &format!("{title}:\t"));
    let pairs = sorted_pairs(map);
    if pairs.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{k}={v}\n"));
    }
}

fn annotations(w: &mut Writer, map: Option<&Value>) {
    w.write(0, "Annotations:\t");
    let pairs: Vec<(String, String)> = sorted_pairs(map)
        .into_iter()
        .filter(|(k, _)| k != "kubectl.kubernetes.io/last-applied-configuration")
        .collect();
    if pairs.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            w.write(0, "\t");
        }
        let v = v.trim_end_matches('\n');
        if v.len() + k.len() + 2 > MAX_ANNOTATION_LEN || v.contains('\n') {
            w.write(0, &format!("{k}:\n"));
            for line in v.split('\n') {
                let shown = if line.len() > MAX_ANNOTATION_LEN - 2 {
                    format!("{}...", &line[..MAX_ANNOTATION_LEN - 2])
                } else {
                    line.to_string()
                };
                w.write(0, &format!("\t  {shown}\n"));
            }
        } else {
            w.write(0, &format!("{k}: {v}\n"));
        }
    }
}

/// `Title:\t<none>`, or `Title:` and one line per item at level 1.
fn list_or_none(
    w: &mut Writer,
    title: &str,
    items: Option<&Value>,
    line: impl Fn(&Value) -> String,
) {
    match items.and_then(Value::as_array).filter(|a| !a.is_empty()) {
        None => w.write(0, &format!("{title}:\t<none>\n")),
        Some(items) => {
            w.write(0, &format!("{title}:\n"));
            for item in items {
                w.write(1, &format!("{}\n", line(item)));
            }
        }
    }
}

/// `Controlled By:\tKind/name` for an object with a controller.
fn controlled_by(w: &mut Writer, obj: &Value) {
    if let Some(owner) = obj
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|o| o.iter().find(|r| r["controller"] == true))
    {
        let (kind, name) = (text(owner, "/kind"), text(owner, "/name"));
        w.write(0, &format!("Controlled By:\t{kind}/{name}\n"));
    }
}

/// The `Events:` section of an object.
fn events(w: &mut Writer, list: &[Value], now_ms: i64) {
    if list.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    for e in list {
        let interval = super::events::interval(e, now_ms);
        let source = match text(e, "/source/component") {
            "" => text(e, "/reportingComponent"),
            c => c,
        };
        let mut message = text(e, "/message").trim().to_string();
        if !text(e, "/involvedObject/fieldPath").is_empty() {
            message = format!("{}: {message}", text(e, "/involvedObject/fieldPath"));
        }
        w.write(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{message}\n",
                text(e, "/type"),
                text(e, "/reason")
            ),
        );
    }
}

/// A conditions table as the node and claim describers print it: type, status,
/// `time_field` (headed `time_header`), transition time, reason and message.
fn conditions_table(w: &mut Writer, conditions: &[Value], time_header: &str, time_field: &str) {
    w.write(0, "Conditions:\n");
    w.write(
        1,
        &format!("Type\tStatus\t{time_header}\tLastTransitionTime\tReason\tMessage\n"),
    );
    w.write(
        1,
        "----\t------\t-----------------\t------------------\t------\t-------\n",
    );
    for c in conditions {
        w.write(
            1,
            &format!(
                "{} \t{} \t{} \t{} \t{} \t{}\n",
                text(c, "/type"),
                text(c, "/status"),
                rfc1123z(text(c, time_field)),
                rfc1123z(text(c, "/lastTransitionTime")),
                text(c, "/reason"),
                text(c, "/message")
            ),
        );
    }
}

/// RFC 1123 with numeric zone, as Go's `time.RFC1123Z`.
fn rfc1123z(timestamp: &str) -> String {
    timestamp
        .parse::<jiff::Timestamp>()
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string())
        .unwrap_or_default()
}

fn describe_pod(pod: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(pod, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(pod, "/metadata/namespace")),
    );
    if let Some(p) = pod.pointer("/spec/priority").and_then(Value::as_i64) {
        w.write(0, &format!("Priority:\t{p}\n"));
    }
    w.optional("Priority Class Name", text(pod, "/spec/priorityClassName"));
    w.optional("Service Account", text(pod, "/spec/serviceAccountName"));
    match text(pod, "/spec/nodeName") {
        "" => w.write(0, "Node:\t<none>\n"),
        node => w.write(
            0,
            &format!("Node:\t{node}/{}\n", text(pod, "/status/hostIP")),
        ),
    }
    if !text(pod, "/status/startTime").is_empty() {
        w.write(
            0,
            &format!(
                "Start Time:\t{}\n",
                rfc1123z(text(pod, "/status/startTime"))
            ),
        );
    }
    labels(&mut w, "Labels", pod.pointer("/metadata/labels"));
    annotations(&mut w, pod.pointer("/metadata/annotations"));
    let phase = text(pod, "/status/phase");
    if let (Some(deleted), false) = (
        pod.pointer("/metadata/deletionTimestamp")
            .and_then(Value::as_str),
        matches!(phase, "Failed" | "Succeeded"),
    ) {
        let lasts = kubecraft_cluster::apiserver::tables::age::age(Some(deleted), now_ms);
        w.write(0, &format!("Status:\tTerminating (lasts {lasts})\n"));
        let grace = pod
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        w.write(0, &format!("Termination Grace Period:\t{grace}s\n"));
    } else {
        w.write(0, &format!("Status:\t{phase}\n"));
    }
    for (field, title) in [("reason", "Reason"), ("message", "Message")] {
        let v = text(pod, &format!("/status/{field}"));
        if !v.is_empty() {
            w.write(0, &format!("{title}:\t{v}\n"));
        }
    }
    w.write(0, &format!("IP:\t{}\n", text(pod, "/status/podIP")));
    list_or_none(&mut w, "IPs", pod.pointer("/status/podIPs"), |ip| {
        format!("IP:\t{}", text(ip, "/ip"))
    });
    controlled_by(&mut w, pod);
    w.optional("NominatedNodeName", text(pod, "/status/nominatedNodeName"));
    for (list, status_list, label) in [
        ("initContainers", "initContainerStatuses", "Init Containers"),
        ("containers", "containerStatuses", "Containers"),
    ] {
        let containers = pod
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if list == "initContainers" && containers.is_empty() {
            continue;
        }
        let statuses = pod
            .pointer(&format!("/status/{status_list}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        w.write(
            0,
            &format!(
                "{label}:{}\n",
                if containers.is_empty() { " <none>" } else { "" }
            ),
        );
        for c in &containers {
            let status = statuses.iter().find(|s| s["name"] == c["name"]);
            describe_container(&mut w, c, status, "");
        }
    }
    if let Some(conditions) = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    {
        w.write(0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(
                1,
                &format!("{} \t{} \n", text(c, "/type"), text(c, "/status")),
            );
        }
    }
    volumes::describe_volumes(&mut w, pod.pointer("/spec/volumes"), "");
    w.write(
        0,
        &format!("QoS Class:\t{}\n", text(pod, "/status/qosClass")),
    );
    labels(&mut w, "Node-Selectors", pod.pointer("/spec/nodeSelector"));
    tolerations(&mut w, "Tolerations", pod.pointer("/spec/tolerations"));
    events(&mut w, event_list, now_ms);
    w.finish()
}

fn ports(c: &Value, field: &str) -> String {
    c["ports"]
        .as_array()
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    let number = p.get(field).and_then(Value::as_i64).unwrap_or(0);
                    let mut s = format!("{number}/{}", p["protocol"].as_str().unwrap_or("TCP"));
                    if let Some(name) = p["name"].as_str() {
                        s = format!("{s} ({name})");
                    }
                    s
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// One container; `name_indent` is the extra space pod templates put before its name.
fn describe_container(w: &mut Writer, c: &Value, status: Option<&Value>, name_indent: &str) {
    w.write(1, &format!("{name_indent}{}:\n", text(c, "/name")));
    if let Some(s) = status {
        w.write(2, &format!("Container ID:\t{}\n", text(s, "/containerID")));
    }
    w.write(2, &format!("Image:\t{}\n", text(c, "/image")));
    if let Some(s) = status {
        w.write(2, &format!("Image ID:\t{}\n", text(s, "/imageID")));
    }
    for (field, single, plural) in [
        ("containerPort", "Port", "Ports"),
        ("hostPort", "Host Port", "Host Ports"),
    ] {
        let p = ports(c, field);
        if p.contains(',') {
            w.write(2, &format!("{plural}:\t{p}\n"));
        } else {
            w.write(
                2,
                &format!("{single}:\t{}\n", if p.is_empty() { "<none>" } else { &p }),
            );
        }
    }
    for (field, title) in [("command", "Command"), ("args", "Args")] {
        if let Some(items) = c[field].as_array().filter(|a| !a.is_empty()) {
            w.write(2, &format!("{title}:\n"));
            for item in items {
                for line in item.as_str().unwrap_or("").split('\n') {
                    w.write(3, &format!("{line}\n"));
                }
            }
        }
    }
    if let Some(s) = status {
        for (key, title) in [("state", "State"), ("lastState", "Last State")] {
            let state = &s[key];
            if key == "lastState" && state.get("terminated").is_none() {
                continue;
            }
            if let Some(running) = state.get("running") {
                w.write(2, &format!("{title}:\tRunning\n"));
                w.write(
                    3,
                    &format!("Started:\t{}\n", rfc1123z(text(running, "/startedAt"))),
                );
            } else if let Some(t) = state.get("terminated") {
                w.write(2, &format!("{title}:\tTerminated\n"));
                for (f, label) in [("reason", "Reason"), ("message", "Message")] {
                    if !text(t, &format!("/{f}")).is_empty() {
                        w.write(3, &format!("{label}:\t{}\n", text(t, &format!("/{f}"))));
                    }
                }
                w.write(
                    3,
                    &format!("Exit Code:\t{}\n", t["exitCode"].as_i64().unwrap_or(0)),
                );
                if let Some(signal) = t["signal"].as_i64().filter(|s| *s > 0) {
                    w.write(3, &format!("Signal:\t{signal}\n"));
                }
                w.write(
                    3,
                    &format!("Started:\t{}\n", rfc1123z(text(t, "/startedAt"))),
                );
                w.write(
                    3,
                    &format!("Finished:\t{}\n", rfc1123z(text(t, "/finishedAt"))),
                );
            } else {
                w.write(2, &format!("{title}:\tWaiting\n"));
                if !text(state, "/waiting/reason").is_empty() {
                    w.write(3, &format!("Reason:\t{}\n", text(state, "/waiting/reason")));
                }
            }
        }
        w.write(
            2,
            &format!(
                "Ready:\t{}\n",
                if s["ready"] == true { "True" } else { "False" }
            ),
        );
        w.write(
            2,
            &format!(
                "Restart Count:\t{}\n",
                s["restartCount"].as_i64().unwrap_or(0)
            ),
        );
    }
    for (kind, title) in [("limits", "Limits"), ("requests", "Requests")] {
        let pairs = sorted_pairs(c.pointer(&format!("/resources/{kind}")));
        if !pairs.is_empty() {
            w.write(2, &format!("{title}:\n"));
            for (k, v) in pairs {
                w.write(3, &format!("{k}:\t{v}\n"));
            }
        }
    }
    for (field, title) in [
        ("livenessProbe", "Liveness"),
        ("readinessProbe", "Readiness"),
        ("startupProbe", "Startup"),
    ] {
        if let Some(probe) = c.get(field) {
            w.write(2, &format!("{title}:\t{}\n", describe_probe(probe)));
        }
    }
    let env = c["env"].as_array().cloned().unwrap_or_default();
    w.write(
        2,
        &format!(
            "Environment:{}\n",
            if env.is_empty() { "\t<none>" } else { "" }
        ),
    );
    for e in &env {
        if let Some(from) = e.get("valueFrom") {
            if let Some(r) = from.get("configMapKeyRef") {
                let optional = r["optional"] == true;
                w.write(
                    3,
                    &format!(
                        "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {optional}\n",
                        text(e, "/name"),
                        text(r, "/key"),
                        text(r, "/name")
                    ),
                );
            } else if let Some(r) = from.get("secretKeyRef") {
                let optional = r["optional"] == true;
                w.write(
                    3,
                    &format!(
                        "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {optional}\n",
                        text(e, "/name"),
                        text(r, "/key"),
                        text(r, "/name")
                    ),
                );
            }
            continue;
        }
        for (i, line) in text(e, "/value").split('\n').enumerate() {
            if i == 0 {
                w.write(3, &format!("{}:\t{line}\n", text(e, "/name")));
            } else {
                w.write(3, &format!("\t{line}\n"));
            }
        }
    }
    let mut mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
    mounts.sort_by(|a, b| text(a, "/mountPath").cmp(text(b, "/mountPath")));
    w.write(
        2,
        &format!(
            "Mounts:{}\n",
            if mounts.is_empty() { "\t<none>" } else { "" }
        ),
    );
    for m in &mounts {
        let mode = if m["readOnly"] == true { "ro" } else { "rw" };
        w.write(
            3,
            &format!(
                "{} from {} ({mode})\n",
                text(m, "/mountPath"),
                text(m, "/name")
            ),
        );
    }
}

/// Upstream's `DescribeProbe` (kubectl 1.35 wording).
fn describe_probe(probe: &Value) -> String {
    let int = |field: &str| probe[field].as_i64().unwrap_or(0);
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        int("initialDelaySeconds"),
        int("timeoutSeconds"),
        int("periodSeconds"),
        int("successThreshold"),
        int("failureThreshold")
    );
    let port = |p: &Value| p.as_str().map_or_else(|| p.to_string(), String::from);
    if let Some(exec) = probe.get("exec") {
        let command = strings(&exec["command"]);
        return format!("exec [{}] {attrs}", command.join(" "));
    }
    if let Some(http) = probe.get("httpGet") {
        let scheme = text(http, "/scheme").to_lowercase();
        let host = text(http, "/host");
        return format!(
            "http-get {scheme}://{host}:{}{} {attrs}",
            port(&http["port"]),
            text(http, "/path")
        );
    }
    if let Some(tcp) = probe.get("tcpSocket") {
        return format!(
            "tcp-socket {}:{} {attrs}",
            text(tcp, "/host"),
            port(&tcp["port"])
        );
    }
    if let Some(grpc) = probe.get("grpc") {
        return format!(
            "grpc <pod>:{} {} {attrs}",
            grpc["port"],
            text(grpc, "/service")
        );
    }
    format!("unknown {attrs}")
}

fn tolerations(w: &mut Writer, title: &str, list: Option<&Value>) {
    w.write(0, &format!("{title}:\t"));
    let mut items = list.and_then(Value::as_array).cloned().unwrap_or_default();
    if items.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    items.sort_by(|a, b| text(a, "/key").cmp(text(b, "/key")));
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            w.write(0, "\t");
        }
        let mut line = text(t, "/key").to_string();
        if !text(t, "/value").is_empty() {
            line.push_str(&format!("={}", text(t, "/value")));
        }
        if !text(t, "/effect").is_empty() {
            line.push_str(&format!(":{}", text(t, "/effect")));
        }
        if text(t, "/operator") == "Exists" && text(t, "/value").is_empty() {
            line.push_str(if line.is_empty() {
                "op=Exists"
            } else {
                " op=Exists"
            });
        }
        if let Some(seconds) = t["tolerationSeconds"].as_i64() {
            line.push_str(&format!(" for {seconds}s"));
        }
        w.write(0, &format!("{line}\n"));
    }
}

fn describe_namespace(ns: &Value, quotas: usize, limits: usize) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(ns, "/metadata/name")));
    labels(&mut w, "Labels", ns.pointer("/metadata/labels"));
    annotations(&mut w, ns.pointer("/metadata/annotations"));
    w.write(0, &format!("Status:\t{}\n", text(ns, "/status/phase")));
    w.write(0, "\n");
    w.write(
        0,
        if quotas == 0 {
            "No resource quota.\n"
        } else {
            "Resource Quotas\n"
        },
    );
    w.write(0, "\n");
    w.write(
        0,
        if limits == 0 {
            "No LimitRange resource.\n"
        } else {
            "Resource Limits\n"
        },
    );
    w.finish()
}

fn describe_config_map(cm: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(cm, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(cm, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", cm.pointer("/metadata/labels"));
    annotations(&mut w, cm.pointer("/metadata/annotations"));
    w.write(0, "\nData\n====\n");
    for (k, v) in sorted_pairs(cm.pointer("/data")) {
        w.write(0, &format!("{k}:\n----\n{v}\n\n"));
    }
    w.write(0, "\nBinaryData\n====\n");
    if let Some(binary) = cm.pointer("/binaryData").and_then(Value::as_object) {
        let mut keys: Vec<&String> = binary.keys().collect();
        keys.sort();
        for k in keys {
            let decoded = binary[k].as_str().map_or(0, |b| b.len() * 3 / 4);
            w.write(0, &format!("{k}: {decoded} bytes\n"));
        }
    }
    w.write(0, "\n");
    events(&mut w, event_list, now_ms);
    w.finish()
}

fn describe_secret(secret: &Value) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(secret, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(secret, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", secret.pointer("/metadata/labels"));
    annotations(&mut w, secret.pointer("/metadata/annotations"));
    w.write(0, &format!("\nType:\t{}\n", text(secret, "/type")));
    w.write(0, "\nData\n====\n");
    if let Some(data) = secret.pointer("/data").and_then(Value::as_object) {
        let mut keys: Vec<&String> = data.keys().collect();
        keys.sort();
        for k in keys {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data[k].as_str().unwrap_or(""))
                .map_or(0, |b| b.len());
            w.write(0, &format!("{k}:\t{bytes} bytes\n"));
        }
    }
    w.finish()
}

/// upstream's `smartLabelFor`: `apiVersion` → `API Version`, `creationTimestamp` →
/// `Creation Timestamp`; names with characters other than letters and `-` stay as they are.
fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    // Split into runs of lower case, upper case and other characters (fatih/camelcase).
    let mut runs: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_lowercase() {
            0
        } else if c.is_uppercase() {
            1
        } else {
            2
        }
    };
    for c in field.chars() {
        match runs.last_mut() {
            Some(run) if class(run.chars().last().expect("non-empty")) == class(c) => run.push(c),
            _ => runs.push(c.to_string()),
        }
    }
    // An upper-case run followed by a lower-case run gives its last letter to the latter.
    for i in 0..runs.len().saturating_sub(1) {
        let (upper, lower) = (
            class(runs[i].chars().next().unwrap_or('a')),
            class(runs[i + 1].chars().next().unwrap_or('A')),
        );
        if upper == 1 && lower == 0 && !runs[i].is_empty() {
            let last = runs[i].pop().expect("non-empty");
            runs[i + 1].insert(0, last);
        }
    }
    let mut parts: Vec<String> = runs.into_iter().filter(|r| !r.is_empty()).collect();
    // Two or more capitals followed by a capitalised word merge (`IPFamily` stays whole).
    let mut merged = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let part = parts[i].clone();
        if i + 1 < parts.len()
            && part.chars().count() >= 2
            && part.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
            && parts[i + 1].starts_with(|c: char| c.is_uppercase())
        {
            merged.push(format!("{part}{}", parts[i + 1]));
            i += 2;
            continue;
        }
        merged.push(part);
        i += 1;
    }
    parts = merged;
    parts
        .into_iter()
        .filter(|p| p != "_")
        .map(|p| {
            if ["API", "URL", "UID", "GUID"].contains(&p.to_uppercase().as_str()) {
                p.to_uppercase()
            } else if p.to_lowercase() == p {
                let mut chars = p.chars();
                chars
                    .next()
                    .map(|f| f.to_uppercase().collect::<String>() + chars.as_str())
                    .unwrap_or_default()
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `%v` of a JSON scalar as Go prints the unstructured value.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// upstream's `printUnstructuredContent`: sorted fields, nested maps indented.
fn unstructured(
    w: &mut Writer,
    level: usize,
    content: &serde_json::Map<String, Value>,
    prefix: &str,
    skip: &[&str],
) {
    let mut fields: Vec<&String> = content.keys().collect();
    fields.sort();
    for field in fields {
        let path = format!("{prefix}.{field}");
        if skip.contains(&path.as_str()) {
            continue;
        }
        match &content[field] {
            Value::Object(map) => {
                w.write(level, &format!("{}:\n", smart_label(field)));
                unstructured(w, level + 1, map, &path, skip);
            }
            Value::Array(items) => {
                w.write(level, &format!("{}:\n", smart_label(field)));
                for item in items {
                    match item {
                        Value::Object(map) => unstructured(w, level + 1, map, &path, skip),
                        other => w.write(level + 1, &format!("{}\n", go_value(other))),
                    }
                }
            }
            other => w.write(
                level,
                &format!("{}:\t{}\n", smart_label(field), go_value(other)),
            ),
        }
    }
}

/// upstream's generic describer (custom resources and kinds without a describer).
fn describe_generic(obj: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(obj, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(obj, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", obj.pointer("/metadata/labels"));
    annotations(&mut w, obj.pointer("/metadata/annotations"));
    if let Some(content) = obj.as_object() {
        let skip = [
            ".metadata.managedFields",
            ".metadata.name",
            ".metadata.namespace",
            ".metadata.labels",
            ".metadata.annotations",
        ];
        unstructured(&mut w, 0, content, "", &skip);
    }
    events(&mut w, event_list, now_ms);
    w.finish()
}

/// upstream's Service describer; endpoints come from the Service's EndpointSlices.
fn describe_service(svc: &Value, slices: &[Value], event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(svc, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(svc, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", svc.pointer("/metadata/labels"));
    annotations(&mut w, svc.pointer("/metadata/annotations"));
    let selector = format_labels(svc.pointer("/spec/selector"));
    w.write(0, &format!("Selector:\t{selector}\n"));
    w.write(0, &format!("Type:\t{}\n", text(svc, "/spec/type")));
    if !text(svc, "/spec/ipFamilyPolicy").is_empty() {
        w.write(
            0,
            &format!("IP Family Policy:\t{}\n", text(svc, "/spec/ipFamilyPolicy")),
        );
    }
    let joined = |pointer: &str| {
        svc.pointer(pointer)
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
    };
    w.write(
        0,
        &format!(
            "IP Families:\t{}\n",
            joined("/spec/ipFamilies").unwrap_or_else(|| "<none>".into())
        ),
    );
    w.write(0, &format!("IP:\t{}\n", text(svc, "/spec/clusterIP")));
    w.write(
        0,
        &format!(
            "IPs:\t{}\n",
            joined("/spec/clusterIPs").unwrap_or_else(|| "<none>".into())
        ),
    );
    if let Some(ips) = joined("/spec/externalIPs") {
        w.write(0, &format!("External IPs:\t{ips}\n"));
    }
    if !text(svc, "/spec/externalName").is_empty() {
        w.write(
            0,
            &format!("External Name:\t{}\n", text(svc, "/spec/externalName")),
        );
    }
    for port in svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = match text(port, "/name") {
            "" => "<unset>",
            n => n,
        };
        let protocol = match text(port, "/protocol") {
            "" => "TCP",
            p => p,
        };
        w.write(0, &format!("Port:\t{name}\t{}/{protocol}\n", port["port"]));
        match &port["targetPort"] {
            Value::String(s) => w.write(0, &format!("TargetPort:\t{s}/{protocol}\n")),
            other => w.write(0, &format!("TargetPort:\t{}/{protocol}\n", go_value(other))),
        }
        if let Some(node_port) = port["nodePort"].as_i64().filter(|p| *p != 0) {
            w.write(0, &format!("NodePort:\t{name}\t{node_port}/{protocol}\n"));
        }
        w.write(
            0,
            &format!(
                "Endpoints:\t{}\n",
                slice_endpoints(slices, text(port, "/name"))
            ),
        );
    }
    w.write(
        0,
        &format!(
            "Session Affinity:\t{}\n",
            text(svc, "/spec/sessionAffinity")
        ),
    );
    w.optional(
        "External Traffic Policy",
        text(svc, "/spec/externalTrafficPolicy"),
    );
    w.optional(
        "Internal Traffic Policy",
        text(svc, "/spec/internalTrafficPolicy"),
    );
    events(&mut w, event_list, now_ms);
    w.finish()
}

/// upstream's `formatEndpointSlices`: ready `ip:port` pairs for one port name, at most three.
fn slice_endpoints(slices: &[Value], port_name: &str) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    let mut list = Vec::new();
    let mut count = 0;
    for slice in slices {
        let endpoints = slice["endpoints"].as_array().cloned().unwrap_or_default();
        let ready = |e: &Value| e.pointer("/conditions/ready").is_none_or(|r| r == true);
        let ports = slice["ports"].as_array().cloned().unwrap_or_default();
        let targets: Vec<Option<i64>> = if ports.is_empty() {
            vec![None]
        } else {
            ports
                .iter()
                .filter(|p| p["name"].as_str().unwrap_or("") == port_name)
                .map(|p| p["port"].as_i64())
                .collect()
        };
        for port in targets {
            for e in endpoints.iter().filter(|e| ready(e)) {
                let address = e
                    .pointer("/addresses/0")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if list.len() < 3 {
                    list.push(match port {
                        Some(p) => format!("{address}:{p}"),
                        None => address.to_string(),
                    });
                }
                count += 1;
            }
        }
    }
    if count > 3 {
        format!("{} + {} more...", list.join(","), count - 3)
    } else {
        list.join(",")
    }
}

/// The Events about an object, oldest first.
fn events_for(transport: &mut dyn Transport, obj: &Value) -> Vec<Value> {
    let ns = text(obj, "/metadata/namespace");
    let selector = format!(
        "involvedObject.name={},involvedObject.namespace={ns},involvedObject.uid={}",
        text(obj, "/metadata/name"),
        text(obj, "/metadata/uid")
    );
    let path = if ns.is_empty() {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{ns}/events")
    };
    let list = transport
        .send(Request::get(path).with_query("fieldSelector", selector))
        .body_json();
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    let when = |e: &Value| match text(e, "/lastTimestamp") {
        "" => text(e, "/eventTime").to_string(),
        t => t.to_string(),
    };
    items.sort_by_key(when);
    items
}

fn describe_one(
    transport: &mut dyn Transport,
    resource: &ResourceInfo,
    obj: &Value,
    now_ms: i64,
) -> Result<String, String> {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => Ok(describe_pod(obj, &events_for(transport, obj), now_ms)),
        ("", "resourcequotas") => Ok(quota::describe_quota(obj)),
        ("", "configmaps") => Ok(describe_config_map(
            obj,
            &events_for(transport, obj),
            now_ms,
        )),
        ("", "secrets") => Ok(describe_secret(obj)),
        ("", "serviceaccounts") => {
            let secrets = transport
                .send(Request::get(format!(
                    "/api/v1/namespaces/{}/secrets",
                    text(obj, "/metadata/namespace")
                )))
                .body_json()["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            Ok(service_account::describe_service_account(
                obj,
                &secrets,
                &events_for(transport, obj),
                now_ms,
            ))
        }
        ("", "services") => {
            let slices = transport
                .send(
                    Request::get(format!(
                        "/apis/discovery.k8s.io/v1/namespaces/{}/endpointslices",
                        text(obj, "/metadata/namespace")
                    ))
                    .with_query(
                        "labelSelector",
                        format!("kubernetes.io/service-name={}", text(obj, "/metadata/name")),
                    ),
                )
                .body_json()["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            Ok(describe_service(
                obj,
                &slices,
                &events_for(transport, obj),
                now_ms,
            ))
        }
        ("apps", "deployments") => Ok(workloads::describe_deployment(transport, obj, now_ms)),
        ("apps", "replicasets") => Ok(workloads::describe_replicaset(transport, obj, now_ms)),
        ("apps", "daemonsets") => Ok(workloads::describe_daemonset(transport, obj, now_ms)),
        ("apps", "statefulsets") => Ok(workloads::describe_statefulset(transport, obj, now_ms)),
        ("batch", "jobs") => Ok(jobs::describe_job(transport, obj, now_ms)),
        ("batch", "cronjobs") => Ok(jobs::describe_cronjob(transport, obj, now_ms)),
        ("autoscaling", "horizontalpodautoscalers") => Ok(autoscaler::describe_autoscaler(
            obj,
            &events_for(transport, obj),
            now_ms,
        )),
        ("policy", "poddisruptionbudgets") => {
            let selector = match obj.pointer("/spec/selector") {
                Some(s) => LabelSelector::from_json(s)
                    .map(|s| s.to_string())
                    .ok()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "<none>".into()),
                None => "<unset>".into(),
            };
            Ok(disruption_budget::describe_pod_disruption_budget(
                obj,
                &events_for(transport, obj),
                now_ms,
                selector,
            ))
        }
        ("", "nodes") => Ok(node::describe_node(transport, obj, now_ms)),
        ("", "endpoints") => Ok(endpoints::describe_endpoints(
            obj,
            &events_for(transport, obj),
            now_ms,
        )),
        ("discovery.k8s.io", "endpointslices") => Ok(endpoints::describe_endpoint_slice(
            obj,
            &events_for(transport, obj),
            now_ms,
        )),
        ("", "limitranges") => Ok(limit_range::describe_limit_range(obj)),
        ("", "persistentvolumeclaims") => {
            let namespace = text(obj, "/metadata/namespace");
            let pods = transport
                .send(Request::get(format!("/api/v1/namespaces/{namespace}/pods")))
                .body_json();
            let pods = pods["items"].as_array().map_or(&[][..], Vec::as_slice);
            Ok(claim::describe_claim(
                obj,
                pods,
                &events_for(transport, obj),
                now_ms,
            ))
        }
        ("scheduling.k8s.io", "priorityclasses") => Ok(priority_class::describe_priority_class(
            obj,
            &events_for(transport, obj),
            now_ms,
        )),
        ("rbac.authorization.k8s.io", "roles" | "clusterroles") => Ok(rbac::describe_role(obj)),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            Ok(rbac::describe_binding(obj))
        }
        ("", "namespaces") => {
            let name = text(obj, "/metadata/name");
            let count = |t: &mut dyn Transport, plural: &str| {
                t.send(Request::get(format!("/api/v1/namespaces/{name}/{plural}")))
                    .body_json()["items"]
                    .as_array()
                    .map_or(0, Vec::len)
            };
            let quotas = count(transport, "resourcequotas");
            let limits = count(transport, "limitranges");
            Ok(describe_namespace(obj, quotas, limits))
        }
        // Kinds kubectl has no describer for (Leases, Events, custom resources, CRDs)
        // get its generic one.
        (group, plural) if !DESCRIBED_KINDS.contains(&(group, plural)) => {
            Ok(describe_generic(obj, &events_for(transport, obj), now_ms))
        }
        _ => Err(format!(
            "error: kubecraft cannot describe {} yet\n",
            resource.qualified_plural()
        )),
    }
}

/// `kubectl describe`'s own flags.
const FLAGS: &[flags::Flag] = &[flags::value("selector", Some('l'))];

/// The kinds upstream kubectl has a dedicated describer for (its `describerMap`),
/// by group and resource; every other kind gets its generic describer.
const DESCRIBED_KINDS: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "replicationcontrollers"),
    ("", "secrets"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "nodes"),
    ("", "limitranges"),
    ("", "resourcequotas"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "namespaces"),
    ("", "endpoints"),
    ("", "configmaps"),
    ("discovery.k8s.io", "endpointslices"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "servicecidrs"),
    ("networking.k8s.io", "ipaddresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("apps", "statefulsets"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattributesclasses"),
    ("policy", "poddisruptionbudgets"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("scheduling.k8s.io", "priorityclasses"),
];

/// Runs `kubectl describe`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "describe") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let (typed, names): (String, Vec<String>) = match parsed.positional.as_slice() {
        [] => {
            out.fail("You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nSee 'kubectl describe -h' for help and examples\n");
            return out;
        }
        [one] if one.contains('/') => one
            .split_once('/')
            .map(|(t, n)| (t.to_string(), vec![n.to_string()]))
            .expect("checked"),
        [t, rest @ ..] => (t.clone(), rest.to_vec()),
    };
    let resources = discover(transport);
    // Upstream's describe maps the type twice, and warns each time.
    for _ in 0..2 {
        warn_ambiguous(transport, &resources, std::slice::from_ref(&typed));
    }
    let resource = match resolve_known(&resources, &typed) {
        Ok(resource) => resource,
        Err(error) => {
            out.fail(error);
            return out;
        }
    };
    let selector = parsed.get("selector");
    if selector.is_some() && !names.is_empty() {
        out.fail("error: name cannot be provided when a selector is specified\n");
        return out;
    }
    let mut now_ms = 0;
    let objects: Vec<Value> = if names.is_empty() {
        let mut request = Request::get(resource.collection_path(Some(&namespace)));
        if let Some(selector) = selector {
            request = request.with_query("labelSelector", selector);
        }
        let list = transport.send(request);
        now_ms = response_date_ms(&list);
        if !list.is_success() {
            out.fail(server_error(&list));
            return out;
        }
        let items = list.body_json()["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            out.err(format!("No resources found in {namespace} namespace.\n"));
            return out;
        }
        items
    } else {
        let mut found = Vec::new();
        for name in &names {
            let response = transport.send(Request::get(format!(
                "{}/{name}",
                resource.collection_path(Some(&namespace))
            )));
            if response.is_success() {
                now_ms = response_date_ms(&response);
                found.push(response.body_json());
            } else {
                out.fail(server_error(&response));
                return out;
            }
        }
        found
    };
    for (i, obj) in objects.iter().enumerate() {
        match describe_one(transport, resource, obj, now_ms) {
            Ok(text) => out.out(if i == 0 { text } else { format!("\n\n{text}") }),
            Err(e) => {
                out.fail(e);
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EPOCH: i64 = 1_767_225_600_000;

    #[test]
    fn smart_labels_like_upstream() {
        for (field, label) in [
            ("apiVersion", "API Version"),
            ("creationTimestamp", "Creation Timestamp"),
            ("uid", "UID"),
            ("resourceVersion", "Resource Version"),
            ("clusterIP", "Cluster IP"),
            ("size", "Size"),
            ("v1beta1", "v1beta1"),
        ] {
            assert_eq!(smart_label(field), label, "{field}");
        }
    }

    #[test]
    fn events_table_with_counts_and_field_paths() {
        let list = vec![
            json!({"type": "Normal", "reason": "Scheduled", "source": {"component": "default-scheduler"},
                "message": "Successfully assigned default/web to node-1", "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z", "count": 1,
                "involvedObject": {}}),
            json!({"type": "Warning", "reason": "BackOff", "source": {"component": "kubelet"}, "message": "Back-off restarting failed container",
                "firstTimestamp": "2026-01-01T00:00:10Z", "lastTimestamp": "2026-01-01T00:01:00Z", "count": 4,
                "involvedObject": {"fieldPath": "spec.containers{web}"}}),
        ];
        let mut w = Writer::default();
        w.write(0, "Name:\tweb\n");
        events(&mut w, &list, EPOCH + 120_000);
        assert_eq!(
            w.finish(),
            "Name:  web\nEvents:\n  Type     Reason     Age                 From               Message\n  ----     ------     ----                ----               -------\n  Normal   Scheduled  2m                  default-scheduler  Successfully assigned default/web to node-1\n  Warning  BackOff    60s (x4 over 110s)  kubelet            spec.containers{web}: Back-off restarting failed container\n"
        );
    }
}
