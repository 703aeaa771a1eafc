//! API value types shared by every component: requests, responses, errors,
//! the resource registry, selectors and patches. No I/O here.

pub mod builtin;
pub mod equality;
pub mod fields;
pub mod json_path;
pub mod kube_version;
pub mod labels;
pub mod names;
pub mod node_affinity;
pub mod patch;
pub mod quantity;
pub mod query;
pub mod quota;
pub mod quota_scopes;
pub mod request;
pub mod resources;
pub mod role_aggregation;
pub mod status;
pub mod tolerations;

pub use request::{Method, Request, Response, ResponseBody, UserInfo};

/// The finalizer the API server puts on every new PersistentVolumeClaim and the
/// PVC protection controller lifts once no pod uses the claim.
pub const PVC_PROTECTION_FINALIZER: &str = "kubernetes.io/pvc-protection";
pub use resources::{ResourceInfo, Scope};
pub use status::StatusError;
