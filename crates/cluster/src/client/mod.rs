//! The in-process client side that controllers, the scheduler and kubelets share:
//! informers (list + watch into a typed cache) and the event recorder. Components reach the API server only
//! through [`crate::sim::Ctx::call`], so every step is traced.

pub mod informer;
pub mod recorder;

pub use informer::{Delta, Informer};
pub use recorder::{ObjectRef, Recorder};
