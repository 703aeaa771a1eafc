//! The event queue: occurrences ordered by (virtual time, insertion sequence), so
//! ties resolve the same way every run.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::clock::VirtualTime;

struct Entry<T> {
    time: VirtualTime,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest pops first.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A priority queue of future occurrences.
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    next_seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    /// Schedules `item` at `time`.
    pub fn push(&mut self, time: VirtualTime, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, item });
    }

    /// When the earliest occurrence is due.
    pub fn next_time(&self) -> Option<VirtualTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Removes and returns the earliest occurrence.
    pub fn pop(&mut self) -> Option<(VirtualTime, T)> {
        self.heap.pop().map(|e| (e.time, e.item))
    }

    /// How many occurrences are pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::default();
        q.push(VirtualTime(5), "b");
        q.push(VirtualTime(1), "a");
        q.push(VirtualTime(5), "c");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, vec!["a", "b", "c"]);
    }
}
