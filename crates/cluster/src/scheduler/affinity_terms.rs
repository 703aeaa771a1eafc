//! Inter-pod affinity terms as the scheduler evaluates them (upstream's
//! `fwk.AffinityTerm`): a label selector over pods, the namespaces it looks in, and
//! the topology key that defines "the same place". Parsed once per pod.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, WeightedPodAffinityTerm};

use crate::api::labels::LabelSelector;

/// Labels, as pods and namespaces carry them.
pub type Labels = BTreeMap<String, String>;

/// A selector converted from `metav1.LabelSelector`: `None` (a missing selector)
/// selects nothing, an empty one selects everything.
pub type Selector = Option<LabelSelector>;

/// Whether `selector` selects `labels`.
pub fn selects(selector: &Selector, labels: &Labels) -> bool {
    selector
        .as_ref()
        .is_some_and(|s| s.matches_map(Some(labels)))
}

/// Converts an optional `metav1.LabelSelector`; a malformed one selects nothing.
pub fn selector_of(
    selector: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) -> Selector {
    selector.and_then(|s| LabelSelector::of(s).ok())
}

/// One pod (anti-)affinity term.
#[derive(Clone, Debug, PartialEq)]
pub struct AffinityTerm {
    pub namespaces: BTreeSet<String>,
    pub namespace_selector: Selector,
    pub selector: Selector,
    pub topology_key: String,
}

impl AffinityTerm {
    /// The term of `pod` (in namespace `namespace`): with neither namespaces nor a
    /// namespace selector, the term looks in the pod's own namespace.
    pub fn new(namespace: &str, term: &PodAffinityTerm) -> AffinityTerm {
        let listed = term.namespaces.as_deref().unwrap_or(&[]);
        let namespaces = if listed.is_empty() && term.namespace_selector.is_none() {
            BTreeSet::from([namespace.to_string()])
        } else {
            listed.iter().cloned().collect()
        };
        AffinityTerm {
            namespaces,
            namespace_selector: selector_of(term.namespace_selector.as_ref()),
            selector: selector_of(term.label_selector.as_ref()),
            topology_key: term.topology_key.clone(),
        }
    }

    /// Whether a pod in `namespace` with `labels` matches; `namespace_labels` are its
    /// namespace's labels (None when the namespace selector was already resolved).
    pub fn matches(
        &self,
        namespace: &str,
        labels: &Labels,
        namespace_labels: Option<&Labels>,
    ) -> bool {
        static NONE: Labels = BTreeMap::new();
        let in_namespace = self.namespaces.contains(namespace)
            || selects(&self.namespace_selector, namespace_labels.unwrap_or(&NONE));
        in_namespace && selects(&self.selector, labels)
    }

    /// Upstream's `mergeAffinityTermNamespacesIfNotEmpty`: a non-empty namespace
    /// selector becomes the namespaces it selects now.
    pub fn resolve_namespaces<'a>(
        &mut self,
        namespaces: impl Iterator<Item = (&'a String, &'a Labels)>,
    ) {
        let Some(selector) = self.namespace_selector.as_ref().filter(|s| !s.is_empty()) else {
            return;
        };
        let selected: Vec<String> = namespaces
            .filter(|(_, labels)| selector.matches_map(Some(labels)))
            .map(|(name, _)| name.clone())
            .collect();
        self.namespaces.extend(selected);
        self.namespace_selector = None;
    }
}

/// A preferred term with its weight.
#[derive(Clone, Debug)]
pub struct WeightedTerm {
    pub term: AffinityTerm,
    pub weight: i64,
}

/// All inter-pod affinity terms of one pod.
#[derive(Clone, Debug, Default)]
pub struct PodAffinityTerms {
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedTerm>,
    pub preferred_anti_affinity: Vec<WeightedTerm>,
}

fn required(namespace: &str, terms: Option<&Vec<PodAffinityTerm>>) -> Vec<AffinityTerm> {
    terms
        .into_iter()
        .flatten()
        .map(|t| AffinityTerm::new(namespace, t))
        .collect()
}

fn preferred(namespace: &str, terms: Option<&Vec<WeightedPodAffinityTerm>>) -> Vec<WeightedTerm> {
    terms
        .into_iter()
        .flatten()
        .map(|t| WeightedTerm {
            term: AffinityTerm::new(namespace, &t.pod_affinity_term),
            weight: i64::from(t.weight),
        })
        .collect()
}

impl PodAffinityTerms {
    /// The terms of `pod`, or None when it has none.
    pub fn of(pod: &Pod) -> Option<PodAffinityTerms> {
        let affinity = pod.spec.as_ref()?.affinity.as_ref()?;
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let mut terms = PodAffinityTerms::default();
        if let Some(a) = affinity.pod_affinity.as_ref() {
            terms.required_affinity = required(
                namespace,
                a.required_during_scheduling_ignored_during_execution
                    .as_ref(),
            );
            terms.preferred_affinity = preferred(
                namespace,
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref(),
            );
        }
        if let Some(anti) = affinity.pod_anti_affinity.as_ref() {
            terms.required_anti_affinity = required(
                namespace,
                anti.required_during_scheduling_ignored_during_execution
                    .as_ref(),
            );
            terms.preferred_anti_affinity = preferred(
                namespace,
                anti.preferred_during_scheduling_ignored_during_execution
                    .as_ref(),
            );
        }
        (!terms.is_empty()).then_some(terms)
    }

    /// Whether another pod's score depends on these terms: required affinity
    /// (upstream's `hardPodAffinityWeight`) or any preferred term.
    pub fn weighs_in_scores(&self) -> bool {
        !self.required_affinity.is_empty()
            || !self.preferred_affinity.is_empty()
            || !self.preferred_anti_affinity.is_empty()
    }

    /// Whether there are no terms at all.
    pub fn is_empty(&self) -> bool {
        self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }
}
