//! One container's life on the node as the kubelet tracks it — waiting,
//! running, terminated, restarted after upstream's back-off — and what the pod's
//! phase and readiness follow from its init containers, sidecars, containers
//! and `restartPolicy`.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use serde_json::{json, Value};

use super::behaviour::{self, Behaviour};
use super::env::Environment;
use super::images;
use super::script::Script;
use super::termination_message::termination_message;
use super::usage;
use crate::sim::clock::doubled;

/// The pod's container (or init container) called `name`.
pub fn named<'p>(pod: &'p Pod, name: &str) -> Option<&'p Container> {
    let spec = pod.spec.as_ref()?;
    let inits = spec.init_containers.iter().flatten();
    spec.containers.iter().chain(inits).find(|c| c.name == name)
}

/// The status of the pod's container (or init container) called `name`.
pub fn status_named<'p>(pod: &'p Pod, name: &str) -> Option<&'p ContainerStatus> {
    let status = pod.status.as_ref()?;
    let inits = status.init_container_statuses.iter().flatten();
    let all = status.container_statuses.iter().flatten().chain(inits);
    all.into_iter().find(|s| s.name == name)
}

/// The first crash-loop back-off, doubled after each restart.
pub const BACKOFF_INITIAL_MS: u64 = 10_000;
/// The longest crash-loop back-off.
pub const BACKOFF_MAX_MS: u64 = 300_000;

/// What a container is to its pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An init container: runs to completion, in order, before the containers.
    Init,
    /// An init container with `restartPolicy: Always`: starts in order and keeps running.
    Sidecar,
    /// One of `spec.containers`.
    Main,
}

/// How long a container that allocates past its memory limit runs before the
/// kernel's OOM killer ends it.
const OOM_KILL_AFTER_MS: u64 = 1_000;

/// The exit code of a process ended by SIGKILL (128 + 9), as an OOM kill reports it.
const OOM_KILLED_EXIT_CODE: i32 = 137;

/// Upstream's `minimumGracePeriodInSeconds`: what is left of the grace period for
/// SIGTERM after a preStop hook is never less.
const MIN_GRACE_AFTER_HOOK_MS: u64 = 2_000;

/// What a container's preStop hook does.
pub struct PreStop {
    /// How long it runs.
    pub ms: u64,
    /// How an exec hook's command failed, when it did.
    pub failure: Option<ExecFailure>,
}

/// An exec hook's command that exited non-zero, and what it printed.
pub struct ExecFailure {
    pub command: Vec<String>,
    pub code: i32,
    pub output: String,
}

impl ExecFailure {
    /// Upstream's `FailedPreStopHook` message for the container `name` of the pod
    /// `pod_ref` (`name_namespace(uid)`).
    pub fn message(&self, name: &str, pod_ref: &str) -> String {
        let command = self.command.join(" ");
        format!(
            "Exec lifecycle hook ([{command}]) for Container {name:?} in Pod {pod_ref:?} failed - error: command '{command}' exited with {}: , message: {:?}",
            self.code, self.output
        )
    }
}

/// One container of a pod this kubelet runs.
pub struct ContainerRun {
    pub name: String,
    pub role: Role,
    pub image: String,
    pub behaviour: Behaviour,
    pub restarts: i32,
    /// `state` as containerStatuses reports it.
    pub state: Value,
    /// `lastState` (the previous termination, once there was one).
    pub last_state: Value,
    pub container_id: String,
    /// The container as the pod spec declares it (its probes).
    pub spec: Container,
    /// When the current run started, in virtual milliseconds.
    pub started_ms: u64,
    /// The readiness probe's verdict (true without a readiness probe).
    pub ready: bool,
    /// Whether the startup probe has succeeded (true without one).
    pub started: bool,
    /// Consecutive (successes, failures) of the startup, liveness and readiness probes.
    pub probe_streaks: [(i32, i32); 3],
    /// What the pod's lesson annotations script for it (nothing for init containers
    /// and sidecars).
    pub script: Script,
    /// Whether its runs end OOM-killed (its exit 137 then reads `OOMKilled`).
    pub oom_killed: bool,
    /// The DNS name whose resolving ends its run (exit 0), for a script waiting on it.
    pub lookup: Option<behaviour::Lookup>,
}

/// What `container` does with `env` under `script`: its behaviour (ended
/// OOM-killed when it allocates past its memory limit, at once or as a scripted
/// leak, unless it ends sooner), whether it is OOM-killed, and the DNS name whose
/// resolving ends it.
fn what_it_does(
    container: &Container,
    env: &Environment,
    script: Script,
) -> (Behaviour, bool, Option<behaviour::Lookup>) {
    let (unscripted, lookup) = behaviour::with_lookup(container, env);
    let mut behaviour = script.behaviour(unscripted);
    let oom_after_ms = if usage::exceeds_memory_limit(container) {
        Some(OOM_KILL_AFTER_MS)
    } else {
        usage::limit(container, "memory")
            .and_then(|limit| script.grows_past(usage::base_memory_bytes(container), limit))
    };
    let ends_ms = match &behaviour {
        Behaviour::Exit { after_ms, .. } => Some(*after_ms),
        Behaviour::Serve { .. } => None,
    };
    let oom_ms = oom_after_ms.filter(|oom| ends_ms.is_none_or(|end| *oom < end));
    if let Some(after_ms) = oom_ms {
        behaviour = Behaviour::Exit {
            after_ms,
            code: OOM_KILLED_EXIT_CODE,
            output: behaviour.output().clone(),
        };
    }
    let oom_killed = oom_ms.is_some();
    (behaviour, oom_killed, lookup)
}

impl ContainerRun {
    /// A container in `role` with its environment, waiting to be created (`waiting`
    /// is its reason: `ContainerCreating`, or `PodInitializing` while init containers run).
    pub fn new(
        container: &Container,
        env: &Environment,
        role: Role,
        waiting: &str,
        script: Script,
    ) -> ContainerRun {
        let script = if role == Role::Main {
            script
        } else {
            Script::default()
        };
        let (behaviour, oom_killed, lookup) = what_it_does(container, env, script);
        ContainerRun {
            name: container.name.clone(),
            role,
            image: container.image.clone().unwrap_or_default(),
            behaviour,
            restarts: 0,
            state: json!({"waiting": {"reason": waiting}}),
            last_state: json!({}),
            container_id: String::new(),
            spec: container.clone(),
            started_ms: 0,
            ready: false,
            started: false,
            probe_streaks: [(0, 0); 3],
            script,
            oom_killed,
            lookup,
        }
    }

    /// Takes for the next start what the container does with `env`, the
    /// environment it gets then: upstream's kubelet resolves variables from
    /// ConfigMaps and Secrets at each start, so a fixed ConfigMap can end a crash loop.
    pub fn start_with(&mut self, env: &Environment) {
        (self.behaviour, self.oom_killed, self.lookup) = what_it_does(&self.spec, env, self.script);
    }

    /// How long a container takes to stop when its pod is deleted with `grace_ms`:
    /// its preStop `hook` (cut off at the grace period), then SIGTERM until the process
    /// exits after `term_ms`, or SIGKILL when what is left of the grace period (at
    /// least 2 s after a hook) runs out.
    pub fn stop_ms(hook: Option<&PreStop>, grace_ms: u64, term_ms: u64) -> u64 {
        match hook.map(|hook| hook.ms.min(grace_ms)) {
            None => term_ms.min(grace_ms),
            Some(hook) => hook + term_ms.min((grace_ms - hook).max(MIN_GRACE_AFTER_HOOK_MS)),
        }
    }

    /// What the preStop hook does: a `sleep` action waits its seconds; an `exec`
    /// runs as long as its command would (a server binary's, such as `nginx -s
    /// quit`, is a control command that returns at once) and may fail; HTTP
    /// returns at once.
    pub fn pre_stop(&self) -> Option<PreStop> {
        let hook = self.spec.lifecycle.as_ref()?.pre_stop.as_ref()?;
        if let Some(sleep) = &hook.sleep {
            return Some(PreStop {
                ms: sleep.seconds.max(0) as u64 * 1000,
                failure: None,
            });
        }
        let Some(exec) = &hook.exec else {
            return Some(PreStop {
                ms: 0,
                failure: None,
            });
        };
        let command = exec.command.clone().unwrap_or_default();
        let process = Container {
            name: self.name.clone(),
            command: Some(command.clone()),
            ..Container::default()
        };
        Some(match behaviour::of(&process, &Environment::new()) {
            Behaviour::Exit {
                after_ms,
                code,
                output,
            } => PreStop {
                ms: after_ms,
                failure: (code != 0).then(|| ExecFailure {
                    command,
                    code,
                    output: output
                        .lines
                        .iter()
                        .map(|(_, line)| format!("{line}\n"))
                        .collect(),
                }),
            },
            Behaviour::Serve { .. } => PreStop {
                ms: 0,
                failure: None,
            },
        })
    }

    /// A new run began at `now_ms`: probes start over.
    pub fn begin_probing(&mut self, now_ms: u64) {
        self.started_ms = now_ms;
        self.ready = self.spec.readiness_probe.is_none();
        self.started = self.spec.startup_probe.is_none();
        self.probe_streaks = [(0, 0); 3];
    }

    /// Whether the container runs now.
    pub fn is_running(&self) -> bool {
        self.state.get("running").is_some()
    }

    /// Whether it has never run yet (created with the pod, not yet started).
    pub fn is_waiting_to_start(&self) -> bool {
        matches!(
            self.state
                .pointer("/waiting/reason")
                .and_then(Value::as_str),
            Some("ContainerCreating" | "PodInitializing")
        )
    }

    /// Whether it never ran because its image could not be had (`ErrImagePull`,
    /// `ImagePullBackOff`, `ErrImageNeverPull`, `InvalidImageName`).
    pub fn is_waiting_for_image(&self) -> bool {
        matches!(
            self.state
                .pointer("/waiting/reason")
                .and_then(Value::as_str),
            Some("ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "InvalidImageName")
        )
    }

    /// Waits because its image could not be had: `reason` and the kubelet's `message`.
    pub fn wait_for_image(&mut self, reason: &str, message: &str) {
        self.state = json!({"waiting": {"reason": reason, "message": message}});
    }

    /// Its image is on the node now: it waits to be created.
    pub fn image_ready(&mut self) {
        if self.is_waiting_for_image() {
            self.state = json!({"waiting": {"reason": "ContainerCreating"}});
        }
    }

    /// An init container that finished successfully.
    pub fn is_completed_init(&self) -> bool {
        self.role == Role::Init && self.terminated_code() == Some(0)
    }

    /// Whether it no longer holds the pod's initialization back: a completed init
    /// container, a started sidecar, or any regular container.
    pub fn is_past_init(&self) -> bool {
        match self.role {
            Role::Init => self.is_completed_init(),
            Role::Sidecar => self.is_running() && self.started,
            Role::Main => true,
        }
    }

    /// Where events about it point: `spec.containers{name}` or `spec.initContainers{name}`.
    pub fn field_path(&self) -> String {
        match self.role {
            Role::Main => format!("spec.containers{{{}}}", self.name),
            Role::Init | Role::Sidecar => format!("spec.initContainers{{{}}}", self.name),
        }
    }

    /// Whether it runs again after exiting with `code` under the pod's `policy`:
    /// sidecars always do, init containers only after a failure.
    pub fn restarts_after(&self, policy: &str, code: i32) -> bool {
        match self.role {
            Role::Sidecar => true,
            Role::Init => code != 0 && policy != "Never",
            Role::Main => restarts_after(policy, code),
        }
    }

    /// Whether the container counts as ready: running, started and passing readiness.
    pub fn is_ready(&self) -> bool {
        self.is_running() && self.started && self.ready
    }

    /// The exit code of a terminated container that will not run again.
    pub fn terminated_code(&self) -> Option<i32> {
        self.state
            .pointer("/terminated/exitCode")
            .and_then(Value::as_i64)
            .map(|c| c as i32)
    }

    /// Starts (or restarts) the container with a fresh ID.
    pub fn start(&mut self, now: &str, container_id: String) {
        self.state = json!({"running": {"startedAt": now}});
        self.container_id = container_id;
    }

    /// The container's process ended with `code` at `now` (virtual `now_ms`, Unix
    /// `now_unix_ms`), leaving its termination message.
    pub fn terminate(&mut self, code: i32, now: &str, now_ms: u64, now_unix_ms: i64) {
        let started = self
            .state
            .pointer("/running/startedAt")
            .cloned()
            .unwrap_or_else(|| json!(now));
        let elapsed_ms = now_ms.saturating_sub(self.started_ms);
        let message = termination_message(
            &self.spec,
            self.behaviour.output(),
            elapsed_ms,
            now_unix_ms - elapsed_ms as i64,
            code,
        );
        self.state = json!({"terminated": {
            "exitCode": code,
            "reason": match code {
                0 => "Completed",
                OOM_KILLED_EXIT_CODE if self.oom_killed => "OOMKilled",
                _ => "Error",
            },
            "startedAt": started,
            "finishedAt": now,
            "containerID": self.container_id,
        }});
        if let Some(message) = message {
            self.state["terminated"]["message"] = json!(message);
        }
    }

    /// Waits in CrashLoopBackOff before the next restart; the termination becomes `lastState`.
    pub fn back_off(&mut self, message: String) {
        let terminated = std::mem::replace(
            &mut self.state,
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": message}}),
        );
        self.last_state = terminated;
    }

    /// Restarts after an exit: the termination becomes `lastState` (if it is not already).
    pub fn restart(&mut self, now: &str, container_id: String) {
        if self.state.get("terminated").is_some() {
            self.last_state = self.state.clone();
        }
        self.restarts += 1;
        self.start(now, container_id);
    }

    /// The entry of `containerStatuses`.
    pub fn status(&self) -> Value {
        let running = self.is_running();
        let ready = match self.role {
            Role::Init => self.is_completed_init(),
            Role::Sidecar | Role::Main => self.is_ready(),
        };
        let mut status = json!({
            "name": self.name,
            "state": self.state,
            "lastState": self.last_state,
            "ready": ready,
            "restartCount": self.restarts,
            "image": if self.container_id.is_empty() { self.image.clone() } else { images::qualified(&self.image) },
            "imageID": if self.container_id.is_empty() { String::new() } else { images::image_id(&self.image) },
            "started": running && self.started,
        });
        if !self.container_id.is_empty() {
            status["containerID"] = json!(self.container_id);
        }
        status
    }
}

/// Whether a container that exited with `code` runs again under `policy`.
pub fn restarts_after(policy: &str, code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => code != 0,
        _ => true,
    }
}

/// The back-off before restart number `restarts + 1` (the first restart is immediate).
pub fn back_off_ms(restarts: i32) -> Option<u64> {
    if restarts == 0 {
        return None;
    }
    Some(doubled(
        BACKOFF_INITIAL_MS,
        (restarts - 1) as u32,
        BACKOFF_MAX_MS,
    ))
}

/// Whether init has finished: every init container completed and every
/// sidecar started (once true, a pod stays initialized).
pub fn init_done(runs: &[ContainerRun]) -> bool {
    runs.iter().all(ContainerRun::is_past_init)
}

/// The pod phase its containers give under `policy`: Failed when an init
/// container failed for good, Pending until `initialized` and while creating,
/// Succeeded or Failed once all containers have terminated for good, else Running.
pub fn phase(runs: &[ContainerRun], policy: &str, initialized: bool) -> &'static str {
    let init_failed = runs.iter().any(|r| {
        r.role == Role::Init
            && r.terminated_code()
                .is_some_and(|c| !r.restarts_after(policy, c) && c != 0)
    });
    if init_failed {
        return "Failed";
    }
    let main: Vec<&ContainerRun> = runs.iter().filter(|r| r.role == Role::Main).collect();
    if !initialized
        || main
            .iter()
            .any(|r| r.is_waiting_to_start() || r.is_waiting_for_image())
    {
        return "Pending";
    }
    let codes: Option<Vec<i32>> = main
        .iter()
        .map(|r| r.terminated_code().filter(|c| !restarts_after(policy, *c)))
        .collect();
    match codes {
        Some(codes) if !codes.is_empty() && codes.iter().all(|c| *c == 0) => "Succeeded",
        Some(codes) if !codes.is_empty() => "Failed",
        _ => "Running",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_ten_seconds_to_five_minutes() {
        let steps: Vec<Option<u64>> = (0..8).map(back_off_ms).collect();
        assert_eq!(
            steps,
            [
                None,
                Some(10_000),
                Some(20_000),
                Some(40_000),
                Some(80_000),
                Some(160_000),
                Some(300_000),
                Some(300_000)
            ]
        );
    }

    #[test]
    fn restart_policies() {
        assert!(restarts_after("Always", 0));
        assert!(!restarts_after("OnFailure", 0));
        assert!(restarts_after("OnFailure", 2));
        assert!(!restarts_after("Never", 1));
    }

    #[test]
    fn phases_follow_terminations() {
        let c = Container {
            name: "a".into(),
            image: Some("busybox".into()),
            ..Default::default()
        };
        let mut run = ContainerRun::new(
            &c,
            &Environment::new(),
            Role::Main,
            "ContainerCreating",
            Script::default(),
        );
        let one = |run: &ContainerRun, policy| phase(std::slice::from_ref(run), policy, true);
        assert_eq!(one(&run, "Never"), "Pending");
        run.start("t0", "containerd://1".into());
        assert_eq!(one(&run, "Never"), "Running");
        run.terminate(0, "t1", 0, 0);
        assert_eq!(one(&run, "Never"), "Succeeded");
        assert_eq!(one(&run, "Always"), "Running", "it will restart");
        run.terminate(2, "t1", 0, 0);
        assert_eq!(one(&run, "Never"), "Failed");
        assert_eq!(one(&run, "OnFailure"), "Running");
        run.back_off("back-off".into());
        assert_eq!(one(&run, "Always"), "Running");
    }

    #[test]
    fn a_pre_stop_hook_delays_the_stop_within_the_grace_period() {
        let with_hook = |hook: serde_json::Value| {
            let c: Container = serde_json::from_value(json!({
                "name": "web", "image": "nginx", "lifecycle": {"preStop": hook}
            }))
            .unwrap();
            ContainerRun::new(
                &c,
                &Environment::new(),
                Role::Main,
                "ContainerCreating",
                Script::default(),
            )
        };
        let stop = |run: &ContainerRun, grace_ms, term_ms| {
            ContainerRun::stop_ms(run.pre_stop().as_ref(), grace_ms, term_ms)
        };
        let plain = ContainerRun::new(
            &Container {
                name: "web".into(),
                image: Some("nginx".into()),
                ..Default::default()
            },
            &Environment::new(),
            Role::Main,
            "ContainerCreating",
            Script::default(),
        );
        assert_eq!(stop(&plain, 30_000, 300), 300);
        assert_eq!(stop(&plain, 100, 300), 100);
        let sleep = with_hook(json!({"sleep": {"seconds": 20}}));
        assert_eq!(stop(&sleep, 30_000, 300), 20_300);
        // Cut off at the grace period, then at least 2 s for SIGTERM.
        assert_eq!(stop(&sleep, 5_000, 300), 5_300);
        assert_eq!(stop(&sleep, 5_000, 9_000), 7_000);
        let exec = with_hook(json!({"exec": {"command": ["/bin/sh", "-c", "sleep 5"]}}));
        assert_eq!(stop(&exec, 30_000, 300), 5_300);
        let quit = with_hook(json!({"exec": {"command": ["/usr/sbin/nginx", "-s", "quit"]}}));
        assert_eq!(stop(&quit, 30_000, 300), 300);
        let http = with_hook(json!({"httpGet": {"path": "/shutdown", "port": 80}}));
        assert_eq!(stop(&http, 30_000, 300), 300);
        let failing =
            with_hook(json!({"exec": {"command": ["/bin/sh", "-c", "echo bye; exit 3"]}}));
        let failure = failing.pre_stop().unwrap().failure.unwrap();
        assert_eq!(
            failure.message("web", "drain-me_default(u-1)"),
            "Exec lifecycle hook ([/bin/sh -c echo bye; exit 3]) for Container \"web\" in Pod \"drain-me_default(u-1)\" failed - error: command '/bin/sh -c echo bye; exit 3' exited with 3: , message: \"bye\\n\""
        );
        assert!(exec.pre_stop().unwrap().failure.is_none());
    }
}
