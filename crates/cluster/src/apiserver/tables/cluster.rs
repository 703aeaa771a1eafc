//! Printers for events, networking, policy, quota, storage, coordination,
//! scheduling and RBAC kinds.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::age::age;
use super::{col, int, or_none, text, wide, PrintContext, Printer, RowFn};

fn name(obj: &Value) -> Value {
    json!(text(obj, "/metadata/name"))
}

fn created_at(obj: &Value) -> Value {
    obj.at("/metadata/creationTimestamp")
        .cloned()
        .unwrap_or(Value::Null)
}

/// Core events (and events.k8s.io events, mapped to the core fields first).
pub fn event_printer() -> Printer {
    Printer {
        columns: vec![
            col("Last Seen", "string"),
            col("Type", "string"),
            col("Reason", "string"),
            col("Object", "string"),
            wide("Subobject", "string"),
            wide("Source", "string"),
            col("Message", "string"),
            wide("First Seen", "string"),
            wide("Count", "integer"),
            wide("Name", "string"),
        ],
        row: RowFn::Value(event_row),
    }
}

/// The core/v1 view of an events.k8s.io/v1 event, as upstream converts it.
fn as_core_event(ev: &Value) -> Value {
    if ev.get("apiVersion") != Some(&json!("events.k8s.io/v1")) {
        return ev.clone();
    }
    json!({
        "metadata": ev["metadata"],
        "involvedObject": ev.get("regarding").cloned().unwrap_or(json!({})),
        "reason": ev["reason"],
        "message": ev.get("note").cloned().unwrap_or(json!("")),
        "type": ev["type"],
        "firstTimestamp": ev.get("deprecatedFirstTimestamp").cloned().unwrap_or(Value::Null),
        "lastTimestamp": ev.get("deprecatedLastTimestamp").cloned().unwrap_or(Value::Null),
        "count": ev.get("deprecatedCount").cloned().unwrap_or(json!(0)),
        "source": ev.get("deprecatedSource").cloned().unwrap_or(json!({})),
        "eventTime": ev["eventTime"],
        "series": ev.get("series").cloned().unwrap_or(Value::Null),
        "reportingComponent": ev.get("reportingController").cloned().unwrap_or(json!("")),
        "reportingInstance": ev.get("reportingInstance").cloned().unwrap_or(json!("")),
    })
}

fn event_row(ev: &Value, ctx: &PrintContext) -> Vec<Value> {
    let ev = as_core_event(ev);
    let stamp = |pointer: &str| {
        ev.at(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let first = stamp("/firstTimestamp")
        .or_else(|| stamp("/eventTime"))
        .map_or("<unknown>".to_string(), |t| age(Some(t), ctx.now_unix_ms));
    let mut last = stamp("/lastTimestamp").map_or(first.clone(), |t| age(Some(t), ctx.now_unix_ms));
    let mut count = int(&ev, "/count");
    if ev.get("series").is_some_and(|s| s.is_object()) {
        last = age(stamp("/series/lastObservedTime"), ctx.now_unix_ms);
        count = int(&ev, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = text(&ev, "/involvedObject/kind").to_ascii_lowercase();
    let involved = text(&ev, "/involvedObject/name");
    let target = if involved.is_empty() {
        kind
    } else {
        format!("{kind}/{involved}")
    };
    let component = match text(&ev, "/source/component") {
        "" => text(&ev, "/reportingComponent"),
        c => c,
    };
    let mut source = vec![component.to_string()];
    match (text(&ev, "/source/host"), text(&ev, "/reportingInstance")) {
        (host, _) if !host.is_empty() => source.push(host.to_string()),
        (_, instance) if !instance.is_empty() => source.push(instance.to_string()),
        _ => {}
    }
    vec![
        json!(last),
        json!(text(&ev, "/type")),
        json!(text(&ev, "/reason")),
        json!(target),
        json!(text(&ev, "/involvedObject/fieldPath")),
        json!(source.join(", ")),
        json!(text(&ev, "/message").trim()),
        json!(first),
        json!(count),
        json!(text(&ev, "/metadata/name")),
    ]
}

/// Joins up to three entries and says how many more there are (`a,b,c + 2 more...`).
fn first_three(list: Vec<String>, total: usize, empty: &str) -> String {
    if list.is_empty() {
        return empty.to_string();
    }
    let shown = list.len().min(3);
    let joined = list[..shown].join(",");
    if total > shown {
        format!("{joined} + {} more...", total - shown)
    } else {
        joined
    }
}

/// Endpoints: `ip:port` pairs, at most three.
pub fn endpoints_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Endpoints", "string"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|ep, ctx| {
            let mut list = Vec::new();
            let mut total = 0;
            for subset in ep
                .at("/subsets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let addresses: Vec<&str> = subset["addresses"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x["ip"].as_str()).collect())
                    .unwrap_or_default();
                match subset["ports"].as_array().filter(|p| !p.is_empty()) {
                    None => {
                        total += addresses.len();
                        list.extend(addresses.iter().map(|a| a.to_string()));
                    }
                    Some(ports) => {
                        for port in ports {
                            total += addresses.len();
                            list.extend(addresses.iter().map(|a| format!("{a}:{}", port["port"])));
                        }
                    }
                }
            }
            vec![
                name(ep),
                json!(first_three(list, total, "<none>")),
                json!(ctx.age_of(ep)),
            ]
        }),
    }
}

/// EndpointSlices: ADDRESSTYPE, PORTS, ENDPOINTS.
pub fn endpointslice_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("AddressType", "string"),
            col("Ports", "string"),
            col("Endpoints", "string"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|slice, ctx| {
            let ports: Vec<String> = slice
                .at("/ports")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .map(|p| {
                            p["port"]
                                .as_i64()
                                .map_or("<unset>".to_string(), |n| n.to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let addresses: Vec<String> = slice
                .at("/endpoints")
                .and_then(Value::as_array)
                .map(|e| {
                    e.iter()
                        .flat_map(|e| e["addresses"].as_array().cloned().unwrap_or_default())
                        .filter_map(|a| a.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let total = addresses.len();
            vec![
                name(slice),
                json!(text(slice, "/addressType")),
                json!(if ports.is_empty() {
                    "<unset>".to_string()
                } else {
                    ports.join(",")
                }),
                json!(first_three(addresses, total, "<unset>")),
                json!(ctx.age_of(slice)),
            ]
        }),
    }
}

/// Kinds upstream prints as NAME and CREATED AT (LimitRanges, Roles, ClusterRoles).
pub fn created_at_printer() -> Printer {
    Printer {
        columns: vec![col("Name", "string"), col("Created At", "date")],
        row: RowFn::Value(|obj, _| vec![name(obj), created_at(obj)]),
    }
}

/// ResourceQuotas: REQUEST and LIMIT as `used/hard` per resource.
pub fn resourcequota_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Age", "string"),
            col("Request", "string"),
            col("Limit", "string"),
        ],
        row: RowFn::Value(|quota, ctx| {
            let hard = quota
                .at("/status/hard")
                .or(quota.at("/spec/hard"))
                .and_then(Value::as_object);
            let used = quota.at("/status/used").and_then(Value::as_object);
            let mut requests = Vec::new();
            let mut limits = Vec::new();
            let mut names: Vec<&String> = hard.map(|h| h.keys().collect()).unwrap_or_default();
            names.sort();
            for resource in names {
                let hard_value = hard.and_then(|h| h[resource].as_str()).unwrap_or("0");
                let used_value = used
                    .and_then(|u| u.get(resource))
                    .and_then(Value::as_str)
                    .unwrap_or("0");
                let entry = format!("{resource}: {used_value}/{hard_value}");
                if resource.starts_with("limits.") {
                    limits.push(entry);
                } else {
                    requests.push(entry);
                }
            }
            vec![
                name(quota),
                json!(ctx.age_of(quota)),
                json!(requests.join(", ")),
                json!(limits.join(", ")),
            ]
        }),
    }
}

/// PersistentVolumeClaims.
pub fn pvc_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Status", "string"),
            col("Volume", "string"),
            col("Capacity", "string"),
            col("Access Modes", "string"),
            col("StorageClass", "string"),
            col("VolumeAttributesClass", "string"),
            col("Age", "string"),
            wide("VolumeMode", "string"),
        ],
        row: RowFn::Value(|pvc, ctx| {
            let modes: Vec<&str> = pvc
                .at("/status/accessModes")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(Value::as_str)
                        .map(|m| match m {
                            "ReadWriteOnce" => "RWO",
                            "ReadOnlyMany" => "ROX",
                            "ReadWriteMany" => "RWX",
                            "ReadWriteOncePod" => "RWOP",
                            other => other,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let bound = !text(pvc, "/spec/volumeName").is_empty();
            let capacity = if bound {
                text(pvc, "/status/capacity/storage")
            } else {
                ""
            };
            // Upstream prints a claim being deleted as Terminating, whatever its phase.
            let status = if pvc.at("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                text(pvc, "/status/phase")
            };
            vec![
                name(pvc),
                json!(status),
                json!(text(pvc, "/spec/volumeName")),
                json!(capacity),
                json!(modes.join(",")),
                json!(text(pvc, "/spec/storageClassName")),
                json!(or_none(text(pvc, "/spec/volumeAttributesClassName"))),
                json!(ctx.age_of(pvc)),
                json!(or_none(text(pvc, "/spec/volumeMode"))),
            ]
        }),
    }
}

/// Leases: HOLDER.
pub fn lease_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Holder", "string"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|lease, ctx| {
            let holder = lease
                .at("/spec/holderIdentity")
                .and_then(Value::as_str)
                .unwrap_or("<unknown>");
            vec![name(lease), json!(holder), json!(ctx.age_of(lease))]
        }),
    }
}

/// PriorityClasses: VALUE, GLOBAL-DEFAULT, PREEMPTIONPOLICY.
pub fn priorityclass_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Value", "integer"),
            col("Global-Default", "boolean"),
            col("Age", "string"),
            col("PreemptionPolicy", "string"),
        ],
        row: RowFn::Value(|pc, ctx| {
            vec![
                name(pc),
                json!(int(pc, "/value")),
                json!(pc
                    .at("/globalDefault")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)),
                json!(ctx.age_of(pc)),
                json!(pc
                    .at("/preemptionPolicy")
                    .and_then(Value::as_str)
                    .unwrap_or("<unset>")),
            ]
        }),
    }
}

/// RoleBindings and ClusterRoleBindings: ROLE, and subjects with `-o wide`.
pub fn binding_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Role", "string"),
            col("Age", "string"),
            wide("Users", "string"),
            wide("Groups", "string"),
            wide("ServiceAccounts", "string"),
        ],
        row: RowFn::Value(|binding, ctx| {
            let subjects = binding
                .at("/subjects")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let of_kind = |kind: &str| -> String {
                subjects
                    .iter()
                    .filter(|s| s["kind"] == kind)
                    .map(|s| match (kind, s["namespace"].as_str()) {
                        ("ServiceAccount", Some(ns)) => {
                            format!("{ns}/{}", s["name"].as_str().unwrap_or(""))
                        }
                        _ => s["name"].as_str().unwrap_or("").to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            vec![
                name(binding),
                json!(format!(
                    "{}/{}",
                    text(binding, "/roleRef/kind"),
                    text(binding, "/roleRef/name")
                )),
                json!(ctx.age_of(binding)),
                json!(of_kind("User")),
                json!(of_kind("Group")),
                json!(of_kind("ServiceAccount")),
            ]
        }),
    }
}

/// PodDisruptionBudgets: MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS.
pub fn pdb_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Min Available", "string"),
            col("Max Unavailable", "string"),
            col("Allowed Disruptions", "integer"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|pdb, ctx| {
            let show = |pointer: &str| match pdb.at(pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => "N/A".to_string(),
            };
            vec![
                name(pdb),
                json!(show("/spec/minAvailable")),
                json!(show("/spec/maxUnavailable")),
                json!(int(pdb, "/status/disruptionsAllowed")),
                json!(ctx.age_of(pdb)),
            ]
        }),
    }
}

/// ControllerRevisions: CONTROLLER (`kind.group/name` of the controlling owner) and REVISION.
pub fn controllerrevision_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Controller", "string"),
            col("Revision", "integer"),
            col("Age", "string"),
        ],
        row: RowFn::Value(|rev, ctx| {
            let controller = rev
                .at("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|owners| owners.iter().find(|o| o["controller"] == true))
                .map_or("<none>".to_string(), |o| {
                    let group = o["apiVersion"]
                        .as_str()
                        .unwrap_or("")
                        .split('/')
                        .rev()
                        .nth(1)
                        .unwrap_or("");
                    let kind = o["kind"].as_str().unwrap_or("").to_ascii_lowercase();
                    let name = o["name"].as_str().unwrap_or("");
                    if group.is_empty() {
                        format!("{kind}/{name}")
                    } else {
                        format!("{kind}.{group}/{name}")
                    }
                });
            vec![
                name(rev),
                json!(controller),
                json!(int(rev, "/revision")),
                json!(ctx.age_of(rev)),
            ]
        }),
    }
}
