//! The engine's integration tests, one module per area, built as one test binary:
//! separate binaries each linked the whole engine again (~100 MB apiece in a debug
//! build), and a CI machine ran out of disk linking ~40 of them.

mod common;

mod api_errors;
mod authorization;
mod container_environment;
mod crd_versions;
mod crds;
mod cronjobs;
mod daemonsets;
mod deletion;
mod deployments;
mod determinism;
mod discovery_and_tables;
mod disruption;
mod endpoints;
mod event_ttl;
mod events;
mod garbage_collection;
mod hpa;
mod image_pulls;
mod init_containers;
mod jobs;
mod kubelets;
mod list_and_watch;
mod logs;
mod namespaces;
mod node_failure;
mod openapi_schemas;
mod pod_placement;
mod probes;
mod replicasets;
mod scheduler;
mod scheduler_binding_cycle;
mod scheduler_config;
mod scheduler_profiles;
mod scheduler_reference;
mod service_requests;
mod shared_informers;
mod snapshots;
mod statefulsets;
mod storage_semantics;
mod subresources;
mod tables;
