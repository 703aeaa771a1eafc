//! The kubelet's pod workers: a bound pod goes ContainerCreating → (image pulls) →
//! Running and Ready; a deleted pod's containers stop and the kubelet removes the
//! pod (DELETE with grace 0 and a UID precondition), as upstream's kubelet does.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use super::images;
use crate::api::Request;
use crate::client::{pod_path, ObjectRef, Recorder};
use crate::sim::Ctx;

/// Pull time bounds for an image not yet on the node, in virtual milliseconds.
const PULL_MS: (u64, u64) = (800, 4_000);
/// How long a stopping container takes to exit after SIGTERM.
const STOP_MS: (u64, u64) = (100, 600);

/// What a pod worker does when its timer fires.
#[derive(Clone, Debug)]
enum Step {
    /// Images pulled: report the pulls, create and start the containers.
    Start {
        key: String,
        uid: String,
        /// (container, image, pull milliseconds) for each image pulled.
        pulls: Vec<(String, String, u64)>,
    },
    /// Containers exited after SIGTERM: report and remove the pod.
    Stop { key: String, uid: String },
}

/// What the kubelet remembers about a pod it runs.
struct PodRecord {
    uid: String,
    ip: String,
    stopping: bool,
}

/// All pods of one node.
pub struct PodWorkers {
    host_ip: String,
    pod_cidr_prefix: String,
    next_ip: u32,
    images: BTreeSet<String>,
    pods: BTreeMap<String, PodRecord>,
    steps: BTreeMap<u64, Step>,
    next_step: u64,
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
    pub fn new(host_ip: &str, pod_cidr: &str) -> PodWorkers {
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
            steps: BTreeMap::new(),
            next_step: 0,
        }
    }

    fn schedule(&mut self, ctx: &mut Ctx, after: u64, step: Step, timer_base: u64) {
        let id = self.next_step;
        self.next_step += 1;
        self.steps.insert(id, step);
        ctx.set_timer(after, timer_base + id);
    }

    fn allocate_ip(&mut self) -> String {
        let ip = format!("{}.{}", self.pod_cidr_prefix, self.next_ip);
        self.next_ip = if self.next_ip >= 254 {
            2
        } else {
            self.next_ip + 1
        };
        ip
    }

    /// A pod bound to this node changed (or appeared, or was removed).
    pub fn sync(
        &mut self,
        key: &str,
        pod: Option<&Pod>,
        ctx: &mut Ctx,
        recorder: &mut Recorder,
        timer_base: u64,
    ) {
        let Some(pod) = pod else {
            self.pods.remove(key);
            return;
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if self.pods.get(key).is_some_and(|r| r.uid != uid) {
            self.pods.remove(key); // a new pod under an old name
        }
        if pod.metadata.deletion_timestamp.is_some() {
            let Some(record) = self.pods.get_mut(key) else {
                // Never started here: nothing runs, so it goes at once.
                self.remove(key, &uid, ctx);
                return;
            };
            if !record.stopping {
                record.stopping = true;
                for c in pod.spec.iter().flat_map(|s| &s.containers) {
                    let about = ObjectRef::of(pod)
                        .with_field_path(format!("spec.containers{{{}}}", c.name));
                    recorder.event(
                        ctx,
                        &about,
                        "Normal",
                        "Killing",
                        &format!("Stopping container {}", c.name),
                    );
                }
                let delay = ctx.rng().between(STOP_MS.0, STOP_MS.1);
                self.schedule(
                    ctx,
                    delay,
                    Step::Stop {
                        key: key.into(),
                        uid,
                    },
                    timer_base,
                );
            }
            return;
        }
        if self.pods.contains_key(key) {
            return;
        }
        let ip = self.allocate_ip();
        self.pods.insert(
            key.into(),
            PodRecord {
                uid: uid.clone(),
                ip,
                stopping: false,
            },
        );
        let now = json!(ctx.timestamp());
        let containers: Vec<Value> = pod
            .spec
            .iter()
            .flat_map(|s| &s.containers)
            .map(|c| {
                json!({
                    "name": c.name,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                    "lastState": {},
                    "ready": false,
                    "restartCount": 0,
                    "image": c.image.clone().unwrap_or_default(),
                    "imageID": "",
                    "started": false,
                })
            })
            .collect();
        let names: Vec<&str> = pod
            .spec
            .iter()
            .flat_map(|s| &s.containers)
            .map(|c| c.name.as_str())
            .collect();
        let not_ready = format!("containers with unready status: [{}]", names.join(" "));
        let mut ready = condition("Ready", false, &now);
        ready["reason"] = json!("ContainersNotReady");
        ready["message"] = json!(not_ready);
        let mut containers_ready = condition("ContainersReady", false, &now);
        containers_ready["reason"] = json!("ContainersNotReady");
        containers_ready["message"] = json!(not_ready);
        let status = json!({"status": {
            "conditions": [
                condition("PodReadyToStartContainers", false, &now),
                condition("Initialized", true, &now),
                ready,
                containers_ready,
                scheduled_condition(pod, &ctx.timestamp()),
            ],
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": now,
            "containerStatuses": containers,
        }});
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
        // Pull what the node lacks; the containers start when the slowest pull is done.
        let mut slowest = ctx.rng().between(50, 300);
        let mut pulls = Vec::new();
        for c in pod.spec.iter().flat_map(|s| &s.containers) {
            let image = c.image.clone().unwrap_or_default();
            let about =
                ObjectRef::of(pod).with_field_path(format!("spec.containers{{{}}}", c.name));
            let always = c.image_pull_policy.as_deref() == Some("Always");
            if self.images.contains(&image) && !always {
                recorder.event(
                    ctx,
                    &about,
                    "Normal",
                    "Pulled",
                    &format!("Container image {image:?} already present on machine"),
                );
                continue;
            }
            recorder.event(
                ctx,
                &about,
                "Normal",
                "Pulling",
                &format!("Pulling image {image:?}"),
            );
            let took = ctx.rng().between(PULL_MS.0, PULL_MS.1);
            slowest = slowest.max(took);
            pulls.push((c.name.clone(), image.clone(), took));
            self.images.insert(image);
        }
        let step = Step::Start {
            key: key.into(),
            uid,
            pulls,
        };
        self.schedule(ctx, slowest, step, timer_base);
    }

    /// Runs the step behind a pod-worker timer; false if `id` is not one.
    pub fn fire(
        &mut self,
        id: u64,
        pods: &dyn Fn(&str) -> Option<Pod>,
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
                for (container, image, took) in pulls {
                    let about = ObjectRef::of(&pod)
                        .with_field_path(format!("spec.containers{{{container}}}"));
                    recorder.event(
                        ctx,
                        &about,
                        "Normal",
                        "Pulled",
                        &format!(
                            "Successfully pulled image {image:?} in {d} ({d} including waiting). Image size: {} bytes.",
                            images::size_bytes(&image),
                            d = images::go_duration(took)
                        ),
                    );
                }
                self.start(&key, &pod, ctx, recorder);
            }
            Step::Stop { key, uid } => {
                if let Some(pod) = pods(&key).filter(|p| p.metadata.uid.as_deref() == Some(&uid)) {
                    self.report_stopped(&key, &pod, ctx);
                }
                self.remove(&key, &uid, ctx);
            }
        }
        true
    }

    fn start(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx, recorder: &mut Recorder) {
        let now = json!(ctx.timestamp());
        let ip = self.pods.get(key).map(|r| r.ip.clone()).unwrap_or_default();
        let mut containers = Vec::new();
        for c in pod.spec.iter().flat_map(|s| &s.containers) {
            let about =
                ObjectRef::of(pod).with_field_path(format!("spec.containers{{{}}}", c.name));
            recorder.event(
                ctx,
                &about,
                "Normal",
                "Created",
                &format!("Created container: {}", c.name),
            );
            recorder.event(
                ctx,
                &about,
                "Normal",
                "Started",
                &format!("Started container {}", c.name),
            );
            let image = c.image.clone().unwrap_or_default();
            let container_id = format!(
                "containerd://{}",
                images::digest(&format!("{key}/{}/{}", c.name, ctx.unix_millis()))
            );
            containers.push(json!({
                "name": c.name,
                "state": {"running": {"startedAt": now}},
                "lastState": {},
                "ready": true,
                "restartCount": 0,
                "image": images::qualified(&image),
                "imageID": images::image_id(&image),
                "containerID": container_id,
                "started": true,
            }));
        }
        let status = json!({"status": {
            "phase": "Running",
            "conditions": [
                condition("PodReadyToStartContainers", true, &now),
                condition("Initialized", true, &now),
                condition("Ready", true, &now),
                condition("ContainersReady", true, &now),
                scheduled_condition(pod, &ctx.timestamp()),
            ],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "containerStatuses": containers,
        }});
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
    }

    /// Reports every container terminated (exit 0 after SIGTERM) and the pod not ready.
    fn report_stopped(&mut self, key: &str, pod: &Pod, ctx: &mut Ctx) {
        let now = json!(ctx.timestamp());
        let statuses: Vec<Value> = pod
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .map(|c| {
                let mut c = serde_json::to_value(c).unwrap_or_default();
                let started = c
                    .pointer("/state/running/startedAt")
                    .cloned()
                    .unwrap_or(now.clone());
                c["state"] = json!({"terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": c.get("containerID").cloned().unwrap_or_default(),
                }});
                c["ready"] = json!(false);
                c["started"] = json!(false);
                c
            })
            .collect();
        let status = json!({"status": {"containerStatuses": statuses}});
        ctx.call(Request::patch(
            format!("{}/status", pod_path(key)),
            "application/merge-patch+json",
            status.to_string(),
        ));
    }

    /// Deletes the pod for good: grace period 0, only if it is still the same pod.
    fn remove(&mut self, key: &str, uid: &str, ctx: &mut Ctx) {
        self.pods.remove(key);
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
