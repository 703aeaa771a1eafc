//! InterPodAffinity's PreFilter counts (upstream's `topologyToMatchedTermCount`s):
//! per topology domain, the pods whose required anti-affinity turns the incoming pod
//! away, the pods matching all its affinity terms, and the pods matching one of its
//! anti-affinity terms. They are sums of what each node holds, which the plugin
//! keeps between cycles ([`TermSum`] in a `NodeSumMemo`).

use rustc_hash::FxHashMap;

use crate::scheduler::affinity_terms::{AffinityTerm, Labels};
use crate::scheduler::framework::NodeInfo;
use crate::scheduler::node_sum_memo::NodeSum;

/// Matching pods per topology key and value (hashed: hostnames make many domains).
#[derive(Clone, Default)]
pub struct TopologyCounts(FxHashMap<String, FxHashMap<String, i64>>);

impl TopologyCounts {
    /// Counts `n` more pods in `node`'s domain of `key` (nothing when it has no such label).
    pub fn add(&mut self, node: &NodeInfo, key: &str, n: i64) {
        if let Some(value) = node.label(key) {
            self.add_to(key, value, n);
        }
    }

    /// Counts `n` more (or fewer) pods in the domain `key`=`value`; a domain
    /// down to zero is forgotten, as upstream's `update` deletes it.
    fn add_to(&mut self, key: &str, value: &str, n: i64) {
        let values = match self.0.get_mut(key) {
            Some(values) => values,
            None => self.0.entry(key.to_string()).or_default(),
        };
        let count = match values.get_mut(value) {
            Some(count) => {
                *count += n;
                *count
            }
            None => {
                values.insert(value.to_string(), n);
                n
            }
        };
        if count == 0 {
            values.remove(value);
            if values.is_empty() {
                self.0.remove(key);
            }
        }
    }

    /// The count of the domain `key`=`value`.
    pub fn get(&self, key: &str, value: &str) -> i64 {
        self.0
            .get(key)
            .and_then(|values| values.get(value))
            .copied()
            .unwrap_or(0)
    }

    /// Whether no domain counts any pod.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The incoming pod as the counts depend on it: its namespace (and that
/// namespace's labels), its labels, and its required terms with namespace
/// selectors resolved.
#[derive(PartialEq)]
pub struct Incoming {
    pub namespace: String,
    pub labels: Labels,
    pub namespace_labels: Labels,
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
}

/// The three counts.
#[derive(Clone, Default)]
pub struct FilterCounts {
    /// Domains holding pods whose required anti-affinity matches the incoming pod.
    pub existing_anti_affinity: TopologyCounts,
    /// Domains holding pods that match all the incoming pod's affinity terms.
    pub affinity: TopologyCounts,
    /// Domains holding pods that match one of its anti-affinity terms.
    pub anti_affinity: TopologyCounts,
}

/// Which of the three counts an entry adds to.
#[derive(Clone, Copy, PartialEq)]
pub enum Count {
    ExistingAntiAffinity,
    Affinity,
    AntiAffinity,
}

/// What one node adds to the counts: (count, topology key, the node's value, pods).
pub type Contribution = Vec<(Count, String, String, i64)>;

/// Whether a pod in `namespace` with `labels` matches every one of (resolved) `terms`.
pub fn matches_all(terms: &[AffinityTerm], namespace: &str, labels: &Labels) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(namespace, labels, None))
}

/// InterPodAffinity's counts as a sum over nodes.
pub struct TermSum;

impl NodeSum for TermSum {
    type Key = Incoming;
    type Contribution = Contribution;
    type Total = FilterCounts;

    /// What `node`'s pods add to the counts for `incoming`.
    fn contribution(node: &NodeInfo, incoming: &Incoming) -> Contribution {
        let mut out: Contribution = Vec::new();
        let mut add = |count: Count, key: &str| {
            let Some(value) = node.label(key) else {
                return;
            };
            let same = out
                .iter_mut()
                .find(|(c, k, v, _)| *c == count && k == key && v == value);
            match same {
                Some(entry) => entry.3 += 1,
                None => out.push((count, key.to_string(), value.to_string(), 1)),
            }
        };
        for existing in node.pods.values() {
            if let Some(terms) = existing.affinity.as_deref() {
                for term in &terms.required_anti_affinity {
                    let namespace_labels = Some(&incoming.namespace_labels);
                    if term.matches(&incoming.namespace, &incoming.labels, namespace_labels) {
                        add(Count::ExistingAntiAffinity, &term.topology_key);
                    }
                }
            }
            if matches_all(
                &incoming.required_affinity,
                &existing.namespace,
                &existing.labels,
            ) {
                for term in &incoming.required_affinity {
                    add(Count::Affinity, &term.topology_key);
                }
            }
            for term in &incoming.required_anti_affinity {
                if term.matches(&existing.namespace, &existing.labels, None) {
                    add(Count::AntiAffinity, &term.topology_key);
                }
            }
        }
        out
    }

    fn apply(counts: &mut FilterCounts, contribution: &Contribution, sign: i64) {
        for (count, key, value, n) in contribution {
            let counts = match count {
                Count::ExistingAntiAffinity => &mut counts.existing_anti_affinity,
                Count::Affinity => &mut counts.affinity,
                Count::AntiAffinity => &mut counts.anti_affinity,
            };
            counts.add_to(key, value, n * sign);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_counted_down_to_zero_is_forgotten() {
        let mut counts = TopologyCounts::default();
        counts.add_to("zone", "a", 2);
        counts.add_to("zone", "b", 1);
        counts.add_to("zone", "a", -2);
        assert_eq!(counts.get("zone", "a"), 0);
        assert!(!counts.is_empty());
        counts.add_to("zone", "b", -1);
        assert!(counts.is_empty());
    }
}
