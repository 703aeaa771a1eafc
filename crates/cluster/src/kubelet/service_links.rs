//! The Service links the kubelet puts in every container's environment
//! (upstream's `getServiceEnvVarMap` and `envvars.FromServices`): for the
//! `kubernetes` Service in `default` always, and for each Service of the pod's
//! namespace unless `enableServiceLinks` is false, `{SVC}_SERVICE_HOST`,
//! `{SVC}_SERVICE_PORT` (and one per named port) and Docker's link variables
//! (`{SVC}_PORT=tcp://10.96.0.1:443`, `{SVC}_PORT_443_TCP_ADDR`, ...).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;

use super::env::Variables;

/// The Services of the control plane, linked into pods of every namespace.
const MASTER_SERVICES: &[&str] = &["kubernetes"];
/// The namespace of the control plane's Services.
const MASTER_NAMESPACE: &str = "default";

/// The link variables of the Services a pod in `namespace` sees, from all the
/// Services the kubelet knows.
pub fn service_links<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    namespace: &str,
    enable: bool,
) -> Variables {
    // By name: a Service of the pod's own namespace wins over the master one.
    let mut linked: BTreeMap<&str, &Service> = BTreeMap::new();
    for service in services {
        if cluster_ip(service).is_none() {
            continue;
        }
        let name = service.metadata.name.as_deref().unwrap_or("");
        let service_namespace = service.metadata.namespace.as_deref().unwrap_or("");
        if service_namespace == MASTER_NAMESPACE && MASTER_SERVICES.contains(&name) {
            linked.entry(name).or_insert(service);
        } else if service_namespace == namespace && enable {
            linked.insert(name, service);
        }
    }
    let mut variables = Variables::new();
    for service in linked.values() {
        add_variables(service, &mut variables);
    }
    variables
}

/// The Service's cluster IP when it has one (not headless, not ExternalName).
fn cluster_ip(service: &Service) -> Option<&str> {
    let ip = service.spec.as_ref()?.cluster_ip.as_deref()?;
    (!ip.is_empty() && ip != "None").then_some(ip)
}

/// A Service or port name as a variable name: upper case, `-` and `.` as `_`, and
/// `_` in front of a leading digit.
fn variable_name(name: &str) -> String {
    let upper = name.replace(['.', '-'], "_").to_ascii_uppercase();
    if upper.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{upper}")
    } else {
        upper
    }
}

/// The variables of one Service with a cluster IP.
fn add_variables(service: &Service, variables: &mut Variables) {
    let Some(ip) = cluster_ip(service) else {
        return;
    };
    let ports = service.spec.as_ref().and_then(|s| s.ports.as_deref());
    let Some(first) = ports.and_then(|p| p.first()) else {
        return;
    };
    let prefix = variable_name(service.metadata.name.as_deref().unwrap_or(""));
    let mut set = |name: String, value: String| {
        variables.insert(name, value);
    };
    set(format!("{prefix}_SERVICE_HOST"), ip.to_string());
    set(format!("{prefix}_SERVICE_PORT"), first.port.to_string());
    for port in ports.into_iter().flatten() {
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let variable = format!("{prefix}_SERVICE_PORT_{}", variable_name(name));
            set(variable, port.port.to_string());
        }
    }
    for (i, port) in ports.into_iter().flatten().enumerate() {
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        let lower = protocol.to_ascii_lowercase();
        let url = format!("{lower}://{ip}:{}", port.port);
        if i == 0 {
            set(format!("{prefix}_PORT"), url.clone());
        }
        let port_prefix = format!(
            "{prefix}_PORT_{}_{}",
            port.port,
            protocol.to_ascii_uppercase()
        );
        set(format!("{port_prefix}_PROTO"), lower);
        set(format!("{port_prefix}_PORT"), port.port.to_string());
        set(format!("{port_prefix}_ADDR"), ip.to_string());
        set(port_prefix, url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn service(namespace: &str, name: &str, ip: &str, ports: serde_json::Value) -> Arc<Service> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"clusterIP": ip, "ports": ports}
            }))
            .unwrap(),
        )
    }

    fn kubernetes() -> Arc<Service> {
        service(
            "default",
            "kubernetes",
            "10.96.0.1",
            json!([{"name": "https", "port": 443, "protocol": "TCP"}]),
        )
    }

    #[test]
    fn the_kubernetes_service_is_linked_in_every_namespace() {
        let links = service_links([kubernetes()].iter().map(|s| &**s), "shop", false);
        let expected = [
            ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
            ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"),
            ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
            ("KUBERNETES_PORT_443_TCP_PORT", "443"),
            ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
            ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
            ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
        ];
        let expected: Variables = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(links, expected);
    }

    #[test]
    fn services_of_the_pod_s_namespace_unless_links_are_off() {
        let services = [
            kubernetes(),
            service(
                "shop",
                "redis-primary",
                "10.96.0.11",
                json!([{"port": 6379}, {"name": "metrics", "port": 9121, "protocol": "TCP"}]),
            ),
            service("other", "web", "10.96.0.12", json!([{"port": 80}])),
            service("shop", "headless", "None", json!([{"port": 80}])),
            service(
                "shop",
                "3rd-party",
                "10.96.0.13",
                json!([{"port": 53, "protocol": "UDP"}]),
            ),
        ];
        let links = service_links(services.iter().map(|s| &**s), "shop", true);
        assert_eq!(links["REDIS_PRIMARY_SERVICE_HOST"], "10.96.0.11");
        assert_eq!(links["REDIS_PRIMARY_SERVICE_PORT"], "6379");
        assert_eq!(links["REDIS_PRIMARY_SERVICE_PORT_METRICS"], "9121");
        assert_eq!(links["REDIS_PRIMARY_PORT"], "tcp://10.96.0.11:6379");
        assert_eq!(links["REDIS_PRIMARY_PORT_9121_TCP_ADDR"], "10.96.0.11");
        assert_eq!(links["_3RD_PARTY_PORT_53_UDP"], "udp://10.96.0.13:53");
        assert_eq!(links["_3RD_PARTY_PORT_53_UDP_PROTO"], "udp");
        assert!(!links
            .keys()
            .any(|k| k.starts_with("WEB_") || k.starts_with("HEADLESS_")));
        let off = service_links(services.iter().map(|s| &**s), "shop", false);
        assert!(off.keys().all(|k| k.starts_with("KUBERNETES_")), "{off:?}");
    }

    #[test]
    fn a_kubernetes_service_of_the_pod_s_namespace_wins() {
        let own = service("shop", "kubernetes", "10.96.0.99", json!([{"port": 8080}]));
        for services in [[kubernetes(), own.clone()], [own.clone(), kubernetes()]] {
            let links = service_links(services.iter().map(|s| &**s), "shop", true);
            assert_eq!(links["KUBERNETES_SERVICE_HOST"], "10.96.0.99");
        }
    }
}
