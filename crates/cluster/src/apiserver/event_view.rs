//! events.k8s.io/v1 Events are a view of the core/v1 Events: one storage, two
//! shapes, as upstream serves them. Requests to the new group are converted to core
//! requests and their answers (objects, lists and watch events) converted back.

use crate::api::json_path::ValueExt;
use serde_json::{json, Map, Value};

use super::route::ResourceRequest;
use super::update::{apply_patch, patch_type};
use super::watch::WatchId;
use super::{ApiServer, Env};
use crate::api::request::{Method, Request, Response, ResponseBody};
use crate::api::status::{FieldError, StatusError};

/// (events.k8s.io/v1 field, core/v1 field) pairs that only differ in name.
const RENAMED: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// Fields both shapes share unchanged.
const SHARED: &[&str] = &[
    "metadata",
    "reason",
    "type",
    "eventTime",
    "series",
    "action",
    "related",
    "reportingInstance",
];

fn convert(ev: &Value, api_version: &str, to_core: bool) -> Value {
    let Some(map) = ev.as_object() else {
        return ev.clone();
    };
    let mut out = Map::new();
    out.insert("kind".into(), json!("Event"));
    out.insert("apiVersion".into(), json!(api_version));
    for field in SHARED {
        if let Some(v) = map.get(*field) {
            out.insert(field.to_string(), v.clone());
        }
    }
    for (new_name, core_name) in RENAMED {
        let (from, to) = if to_core {
            (new_name, core_name)
        } else {
            (core_name, new_name)
        };
        if let Some(v) = map.get(*from) {
            out.insert(to.to_string(), v.clone());
        }
    }
    if !to_core {
        // core's `series.lastObservedTime` and `count` keep their names in both shapes.
        if let Some(series) = map.get("series") {
            out.insert("series".into(), series.clone());
        }
    }
    Value::Object(out)
}

/// The core/v1 shape of an events.k8s.io/v1 Event.
pub fn to_core(ev: &Value) -> Value {
    convert(ev, "v1", true)
}

/// The events.k8s.io/v1 shape of a core/v1 Event.
pub fn from_core(ev: &Value) -> Value {
    convert(ev, "events.k8s.io/v1", false)
}

/// Converts a core watch event object (or bookmark) into the events.k8s.io/v1 shape.
pub fn watch_object_from_core(text: &str) -> String {
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if value.get("kind") == Some(&json!("Status")) {
        return text.to_string();
    }
    from_core(&value).to_string()
}

/// What events.k8s.io/v1 requires of a new Event.
fn validate_new(ev: &Value) -> Vec<FieldError> {
    [
        "eventTime",
        "reportingController",
        "reportingInstance",
        "action",
        "reason",
    ]
    .iter()
    .filter(|f| ev.get(**f).is_none_or(|v| v.is_null() || v == ""))
    .map(|f| FieldError::required(*f, ""))
    .collect()
}

fn convert_body(response: Response) -> Response {
    let ResponseBody::Bytes(text) = &response.body else {
        return response;
    };
    let mut value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return response,
    };
    match value.get("kind").and_then(Value::as_str) {
        Some("Event") => value = from_core(&value),
        Some("EventList") => {
            value["apiVersion"] = json!("events.k8s.io/v1");
            if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
                for item in items.iter_mut() {
                    *item = from_core(item);
                }
            }
        }
        _ => return response,
    }
    Response {
        body: ResponseBody::Bytes(value.to_string()),
        ..response
    }
}

impl ApiServer {
    /// Serves an events.k8s.io/v1 request from the core Events.
    pub(super) fn handle_event_view(
        &mut self,
        req: &Request,
        rr: &ResourceRequest,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let core = ResourceRequest {
            group: String::new(),
            version: "v1".into(),
            ..rr.clone()
        };
        let mut core_req = req.clone();
        match req.method {
            Method::Post | Method::Put => {
                let ev: Value = serde_json::from_str(&req.body).map_err(|e| {
                    StatusError::bad_request(format!(
                        "couldn't get version/kind; json parse error: {e}"
                    ))
                })?;
                if ev
                    .get("apiVersion")
                    .is_some_and(|v| v != "events.k8s.io/v1")
                {
                    return Err(StatusError::bad_request(format!(
                        "the API version in the data ({}) does not match the expected API version (events.k8s.io/v1)",
                        ev["apiVersion"].as_str().unwrap_or("")
                    )));
                }
                if req.method == Method::Post {
                    let errors = validate_new(&ev);
                    if !errors.is_empty() {
                        let info = self.served[self
                            .resource_id("events.k8s.io", "v1", "events")
                            .expect("served")]
                        .info
                        .clone();
                        let name = ev
                            .at("/metadata/name")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        return Err(StatusError::invalid(&info, name, &errors));
                    }
                }
                core_req = core_req.with_body(to_core(&ev).to_string(), "application/json");
            }
            Method::Patch => {
                let current = self.handle_resource(
                    &Request::get(""),
                    &ResourceRequest {
                        verb: "get",
                        ..core.clone()
                    },
                    env,
                )?;
                let view =
                    apply_patch(req, from_core(&current.body_json()), patch_type(req, true)?)?;
                core_req = Request {
                    method: Method::Put,
                    ..req.clone()
                }
                .with_body(to_core(&view).to_string(), "application/json");
            }
            _ => {}
        }
        let core_rr = ResourceRequest {
            verb: if req.method == Method::Patch {
                "update"
            } else {
                rr.verb
            },
            ..core
        };
        let response = self.handle_resource(&core_req, &core_rr, env)?;
        if let Some(watch) = response.watch_id() {
            self.view_watch_as_events_v1(watch);
        }
        Ok(convert_body(response))
    }

    fn view_watch_as_events_v1(&mut self, watch: WatchId) {
        self.watches
            .convert_with(watch, Box::new(watch_object_from_core));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_between_shapes() {
        let v1 = json!({"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "web"}, "note": "hi", "reason": "Scheduled", "type": "Normal",
            "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-cp", "action": "Binding",
            "eventTime": "2026-01-01T00:00:00.000000Z"});
        let core = to_core(&v1);
        assert_eq!(core["involvedObject"]["name"], "web");
        assert_eq!(core["message"], "hi");
        assert_eq!(core["reportingComponent"], "default-scheduler");
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(from_core(&core), v1);
    }
}
