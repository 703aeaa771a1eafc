//! Files containers of one pod share through a volume (an `emptyDir` both mount):
//! what a container that follows a file (`tail -F /opt/logs.txt`, the
//! documentation's logshipper sidecar) prints, read from the lines the pod's
//! other containers write to it — at the follower's start the last 10 lines
//! already there, then each line as it is written.

use k8s_openapi::api::core::v1::{Container, Pod, VolumeMount};

use super::behaviour;
use super::env::{environment, Sources};
use super::usage::running_since_ms;

/// How many lines `tail` prints of what a file already holds.
const TAIL_LINES: usize = 10;

/// The lines (Unix milliseconds, text) a container of `pod` that follows `path`
/// in its mounts prints from `started_ms` to `ended_ms`, from what the pod's other
/// containers write there.
pub fn followed_lines(
    pod: &Pod,
    follower: &Container,
    path: &str,
    sources: &Sources,
    started_ms: i64,
    ended_ms: i64,
) -> Vec<(i64, String)> {
    let Some((volume, relative)) = volume_path(follower, path) else {
        return Vec::new();
    };
    let spec = pod.spec.as_ref();
    let inits = spec
        .into_iter()
        .flat_map(|s| s.init_containers.iter().flatten());
    let all = spec.into_iter().flat_map(|s| &s.containers).chain(inits);
    let mut lines: Vec<(i64, String)> = Vec::new();
    for writer in all.filter(|c| c.name != follower.name) {
        let Some(mount) = mount_of(writer, volume) else {
            continue;
        };
        let Some(since) = running_since_ms(pod, &writer.name) else {
            continue;
        };
        let their_path = format!("{}{relative}", mount.mount_path.trim_end_matches('/'));
        let env = environment(pod, writer, sources).unwrap_or_default();
        let behaviour = behaviour::of(writer, &env);
        let output = behaviour.output();
        let elapsed = (ended_ms - since).max(0) as u64;
        let writes = output.replay(&output.writes, |w| w.at_ms, elapsed, 1_000);
        for (at, write) in writes.into_iter().filter(|(_, w)| w.path == their_path) {
            let at = since + at as i64;
            lines.extend(write.text.lines().map(|line| (at, line.to_string())));
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    let before = lines.iter().filter(|(at, _)| *at <= started_ms).count();
    let skipped = before.saturating_sub(TAIL_LINES);
    lines
        .into_iter()
        .skip(skipped)
        .map(|(at, line)| (at.max(started_ms), line))
        .collect()
}

/// The volume a path of `container` lies in and the path within it (`/opt/logs.txt`
/// under a mount at `/opt` is `/logs.txt`).
fn volume_path<'c>(container: &'c Container, path: &str) -> Option<(&'c str, String)> {
    container.volume_mounts.iter().flatten().find_map(|m| {
        let root = m.mount_path.trim_end_matches('/');
        let rest = path.strip_prefix(root)?;
        rest.starts_with('/')
            .then(|| (m.name.as_str(), rest.to_string()))
    })
}

fn mount_of<'c>(container: &'c Container, volume: &str) -> Option<&'c VolumeMount> {
    container
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == volume)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A pod whose `writer` appends a line a second to the shared volume since
    /// 00:00:00 and whose `reader` follows it since `reader_started`.
    fn pod(reader_started: &str) -> Pod {
        let running = |at: &str| json!({"running": {"startedAt": at}});
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {
                "containers": [
                    {"name": "writer", "image": "alpine",
                     "command": ["sh", "-c", "while true; do echo tick >> /data/log; sleep 1; done"],
                     "volumeMounts": [{"name": "shared", "mountPath": "/data"}]},
                    {"name": "reader", "image": "alpine", "command": ["tail", "-F", "/var/in/log"],
                     "volumeMounts": [{"name": "shared", "mountPath": "/var/in"}]}],
                "volumes": [{"name": "shared", "emptyDir": {}}]},
            "status": {"containerStatuses": [
                {"name": "writer", "image": "alpine", "imageID": "", "ready": true, "restartCount": 0,
                 "state": running("2026-01-01T00:00:00Z")},
                {"name": "reader", "image": "alpine", "imageID": "", "ready": true, "restartCount": 0,
                 "state": running(reader_started)}]}
        }))
        .unwrap()
    }

    #[test]
    fn a_follower_prints_the_last_ten_lines_then_each_new_one() {
        let epoch = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let p = pod("2026-01-01T00:00:30Z");
        let reader = &p.spec.as_ref().unwrap().containers[1];
        let sources = Sources::default();
        let lines = followed_lines(
            &p,
            reader,
            "/var/in/log",
            &sources,
            epoch + 30_000,
            epoch + 35_000,
        );
        let times: Vec<i64> = lines.iter().map(|(at, _)| (at - epoch) / 1000).collect();
        // 31 lines by 00:00:30 (one at each second from 0), the last 10 shown at once.
        assert_eq!(
            times,
            [30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 31, 32, 33, 34, 35]
        );
        assert!(lines.iter().all(|(_, l)| l == "tick"));
        let elsewhere = followed_lines(
            &p,
            reader,
            "/tmp/log",
            &sources,
            epoch + 30_000,
            epoch + 35_000,
        );
        assert!(elsewhere.is_empty(), "not in a shared volume");
    }
}
