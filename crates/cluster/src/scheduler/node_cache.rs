//! The scheduler's cache of nodes and what each holds, in name order, with the
//! lists upstream's snapshot keeps for inter-pod affinity: the nodes holding pods
//! whose terms weigh in scores, and those holding pods with required anti-affinity.

use std::collections::{BTreeMap, BTreeSet};

use super::framework::{NodeInfo, PodSummary};

/// Nodes in slots (boxed, so walking the cache stays cheap), found by name.
#[derive(Default)]
pub struct NodeCache {
    slots: Vec<Option<Box<NodeInfo>>>,
    free: Vec<usize>,
    by_name: BTreeMap<String, usize>,
    /// The slots in name order, and their nodes' generations.
    order: Vec<usize>,
    generations: Vec<u64>,
    /// Slots holding pods whose terms weigh in scores, and with required anti-affinity.
    with_scoring_affinity: BTreeSet<usize>,
    with_required_anti_affinity: BTreeSet<usize>,
    /// How many nodes report each image name (upstream's `ImageStateSummary.NumNodes`).
    image_nodes: BTreeMap<String, usize>,
}

impl NodeCache {
    /// The node named `name`.
    pub fn get(&self, name: &str) -> Option<&NodeInfo> {
        self.by_name.get(name).and_then(|&slot| self.slot(slot))
    }

    fn slot(&self, slot: usize) -> Option<&NodeInfo> {
        self.slots.get(slot)?.as_deref()
    }

    /// Every node, in name order.
    pub fn all(&self) -> Vec<&NodeInfo> {
        // Ordered slots always hold a node: one exact-size allocation, no filtering.
        self.order.iter().map(|&slot| self.occupied(slot)).collect()
    }

    /// The generation of each node, in name order (aligned with [`Self::all`]).
    pub fn generations(&self) -> &[u64] {
        &self.generations
    }

    /// The nodes holding pods whose terms weigh in InterPodAffinity's score.
    pub fn with_scoring_affinity(&self) -> Vec<&NodeInfo> {
        self.listed(&self.with_scoring_affinity)
    }

    /// The nodes holding pods with required anti-affinity.
    pub fn with_required_anti_affinity(&self) -> Vec<&NodeInfo> {
        self.listed(&self.with_required_anti_affinity)
    }

    /// How many nodes report each image name.
    pub fn image_nodes(&self) -> &BTreeMap<String, usize> {
        &self.image_nodes
    }

    fn count_images(&mut self, info: &NodeInfo, delta: isize) {
        for name in info.images.keys() {
            let count = self.image_nodes.entry(name.clone()).or_default();
            *count = count.saturating_add_signed(delta);
            if *count == 0 {
                self.image_nodes.remove(name);
            }
        }
    }

    fn listed(&self, slots: &BTreeSet<usize>) -> Vec<&NodeInfo> {
        slots.iter().map(|&slot| self.occupied(slot)).collect()
    }

    /// The node in a slot the cache lists (ordered or tracked), which is never empty.
    fn occupied(&self, slot: usize) -> &NodeInfo {
        self.slot(slot).expect("listed slots hold a node")
    }

    /// Stores (or replaces) a node.
    pub fn insert(&mut self, info: NodeInfo) {
        let slot = match self.by_name.get(&info.name) {
            Some(&slot) => slot,
            None => {
                let slot = self.free.pop().unwrap_or_else(|| {
                    self.slots.push(None);
                    self.slots.len() - 1
                });
                self.by_name.insert(info.name.clone(), slot);
                self.order = self.by_name.values().copied().collect();
                slot
            }
        };
        if let Some(old) = self.slots[slot].take() {
            self.count_images(&old, -1);
        }
        self.count_images(&info, 1);
        self.slots[slot] = Some(Box::new(info));
        self.track(slot);
        self.reorder_generations();
    }

    fn reorder_generations(&mut self) {
        self.generations = self
            .order
            .iter()
            .map(|&slot| self.occupied(slot).generation)
            .collect();
    }

    /// Removes a node, returning what it held.
    pub fn remove(&mut self, name: &str) -> Option<NodeInfo> {
        let slot = self.by_name.remove(name)?;
        self.order.retain(|&s| s != slot);
        self.with_scoring_affinity.remove(&slot);
        self.with_required_anti_affinity.remove(&slot);
        self.free.push(slot);
        let old = self.slots[slot].take()?;
        self.count_images(&old, -1);
        self.reorder_generations();
        Some(*old)
    }

    /// Accounts a pod on `node` (if the node is known).
    pub fn add_pod(&mut self, node: &str, key: &str, pod: PodSummary) {
        self.update(node, |info| info.add_pod(key, pod));
    }

    /// Stops accounting a pod on `node`.
    pub fn remove_pod(&mut self, node: &str, key: &str) {
        self.update(node, |info| info.remove_pod(key));
    }

    fn update(&mut self, node: &str, change: impl FnOnce(&mut NodeInfo)) {
        let Some(&slot) = self.by_name.get(node) else {
            return;
        };
        if let Some(info) = self.slots[slot].as_deref_mut() {
            change(info);
            let generation = info.generation;
            self.track(slot);
            if let Ok(position) = self
                .order
                .binary_search_by(|&s| self.occupied(s).name.as_str().cmp(node))
            {
                self.generations[position] = generation;
            }
        }
    }

    fn track(&mut self, slot: usize) {
        let Some(info) = self.slots[slot].as_deref() else {
            return;
        };
        for (set, listed) in [
            (
                &mut self.with_scoring_affinity,
                info.pods_with_scoring_affinity > 0,
            ),
            (
                &mut self.with_required_anti_affinity,
                info.pods_with_required_anti_affinity > 0,
            ),
        ] {
            if listed {
                set.insert(slot);
            } else {
                set.remove(&slot);
            }
        }
    }
}
