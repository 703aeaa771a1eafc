//! The in-process client side that controllers, the scheduler and kubelets share:
//! informers (list + watch into a typed cache) and the event recorder. Components reach the API server only
//! through [`crate::sim::Ctx::call`], so every step is traced.

pub mod discovery;
pub mod informer;
pub mod recorder;
pub mod workqueue;

pub use informer::{Delta, Informer};
pub use recorder::{ObjectRef, Recorder};
pub use workqueue::WorkQueue;

/// The API path of the pod stored under `key` (`namespace/name`).
pub fn pod_path(key: &str) -> String {
    let (namespace, name) = key.split_once('/').unwrap_or(("default", key));
    format!("/api/v1/namespaces/{namespace}/pods/{name}")
}
