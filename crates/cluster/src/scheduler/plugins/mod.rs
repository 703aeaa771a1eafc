//! Upstream's default plugins, one file each. To add a plugin: write a file that
//! implements [`Plugin`] for the extension points it needs, then add one line to
//! [`default_plugins`] with its score weight.

mod helpers;
pub mod inter_pod_affinity;
mod node_affinity;
mod node_name;
mod node_ports;
mod node_resources_balanced_allocation;
mod node_resources_fit;
mod node_unschedulable;
pub mod pod_topology_spread;
mod scheduling_gates;
mod taint_toleration;

use super::framework::Plugin;

/// A plugin with its score weight in a profile.
pub struct Enabled {
    pub plugin: Box<dyn Plugin>,
    pub weight: i64,
}

/// The default profile's plugins in upstream's order, with upstream's weights.
pub fn default_plugins() -> Vec<Enabled> {
    let enabled = |plugin: Box<dyn Plugin>, weight| Enabled { plugin, weight };
    vec![
        enabled(Box::new(scheduling_gates::SchedulingGates), 0),
        enabled(Box::new(node_unschedulable::NodeUnschedulable), 0),
        enabled(Box::new(node_name::NodeName), 0),
        enabled(Box::new(taint_toleration::TaintToleration), 3),
        enabled(Box::new(node_affinity::NodeAffinity), 2),
        enabled(Box::new(node_ports::NodePorts), 0),
        enabled(Box::new(node_resources_fit::NodeResourcesFit), 1),
        enabled(Box::new(pod_topology_spread::PodTopologySpread), 2),
        enabled(Box::new(inter_pod_affinity::InterPodAffinity), 2),
        enabled(
            Box::new(node_resources_balanced_allocation::NodeResourcesBalancedAllocation),
            1,
        ),
    ]
}

#[cfg(test)]
mod tests {
    //! Table tests of the Filter plugins on small hand-built pods and nodes.
    use serde_json::{json, Value};

    use super::*;
    use crate::scheduler::framework::{Code, CycleState, NodeInfo, PodInfo, PodSummary};

    fn pod(spec: Value) -> PodInfo {
        PodInfo::new(
            "default/p",
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap(),
        )
    }

    fn node(labels: Value, spec: Value, cpu: &str) -> NodeInfo {
        NodeInfo::new(
            serde_json::from_value(json!({
                "metadata": {"name": "n", "labels": labels},
                "spec": spec,
                "status": {"allocatable": {"cpu": cpu, "memory": "1Gi", "pods": "2"}},
            }))
            .unwrap(),
        )
    }

    fn filter(plugin: &dyn Plugin, p: &PodInfo, n: &NodeInfo) -> (Code, String) {
        let s = plugin.filter(&CycleState::default(), p, n);
        (s.code, s.message())
    }

    const APP: &str = r#"[{"name": "a", "image": "nginx"}]"#;

    fn containers() -> Value {
        serde_json::from_str(APP).unwrap()
    }

    #[test]
    fn taint_toleration() {
        let tainted = node(
            json!({}),
            json!({"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}),
            "1",
        );
        let plain = pod(json!({"containers": containers()}));
        assert_eq!(
            filter(&taint_toleration::TaintToleration, &plain, &tainted),
            (
                Code::UnschedulableAndUnresolvable,
                "node(s) had untolerated taint {k: v}".into()
            )
        );
        for toleration in [
            json!({"key": "k", "operator": "Equal", "value": "v"}),
            json!({"key": "k", "operator": "Exists", "effect": "NoSchedule"}),
            json!({"operator": "Exists"}),
        ] {
            let tolerant = pod(json!({"containers": containers(), "tolerations": [toleration]}));
            assert!(taint_toleration::TaintToleration
                .filter(&CycleState::default(), &tolerant, &tainted)
                .is_success());
        }
        let wrong_effect = pod(json!({"containers": containers(),
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute"}]}));
        assert!(!taint_toleration::TaintToleration
            .filter(&CycleState::default(), &wrong_effect, &tainted)
            .is_success());
    }

    #[test]
    fn node_affinity_operators() {
        let n = node(json!({"zone": "a", "gen": "5"}), json!({}), "1");
        let with = |expr: Value| {
            pod(
                json!({"containers": containers(), "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [expr]}]}}}}),
            )
        };
        let fits = |p: &PodInfo| {
            node_affinity::NodeAffinity
                .filter(&CycleState::default(), p, &n)
                .is_success()
        };
        assert!(fits(&with(
            json!({"key": "zone", "operator": "In", "values": ["a", "b"]})
        )));
        assert!(!fits(&with(
            json!({"key": "zone", "operator": "NotIn", "values": ["a"]})
        )));
        assert!(fits(&with(json!({"key": "zone", "operator": "Exists"}))));
        assert!(fits(&with(
            json!({"key": "gpu", "operator": "DoesNotExist"})
        )));
        assert!(fits(&with(
            json!({"key": "gen", "operator": "Gt", "values": ["4"]})
        )));
        assert!(!fits(&with(
            json!({"key": "gen", "operator": "Lt", "values": ["5"]})
        )));
        let selector = pod(json!({"containers": containers(), "nodeSelector": {"zone": "b"}}));
        assert_eq!(
            filter(&node_affinity::NodeAffinity, &selector, &n),
            (
                Code::UnschedulableAndUnresolvable,
                "node(s) didn't match Pod's node affinity/selector".into()
            )
        );
    }

    #[test]
    fn resources_fit_counts_pods_and_requests() {
        let mut n = node(json!({}), json!({}), "1");
        let half = pod(
            json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "600m", "nvidia.com/gpu": "1"}}}]}),
        );
        assert_eq!(
            filter(&node_resources_fit::NodeResourcesFit, &half, &n),
            (Code::Unschedulable, "Insufficient nvidia.com/gpu".into())
        );
        let cpu_only =
            pod(json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "600m"}}}]}));
        n.add_pod("default/x", PodSummary::of(&cpu_only));
        assert_eq!(
            filter(&node_resources_fit::NodeResourcesFit, &cpu_only, &n),
            (Code::Unschedulable, "Insufficient cpu".into())
        );
        n.add_pod(
            "default/y",
            PodSummary::of(&pod(json!({"containers": containers()}))),
        );
        assert_eq!(
            filter(&node_resources_fit::NodeResourcesFit, &cpu_only, &n),
            (
                Code::Unschedulable,
                "Too many pods, Insufficient cpu".into()
            )
        );
    }

    #[test]
    fn host_ports_conflict_by_protocol_and_address() {
        let mut n = node(json!({}), json!({}), "4");
        let web = |ip: &str, protocol: &str| {
            pod(
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080, "hostIP": ip, "protocol": protocol}]}]}),
            )
        };
        n.add_pod("default/x", PodSummary::of(&web("10.0.0.1", "TCP")));
        assert!(!node_ports::NodePorts
            .filter(&CycleState::default(), &web("0.0.0.0", "TCP"), &n)
            .is_success());
        assert!(!node_ports::NodePorts
            .filter(&CycleState::default(), &web("10.0.0.1", "TCP"), &n)
            .is_success());
        assert!(node_ports::NodePorts
            .filter(&CycleState::default(), &web("10.0.0.2", "TCP"), &n)
            .is_success());
        assert!(node_ports::NodePorts
            .filter(&CycleState::default(), &web("10.0.0.1", "UDP"), &n)
            .is_success());
    }

    #[test]
    fn cordoned_and_named_nodes() {
        let cordoned = node(json!({}), json!({"unschedulable": true}), "1");
        let p = pod(json!({"containers": containers()}));
        assert_eq!(
            filter(&node_unschedulable::NodeUnschedulable, &p, &cordoned),
            (
                Code::UnschedulableAndUnresolvable,
                "node(s) were unschedulable".into()
            )
        );
        let tolerant = pod(json!({"containers": containers(), "tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}));
        assert!(node_unschedulable::NodeUnschedulable
            .filter(&CycleState::default(), &tolerant, &cordoned)
            .is_success());
        let named = pod(json!({"containers": containers(), "nodeName": "other"}));
        assert_eq!(
            filter(&node_name::NodeName, &named, &cordoned),
            (
                Code::UnschedulableAndUnresolvable,
                "node(s) didn't match the requested node name".into()
            )
        );
    }

    #[test]
    fn least_allocated_and_balanced_scores() {
        let n = node(json!({}), json!({}), "2");
        let p = pod(
            json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1", "memory": "512Mi"}}}]}),
        );
        // cpu: (2000-1000)*100/2000 = 50; memory: (1Gi-512Mi)*100/1Gi = 50.
        assert_eq!(
            node_resources_fit::NodeResourcesFit.score(&CycleState::default(), &p, &n),
            50
        );
        // Both half used: perfectly balanced.
        assert_eq!(
            node_resources_balanced_allocation::NodeResourcesBalancedAllocation.score(
                &CycleState::default(),
                &p,
                &n
            ),
            100
        );
    }
}
