//! An HTTP request from the control-plane node to a Service (or a pod IP), routed
//! as the cluster's data plane routes it: CoreDNS resolves the name (`web`,
//! `web.team`, `web.team.svc`, `web.team.svc.cluster.local`) or the ClusterIP is
//! given, or a node's IP (`localhost` for the control plane) with a NodePort;
//! kube-proxy picks one of the Service's ready endpoints at random, as its
//! iptables rules do (serving terminating ones when none is ready), or with
//! `sessionAffinity: ClientIP` the one the client reached last; the pod's
//! container answers as its image would, and a web server prints its access line,
//! which `kubectl logs` then shows. Through a NodePort, `externalTrafficPolicy:
//! Cluster` masquerades the client as the receiving node, and `Local` keeps the
//! client's address but serves only endpoints on that node (none: the packets are
//! dropped and the connection times out).
//!
//! The lookups are API reads traced as `coredns` and `kube-proxy`; failures are
//! curl's messages.

use k8s_openapi::api::core::v1::{Container, Node, Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::Request;
use crate::kubelet::behaviour::{image_name, listener, speaks_http, Listener};
use crate::session_affinity::DEFAULT_TIMEOUT_SECONDS;
use crate::sim::World;

/// The cluster's DNS domain.
const CLUSTER_DOMAIN: &str = "cluster.local";
/// The client's `User-Agent`.
const USER_AGENT: &str = "curl/8.5.0";
/// The node requests come from.
const CLIENT_NODE: &str = "control-plane";
/// How long a connection whose packets are dropped takes to fail: Linux's six SYN
/// retransmissions, 1 s doubling, then the last wait.
const CONNECT_TIMEOUT_MS: u64 = 127_000;

/// An endpoint kube-proxy may send a request to: (ip, target port, pod namespace/name).
type Endpoint = (String, i32, String);

/// A node that received a request on a NodePort: its name and InternalIP.
struct ReceivingNode {
    name: String,
    ip: String,
}

/// How kube-proxy forwards a request for a Service.
struct ServiceRoute {
    service: Service,
    /// The Service port (not the NodePort) and its name.
    port: i32,
    port_name: String,
    /// With `externalTrafficPolicy: Local`, the node whose endpoints alone serve.
    local_to: Option<String>,
    /// With `Cluster` through a NodePort, the address the client is masqueraded as.
    masquerade_as: Option<String>,
}

impl ServiceRoute {
    /// A request to the Service's ClusterIP (or name) on `port`, if the Service has it.
    fn cluster_ip(service: Service, port: i32) -> Option<ServiceRoute> {
        let port_name = service
            .spec
            .as_ref()?
            .ports
            .iter()
            .flatten()
            .find(|p| p.port == port)?
            .name
            .clone()
            .unwrap_or_default();
        Some(ServiceRoute {
            service,
            port,
            port_name,
            local_to: None,
            masquerade_as: None,
        })
    }

    /// A request that reached `node` on the NodePort of `port`.
    fn node_port(service: Service, port: &ServicePort, node: ReceivingNode) -> ServiceRoute {
        let spec = service.spec.as_ref();
        let local = spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local");
        let (local_to, masquerade_as) = if local {
            (Some(node.name), None)
        } else {
            (None, Some(node.ip))
        };
        ServiceRoute {
            port: port.port,
            port_name: port.name.clone().unwrap_or_default(),
            service,
            local_to,
            masquerade_as,
        }
    }
}

/// How a request was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status line's code and text (`200 OK`).
    pub status: &'static str,
    /// The pod that answered, `namespace/name`.
    pub pod: String,
    /// The endpoint the request reached, `ip:port`.
    pub endpoint: String,
}

/// Where a request goes: host (a name or an IP), port and path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: i32,
    path: String,
}

/// Splits `[http://]host[:port][/path]`; the error is curl's.
fn parse_url(url: &str) -> Result<Target, String> {
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "curl: (1) Protocol \"{scheme}\" not supported or disabled in libcurl"
            ))
        }
        None => url,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => match port.parse::<i32>() {
            Ok(port) if (1..=65535).contains(&port) => (host, port),
            _ => return Err(
                "curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535"
                    .into(),
            ),
        },
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err("curl: (3) URL rejected: No host part in the URL".into());
    }
    Ok(Target {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// Reads `path` from the API as `actor`; `None` when it is not there.
fn read<T: DeserializeOwned>(world: &mut World, actor: &str, path: &str) -> Option<T> {
    let response = world.call(actor, &Request::get(path));
    (response.status == 200)
        .then(|| serde_json::from_value(response.body_json()).ok())
        .flatten()
}

/// The items of a list read from the API as `actor`.
fn list<T: DeserializeOwned>(world: &mut World, actor: &str, req: &Request) -> Vec<T> {
    match world.call(actor, req).body_json()["items"].take() {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// The Service a host names, as CoreDNS answers a client in `namespace`.
fn service_by_name(world: &mut World, host: &str, namespace: &str) -> Option<Service> {
    read(world, "coredns", &service_path(host, namespace)?)
}

/// The API path of the Service a DNS name names for a client in `namespace`, as
/// CoreDNS resolves it (search path `<namespace>.svc.cluster.local`,
/// `svc.cluster.local`, `cluster.local`); `None` for a name outside the cluster.
pub fn service_path(host: &str, namespace: &str) -> Option<String> {
    let name = host.trim_end_matches('.');
    let suffix = format!(".svc.{CLUSTER_DOMAIN}");
    let fqdn = name
        .strip_suffix(&suffix)
        .or_else(|| name.strip_suffix(".svc"));
    let (service, ns) = match fqdn {
        Some(fq) => fq.split_once('.')?,
        None => match name.split_once('.') {
            Some((service, ns)) if !ns.contains('.') => (service, ns),
            Some(_) => return None,
            None => (name, namespace),
        },
    };
    Some(format!("/api/v1/namespaces/{ns}/services/{service}"))
}

/// The Service whose ClusterIP is `ip`.
fn service_by_ip(world: &mut World, ip: &str) -> Option<Service> {
    list::<Service>(world, "kube-proxy", &Request::get("/api/v1/services"))
        .into_iter()
        .find(|s| s.spec.as_ref().and_then(|spec| spec.cluster_ip.as_deref()) == Some(ip))
}

/// The node whose InternalIP is `ip` (`localhost` and `127.0.0.1` are the client's own).
fn node_by_ip(world: &mut World, ip: &str) -> Option<ReceivingNode> {
    let nodes = list::<Node>(world, "kube-proxy", &Request::get("/api/v1/nodes"));
    nodes.iter().find_map(|node| {
        let name = node.metadata.name.clone().unwrap_or_default();
        let address = internal_ip(node)?;
        let own = matches!(ip, "localhost" | "127.0.0.1") && name == CLIENT_NODE;
        (own || address == ip).then_some(ReceivingNode { name, ip: address })
    })
}

/// The Service of type NodePort or LoadBalancer with `node_port`, and that port.
fn service_by_node_port(world: &mut World, node_port: i32) -> Option<(Service, ServicePort)> {
    list::<Service>(world, "kube-proxy", &Request::get("/api/v1/services"))
        .into_iter()
        .find_map(|service| {
            let spec = service.spec.as_ref()?;
            if !matches!(spec.type_.as_deref(), Some("NodePort" | "LoadBalancer")) {
                return None;
            }
            let port = spec
                .ports
                .iter()
                .flatten()
                .find(|p| p.node_port == Some(node_port))?
                .clone();
            Some((service, port))
        })
}

/// The running pod whose IP is `ip`.
fn pod_by_ip(world: &mut World, ip: &str) -> Option<Pod> {
    let req =
        Request::get("/api/v1/pods").with_query("fieldSelector", format!("status.podIP={ip}"));
    list::<Pod>(world, "kube-proxy", &req)
        .into_iter()
        .find(|p| p.metadata.deletion_timestamp.is_none())
}

/// The endpoints kube-proxy sends traffic for `service`'s `port` to, as `(ip,
/// target port, pod namespace/name)`: the ready ones, or when none is ready, the
/// serving terminating ones; only those on `local_to` when given.
fn endpoints(
    world: &mut World,
    service: &Service,
    port_name: &str,
    local_to: Option<&str>,
) -> Vec<Endpoint> {
    let namespace = service.metadata.namespace.as_deref().unwrap_or("");
    let name = service.metadata.name.as_deref().unwrap_or("");
    let req = Request::get(format!(
        "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
    ))
    .with_query(
        "labelSelector",
        format!("kubernetes.io/service-name={name}"),
    );
    let mut ready = Vec::new();
    let mut terminating = Vec::new();
    for slice in list::<EndpointSlice>(world, "kube-proxy", &req) {
        let Some(port) = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref().unwrap_or("") == port_name)
            .and_then(|p| p.port)
        else {
            continue;
        };
        for endpoint in &slice.endpoints {
            let conditions = endpoint.conditions.clone().unwrap_or_default();
            let pod = endpoint.target_ref.as_ref().map_or(String::new(), |r| {
                format!(
                    "{}/{}",
                    r.namespace.as_deref().unwrap_or(namespace),
                    r.name.as_deref().unwrap_or("")
                )
            });
            let Some(ip) = endpoint.addresses.first() else {
                continue;
            };
            if local_to.is_some_and(|node| endpoint.node_name.as_deref() != Some(node)) {
                continue;
            }
            let entry = (ip.clone(), port, pod);
            if conditions.ready.unwrap_or(false) {
                ready.push(entry);
            } else if conditions.serving.unwrap_or(false) && conditions.terminating.unwrap_or(false)
            {
                terminating.push(entry);
            }
        }
    }
    if ready.is_empty() {
        terminating
    } else {
        ready
    }
}

/// kube-proxy's choice among `candidates` (not empty) for a request from
/// `client` to `service`'s `port`: with `sessionAffinity: ClientIP`, the endpoint
/// the client reached last if it came back within the timeout and that endpoint
/// still serves; otherwise one uniformly at random.
fn pick(
    world: &mut World,
    service: &Service,
    port: i32,
    client: &str,
    candidates: &[Endpoint],
) -> usize {
    let spec = service.spec.as_ref();
    let affinity = spec.and_then(|s| s.session_affinity.as_deref()) == Some("ClientIP");
    if !affinity {
        return world.random_below(candidates.len() as u64) as usize;
    }
    let timeout_seconds = spec
        .and_then(|s| s.session_affinity_config.as_ref())
        .and_then(|c| c.client_ip.as_ref())
        .and_then(|c| c.timeout_seconds)
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    let service_port = format!(
        "{}/{}:{port}",
        service.metadata.namespace.as_deref().unwrap_or(""),
        service.metadata.name.as_deref().unwrap_or("")
    );
    let address = |(ip, port, _): &Endpoint| format!("{ip}:{port}");
    let now = world.now().millis();
    let timeout_ms = u64::try_from(timeout_seconds).unwrap_or(0) * 1_000;
    let stuck = world
        .session_affinity()
        .stuck_to(&service_port, client, now, timeout_ms)
        .and_then(|endpoint| candidates.iter().position(|c| address(c) == endpoint));
    let chosen = stuck.unwrap_or_else(|| world.random_below(candidates.len() as u64) as usize);
    let endpoint = address(&candidates[chosen]);
    world
        .session_affinity()
        .remember(&service_port, client, &endpoint, now);
    chosen
}

/// The control-plane node's InternalIP: where requests come from.
fn client_ip(world: &mut World) -> String {
    let client: Option<Node> = read(world, "kube-proxy", &format!("/api/v1/nodes/{CLIENT_NODE}"));
    client
        .as_ref()
        .and_then(internal_ip)
        .unwrap_or_else(|| "127.0.0.1".to_string())
}

/// A node's InternalIP address.
fn internal_ip(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .addresses
        .as_ref()?
        .iter()
        .find(|a| a.type_ == "InternalIP")
        .map(|a| a.address.clone())
}

/// Upstream nginx's access line (the image's `main` format) or httpd's (common format).
fn access_line(
    image: &str,
    client: &str,
    when: &str,
    path: &str,
    code: u16,
    bytes: u32,
) -> Option<String> {
    let request = format!("\"GET {path} HTTP/1.1\" {code} {bytes}");
    match image {
        "nginx" => Some(format!(
            "{client} - - [{when}] {request} \"-\" \"{USER_AGENT}\" \"-\""
        )),
        "httpd" => Some(format!("{client} - - [{when}] {request}")),
        _ => None,
    }
}

/// The container of `pod` listening on `port`, and what listens there.
fn listening(pod: &Pod, port: i32) -> Option<(Container, Listener)> {
    let running = |name: &str| {
        pod.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .any(|c| c.name == name && c.state.as_ref().is_some_and(|s| s.running.is_some()))
    };
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .filter(|c| running(&c.name))
        .map(|c| (c.clone(), listener(c, port)))
        .find(|(_, l)| *l != Listener::Nothing)
}

/// Sends `GET url` from the control-plane node, resolving names for a client in
/// `namespace`; the answer, or curl's error message.
pub fn send(world: &mut World, namespace: &str, url: &str) -> Result<Answer, String> {
    let target = parse_url(url)?;
    let refused = || {
        format!(
            "curl: (7) Failed to connect to {} port {} after 0 ms: Couldn't connect to server",
            target.host, target.port
        )
    };
    let is_ip = target.host.parse::<std::net::Ipv4Addr>().is_ok() || target.host == "localhost";
    let route = if is_ip {
        match service_by_ip(world, &target.host) {
            Some(service) => {
                Some(ServiceRoute::cluster_ip(service, target.port).ok_or_else(refused)?)
            }
            None => match node_by_ip(world, &target.host) {
                Some(node) => {
                    let (service, port) =
                        service_by_node_port(world, target.port).ok_or_else(refused)?;
                    Some(ServiceRoute::node_port(service, &port, node))
                }
                None => None,
            },
        }
    } else {
        let service = service_by_name(world, &target.host, namespace)
            .ok_or_else(|| format!("curl: (6) Could not resolve host: {}", target.host))?;
        Some(ServiceRoute::cluster_ip(service, target.port).ok_or_else(refused)?)
    };
    let mut client = client_ip(world);
    let (ip, port, pod_key) = match route {
        Some(route) => {
            let local_to = route.local_to.as_deref();
            let candidates = endpoints(world, &route.service, &route.port_name, local_to);
            if candidates.is_empty() && local_to.is_some() {
                return Err(format!(
                    "curl: (28) Failed to connect to {} port {} after {CONNECT_TIMEOUT_MS} ms: Couldn't connect to server",
                    target.host, target.port
                ));
            }
            if candidates.is_empty() {
                return Err(refused());
            }
            // Affinity sees the client's own address: the masquerade comes after it.
            let chosen = pick(world, &route.service, route.port, &client, &candidates);
            client = route.masquerade_as.unwrap_or(client);
            candidates[chosen].clone()
        }
        None => {
            let pod = pod_by_ip(world, &target.host).ok_or_else(refused)?;
            let key = format!(
                "{}/{}",
                pod.metadata.namespace.as_deref().unwrap_or(""),
                pod.metadata.name.as_deref().unwrap_or("")
            );
            (target.host.clone(), target.port, key)
        }
    };
    let (pod_ns, pod_name) = pod_key.split_once('/').unwrap_or(("", &pod_key));
    let pod: Pod = read(
        world,
        "kube-proxy",
        &format!("/api/v1/namespaces/{pod_ns}/pods/{pod_name}"),
    )
    .ok_or_else(refused)?;
    let (container, listens) = listening(&pod, port).ok_or_else(refused)?;
    let image = image_name(container.image.as_deref().unwrap_or(""));
    let (status, code, bytes) = match (listens, target.path.as_str()) {
        (Listener::Server, _) if speaks_http(image) == Some(false) => {
            return Err("curl: (1) Received HTTP/0.9 when not allowed".into())
        }
        (Listener::WebServer, "/" | "/index.html") => ("200 OK", 200, web_page_bytes(image)),
        (Listener::WebServer, _) => ("404 Not Found", 404, not_found_bytes(image)),
        _ => ("200 OK", 200, 0),
    };
    let when = access_time(world);
    if let Some(line) = access_line(image, &client, &when, &target.path, code, bytes) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        world.record_access(&uid, &container.name, line);
    }
    Ok(Answer {
        status,
        pod: pod_key.clone(),
        endpoint: format!("{ip}:{port}"),
    })
}

/// The size of the image's default page: nginx's welcome page, httpd's "It works!".
fn web_page_bytes(image: &str) -> u32 {
    match image {
        "nginx" => 615,
        "httpd" => 45,
        _ => 0,
    }
}

/// The size of the image's 404 page.
fn not_found_bytes(image: &str) -> u32 {
    match image {
        "nginx" => 153,
        "httpd" => 196,
        _ => 0,
    }
}

/// Now as a web server's access log writes it: `24/Nov/2026:01:00:00 +0000`.
fn access_time(world: &World) -> String {
    let unix_ms = world.now().unix_millis(world.api().epoch_unix_ms());
    jiff::Timestamp::from_millisecond(unix_ms)
        .map(|t| t.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        let t = parse_url("http://web.team:8080/index.html").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("web.team", 8080, "/index.html")
        );
        let t = parse_url("web").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("web", 80, "/"));
        assert_eq!(
            parse_url("https://web").unwrap_err(),
            "curl: (1) Protocol \"https\" not supported or disabled in libcurl"
        );
        assert!(parse_url("web:99999").is_err());
    }
}
