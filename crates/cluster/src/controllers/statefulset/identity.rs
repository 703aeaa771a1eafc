//! A StatefulSet pod's stable identity, as upstream's: the name `<set>-<ordinal>`,
//! hostname and subdomain, the identity labels, and one PersistentVolumeClaim
//! per volume claim template named `<claim>-<set>-<ordinal>`.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, PodTemplateSpec, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::json;

/// The pod label naming the pod (so a Service can select one replica).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The pod label with its ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The pod label with the name of the revision it was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// The pod name for `ordinal`.
pub fn pod_name(set: &StatefulSet, ordinal: i32) -> String {
    format!("{}-{ordinal}", set.metadata.name.as_deref().unwrap_or(""))
}

/// The ordinal in a pod name of this set, if it is one.
pub fn ordinal_of(set_name: &str, pod_name: &str) -> Option<i32> {
    let rest = pod_name.strip_prefix(set_name)?.strip_prefix('-')?;
    if rest.is_empty()
        || !rest.bytes().all(|b| b.is_ascii_digit())
        || (rest.len() > 1 && rest.starts_with('0'))
    {
        return None;
    }
    rest.parse().ok()
}

/// The claim name for `claim` of the pod at `ordinal`.
pub fn claim_name(set: &StatefulSet, claim: &str, ordinal: i32) -> String {
    format!("{claim}-{}", pod_name(set, ordinal))
}

/// The pod for `ordinal` from `template` made at `revision` (upstream's `newVersionedStatefulSetPod`).
pub fn new_pod(
    set: &StatefulSet,
    template: &PodTemplateSpec,
    revision: &str,
    ordinal: i32,
    owner: &OwnerReference,
) -> serde_json::Value {
    let name = pod_name(set, ordinal);
    let meta = template.metadata.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(REVISION_LABEL.into(), revision.into());
    let mut spec = template.spec.clone().unwrap_or_default();
    spec.hostname = Some(name.clone());
    let service = set
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .unwrap_or_default();
    if !service.is_empty() {
        spec.subdomain = Some(service);
    }
    let claims = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default();
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    for claim in &claims {
        let claim_template = claim.metadata.name.clone().unwrap_or_default();
        let volume = Volume {
            name: claim_template.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(set, &claim_template, ordinal),
                read_only: None,
            }),
            ..Default::default()
        };
        match volumes.iter_mut().find(|v| v.name == claim_template) {
            Some(existing) => *existing = volume,
            None => volumes.push(volume),
        }
    }
    if volumes.is_empty() {
        spec.volumes = None;
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": set.metadata.namespace,
            "labels": labels,
            "annotations": meta.annotations,
            "ownerReferences": [owner],
        },
        "spec": spec,
    })
}

/// The claims the pod at `ordinal` needs, from the volume claim templates, labelled
/// with the set's selector (upstream's `getPersistentVolumeClaims`).
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<serde_json::Value> {
    let spec = set.spec.clone().unwrap_or_default();
    let selector_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|template| {
            let claim = template.metadata.name.clone().unwrap_or_default();
            let mut labels = template.metadata.labels.clone().unwrap_or_default();
            labels.extend(selector_labels.clone());
            json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": claim_name(set, &claim, ordinal),
                    "namespace": set.metadata.namespace,
                    "labels": labels,
                    "annotations": template.metadata.annotations,
                },
                "spec": template.spec,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_come_only_from_this_sets_names() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-api-1"), None);
        assert_eq!(ordinal_of("web", "web-01"), None);
        assert_eq!(ordinal_of("web", "webs-1"), None);
    }
}
