//! Where a DaemonSet's pods go: the tolerations every daemon pod gets, the pod
//! a DaemonSet makes for one node (pinned there by node affinity on
//! `metadata.name`, as upstream has scheduled daemon pods since 1.12), and
//! upstream's `NodeShouldRunDaemonPod`.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, PodTemplateSpec, Taint, Toleration,
};

use crate::api::node_affinity::required_affinity_matches;
use crate::api::tolerations::untolerated;

/// The label with the hash of the template a daemon pod was made from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// The label with the DaemonSet's template generation.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// The annotation in which apps/v1 keeps a DaemonSet's template generation.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

/// Upstream's `AddOrUpdateDaemonPodTolerations`: daemon pods stay through node
/// trouble and land on cordoned nodes.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let mut wanted = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.host_network == Some(true) {
        wanted.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for (key, effect) in wanted {
        let toleration = Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some(effect.into()),
            ..Default::default()
        };
        match tolerations
            .iter_mut()
            .find(|t| t.key.as_deref() == Some(key) && t.effect.as_deref() == Some(effect))
        {
            Some(existing) => *existing = toleration,
            None => tolerations.push(toleration),
        }
    }
}

/// The DaemonSet's template generation (from its annotation).
pub fn template_generation(ds: &DaemonSet) -> Option<String> {
    ds.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(TEMPLATE_GENERATION_ANNOTATION))
        .cloned()
}

/// The pod template a DaemonSet creates from: its template with the daemon
/// tolerations and the generation and hash labels (upstream's `CreatePodTemplate`).
pub fn daemon_template(ds: &DaemonSet, hash: &str) -> PodTemplateSpec {
    let mut template = ds
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    add_daemon_tolerations(template.spec.get_or_insert_with(Default::default));
    let labels = template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    if let Some(generation) = template_generation(ds) {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), generation);
    }
    labels.insert(REVISION_HASH_LABEL.into(), hash.into());
    template
}

/// Pins a pod spec to `node` with a required `metadata.name` term, replacing any
/// other required terms (upstream's `ReplaceDaemonSetPodNodeNameNodeAffinity`).
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let term = NodeSelectorTerm {
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".into(),
            operator: "In".into(),
            values: Some(vec![node.into()]),
        }]),
        ..Default::default()
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![term],
    });
}

/// The node a daemon pod is for: its `spec.nodeName`, else the node its affinity pins.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(name) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(name.clone());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}

/// Whether the DaemonSet should run a pod on `node`, and whether a pod already
/// there should keep running (upstream's `NodeShouldRunDaemonPod`).
pub fn should_run(template: &PodTemplateSpec, node: &Node) -> (bool, bool) {
    let mut spec = template.spec.clone().unwrap_or_default();
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    if spec
        .node_name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != node_name)
    {
        return (false, false);
    }
    pin_to_node(&mut spec, node_name);
    if !required_affinity_matches(Some(&spec), node) {
        return (false, false);
    }
    let taints: &[Taint] = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    if untolerated(taints, tolerations, &["NoSchedule", "NoExecute"]).is_some() {
        return (
            false,
            untolerated(taints, tolerations, &["NoExecute"]).is_none(),
        );
    }
    (true, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n1", "labels": labels},
            "spec": {"taints": taints},
        }))
        .unwrap()
    }

    fn template(spec: serde_json::Value) -> PodTemplateSpec {
        let ds: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "agent"},
            "spec": {"selector": {}, "template": {"spec": spec}},
        }))
        .unwrap();
        daemon_template(&ds, "abc")
    }

    #[test]
    fn daemon_pods_tolerate_node_trouble_and_cordons_but_not_other_taints() {
        let plain = template(json!({"containers": []}));
        assert_eq!(
            should_run(&plain, &node(json!({}), json!([]))),
            (true, true)
        );
        let cordoned = node(
            json!({}),
            json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        );
        assert_eq!(should_run(&plain, &cordoned), (true, true));
        let gpu_only = node(json!({}), json!([{"key": "gpu", "effect": "NoSchedule"}]));
        assert_eq!(
            should_run(&plain, &gpu_only),
            (false, true),
            "a NoSchedule taint keeps new pods off but lets a running one stay"
        );
        let evicting = node(json!({}), json!([{"key": "gpu", "effect": "NoExecute"}]));
        assert_eq!(should_run(&plain, &evicting), (false, false));
    }

    #[test]
    fn node_selectors_choose_nodes_and_pods_are_pinned_by_affinity() {
        let linux = template(json!({"nodeSelector": {"os": "linux"}}));
        assert_eq!(
            should_run(&linux, &node(json!({"os": "linux"}), json!([]))),
            (true, true)
        );
        assert_eq!(
            should_run(&linux, &node(json!({"os": "windows"}), json!([]))),
            (false, false)
        );
        let mut spec = PodSpec::default();
        pin_to_node(&mut spec, "n7");
        let pod = Pod {
            spec: Some(spec),
            ..Default::default()
        };
        assert_eq!(target_node(&pod).as_deref(), Some("n7"));
    }
}
