//! The kubelet's pod workers: a bound pod goes ContainerCreating → (image pulls) →
//! Running and Ready; containers that exit are restarted as `restartPolicy` says
//! (CrashLoopBackOff with upstream's back-off) or leave the pod Succeeded or
//! Failed; a deleted pod's containers stop and the kubelet removes the pod
//! (DELETE with grace 0 and a UID precondition), as upstream's kubelet does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{json, Value};

use super::behaviour::Behaviour;
use super::containers::{self, back_off_ms, init_done, ContainerRun, Role};
use super::env::{environment, read_sources, Sources};
use super::images;
use super::probes::{self, ProbeKind};
use super::pull_back_off::PullBackOff;
use super::registry::{self, PullError};
use super::resume;
use super::script::Script;
use super::volumes;
use crate::api::Request;
use crate::client::{pod_path, ObjectRef, Recorder};
use crate::service_request::service_path;
use crate::sim::clock::go_duration;
use crate::sim::Ctx;

/// The volume manager's first wait after a failed mount (`initialDurationBeforeRetry`).
const MOUNT_RETRY_FIRST_MS: u64 = 500;
/// Its longest (`maxDurationBeforeRetry`, 2 min 2 s).
const MOUNT_RETRY_MAX_MS: u64 = 122_000;

/// Pull time bounds for an image not yet on the node, in virtual milliseconds.
const PULL_MS: (u64, u64) = (800, 4_000);
/// How long pulling an image whose layers are on the node takes (policy `Always`).
const CACHED_PULL_MS: (u64, u64) = (300, 1_200);
/// How long a pull the registry refuses takes to fail.
const FAILED_PULL_MS: (u64, u64) = (300, 1_500);
/// How long a stopping container takes to exit after SIGTERM.
const STOP_MS: (u64, u64) = (100, 600);
/// `terminationGracePeriodSeconds`' default, for a deletion that carries none.
const DEFAULT_GRACE_SECONDS: i64 = 30;
/// How long a pod worker whose sync failed waits before the next one (upstream's
/// `backOffPeriod`; a retry for images adds up to half of it again, as its jitter does).
const SYNC_RETRY_MS: u64 = 10_000;

/// What a pod worker does when its timer fires.
#[derive(Clone, Debug)]
enum Step {
    /// Images pulled (or failed to): report the pulls, create and start the containers.
    Start {
        key: String,
        uid: String,
        pulls: Vec<Pull>,
    },
    /// The pod worker syncs again a pod whose containers wait for their images.
    RetryImages { key: String, uid: String },
    /// Containers exited after SIGTERM: report and remove the pod.
    Stop { key: String, uid: String },
    /// A container's process ended on its own (in its run `generation`).
    Exit {
        key: String,
        uid: String,
        index: usize,
        generation: i32,
    },
    /// A pod whose containers could not be configured: try again.
    Retry { key: String, uid: String },
    /// A container's back-off is over: start it again.
    Restart {
        key: String,
        uid: String,
        index: usize,
    },
    /// Time for a waiting container's next DNS lookup (in its run `generation`).
    Lookup {
        key: String,
        uid: String,
        index: usize,
        generation: i32,
    },
    /// Time for a container's probe (in its run `generation`).
    Probe {
        key: String,
        uid: String,
        index: usize,
        generation: i32,
        kind: ProbeKind,
    },
}

/// One image pull a container waits on.
#[derive(Clone, Debug)]
struct Pull {
    /// The container's index in the pod's runs.
    index: usize,
    image: String,
    took_ms: u64,
    /// The runtime's error when the registry refuses it.
    error: Option<String>,
}

/// What the kubelet remembers about a pod it runs.
struct PodRecord {
    uid: String,
    ip: String,
    stopping: bool,
    restart_policy: String,
    /// Init containers (and sidecars) first, then the containers.
    runs: Vec<ContainerRun>,
    /// Whether init has finished (it stays finished).
    initialized: bool,
    pull_back_off: PullBackOff,
    /// Whether a [`Step::RetryImages`] is pending.
    image_retry_pending: bool,
}

impl PodRecord {
    /// The record of a pod that is not stopping.
    fn new(uid: String, ip: String, pod: &Pod, runs: Vec<ContainerRun>, initialized: bool) -> Self {
        PodRecord {
            uid,
            ip,
            stopping: false,
            restart_policy: pod
                .spec
                .as_ref()
                .and_then(|s| s.restart_policy.clone())
                .unwrap_or_else(|| "Always".into()),
            runs,
            initialized,
            pull_back_off: PullBackOff::default(),
            image_retry_pending: false,
        }
    }
}

/// A pod's volumes that failed to mount, backing off.
#[derive(Clone, Copy, Debug, Default)]
struct MountBackOff {
    /// Failures in a row.
    failures: u32,
    /// When the next attempt is permitted (virtual milliseconds).
    retry_at_ms: u64,
}

/// Upstream's `nodeStatusMaxImages`.
const MAX_REPORTED_IMAGES: usize = 50;

/// All pods of one node.
pub struct PodWorkers {
    host_ip: String,
    pod_cidr_prefix: String,
    next_ip: u32,
    images: BTreeSet<String>,
    pods: BTreeMap<String, PodRecord>,
    /// The uid of each pod this kubelet asked the API to delete, until its watch
    /// reports the deletion (the versions before it need no second request).
    deleted: BTreeMap<String, String>,
    steps: BTreeMap<u64, Step>,
    next_step: u64,
    /// The kubelet's timer keys for pod steps start here.
    timer_base: u64,
    /// Pods whose volumes failed to mount, and when they may be tried again.
    mount_failures: BTreeMap<String, MountBackOff>,
    /// The Services the kubelet knows, for containers' Service links.
    services: Vec<Arc<Service>>,
    /// The node's allocatable resources, the limits of containers that set none.
    node_allocatable: Arc<BTreeMap<String, String>>,
}

/// The event reference to one container of `pod`.
fn container_ref(pod: &Pod, run: &ContainerRun) -> ObjectRef {
    ObjectRef::of(pod).with_field_path(run.field_path())
}

/// The runs for a new pod: init containers (sidecars when they always restart), then
/// containers, each with its environment; the error is the first container's whose
/// environment names what does not exist (`configmap "app" not found`).
fn runs_for(pod: &Pod, sources: &Sources) -> Result<Vec<ContainerRun>, String> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(Vec::new());
    };
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let script = Script::of(pod.metadata.annotations.as_ref());
    let mut runs = Vec::new();
    for c in inits {
        let role = if c.restart_policy.as_deref() == Some("Always") {
            Role::Sidecar
        } else {
            Role::Init
        };
        let env = environment(pod, c, sources)?;
        runs.push(ContainerRun::new(c, &env, role, "PodInitializing", script));
    }
    let waiting = if inits.is_empty() {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    for c in &spec.containers {
        let env = environment(pod, c, sources)?;
        runs.push(ContainerRun::new(c, &env, Role::Main, waiting, script));
    }
    Ok(runs)
}

/// The kubelet's `Pulled` message for a pull of `image` that took `took_ms`.
fn pulled_message(image: &str, took_ms: u64) -> String {
    format!(
        "Successfully pulled image {image:?} in {d} ({d} including waiting). Image size: {} bytes.",
        images::size_bytes(image),
        d = go_duration(took_ms)
    )
}

/// The image `pod`'s spec names now for the container of `run`.
fn spec_image<'a>(pod: &'a Pod, run: &ContainerRun) -> Option<&'a str> {
    let spec = pod.spec.as_ref()?;
    let containers = match run.role {
        Role::Main => &spec.containers,
        Role::Init | Role::Sidecar => spec.init_containers.as_ref()?,
    };
    containers
        .iter()
        .find(|c| c.name == run.name)
        .and_then(|c| c.image.as_deref())
}

/// The `Initialized` condition: True, or False naming the init containers not done.
fn initialized_condition(runs: &[ContainerRun], initialized: bool, at: &Value) -> Value {
    let pending: Vec<&str> = if initialized {
        Vec::new()
    } else {
        let pending = runs.iter().filter(|r| !r.is_past_init());
        pending.map(|r| r.name.as_str()).collect()
    };
    initialized_naming(initialized, &pending, at)
}

/// The `Initialized` condition: True, or False naming the `pending` init containers.
fn initialized_naming(initialized: bool, pending: &[&str], at: &Value) -> Value {
    let mut c = condition("Initialized", initialized, at);
    if !initialized {
        c["reason"] = json!("ContainersNotInitialized");
        c["message"] = json!(format!(
            "containers with incomplete status: [{}]",
            pending.join(" ")
        ));
    }
    c
}

/// A `Ready` or `ContainersReady` condition that is False for the `unready` containers.
fn not_ready_condition(kind: &str, unready: &[&str], at: &Value) -> Value {
    let mut c = condition(kind, false, at);
    c["reason"] = json!("ContainersNotReady");
    c["message"] = json!(unready_message(unready));
    c
}

/// Why a pod is not ready: `containers with unready status: [web sidecar]`.
fn unready_message(unready: &[&str]) -> String {
    format!("containers with unready status: [{}]", unready.join(" "))
}

/// The `initContainerStatuses` and `containerStatuses` of the runs.
fn statuses(runs: &[ContainerRun]) -> (Vec<Value>, Vec<Value>) {
    let (init, main): (Vec<&ContainerRun>, Vec<&ContainerRun>) =
        runs.iter().partition(|r| r.role != Role::Main);
    (
        init.iter().map(|r| r.status()).collect(),
        main.iter().map(|r| r.status()).collect(),
    )
}

/// A condition as the kubelet writes it.
fn condition(kind: &str, status: bool, at: &Value) -> Value {
    json!({
        "type": kind,
        "status": if status { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": at,
    })
}

/// The PodScheduled condition the binding set, kept as is.
fn scheduled_condition(pod: &Pod, now: &str) -> Value {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
        .and_then(|c| serde_json::to_value(c).ok())
        .unwrap_or_else(|| condition("PodScheduled", true, &json!(now)))
}

impl PodWorkers {
    /// Workers for a node at `host_ip`, handing out pod IPs from `pod_cidr`.
    /// Workers whose timers use the kubelet's keys from `timer_base` upward.
    pub fn new(host_ip: &str, pod_cidr: &str, timer_base: u64) -> PodWorkers {
        let prefix = pod_cidr
            .split('/')
            .next()
            .and_then(|ip| ip.rsplit_once('.'))
            .map(|(prefix, _)| prefix.to_string())
            .unwrap_or_else(|| "10.244.0".into());
        PodWorkers {
            host_ip: host_ip.into(),
            pod_cidr_prefix: prefix,
            next_ip: 2,
            images: BTreeSet::new(),
            pods: BTreeMap::new(),
            deleted: BTreeMap::new(),
            steps: BTreeMap::new(),
            next_step: 0,
            timer_base,
            mount_failures: BTreeMap::new(),
            services: Vec::new(),
            node_allocatable: Arc::default(),
        }
    }

    /// Workers whose containers see `allocatable` as their node's resources.
    pub fn with_node_allocatable(mut self, allocatable: BTreeMap<String, String>) -> Self {
        self.node_allocatable = Arc::new(allocatable);
        self
    }

    /// The Services containers started from now on are linked to.
    pub fn set_services(&mut self, services: Vec<Arc<Service>>) {
        self.services = services;
    }

    /// What `pod`'s containers' environments read: its ConfigMaps and Secrets
    /// from the API, the Services the kubelet knows, the node's allocatable.
    fn sources_of(&self, pod: &Pod, ctx: &mut Ctx) -> Sources {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let read = read_sources(pod, |plural, name| {
            let path = format!("/api/v1/namespaces/{namespace}/{plural}/{name}");
            let response = ctx.call(Request::get(path));
            response.is_success().then(|| response.body_json())
        });
        Sources {
            services: self.services.clone(),
            node_allocatable: self.node_allocatable.clone(),
            ..read
        }
    }

    fn schedule(&mut self, ctx: &mut Ctx, after: u64, step: Step) {
        let id = self.next_step;
        self.next_step += 1;
        self.steps.insert(id, step);
        ctx.set_timer(after, self.timer_base + id);
    }

    fn allocate_ip(&mut self) -> String {
        let ip = self.peek_ip();
        self.next_ip = if self.next_ip >= 254 {
            2
        } else {
            self.next_ip + 1
        };
        ip
    }

    /// The address the next pod gets.
    fn peek_ip(&self) -> String {
        format!("{}.{}", self.pod_cidr_prefix, self.next_ip)
    }

    /// A container's environment names a ConfigMap, Secret or key that does not exist:
    /// the containers wait in `CreateContainerConfigError` and the kubelet tries again
    /// after [`SYNC_RETRY_MS`], as upstream's pod worker does.
    fn config_error(
        &mut self,
        key: &str,
        pod: &Pod,
        message: &str,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let waiting = json!({"reason": "CreateContainerConfigError", "message": message});
        self.report_waiting(key, pod, waiting, true, ctx);
        recorder.event(
            ctx,
            &ObjectRef::of(pod),
            "Warning",
            "Failed",
            &format!("Error: {message}"),
        );
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        self.schedule(
            ctx,
            SYNC_RETRY_MS,
            Step::Retry {
                key: key.into(),
                uid,
            },
        );
    }

    /// Reports every container of a pod that could not start waiting as `waiting`
    /// says, with the pod's conditions (its sandbox is ready when `sandbox`).
    fn report_waiting(&self, key: &str, pod: &Pod, waiting: Value, sandbox: bool, ctx: &mut Ctx) {
        let statuses: Vec<Value> = pod
            .spec
            .iter()
            .flat_map(|s| &s.containers)
            .map(|c| {
                json!({
                    "name": c.name,
                    "image": c.image,
                    "imageID": "",
                    "ready": false,
                    "restartCount": 0,
                    "started": false,
                    "state": {"waiting": waiting},
                })
            })
            .collect();
        let now = ctx.timestamp();
        let at = json!(now);
        let spec = pod.spec.as_ref();
        let inits: Vec<&str> = spec
            .iter()
            .flat_map(|s| s.init_containers.iter().flatten())
            .map(|c| c.name.as_str())
            .collect();
        let unready: Vec<&str> = spec
            .iter()
            .flat_map(|s| &s.containers)
            .map(|c| c.name.as_str())
            .collect();
        let status = json!({"status": {
            "conditions": [
                condition("PodReadyToStartContainers", sandbox, &at),
                initialized_naming(inits.is_empty(), &inits, &at),
                not_ready_condition("Ready", &unready, &at),
                not_ready_condition("ContainersReady", &unready, &at),
                scheduled_condition(pod, &now),
            ],
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": pod.status.as_ref().and_then(|s| s.start_time.clone()).map_or(json!(now), |t| json!(t)),
            "containerStatuses": statuses,
        }});
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
    }

    /// A volume cannot be set up (`configmap "app" not found`): the containers wait
    /// in `ContainerCreating`, each failure is a `FailedMount` event, and the kubelet
    /// tries again after the volume manager's back-off (500 ms doubling to 2 min 2 s).
    fn mount_failed(
        &mut self,
        key: &str,
        pod: &Pod,
        message: &str,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let now_ms = ctx.now().millis();
        let failed = self.mount_failures.entry(key.to_string()).or_default();
        let delay = (MOUNT_RETRY_FIRST_MS << failed.failures.min(16)).min(MOUNT_RETRY_MAX_MS);
        failed.failures += 1;
        failed.retry_at_ms = now_ms + delay;
        if failed.failures == 1 {
            let waiting = json!({"reason": "ContainerCreating"});
            self.report_waiting(key, pod, waiting, false, ctx);
        }
        recorder.event(ctx, &ObjectRef::of(pod), "Warning", "FailedMount", message);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let step = Step::Retry {
            key: key.into(),
            uid,
        };
        self.schedule(ctx, delay, step);
    }

    /// A pod bound to this node changed (or appeared, or was removed).
    pub fn sync(&mut self, key: &str, pod: Option<&Pod>, ctx: &mut Ctx, recorder: &mut Recorder) {
        let Some(pod) = pod else {
            self.pods.remove(key);
            self.deleted.remove(key);
            self.mount_failures.remove(key);
            return;
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if self.pods.get(key).is_some_and(|r| r.uid != uid) {
            self.pods.remove(key); // a new pod under an old name
        }
        if pod.metadata.deletion_timestamp.is_some() {
            let Some(record) = self.pods.get_mut(key) else {
                // Never started here: nothing runs, so it goes at once (unless
                // this kubelet already deleted it and the watch is catching up).
                if self.deleted.get(key) != Some(&uid) {
                    self.remove(key, &uid, ctx);
                }
                return;
            };
            if !record.stopping {
                record.stopping = true;
                let running: Vec<(ObjectRef, String)> = record
                    .runs
                    .iter()
                    .filter(|r| r.is_running())
                    .map(|r| (container_ref(pod, r), r.name.clone()))
                    .collect();
                for (about, name) in running {
                    recorder.event(
                        ctx,
                        &about,
                        "Normal",
                        "Killing",
                        &format!("Stopping container {name}"),
                    );
                }
                let term_ms = ctx.rng().between(STOP_MS.0, STOP_MS.1);
                let grace_ms = pod
                    .metadata
                    .deletion_grace_period_seconds
                    .unwrap_or(DEFAULT_GRACE_SECONDS)
                    .max(0) as u64
                    * 1000;
                let pod_ref = format!(
                    "{}_{}({uid})",
                    pod.metadata.name.as_deref().unwrap_or_default(),
                    pod.metadata.namespace.as_deref().unwrap_or_default()
                );
                let mut delay = term_ms.min(grace_ms);
                for run in record.runs.iter().filter(|r| r.is_running()) {
                    let hook = run.pre_stop();
                    delay = delay.max(ContainerRun::stop_ms(hook.as_ref(), grace_ms, term_ms));
                    if let Some(failure) = hook.and_then(|hook| hook.failure) {
                        recorder.event(
                            ctx,
                            &container_ref(pod, run),
                            "Warning",
                            "FailedPreStopHook",
                            &failure.message(&run.name, &pod_ref),
                        );
                    }
                }
                self.schedule(
                    ctx,
                    delay,
                    Step::Stop {
                        key: key.into(),
                        uid,
                    },
                );
            }
            return;
        }
        if self.pods.contains_key(key) {
            return;
        }
        let backing_off = self.mount_failures.get(key);
        if backing_off.is_some_and(|failed| ctx.now().millis() < failed.retry_at_ms) {
            // No retries permitted until the back-off is over (its retry is scheduled).
            return;
        }
        let sources = self.sources_of(pod, ctx);
        if let Some(message) = volumes::mount_failure(pod, &sources) {
            self.mount_failed(key, pod, &message, ctx, recorder);
            return;
        }
        self.mount_failures.remove(key);
        // Containers' environments see the addresses the sandbox gets (status.podIP).
        let mut placed = pod.clone();
        let status = placed.status.get_or_insert_with(Default::default);
        status.pod_ip = Some(self.peek_ip());
        status.host_ip = Some(self.host_ip.clone());
        let admitted = ctx.timestamp().parse().ok().map(Time);
        status.start_time = status.start_time.take().or(admitted);
        let runs = match runs_for(&placed, &sources) {
            Ok(runs) => runs,
            Err(message) => {
                self.config_error(key, pod, &message, ctx, recorder);
                return;
            }
        };
        let ip = self.allocate_ip();
        let initialized = init_done(&runs);
        let now = json!(ctx.timestamp());
        let names: Vec<&str> = runs
            .iter()
            .filter(|r| r.role != Role::Init)
            .map(|r| r.name.as_str())
            .collect();
        let (init_statuses, container_statuses) = statuses(&runs);
        let mut status = json!({"status": {
            "conditions": [
                condition("PodReadyToStartContainers", false, &now),
                initialized_condition(&runs, initialized, &now),
                not_ready_condition("Ready", &names, &now),
                not_ready_condition("ContainersReady", &names, &now),
                scheduled_condition(pod, &ctx.timestamp()),
            ],
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": now,
            "containerStatuses": container_statuses,
        }});
        if !init_statuses.is_empty() {
            status["status"]["initContainerStatuses"] = json!(init_statuses);
        }
        let count = runs.len();
        self.pods.insert(
            key.into(),
            PodRecord::new(uid.clone(), ip, pod, runs, initialized),
        );
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
        // Pull what the node lacks; the containers start when the slowest pull is done.
        let slowest = ctx.rng().between(50, 300);
        let pulls = self.ensure_images(key, pod, 0..count, ctx, recorder);
        let slowest = pulls.iter().map(|p| p.took_ms).fold(slowest, u64::max);
        let step = Step::Start {
            key: key.into(),
            uid,
            pulls,
        };
        self.schedule(ctx, slowest, step);
    }

    /// Gets the images of containers `indices` as upstream's image manager does:
    /// one on the node is used (unless its policy is `Always`), a missing one is
    /// pulled (the pulls returned, which [`Step::Start`] finishes), and one that
    /// cannot be had — a reference that does not parse, `Never` pulled, or backing
    /// off after a failed pull — leaves its container waiting with upstream's
    /// reason, message and events.
    fn ensure_images(
        &mut self,
        key: &str,
        pod: &Pod,
        indices: impl Iterator<Item = usize>,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) -> Vec<Pull> {
        let mut pulls = Vec::new();
        let now_ms = ctx.now().millis();
        for index in indices {
            let Some(record) = self.pods.get(key) else {
                break;
            };
            let run = &record.runs[index];
            let image = run.image.clone();
            let about = container_ref(pod, run);
            let policy = run.spec.image_pull_policy.clone().unwrap_or_default();
            let backing_off = record
                .pull_back_off
                .backing_off(&image, now_ms)
                .map(String::from);
            let outcome = registry::pull(&image);
            let failure = if let Err(PullError::InvalidName(error)) = &outcome {
                let message = format!("Failed to apply default image tag {image:?}: {error}");
                recorder.event(ctx, &about, "Warning", "InspectFailed", &message);
                Some(("InvalidImageName", message))
            } else if self.images.contains(&image) && policy != "Always" {
                let message = format!("Container image {image:?} already present on machine");
                recorder.event(ctx, &about, "Normal", "Pulled", &message);
                None
            } else if policy == "Never" {
                let message =
                    format!("Container image {image:?} is not present with pull policy of Never");
                recorder.event(ctx, &about, "Warning", "ErrImageNeverPull", &message);
                Some(("ErrImageNeverPull", message))
            } else if let Some(error) = backing_off {
                let message = format!("Back-off pulling image {image:?}");
                recorder.event(ctx, &about, "Normal", "BackOff", &message);
                Some(("ImagePullBackOff", format!("{message}: {error}")))
            } else {
                let message = format!("Pulling image {image:?}");
                recorder.event(ctx, &about, "Normal", "Pulling", &message);
                let error = outcome.err().map(|e| match e {
                    PullError::Failed(e) | PullError::InvalidName(e) => e,
                });
                let bounds = if error.is_some() {
                    FAILED_PULL_MS
                } else {
                    PULL_MS
                };
                let took_ms = ctx.rng().between(bounds.0, bounds.1);
                if error.is_none() {
                    self.images.insert(image.clone());
                }
                pulls.push(Pull {
                    index,
                    image,
                    took_ms,
                    error,
                });
                None
            };
            let run = &mut self.pods.get_mut(key).expect("checked").runs[index];
            match failure {
                Some((reason, message)) => {
                    run.wait_for_image(reason, &message);
                    let error = format!("Error: {reason}");
                    recorder.event(ctx, &about, "Warning", "Failed", &error);
                }
                None => run.image_ready(),
            }
        }
        pulls
    }

    /// Finishes `pulls` (their events; a failed one's back-off and `ErrImagePull`).
    fn pulls_done(
        &mut self,
        key: &str,
        pod: &Pod,
        pulls: Vec<Pull>,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let now_ms = ctx.now().millis();
        for pull in pulls {
            let Some(record) = self.pods.get_mut(key) else {
                return;
            };
            let about = container_ref(pod, &record.runs[pull.index]);
            let image = pull.image;
            let Some(error) = pull.error else {
                let message = pulled_message(&image, pull.took_ms);
                recorder.event(ctx, &about, "Normal", "Pulled", &message);
                continue;
            };
            record
                .pull_back_off
                .failed(&image, now_ms, format!("ErrImagePull: {error}"));
            record.runs[pull.index].wait_for_image("ErrImagePull", &error);
            let message = format!("Failed to pull image {image:?}: {error}");
            recorder.event(ctx, &about, "Warning", "Failed", &message);
            recorder.event(ctx, &about, "Warning", "Failed", "Error: ErrImagePull");
        }
    }

    /// Once a pod's pulls are done (or none was needed): the containers that can
    /// start do, and those still waiting for images are tried again later.
    fn images_settled(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx, recorder: &mut Recorder) {
        self.retry_images_later(key, ctx);
        self.advance(key, pod, ctx, recorder);
    }

    /// A pod worker whose containers wait for images syncs again after
    /// [`SYNC_RETRY_MS`] and up to half of it more (once: one retry is pending at a time).
    fn retry_images_later(&mut self, key: &str, ctx: &mut Ctx) {
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        if record.image_retry_pending || !record.runs.iter().any(|r| r.is_waiting_for_image()) {
            return;
        }
        record.image_retry_pending = true;
        let uid = record.uid.clone();
        let after = SYNC_RETRY_MS + ctx.rng().between(0, SYNC_RETRY_MS / 2);
        let step = Step::RetryImages {
            key: key.into(),
            uid,
        };
        self.schedule(ctx, after, step);
    }

    /// A pod worker's sync of a pod whose containers wait for their images: those
    /// whose image the pod now names differently (`kubectl set image`) start over
    /// with it, and each tries for its image again.
    fn retry_images(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx, recorder: &mut Recorder) {
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        record.image_retry_pending = false;
        let waiting: Vec<usize> = (0..record.runs.len())
            .filter(|i| record.runs[*i].is_waiting_for_image())
            .collect();
        let changed = waiting
            .iter()
            .any(|i| spec_image(pod, &record.runs[*i]) != Some(record.runs[*i].image.as_str()));
        if changed {
            let ip = record.ip.clone();
            let sources = self.sources_of(pod, ctx);
            let mut placed = pod.clone();
            placed.status.get_or_insert_with(Default::default).pod_ip = Some(ip);
            if let (Ok(fresh), Some(record)) = (runs_for(&placed, &sources), self.pods.get_mut(key))
            {
                for (index, run) in fresh.into_iter().enumerate() {
                    if waiting.contains(&index) && run.image != record.runs[index].image {
                        record.runs[index] = run;
                    }
                }
            }
        }
        let pulls = self.ensure_images(key, pod, waiting.into_iter(), ctx, recorder);
        match pulls.iter().map(|p| p.took_ms).max() {
            Some(slowest) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                let step = Step::Start {
                    key: key.into(),
                    uid,
                    pulls,
                };
                self.schedule(ctx, slowest, step);
            }
            None => self.images_settled(key, pod, ctx, recorder),
        }
    }

    /// At the kubelet's start, takes back a pod this node ran before (see
    /// [`resume`]): its record rebuilt from its status, its IP kept, its images
    /// present, its running containers' exits and probes (or a back-off's
    /// restart) armed again, and containers waiting for images tried again.
    /// Other pods are left to [`PodWorkers::sync`].
    pub fn adopt(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx) {
        if self.pods.contains_key(key) || !resume::ran_here(pod, &self.host_ip) {
            return;
        }
        let sources = self.sources_of(pod, ctx);
        let Ok(mut runs) = runs_for(pod, &sources) else {
            return;
        };
        let now = ctx.now().millis();
        resume::resume(&mut runs, pod, now, ctx.unix_millis());
        let ip = pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .unwrap_or_default();
        self.reserve_ip(&ip);
        for run in runs.iter().filter(|r| !r.container_id.is_empty()) {
            self.images.insert(run.image.clone());
        }
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let initialized = init_done(&runs);
        let count = runs.len();
        self.pods.insert(
            key.into(),
            PodRecord::new(uid.clone(), ip, pod, runs, initialized),
        );
        for index in 0..count {
            let run = &self.pods[key].runs[index];
            if run.is_running() {
                self.arm_running(key, index, ctx);
            } else if run.state.pointer("/waiting/reason").and_then(Value::as_str)
                == Some("CrashLoopBackOff")
            {
                let after = back_off_ms(run.restarts).unwrap_or(1);
                let step = Step::Restart {
                    key: key.into(),
                    uid: uid.clone(),
                    index,
                };
                self.schedule(ctx, after, step);
            }
        }
        self.retry_images_later(key, ctx);
    }

    /// Keeps a pod's address (one taken before the kubelet started) from being
    /// handed out again soon.
    fn reserve_ip(&mut self, ip: &str) {
        let taken = ip
            .strip_prefix(&self.pod_cidr_prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|octet| octet.parse::<u32>().ok());
        if let Some(octet) = taken.filter(|o| *o >= self.next_ip) {
            self.next_ip = if octet >= 254 { 2 } else { octet + 1 };
        }
    }

    /// How many images the node has pulled (it never forgets one).
    pub fn pulled_images(&self) -> usize {
        self.images.len()
    }

    /// The node's `status.images` as the kubelet reports them: digest and tag names,
    /// largest first, at most 50 (upstream's `nodeStatusMaxImages`).
    pub fn node_images(&self) -> Vec<Value> {
        let mut images: Vec<(u64, String, Vec<String>)> = self
            .images
            .iter()
            .map(|image| {
                let names = vec![images::image_id(image), images::qualified(image)];
                (images::size_bytes(image), names[1].clone(), names)
            })
            .collect();
        images.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        images.dedup_by(|a, b| a.1 == b.1);
        images
            .into_iter()
            .take(MAX_REPORTED_IMAGES)
            .map(|(size, _, names)| json!({"names": names, "sizeBytes": size}))
            .collect()
    }

    /// Runs the step behind a pod-worker timer; false if `id` is not one.
    pub fn fire(
        &mut self,
        id: u64,
        pods: &dyn Fn(&str) -> Option<Arc<Pod>>,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) -> bool {
        let Some(step) = self.steps.remove(&id) else {
            return false;
        };
        match step {
            Step::Start { key, uid, pulls } => {
                let Some(pod) = pods(&key).filter(|p| p.metadata.uid.as_deref() == Some(&uid))
                else {
                    return true;
                };
                if self.pods.get(&key).is_none_or(|r| r.stopping) {
                    return true;
                }
                self.pulls_done(&key, &pod, pulls, ctx, recorder);
                self.images_settled(&key, &pod, ctx, recorder);
            }
            Step::RetryImages { key, uid } => {
                if let Some(pod) = self.live_pod(&key, &uid, pods) {
                    self.retry_images(&key, &pod, ctx, recorder);
                }
            }
            Step::Retry { key, uid } => {
                let pod = pods(&key).filter(|p| p.metadata.uid.as_deref() == Some(&uid));
                if let Some(pod) = pod.filter(|_| !self.pods.contains_key(&key)) {
                    self.sync(&key, Some(&pod), ctx, recorder);
                }
            }
            Step::Stop { key, uid } => {
                if pods(&key).is_some_and(|p| p.metadata.uid.as_deref() == Some(&uid)) {
                    self.report_stopped(&key, ctx);
                    self.remove(&key, &uid, ctx);
                } else if self.pods.get(&key).is_some_and(|r| r.uid == uid) {
                    // Already gone from the API (force-deleted): nothing to delete.
                    self.pods.remove(&key);
                }
            }
            Step::Exit {
                key,
                uid,
                index,
                generation,
            } => {
                let Some(pod) = self.live_pod(&key, &uid, pods) else {
                    return true;
                };
                self.exited(&key, &pod, index, generation, ctx, recorder);
            }
            Step::Restart { key, uid, index } => {
                let Some(pod) = self.live_pod(&key, &uid, pods) else {
                    return true;
                };
                self.restart(&key, &pod, index, ctx, recorder);
            }
            Step::Lookup {
                key,
                uid,
                index,
                generation,
            } => {
                let Some(pod) = self.live_pod(&key, &uid, pods) else {
                    return true;
                };
                self.look_up(&key, &pod, index, generation, ctx, recorder);
            }
            Step::Probe {
                key,
                uid,
                index,
                generation,
                kind,
            } => {
                let Some(pod) = self.live_pod(&key, &uid, pods) else {
                    return true;
                };
                self.probe(&key, &pod, index, generation, kind, ctx, recorder);
            }
        }
        true
    }

    /// Schedules the next `kind` probe of container `index`: its initial delay
    /// after the start, then every period.
    fn schedule_probe(&mut self, key: &str, index: usize, kind: ProbeKind, ctx: &mut Ctx) {
        let Some(record) = self.pods.get(key) else {
            return;
        };
        let run = &record.runs[index];
        let Some(probe) = kind.of(&run.spec) else {
            return;
        };
        let now = ctx.now().millis();
        let first = run.started_ms + probe.initial_delay_seconds.unwrap_or(0).max(0) as u64 * 1000;
        let period = probe.period_seconds.unwrap_or(10).max(1) as u64 * 1000;
        let delay = if now < first { first - now } else { period };
        let step = Step::Probe {
            key: key.into(),
            uid: record.uid.clone(),
            index,
            generation: run.restarts,
            kind,
        };
        self.schedule(ctx, delay.max(1), step);
    }

    /// Runs one probe and acts on its verdict: readiness flips, failed startup or
    /// liveness probes restart the container.
    #[allow(clippy::too_many_arguments)]
    fn probe(
        &mut self,
        key: &str,
        pod: &Pod,
        index: usize,
        generation: i32,
        kind: ProbeKind,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let now = ctx.now().millis();
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        let ip = record.ip.clone();
        let run = &mut record.runs[index];
        if run.restarts != generation || !run.is_running() {
            return;
        }
        let Some(probe) = kind.of(&run.spec).cloned() else {
            return;
        };
        let elapsed = now.saturating_sub(run.started_ms);
        let verdict = probes::check(
            &probe,
            &run.spec,
            &run.behaviour,
            run.script.health(kind, elapsed),
            elapsed,
            &ip,
        );
        let slot = kind as usize;
        let streak = &mut run.probe_streaks[slot];
        *streak = match verdict {
            Ok(()) => (streak.0 + 1, 0),
            Err(_) => (0, streak.1 + 1),
        };
        let (successes, failures) = *streak;
        let name = run.name.clone();
        let about = container_ref(pod, run);
        if let Err(output) = &verdict {
            recorder.event(
                ctx,
                &about,
                "Warning",
                "Unhealthy",
                &format!("{} probe failed: {output}", kind.title()),
            );
        }
        let success_threshold = probe.success_threshold.unwrap_or(1).max(1);
        let failure_threshold = probe.failure_threshold.unwrap_or(3).max(1);
        let run = &mut self.pods.get_mut(key).expect("checked").runs[index];
        match kind {
            ProbeKind::Startup if successes >= success_threshold => {
                run.started = true;
                self.schedule_probe(key, index, ProbeKind::Liveness, ctx);
                self.schedule_probe(key, index, ProbeKind::Readiness, ctx);
                self.advance(key, pod, ctx, recorder);
                return;
            }
            ProbeKind::Startup | ProbeKind::Liveness if failures >= failure_threshold => {
                let what = if kind == ProbeKind::Startup {
                    "startup"
                } else {
                    "liveness"
                };
                recorder.event(
                    ctx,
                    &about,
                    "Normal",
                    "Killing",
                    &format!("Container {name} failed {what} probe, will be restarted"),
                );
                // The kill ends the process with SIGKILL once the grace period is over.
                self.terminated(key, pod, index, 137, ctx, recorder);
                return;
            }
            ProbeKind::Readiness => {
                let was = run.ready;
                if successes >= success_threshold {
                    run.ready = true;
                } else if failures >= failure_threshold {
                    run.ready = false;
                }
                if run.ready != was {
                    self.report(key, pod, ctx);
                }
            }
            _ => {}
        }
        self.schedule_probe(key, index, kind, ctx);
    }

    /// The pod under `key` if it is still the one with `uid` and not stopping.
    fn live_pod(
        &self,
        key: &str,
        uid: &str,
        pods: &dyn Fn(&str) -> Option<Arc<Pod>>,
    ) -> Option<Arc<Pod>> {
        let record = self.pods.get(key)?;
        if record.uid != uid || record.stopping {
            return None;
        }
        pods(key).filter(|p| p.metadata.uid.as_deref() == Some(uid))
    }

    /// A fresh container ID.
    fn container_id(key: &str, name: &str, ctx: &Ctx) -> String {
        format!(
            "containerd://{}",
            images::digest(&format!("{key}/{name}/{}", ctx.unix_millis()))
        )
    }

    /// Creates and starts container `index` (events, state), scheduling its exit.
    fn run_container(
        &mut self,
        key: &str,
        pod: &Pod,
        index: usize,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        let run = &mut record.runs[index];
        let about = container_ref(pod, run);
        recorder.event(
            ctx,
            &about,
            "Normal",
            "Created",
            &format!("Created container: {}", run.name),
        );
        recorder.event(
            ctx,
            &about,
            "Normal",
            "Started",
            &format!("Started container {}", run.name),
        );
        let id = Self::container_id(key, &run.name, ctx);
        let now = ctx.timestamp();
        if run.is_waiting_to_start() {
            run.start(&now, id);
        } else {
            run.restart(&now, id);
        }
        run.begin_probing(ctx.now().millis());
        self.arm_running(key, index, ctx);
    }

    /// Arms the timers of running container `index`: its process's exit (if its
    /// command ends, counted from its start), the next lookup of a name it waits
    /// for, and its probes (startup until it has started, then liveness and readiness).
    fn arm_running(&mut self, key: &str, index: usize, ctx: &mut Ctx) {
        let Some(record) = self.pods.get(key) else {
            return;
        };
        let run = &record.runs[index];
        let exit = match run.behaviour {
            Behaviour::Exit { after_ms, .. } => {
                let left = (run.started_ms + after_ms).saturating_sub(ctx.now().millis());
                let step = Step::Exit {
                    key: key.into(),
                    uid: record.uid.clone(),
                    index,
                    generation: run.restarts,
                };
                Some((left.max(1), step))
            }
            _ => None,
        };
        let lookup = run.lookup.as_ref().map(|lookup| {
            let step = Step::Lookup {
                key: key.into(),
                uid: record.uid.clone(),
                index,
                generation: run.restarts,
            };
            (lookup.every_ms, step)
        });
        let probes: &[ProbeKind] = if run.spec.startup_probe.is_some() && !run.started {
            &[ProbeKind::Startup]
        } else {
            &[ProbeKind::Liveness, ProbeKind::Readiness]
        };
        for (after, step) in exit.into_iter().chain(lookup) {
            self.schedule(ctx, after, step);
        }
        for kind in probes {
            self.schedule_probe(key, index, *kind, ctx);
        }
    }

    /// Container `index` of the pod under `key`, if it is running its run `generation`.
    fn running(&self, key: &str, index: usize, generation: i32) -> Option<&ContainerRun> {
        let run = &self.pods.get(key)?.runs[index];
        (run.restarts == generation && run.is_running()).then_some(run)
    }

    /// A waiting container looks its name up again (CoreDNS reads the Service it
    /// names): once it resolves, the loop ends and the process exits 0; until
    /// then it tries again after each pass.
    fn look_up(
        &mut self,
        key: &str,
        pod: &Pod,
        index: usize,
        generation: i32,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let Some(lookup) = self
            .running(key, index, generation)
            .and_then(|run| run.lookup.clone())
        else {
            return;
        };
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let resolves = service_path(&lookup.name, namespace)
            .is_some_and(|path| ctx.call_as("coredns", Request::get(path)).status == 200);
        if resolves {
            self.terminated(key, pod, index, 0, ctx, recorder);
            return;
        }
        let uid = self.pods[key].uid.clone();
        let step = Step::Lookup {
            key: key.into(),
            uid,
            index,
            generation,
        };
        self.schedule(ctx, lookup.every_ms, step);
    }

    /// Container `index`'s process ended on its own (in run `generation`).
    fn exited(
        &mut self,
        key: &str,
        pod: &Pod,
        index: usize,
        generation: i32,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let Some(run) = self.running(key, index, generation) else {
            return;
        };
        if let Behaviour::Exit { code, .. } = run.behaviour {
            self.terminated(key, pod, index, code, ctx, recorder);
        }
    }

    /// Container `index` ended with `code`: record it, then restart (at once or
    /// after back-off) or not, as the restart policy says.
    fn terminated(
        &mut self,
        key: &str,
        pod: &Pod,
        index: usize,
        code: i32,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let now = ctx.timestamp();
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        let policy = record.restart_policy.clone();
        let uid = record.uid.clone();
        let pod_name = format!(
            "{}_{}({uid})",
            pod.metadata.name.as_deref().unwrap_or(""),
            pod.metadata.namespace.as_deref().unwrap_or("")
        );
        let run = &mut record.runs[index];
        run.terminate(code, &now, ctx.now().millis(), ctx.unix_millis());
        if run.restarts_after(&policy, code) {
            let delay = match back_off_ms(run.restarts) {
                Some(delay) => {
                    let seconds = delay / 1000;
                    let name = run.name.clone();
                    run.back_off(format!(
                        "back-off {}s restarting failed container={name} pod={pod_name}",
                        seconds
                    ));
                    let about = container_ref(pod, run);
                    recorder.event(
                        ctx,
                        &about,
                        "Warning",
                        "BackOff",
                        &format!("Back-off restarting failed container {name} in pod {pod_name}"),
                    );
                    delay
                }
                None => ctx.rng().between(200, 1_000),
            };
            let step = Step::Restart {
                key: key.into(),
                uid,
                index,
            };
            self.schedule(ctx, delay, step);
        } else if run.is_completed_init() {
            self.advance(key, pod, ctx, recorder);
            return;
        }
        self.report(key, pod, ctx);
    }

    /// Starts container `index` again after its exit or back-off.
    fn restart(
        &mut self,
        key: &str,
        pod: &Pod,
        index: usize,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
    ) {
        let Some(run) = self.pods.get(key).and_then(|r| r.runs.get(index)) else {
            return;
        };
        let about = container_ref(pod, run);
        let image = run.image.clone();
        // Each start gets the image again: policy Always pulls it (quickly: its
        // layers are on the node), as upstream's kubelet does on every restart.
        if run.spec.image_pull_policy.as_deref() == Some("Always") {
            recorder.event(
                ctx,
                &about,
                "Normal",
                "Pulling",
                &format!("Pulling image {image:?}"),
            );
            let took_ms = ctx.rng().between(CACHED_PULL_MS.0, CACHED_PULL_MS.1);
            let message = pulled_message(&image, took_ms);
            recorder.event(ctx, &about, "Normal", "Pulled", &message);
        } else {
            let message = format!("Container image {image:?} already present on machine");
            recorder.event(ctx, &about, "Normal", "Pulled", &message);
        }
        let sources = self.sources_of(pod, ctx);
        if let Some(run) = self.pods.get_mut(key).and_then(|r| r.runs.get_mut(index)) {
            // A source gone since keeps what the container did before.
            if let Ok(env) = environment(pod, &run.spec, &sources) {
                run.start_with(&env);
            }
        }
        self.run_container(key, pod, index, ctx, recorder);
        self.report(key, pod, ctx);
    }

    /// Writes the pod's status from its containers: phase, conditions, IPs, statuses.
    fn report(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx) {
        let Some(record) = self.pods.get(key) else {
            return;
        };
        let now = ctx.timestamp();
        let phase = containers::phase(&record.runs, &record.restart_policy, record.initialized);
        let terminal = matches!(phase, "Succeeded" | "Failed");
        let unready: Vec<&str> = record
            .runs
            .iter()
            .filter(|r| r.role != Role::Init && !r.is_ready())
            .map(|r| r.name.as_str())
            .collect();
        let previous = |kind: &str| {
            pod.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
                .cloned()
        };
        // Keep a condition's transition time while its status stays the same.
        let stamped = |kind: &str, status: bool| {
            let want = if status { "True" } else { "False" };
            let at = previous(kind)
                .filter(|c| c.status == want)
                .and_then(|c| c.last_transition_time)
                .map_or_else(|| json!(now), |t| json!(t));
            condition(kind, status, &at)
        };
        let mut ready = stamped("Ready", unready.is_empty());
        let mut containers_ready = stamped("ContainersReady", unready.is_empty());
        if !unready.is_empty() {
            for c in [&mut ready, &mut containers_ready] {
                if terminal {
                    c["reason"] = json!("PodCompleted");
                } else {
                    c["reason"] = json!("ContainersNotReady");
                    c["message"] = json!(unready_message(&unready));
                }
            }
        }
        let initialized = stamped("Initialized", record.initialized);
        let initialized_at = initialized["lastTransitionTime"].clone();
        let (init_statuses, container_statuses) = statuses(&record.runs);
        let mut status = json!({"status": {
            "phase": phase,
            "conditions": [
                stamped("PodReadyToStartContainers", !terminal),
                initialized_condition(&record.runs, record.initialized, &initialized_at),
                ready,
                containers_ready,
                scheduled_condition(pod, &now),
            ],
            "podIP": record.ip,
            "podIPs": [{"ip": record.ip}],
            "containerStatuses": container_statuses,
        }});
        if !init_statuses.is_empty() {
            status["status"]["initContainerStatuses"] = json!(init_statuses);
        }
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
    }

    /// Moves the pod on: the next init container (or sidecar) in order once the
    /// ones before it are done (or started), then every container; reports.
    fn advance(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx, recorder: &mut Recorder) {
        loop {
            let Some(record) = self.pods.get_mut(key) else {
                return;
            };
            let next = record.runs.iter().position(|r| !r.is_past_init());
            let Some(index) = next else {
                record.initialized = true;
                let waiting: Vec<usize> = record
                    .runs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.role == Role::Main && r.is_waiting_to_start())
                    .map(|(i, _)| i)
                    .collect();
                for index in waiting {
                    self.run_container(key, pod, index, ctx, recorder);
                }
                break;
            };
            if !record.runs[index].is_waiting_to_start() {
                break; // running, or backing off: its exit or probe moves things on
            }
            self.run_container(key, pod, index, ctx, recorder);
            // A sidecar with no startup probe has started once it runs: go on.
            if !self
                .pods
                .get(key)
                .is_some_and(|r| r.runs[index].is_past_init())
            {
                break;
            }
        }
        self.report(key, pod, ctx);
    }

    /// Reports every running container terminated (exit 0 after SIGTERM).
    fn report_stopped(&mut self, key: &str, ctx: &mut Ctx) {
        let now = ctx.timestamp();
        let Some(record) = self.pods.get_mut(key) else {
            return;
        };
        let (now_ms, now_unix_ms) = (ctx.now().millis(), ctx.unix_millis());
        for run in record.runs.iter_mut().filter(|r| r.is_running()) {
            run.terminate(0, &now, now_ms, now_unix_ms);
        }
        let (init_statuses, container_statuses) = statuses(&record.runs);
        let mut status = json!({"status": {"containerStatuses": container_statuses}});
        if !init_statuses.is_empty() {
            status["status"]["initContainerStatuses"] = json!(init_statuses);
        }
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
    }

    /// Deletes the pod for good: grace period 0, only if it is still the same pod.
    fn remove(&mut self, key: &str, uid: &str, ctx: &mut Ctx) {
        self.pods.remove(key);
        self.deleted.insert(key.to_string(), uid.to_string());
        let body = json!({
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": uid},
        });
        let mut request = Request::delete(pod_path(key));
        request.body = body.to_string();
        ctx.call(request);
    }
}
