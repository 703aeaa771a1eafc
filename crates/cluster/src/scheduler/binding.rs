//! What happens once a node is selected (upstream's end of `schedulingCycle` and
//! its `bindingCycle`): the pod is assumed on the node, Reserve and Permit run; a
//! pod that Permit holds waits (see [`WaitingPods`](super::waiting_pods::WaitingPods))
//! while the scheduler goes on; then PreBind, Bind (the first plugin that does not
//! skip) and PostBind. A failure at any step runs Unreserve in reverse order,
//! forgets the assumed pod and reports it as upstream's failure handler does:
//! a rejection as `0/1 nodes are available: 1 <reason>.` with reason Unschedulable,
//! an error as `running <Point> plugin "<name>": <message>` with reason SchedulerError.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::fit_error;
use super::framework::{Code, CycleState, PodInfo, Status};
use super::profile::Profile;
use super::waiting_pods::MAX_WAIT_MS;
use super::Scheduler;
use crate::client::ObjectRef;
use crate::sim::{Ctx, Duration};

/// A pod past the scheduling cycle: its profile, the node it goes to and what its
/// plugins kept.
pub struct Placement {
    pub profile: Rc<Profile>,
    pub info: PodInfo,
    pub node: String,
    pub state: CycleState,
}

/// Upstream's wrapping of a plugin's error (`running Reserve plugin "X": ...`);
/// rejections keep their reasons and name the plugin.
fn failure(mut status: Status, point: &str, plugin: &'static str) -> Status {
    status.plugin = plugin;
    if status.is_rejected() {
        return status;
    }
    let message = format!("running {point} plugin {plugin:?}: {}", status.message());
    let mut error = Status::new(Code::Error, &[&message]);
    error.plugin = plugin;
    error
}

impl Scheduler {
    /// Assumes the pod on its node and runs Reserve and Permit; binds it at once
    /// unless a Permit plugin holds it (then releases whatever Permit decided).
    pub(super) fn place(&mut self, mut placement: Placement, ctx: &mut Ctx) {
        let key = placement.info.key.clone();
        // Assume the pod on the node so the next cycle sees it before the watch does.
        if self.account(&key, &placement.node, &placement.info.pod) {
            self.queue.move_waiting_for_assigned_pods(ctx.now());
        }
        match self.reserve_and_permit(&mut placement) {
            Err(status) => self.binding_failed(placement, status, ctx),
            Ok(waits) if waits.is_empty() => self.bind(placement, ctx),
            Ok(waits) => {
                self.waiting
                    .hold(&key, &placement.info.pod, &waits, ctx.now());
                self.held.insert(key, placement);
            }
        }
        self.release_decided(ctx);
    }

    /// Reserve, then Permit: the waits (plugin, ms) Permit asked for, or the
    /// failure that ends the placement.
    fn reserve_and_permit(
        &mut self,
        placement: &mut Placement,
    ) -> Result<Vec<(&'static str, Duration)>, Status> {
        let profile = placement.profile.clone();
        for plugin in &profile.reserve {
            let status = plugin.reserve(&mut placement.state, &placement.info, &placement.node);
            if !status.is_success() {
                return Err(failure(status, "Reserve", plugin.name()));
            }
        }
        let mut waits = Vec::new();
        for plugin in &profile.permit {
            let (status, wait_ms) = plugin.permit(
                &mut placement.state,
                &placement.info,
                &placement.node,
                &mut self.waiting,
            );
            match status.code {
                Code::Success => {}
                Code::Wait => waits.push((plugin.name(), wait_ms.min(MAX_WAIT_MS))),
                _ => return Err(failure(status, "Permit", plugin.name())),
            }
        }
        Ok(waits)
    }

    /// Binds the held pods every Permit plugin has allowed, and fails those one
    /// rejected (or whose wait ran out).
    pub(super) fn release_decided(&mut self, ctx: &mut Ctx) {
        for (key, verdict) in self.waiting.take_decided() {
            let Some(placement) = self.held.remove(&key) else {
                continue;
            };
            match verdict {
                Ok(()) => self.bind(placement, ctx),
                Err(status) => self.binding_failed(placement, status, ctx),
            }
        }
    }

    /// The binding cycle: PreBind, Bind, then the Scheduled event and PostBind.
    fn bind(&mut self, placement: Placement, ctx: &mut Ctx) {
        let profile = placement.profile.clone();
        let (info, node, state) = (&placement.info, &placement.node, &placement.state);
        for plugin in &profile.pre_bind {
            let status = plugin.pre_bind(state, info, node, ctx);
            if !matches!(status.code, Code::Success | Code::Skip) {
                let status = failure(status, "PreBind", plugin.name());
                return self.binding_failed(placement, status, ctx);
            }
        }
        let mut bound = Status::skip();
        for plugin in &profile.bind {
            bound = plugin.bind(state, info, node, ctx);
            if bound.code != Code::Skip {
                if !bound.is_success() {
                    bound = failure(bound, "Bind", plugin.name());
                }
                break;
            }
        }
        if !bound.is_success() {
            return self.binding_failed(placement, bound, ctx);
        }
        self.queue.remove(&info.key);
        let message = format!(
            "Successfully assigned {}/{} to {node}",
            info.namespace,
            info.pod.metadata.name.as_deref().unwrap_or_default()
        );
        let about = ObjectRef::of(info.pod.as_ref());
        self.event(
            &profile.scheduler_name,
            &about,
            "Normal",
            "Scheduled",
            &message,
            ctx,
        );
        for plugin in &profile.post_bind {
            plugin.post_bind(state, info, node, ctx);
        }
    }

    /// Undoes a placement that failed after Reserve began (upstream's
    /// `handleBindingCycleError`): Unreserve in reverse, forget the assumed pod,
    /// give the pods it kept out another try, and report the failure.
    fn binding_failed(&mut self, placement: Placement, status: Status, ctx: &mut Ctx) {
        let Placement {
            profile,
            info,
            node,
            mut state,
        } = placement;
        for plugin in profile.reserve.iter().rev() {
            plugin.unreserve(&mut state, &info, &node);
        }
        let key = &info.key;
        if self.forget(key) {
            self.queue.move_all_but(ctx.now(), key);
        }
        if self.pods.get(key).is_none() {
            self.queue.remove(key);
            return;
        }
        let rejected = status.is_rejected();
        let (message, reason) = if rejected {
            let failed = BTreeMap::from([(node, status)]);
            (fit_error::message(1, &failed, None, None), "Unschedulable")
        } else {
            (status.message(), "SchedulerError")
        };
        self.report_failure(&profile.scheduler_name, &info, &message, reason, None, ctx);
        self.queue.failed(key, ctx.now(), !rejected, false);
    }
}
