//! Writing a workload's status as upstream's controllers do: only when it
//! changed, through the `status` subresource, re-reading the object once when
//! the write conflicts with a newer version.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::Request;
use crate::sim::Ctx;

/// Puts `status` into a copy of `object` (at API `path`) with `set` and writes it
/// unless `same` says it is already there (then nothing is copied); on a 409
/// re-reads the object and tries once more.
pub fn write_status<T: Serialize + DeserializeOwned + Clone>(
    ctx: &mut Ctx,
    path: &str,
    object: &T,
    same: impl Fn(&T) -> bool,
    set: impl Fn(&mut T),
) {
    if same(object) {
        return;
    }
    let mut object = object.clone();
    for _ in 0..2 {
        set(&mut object);
        let body = serde_json::to_string(&object).unwrap_or_default();
        let response = ctx.call(Request::put(format!("{path}/status"), body));
        if response.status != 409 {
            return;
        }
        let fresh = ctx.call(Request::get(path.to_string()));
        match serde_json::from_str::<T>(fresh.body_text()) {
            Ok(latest) if fresh.status == 200 => object = latest,
            _ => return,
        }
    }
}
