//! Upstream's in-tree plugins, one file each, and the registry that makes them from
//! a profile's `pluginConfig` arguments. To add a plugin: write a file that
//! implements [`Plugin`] for the extension points it lists, add one line to
//! [`REGISTRY`], and (to enable it by default) one to [`DEFAULT_PLUGINS`].

pub(super) mod default_binder;
mod default_preemption;
mod helpers;
pub mod image_locality;
pub mod inter_pod_affinity;
mod inter_pod_affinity_counts;
mod node_affinity;
mod node_name;
mod node_ports;
mod node_resources_balanced_allocation;
mod node_resources_fit;
mod node_unschedulable;
pub mod pod_topology_spread;
mod pod_topology_spread_counts;
mod priority_sort;
pub mod resource_allocation;
mod scheduling_gates;
mod taint_toleration;
mod volumes_and_claims;

use std::rc::Rc;

use super::framework::Plugin;
use super::plugin_args::PluginArgs;

/// A plugin upstream's registry knows, and how to make it from its (defaulted)
/// arguments; plugins that take none get `None`.
pub struct Registration {
    pub name: &'static str,
    pub new: fn(Option<&PluginArgs>) -> Rc<dyn Plugin>,
}

/// Makes a plugin that takes no arguments.
macro_rules! plain {
    ($name:literal, $plugin:expr) => {
        Registration {
            name: $name,
            new: |_| Rc::new($plugin),
        }
    };
}

/// Makes a plugin from its arguments (upstream's defaults when there are none).
macro_rules! with_args {
    ($name:literal, $variant:ident, $plugin:path) => {
        Registration {
            name: $name,
            new: |args| match args {
                Some(PluginArgs::$variant(args)) => Rc::new(<$plugin>::new(args)),
                _ => Rc::new(<$plugin>::default()),
            },
        }
    };
}

/// Every plugin a profile may name.
pub const REGISTRY: &[Registration] = &[
    plain!("SchedulingGates", scheduling_gates::SchedulingGates),
    plain!("PrioritySort", priority_sort::PrioritySort),
    plain!("NodeUnschedulable", node_unschedulable::NodeUnschedulable),
    plain!("NodeName", node_name::NodeName),
    plain!("TaintToleration", taint_toleration::TaintToleration),
    with_args!("NodeAffinity", NodeAffinity, node_affinity::NodeAffinity),
    plain!("NodePorts", node_ports::NodePorts),
    with_args!(
        "NodeResourcesFit",
        NodeResourcesFit,
        node_resources_fit::NodeResourcesFit
    ),
    plain!("VolumeRestrictions", volumes_and_claims::PLUGINS[0]),
    plain!("NodeVolumeLimits", volumes_and_claims::PLUGINS[1]),
    plain!("VolumeBinding", volumes_and_claims::PLUGINS[2]),
    plain!("VolumeZone", volumes_and_claims::PLUGINS[3]),
    with_args!(
        "PodTopologySpread",
        PodTopologySpread,
        pod_topology_spread::PodTopologySpread
    ),
    with_args!(
        "InterPodAffinity",
        InterPodAffinity,
        inter_pod_affinity::InterPodAffinity
    ),
    plain!("DynamicResources", volumes_and_claims::PLUGINS[4]),
    plain!("DefaultPreemption", default_preemption::DefaultPreemption),
    with_args!(
        "NodeResourcesBalancedAllocation",
        NodeResourcesBalancedAllocation,
        node_resources_balanced_allocation::NodeResourcesBalancedAllocation
    ),
    plain!("ImageLocality", image_locality::ImageLocality),
    plain!("DefaultBinder", default_binder::DefaultBinder),
];

/// The registration of the plugin named `name`.
pub fn registered(name: &str) -> Option<&'static Registration> {
    REGISTRY.iter().find(|r| r.name == name)
}

/// Upstream's default `multiPoint` plugins in order, with their score weights
/// (`getDefaultPlugins` with the DynamicResourceAllocation gate on, as in 1.35).
pub const DEFAULT_PLUGINS: &[(&str, Option<i32>)] = &[
    ("SchedulingGates", None),
    ("PrioritySort", None),
    ("NodeUnschedulable", None),
    ("NodeName", None),
    ("TaintToleration", Some(3)),
    ("NodeAffinity", Some(2)),
    ("NodePorts", None),
    ("NodeResourcesFit", Some(1)),
    ("VolumeRestrictions", None),
    ("NodeVolumeLimits", None),
    ("VolumeBinding", None),
    ("VolumeZone", None),
    ("PodTopologySpread", Some(2)),
    ("InterPodAffinity", Some(2)),
    ("DynamicResources", None),
    ("DefaultPreemption", None),
    ("NodeResourcesBalancedAllocation", Some(1)),
    ("ImageLocality", Some(1)),
    ("DefaultBinder", None),
];

#[cfg(test)]
mod tests {
    //! Table tests of the Filter plugins on small hand-built pods and nodes.
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::{json, Value};

    use super::*;
    use crate::scheduler::framework::{
        ClusterView, Code, CycleState, NodeInfo, PodInfo, PodSummary,
    };
    use crate::scheduler::listers::Listers;
    use crate::scheduler::node_cache::NodeCache;

    fn pod(spec: Value) -> PodInfo {
        PodInfo::new(
            "default/p",
            serde_json::from_value::<Pod>(json!({"metadata": {"name": "p"}, "spec": spec}))
                .unwrap(),
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
        filter_in(&CycleState::default(), plugin, p, n)
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
            node_affinity::NodeAffinity::default()
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
            filter(&node_affinity::NodeAffinity::default(), &selector, &n),
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
            filter(&node_resources_fit::NodeResourcesFit::default(), &half, &n),
            (Code::Unschedulable, "Insufficient nvidia.com/gpu".into())
        );
        let cpu_only =
            pod(json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "600m"}}}]}));
        n.add_pod("default/x", PodSummary::of_pod(&cpu_only.pod));
        assert_eq!(
            filter(
                &node_resources_fit::NodeResourcesFit::default(),
                &cpu_only,
                &n
            ),
            (Code::Unschedulable, "Insufficient cpu".into())
        );
        n.add_pod(
            "default/y",
            PodSummary::of_pod(&pod(json!({"containers": containers()})).pod),
        );
        assert_eq!(
            filter(
                &node_resources_fit::NodeResourcesFit::default(),
                &cpu_only,
                &n
            ),
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
        n.add_pod("default/x", PodSummary::of_pod(&web("10.0.0.1", "TCP").pod));
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

    /// A plugin's arguments from JSON, defaulted as a configuration would be.
    fn args(plugin: &str, value: Value) -> crate::scheduler::plugin_args::PluginArgs {
        let mut args =
            crate::scheduler::plugin_args::PluginArgs::decode(plugin, &value, &mut Vec::new())
                .unwrap()
                .unwrap();
        args.set_defaults();
        args
    }

    /// The registry's plugin `name` made from `value` arguments.
    fn configured(name: &str, value: Value) -> std::rc::Rc<dyn Plugin> {
        (registered(name).unwrap().new)(Some(&args(name, value)))
    }

    /// Plugins skip the pods they have nothing to say about, as upstream's do:
    /// NodeAffinity without node selector or required (or preferred) affinity,
    /// NodePorts without host ports, BalancedAllocation for best-effort pods.
    #[test]
    fn plugins_skip_pods_they_have_nothing_to_say_about() {
        let plain = pod(json!({"containers": containers()}));
        let selecting = pod(json!({"containers": containers(), "nodeSelector": {"zone": "a"}}));
        let preferring = pod(
            json!({"containers": containers(), "affinity": {"nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1,
                "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}]}}}),
        );
        let with_port = pod(
            json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}),
        );
        let requesting =
            pod(json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}]}));
        let nodes = [node(json!({}), json!({}), "1")];
        let codes = |plugin: &dyn Plugin, p: &PodInfo| {
            in_cluster(&nodes, |view| {
                let mut state = CycleState::default();
                (
                    plugin.pre_filter(&mut state, p, view).code,
                    plugin.pre_score(&mut state, p, view.nodes, view).code,
                )
            })
        };
        let affinity = node_affinity::NodeAffinity::default();
        assert_eq!(codes(&affinity, &plain), (Code::Skip, Code::Skip));
        assert_eq!(codes(&affinity, &selecting), (Code::Success, Code::Skip));
        assert_eq!(codes(&affinity, &preferring), (Code::Skip, Code::Success));
        assert_eq!(codes(&node_ports::NodePorts, &plain).0, Code::Skip);
        assert_eq!(codes(&node_ports::NodePorts, &with_port).0, Code::Success);
        let balanced =
            node_resources_balanced_allocation::NodeResourcesBalancedAllocation::default();
        assert_eq!(codes(&balanced, &plain).1, Code::Skip);
        assert_eq!(codes(&balanced, &requesting).1, Code::Success);
    }

    /// Upstream's MostAllocated case "nothing scheduled, resources requested,
    /// differently sized nodes": 3 CPUs and 5000 bytes wanted of 4 CPUs/10000 and
    /// 6 CPUs/10000 give 62 and 50; RequestedToCapacityRatio with the rising shape
    /// rounds the same average (62.5) up.
    #[test]
    fn most_allocated_and_requested_to_capacity_ratio() {
        let sized = |cpu: &str| {
            NodeInfo::new(
                serde_json::from_value(json!({
                    "metadata": {"name": "n"},
                    "status": {"allocatable": {"cpu": cpu, "memory": "10000", "pods": "10"}},
                }))
                .unwrap(),
            )
        };
        let (small, large) = (sized("4"), sized("6"));
        let p = pod(json!({"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1", "memory": "2000"}}},
            {"name": "b", "resources": {"requests": {"cpu": "2", "memory": "3000"}}},
        ]}));
        let state = CycleState::default();
        let most = configured(
            "NodeResourcesFit",
            json!({"scoringStrategy": {"type": "MostAllocated"}}),
        );
        assert_eq!(
            (
                most.score(&state, &p, &small),
                most.score(&state, &p, &large)
            ),
            (62, 50)
        );
        let ratio = configured(
            "NodeResourcesFit",
            json!({"scoringStrategy": {"type": "RequestedToCapacityRatio",
                "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}}),
        );
        assert_eq!(
            (
                ratio.score(&state, &p, &small),
                ratio.score(&state, &p, &large)
            ),
            (63, 50)
        );
        let least = configured("NodeResourcesFit", json!({}));
        assert_eq!(least.score(&state, &p, &small), 37);
    }

    #[test]
    fn fit_ignores_the_resources_its_arguments_name() {
        let n = node(json!({}), json!({}), "1");
        let gpu = pod(
            json!({"containers": [{"name": "a", "resources": {"requests": {"example.com/gpu": "1", "nvidia.com/gpu": "1"}}}]}),
        );
        let fit = configured(
            "NodeResourcesFit",
            json!({"ignoredResources": ["nvidia.com/gpu"]}),
        );
        assert_eq!(
            filter_in(&CycleState::default(), fit.as_ref(), &gpu, &n),
            (Code::Unschedulable, "Insufficient example.com/gpu".into())
        );
        let fit = configured(
            "NodeResourcesFit",
            json!({"ignoredResourceGroups": ["example.com", "nvidia.com"]}),
        );
        assert!(fit.filter(&CycleState::default(), &gpu, &n).is_success());
    }

    #[test]
    fn balanced_allocation_over_three_resources_uses_the_standard_deviation() {
        let n = NodeInfo::new(
            serde_json::from_value(json!({
                "metadata": {"name": "n"},
                "status": {"allocatable": {"cpu": "4", "memory": "4000", "ephemeral-storage": "4000", "pods": "10"}},
            }))
            .unwrap(),
        );
        let p = pod(
            json!({"containers": [{"name": "a", "resources": {"requests":
            {"cpu": "1", "memory": "2000", "ephemeral-storage": "3000"}}}]}),
        );
        let balanced = configured(
            "NodeResourcesBalancedAllocation",
            json!({"resources": [{"name": "cpu"}, {"name": "memory"}, {"name": "ephemeral-storage"}]}),
        );
        // Fractions 0.25, 0.5, 0.75: std = sqrt(((0.25)^2 + 0 + (0.25)^2) / 3) = 0.204.
        assert_eq!(balanced.score(&CycleState::default(), &p, &n), 79);
    }

    #[test]
    fn added_affinity_binds_every_pod_of_the_profile() {
        let plain = pod(json!({"containers": containers()}));
        let node_affinity = configured(
            "NodeAffinity",
            json!({"addedAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["batch"]}]}]},
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 7, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}]}}),
        );
        let batch = node(json!({"pool": "batch", "disk": "ssd"}), json!({}), "1");
        let other = node(json!({"pool": "web"}), json!({}), "1");
        assert_eq!(
            filter_in(
                &CycleState::default(),
                node_affinity.as_ref(),
                &plain,
                &other
            ),
            (
                Code::UnschedulableAndUnresolvable,
                "node(s) didn't match scheduler-enforced node affinity".into()
            )
        );
        assert!(node_affinity
            .filter(&CycleState::default(), &plain, &batch)
            .is_success());
        assert_eq!(
            node_affinity.score(&CycleState::default(), &plain, &batch),
            7
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
            node_resources_fit::NodeResourcesFit::default().score(&CycleState::default(), &p, &n),
            50
        );
        // Both half used: perfectly balanced.
        assert_eq!(
            node_resources_balanced_allocation::NodeResourcesBalancedAllocation::default().score(
                &CycleState::default(),
                &p,
                &n
            ),
            100
        );
    }

    /// A pod summary in `namespace` with `labels`, for placing on test nodes.
    fn resident(namespace: &str, labels: Value, spec: Value) -> PodSummary {
        let mut spec = spec;
        spec["containers"] = containers();
        let pod = serde_json::from_value(json!({"metadata": {"name": "r", "namespace": namespace,
            "labels": labels}, "spec": spec}))
        .unwrap();
        PodSummary::of_pod(&pod)
    }

    fn zone_node(name: &str, zone: Option<&str>, residents: Vec<PodSummary>) -> NodeInfo {
        let mut labels = json!({"kubernetes.io/hostname": name});
        if let Some(zone) = zone {
            labels["topology.kubernetes.io/zone"] = json!(zone);
        }
        let mut n = node(labels, json!({}), "8");
        n.name = name.into();
        for (i, r) in residents.into_iter().enumerate() {
            n.add_pod(&format!("{name}/{i}"), r);
        }
        n
    }

    fn web() -> PodSummary {
        resident("default", json!({"app": "web"}), json!({}))
    }

    /// Runs `f` on a view of `nodes` (in name order) built as the scheduler builds it.
    fn in_cluster<R>(nodes: &[NodeInfo], f: impl FnOnce(&ClusterView) -> R) -> R {
        let mut cache = NodeCache::default();
        for n in nodes {
            cache.insert(n.clone());
        }
        let all = cache.all();
        let affine = cache.with_scoring_affinity();
        let anti = cache.with_required_anti_affinity();
        let listers = Listers::default();
        f(&ClusterView {
            nodes: &all,
            nodes_with_scoring_affinity: &affine,
            nodes_with_required_anti_affinity: &anti,
            image_nodes: cache.image_nodes(),
            listers: &listers,
            node_generations: Some(cache.generations()),
        })
    }

    /// Runs PreFilter, then Filter on every node: each node's code and message.
    fn filter_all(plugin: &dyn Plugin, p: &PodInfo, nodes: &[NodeInfo]) -> Vec<(Code, String)> {
        let state = in_cluster(nodes, |view| {
            let mut state = CycleState::default();
            let pre = plugin.pre_filter(&mut state, p, view);
            assert!(pre.is_success(), "{pre:?}");
            state
        });
        nodes
            .iter()
            .map(|n| filter_in(&state, plugin, p, n))
            .collect()
    }

    fn filter_in(
        state: &CycleState,
        plugin: &dyn Plugin,
        p: &PodInfo,
        n: &NodeInfo,
    ) -> (Code, String) {
        let s = plugin.filter(state, p, n);
        (s.code, s.message())
    }

    fn spread_pod(max_skew: i32, min_domains: Option<i32>) -> PodInfo {
        pod_with_labels(
            json!({"app": "web"}),
            json!({"containers": containers(), "topologySpreadConstraints": [{
                "maxSkew": max_skew, "minDomains": min_domains,
                "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}}}]}),
        )
    }

    fn pod_with_labels(labels: Value, spec: Value) -> PodInfo {
        PodInfo::new(
            "default/p",
            serde_json::from_value::<Pod>(json!({"metadata": {"name": "p", "namespace": "default",
                "labels": labels}, "spec": spec}))
            .unwrap(),
        )
    }

    #[test]
    fn topology_spread_filters_by_skew_over_the_least_loaded_domain() {
        let nodes = || {
            vec![
                zone_node("a", Some("zone-a"), vec![web(), web()]),
                zone_node("b", Some("zone-b"), vec![web()]),
                zone_node("c", Some("zone-c"), vec![]),
                zone_node("bare", None, vec![]),
            ]
        };
        let plugin = pod_topology_spread::PodTopologySpread::default();
        let pass = (Code::Success, String::new());
        let skewed = (
            Code::Unschedulable,
            pod_topology_spread::CONSTRAINTS_NOT_MATCH.to_string(),
        );
        let unlabelled = (
            Code::UnschedulableAndUnresolvable,
            pod_topology_spread::NODE_LABEL_NOT_MATCH.to_string(),
        );
        let cases = [
            (1, None, [skewed.clone(), skewed.clone(), pass.clone()]),
            (2, None, [skewed.clone(), pass.clone(), pass.clone()]),
            (3, None, [pass.clone(), pass.clone(), pass.clone()]),
            // Fewer domains than minDomains: the global minimum counts as 0.
            (2, Some(4), [skewed.clone(), pass.clone(), pass.clone()]),
        ];
        for (max_skew, min_domains, expected) in cases {
            let got = filter_all(&plugin, &spread_pod(max_skew, min_domains), &nodes());
            assert_eq!(
                got[..3],
                expected,
                "maxSkew {max_skew}, minDomains {min_domains:?}"
            );
            assert_eq!(got[3], unlabelled);
        }
        // Pods in other namespaces, terminating pods and pods the selector misses do not count.
        let mut terminating = web();
        terminating.terminating = true;
        let crowded = vec![
            zone_node(
                "a",
                Some("zone-a"),
                vec![
                    resident("other", json!({"app": "web"}), json!({})),
                    terminating,
                    resident("default", json!({"app": "db"}), json!({})),
                ],
            ),
            zone_node("b", Some("zone-b"), vec![]),
        ];
        let got = filter_all(&plugin, &spread_pod(1, None), &crowded);
        assert_eq!(got, [pass.clone(), pass]);
    }

    #[test]
    fn topology_spread_scores_emptier_domains_higher() {
        let nodes = [
            zone_node("a", Some("zone-a"), vec![web(), web(), web()]),
            zone_node("b", Some("zone-b"), vec![web()]),
            zone_node("c", Some("zone-c"), vec![]),
        ];
        let p = pod_with_labels(
            json!({"app": "web"}),
            json!({"containers": containers(), "topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": "web"}}}]}),
        );
        let plugin = pod_topology_spread::PodTopologySpread::default();
        let (raw, normalized) = in_cluster(&nodes, |view| {
            let mut state = CycleState::default();
            assert!(plugin
                .pre_score(&mut state, &p, view.nodes, view)
                .is_success());
            let raw: Vec<i64> = view
                .nodes
                .iter()
                .map(|n| plugin.score(&state, &p, n))
                .collect();
            let mut normalized = raw.clone();
            plugin.normalize(&state, &p, view.nodes, &mut normalized);
            (raw, normalized)
        });
        // count × ln(3 domains + 2) + (maxSkew − 1), rounded.
        assert_eq!(raw, [5, 2, 0]);
        assert_eq!(normalized, [0, 60, 100]);
    }

    fn anti_affine_to_web(namespace_selector: Option<Value>) -> Value {
        let mut term = json!({"labelSelector": {"matchLabels": {"app": "web"}},
            "topologyKey": "kubernetes.io/hostname"});
        if let Some(selector) = namespace_selector {
            term["namespaceSelector"] = selector;
        }
        json!({"containers": containers(), "affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term]}}})
    }

    #[test]
    fn inter_pod_affinity_filters_by_domain_namespace_and_existing_pods() {
        let plugin = inter_pod_affinity::InterPodAffinity::default();
        let pass = (Code::Success, String::new());
        let anti = (
            Code::Unschedulable,
            inter_pod_affinity::ANTI_AFFINITY_RULES_NOT_MATCH.to_string(),
        );
        let nodes = || {
            vec![
                zone_node("a", Some("zone-a"), vec![web()]),
                zone_node(
                    "b",
                    Some("zone-a"),
                    vec![resident("other", json!({"app": "web"}), json!({}))],
                ),
                zone_node("c", Some("zone-b"), vec![]),
            ]
        };
        // By default a term looks in the pod's own namespace only.
        let own_namespace = pod_with_labels(json!({"app": "web"}), anti_affine_to_web(None));
        assert_eq!(
            filter_all(&plugin, &own_namespace, &nodes()),
            [anti.clone(), pass.clone(), pass.clone()]
        );
        // An empty namespace selector looks everywhere.
        let everywhere =
            pod_with_labels(json!({"app": "web"}), anti_affine_to_web(Some(json!({}))));
        assert_eq!(
            filter_all(&plugin, &everywhere, &nodes()),
            [anti.clone(), anti.clone(), pass.clone()]
        );
        // A pod already running with anti-affinity keeps matching pods off its node.
        let guarded = vec![
            zone_node(
                "a",
                Some("zone-a"),
                vec![resident(
                    "default",
                    json!({"app": "db"}),
                    anti_affine_to_web(None),
                )],
            ),
            zone_node("c", Some("zone-b"), vec![]),
        ];
        let newcomer = pod_with_labels(json!({"app": "web"}), json!({"containers": containers()}));
        assert_eq!(
            filter_all(&plugin, &newcomer, &guarded),
            [
                (
                    Code::Unschedulable,
                    inter_pod_affinity::EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH.to_string()
                ),
                pass.clone()
            ]
        );
        // Required affinity by zone: only zone-a holds a web pod; a node without the key never fits.
        let follower = pod_with_labels(
            json!({"app": "cache"}),
            json!({"containers": containers(), "affinity": {"podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [{
                    "labelSelector": {"matchLabels": {"app": "web"}},
                    "topologyKey": "topology.kubernetes.io/zone"}]}}}),
        );
        let mut with_bare = nodes();
        with_bare.push(zone_node("bare", None, vec![]));
        let affinity = (
            Code::UnschedulableAndUnresolvable,
            inter_pod_affinity::AFFINITY_RULES_NOT_MATCH.to_string(),
        );
        assert_eq!(
            filter_all(&plugin, &follower, &with_bare),
            [pass.clone(), pass, affinity.clone(), affinity]
        );
    }

    /// Existing pods' required affinity weighs `hardPodAffinityWeight` in the score;
    /// weight 0, or ignoring existing pods' terms for a pod without preferences,
    /// skips scoring.
    #[test]
    fn inter_pod_affinity_arguments_weigh_existing_pods_terms() {
        let follows_web = json!({"containers": containers(), "affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"app": "web"}},
                "topologyKey": "kubernetes.io/hostname"}]}}});
        let nodes = vec![
            zone_node(
                "a",
                Some("zone-a"),
                vec![resident("default", json!({"app": "cache"}), follows_web)],
            ),
            zone_node("b", Some("zone-a"), vec![]),
        ];
        let incoming = pod_with_labels(json!({"app": "web"}), json!({"containers": containers()}));
        let scored = |plugin: &dyn Plugin| {
            in_cluster(&nodes, |view| {
                let mut state = CycleState::default();
                let status = plugin.pre_score(&mut state, &incoming, view.nodes, view);
                (
                    status.code,
                    view.nodes
                        .iter()
                        .map(|n| plugin.score(&state, &incoming, n))
                        .collect::<Vec<_>>(),
                )
            })
        };
        let weighted = configured("InterPodAffinity", json!({"hardPodAffinityWeight": 7}));
        assert_eq!(scored(weighted.as_ref()), (Code::Success, vec![7, 0]));
        let unweighted = configured("InterPodAffinity", json!({"hardPodAffinityWeight": 0}));
        assert_eq!(scored(unweighted.as_ref()).0, Code::Skip);
        let ignoring = configured(
            "InterPodAffinity",
            json!({"ignorePreferredTermsOfExistingPods": true}),
        );
        assert_eq!(scored(ignoring.as_ref()).0, Code::Skip);
    }

    #[test]
    fn image_locality_prefers_nodes_with_the_image_scaled_by_its_spread() {
        use image_locality::{normalized_image_name, ImageLocality};
        for (given, normalized) in [
            ("nginx", "nginx:latest"),
            ("nginx:1.27", "nginx:1.27"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            (
                "docker.io/library/redis@sha256:abc",
                "docker.io/library/redis@sha256:abc",
            ),
        ] {
            assert_eq!(normalized_image_name(given), normalized);
        }
        let with_image = |name: &str, images: Value| {
            let mut n = NodeInfo::new(
                serde_json::from_value(json!({"metadata": {"name": name},
                    "status": {"allocatable": {"cpu": "1"}, "images": images}}))
                .unwrap(),
            );
            n.name = name.into();
            n
        };
        let big = json!([{"names": ["docker.io/library/redis:7.2"], "sizeBytes": 500 << 20}]);
        let nodes = [with_image("a", big), with_image("b", json!([]))];
        let score = |image: &str| {
            let p = pod(json!({"containers": [{"name": "c", "image": image}]}));
            in_cluster(&nodes, |view| {
                let mut state = CycleState::default();
                assert!(ImageLocality
                    .pre_score(&mut state, &p, view.nodes, view)
                    .is_success());
                view.nodes
                    .iter()
                    .map(|n| ImageLocality.score(&state, &p, n))
                    .collect::<Vec<_>>()
            })
        };
        // 500 MB on one node of two: 250 MB counts; 100 × (250 − 23) / (1000 − 23).
        assert_eq!(score("docker.io/library/redis:7.2"), [23, 0]);
        // The short name is not the name the node reports.
        assert_eq!(score("redis:7.2"), [0, 0]);
    }
}
