//! PodTopologySpread's counts of matching pods per topology domain (upstream's
//! `TpPairToMatchNum` and `TopologyPairToPodCounts`): sums over every node of
//! the cluster, which the plugin keeps between cycles ([`DomainSum`] in a
//! [`NodeSumMemo`]).

use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, PodSpec, Toleration};
use rustc_hash::FxHashMap;

use crate::api::node_affinity::required_node_affinity;

use super::pod_topology_spread::{domain_of, has_all_keys, Constraint};
use crate::scheduler::framework::{NodeInfo, PodInfo, HOSTNAME_LABEL};
use crate::scheduler::node_sum_memo::NodeSum;

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
        let required = required_node_affinity(spec).cloned();
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
/// for nodes without it) of the nodes that count (no entries at all over no nodes).
pub type DomainCounts = Vec<FxHashMap<String, Domain>>;

/// What one node adds: per constraint, its domain and matching pods (none when
/// the node does not count for it).
type Contribution = Vec<Option<(String, i64)>>;

/// PodTopologySpread's counts as a sum over nodes.
pub struct DomainSum;

impl NodeSum for DomainSum {
    type Key = CountsKey;
    type Contribution = Contribution;
    type Total = DomainCounts;

    fn contribution(node: &NodeInfo, key: &CountsKey) -> Contribution {
        if key.require_all_keys && !has_all_keys(node, &key.constraints) {
            return vec![None; key.constraints.len()];
        }
        key.constraints
            .iter()
            .map(|c| {
                if (key.skip_hostname && c.topology_key == HOSTNAME_LABEL)
                    || !c.includes(&key.inclusion, node)
                {
                    return None;
                }
                let domain = domain_of(node, &c.topology_key).to_string();
                Some((domain, c.count(node, &key.namespace)))
            })
            .collect()
    }

    /// A domain left without nodes is forgotten.
    fn apply(counts: &mut DomainCounts, contribution: &Contribution, sign: i64) {
        if counts.len() < contribution.len() {
            counts.resize_with(contribution.len(), FxHashMap::default);
        }
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
}
