//! Pods held at Permit (upstream's `waitingPodsMap`): a pod whose Permit plugins
//! said Wait stays assumed on its node until every one of them allows it, one
//! rejects it, or a plugin's wait runs out ("rejected due to timeout after waiting
//! 10s at plugin Gang"). Permit plugins see the map, so one pod's arrival can allow
//! others (gang scheduling).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::framework::{Code, Status};
use crate::sim::clock::go_duration;
use crate::sim::{Duration, VirtualTime};

/// Upstream's ceiling on how long one plugin may hold a pod (`maxTimeout`).
pub const MAX_WAIT_MS: Duration = 15 * 60 * 1000;

/// One held pod: the plugins that have yet to allow it (with when each gives up
/// and how long it waits), or the rejection that ended the wait.
struct WaitingPod {
    pod: Arc<Pod>,
    pending: BTreeMap<&'static str, (VirtualTime, Duration)>,
    rejection: Option<Status>,
}

/// The held pods, by key.
#[derive(Default)]
pub struct WaitingPods {
    pods: BTreeMap<String, WaitingPod>,
}

impl WaitingPods {
    /// Holds `pod` until each of `waits` (plugin, wait in ms) allows it.
    pub fn hold(
        &mut self,
        key: &str,
        pod: &Arc<Pod>,
        waits: &[(&'static str, Duration)],
        now: VirtualTime,
    ) {
        let pending = waits
            .iter()
            .map(|(plugin, ms)| (*plugin, (now.after(*ms), *ms)))
            .collect();
        self.pods.insert(
            key.to_string(),
            WaitingPod {
                pod: pod.clone(),
                pending,
                rejection: None,
            },
        );
    }

    /// Whether `key` is held.
    pub fn contains(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// The held pods still undecided, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Pod)> {
        self.pods
            .iter()
            .filter(|(_, w)| w.rejection.is_none() && !w.pending.is_empty())
            .map(|(key, w)| (key, w.pod.as_ref()))
    }

    /// `plugin` allows the pod (upstream's `WaitingPod.Allow`).
    pub fn allow(&mut self, key: &str, plugin: &str) {
        if let Some(waiting) = self.pods.get_mut(key) {
            waiting.pending.remove(plugin);
        }
    }

    /// `plugin` rejects the pod with `message` (upstream's `WaitingPod.Reject`).
    pub fn reject(&mut self, key: &str, plugin: &'static str, message: &str) {
        if let Some(waiting) = self.pods.get_mut(key) {
            if waiting.rejection.is_none() {
                let mut status = Status::new(Code::Unschedulable, &[message]);
                status.plugin = plugin;
                waiting.rejection = Some(status);
            }
        }
    }

    /// Rejects every pod whose wait at some plugin has run out by `now`.
    pub fn expire(&mut self, now: VirtualTime) {
        for waiting in self.pods.values_mut() {
            let expired = waiting
                .pending
                .iter()
                .find(|(_, (deadline, _))| *deadline <= now);
            if let (Some((plugin, (_, ms))), None) = (expired, &waiting.rejection) {
                let message = format!(
                    "rejected due to timeout after waiting {} at plugin {plugin}",
                    go_duration(*ms)
                );
                let mut status = Status::new(Code::Unschedulable, &[&message]);
                status.plugin = plugin;
                waiting.rejection = Some(status);
            }
        }
    }

    /// When the next wait runs out, if any pod is still undecided.
    pub fn next_deadline(&self) -> Option<VirtualTime> {
        self.pods
            .values()
            .filter(|w| w.rejection.is_none())
            .flat_map(|w| w.pending.values().map(|(deadline, _)| *deadline))
            .min()
    }

    /// Releases the decided pods in key order: `Ok` for those every plugin
    /// allowed, `Err` with the rejection for the others (upstream's `WaitOnPermit`).
    pub fn take_decided(&mut self) -> Vec<(String, Result<(), Status>)> {
        let decided: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, w)| w.rejection.is_some() || w.pending.is_empty())
            .map(|(key, _)| key.clone())
            .collect();
        decided
            .into_iter()
            .filter_map(|key| {
                let waiting = self.pods.remove(&key)?;
                Some((key, waiting.rejection.map_or(Ok(()), Err)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> VirtualTime {
        VirtualTime::default().after(ms)
    }

    #[test]
    fn a_pod_goes_when_every_waiting_plugin_allows_it() {
        let mut waiting = WaitingPods::default();
        let pod = Arc::new(Pod::default());
        waiting.hold("default/a", &pod, &[("A", 5_000), ("B", 10_000)], at(0));
        waiting.allow("default/a", "A");
        assert!(waiting.take_decided().is_empty());
        assert_eq!(waiting.next_deadline(), Some(at(10_000)));
        waiting.allow("default/a", "B");
        assert_eq!(waiting.take_decided(), [("default/a".to_string(), Ok(()))]);
        assert!(!waiting.contains("default/a"));
    }

    #[test]
    fn the_first_wait_to_run_out_rejects_the_pod() {
        let mut waiting = WaitingPods::default();
        waiting.hold(
            "default/a",
            &Arc::default(),
            &[("A", 90_500), ("B", 120_000)],
            at(0),
        );
        waiting.expire(at(90_499));
        assert!(waiting.take_decided().is_empty());
        waiting.expire(at(90_500));
        let decided = waiting.take_decided();
        let Err(status) = &decided[0].1 else {
            panic!("{decided:?}")
        };
        assert_eq!(
            status.message(),
            "rejected due to timeout after waiting 1m30.5s at plugin A"
        );
        assert_eq!(status.plugin, "A");
    }

    #[test]
    fn a_rejection_stands_over_later_allows() {
        let mut waiting = WaitingPods::default();
        waiting.hold("default/a", &Arc::default(), &[("A", 5_000)], at(0));
        waiting.reject("default/a", "A", "removed");
        waiting.allow("default/a", "A");
        assert_eq!(waiting.iter().count(), 0);
        let decided = waiting.take_decided();
        assert!(matches!(&decided[0].1, Err(s) if s.message() == "removed"));
    }
}
