//! ControllerRefs: who controls an object, and the strategic-merge patches with
//! which a controller adopts a matching orphan or releases an object that no
//! longer matches its selector (upstream's `ControllerRefManager`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{json, Value};

use crate::api::Request;
use crate::sim::Ctx;

/// The owner reference marked `controller: true`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// Whether `meta` is controlled by the object with `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    controller_of(meta).is_some_and(|r| r.uid == uid)
}

/// A controller reference to an owner (`controller` and `blockOwnerDeletion` set).
pub fn controller_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Strategic-merges `references` into the object's owner references (guarded by
/// its UID, as upstream's patches are); true if the API agreed.
fn patch_owner_references(
    ctx: &mut Ctx,
    path: &str,
    references: Value,
    object: &ObjectMeta,
) -> bool {
    let patch = json!({"metadata": {"ownerReferences": references, "uid": object.uid}});
    ctx.call(Request::patch(
        path.to_string(),
        "application/strategic-merge-patch+json",
        patch.to_string(),
    ))
    .status
        == 200
}

/// Makes `owner` the controller of the orphan at `path`; true if the API agreed.
pub fn adopt(ctx: &mut Ctx, path: &str, owner: &OwnerReference, orphan: &ObjectMeta) -> bool {
    patch_owner_references(ctx, path, json!([owner]), orphan)
}

/// Drops the owner reference with `owner_uid` from the object at `path`.
pub fn release(ctx: &mut Ctx, path: &str, owner_uid: &str, object: &ObjectMeta) -> bool {
    let delete = json!([{"$patch": "delete", "uid": owner_uid}]);
    patch_owner_references(ctx, path, delete, object)
}

/// Upstream's `RecheckDeletionTimestamp` before adopting: re-reads the owner at
/// `path`, so only the same (`uid`), live object adopts.
pub fn still_current(ctx: &mut Ctx, path: &str, uid: Option<&str>) -> bool {
    let fresh = ctx.call(Request::get(path.to_string()));
    let body = fresh.body_json();
    fresh.status == 200
        && body.pointer("/metadata/uid").and_then(Value::as_str) == uid
        && body.pointer("/metadata/deletionTimestamp").is_none()
}
