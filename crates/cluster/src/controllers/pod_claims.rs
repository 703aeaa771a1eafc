//! Upstream's `PodControllerRefManager.ClaimPods` for the DaemonSet and
//! StatefulSet controllers: an owner keeps the pods it controls that still
//! match its selector (and its membership test), releases those that no longer
//! do, and adopts matching orphans in its namespace — once a fresh read shows
//! the owner is still the same, live object. A pod another controller owns is
//! left alone; an owner being deleted neither adopts nor releases.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{self as metav1, ObjectMeta, OwnerReference};

use super::owners::{adopt, controller_of, controller_ref, release, still_current};
use crate::api::labels::LabelSelector;
use crate::apiserver::watch::EventType;
use crate::client::informer::key_of;
use crate::client::{pod_path, Delta};
use crate::sim::Ctx;

/// An owner (a DaemonSet or StatefulSet of `apps/v1`) claiming pods.
pub struct Claimant<'a> {
    pub kind: &'a str,
    pub meta: &'a ObjectMeta,
    /// Its `spec.selector`.
    pub selector: Option<&'a metav1::LabelSelector>,
    /// Its API path, re-read before its first adoption.
    pub path: String,
}

/// What a claim changed.
#[derive(Default)]
pub struct Claimed {
    /// Orphans now controlled by the owner (their cached versions, without the reference).
    pub adopted: Vec<Arc<Pod>>,
    /// Keys of controlled pods the owner no longer claims (released, or not
    /// matching while the owner is deleted).
    pub dropped: BTreeSet<String>,
}

impl Claimed {
    /// Whether the controlled pod under `key` is still claimed.
    pub fn keeps(&self, key: &str) -> bool {
        !self.dropped.contains(key)
    }
}

/// Upstream's `addPod`/`updatePod` for a pod without a controller: the keys of
/// `owners` (each with its `spec.selector`) that select it, which sync to adopt
/// it — when it appeared (not being deleted), or its labels or its owner changed.
pub fn adopters<'a>(
    delta: &Delta<Pod>,
    pod: &Pod,
    owners: impl Iterator<Item = (&'a ObjectMeta, Option<&'a metav1::LabelSelector>)>,
) -> Vec<String> {
    let changed = match (&delta.kind, &delta.old) {
        (EventType::Added, _) => pod.metadata.deletion_timestamp.is_none(),
        (EventType::Modified, Some(old)) => {
            old.metadata.labels != pod.metadata.labels || controller_of(&old.metadata).is_some()
        }
        _ => false,
    };
    if !changed {
        return Vec::new();
    }
    owners
        .filter(|(_, selector)| {
            let selector = selector.map(LabelSelector::of);
            matches!(selector, Some(Ok(s)) if s.matches_map(pod.metadata.labels.as_ref()))
        })
        .map(|(meta, _)| key_of(meta))
        .collect()
}

/// Upstream's `updatePod`: the controller reference a pod's change took away
/// (removed or replaced), whose owner must sync to make up for the pod.
pub fn former_controller<'d>(delta: &'d Delta<Pod>, pod: &Pod) -> Option<&'d OwnerReference> {
    let before = controller_of(&delta.old.as_deref()?.metadata)?;
    let now = controller_of(&pod.metadata);
    (now.map(|r| &r.uid) != Some(&before.uid)).then_some(before)
}

impl Claimant<'_> {
    /// Claims among `pods` (the owner's namespace's): releases controlled pods
    /// that no longer match, adopts matching live orphans. `is_member` narrows
    /// what matches beyond the selector (a StatefulSet's pods carry its name).
    pub fn claim<'p>(
        &self,
        pods: impl Iterator<Item = &'p Arc<Pod>>,
        is_member: impl Fn(&Pod) -> bool,
        ctx: &mut Ctx,
    ) -> Claimed {
        let mut claimed = Claimed::default();
        let Some(Ok(selector)) = self.selector.map(LabelSelector::of) else {
            return claimed;
        };
        let matches =
            |pod: &Pod| selector.matches_map(pod.metadata.labels.as_ref()) && is_member(pod);
        let owner = controller_ref("apps/v1", self.kind, self.meta);
        let deleting = self.meta.deletion_timestamp.is_some();
        let mut can_adopt = None;
        for pod in pods {
            match controller_of(&pod.metadata) {
                Some(reference) if reference.uid != owner.uid => {}
                Some(_) if matches(pod) => {}
                Some(_) => {
                    let key = key_of(&pod.metadata);
                    if !deleting {
                        release(ctx, &pod_path(&key), &owner.uid, &pod.metadata);
                    }
                    claimed.dropped.insert(key);
                }
                None if deleting || !matches(pod) || pod.metadata.deletion_timestamp.is_some() => {}
                None => {
                    let uid = Some(owner.uid.as_str());
                    let live =
                        *can_adopt.get_or_insert_with(|| still_current(ctx, &self.path, uid));
                    let path = pod_path(&key_of(&pod.metadata));
                    if live && adopt(ctx, &path, &owner, &pod.metadata) {
                        claimed.adopted.push(pod.clone());
                    }
                }
            }
        }
        claimed
    }
}
