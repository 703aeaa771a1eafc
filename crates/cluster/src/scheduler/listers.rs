//! The objects besides pods and nodes that plugins consult, cached by informers:
//! namespaces (their labels, for affinity namespace selectors), the Services,
//! ReplicaSets and StatefulSets that define a pod's default spreading selector, and
//! the PodDisruptionBudgets preemption tries not to violate.

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use super::affinity_terms::Labels;
use crate::api::labels::{LabelSelector, Operator, Requirement};
use crate::apiserver::watch::{WatchEvent, WatchId};
use crate::client::Informer;
use crate::sim::Ctx;

/// Informer caches of namespaces, Services, ReplicaSets and StatefulSets.
pub struct Listers {
    namespaces: Informer<Namespace>,
    services: Informer<Service>,
    replica_sets: Informer<ReplicaSet>,
    stateful_sets: Informer<StatefulSet>,
    disruption_budgets: Informer<PodDisruptionBudget>,
}

impl Default for Listers {
    fn default() -> Self {
        Listers {
            namespaces: Informer::new("/api/v1/namespaces"),
            services: Informer::new("/api/v1/services"),
            replica_sets: Informer::new("/apis/apps/v1/replicasets"),
            stateful_sets: Informer::new("/apis/apps/v1/statefulsets"),
            disruption_budgets: Informer::new("/apis/policy/v1/poddisruptionbudgets"),
        }
    }
}

impl Listers {
    /// Lists and starts watching.
    pub fn start(&mut self, ctx: &mut Ctx) {
        self.namespaces.start(ctx);
        self.services.start(ctx);
        self.replica_sets.start(ctx);
        self.stateful_sets.start(ctx);
        self.disruption_budgets.start(ctx);
    }

    /// Applies `event` when one of these informers owns `watch`.
    pub fn handle(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx) {
        if self.namespaces.owns(watch) {
            self.namespaces.handle(event, ctx);
        } else if self.services.owns(watch) {
            self.services.handle(event, ctx);
        } else if self.replica_sets.owns(watch) {
            self.replica_sets.handle(event, ctx);
        } else if self.stateful_sets.owns(watch) {
            self.stateful_sets.handle(event, ctx);
        } else if self.disruption_budgets.owns(watch) {
            self.disruption_budgets.handle(event, ctx);
        }
    }

    /// Every namespace with its labels.
    pub fn namespaces(&self) -> impl Iterator<Item = (&String, &Labels)> {
        static NONE: Labels = Labels::new();
        self.namespaces
            .iter()
            .map(|(name, ns)| (name, ns.metadata.labels.as_ref().unwrap_or(&NONE)))
    }

    /// The labels of namespace `name` (none when it is unknown).
    pub fn namespace_labels(&self, name: &str) -> Labels {
        self.namespaces
            .get(name)
            .and_then(|ns| ns.metadata.labels.clone())
            .unwrap_or_default()
    }

    /// The disruption budgets of `namespace`.
    pub fn disruption_budgets(
        &self,
        namespace: &str,
    ) -> impl Iterator<Item = &PodDisruptionBudget> {
        self.disruption_budgets.in_namespace(namespace)
    }

    /// Upstream's `helper.DefaultSelector`: the selectors of the Services that select
    /// `pod`, plus its controlling ReplicaSet's or StatefulSet's selector.
    pub fn default_selector(&self, pod: &Pod) -> LabelSelector {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let mut merged = Labels::new();
        for service in self.services.in_namespace(namespace) {
            let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
                continue; // a Service without a selector selects nothing
            };
            if selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                merged.extend(selector.clone());
            }
        }
        let mut requirements: Vec<Requirement> = merged
            .into_iter()
            .map(|(key, value)| Requirement {
                key,
                operator: Operator::Equals,
                values: vec![value],
            })
            .collect();
        let owner = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true));
        let owner_selector = owner.and_then(|o| {
            let key = format!("{namespace}/{}", o.name);
            match (o.api_version.as_str(), o.kind.as_str()) {
                ("apps/v1", "ReplicaSet") => self
                    .replica_sets
                    .get(&key)
                    .and_then(|rs| LabelSelector::of(&rs.spec.as_ref()?.selector).ok()),
                ("apps/v1", "StatefulSet") => self
                    .stateful_sets
                    .get(&key)
                    .and_then(|ss| LabelSelector::of(&ss.spec.as_ref()?.selector).ok()),
                _ => None,
            }
        });
        if let Some(selector) = owner_selector {
            requirements.extend(selector.requirements);
        }
        LabelSelector { requirements }
    }
}
