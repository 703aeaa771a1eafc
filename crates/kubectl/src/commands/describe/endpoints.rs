//! The Endpoints and EndpointSlice describers, as upstream's `describeEndpoints`
//! (each subset's ready and not-ready addresses and ports) and
//! `describeEndpointSliceV1` (address type, ports, and each endpoint's addresses,
//! readiness, hostname, target, node and zone, `<unset>` where absent).

use serde_json::Value;

use super::{annotations, events, labels, strings, text, Writer};

/// The header lines both describers start with.
fn header(w: &mut Writer, obj: &Value) {
    w.write(0, &format!("Name:\t{}\n", text(obj, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(obj, "/metadata/namespace")),
    );
    labels(w, "Labels", obj.pointer("/metadata/labels"));
    annotations(w, obj.pointer("/metadata/annotations"));
}

/// The IPs of an address list joined with `,`, or `<none>`.
fn ips(addresses: Option<&Value>) -> String {
    let joined = addresses
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a["ip"].as_str())
        .collect::<Vec<_>>()
        .join(",");
    if joined.is_empty() {
        "<none>".into()
    } else {
        joined
    }
}

/// The `Name  Port  Protocol` table at `level`: unnamed ports (and slice ports
/// without a number) print `<unset>`.
fn ports_table(w: &mut Writer, level: usize, ports: &[Value]) {
    w.write(level, "Name\tPort\tProtocol\n");
    w.write(level, "----\t----\t--------\n");
    for port in ports {
        let name = port["name"].as_str().filter(|n| !n.is_empty());
        w.write(
            level,
            &format!(
                "{}\t{}\t{}\n",
                name.unwrap_or("<unset>"),
                or_unset(&port["port"]),
                port["protocol"].as_str().unwrap_or("")
            ),
        );
    }
}

/// `kubectl describe endpoints`.
pub(super) fn describe_endpoints(endpoints: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    header(&mut w, endpoints);
    w.write(0, "Subsets:\n");
    for subset in endpoints["subsets"].as_array().into_iter().flatten() {
        w.write(
            1,
            &format!("Addresses:\t{}\n", ips(subset.get("addresses"))),
        );
        w.write(
            1,
            &format!(
                "NotReadyAddresses:\t{}\n",
                ips(subset.get("notReadyAddresses"))
            ),
        );
        if let Some(ports) = subset["ports"].as_array().filter(|p| !p.is_empty()) {
            w.write(1, "Ports:\n");
            ports_table(&mut w, 2, ports);
        }
        w.write(0, "\n");
    }
    events(&mut w, event_list, now_ms);
    w.finish()
}

/// A string field, or `<unset>` when absent.
fn or_unset(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "<unset>".into(),
    }
}

/// `kubectl describe endpointslice`.
pub(super) fn describe_endpoint_slice(slice: &Value, event_list: &[Value], now_ms: i64) -> String {
    let mut w = Writer::default();
    header(&mut w, slice);
    w.write(
        0,
        &format!("AddressType:\t{}\n", text(slice, "/addressType")),
    );
    match slice["ports"].as_array().filter(|p| !p.is_empty()) {
        None => w.write(0, "Ports: <unset>\n"),
        Some(ports) => {
            w.write(0, "Ports:\n");
            ports_table(&mut w, 1, ports);
        }
    }
    match slice["endpoints"].as_array().filter(|e| !e.is_empty()) {
        None => w.write(0, "Endpoints: <none>\n"),
        Some(endpoints) => {
            w.write(0, "Endpoints:\n");
            for endpoint in endpoints {
                let addresses = strings(&endpoint["addresses"]).join(", ");
                let addresses = if addresses.is_empty() {
                    "<none>".to_string()
                } else {
                    addresses
                };
                w.write(1, &format!("- Addresses:\t{addresses}\n"));
                w.write(2, "Conditions:\n");
                w.write(
                    3,
                    &format!("Ready:\t{}\n", or_unset(&endpoint["conditions"]["ready"])),
                );
                w.write(
                    2,
                    &format!("Hostname:\t{}\n", or_unset(&endpoint["hostname"])),
                );
                if let Some(target) = endpoint.get("targetRef").filter(|t| t.is_object()) {
                    w.write(
                        2,
                        &format!(
                            "TargetRef:\t{}/{}\n",
                            text(target, "/kind"),
                            text(target, "/name")
                        ),
                    );
                }
                w.write(
                    2,
                    &format!("NodeName:\t{}\n", or_unset(&endpoint["nodeName"])),
                );
                w.write(2, &format!("Zone:\t{}\n", or_unset(&endpoint["zone"])));
            }
        }
    }
    events(&mut w, event_list, now_ms);
    w.finish()
}
