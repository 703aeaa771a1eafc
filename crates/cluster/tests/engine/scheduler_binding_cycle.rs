//! The binding cycle's extension points with plugins written outside the registry
//! (as an engineer would add one): Reserve and Unreserve, Permit with Wait (a gang
//! that binds only when complete, and times out in upstream's words), PreBind and
//! PostBind, and upstream's failure reports for rejections and errors.

use crate::common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{pod, Cluster};
use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::NodeConfig;
use kubecraft_cluster::scheduler::framework::{
    Code, CycleState, ExtensionPoint, Plugin, PodInfo, Status,
};
use kubecraft_cluster::scheduler::profile::Profile;
use kubecraft_cluster::scheduler::waiting_pods::WaitingPods;
use kubecraft_cluster::scheduler::Scheduler;
use kubecraft_cluster::sim::{Ctx, Duration};
use serde_json::{json, Value};

/// What the Ledger plugin saw, in order: `reserve web node-1`, `postBind web node-1`.
type Log = Rc<RefCell<Vec<String>>>;

/// Records Reserve, Unreserve, PreBind and PostBind; refuses at Reserve pods
/// labelled `reserve=refuse` and fails PreBind for pods labelled `prebind=fail`.
struct Ledger(Log);

fn label<'a>(pod: &'a PodInfo, key: &str) -> Option<&'a str> {
    pod.labels.get(key).map(String::as_str)
}

fn name(pod: &PodInfo) -> &str {
    pod.pod.metadata.name.as_deref().unwrap_or_default()
}

impl Ledger {
    fn note(&self, point: &str, pod: &PodInfo, node: &str) {
        self.0
            .borrow_mut()
            .push(format!("{point} {} {node}", name(pod)));
    }
}

impl Plugin for Ledger {
    fn name(&self) -> &'static str {
        "Ledger"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[
            ExtensionPoint::Reserve,
            ExtensionPoint::PreBind,
            ExtensionPoint::PostBind,
        ]
    }

    fn reserve(&self, _state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        self.note("reserve", pod, node);
        if label(pod, "reserve") == Some("refuse") {
            return Status::new(Code::Unschedulable, &["no room reserved"]);
        }
        Status::success()
    }

    fn unreserve(&self, _state: &mut CycleState, pod: &PodInfo, node: &str) {
        self.note("unreserve", pod, node);
    }

    fn pre_bind(&self, _state: &CycleState, pod: &PodInfo, node: &str, _ctx: &mut Ctx) -> Status {
        self.note("preBind", pod, node);
        if label(pod, "prebind") == Some("fail") {
            return Status::new(Code::Error, &["volume not ready"]);
        }
        Status::success()
    }

    fn post_bind(&self, _state: &CycleState, pod: &PodInfo, node: &str, _ctx: &mut Ctx) {
        self.note("postBind", pod, node);
    }
}

/// Holds pods labelled `gang=<name>` at Permit until three of the gang are there,
/// then allows them all; each waits at most ten seconds.
struct Gang;

const GANG_SIZE: usize = 3;
const GANG_WAIT_MS: Duration = 10_000;

impl Plugin for Gang {
    fn name(&self) -> &'static str {
        "Gang"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::Permit]
    }

    fn permit(
        &self,
        _state: &mut CycleState,
        pod: &PodInfo,
        _node: &str,
        waiting: &mut WaitingPods,
    ) -> (Status, Duration) {
        let Some(gang) = label(pod, "gang") else {
            return (Status::success(), 0);
        };
        let members: Vec<String> = waiting
            .iter()
            .filter(|(_, p)| {
                p.metadata.labels.as_ref().and_then(|l| l.get("gang")) == Some(&gang.to_string())
            })
            .map(|(key, _)| key.clone())
            .collect();
        if members.len() + 1 < GANG_SIZE {
            return (Status::new(Code::Wait, &[]), GANG_WAIT_MS);
        }
        for key in members {
            waiting.allow(&key, self.name());
        }
        (Status::success(), 0)
    }
}

/// The default cluster scheduled by the default profile plus Ledger and Gang.
fn cluster_with_plugins() -> (Cluster, Log) {
    let log = Log::default();
    let mut profile = Profile::default();
    let ledger: Rc<dyn Plugin> = Rc::new(Ledger(log.clone()));
    profile.reserve.push(ledger.clone());
    profile.pre_bind.push(ledger.clone());
    profile.post_bind.push(ledger);
    profile.permit.push(Rc::new(Gang));
    let scheduler = Scheduler::default().with_profile(profile);
    let world = cluster::start_with(1, scheduler, NodeConfig::default_cluster());
    let mut c = Cluster::with_world(world);
    c.world.settle(60_000);
    (c, log)
}

fn member(name: &str, gang: &str) -> Value {
    pod(name, json!({"gang": gang}))
}

/// What the log says about `pod`, without the nodes: `["reserve", "postBind"]`.
fn steps(log: &Log, pod: &str) -> Vec<String> {
    log.borrow()
        .iter()
        .filter_map(|line| {
            let mut words = line.split(' ');
            let point = words.next()?;
            (words.next()? == pod).then(|| point.to_string())
        })
        .collect()
}

/// The pod's PodScheduled condition: (status, reason, message).
fn pod_scheduled(c: &mut Cluster, name: &str) -> (String, String, String) {
    let (_, p) = c.get(&format!("/api/v1/namespaces/default/pods/{name}"));
    let condition = p["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "PodScheduled")
        .cloned()
        .unwrap_or_default();
    let text = |field: &str| condition[field].as_str().unwrap_or("").to_string();
    (text("status"), text("reason"), text("message"))
}

#[test]
fn a_gang_is_held_at_permit_until_it_is_complete() {
    let (mut c, log) = cluster_with_plugins();
    c.create_pod(member("a-1", "a"));
    c.create_pod(member("a-2", "a"));
    c.world.advance(5_000);
    for name in ["a-1", "a-2"] {
        assert_eq!(c.node_of(name), "", "{name} is held, not bound");
        assert_eq!(steps(&log, name), ["reserve"]);
        assert!(c.events(name, "FailedScheduling").is_empty());
    }
    c.create_pod(member("a-3", "a"));
    c.world.advance(2_000);
    for name in ["a-1", "a-2", "a-3"] {
        assert_ne!(
            c.node_of(name),
            "",
            "{name} is bound once the gang is complete"
        );
        assert_eq!(steps(&log, name), ["reserve", "preBind", "postBind"]);
        assert_eq!(c.events(name, "Scheduled").len(), 1);
    }
}

#[test]
fn an_incomplete_gang_times_out_in_upstreams_words_and_is_unreserved() {
    let (mut c, log) = cluster_with_plugins();
    c.create_pod(member("b-1", "b"));
    c.create_pod(member("b-2", "b"));
    c.world.advance(12_000);
    for name in ["b-1", "b-2"] {
        assert_eq!(c.node_of(name), "");
        assert_eq!(&steps(&log, name)[..2], ["reserve", "unreserve"]);
        let expected =
            "0/1 nodes are available: 1 rejected due to timeout after waiting 10s at plugin Gang.";
        assert_eq!(c.events(name, "FailedScheduling")[0], expected);
        let (status, reason, message) = pod_scheduled(&mut c, name);
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "Unschedulable")
        );
        assert_eq!(message, expected);
    }
}

#[test]
fn deleting_a_held_pod_unreserves_it() {
    let (mut c, log) = cluster_with_plugins();
    c.create_pod(member("c-1", "c"));
    c.world.advance(2_000);
    assert_eq!(steps(&log, "c-1"), ["reserve"]);
    let (code, _) = c.delete("/api/v1/namespaces/default/pods/c-1?gracePeriodSeconds=0");
    assert_eq!(code, 200);
    c.world.advance(2_000);
    assert_eq!(steps(&log, "c-1"), ["reserve", "unreserve"]);
    assert!(c.events("c-1", "FailedScheduling").is_empty());
}

#[test]
fn a_reserve_rejection_is_unschedulable_and_a_prebind_error_is_a_scheduler_error() {
    let (mut c, log) = cluster_with_plugins();
    c.create_pod(pod("refused", json!({"reserve": "refuse"})));
    c.create_pod(pod("unprepared", json!({"prebind": "fail"})));
    c.world.advance(3_000);

    assert_eq!(c.node_of("refused"), "");
    assert_eq!(&steps(&log, "refused")[..2], ["reserve", "unreserve"]);
    let refused = "0/1 nodes are available: 1 no room reserved.";
    assert_eq!(c.events("refused", "FailedScheduling")[0], refused);
    assert_eq!(pod_scheduled(&mut c, "refused").1, "Unschedulable");

    assert_eq!(c.node_of("unprepared"), "");
    assert_eq!(
        &steps(&log, "unprepared")[..3],
        ["reserve", "preBind", "unreserve"]
    );
    let error = "running PreBind plugin \"Ledger\": volume not ready";
    assert_eq!(c.events("unprepared", "FailedScheduling")[0], error);
    let (status, reason, message) = pod_scheduled(&mut c, "unprepared");
    assert_eq!(
        (status.as_str(), reason.as_str(), message.as_str()),
        ("False", "SchedulerError", error)
    );
}
