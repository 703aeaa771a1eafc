//! Controllers, as kube-controller-manager runs them: each is a component that
//! watches through informers, queues keys on a [`crate::client::WorkQueue`] and
//! reconciles by API calls — no storage backdoor, so every step is traced. They
//! run as one process, [`CONTROLLER_MANAGER`], whose informers share one watch per
//! stream as upstream's shared informer factory does.

pub mod annotations;
pub mod clusterrole_aggregation;
pub mod completion_index;
pub mod cron;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod expectations;
pub mod garbage_collector;
pub mod history;
pub mod hpa;
pub mod job;
pub mod namespace;
pub mod namespace_defaults;
pub mod node_lifecycle;
pub mod owners;
pub mod pod_claims;
pub mod pod_control;
pub mod pod_failure_policy;
pub mod pod_ranking;
pub mod pod_state;
pub mod pvc_protection;
pub mod replica_tally;
pub mod replicaset;
pub mod resource_quota;
pub mod service_endpoints;
pub mod statefulset;
pub mod status_writer;
pub mod sync_result;
pub mod taint_eviction;
pub mod template_hash;
pub mod ttl_after_finished;

/// The process the controllers run in, as the trace names its shared watches.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";

pub use clusterrole_aggregation::ClusterRoleAggregationController;
pub use cronjob::CronJobController;
pub use daemonset::DaemonSetController;
pub use deployment::DeploymentController;
pub use disruption::DisruptionController;
pub use endpoints::EndpointsController;
pub use endpointslice::EndpointSliceController;
pub use garbage_collector::GarbageCollector;
pub use hpa::HpaController;
pub use job::JobController;
pub use namespace::NamespaceController;
pub use namespace_defaults::NamespaceDefaults;
pub use node_lifecycle::NodeLifecycleController;
pub use pvc_protection::PvcProtectionController;
pub use replicaset::ReplicaSetController;
pub use resource_quota::ResourceQuotaController;
pub use statefulset::StatefulSetController;
pub use taint_eviction::TaintEvictionController;
pub use ttl_after_finished::TtlAfterFinishedController;
