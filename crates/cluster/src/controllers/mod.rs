//! Controllers, as kube-controller-manager runs them: each is a component that
//! watches through informers, queues keys on a [`crate::client::WorkQueue`] and
//! reconciles by API calls — no storage backdoor, so every step is traced.

pub mod deployment;
pub mod expectations;
pub mod garbage_collector;
pub mod owners;
pub mod pod_ranking;
pub mod pod_state;
pub mod replicaset;

pub use deployment::DeploymentController;
pub use garbage_collector::GarbageCollector;
pub use replicaset::ReplicaSetController;
