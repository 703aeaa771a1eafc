//! Printers for core kinds: nodes, namespaces, services, config maps, secrets,
//! service accounts.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::{col, map_string, or_none, text, wide, PrintContext, Printer, RowFn};

fn name(obj: &Value) -> Value {
    json!(text(obj, "/metadata/name"))
}

fn count(obj: &Value, pointer: &str) -> usize {
    obj.at(pointer)
        .and_then(Value::as_object)
        .map_or(0, |m| m.len())
}

/// Nodes: STATUS from the Ready condition and schedulability, ROLES from labels.
pub fn node_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Status", "string"),
            col("Roles", "string"),
            col("Age", "string"),
            col("Version", "string"),
            wide("Internal-IP", "string"),
            wide("External-IP", "string"),
            wide("OS-Image", "string"),
            wide("Kernel-Version", "string"),
            wide("Container-Runtime", "string"),
        ],
        row: RowFn::Value(|node, ctx: &PrintContext| {
            let conditions = node
                .at("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut status: Vec<&str> = Vec::new();
            match conditions
                .iter()
                .find(|c| c["type"] == "Ready")
                .and_then(|c| c["status"].as_str())
            {
                Some("True") => status.push("Ready"),
                // False and Unknown alike, as upstream prints them.
                Some(_) => status.push("NotReady"),
                None => status.push("Unknown"),
            }
            if node.at("/spec/unschedulable") == Some(&json!(true)) {
                status.push("SchedulingDisabled");
            }
            let mut roles: Vec<String> = node
                .at("/metadata/labels")
                .and_then(Value::as_object)
                .map(|labels| {
                    labels
                        .iter()
                        .filter_map(|(k, v)| {
                            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                                (!role.is_empty()).then(|| role.to_string())
                            } else if k == "kubernetes.io/role" {
                                v.as_str().map(String::from)
                            } else {
                                None
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            let address = |kind: &str| {
                node.at("/status/addresses")
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|x| x["type"] == kind))
                    .and_then(|x| x["address"].as_str())
                    .unwrap_or("")
                    .to_string()
            };
            vec![
                name(node),
                json!(status.join(",")),
                json!(or_none(&roles.join(","))),
                json!(ctx.age_of(node)),
                json!(text(node, "/status/nodeInfo/kubeletVersion")),
                json!(or_none(&address("InternalIP"))),
                json!(or_none(&address("ExternalIP"))),
                json!(or_none(text(node, "/status/nodeInfo/osImage"))),
                json!(or_none(text(node, "/status/nodeInfo/kernelVersion"))),
                json!(or_none(text(
                    node,
                    "/status/nodeInfo/containerRuntimeVersion"
                ))),
            ]
        }),
    }
}

/// Namespaces: STATUS is the phase.
pub fn namespace_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Status", "string"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|ns, ctx| {
            vec![
                name(ns),
                json!(text(ns, "/status/phase")),
                json!(ctx.age_of(ns)),
            ]
        }),
    }
}

/// Services: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), and the selector with `-o wide`.
pub fn service_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Type", "string"),
            col("Cluster-IP", "string"),
            col("External-IP", "string"),
            col("Port(s)", "string"),
            col("Age", "string"),
            wide("Selector", "string"),
        ],
        row: RowFn::Value(|svc, ctx| {
            let kind = text(svc, "/spec/type");
            let external_ips: Vec<&str> = svc
                .at("/spec/externalIPs")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let external = match kind {
                "ExternalName" => text(svc, "/spec/externalName").to_string(),
                "LoadBalancer" => {
                    let mut ips: Vec<String> = svc
                        .at("/status/loadBalancer/ingress")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|i| {
                                    i["ip"]
                                        .as_str()
                                        .or(i["hostname"].as_str())
                                        .map(String::from)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    ips.extend(external_ips.iter().map(|s| s.to_string()));
                    if ips.is_empty() {
                        "<pending>".into()
                    } else {
                        ips.join(",")
                    }
                }
                _ => or_none(&external_ips.join(",")),
            };
            let ports: Vec<String> = svc
                .at("/spec/ports")
                .and_then(Value::as_array)
                .map(|ports| {
                    ports
                        .iter()
                        .map(|p| {
                            let protocol = p["protocol"].as_str().unwrap_or("TCP");
                            match p["nodePort"].as_i64() {
                                Some(node_port) => format!("{}:{node_port}/{protocol}", p["port"]),
                                None => format!("{}/{protocol}", p["port"]),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            vec![
                name(svc),
                json!(kind),
                json!(or_none(text(svc, "/spec/clusterIP"))),
                json!(external),
                json!(or_none(&ports.join(","))),
                json!(ctx.age_of(svc)),
                json!(map_string(svc.at("/spec/selector"))),
            ]
        }),
    }
}

/// ConfigMaps: DATA counts `data` and `binaryData` keys.
pub fn configmap_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Data", "integer"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|cm, ctx| {
            vec![
                name(cm),
                json!(count(cm, "/data") + count(cm, "/binaryData")),
                json!(ctx.age_of(cm)),
            ]
        }),
    }
}

/// Secrets: TYPE and DATA.
pub fn secret_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Type", "string"),
            col("Data", "integer"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|s, ctx| {
            vec![
                name(s),
                json!(text(s, "/type")),
                json!(count(s, "/data") + count(s, "/stringData")),
                json!(ctx.age_of(s)),
            ]
        }),
    }
}

/// ServiceAccounts: SECRETS counts referenced secrets.
pub fn serviceaccount_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Secrets", "integer"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|sa, ctx| {
            let secrets = sa
                .at("/secrets")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            vec![name(sa), json!(secrets), json!(ctx.age_of(sa))]
        }),
    }
}
