//! kubecraft's simulated Kubernetes cluster.
//!
//! The crate has no browser dependency: it builds and tests natively and compiles
//! unchanged to wasm for the Web Worker.
//!
//! - [`api`]: transport-neutral request/response values, `metav1.Status` errors,
//!   the resource registry, selectors and patches.
//! - [`apiserver`]: the API server: dispatch, storage with resourceVersions and
//!   watch history, per-kind strategies, discovery and server-side printing.
//! - [`sim`]: the deterministic simulation core: virtual clock, seeded RNG, event
//!   queue, components and the trace.

pub mod api;
pub mod apiserver;
pub mod client;
pub mod cluster;
pub mod controllers;
pub mod kubelet;
pub mod scheduler;
pub mod service_request;
pub mod session_affinity;
pub mod sim;

/// The Kubernetes minor version whose API this cluster serves.
pub const KUBERNETES_VERSION: &str = "v1.35.0";
