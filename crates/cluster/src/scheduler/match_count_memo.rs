//! A node's memo of how many of its pods one label selector matches. Spreading
//! counts the pods of a workload on every node for every pod it places; pods of
//! one workload arrive one after another, and between two of them only the node
//! that took the last one changed, so the other nodes answer from the memo. Any
//! change to the node's pods forgets it.

use std::cell::RefCell;

use crate::api::labels::LabelSelector;

/// The last count asked of a node: the namespace, the selector and the answer.
#[derive(Clone, Default)]
pub struct MatchCountMemo(RefCell<Option<(String, LabelSelector, i64)>>);

impl MatchCountMemo {
    /// The count for `selector` in `namespace`: remembered, or `count()`.
    pub fn get_or_count(
        &self,
        namespace: &str,
        selector: &LabelSelector,
        count: impl FnOnce() -> i64,
    ) -> i64 {
        if let Some((ns, remembered, n)) = &*self.0.borrow() {
            if ns == namespace && remembered == selector {
                return *n;
            }
        }
        let n = count();
        *self.0.borrow_mut() = Some((namespace.to_string(), selector.clone(), n));
        n
    }

    /// Forgets the count (the node's pods changed).
    pub fn clear(&mut self) {
        *self.0.get_mut() = None;
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
        assert_eq!(memo.get_or_count("default", &selector("web"), || 3), 3);
        assert_eq!(memo.get_or_count("default", &selector("web"), || 9), 3);
        assert_eq!(memo.get_or_count("other", &selector("web"), || 1), 1);
        assert_eq!(memo.get_or_count("other", &selector("db"), || 2), 2);
        memo.clear();
        assert_eq!(memo.get_or_count("other", &selector("db"), || 5), 5);
    }
}
