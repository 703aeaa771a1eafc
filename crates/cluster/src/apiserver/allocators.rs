//! Service ClusterIPs (from 10.96.0.0/12) and NodePorts (30000-32767), allocated
//! with the world's RNG and released when a Service goes away.

use crate::api::json_path::ValueExt;
use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::api::status::FieldError;
use crate::sim::rng::SeededRng;

/// The first address of the service CIDR, 10.96.0.0.
const SERVICE_CIDR_BASE: u32 = (10 << 24) | (96 << 16);
/// The service CIDR's size (a /12).
const SERVICE_CIDR_SIZE: u32 = 1 << 20;
/// The NodePort range, inclusive.
const NODE_PORTS: (u16, u16) = (30000, 32767);

fn ip_text(ip: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

fn parse_ip(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (parts.len() == 4 && parts.iter().all(|p| *p < 256))
        .then(|| (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3])
}

/// The ClusterIP and node ports a stored Service holds.
fn service_allocations(svc: &Value) -> (Option<u32>, Vec<u16>) {
    let ip = svc
        .at("/spec/clusterIP")
        .and_then(Value::as_str)
        .and_then(parse_ip);
    let ports = svc
        .at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .map(|p| p as u16)
        .collect();
    (ip, ports)
}

/// Allocated ClusterIPs and NodePorts.
#[derive(Clone, Default)]
pub struct Allocators {
    cluster_ips: BTreeSet<u32>,
    node_ports: BTreeSet<u16>,
}

impl Allocators {
    /// A copy whose allocations do not affect the real pools (for dry runs).
    pub fn clone_for_dry_run(&self) -> Self {
        self.clone()
    }

    /// Assigns `spec.clusterIP(s)` and node ports to a new Service, or explains why not.
    pub fn allocate_service(
        &mut self,
        svc: &mut Value,
        rng: &mut SeededRng,
    ) -> Result<(), Vec<FieldError>> {
        let kind = svc
            .at("/spec/type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        let mut errors = Vec::new();
        let mut new_ip = None;
        if kind != "ExternalName" {
            let requested = svc
                .at("/spec/clusterIP")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if requested == "None" {
                svc["spec"]["clusterIPs"] = json!(["None"]);
            } else if requested.is_empty() {
                let ip = self.free_ip(rng);
                new_ip = Some(ip);
                svc["spec"]["clusterIP"] = json!(ip_text(ip));
                svc["spec"]["clusterIPs"] = json!([ip_text(ip)]);
            } else {
                let value = json!([requested.clone()]);
                match parse_ip(&requested) {
                    Some(ip) if (SERVICE_CIDR_BASE..SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE).contains(&ip) => {
                        if self.cluster_ips.contains(&ip) {
                            errors.push(FieldError::invalid(
                                "spec.clusterIPs",
                                &Value::String(format!("[]string{{{requested:?}}}")),
                                &format!("failed to allocate IP {requested}: provided IP is already allocated"),
                            ));
                        } else {
                            new_ip = Some(ip);
                            svc["spec"]["clusterIPs"] = value;
                        }
                    }
                    _ => errors.push(FieldError::invalid(
                        "spec.clusterIPs",
                        &Value::String(format!("[]string{{{requested:?}}}")),
                        &format!("failed to allocate IP {requested}: provided IP ({requested}) is not in the valid range. The range of valid IPs is 10.96.0.0/12"),
                    )),
                }
            }
        }
        let mut new_ports = Vec::new();
        if kind == "NodePort" || kind == "LoadBalancer" {
            let count = svc
                .at("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                let field = format!("spec.ports[{i}].nodePort");
                match svc["spec"]["ports"][i]
                    .get("nodePort")
                    .and_then(Value::as_i64)
                {
                    Some(port) if !(NODE_PORTS.0 as i64..=NODE_PORTS.1 as i64).contains(&port) => {
                        errors.push(FieldError::invalid(&field, &json!(port), "provided port is not in the valid range. The range of valid ports is 30000-32767"));
                    }
                    Some(port)
                        if self.node_ports.contains(&(port as u16))
                            || new_ports.contains(&(port as u16)) =>
                    {
                        errors.push(FieldError::invalid(
                            &field,
                            &json!(port),
                            "provided port is already allocated",
                        ));
                    }
                    Some(port) => new_ports.push(port as u16),
                    None => {
                        let port = self.free_port(rng, &new_ports);
                        new_ports.push(port);
                        svc["spec"]["ports"][i]["nodePort"] = json!(port);
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.cluster_ips.extend(new_ip);
        self.node_ports.extend(new_ports);
        Ok(())
    }

    /// Marks a stored Service's ClusterIP and node ports as taken (when restoring a snapshot).
    pub fn reserve_service(&mut self, svc: &Value) {
        let (ip, ports) = service_allocations(svc);
        self.cluster_ips.extend(ip);
        self.node_ports.extend(ports);
    }

    /// Returns a deleted Service's ClusterIP and node ports to the pools.
    pub fn release_service(&mut self, svc: &Value) {
        let (ip, ports) = service_allocations(svc);
        if let Some(ip) = ip {
            self.cluster_ips.remove(&ip);
        }
        for port in ports {
            self.node_ports.remove(&port);
        }
    }

    fn free_ip(&self, rng: &mut SeededRng) -> u32 {
        loop {
            // Skip the network address and .1, which the `kubernetes` Service holds.
            let ip = SERVICE_CIDR_BASE + 2 + rng.below((SERVICE_CIDR_SIZE - 3) as u64) as u32;
            if !self.cluster_ips.contains(&ip) {
                return ip;
            }
        }
    }

    fn free_port(&self, rng: &mut SeededRng, taken: &[u16]) -> u16 {
        loop {
            let port = rng.between(NODE_PORTS.0 as u64, NODE_PORTS.1 as u64) as u16;
            if !self.node_ports.contains(&port) && !taken.contains(&port) {
                return port;
            }
        }
    }
}
