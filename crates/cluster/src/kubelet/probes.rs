//! Probes as the kubelet's prober runs them against a simulated container:
//! exec commands see the files the container touched and removed, HTTP and TCP
//! probes reach what listens on the port. Failures carry upstream's messages
//! (`cat: can't open '/tmp/healthy': No such file or directory`,
//! `Get "http://10.244.1.5:8080/healthz": dial tcp …: connect: connection refused`).

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::behaviour::{listener, Behaviour, Listener};
use super::script::Health;

/// Which probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Startup,
    Liveness,
    Readiness,
}

impl ProbeKind {
    /// The word upstream's events use (`Liveness probe failed: ...`).
    pub fn title(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }

    /// The container's probe of this kind.
    pub fn of(self, container: &Container) -> Option<&Probe> {
        match self {
            ProbeKind::Startup => container.startup_probe.as_ref(),
            ProbeKind::Liveness => container.liveness_probe.as_ref(),
            ProbeKind::Readiness => container.readiness_probe.as_ref(),
        }
    }
}

/// A probe port: a number, or the name of one of the container's ports.
fn port_number(port: &IntOrString, container: &Container) -> Option<i32> {
    match port {
        IntOrString::Int(n) => Some(*n),
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .map(|p| p.container_port),
    }
}

/// An exec probe's command as the container's shell would run it.
fn exec(command: &[String], behaviour: &Behaviour, elapsed_ms: u64) -> Result<(), String> {
    let words: Vec<String> = match command {
        [shell, flag, script, ..] if shell.ends_with("sh") && flag == "-c" => script
            .split([';', '&', '|'])
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(String::from)
            .collect(),
        other => other.to_vec(),
    };
    let Some((program, args)) = words.split_first() else {
        return Ok(());
    };
    let program = program.rsplit('/').next().unwrap_or("");
    let path = args.iter().rev().find(|a| !a.starts_with('-') && *a != "]");
    let exists = |p: &str| behaviour.output().file_exists(p, elapsed_ms);
    match (program, path) {
        ("cat", Some(p)) if !exists(p) => Err(format!(
            "cat: can't open '{p}': No such file or directory\n"
        )),
        ("ls", Some(p)) if !exists(p) => Err(format!("ls: {p}: No such file or directory\n")),
        ("test" | "[" | "stat", Some(p)) if !exists(p) => Err(String::new()),
        ("false", _) => Err(String::new()),
        _ => Ok(()),
    }
}

/// The outcome of `probe` against `container`, `elapsed_ms` after it started, at
/// `pod_ip`, its process answering as `health` says.
pub fn check(
    probe: &Probe,
    container: &Container,
    behaviour: &Behaviour,
    health: Health,
    elapsed_ms: u64,
    pod_ip: &str,
) -> Result<(), String> {
    // A process not listening yet is as good as no listener at all.
    let listener = |port| match health {
        Health::NotListening => Listener::Nothing,
        _ => listener(container, port),
    };
    let failing = health == Health::Failing;
    if let Some(action) = &probe.exec {
        if failing {
            return Err(String::new());
        }
        return exec(
            action.command.as_deref().unwrap_or_default(),
            behaviour,
            elapsed_ms,
        );
    }
    if let Some(http) = &probe.http_get {
        let port = port_number(&http.port, container).unwrap_or(0);
        let host = http.host.clone().unwrap_or_else(|| pod_ip.to_string());
        let scheme = http.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
        let path = http.path.as_deref().unwrap_or("/");
        return match listener(port) {
            Listener::Nothing => Err(format!(
                "Get \"{scheme}://{host}:{port}{path}\": dial tcp {host}:{port}: connect: connection refused"
            )),
            _ if failing => Err("HTTP probe failed with statuscode: 500".into()),
            Listener::WebServer if !matches!(path, "/" | "/index.html") => {
                Err("HTTP probe failed with statuscode: 404".into())
            }
            _ => Ok(()),
        };
    }
    if let Some(tcp) = &probe.tcp_socket {
        let port = port_number(&tcp.port, container).unwrap_or(0);
        let host = tcp.host.clone().unwrap_or_else(|| pod_ip.to_string());
        // An unhealthy process refuses connections as one not listening does.
        if failing || matches!(listener(port), Listener::Nothing) {
            return Err(format!(
                "dial tcp {host}:{port}: connect: connection refused"
            ));
        }
        return Ok(());
    }
    if let Some(grpc) = &probe.grpc {
        return match listener(grpc.port) {
            Listener::Nothing => Err(format!(
                "failed to connect service \"{pod_ip}:{}\" within 1s: context deadline exceeded",
                grpc.port
            )),
            _ if failing => Err("service unhealthy (responded with \"NOT_SERVING\")".into()),
            _ => Ok(()),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::behaviour;
    use serde_json::json;

    fn container(spec: serde_json::Value) -> Container {
        serde_json::from_value(spec).unwrap()
    }

    fn probe(spec: serde_json::Value) -> Probe {
        serde_json::from_value(spec).unwrap()
    }

    #[test]
    fn exec_probes_see_the_files_of_the_tutorial_container() {
        let c = container(json!({"name": "liveness", "image": "busybox",
            "args": ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"]}));
        let b = behaviour::of(&c, &Default::default());
        let p = probe(json!({"exec": {"command": ["cat", "/tmp/healthy"]}}));
        assert_eq!(
            check(&p, &c, &b, Health::AsItIs, 5_000, "10.244.1.5"),
            Ok(())
        );
        assert_eq!(
            check(&p, &c, &b, Health::AsItIs, 35_000, "10.244.1.5"),
            Err("cat: can't open '/tmp/healthy': No such file or directory\n".into())
        );
    }

    #[test]
    fn network_probes_reach_only_what_listens() {
        let nginx = container(json!({"name": "web", "image": "nginx:1.27",
            "ports": [{"name": "http", "containerPort": 80}]}));
        let b = behaviour::of(&nginx, &Default::default());
        let on = |spec| check(&probe(spec), &nginx, &b, Health::AsItIs, 0, "10.244.1.5");
        assert_eq!(
            on(json!({"httpGet": {"port": "http", "path": "/"}})),
            Ok(())
        );
        assert_eq!(
            on(json!({"httpGet": {"port": 80, "path": "/healthz", "scheme": "HTTP"}})),
            Err("HTTP probe failed with statuscode: 404".into())
        );
        assert_eq!(
            on(json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"}})),
            Err("Get \"http://10.244.1.5:8080/\": dial tcp 10.244.1.5:8080: connect: connection refused".into())
        );
        assert_eq!(
            on(json!({"tcpSocket": {"port": 81}})),
            Err("dial tcp 10.244.1.5:81: connect: connection refused".into())
        );
        assert_eq!(on(json!({"tcpSocket": {"port": 80}})), Ok(()));
    }

    #[test]
    fn scripted_health_overrides_what_listens() {
        let nginx = container(json!({"name": "web", "image": "nginx:1.27"}));
        let b = behaviour::of(&nginx, &Default::default());
        let on = |health, spec| check(&probe(spec), &nginx, &b, health, 0, "10.244.1.5");
        let http = json!({"httpGet": {"port": 80, "path": "/"}});
        assert_eq!(
            on(Health::NotListening, http.clone()),
            Err("Get \"http://10.244.1.5:80/\": dial tcp 10.244.1.5:80: connect: connection refused".into())
        );
        assert_eq!(
            on(Health::Failing, http),
            Err("HTTP probe failed with statuscode: 500".into())
        );
        assert_eq!(
            on(Health::Failing, json!({"tcpSocket": {"port": 80}})),
            Err("dial tcp 10.244.1.5:80: connect: connection refused".into())
        );
        assert_eq!(
            on(Health::Failing, json!({"grpc": {"port": 80}})),
            Err("service unhealthy (responded with \"NOT_SERVING\")".into())
        );
        assert_eq!(
            on(Health::Failing, json!({"exec": {"command": ["true"]}})),
            Err(String::new())
        );
    }
}
