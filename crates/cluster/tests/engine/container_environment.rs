//! What a container's process sees in its environment: the runtime's `HOSTNAME`,
//! `PATH` and `HOME`, the kubelet's Service links (for Services that existed
//! when it started, unless `enableServiceLinks` is false), the downward API's
//! resource fields, the files of its volume mounts (and a mount that fails); and
//! what it leaves behind: its termination message.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

fn run_pod(c: &mut Cluster, name: &str, spec: Value) {
    let mut spec = spec;
    spec["restartPolicy"] = json!("Never");
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}),
    );
    assert_eq!(code, 201, "{body}");
}

fn printing(name: &str, command: &[&str]) -> Value {
    json!({"name": name, "image": "debian", "command": command})
}

fn log(c: &mut Cluster, pod: &str) -> String {
    container_log(c, pod, None)
}

fn container_log(c: &mut Cluster, pod: &str, container: Option<&str>) -> String {
    let path = format!("/api/v1/namespaces/default/pods/{pod}/log");
    let mut request = Request::get(path);
    if let Some(container) = container {
        request = request.with_query("container", container);
    }
    let response = c.send(request);
    assert!(response.is_success(), "{}", response.status_message());
    response.body_text().to_string()
}

fn phase(c: &mut Cluster, pod: &str) -> String {
    let (_, p) = c.get(&format!("/api/v1/namespaces/default/pods/{pod}"));
    p["status"]["phase"].as_str().unwrap_or("").to_string()
}

fn service(c: &mut Cluster, name: &str, port: i64) {
    let (code, body) = c.post(
        "/api/v1/namespaces/default/services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port}]}}),
    );
    assert_eq!(code, 201, "{body}");
}

fn cluster_ip(c: &mut Cluster, name: &str) -> String {
    let (_, s) = c.get(&format!("/api/v1/namespaces/default/services/{name}"));
    s["spec"]["clusterIP"].as_str().unwrap().to_string()
}

#[test]
fn the_documentation_s_command_demo_prints_its_hostname_and_the_api_s_link() {
    let mut c = Cluster::with_world(cluster::start(301));
    let command = ["printenv", "HOSTNAME", "KUBERNETES_PORT", "PATH"];
    run_pod(
        &mut c,
        "command-demo",
        json!({"containers": [printing("c", &command)]}),
    );
    c.world.advance(20_000);
    assert_eq!(phase(&mut c, "command-demo"), "Succeeded");
    assert_eq!(
        log(&mut c, "command-demo"),
        "command-demo\ntcp://10.96.0.1:443\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
}

#[test]
fn services_that_existed_at_the_start_are_linked_unless_links_are_off() {
    let mut c = Cluster::with_world(cluster::start(302));
    service(&mut c, "redis-primary", 6379);
    c.world.advance(1_000);
    let ip = cluster_ip(&mut c, "redis-primary");
    let env = ["sh", "-c", "env; sleep 5; echo $WEB_SERVICE_HOST done"];
    run_pod(
        &mut c,
        "linked",
        json!({"containers": [printing("c", &env)]}),
    );
    run_pod(
        &mut c,
        "unlinked",
        json!({"enableServiceLinks": false, "containers": [printing("c", &env)]}),
    );
    while phase(&mut c, "linked") != "Running" || phase(&mut c, "unlinked") != "Running" {
        c.world.advance(500);
    }
    // Created once the containers run: no links to it.
    service(&mut c, "web", 80);
    c.world.advance(20_000);
    let linked = log(&mut c, "linked");
    for line in [
        format!("REDIS_PRIMARY_SERVICE_HOST={ip}"),
        "REDIS_PRIMARY_SERVICE_PORT=6379".to_string(),
        "REDIS_PRIMARY_SERVICE_PORT_HTTP=6379".to_string(),
        format!("REDIS_PRIMARY_PORT=tcp://{ip}:6379"),
        format!("REDIS_PRIMARY_PORT_6379_TCP_ADDR={ip}"),
        "KUBERNETES_SERVICE_HOST=10.96.0.1".to_string(),
        "HOSTNAME=linked".to_string(),
        "HOME=/root".to_string(),
    ] {
        assert!(
            linked.lines().any(|l| l == line),
            "{line} missing from:\n{linked}"
        );
    }
    assert!(!linked.contains("WEB_"), "{linked}");
    assert!(linked.ends_with("\ndone\n"), "unset, so no word: {linked}");
    let unlinked = log(&mut c, "unlinked");
    assert!(!unlinked.contains("REDIS_PRIMARY"), "{unlinked}");
    assert!(
        unlinked.contains("KUBERNETES_SERVICE_HOST=10.96.0.1\n"),
        "{unlinked}"
    );
    // A pod started after it sees the new Service, through `$(VAR)` too.
    let late = ["echo", "$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)"];
    run_pod(
        &mut c,
        "late",
        json!({"containers": [printing("c", &late)]}),
    );
    c.world.advance(20_000);
    let web = cluster_ip(&mut c, "web");
    assert_eq!(log(&mut c, "late"), format!("{web}:80\n"));
}

#[test]
fn resource_fields_of_the_downward_api_in_the_divisor_s_units() {
    let mut c = Cluster::with_world(cluster::start(303));
    let field = |name: &str, resource: &str, divisor: Option<&str>| {
        let mut reference = json!({"containerName": "test-container", "resource": resource});
        if let Some(divisor) = divisor {
            reference["divisor"] = json!(divisor);
        }
        json!({"name": name, "valueFrom": {"resourceFieldRef": reference}})
    };
    let names = [
        "CPU_REQUEST",
        "CPU_LIMIT",
        "MEM_REQUEST",
        "MEM_LIMIT",
        "CPU_M",
        "MEM_MI",
    ];
    let mut container = printing("test-container", &["printenv"]);
    container["args"] = json!(names);
    container["resources"] = json!({"requests": {"memory": "32Mi", "cpu": "125m"},
        "limits": {"memory": "64Mi", "cpu": "250m"}});
    container["env"] = json!([
        field("CPU_REQUEST", "requests.cpu", None),
        field("CPU_LIMIT", "limits.cpu", None),
        field("MEM_REQUEST", "requests.memory", None),
        field("MEM_LIMIT", "limits.memory", None),
        field("CPU_M", "limits.cpu", Some("1m")),
        field("MEM_MI", "requests.memory", Some("1Mi")),
    ]);
    // A container without limits reads its node's allocatable.
    let mut sidecar = printing("unlimited", &["printenv", "CPU", "MEMORY_MI"]);
    sidecar["env"] = json!([
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        {"name": "MEMORY_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
    ]);
    run_pod(&mut c, "dapi", json!({"containers": [container, sidecar]}));
    c.world.advance(20_000);
    assert_eq!(
        container_log(&mut c, "dapi", Some("test-container")),
        "1\n1\n33554432\n67108864\n250\n32\n"
    );
    let node = c.node_of("dapi");
    let (_, n) = c.get(&format!("/api/v1/nodes/{node}"));
    let allocatable = &n["status"]["allocatable"];
    let memory_ki: i64 = allocatable["memory"]
        .as_str()
        .unwrap()
        .trim_end_matches("Ki")
        .parse()
        .unwrap();
    assert_eq!(
        container_log(&mut c, "dapi", Some("unlimited")),
        format!(
            "{}\n{}\n",
            allocatable["cpu"].as_str().unwrap(),
            (memory_ki + 1023) / 1024
        )
    );
}

#[test]
fn the_termination_message_is_what_the_container_wrote_or_its_log_s_end() {
    let mut c = Cluster::with_world(cluster::start(304));
    let script = |s: &str| printing("c", &["/bin/sh", "-c", s]);
    run_pod(
        &mut c,
        "termination-demo",
        json!({"containers": [script("sleep 10 && echo Sleep expired > /dev/termination-log")]}),
    );
    let mut failing = script("echo loading; echo config missing; exit 2");
    failing["terminationMessagePolicy"] = json!("FallbackToLogsOnError");
    run_pod(&mut c, "fallback", json!({"containers": [failing]}));
    c.world.advance(30_000);
    let terminated = |c: &mut Cluster, pod: &str| {
        let (_, p) = c.get(&format!("/api/v1/namespaces/default/pods/{pod}"));
        p["status"]["containerStatuses"][0]["state"]["terminated"].clone()
    };
    let demo = terminated(&mut c, "termination-demo");
    assert_eq!(demo["message"], "Sleep expired\n");
    assert_eq!(demo["reason"], "Completed");
    assert_eq!(
        log(&mut c, "termination-demo"),
        "",
        "redirected, not logged"
    );
    let fallback = terminated(&mut c, "fallback");
    assert_eq!(fallback["message"], "loading\nconfig missing\n");
    assert_eq!(fallback["exitCode"], 2);
}

fn config_map(c: &mut Cluster, name: &str, data: Value) {
    let (code, body) = c.post(
        "/api/v1/namespaces/default/configmaps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}),
    );
    assert_eq!(code, 201, "{body}");
}

#[test]
fn mounted_config_maps_and_the_downward_api_are_files_the_container_reads() {
    let mut c = Cluster::with_world(cluster::start(305));
    config_map(
        &mut c,
        "special-config",
        json!({"SPECIAL_LEVEL": "very", "SPECIAL_TYPE": "charm"}),
    );
    let mut reader = printing(
        "test-container",
        &[
            "/bin/sh",
            "-c",
            "ls /etc/config/; cat /etc/config/keys; echo; cat /etc/podinfo/labels",
        ],
    );
    reader["volumeMounts"] = json!([
        {"name": "config-volume", "mountPath": "/etc/config"},
        {"name": "podinfo", "mountPath": "/etc/podinfo"}]);
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "dapi-test-pod", "labels": {"zone": "us-est-coast", "rack": "rack-22"}},
            "spec": {"restartPolicy": "Never", "containers": [reader], "volumes": [
                {"name": "config-volume", "configMap": {"name": "special-config",
                    "items": [{"key": "SPECIAL_LEVEL", "path": "keys"}]}},
                {"name": "podinfo", "downwardAPI": {"items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}}),
    );
    assert_eq!(code, 201, "{body}");
    c.world.advance(20_000);
    assert_eq!(phase(&mut c, "dapi-test-pod"), "Succeeded");
    assert_eq!(
        log(&mut c, "dapi-test-pod"),
        "keys\nvery\nrack=\"rack-22\"\nzone=\"us-est-coast\"\n"
    );
}

#[test]
fn a_volume_whose_config_map_is_missing_keeps_the_pod_creating_until_it_exists() {
    let mut c = Cluster::with_world(cluster::start(306));
    let mut web = json!({"name": "web", "image": "nginx:1.27",
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/app"}]});
    web["command"] = Value::Null;
    let (code, body) = c.post(
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
            "spec": {"containers": [web], "volumes": [
                {"name": "config-volume", "configMap": {"name": "app-config"}}]}}),
    );
    assert_eq!(code, 201, "{body}");
    c.world.advance(60_000);
    let (_, pod) = c.get("/api/v1/namespaces/default/pods/web");
    assert_eq!(pod["status"]["phase"], "Pending");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    let failures = c.events("web", "FailedMount");
    assert_eq!(
        failures,
        ["MountVolume.SetUp failed for volume \"config-volume\" : configmap \"app-config\" not found"]
    );
    // The volume manager's back-off: 0.5, 1, 2, 4, 8, 16 and 32 s apart in the first minute.
    assert_eq!(c.event_count("web", "FailedMount"), 7);
    config_map(&mut c, "app-config", json!({"mode": "fast"}));
    c.world.advance(70_000);
    assert_eq!(phase(&mut c, "web"), "Running");
}

/// A ConfigMap patched while a container runs: its variable keeps the value the
/// container started with, its mounted file shows the new one from the kubelet's
/// next sync of the pod, and a restored snapshot serves the same log.
#[test]
fn a_log_reads_configmaps_as_each_part_of_the_run_saw_them() {
    let mut c = Cluster::with_world(cluster::start(307));
    let (code, _) = c.post(
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "sport"}, "data": {"sport": "football"}}),
    );
    assert_eq!(code, 201);
    let script = "while true; do echo \"$SPORT $(cat /etc/config/sport)\"; sleep 10; done";
    let mut container = printing("app", &["sh", "-c", script]);
    container["env"] = json!([{"name": "SPORT",
        "valueFrom": {"configMapKeyRef": {"name": "sport", "key": "sport"}}}]);
    container["volumeMounts"] = json!([{"name": "config", "mountPath": "/etc/config"}]);
    run_pod(
        &mut c,
        "app",
        json!({"containers": [container],
            "volumes": [{"name": "config", "configMap": {"name": "sport"}}]}),
    );
    c.world.advance(30_000);
    let patch = Request::patch(
        "/api/v1/namespaces/default/configmaps/sport",
        "application/merge-patch+json",
        json!({"data": {"sport": "cricket"}}).to_string(),
    );
    assert!(c.send(patch).is_success());
    c.world.advance(90_000);
    let log = log(&mut c, "app");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.first(), Some(&"football football"), "{log}");
    assert_eq!(lines.last(), Some(&"football cricket"), "{log}");
    // The file changed once, at a sync a whole minute after the start, not at the patch.
    let changed_at = lines.iter().position(|l| *l == "football cricket").unwrap();
    assert_eq!(changed_at, 6, "{log}");
    assert!(
        lines[changed_at..].iter().all(|l| *l == "football cricket"),
        "{log}"
    );

    let restored = cluster::restore(&c.world.snapshot()).unwrap();
    let mut again = Cluster::with_world(restored);
    assert_eq!(container_log(&mut again, "app", None), log);
}
