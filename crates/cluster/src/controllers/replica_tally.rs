//! Running counts of each ReplicaSet's pods by state, kept in step with the pod
//! cache. Upstream's controller walks every pod of a ReplicaSet on each sync; in a
//! simulation that replays thousands of pod events a virtual second, walking a
//! thousand pods per event is what dominates. A tally holds the same sums, valid
//! for the selector and template labels it was built with; when those change the
//! controller builds it again from the pods.

use std::collections::BTreeMap;
use std::ops::{AddAssign, SubAssign};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as SelectorSpec;

use super::pod_state::{is_finished, is_ready, is_terminating};
use crate::api::labels::LabelSelector;

/// What some pods of one ReplicaSet amount to (finished pods count nowhere).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodCounts {
    /// Matching the selector, not terminating: `status.replicas`.
    pub active: i32,
    /// Matching the selector and terminating: `status.terminatingReplicas`.
    pub terminating: i32,
    /// No longer matching the selector: pods to release.
    pub stray: i32,
    /// Active pods carrying every label of the template: `fullyLabeledReplicas`.
    pub fully_labeled: i32,
    /// Active and Ready: `readyReplicas`.
    pub ready: i32,
}

impl PodCounts {
    /// What one pod adds. A ReplicaSet being deleted keeps every pod it controls,
    /// matching or not.
    pub fn of(
        pod: &Pod,
        selector: &LabelSelector,
        template_labels: &BTreeMap<String, String>,
        deleting: bool,
    ) -> PodCounts {
        if is_finished(pod) {
            return PodCounts::default();
        }
        let labels = pod.metadata.labels.as_ref();
        let matching = deleting || (!selector.is_empty() && selector.matches_map(labels));
        if !matching {
            return PodCounts {
                stray: 1,
                ..PodCounts::default()
            };
        }
        if is_terminating(pod) {
            return PodCounts {
                terminating: 1,
                ..PodCounts::default()
            };
        }
        let fully_labeled = template_labels
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
        PodCounts {
            active: 1,
            fully_labeled: i32::from(fully_labeled),
            ready: i32::from(is_ready(pod)),
            ..PodCounts::default()
        }
    }

    /// The sum over `pods`.
    pub fn sum<'a>(
        pods: impl IntoIterator<Item = &'a Pod>,
        selector: &LabelSelector,
        template_labels: &BTreeMap<String, String>,
        deleting: bool,
    ) -> PodCounts {
        let mut total = PodCounts::default();
        for pod in pods {
            total += PodCounts::of(pod, selector, template_labels, deleting);
        }
        total
    }
}

impl AddAssign for PodCounts {
    fn add_assign(&mut self, other: PodCounts) {
        self.active += other.active;
        self.terminating += other.terminating;
        self.stray += other.stray;
        self.fully_labeled += other.fully_labeled;
        self.ready += other.ready;
    }
}

impl SubAssign for PodCounts {
    fn sub_assign(&mut self, other: PodCounts) {
        self.active -= other.active;
        self.terminating -= other.terminating;
        self.stray -= other.stray;
        self.fully_labeled -= other.fully_labeled;
        self.ready -= other.ready;
    }
}

/// One ReplicaSet's counts and what they were counted against.
struct Tally {
    selector_spec: SelectorSpec,
    selector: LabelSelector,
    template_labels: BTreeMap<String, String>,
    counts: PodCounts,
}

/// The tallies of every ReplicaSet, by uid.
#[derive(Default)]
pub struct ReplicaTallies {
    by_controller: BTreeMap<String, Tally>,
}

impl ReplicaTallies {
    /// The counts of the pods controlled by `uid`, from the tally when it was kept
    /// for this selector and these template labels, else counted from `pods`
    /// (and kept from now on).
    pub fn counts<'a>(
        &mut self,
        uid: &str,
        selector_spec: &SelectorSpec,
        selector: &LabelSelector,
        template_labels: &BTreeMap<String, String>,
        pods: impl IntoIterator<Item = &'a Pod>,
    ) -> PodCounts {
        if let Some(tally) = self.by_controller.get(uid) {
            if &tally.selector_spec == selector_spec && &tally.template_labels == template_labels {
                return tally.counts;
            }
        }
        let counts = PodCounts::sum(pods, selector, template_labels, false);
        self.by_controller.insert(
            uid.to_string(),
            Tally {
                selector_spec: selector_spec.clone(),
                selector: selector.clone(),
                template_labels: template_labels.clone(),
                counts,
            },
        );
        counts
    }

    /// A pod controlled by `uid` changed from `old` to `new` (either absent).
    pub fn adjust(&mut self, uid: &str, old: Option<&Pod>, new: Option<&Pod>) {
        let Some(tally) = self.by_controller.get_mut(uid) else {
            return;
        };
        if let Some(old) = old {
            tally.counts -= PodCounts::of(old, &tally.selector, &tally.template_labels, false);
        }
        if let Some(new) = new {
            tally.counts += PodCounts::of(new, &tally.selector, &tally.template_labels, false);
        }
    }

    /// Drops the tally of a deleted ReplicaSet.
    pub fn forget(&mut self, uid: &str) {
        self.by_controller.remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(labels: &[(&str, &str)], phase: &str, ready: bool, terminating: bool) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "p",
                "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                "deletionTimestamp": terminating.then_some("2026-01-01T00:00:00Z"),
            },
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]},
        }))
        .unwrap()
    }

    fn selector_spec() -> SelectorSpec {
        serde_json::from_value(serde_json::json!({"matchLabels": {"app": "web"}})).unwrap()
    }

    #[test]
    fn a_pod_counts_by_state() {
        let spec = selector_spec();
        let selector = LabelSelector::of(&spec).unwrap();
        let template: BTreeMap<String, String> = [
            ("app".into(), "web".into()),
            ("tier".into(), "front".into()),
        ]
        .into();
        let of = |p: &Pod, deleting| PodCounts::of(p, &selector, &template, deleting);
        let full = pod(&[("app", "web"), ("tier", "front")], "Running", true, false);
        let partial = pod(&[("app", "web")], "Running", false, false);
        let leaving = pod(&[("app", "web")], "Running", true, true);
        let stray = pod(&[("app", "db")], "Running", true, false);
        let done = pod(&[("app", "web")], "Succeeded", false, false);
        let sum = |deleting| {
            PodCounts::sum(
                [&full, &partial, &leaving, &stray, &done],
                &selector,
                &template,
                deleting,
            )
        };
        assert_eq!(
            sum(false),
            PodCounts {
                active: 2,
                terminating: 1,
                stray: 1,
                fully_labeled: 1,
                ready: 1
            }
        );
        assert_eq!(of(&stray, true).active, 1, "a deleting set keeps strays");
        assert_eq!(of(&done, false), PodCounts::default());
        assert_eq!(sum(true).stray, 0);
    }

    #[test]
    fn a_tally_follows_changes_and_is_recounted_for_new_template_labels() {
        let spec = selector_spec();
        let selector = LabelSelector::of(&spec).unwrap();
        let template: BTreeMap<String, String> = [("app".into(), "web".into())].into();
        let starting = pod(&[("app", "web")], "Pending", false, false);
        let ready = pod(&[("app", "web")], "Running", true, false);
        let mut tallies = ReplicaTallies::default();
        let counts = tallies.counts("uid", &spec, &selector, &template, [&starting]);
        assert_eq!((counts.active, counts.ready), (1, 0));
        tallies.adjust("uid", Some(&starting), Some(&ready));
        let counts = tallies.counts("uid", &spec, &selector, &template, []);
        assert_eq!((counts.active, counts.ready), (1, 1), "kept, not recounted");
        let relabeled: BTreeMap<String, String> = [("app".into(), "v2".into())].into();
        let counts = tallies.counts("uid", &spec, &selector, &relabeled, [&ready]);
        assert_eq!((counts.active, counts.fully_labeled), (1, 0), "recounted");
        tallies.forget("uid");
        let counts = tallies.counts("uid", &spec, &selector, &relabeled, []);
        assert_eq!(counts, PodCounts::default());
    }
}
