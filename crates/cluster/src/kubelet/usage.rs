//! Simulated resource usage, as a node's cAdvisor would measure it: every
//! running container uses a little CPU and its image's resident memory, and
//! request loops (`while true; do wget -q -O- http://web; done`, the HPA
//! walkthrough's load generator) put CPU load on the Service they call, shared
//! by its ready endpoints and capped by each container's CPU limit.
//!
//! Usage follows from the cluster's state alone (no stored samples), so it is
//! deterministic and survives a reload.

use k8s_openapi::api::core::v1::{Container, Pod};

use super::behaviour::image_name;
use super::containers;
use crate::api::quantity::{milli_value, value};

/// The CPU one request loop demands from the Service it calls, in millicores
/// (with the walkthrough's php-apache, 200m requests and a 50% target, one loop
/// settles at 7 replicas as the walkthrough does).
pub const LOAD_PER_GENERATOR_MILLI: i64 = 650;

/// What one container uses now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub cpu_milli: i64,
    pub memory_bytes: i64,
}

/// Resident memory of well-known images when idle, in MiB.
const IMAGE_MEMORY_MIB: &[(&str, i64)] = &[
    ("nginx", 3),
    ("httpd", 7),
    ("redis", 3),
    ("postgres", 20),
    ("mysql", 360),
    ("mariadb", 90),
    ("mongo", 80),
    ("busybox", 1),
    ("alpine", 1),
    ("php-apache", 9),
    ("hpa-example", 9),
];

/// A small stable variation (0..spread) from a name, so pods do not all look alike.
fn jitter(seed: &str, spread: i64) -> i64 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in seed.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i64::from(hash) % spread.max(1)
}

/// What a container uses with no load: 1–2 millicores and its image's memory.
pub fn idle(pod_uid: &str, container: &Container) -> Usage {
    let image = image_name(container.image.as_deref().unwrap_or(""));
    let mib = IMAGE_MEMORY_MIB
        .iter()
        .find(|(name, _)| *name == image)
        .map_or(4, |(_, mib)| *mib);
    let seed = format!("{pod_uid}/{}", container.name);
    Usage {
        cpu_milli: 1 + jitter(&seed, 2),
        memory_bytes: mib * 1024 * 1024 + jitter(&seed, 512) * 1024,
    }
}

/// The container's `command` followed by its `args`.
fn argv(container: &Container) -> Vec<String> {
    let command = container.command.iter().flatten();
    command
        .chain(container.args.iter().flatten())
        .cloned()
        .collect()
}

/// The value of a `stress` option (`--vm 1` or `--vm=1`), when the container runs
/// `stress` or `stress-ng`.
fn stress_option(container: &Container, name: &str) -> Option<String> {
    let words = argv(container);
    let program = words.first().map(|w| w.rsplit('/').next().unwrap_or(""));
    if !matches!(program, Some("stress" | "stress-ng")) {
        return None;
    }
    let after = words.iter().position(|w| w == name);
    after.and_then(|i| words.get(i + 1)).cloned().or_else(|| {
        let prefix = format!("{name}=");
        words
            .iter()
            .find_map(|w| w.strip_prefix(&prefix).map(String::from))
    })
}

/// The memory a `stress`/`stress-ng` container allocates on top of its idle use
/// (`--vm N --vm-bytes SIZE`: N workers of SIZE each; SIZE 256M when not given), the
/// load of the docs' memory walkthroughs.
pub fn workload_memory_bytes(container: &Container) -> i64 {
    let workers: i64 = stress_option(container, "--vm")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if workers == 0 {
        return 0;
    }
    let size = stress_option(container, "--vm-bytes").map_or(Some(256 << 20), |t| stress_size(&t));
    workers * size.unwrap_or(0)
}

/// The CPU a container's busy workers demand, in millicores: a core each for
/// `stress --cpu N` (and `stress-ng`), and for the `vish/stress` image's
/// `-cpus N` (the docs' CPU walkthrough). Its limit caps what it gets.
pub fn workload_cpu_milli(container: &Container) -> i64 {
    let image = image_name(container.image.as_deref().unwrap_or(""));
    let workers = if image == "stress" && container.command.is_none() {
        let args = container.args.iter().flatten();
        let after = args.skip_while(|a| a.as_str() != "-cpus").nth(1);
        after.and_then(|n| n.parse::<i64>().ok())
    } else {
        stress_option(container, "--cpu").and_then(|n| n.parse().ok())
    };
    workers.unwrap_or(0).max(0) * 1000
}

/// A `stress` size: a number with an optional B, K, M or G suffix (powers of 1024).
fn stress_size(text: &str) -> Option<i64> {
    let (number, unit) = text.split_at(
        text.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len(),
    );
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return None,
    };
    number.parse::<i64>().ok().map(|n| n << shift)
}

/// The memory a container's process holds from its start: its image's idle use
/// and what its workload allocates (without any pod's jitter).
pub fn base_memory_bytes(container: &Container) -> i64 {
    idle("", container).memory_bytes + workload_memory_bytes(container)
}

/// Whether the container's memory use goes past its limit (the kernel OOM-kills it).
pub fn exceeds_memory_limit(container: &Container) -> bool {
    let used = base_memory_bytes(container);
    limit(container, "memory").is_some_and(|limit| used > limit)
}

/// An amount of `resource` (`cpu` in millicores, others in units) from the
/// container's requests or limits.
fn amount(container: &Container, limits: bool, resource: &str) -> Option<i64> {
    let resources = container.resources.as_ref()?;
    let amounts = if limits {
        &resources.limits
    } else {
        &resources.requests
    };
    let quantity = amounts.as_ref()?.get(resource)?;
    if resource == "cpu" {
        milli_value(&quantity.0)
    } else {
        value(&quantity.0)
    }
}

/// The container's request of `resource` (`cpu` in millicores, `memory` in bytes).
pub fn request(container: &Container, resource: &str) -> Option<i64> {
    amount(container, false, resource)
}

/// The container's limit of `resource` (`cpu` in millicores, `memory` in bytes).
pub fn limit(container: &Container, resource: &str) -> Option<i64> {
    amount(container, true, resource)
}

/// The host a running container calls in a loop with `wget` or `curl`, if it is a load generator.
pub fn load_target(container: &Container) -> Option<String> {
    let words = argv(container);
    let script = words.join(" ");
    let looping = script.contains("while ") || script.contains("for ");
    let calls = script.contains("wget") || script.contains("curl");
    if !looping || !calls {
        return None;
    }
    let url = script.split_whitespace().find_map(|w| {
        let w = w.trim_matches(|c| c == '"' || c == '\'' || c == ';');
        w.strip_prefix("http://")
            .or_else(|| w.strip_prefix("https://"))
    })?;
    let host = url.split(['/', ':']).next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// The Service (namespace, name) a host names from `namespace`: `web`,
/// `web.other`, `web.other.svc` or `web.other.svc.cluster.local`.
pub fn service_of_host(host: &str, namespace: &str) -> (String, String) {
    let mut parts = host.split('.');
    let name = parts.next().unwrap_or("").to_string();
    let ns = parts.next().unwrap_or(namespace).to_string();
    (ns, name)
}

/// Whether the pod's containers run (the pod is Running and not being deleted).
pub fn is_running(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        && pod.metadata.deletion_timestamp.is_none()
}

/// When the container named `name` last started running (Unix ms), if it runs.
pub fn running_since_ms(pod: &Pod, name: &str) -> Option<i64> {
    let status = containers::status_named(pod, name)?;
    let started = status
        .state
        .as_ref()?
        .running
        .as_ref()?
        .started_at
        .as_ref()?;
    Some(started.0.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(spec: serde_json::Value) -> Container {
        serde_json::from_value(spec).unwrap()
    }

    #[test]
    fn stress_workers_allocate_their_vm_bytes_and_may_pass_the_limit() {
        let stress = |args: serde_json::Value, limit: &str| {
            container(
                json!({"name": "c", "image": "polinux/stress", "command": ["stress"],
                "args": args, "resources": {"limits": {"memory": limit}}}),
            )
        };
        let over = stress(
            json!(["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]),
            "100Mi",
        );
        assert_eq!(workload_memory_bytes(&over), 250 << 20);
        assert!(exceeds_memory_limit(&over));
        let within = stress(json!(["--vm", "2", "--vm-bytes=50M"]), "200Mi");
        assert_eq!(workload_memory_bytes(&within), 100 << 20);
        assert!(!exceeds_memory_limit(&within));
        // 256M per worker when no size is given; nothing without workers or for other programs.
        assert_eq!(
            workload_memory_bytes(&stress(json!(["--vm", "1"]), "1Gi")),
            256 << 20
        );
        assert_eq!(
            workload_memory_bytes(&stress(json!(["--cpu", "1"]), "1Gi")),
            0
        );
        let nginx = container(
            json!({"name": "web", "image": "nginx", "resources": {"limits": {"memory": "1Mi"}}}),
        );
        assert_eq!(workload_memory_bytes(&nginx), 0);
        assert!(
            exceeds_memory_limit(&nginx),
            "nginx's 3Mi idle use is past a 1Mi limit"
        );
    }

    #[test]
    fn stress_workers_demand_a_core_each() {
        let vish = container(json!({"name": "cpu-demo-ctr", "image": "vish/stress",
            "args": ["-cpus", "2"]}));
        assert_eq!(workload_cpu_milli(&vish), 2000);
        let polinux = container(json!({"name": "c", "image": "polinux/stress",
            "command": ["stress"], "args": ["--cpu", "3", "--timeout", "60s"]}));
        assert_eq!(workload_cpu_milli(&polinux), 3000);
        let memory_only = container(json!({"name": "c", "image": "polinux/stress",
            "command": ["stress"], "args": ["--vm", "1"]}));
        assert_eq!(workload_cpu_milli(&memory_only), 0);
    }

    #[test]
    fn the_walkthroughs_load_generator_targets_its_service() {
        let generator = container(json!({"name": "load-generator", "image": "busybox:1.28",
            "command": ["/bin/sh", "-c", "while sleep 0.01; do wget -q -O- http://php-apache; done"]}));
        assert_eq!(load_target(&generator).as_deref(), Some("php-apache"));
        let once =
            container(json!({"name": "c", "image": "busybox", "command": ["wget", "http://web"]}));
        assert_eq!(load_target(&once), None, "a single request is no load");
        assert_eq!(
            service_of_host("web.shop.svc.cluster.local", "default"),
            ("shop".to_string(), "web".to_string())
        );
    }

    #[test]
    fn idle_usage_is_small_stable_and_by_image() {
        let nginx = container(json!({"name": "web", "image": "nginx:1.27"}));
        let a = idle("uid-1", &nginx);
        assert_eq!(a, idle("uid-1", &nginx));
        assert!((1..=2).contains(&a.cpu_milli));
        assert!(a.memory_bytes >= 3 * 1024 * 1024 && a.memory_bytes < 4 * 1024 * 1024);
    }
}
