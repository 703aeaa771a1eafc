//! Services: RFC 1035 names, upstream's defaults and port validation.
//! ClusterIP and NodePort allocation happens in [`crate::apiserver::allocators`].

use crate::api::json_path::ValueExt;
use k8s_openapi::api::core::v1::{ClientIPConfig, Service, SessionAffinityConfig};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Value};

use super::{typed, Source, Strategy, UnknownFields};
use crate::api::names::NameRule;
use crate::api::status::FieldError;
use crate::session_affinity::DEFAULT_TIMEOUT_SECONDS;

/// The strategy for `services`.
pub struct ServiceStrategy;

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const SESSION_AFFINITIES: &[&str] = &["ClientIP", "None"];
/// Upstream's `MaxClientIPServiceAffinitySeconds`.
const MAX_AFFINITY_SECONDS: i64 = 86_400;

impl Strategy for ServiceStrategy {
    fn name_rule(&self) -> NameRule {
        NameRule::Dns1035Label
    }

    fn normalize(&self, obj: Source, unknown: &mut UnknownFields) -> Result<Value, String> {
        typed::<Service>(obj, unknown, |svc| {
            let spec = svc.spec.get_or_insert_with(Default::default);
            let kind = spec.type_.get_or_insert_with(|| "ClusterIP".into()).clone();
            let affinity = spec
                .session_affinity
                .get_or_insert_with(|| "None".into())
                .clone();
            match affinity.as_str() {
                "None" => spec.session_affinity_config = None,
                "ClientIP" => {
                    let timeout = spec
                        .session_affinity_config
                        .as_ref()
                        .and_then(|c| c.client_ip.as_ref())
                        .and_then(|c| c.timeout_seconds);
                    if timeout.is_none() {
                        spec.session_affinity_config = Some(SessionAffinityConfig {
                            client_ip: Some(ClientIPConfig {
                                timeout_seconds: Some(DEFAULT_TIMEOUT_SECONDS),
                            }),
                        });
                    }
                }
                _ => {}
            }
            if kind != "ExternalName" {
                spec.internal_traffic_policy
                    .get_or_insert_with(|| "Cluster".into());
                spec.ip_families.get_or_insert_with(|| vec!["IPv4".into()]);
                spec.ip_family_policy
                    .get_or_insert_with(|| "SingleStack".into());
            }
            if kind == "NodePort" || kind == "LoadBalancer" {
                spec.external_traffic_policy
                    .get_or_insert_with(|| "Cluster".into());
            }
            if kind == "LoadBalancer" {
                spec.allocate_load_balancer_node_ports.get_or_insert(true);
            }
            for port in spec.ports.iter_mut().flatten() {
                port.protocol.get_or_insert_with(|| "TCP".into());
                if port.target_port.is_none() {
                    port.target_port = Some(IntOrString::Int(port.port));
                }
            }
        })
    }

    fn prepare_for_create(&self, obj: &mut Value, _has_status: bool) {
        obj["status"] = json!({"loadBalancer": {}});
    }

    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
        let kind = spec.get("type").cloned().unwrap_or(json!("ClusterIP"));
        if !SERVICE_TYPES.contains(&kind.as_str().unwrap_or("")) {
            errors.push(FieldError::not_supported("spec.type", &kind, SERVICE_TYPES));
        }
        let affinity = spec
            .get("sessionAffinity")
            .cloned()
            .unwrap_or(json!("None"));
        if !SESSION_AFFINITIES.contains(&affinity.as_str().unwrap_or("")) {
            errors.push(FieldError::not_supported(
                "spec.sessionAffinity",
                &affinity,
                SESSION_AFFINITIES,
            ));
        }
        let timeout = spec
            .at("/sessionAffinityConfig/clientIP/timeoutSeconds")
            .and_then(Value::as_i64);
        if let Some(timeout) = timeout.filter(|t| *t <= 0 || *t > MAX_AFFINITY_SECONDS) {
            errors.push(FieldError::invalid(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                &json!(timeout),
                &format!("must be greater than 0 and less than {MAX_AFFINITY_SECONDS}"),
            ));
        }
        let ports = spec
            .get("ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
        if ports.is_empty() && kind != "ExternalName" && !headless {
            errors.push(FieldError::required("spec.ports", ""));
        }
        for (i, port) in ports.iter().enumerate() {
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=65535).contains(&number) {
                errors.push(FieldError::invalid(
                    format!("spec.ports[{i}].port"),
                    &json!(number),
                    "must be between 1 and 65535, inclusive",
                ));
            }
            if ports.len() > 1
                && port
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
            {
                errors.push(FieldError::required(format!("spec.ports[{i}].name"), ""));
            }
        }
        errors
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errors = self.validate(new);
        let old_ip = old.at("/spec/clusterIP");
        let new_ip = new.at("/spec/clusterIP");
        if old_ip.is_some() && new_ip.is_some() && old_ip != new_ip {
            errors.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                new_ip.unwrap_or(&Value::Null),
                "may not change once set",
            ));
        }
        errors
    }

    fn returns_deleted_object(&self) -> bool {
        true
    }
}
