//! A node's pods filed by each label pair they carry. Spreading counts the pods a
//! workload's selector matches on every node, for every pod it places; a selector
//! that requires one label value (`app=web`) need only look at the pods filed under
//! that pair, a handful of a node's tens of pods when many workloads share nodes.

use rustc_hash::FxHashMap;

use crate::api::labels::{LabelSelector, Operator};
use crate::scheduler::affinity_terms::Labels;

/// The keys of the pods carrying each value of one label.
type PodsByValue = FxHashMap<Box<str>, Vec<Box<str>>>;

/// Pod keys by label key, then value.
#[derive(Clone, Debug, Default)]
pub struct PodLabelIndex(FxHashMap<Box<str>, PodsByValue>);

impl PodLabelIndex {
    /// Files the pod `key` under each of its labels.
    pub fn add(&mut self, key: &str, labels: &Labels) {
        for (name, value) in labels {
            let values = match self.0.get_mut(name.as_str()) {
                Some(values) => values,
                None => self.0.entry(name.as_str().into()).or_default(),
            };
            match values.get_mut(value.as_str()) {
                Some(keys) => keys.push(key.into()),
                None => {
                    values.insert(value.as_str().into(), vec![key.into()]);
                }
            }
        }
    }

    /// Takes the pod `key` out from under each of its labels.
    pub fn remove(&mut self, key: &str, labels: &Labels) {
        for (name, value) in labels {
            let Some(values) = self.0.get_mut(name.as_str()) else {
                continue;
            };
            if let Some(keys) = values.get_mut(value.as_str()) {
                keys.retain(|k| &**k != key);
                if keys.is_empty() {
                    values.remove(value.as_str());
                }
            }
            if values.is_empty() {
                self.0.remove(name.as_str());
            }
        }
    }

    /// The keys of the only pods `selector` can match, when one of its requirements
    /// names a single label value (the fewest such pods); `None` when every pod may
    /// match.
    pub fn candidates(&self, selector: &LabelSelector) -> Option<&[Box<str>]> {
        selector
            .requirements
            .iter()
            .filter(|r| {
                matches!(r.operator, Operator::Equals | Operator::In) && r.values.len() == 1
            })
            .map(|r| {
                self.0
                    .get(r.key.as_str())
                    .and_then(|values| values.get(r.values[0].as_str()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|keys| keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn keys(found: Option<&[Box<str>]>) -> Option<Vec<&str>> {
        found.map(|keys| keys.iter().map(|k| &**k).collect())
    }

    #[test]
    fn a_selector_naming_one_value_sees_only_the_pods_with_the_rarest_such_pair() {
        let mut index = PodLabelIndex::default();
        index.add("ns/web-1", &labels(&[("app", "web"), ("tier", "front")]));
        index.add("ns/web-2", &labels(&[("app", "web"), ("tier", "front")]));
        index.add("ns/db-1", &labels(&[("app", "db"), ("tier", "back")]));
        let select = |s: &str| LabelSelector::parse(s).unwrap();

        assert_eq!(
            keys(index.candidates(&select("app=web"))),
            Some(vec!["ns/web-1", "ns/web-2"])
        );
        assert_eq!(
            keys(index.candidates(&select("tier=front,app in (db)"))),
            Some(vec!["ns/db-1"])
        );
        assert_eq!(keys(index.candidates(&select("app=cache"))), Some(vec![]));
        // Nothing narrows these: every pod may match.
        assert_eq!(keys(index.candidates(&select("app in (web,db)"))), None);
        assert_eq!(keys(index.candidates(&select("app!=web"))), None);
        assert_eq!(keys(index.candidates(&LabelSelector::default())), None);

        index.remove("ns/web-1", &labels(&[("app", "web"), ("tier", "front")]));
        assert_eq!(
            keys(index.candidates(&select("app=web"))),
            Some(vec!["ns/web-2"])
        );
        index.remove("ns/db-1", &labels(&[("app", "db"), ("tier", "back")]));
        assert!(!index.0.contains_key("app") || !index.0["app"].contains_key("db"));
        assert!(!index.0.contains_key("tier") || index.0["tier"].len() == 1);
    }
}
