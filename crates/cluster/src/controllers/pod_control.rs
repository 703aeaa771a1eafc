//! Creating and deleting a controller's pods with the events upstream's
//! `PodControl` records: `SuccessfulCreate` "Created pod: NAME", `FailedCreate`
//! "Error creating: …", `SuccessfulDelete` "Deleted pod: NAME", `FailedDelete`.

use crate::api::Request;
use crate::client::{pod_path, ObjectRef, Recorder};
use crate::sim::Ctx;

/// What a delete came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    Yes,
    /// The pod was already gone.
    Gone,
    /// The API refused; the message as recorded.
    Failed(String),
}

/// POSTs `body` to `path` (a pods collection); the created pod's name, or the
/// failure message.
pub fn create_pod(
    ctx: &mut Ctx,
    recorder: &mut Recorder,
    owner: &ObjectRef,
    path: &str,
    body: String,
) -> Result<String, String> {
    let response = ctx.call(Request::post(path.to_string(), body));
    if response.status == 201 {
        let name = response.body_json()["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let message = format!("Created pod: {name}");
        recorder.event(ctx, owner, "Normal", "SuccessfulCreate", &message);
        return Ok(name);
    }
    let message = format!("Error creating: {}", response.status_message());
    recorder.event(ctx, owner, "Warning", "FailedCreate", &message);
    Err(message)
}

/// DELETEs the pod under `pod_key` (`namespace/name`).
pub fn delete_pod(
    ctx: &mut Ctx,
    recorder: &mut Recorder,
    owner: &ObjectRef,
    pod_key: &str,
) -> Deleted {
    let response = ctx.call(Request::delete(pod_path(pod_key)));
    let name = pod_key.split_once('/').map_or(pod_key, |(_, n)| n);
    match response.status {
        200 | 202 => {
            let message = format!("Deleted pod: {name}");
            recorder.event(ctx, owner, "Normal", "SuccessfulDelete", &message);
            Deleted::Yes
        }
        404 => Deleted::Gone,
        _ => {
            let message = format!("Error deleting: {}", response.status_message());
            recorder.event(ctx, owner, "Warning", "FailedDelete", &message);
            Deleted::Failed(message)
        }
    }
}
