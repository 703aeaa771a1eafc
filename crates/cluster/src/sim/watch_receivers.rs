//! Who receives each watch's events. A component's own watch goes to it alone. A
//! watch an informer opened for a process (kube-controller-manager's shared
//! informer factory) is delivered once, to the process, and handed from there to
//! every component of that process following the same stream — as upstream's
//! shared informers fan one watch out to each controller's handlers.

use std::collections::BTreeMap;

use crate::apiserver::watch::WatchId;

/// The receivers of one watch.
pub(super) struct Receivers {
    /// The name its deliveries are traced to: the component's, or for a shared
    /// watch its process's.
    pub actor: String,
    /// The components handed each event, in the order they subscribed.
    pub components: Vec<usize>,
}

/// Every watch's receivers, and each process's shared watches by stream.
#[derive(Default)]
pub(super) struct WatchReceivers {
    receivers: BTreeMap<WatchId, Receivers>,
    /// (process, stream) → the watch that process's informers of the stream share.
    shared: BTreeMap<(String, String), WatchId>,
}

impl WatchReceivers {
    /// Records a watch opened by `actor` (a component, or a process for `component`).
    pub fn open(&mut self, watch: WatchId, actor: &str, component: usize) {
        self.receivers.insert(
            watch,
            Receivers {
                actor: actor.to_string(),
                components: vec![component],
            },
        );
    }

    /// The receivers of `watch`, if a component opened it.
    pub fn get(&self, watch: WatchId) -> Option<&Receivers> {
        self.receivers.get(&watch)
    }

    /// Makes `watch` the one `process`'s informers of `stream` share.
    pub fn share(&mut self, process: &str, stream: &str, watch: WatchId) {
        self.shared
            .insert((process.to_string(), stream.to_string()), watch);
    }

    /// Adds `component` to the receivers of the watch `process` shares for
    /// `stream`, if there is one; returns that watch.
    pub fn join(&mut self, process: &str, stream: &str, component: usize) -> Option<WatchId> {
        let watch = *self
            .shared
            .get(&(process.to_string(), stream.to_string()))?;
        let receivers = self.receivers.get_mut(&watch)?;
        if !receivers.components.contains(&component) {
            receivers.components.push(component);
        }
        Some(watch)
    }

    /// Stops sharing an expired watch: its receivers each list and watch again,
    /// the first opening the new shared watch and the others joining it.
    pub fn retire(&mut self, watch: WatchId) {
        self.shared.retain(|_, shared| *shared != watch);
        self.receivers.remove(&watch);
    }

    /// Takes a stopped component off every watch; returns the watches no one
    /// receives any more.
    pub fn remove_component(&mut self, component: usize) -> Vec<WatchId> {
        let mut unreceived = Vec::new();
        for (watch, receivers) in &mut self.receivers {
            receivers.components.retain(|c| *c != component);
            if receivers.components.is_empty() {
                unreceived.push(*watch);
            }
        }
        for watch in &unreceived {
            self.retire(*watch);
        }
        unreceived
    }
}
