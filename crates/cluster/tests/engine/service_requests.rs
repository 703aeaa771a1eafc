//! Requests to a Service (`service_request::send`): kube-proxy spreads them over
//! the ready pods with the world's seeded RNG (or keeps a client on one pod with
//! `sessionAffinity: ClientIP`), the lookups are traced as CoreDNS and
//! kube-proxy, and the access lines the pods print survive a snapshot.

use crate::common;

use std::collections::BTreeSet;

use common::{deployment, Cluster};
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use kubecraft_cluster::service_request::send;
use kubecraft_cluster::sim::trace::TraceKind;
use serde_json::json;

fn web(c: &mut Cluster) {
    web_with_affinity(c, "None");
}

fn web_with_affinity(c: &mut Cluster, affinity: &str) {
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 3),
    );
    c.post(
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}],
                "sessionAffinity": affinity}}),
    );
    c.world.advance(30_000);
}

#[test]
fn client_ip_affinity_keeps_a_client_on_one_pod_until_the_timeout() {
    let mut c = Cluster::with_world(cluster::start(81));
    web_with_affinity(&mut c, "ClientIP");
    let answered = |c: &mut Cluster, n| -> BTreeSet<String> {
        (0..n)
            .map(|_| send(&mut c.world, "default", "web").unwrap().pod)
            .collect()
    };
    let first = answered(&mut c, 30);
    assert_eq!(first.len(), 1, "{first:?}");
    c.world.advance(3 * 3_600_000);
    assert_eq!(answered(&mut c, 5), first);
    // Away longer than the timeout: picked afresh each time.
    let shorter = c.send(Request::patch(
        "/api/v1/namespaces/default/services/web",
        "application/merge-patch+json",
        r#"{"spec":{"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10}}}}"#,
    ));
    assert_eq!(shorter.status, 200, "{}", shorter.body_text());
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        c.world.advance(11_000);
        seen.extend(answered(&mut c, 1));
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[test]
fn requests_spread_over_ready_pods_and_their_access_lines_are_kept() {
    let mut c = Cluster::with_world(cluster::start(81));
    web(&mut c);
    let answered: BTreeSet<String> = (0..30)
        .map(|_| send(&mut c.world, "default", "web").unwrap().pod)
        .collect();
    assert_eq!(answered.len(), 3, "{answered:?}");
    let actors: BTreeSet<String> = c
        .world
        .trace()
        .entries()
        .filter_map(|e| match &e.kind {
            TraceKind::Call {
                actor, resource, ..
            } if resource == "services" || resource == "endpointslices.discovery.k8s.io" => {
                Some(actor.clone())
            }
            _ => None,
        })
        .filter(|a| a == "coredns" || a == "kube-proxy")
        .collect();
    assert_eq!(
        actors,
        BTreeSet::from(["coredns".into(), "kube-proxy".into()])
    );

    let pod = answered
        .first()
        .unwrap()
        .split_once('/')
        .unwrap()
        .1
        .to_string();
    let log_path = format!("/api/v1/namespaces/default/pods/{pod}/log");
    let log = c.send(Request::get(&log_path)).body_text().to_string();
    assert!(log.contains("\"GET / HTTP/1.1\" 200 615"), "{log}");

    // A restored cluster (its kubelets find their containers running) serves the same log.
    let restored = cluster::restore(&c.world.snapshot()).unwrap();
    let mut again = Cluster::with_world(restored);
    again.world.advance(5_000);
    assert_eq!(again.send(Request::get(&log_path)).body_text(), log);
}

#[test]
fn the_same_seed_picks_the_same_pods() {
    let picks = |seed| {
        let mut c = Cluster::with_world(cluster::start(seed));
        web(&mut c);
        (0..10)
            .map(|_| {
                send(&mut c.world, "default", "web.default.svc.cluster.local")
                    .unwrap()
                    .pod
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(picks(82), picks(82));
}

/// Each node's name and InternalIP.
fn node_ips(c: &mut Cluster) -> Vec<(String, String)> {
    let (_, nodes) = c.get("/api/v1/nodes");
    nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let ip = n["status"]["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["type"] == "InternalIP")
                .unwrap()["address"]
                .as_str()
                .unwrap()
                .to_string();
            (n["metadata"]["name"].as_str().unwrap().to_string(), ip)
        })
        .collect()
}

/// One web pod behind a NodePort Service on 30080 with the given traffic policy;
/// the pod's name and node.
fn web_on_node_port(c: &mut Cluster, policy: &str) -> (String, String) {
    c.post(
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", 1),
    );
    let (code, body) = c.post(
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"type": "NodePort", "selector": {"app": "web"},
                "externalTrafficPolicy": policy,
                "ports": [{"port": 80, "targetPort": 80, "nodePort": 30080}]}}),
    );
    assert_eq!(code, 201, "{body}");
    c.world.advance(30_000);
    let (_, pods) = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb");
    let pod = &pods["items"][0];
    (
        pod["metadata"]["name"].as_str().unwrap().to_string(),
        pod["spec"]["nodeName"].as_str().unwrap().to_string(),
    )
}

/// The client address of the pod's newest access line.
fn last_client(c: &mut Cluster, pod: &str) -> String {
    let log_path = format!("/api/v1/namespaces/default/pods/{pod}/log");
    let log = c.send(Request::get(&log_path)).body_text().to_string();
    let line = log.lines().last().expect("an access line");
    line.split(' ').next().unwrap().to_string()
}

#[test]
fn a_node_port_answers_on_every_node_with_the_client_masqueraded_as_that_node() {
    let mut c = Cluster::with_world(cluster::start(85));
    let (pod, _) = web_on_node_port(&mut c, "Cluster");
    let nodes = node_ips(&mut c);
    for (_, ip) in &nodes {
        let answer = send(&mut c.world, "default", &format!("http://{ip}:30080/")).unwrap();
        assert_eq!(
            (answer.status, answer.pod.as_str()),
            ("200 OK", &*format!("default/{pod}"))
        );
        assert_eq!(
            &last_client(&mut c, &pod),
            ip,
            "masqueraded as the receiving node"
        );
    }
    assert!(send(&mut c.world, "default", "localhost:30080").is_ok());
    let (_, first_ip) = &nodes[0];
    assert_eq!(
        send(&mut c.world, "default", &format!("{first_ip}:30081")).unwrap_err(),
        format!("curl: (7) Failed to connect to {first_ip} port 30081 after 0 ms: Couldn't connect to server")
    );
}

#[test]
fn a_local_traffic_policy_keeps_the_client_address_and_drops_traffic_to_nodes_without_endpoints() {
    let mut c = Cluster::with_world(cluster::start(86));
    let (pod, pod_node) = web_on_node_port(&mut c, "Local");
    let nodes = node_ips(&mut c);
    let control_plane_ip = nodes
        .iter()
        .find(|(n, _)| n == "control-plane")
        .unwrap()
        .1
        .clone();
    for (node, ip) in &nodes {
        let sent = send(&mut c.world, "default", &format!("{ip}:30080"));
        if *node == pod_node {
            assert_eq!(sent.unwrap().pod, format!("default/{pod}"));
            assert_eq!(
                last_client(&mut c, &pod),
                control_plane_ip,
                "the client's own address"
            );
        } else {
            assert_eq!(
                sent.unwrap_err(),
                format!("curl: (28) Failed to connect to {ip} port 30080 after 127000 ms: Couldn't connect to server")
            );
        }
    }
}
