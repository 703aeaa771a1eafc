//! Creating and deleting a controller's pods with the events upstream's
//! `PodControl` records: `SuccessfulCreate` "Created pod: NAME", `FailedCreate`
//! "Error creating: …", `SuccessfulDelete` "Deleted pod: NAME", `FailedDelete`;
//! and upstream's slow start, which creates many pods in growing batches.

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

/// Upstream's `slowStartBatch`: `create(i)` for each `i` in `0..count`, in batches
/// of 1, 2, 4, … that stop after the first batch with a failure (a refusal would
/// refuse the rest too). Returns how many were created and the first failure.
pub fn slow_start_batch(
    count: usize,
    mut create: impl FnMut(usize) -> Result<String, String>,
) -> (usize, Option<String>) {
    let (mut start, mut batch, mut created) = (0, 1, 0);
    while start < count {
        let end = (start + batch).min(count);
        let mut failure = None;
        for i in start..end {
            match create(i) {
                Ok(_) => created += 1,
                Err(message) => failure = failure.or(Some(message)),
            }
        }
        if failure.is_some() {
            return (created, failure);
        }
        start = end;
        batch *= 2;
    }
    (created, None)
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

#[cfg(test)]
mod tests {
    use super::slow_start_batch;

    #[test]
    fn slow_start_doubles_its_batches_and_stops_after_one_that_failed() {
        let mut tried = Vec::new();
        let (created, failure) = slow_start_batch(20, |i| {
            tried.push(i);
            if i == 4 {
                Err("refused".into())
            } else {
                Ok(format!("pod-{i}"))
            }
        });
        // Batches 0 | 1-2 | 3-6: the failure at 4 ends the run after its batch.
        assert_eq!(tried, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!((created, failure.as_deref()), (6, Some("refused")));
        let (created, failure) = slow_start_batch(5, |i| Ok(i.to_string()));
        assert_eq!((created, failure), (5, None));
    }
}
