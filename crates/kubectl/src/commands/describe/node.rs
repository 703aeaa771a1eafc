//! The node describer, as upstream's: roles, taints, the Lease, conditions,
//! addresses, capacity and allocatable, system info, the non-terminated pods
//! with their requests and limits against allocatable, allocated resources, and
//! the node's events (kubelet events name the node by its name as UID, the
//! controllers by its UID; both are shown).

use k8s_openapi::api::core::v1::Pod;
use kubecraft_cluster::api::quantity::{format_bytes, format_milli, milli_value, value};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::apiserver::tables::age::age;
use kubecraft_cluster::scheduler::resources::{pod_limits, pod_requests, Resources};
use serde_json::Value;

use super::{annotations, conditions_table, events, labels, rfc1123z, text, Writer};
use crate::transport::Transport;

/// Upstream's `findNodeRoles`: `node-role.kubernetes.io/<role>` and `kubernetes.io/role`.
fn roles(node: &Value) -> String {
    let mut found: Vec<String> = node["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role.to_string()),
            _ if k == "kubernetes.io/role" => v.as_str().map(String::from),
            _ => None,
        })
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        "<none>".into()
    } else {
        found.join(",")
    }
}

/// `Taints:` sorted by effect then key, one per line.
fn taints(w: &mut Writer, node: &Value) {
    let mut list: Vec<(String, String)> = node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let (key, value, effect) = (text(t, "/key"), text(t, "/value"), text(t, "/effect"));
            let shown = if value.is_empty() {
                format!("{key}:{effect}")
            } else {
                format!("{key}={value}:{effect}")
            };
            (format!("{effect},{key}"), shown)
        })
        .collect();
    list.sort();
    w.write(0, "Taints:\t");
    if list.is_empty() {
        w.write(0, "<none>\n");
    }
    for (i, (_, shown)) in list.iter().enumerate() {
        if i > 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{shown}\n"));
    }
}

/// Whether the first memory amount a pod states uses binary suffixes (`Mi`), which
/// decides how its sums print, as Quantity addition keeps the first format.
fn binary_memory(pods: &[Pod]) -> bool {
    pods.iter()
        .flat_map(|p| p.spec.iter().flat_map(|s| &s.containers))
        .filter_map(|c| c.resources.as_ref())
        .flat_map(|r| r.requests.iter().chain(r.limits.iter()))
        .find_map(|list| list.get("memory"))
        .is_none_or(|q| q.0.ends_with('i'))
}

/// `amount (N%)`: the amount and its whole percentage of `whole` (0 when there is none).
fn share(amount: String, part: i64, whole: i64) -> String {
    let percent = if whole == 0 {
        0
    } else {
        (part as f64 / whole as f64 * 100.0) as i64
    };
    format!("{amount} ({percent}%)")
}

/// Describes a node.
pub(super) fn describe_node(transport: &mut dyn Transport, node: &Value, now_ms: i64) -> String {
    let name = text(node, "/metadata/name");
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{name}\n"));
    w.write(0, &format!("Roles:\t{}\n", roles(node)));
    labels(&mut w, "Labels", node.pointer("/metadata/labels"));
    annotations(&mut w, node.pointer("/metadata/annotations"));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(text(node, "/metadata/creationTimestamp"))
        ),
    );
    taints(&mut w, node);
    w.write(
        0,
        &format!(
            "Unschedulable:\t{}\n",
            node["spec"]["unschedulable"] == true
        ),
    );
    let lease = transport
        .send(Request::get(format!(
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        )))
        .body_json();
    let stamp = |pointer: &str| match text(&lease, pointer) {
        "" => "<unset>".to_string(),
        t => rfc1123z(t),
    };
    w.write(0, "Lease:\n");
    let holder = match text(&lease, "/spec/holderIdentity") {
        "" => "<unset>",
        h => h,
    };
    w.write(1, &format!("HolderIdentity:\t{holder}\n"));
    w.write(
        1,
        &format!("AcquireTime:\t{}\n", stamp("/spec/acquireTime")),
    );
    w.write(1, &format!("RenewTime:\t{}\n", stamp("/spec/renewTime")));
    if let Some(conditions) = node["status"]["conditions"]
        .as_array()
        .filter(|c| !c.is_empty())
    {
        conditions_table(
            &mut w,
            conditions,
            "LastHeartbeatTime",
            "/lastHeartbeatTime",
        );
    }
    w.write(0, "Addresses:\n");
    for a in node["status"]["addresses"].as_array().into_iter().flatten() {
        w.write(
            1,
            &format!("{}:\t{}\n", text(a, "/type"), text(a, "/address")),
        );
    }
    for (title, field) in [("Capacity", "capacity"), ("Allocatable", "allocatable")] {
        if let Some(list) = node["status"][field].as_object().filter(|l| !l.is_empty()) {
            w.write(0, &format!("{title}:\n"));
            let mut entries: Vec<(&String, &Value)> = list.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                w.write(0, &format!("  {k}:\t{}\n", v.as_str().unwrap_or("")));
            }
        }
    }
    w.write(0, "System Info:\n");
    for (title, field) in [
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
    ] {
        w.write(
            0,
            &format!(
                "  {title}:\t{}\n",
                text(node, &format!("/status/nodeInfo/{field}"))
            ),
        );
    }
    if !text(node, "/spec/podCIDR").is_empty() {
        w.write(0, &format!("PodCIDR:\t{}\n", text(node, "/spec/podCIDR")));
    }
    if let Some(cidrs) = node["spec"]["podCIDRs"]
        .as_array()
        .filter(|c| !c.is_empty())
    {
        let joined: Vec<&str> = cidrs.iter().filter_map(Value::as_str).collect();
        w.write(0, &format!("PodCIDRs:\t{}\n", joined.join(",")));
    }
    let list = transport
        .send(Request::get("/api/v1/pods").with_query(
            "fieldSelector",
            format!("spec.nodeName={name},status.phase!=Failed,status.phase!=Succeeded"),
        ))
        .body_json();
    let pods: Vec<Pod> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| serde_json::from_value(p.clone()).ok())
        .collect();
    let allocatable = |field: &str, milli: bool| {
        let q = text(node, &format!("/status/allocatable/{field}"));
        let q = if q.is_empty() {
            text(node, &format!("/status/capacity/{field}"))
        } else {
            q
        };
        if milli { milli_value(q) } else { value(q) }.unwrap_or(0)
    };
    let (cpu, memory) = (allocatable("cpu", true), allocatable("memory", false));
    let binary = binary_memory(&pods);
    w.write(
        0,
        &format!("Non-terminated Pods:\t({} in total)\n", pods.len()),
    );
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let (mut total_req, mut total_lim) = (Resources::default(), Resources::default());
    for pod in &pods {
        let (req, lim) = (pod_requests(pod), pod_limits(pod));
        let one = binary_memory(std::slice::from_ref(pod));
        let created = pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string());
        w.write(
            1,
            &format!(
                "{}\t{}\t\t{}\t{}\t{}\t{}\t{}\n",
                pod.metadata.namespace.as_deref().unwrap_or(""),
                pod.metadata.name.as_deref().unwrap_or(""),
                share(format_milli(req.milli_cpu), req.milli_cpu, cpu),
                share(format_milli(lim.milli_cpu), lim.milli_cpu, cpu),
                share(format_bytes(req.memory, one), req.memory, memory),
                share(format_bytes(lim.memory, one), lim.memory, memory),
                age(created.as_deref(), now_ms)
            ),
        );
        total_req.add(&req);
        total_lim.add(&lim);
    }
    let storage = allocatable("ephemeral-storage", false);
    w.write(
        0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.write(1, "Resource\tRequests\tLimits\n");
    w.write(1, "--------\t--------\t------\n");
    let rows = [
        (
            "cpu",
            format_milli(total_req.milli_cpu),
            total_req.milli_cpu,
            format_milli(total_lim.milli_cpu),
            total_lim.milli_cpu,
            cpu,
        ),
        (
            "memory",
            format_bytes(total_req.memory, binary),
            total_req.memory,
            format_bytes(total_lim.memory, binary),
            total_lim.memory,
            memory,
        ),
        (
            "ephemeral-storage",
            format_bytes(total_req.ephemeral_storage, false),
            total_req.ephemeral_storage,
            format_bytes(total_lim.ephemeral_storage, false),
            total_lim.ephemeral_storage,
            storage,
        ),
    ];
    for (resource, req_text, req, lim_text, lim, whole) in rows {
        let (requests, limits) = (share(req_text, req, whole), share(lim_text, lim, whole));
        w.write(1, &format!("{resource}\t{requests}\t{limits}\n"));
    }
    let mut found = node_events(transport, node);
    found.sort_by(|a, b| text(a, "/lastTimestamp").cmp(text(b, "/lastTimestamp")));
    events(&mut w, &found, now_ms);
    w.finish()
}

/// Events about the node, whether they name it by UID or by name.
fn node_events(transport: &mut dyn Transport, node: &Value) -> Vec<Value> {
    let name = text(node, "/metadata/name");
    let mut found = Vec::new();
    for uid in [text(node, "/metadata/uid"), name] {
        let selector =
            format!("involvedObject.kind=Node,involvedObject.name={name},involvedObject.uid={uid}");
        let list = transport
            .send(Request::get("/api/v1/events").with_query("fieldSelector", selector))
            .body_json();
        found.extend(list["items"].as_array().cloned().unwrap_or_default());
    }
    found
}
