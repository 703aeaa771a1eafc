//! A custom resource's served versions other than its storage version are views of
//! the storage version's objects. With conversion strategy `None` only `apiVersion`
//! differs: a request is served from the storage version's table with the requested
//! version's schema, printer columns and scale paths, and every object in the answer
//! (objects, lists, tables, watch events) names the requested version.

use serde_json::Value;

use super::CustomVersion;
use crate::api::request::{Method, Request, Response, ResponseBody};
use crate::api::resources::ResourceInfo;
use crate::api::status::StatusError;
use crate::apiserver::route::ResourceRequest;
use crate::apiserver::update::{apply_patch, patch_type};
use crate::apiserver::{ApiServer, Env};

/// Names `api_version` in `obj` when it is an object of `kind`, a list of them or a
/// table with them; other values (a `Status`, a `Scale`) stay as they are.
fn restamp(obj: &mut Value, api_version: &str, kind: &str) {
    let of_kind = |v: &Value| v.get("kind").and_then(Value::as_str) == Some(kind);
    let list_kind = format!("{kind}List");
    match obj.get("kind").and_then(Value::as_str) {
        Some(k) if k == kind => obj["apiVersion"] = Value::String(api_version.into()),
        Some(k) if k == list_kind => {
            obj["apiVersion"] = Value::String(api_version.into());
            for item in obj["items"].as_array_mut().into_iter().flatten() {
                item["apiVersion"] = Value::String(api_version.into());
            }
        }
        Some("Table") => {
            for row in obj["rows"].as_array_mut().into_iter().flatten() {
                if let Some(inner) = row.get_mut("object").filter(|o| of_kind(o)) {
                    inner["apiVersion"] = Value::String(api_version.into());
                }
            }
        }
        _ => {}
    }
}

/// [`restamp`] for JSON text; text that is not JSON is returned unchanged.
fn restamp_text(text: &str, api_version: &str, kind: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            restamp(&mut value, api_version, kind);
            value.to_string()
        }
        Err(_) => text.to_string(),
    }
}

/// Upstream's error when converting needs a webhook and the webhook call fails; the
/// simulated cluster runs no webhooks.
fn conversion_webhook_failed(storage: &ResourceInfo) -> StatusError {
    StatusError::internal(format!(
        "conversion webhook for {}, Kind={} failed: kubecraft does not call conversion webhooks (use spec.conversion.strategy None)",
        storage.api_version(),
        storage.kind
    ))
}

impl ApiServer {
    /// Serves a request to version `view` from the objects of version `storage`.
    pub(in crate::apiserver) fn handle_version_view(
        &mut self,
        req: &Request,
        rr: &ResourceRequest,
        view: usize,
        storage: usize,
        custom: &CustomVersion,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let view_info = self.served[view].info.clone();
        let storage_info = self.served[storage].info.clone();
        if custom.conversion_webhook {
            return Err(conversion_webhook_failed(&storage_info));
        }
        let storage_rr = ResourceRequest {
            version: storage_info.version.clone(),
            ..rr.clone()
        };
        // A Scale is autoscaling/v1 whatever the version; everything else is restamped.
        let whole_object = rr.subresource.as_deref() != Some("scale");
        let (forwarded, storage_rr) = match req.method {
            Method::Patch if whole_object => {
                let current = self.handle_stored(
                    &Request::get(""),
                    &ResourceRequest {
                        verb: "get",
                        subresource: None,
                        ..storage_rr.clone()
                    },
                    storage,
                    env,
                )?;
                let mut shown = current.body_json();
                restamp(&mut shown, &view_info.api_version(), &view_info.kind);
                let strategic = self.served[view].strategy.supports_strategic_merge();
                let patched = apply_patch(req, shown, patch_type(req, strategic)?)?;
                let put = Request {
                    method: Method::Put,
                    ..req.clone()
                }
                .with_body(patched.to_string(), "application/json");
                let body = self.body_in_storage_version(&put, rr, view, &storage_info)?;
                let rr = ResourceRequest {
                    verb: "update",
                    ..storage_rr
                };
                (body, rr)
            }
            Method::Post | Method::Put if whole_object => (
                self.body_in_storage_version(req, rr, view, &storage_info)?,
                storage_rr,
            ),
            _ => (req.clone(), storage_rr),
        };
        // The storage version's objects, the requested version's strategy.
        self.swap_strategies(view, storage);
        let answer = self.handle_stored(&forwarded, &storage_rr, storage, env);
        self.swap_strategies(view, storage);
        let response = answer?;
        let (api_version, kind) = (view_info.api_version(), view_info.kind.clone());
        if let Some(watch) = response.watch_id() {
            self.watches.convert_with(
                watch,
                Box::new(move |text| restamp_text(text, &api_version, &kind)),
            );
            return Ok(response);
        }
        let ResponseBody::Bytes(text) = &response.body else {
            return Ok(response);
        };
        let body = ResponseBody::Bytes(restamp_text(text, &api_version, &kind));
        Ok(Response { body, ..response })
    }

    /// The request with its body decoded as an object of version `view` (upstream's
    /// apiVersion, kind and namespace checks) and re-encoded in the storage version.
    fn body_in_storage_version(
        &self,
        req: &Request,
        rr: &ResourceRequest,
        view: usize,
        storage: &ResourceInfo,
    ) -> Result<Request, StatusError> {
        let mut obj = self.decode_body(req, view, rr.namespace.as_deref())?;
        obj["apiVersion"] = Value::String(storage.api_version());
        Ok(req.clone().with_body(obj.to_string(), "application/json"))
    }

    fn swap_strategies(&mut self, a: usize, b: usize) {
        let (low, high) = (a.min(b), a.max(b));
        let (left, right) = self.served.split_at_mut(high);
        std::mem::swap(&mut left[low].strategy, &mut right[0].strategy);
    }
}
