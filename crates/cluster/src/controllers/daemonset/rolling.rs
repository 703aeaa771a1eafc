//! A DaemonSet's rolling update, as upstream's `rollingUpdate`: with `maxSurge`
//! 0, old pods are deleted (unavailable ones always, available ones while fewer
//! than `maxUnavailable` nodes are unavailable) and the manage step creates
//! their replacements; with a surge, new pods start beside old ones, which go
//! once the new pod is available.

use k8s_openapi::api::core::v1::Pod;

use crate::client::informer::key_of;

/// What the update sees on one node that has daemon pods.
pub struct NodePods<'a> {
    pub node: &'a str,
    /// Whether the DaemonSet should run on the node now.
    pub should_run: bool,
    /// The pod from the current template, if exactly one.
    pub new_pod: Option<&'a Pod>,
    /// The pod from an older template, if exactly one.
    pub old_pod: Option<&'a Pod>,
    /// More than one new or old pod: the manage step sorts the node out first.
    pub crowded: bool,
}

/// One step of the update: pods to delete (keys) and nodes to start new pods on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UpdateStep {
    pub delete: Vec<String>,
    pub create_on: Vec<String>,
}

/// The next step of a rolling update over the nodes that have daemon pods.
pub fn next_step(
    nodes: &[NodePods],
    max_surge: usize,
    max_unavailable: usize,
    available: impl Fn(&Pod) -> bool,
) -> UpdateStep {
    if max_surge == 0 {
        without_surge(nodes, max_unavailable, available)
    } else {
        with_surge(nodes, max_surge, available)
    }
}

fn without_surge(
    nodes: &[NodePods],
    max_unavailable: usize,
    available: impl Fn(&Pod) -> bool,
) -> UpdateStep {
    let mut unavailable = 0;
    let mut replace_anyway = Vec::new();
    let mut candidates = Vec::new();
    for node in nodes {
        match (node.crowded, node.new_pod, node.old_pod) {
            (true, _, _) | (false, None, None) | (false, Some(_), Some(_)) => unavailable += 1,
            (false, Some(new), None) => {
                if !available(new) {
                    unavailable += 1;
                }
            }
            (false, None, Some(old)) => {
                if !available(old) {
                    replace_anyway.push(key_of(&old.metadata));
                } else if unavailable < max_unavailable {
                    candidates.push(key_of(&old.metadata));
                }
            }
        }
    }
    let room = max_unavailable
        .saturating_sub(unavailable)
        .min(candidates.len());
    replace_anyway.extend(candidates.into_iter().take(room));
    UpdateStep {
        delete: replace_anyway,
        create_on: Vec::new(),
    }
}

fn with_surge(
    nodes: &[NodePods],
    max_surge: usize,
    available: impl Fn(&Pod) -> bool,
) -> UpdateStep {
    let mut surging = 0;
    let mut step = UpdateStep::default();
    let mut allowed_nodes = Vec::new();
    let mut candidate_nodes = Vec::new();
    for node in nodes {
        if node.crowded {
            surging += 1;
            continue;
        }
        match (node.new_pod, node.old_pod) {
            (_, None) => {}
            (None, Some(old)) => {
                if !available(old) {
                    if node.should_run {
                        allowed_nodes.push(node.node.to_string());
                    } else {
                        step.delete.push(key_of(&old.metadata));
                    }
                } else if surging < max_surge {
                    candidate_nodes.push(node.node.to_string());
                }
            }
            (Some(new), Some(old)) => {
                if available(new) {
                    step.delete.push(key_of(&old.metadata));
                } else {
                    surging += 1;
                }
            }
        }
    }
    let room = max_surge.saturating_sub(surging).min(candidate_nodes.len());
    allowed_nodes.extend(candidate_nodes.into_iter().take(room));
    step.create_on = allowed_nodes;
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "kube-system"},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
        }))
        .unwrap()
    }

    fn ready(p: &Pod) -> bool {
        crate::controllers::pod_state::is_ready(p)
    }

    fn on<'a>(node: &'a str, new: Option<&'a Pod>, old: Option<&'a Pod>) -> NodePods<'a> {
        NodePods {
            node,
            should_run: true,
            new_pod: new,
            old_pod: old,
            crowded: false,
        }
    }

    #[test]
    fn without_surge_one_node_at_a_time_but_broken_old_pods_go_at_once() {
        let (a, b, c) = (pod("a", true), pod("b", true), pod("c", false));
        let nodes = [
            on("n1", None, Some(&a)),
            on("n2", None, Some(&b)),
            on("n3", None, Some(&c)),
        ];
        assert_eq!(
            next_step(&nodes, 0, 1, ready).delete,
            ["kube-system/c", "kube-system/a"]
        );
        let starting = pod("new", false);
        let nodes = [on("n1", Some(&starting), None), on("n2", None, Some(&b))];
        assert!(
            next_step(&nodes, 0, 1, ready).delete.is_empty(),
            "a new pod that is not yet available uses up maxUnavailable"
        );
    }

    #[test]
    fn with_surge_new_pods_start_beside_old_ones_which_go_once_replaced() {
        let (a, b) = (pod("a", true), pod("b", true));
        let nodes = [on("n1", None, Some(&a)), on("n2", None, Some(&b))];
        let step = next_step(&nodes, 1, 0, ready);
        assert_eq!(
            (step.delete.len(), step.create_on),
            (0, vec!["n1".to_string()])
        );
        let up = pod("new", true);
        let nodes = [on("n1", Some(&up), Some(&a)), on("n2", None, Some(&b))];
        let step = next_step(&nodes, 1, 0, ready);
        assert_eq!(step.delete, ["kube-system/a"]);
        assert_eq!(step.create_on, ["n2"]);
    }
}
