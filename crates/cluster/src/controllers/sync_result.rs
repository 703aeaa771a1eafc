//! What a controller's sync comes to: `Err` when the API refused a step, so the
//! worker re-adds the key with its back-off (upstream's `AddRateLimited`).

/// A sync step failed (a conflict or a refused write); the key is retried with back-off.
#[derive(Debug)]
pub struct SyncFailed;

/// What a step returns: `Err` makes the controller retry the object.
pub type SyncResult<T = ()> = Result<T, SyncFailed>;
