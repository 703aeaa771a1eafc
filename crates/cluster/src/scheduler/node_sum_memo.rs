//! A sum over the cache's nodes, kept between scheduling cycles. Plugins whose
//! PreFilter or PreScore state adds up what each node holds for the incoming pod
//! (InterPodAffinity's term counts, PodTopologySpread's domain counts) see pods
//! of a workload arrive one after another with the same inputs; between two of
//! them only the nodes whose generation moved need counting again. Generations
//! are unique in the process, so a node at the generation the memo saw is exactly
//! the node it counted.

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

/// The last sum, what each node added and the node's generation then.
struct Remembered<S: NodeSum> {
    key: S::Key,
    generations: Vec<u64>,
    contributions: Vec<S::Contribution>,
    total: Rc<S::Total>,
}

/// A plugin's memo of its last sum.
pub struct NodeSumMemo<S: NodeSum>(RefCell<Option<Remembered<S>>>);

impl<S: NodeSum> Default for NodeSumMemo<S> {
    fn default() -> Self {
        NodeSumMemo(RefCell::new(None))
    }
}

impl<S: NodeSum> NodeSumMemo<S> {
    /// The sum over every node of `cluster` for `key`: from the memo when the last
    /// pod had the same key and the view carries the cache's generations
    /// (recounting the nodes that changed), else counted afresh.
    pub fn total(&self, key: S::Key, cluster: &ClusterView) -> Rc<S::Total> {
        let Some(generations) = cluster.node_generations else {
            return Rc::new(S::over(cluster.nodes, &key));
        };
        let mut memo = self.0.borrow_mut();
        if let Some(m) = memo
            .as_mut()
            .filter(|m| m.key == key && m.generations.len() == generations.len())
        {
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
        *memo = Some(Remembered {
            key,
            generations: generations.to_vec(),
            contributions,
            total: total.clone(),
        });
        total
    }
}
