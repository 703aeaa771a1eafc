//! A sum over the cache's nodes, kept between scheduling cycles. Plugins whose
//! PreFilter or PreScore state adds up what each node holds for the incoming pod
//! (InterPodAffinity's term counts, PodTopologySpread's domain counts) see pods
//! of a workload arrive one after another with the same inputs; between two of
//! them only the nodes whose generation moved need counting again. Generations
//! are unique in the process, so a node at the generation the memo saw is exactly
//! the node it counted. Several workloads scaling at once take turns, so the memo
//! keeps the sums of the last [`REMEMBERED_SUMS`] keys.

use std::cell::RefCell;
use std::rc::Rc;

use crate::scheduler::framework::{ClusterView, NodeInfo};

/// What one node adds to a sum, and how sums combine.
pub trait NodeSum {
    /// Everything the sum depends on besides the nodes.
    type Key: PartialEq;
    /// What one node adds.
    type Contribution;
    /// The sum over the nodes.
    type Total: Clone + Default;

    /// What `node` adds for `key`.
    fn contribution(node: &NodeInfo, key: &Self::Key) -> Self::Contribution;

    /// Adds (`sign` 1) or takes away (-1) one node's contribution.
    fn apply(total: &mut Self::Total, contribution: &Self::Contribution, sign: i64);

    /// The sum over `nodes`, counted afresh.
    fn over(nodes: &[&NodeInfo], key: &Self::Key) -> Self::Total {
        let mut total = Self::Total::default();
        for node in nodes {
            Self::apply(&mut total, &Self::contribution(node, key), 1);
        }
        total
    }
}

/// How many keys' sums a memo keeps (the least recently used one goes first).
pub const REMEMBERED_SUMS: usize = 64;

/// A sum, what each node added and the node's generation then.
struct Remembered<S: NodeSum> {
    key: S::Key,
    generations: Vec<u64>,
    contributions: Vec<S::Contribution>,
    total: Rc<S::Total>,
}

/// A plugin's memo of its recent sums, the most recently used last.
pub struct NodeSumMemo<S: NodeSum>(RefCell<Vec<Remembered<S>>>);

impl<S: NodeSum> Default for NodeSumMemo<S> {
    fn default() -> Self {
        NodeSumMemo(RefCell::new(Vec::new()))
    }
}

impl<S: NodeSum> NodeSumMemo<S> {
    /// The sum over every node of `cluster` for `key`: from the memo when a recent
    /// pod had the same key and the view carries the cache's generations
    /// (recounting the nodes that changed), else counted afresh.
    pub fn total(&self, key: S::Key, cluster: &ClusterView) -> Rc<S::Total> {
        let Some(generations) = cluster.node_generations else {
            return Rc::new(S::over(cluster.nodes, &key));
        };
        let mut memo = self.0.borrow_mut();
        let found = memo
            .iter()
            .position(|m| m.key == key && m.generations.len() == generations.len());
        if let Some(i) = found {
            let last = memo.len() - 1;
            memo[i..].rotate_left(1);
            let m = &mut memo[last];
            for (i, &now) in generations.iter().enumerate() {
                if m.generations[i] != now {
                    let total = Rc::make_mut(&mut m.total);
                    S::apply(total, &m.contributions[i], -1);
                    let fresh = S::contribution(cluster.nodes[i], &m.key);
                    S::apply(total, &fresh, 1);
                    m.contributions[i] = fresh;
                    m.generations[i] = now;
                }
            }
            return m.total.clone();
        }
        let contributions: Vec<S::Contribution> = cluster
            .nodes
            .iter()
            .map(|node| S::contribution(node, &key))
            .collect();
        let mut total = S::Total::default();
        for c in &contributions {
            S::apply(&mut total, c, 1);
        }
        let total = Rc::new(total);
        if memo.len() == REMEMBERED_SUMS {
            memo.remove(0);
        }
        memo.push(Remembered {
            key,
            generations: generations.to_vec(),
            contributions,
            total: total.clone(),
        });
        total
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::scheduler::listers::Listers;

    thread_local! {
        static COUNTED: Cell<usize> = const { Cell::new(0) };
    }

    /// Each node adds the key (counting how often a node is looked at).
    struct KeyPerNode;

    impl NodeSum for KeyPerNode {
        type Key = i64;
        type Contribution = i64;
        type Total = i64;

        fn contribution(_: &NodeInfo, key: &i64) -> i64 {
            COUNTED.with(|c| c.set(c.get() + 1));
            *key
        }

        fn apply(total: &mut i64, contribution: &i64, sign: i64) {
            *total += sign * contribution;
        }
    }

    fn node(name: &str) -> NodeInfo {
        NodeInfo::new(
            serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap(),
        )
    }

    #[test]
    fn alternating_keys_are_each_remembered_and_only_changed_nodes_recounted() {
        let infos = [node("a"), node("b"), node("c")];
        let nodes: Vec<&NodeInfo> = infos.iter().collect();
        let (images, listers) = (BTreeMap::new(), Listers::default());
        let view = |generations: &'static [u64]| ClusterView {
            nodes: &nodes,
            nodes_with_scoring_affinity: &[],
            nodes_with_required_anti_affinity: &[],
            image_nodes: &images,
            listers: &listers,
            node_generations: Some(generations),
        };
        let memo = NodeSumMemo::<KeyPerNode>::default();
        let counted = || COUNTED.with(Cell::get);
        for key in 1..=REMEMBERED_SUMS as i64 {
            assert_eq!(*memo.total(key, &view(&[1, 2, 3])), 3 * key);
        }
        let first = counted();
        assert_eq!(first, 3 * REMEMBERED_SUMS);
        for key in [1, 2, 1, REMEMBERED_SUMS as i64] {
            assert_eq!(*memo.total(key, &view(&[1, 2, 3])), 3 * key);
        }
        assert_eq!(counted(), first, "every key answered from the memo");
        assert_eq!(*memo.total(2, &view(&[1, 5, 3])), 6);
        assert_eq!(counted(), first + 1, "only the changed node counted again");
        // One key more than the memo holds pushes out the least recently used (3).
        assert_eq!(*memo.total(0, &view(&[1, 5, 3])), 0);
        assert_eq!(*memo.total(3, &view(&[1, 5, 3])), 9);
        assert_eq!(counted(), first + 1 + 3 + 3);
    }
}
