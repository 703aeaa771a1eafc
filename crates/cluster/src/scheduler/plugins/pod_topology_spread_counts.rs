//! PodTopologySpread's counts of matching pods per topology domain (upstream's
//! `TpPairToMatchNum` and `TopologyPairToPodCounts`). They are sums over every
//! node of the cluster, so the plugin keeps them between cycles
//! ([`DomainCountsMemo`]): pods of one workload arrive one after another with the
//! same constraints, and between two of them only the nodes whose generation moved
//! are counted again.

use std::cell::RefCell;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, PodSpec, Toleration};
use rustc_hash::FxHashMap;

use super::pod_topology_spread::{domain_of, has_all_keys, Constraint, HOSTNAME};
use crate::scheduler::framework::{ClusterView, NodeInfo, PodInfo};

/// What of the incoming pod decides whether a node's domain counts (upstream's
/// node inclusion policies): its node selector, required node affinity and
/// tolerations.
#[derive(PartialEq)]
pub struct Inclusion {
    /// A pod spec holding only the node selector and the required node affinity.
    pub spec: PodSpec,
    pub tolerations: Vec<Toleration>,
}

impl Inclusion {
    /// The parts of `pod` that the inclusion policies read.
    pub fn of(pod: &PodInfo) -> Inclusion {
        let spec = pod.pod.spec.as_ref();
        let required = spec
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .clone()
            });
        Inclusion {
            spec: PodSpec {
                node_selector: spec.and_then(|s| s.node_selector.clone()),
                affinity: required.map(|r| Affinity {
                    node_affinity: Some(NodeAffinity {
                        required_during_scheduling_ignored_during_execution: Some(r),
                        ..NodeAffinity::default()
                    }),
                    ..Affinity::default()
                }),
                ..PodSpec::default()
            },
            tolerations: pod.tolerations().to_vec(),
        }
    }
}

/// Everything the counts depend on besides the nodes.
#[derive(PartialEq)]
pub struct CountsKey {
    pub constraints: Vec<Constraint>,
    /// Constraints on the hostname are not summed (PreScore reads them per node).
    pub skip_hostname: bool,
    /// Nodes missing one of the constraints' topology keys count nowhere.
    pub require_all_keys: bool,
    /// The incoming pod's namespace (its selectors count pods there).
    pub namespace: String,
    pub inclusion: Inclusion,
}

/// One domain: how many counted nodes it has and how many matching pods they hold.
#[derive(Clone, Copy, Default)]
pub struct Domain {
    pub nodes: i64,
    pub pods: i64,
}

/// Per constraint, the domains (by the node's value of its topology key; empty
/// for nodes without it) of the nodes that count.
pub type DomainCounts = Vec<FxHashMap<String, Domain>>;

/// What one node adds: per constraint, its domain and matching pods (none when
/// the node does not count for it).
type Contribution = Vec<Option<(String, i64)>>;

fn contribution(node: &NodeInfo, key: &CountsKey) -> Contribution {
    if key.require_all_keys && !has_all_keys(node, &key.constraints) {
        return Vec::new();
    }
    key.constraints
        .iter()
        .map(|c| {
            if (key.skip_hostname && c.topology_key == HOSTNAME)
                || !c.includes(&key.inclusion, node)
            {
                return None;
            }
            let domain = domain_of(node, &c.topology_key).to_string();
            Some((domain, c.count(node, &key.namespace)))
        })
        .collect()
}

/// Adds (`sign` 1) or takes away (-1) a node's contribution; a domain left
/// without nodes is forgotten.
fn apply(counts: &mut DomainCounts, contribution: &Contribution, sign: i64) {
    for (domains, entry) in counts.iter_mut().zip(contribution) {
        let Some((value, pods)) = entry else {
            continue;
        };
        if !domains.contains_key(value) {
            domains.insert(value.clone(), Domain::default());
        }
        let Some(domain) = domains.get_mut(value) else {
            continue;
        };
        domain.pods += pods * sign;
        domain.nodes += sign;
        if domain.nodes <= 0 {
            domains.remove(value);
        }
    }
}

/// The counts of `key` over `nodes`, with each node's contribution.
fn count_all(nodes: &[&NodeInfo], key: &CountsKey) -> (DomainCounts, Vec<Contribution>) {
    let mut counts = vec![FxHashMap::default(); key.constraints.len()];
    let contributions: Vec<Contribution> = nodes.iter().map(|n| contribution(n, key)).collect();
    for c in &contributions {
        apply(&mut counts, c, 1);
    }
    (counts, contributions)
}

/// The last counts, what each node added and the node's generation then.
struct Remembered {
    key: CountsKey,
    generations: Vec<u64>,
    contributions: Vec<Contribution>,
    counts: Rc<DomainCounts>,
}

/// The plugin's memo of its last counts (one for PreFilter, one for PreScore).
#[derive(Default)]
pub struct DomainCountsMemo(RefCell<Option<Remembered>>);

impl DomainCountsMemo {
    /// The counts over every node of `cluster` for `key`: from the memo when the
    /// last pod had the same key and the view carries the cache's generations
    /// (recounting the nodes that changed), else counted afresh.
    pub fn counts(&self, key: CountsKey, cluster: &ClusterView) -> Rc<DomainCounts> {
        let Some(generations) = cluster.node_generations else {
            return Rc::new(count_all(cluster.nodes, &key).0);
        };
        let mut memo = self.0.borrow_mut();
        if let Some(m) = memo
            .as_mut()
            .filter(|m| m.key == key && m.generations.len() == generations.len())
        {
            for (i, &now) in generations.iter().enumerate() {
                if m.generations[i] != now {
                    let counts = Rc::make_mut(&mut m.counts);
                    apply(counts, &m.contributions[i], -1);
                    let fresh = contribution(cluster.nodes[i], &m.key);
                    apply(counts, &fresh, 1);
                    m.contributions[i] = fresh;
                    m.generations[i] = now;
                }
            }
            return m.counts.clone();
        }
        let (counts, contributions) = count_all(cluster.nodes, &key);
        let counts = Rc::new(counts);
        *memo = Some(Remembered {
            key,
            generations: generations.to_vec(),
            contributions,
            counts: counts.clone(),
        });
        counts
    }
}
