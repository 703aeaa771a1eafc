//! The scheduler's shortcuts change nothing: on a seeded random cluster (zones,
//! labels, pods with required and preferred inter-pod affinity, anti-affinity
//! and spread constraints), every scheduling cycle with the node cache's
//! affinity lists and the plugins' memos (one profile for every cycle, pods of a
//! kind arriving in pairs; spreading over zones and hostnames with node selectors,
//! tainted nodes and taint policies) gives the same filter verdicts, scores and choice as
//! the unoptimised reference path, where every plugin walks every node afresh.

use kubecraft_cluster::scheduler::cycle::{self, Attempt};
use kubecraft_cluster::scheduler::framework::{ClusterView, NodeInfo, PodInfo, PodSummary};
use kubecraft_cluster::scheduler::listers::Listers;
use kubecraft_cluster::scheduler::node_cache::NodeCache;
use kubecraft_cluster::scheduler::profile::Profile;
use kubecraft_cluster::sim::SeededRng;
use serde_json::{json, Value};

const ZONES: [&str; 4] = ["zone-a", "zone-b", "zone-c", "zone-d"];
const APPS: [&str; 3] = ["web", "db", "cache"];

fn pick<'a>(rng: &mut SeededRng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

fn node(rng: &mut SeededRng, i: usize) -> NodeInfo {
    let name = format!("node-{i:02}");
    let mut labels = json!({"kubernetes.io/hostname": name});
    // A few nodes have no zone, so zone terms must cope with missing labels.
    if rng.below(8) > 0 {
        labels["topology.kubernetes.io/zone"] = json!(pick(rng, &ZONES));
    }
    let cpu = pick(rng, &["2", "4", "8"]);
    // Some nodes are tainted, so spreading that honours taints leaves them out.
    let taints = if rng.below(5) == 0 {
        json!([{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}])
    } else {
        json!([])
    };
    NodeInfo::new(
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints},
            "status": {"allocatable": {"cpu": cpu, "memory": "16Gi", "pods": "20"}}}))
        .unwrap(),
    )
}

fn term(rng: &mut SeededRng) -> Value {
    let key = if rng.below(2) == 0 {
        "kubernetes.io/hostname"
    } else {
        "topology.kubernetes.io/zone"
    };
    json!({"labelSelector": {"matchLabels": {"app": pick(rng, &APPS)}}, "topologyKey": key})
}

fn pod(rng: &mut SeededRng, name: &str) -> serde_json::Map<String, Value> {
    let app = pick(rng, &APPS);
    let cpu = pick(rng, &["100m", "250m", "500m"]);
    let mut spec = json!({"containers": [{"name": "c", "image": "nginx",
        "resources": {"requests": {"cpu": cpu}}}]});
    let mut affinity = json!({});
    match rng.below(6) {
        0 => {
            affinity["podAntiAffinity"] =
                json!({"requiredDuringSchedulingIgnoredDuringExecution": [term(rng)]})
        }
        1 => {
            affinity["podAffinity"] =
                json!({"requiredDuringSchedulingIgnoredDuringExecution": [term(rng)]})
        }
        2 => {
            affinity["podAffinity"] = json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": rng.between(1, 100), "podAffinityTerm": term(rng)}]})
        }
        3 => {
            affinity["podAntiAffinity"] = json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": rng.between(1, 100), "podAffinityTerm": term(rng)}]})
        }
        4 => {
            spec["topologySpreadConstraints"] = json!([{"maxSkew": rng.between(1, 3),
                "topologyKey": pick(rng, &["topology.kubernetes.io/zone", "kubernetes.io/hostname"]),
                "whenUnsatisfiable": pick(rng, &["DoNotSchedule", "ScheduleAnyway"]),
                "nodeTaintsPolicy": pick(rng, &["Honor", "Ignore"]),
                "labelSelector": {"matchLabels": {"app": app}}}]);
            // Node inclusion: only nodes the pod may go to count toward the skew.
            if rng.below(2) == 0 {
                spec["nodeSelector"] = json!({"topology.kubernetes.io/zone": pick(rng, &ZONES)});
            }
            if rng.below(2) == 0 {
                spec["tolerations"] = json!([{"key": "dedicated", "operator": "Exists"}]);
            }
        }
        _ => {}
    }
    if affinity != json!({}) {
        spec["affinity"] = affinity;
    }
    json!({"metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": spec})
    .as_object()
    .unwrap()
    .clone()
}

fn attempt(pod: &PodInfo, view: &ClusterView, profile: &Profile, seed: &SeededRng) -> Attempt {
    let mut rng = seed.clone();
    cycle::run(pod, view, profile, 0, &mut rng, usize::MAX)
}

/// The attempt as comparable text: per node verdicts and scores, then the choice.
fn summary(a: &Attempt) -> String {
    format!(
        "{}\n{:?}\n{:?}\n{:?}\n{:?}",
        a.num_filtered, a.filters, a.failed, a.scores, a.selected
    )
}

#[test]
fn optimised_cycles_equal_the_reference_path_on_a_random_cluster() {
    for seed in [1, 7, 42] {
        let mut rng = SeededRng::new(seed);
        let mut cache = NodeCache::default();
        for i in 0..40 {
            cache.insert(node(&mut rng, i));
        }
        let listers = Listers::default();
        let remembering = Profile::default();
        let mut placed = 0;
        let mut kind = serde_json::Map::new();
        for i in 0..150 {
            // Every other pod is a copy of the one before: the memos' best case.
            if i % 2 == 0 {
                kind = pod(&mut rng, &format!("p{i}"));
            }
            let mut body = kind.clone();
            body["metadata"]["name"] = json!(format!("p{i}"));
            let pod = PodInfo::new(
                &format!("default/p{i}"),
                serde_json::from_value::<k8s_openapi::api::core::v1::Pod>(Value::Object(body))
                    .unwrap(),
            );
            let nodes = cache.all();
            let affine = cache.with_scoring_affinity();
            let anti = cache.with_required_anti_affinity();
            let optimised = ClusterView {
                nodes: &nodes,
                nodes_with_scoring_affinity: &affine,
                nodes_with_required_anti_affinity: &anti,
                image_nodes: cache.image_nodes(),
                listers: &listers,
                node_generations: Some(cache.generations()),
            };
            let reference = ClusterView {
                nodes: &nodes,
                nodes_with_scoring_affinity: &nodes,
                nodes_with_required_anti_affinity: &nodes,
                image_nodes: cache.image_nodes(),
                listers: &listers,
                node_generations: None,
            };
            let fast = attempt(&pod, &optimised, &remembering, &rng);
            let slow = attempt(&pod, &reference, &Profile::default(), &rng);
            assert_eq!(summary(&fast), summary(&slow), "seed {seed}, pod p{i}");
            rng.next_u64();
            if let Some(node) = fast.selected {
                cache.add_pod(&node, &pod.key, PodSummary::of_pod(&pod.pod));
                placed += 1;
            }
        }
        assert!(placed > 100, "seed {seed}: only {placed} pods placed");
    }
}
