//! A node's memo of how many of its pods one label selector matches. Spreading
//! counts the pods of a workload on every node for every pod it places; pods of
//! one workload arrive one after another, and between two of them only the node
//! that took the last one changed, so the other nodes answer from the memo. Any
//! change to the node's pods forgets it. What was asked is named by a number
//! ([`query_id`]), so a node's memo compares numbers, not selectors.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::api::labels::LabelSelector;

thread_local! {
    /// Selector → namespace → id, for every pair asked about (a few per workload).
    static QUERY_IDS: RefCell<HashMap<LabelSelector, HashMap<String, u64>>> =
        RefCell::new(HashMap::new());
}

/// The number naming "pods in `namespace` that `selector` matches" for the life of
/// the thread: equal pairs get equal numbers (never read as anything but a key).
pub fn query_id(namespace: &str, selector: &LabelSelector) -> u64 {
    QUERY_IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        if let Some(id) = ids.get(selector).and_then(|by_ns| by_ns.get(namespace)) {
            return *id;
        }
        let id = ids.values().map(HashMap::len).sum::<usize>() as u64;
        ids.entry(selector.clone())
            .or_default()
            .insert(namespace.to_string(), id);
        id
    })
}

/// The last count asked of a node: the query (see [`query_id`]) and the answer.
#[derive(Clone, Default)]
pub struct MatchCountMemo(Cell<Option<(u64, i64)>>);

impl MatchCountMemo {
    /// The count for `query`: remembered, or `count()`.
    pub fn get_or_count(&self, query: u64, count: impl FnOnce() -> i64) -> i64 {
        if let Some((asked, n)) = self.0.get() {
            if asked == query {
                return n;
            }
        }
        let n = count();
        self.0.set(Some((query, n)));
        n
    }

    /// Forgets the count (the node's pods changed).
    pub fn clear(&mut self) {
        self.0.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(app: &str) -> LabelSelector {
        LabelSelector::parse(&format!("app={app}")).unwrap()
    }

    #[test]
    fn a_count_is_remembered_for_its_namespace_and_selector_until_cleared() {
        let mut memo = MatchCountMemo::default();
        let web = query_id("default", &selector("web"));
        assert_eq!(web, query_id("default", &selector("web")));
        assert_eq!(memo.get_or_count(web, || 3), 3);
        assert_eq!(memo.get_or_count(web, || 9), 3);
        let other_web = query_id("other", &selector("web"));
        assert_ne!(other_web, web);
        assert_eq!(memo.get_or_count(other_web, || 1), 1);
        let other_db = query_id("other", &selector("db"));
        assert_ne!(other_db, other_web);
        assert_eq!(memo.get_or_count(other_db, || 2), 2);
        memo.clear();
        assert_eq!(memo.get_or_count(other_db, || 5), 5);
    }
}
