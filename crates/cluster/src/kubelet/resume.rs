//! A kubelet that starts while its pods' containers already run (after a restored
//! snapshot, or a failed node's recovery) finds them again, as upstream's kubelet
//! finds its containers in the runtime: each container's run is rebuilt from the
//! status the kubelet last reported — state, ID, restarts, readiness, start time —
//! instead of being created afresh.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde_json::{json, Value};

use super::containers::ContainerRun;

/// Whether `pod` ran on the node at `host_ip` before: its status names this host
/// and at least one of its containers was started.
pub fn ran_here(pod: &Pod, host_ip: &str) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    status.host_ip.as_deref() == Some(host_ip)
        && status.pod_ip.is_some()
        && statuses(pod).any(|s| s.container_id.as_deref().is_some_and(|id| !id.is_empty()))
}

/// The pod's container and init container statuses.
fn statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            status
                .and_then(|s| s.init_container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
}

/// Brings freshly built `runs` to where the pod's status says they are, at virtual
/// time `now_ms` (Unix time `now_unix_ms`): a running container keeps its ID and
/// start, and its probes' last verdicts.
pub fn resume(runs: &mut [ContainerRun], pod: &Pod, now_ms: u64, now_unix_ms: i64) {
    for run in runs.iter_mut() {
        let Some(status) = statuses(pod).find(|s| s.name == run.name) else {
            continue;
        };
        let to_json = |state: &Option<_>| {
            state
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok())
                .unwrap_or_else(|| json!({}))
        };
        run.restarts = status.restart_count;
        run.container_id = status.container_id.clone().unwrap_or_default();
        run.last_state = to_json(&status.last_state);
        let state = to_json(&status.state);
        if state.as_object().is_some_and(|s| !s.is_empty()) {
            run.state = state;
        }
        let started_unix_ms = run
            .state
            .pointer("/running/startedAt")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_millisecond());
        if let Some(started) = started_unix_ms {
            let ago = (now_unix_ms - started).max(0) as u64;
            run.begin_probing(now_ms.saturating_sub(ago));
            run.ready = status.ready;
            run.started = status.started.unwrap_or(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::containers::Role;
    use crate::kubelet::env::Environment;
    use crate::kubelet::script::Script;
    use k8s_openapi::api::core::v1::Container;

    #[test]
    fn a_running_container_keeps_its_id_start_and_readiness() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            "status": {"hostIP": "172.18.0.3", "podIP": "10.244.1.2", "containerStatuses": [{
                "name": "web", "image": "nginx", "imageID": "", "ready": true, "started": true,
                "restartCount": 2, "containerID": "containerd://abc",
                "state": {"running": {"startedAt": "2026-01-01T00:00:30Z"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:00:20Z"}}
            }]}
        }))
        .unwrap();
        assert!(ran_here(&pod, "172.18.0.3"));
        assert!(!ran_here(&pod, "172.18.0.4"));
        let container = Container {
            name: "web".into(),
            image: Some("nginx".into()),
            ..Default::default()
        };
        let mut runs = vec![ContainerRun::new(
            &container,
            &Environment::default(),
            Role::Main,
            "ContainerCreating",
            Script::default(),
        )];
        // Now is 00:01:00, 60 s of virtual time after the epoch 2026-01-01T00:00:00Z.
        resume(&mut runs, &pod, 60_000, 1_767_225_660_000);
        let run = &runs[0];
        assert!(run.is_running() && run.is_ready());
        assert_eq!(run.container_id, "containerd://abc");
        assert_eq!(run.restarts, 2);
        assert_eq!(run.started_ms, 30_000);
        assert_eq!(run.last_state["terminated"]["exitCode"], 1);
    }
}
