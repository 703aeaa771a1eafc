//! `metav1.Status` errors with upstream's reasons, messages, details and codes.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::resources::ResourceInfo;

/// One field-level validation error (upstream's `field.Error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The kind of problem, e.g. `FieldValueRequired`.
    pub reason: &'static str,
    /// The field path, e.g. `spec.containers[0].name`.
    pub field: String,
    /// The message without the field prefix, e.g. `Required value`.
    pub message: String,
}

/// Renders a value the way upstream's field errors print it: strings quoted, numbers bare.
pub fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

impl FieldError {
    /// `field: Required value`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        FieldError {
            reason: "FieldValueRequired",
            field: field.into(),
            message,
        }
    }

    /// `field: Invalid value: <value>: detail`.
    pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {}: {detail}", render_value(value)),
        }
    }

    /// `field: Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        FieldError {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                render_value(value),
                list.join(", ")
            ),
        }
    }

    /// `field: Duplicate value: <value>`.
    pub fn duplicate(field: impl Into<String>, value: &Value) -> Self {
        FieldError {
            reason: "FieldValueDuplicate",
            field: field.into(),
            message: format!("Duplicate value: {}", render_value(value)),
        }
    }

    /// `field: Forbidden: detail`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }

    /// `field: Invalid value: "<type>": detail` for values of the wrong JSON type.
    pub fn type_invalid(field: impl Into<String>, value: &Value, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueTypeInvalid",
            field: field.into(),
            message: format!("Invalid value: {}: {detail}", render_value(value)),
        }
    }

    /// The whole error as upstream prints it: `field: message`.
    pub fn full_message(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.field, self.message)
        }
    }
}

/// An API error: becomes a `metav1.Status` body with the same code.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details` (written in upstream's field order); `None` omits it.
    pub details: Option<Map<String, Value>>,
}

/// `details` naming an object by resource (`kind` holds the plural, as upstream does).
fn resource_details(info: &ResourceInfo, name: &str) -> Map<String, Value> {
    let mut details = Map::new();
    details.insert("name".into(), name.into());
    if !info.group.is_empty() {
        details.insert("group".into(), info.group.as_str().into());
    }
    details.insert("kind".into(), info.plural.as_str().into());
    details
}

impl StatusError {
    fn new(code: u16, reason: &'static str, message: String) -> Self {
        StatusError {
            code,
            reason,
            message,
            details: None,
        }
    }

    fn with_details(mut self, details: Map<String, Value>) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 `pods "x" not found`.
    pub fn not_found(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} {name:?} not found", info.qualified_plural()),
        )
        .with_details(resource_details(info, name))
    }

    /// 404 for a path that names no resource.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
        )
        .with_details(Map::new())
    }

    /// 409 `pods "x" already exists`.
    pub fn already_exists(info: &ResourceInfo, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} {name:?} already exists", info.qualified_plural()),
        )
        .with_details(resource_details(info, name))
    }

    /// 409 on a stale resourceVersion.
    pub fn conflict(info: &ResourceInfo, name: &str) -> Self {
        Self::conflict_because(
            info,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 `Operation cannot be fulfilled on pods "x": <why>`.
    pub fn conflict_because(info: &ResourceInfo, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: {why}",
                info.qualified_plural()
            ),
        )
        .with_details(resource_details(info, name))
    }

    /// 422 with field causes: `Deployment.apps "web" is invalid: ...`.
    pub fn invalid(info: &ResourceInfo, name: &str, errors: &[FieldError]) -> Self {
        Self::invalid_kind(&info.group, &info.kind, name, errors)
    }

    /// 422 with field causes for a kind of `group` that need not be a served resource
    /// (e.g. `PodLogOptions`).
    pub fn invalid_kind(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let rendered: Vec<String> = errors.iter().map(FieldError::full_message).collect();
        let summary = if rendered.len() == 1 {
            rendered[0].clone()
        } else {
            format!("[{}]", rendered.join(", "))
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), name.into());
        }
        if !group.is_empty() {
            details.insert("group".into(), group.into());
        }
        details.insert("kind".into(), kind.into());
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.reason, "message": e.message, "field": e.field}))
            .collect();
        details.insert("causes".into(), Value::Array(causes));
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        Self::new(
            422,
            "Invalid",
            format!("{qualified_kind} {name:?} is invalid: {summary}"),
        )
        .with_details(details)
    }

    /// 400 BadRequest with a free-form message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into())
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
        )
        .with_details(Map::new())
    }

    /// 410 Expired: `too old resource version: 5 (10)`.
    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// 410 Expired for an exact list at a resourceVersion that was compacted away.
    pub fn list_expired() -> Self {
        Self::new(
            410,
            "Expired",
            "The resourceVersion for the provided list is too old.".into(),
        )
    }

    /// 504 for a read newer than anything stored (upstream's `NewTooLargeResourceVersionError`).
    pub fn resource_version_too_large(requested: u64, current: u64) -> Self {
        let mut details = Map::new();
        details.insert(
            "causes".into(),
            json!([{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]),
        );
        details.insert("retryAfterSeconds".into(), json!(1));
        Self::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {requested}, current: {current}"),
        )
        .with_details(details)
    }

    /// 410 Expired for a continue token whose snapshot is gone.
    pub fn continue_expired() -> Self {
        Self::new(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
        )
    }

    /// 403 when creating into a namespace that is being deleted.
    pub fn namespace_terminating(info: &ResourceInfo, name: &str, namespace: &str) -> Self {
        let mut details = resource_details(info, name);
        details.insert(
            "causes".into(),
            json!([{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {namespace} is being terminated"),
                "field": "metadata.namespace"
            }]),
        );
        Self::new(
            403,
            "Forbidden",
            format!(
                "{} {name:?} is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                info.qualified_plural()
            ),
        )
        .with_details(details)
    }

    /// 403 from an admission plugin: `pods "x" is forbidden: <why>`.
    pub fn forbidden(info: &ResourceInfo, name: &str, why: &str) -> Self {
        Self::new(
            403,
            "Forbidden",
            format!("{} {name:?} is forbidden: {why}", info.qualified_plural()),
        )
        .with_details(resource_details(info, name))
    }

    /// 403 for a request the authorizer refused, as upstream's `NewForbidden` words it
    /// for the group and resource the request named (`pods is forbidden: …`,
    /// `deployments.apps "web" is forbidden: …`, or `forbidden: …` for a path).
    pub fn forbidden_request(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        let message = match (qualified.as_str(), name) {
            ("", _) => format!("forbidden: {why}"),
            (_, "") => format!("{qualified} is forbidden: {why}"),
            (_, _) => format!("{qualified} {name:?} is forbidden: {why}"),
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), name.into());
        }
        if !group.is_empty() {
            details.insert("group".into(), group.into());
        }
        if !resource.is_empty() {
            details.insert("kind".into(), resource.into());
        }
        Self::new(403, "Forbidden", message).with_details(details)
    }

    /// 400 for a body that does not decode as the resource's kind:
    /// `Pod in version "v1" cannot be handled as a Pod: <why>`.
    pub fn cannot_handle(info: &ResourceInfo, why: &str) -> Self {
        let kind = &info.kind;
        Self::bad_request(format!(
            "{kind} in version {:?} cannot be handled as a {kind}: {why}",
            info.version
        ))
    }

    /// 500 for a fault inside the server.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message.into())
    }

    /// 429 TooManyRequests with a free-form message (the eviction API).
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(429, "TooManyRequests", message.into())
    }

    /// The `metav1.Status` body as JSON text, fields in upstream's order.
    pub fn to_json(&self) -> String {
        status_body(
            "Failure",
            &self.message,
            self.reason,
            self.details.as_ref(),
            Some(self.code),
        )
    }
}

/// The fields of `details` and of each cause, in upstream's order.
const DETAILS_ORDER: &[&str] = &[
    "name",
    "group",
    "kind",
    "uid",
    "causes",
    "retryAfterSeconds",
];
const CAUSE_ORDER: &[&str] = &["reason", "message", "field"];

/// A JSON object written with its keys in a given order (JSON objects here keep
/// no order of their own); nested `causes` follow upstream's order too.
struct Ordered<'a> {
    map: &'a Map<String, Value>,
    order: &'static [&'static str],
}

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(Some(self.map.len()))?;
        for key in self.order {
            match self.map.get(*key) {
                Some(Value::Array(causes)) if *key == "causes" => {
                    let ordered: Vec<Ordered> = causes
                        .iter()
                        .filter_map(Value::as_object)
                        .map(|map| Ordered {
                            map,
                            order: CAUSE_ORDER,
                        })
                        .collect();
                    out.serialize_entry(key, &ordered)?;
                }
                Some(value) => out.serialize_entry(key, value)?,
                None => {}
            }
        }
        out.end()
    }
}

/// A `metav1.Status` body as upstream encodes it (its field order included).
#[derive(Serialize)]
struct StatusBody<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: Map<String, Value>,
    status: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Ordered<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
}

fn status_body(
    status: &'static str,
    message: &str,
    reason: &str,
    details: Option<&Map<String, Value>>,
    code: Option<u16>,
) -> String {
    let body = StatusBody {
        kind: "Status",
        api_version: "v1",
        metadata: Map::new(),
        status,
        message,
        reason,
        details: details.map(|map| Ordered {
            map,
            order: DETAILS_ORDER,
        }),
        code,
    };
    serde_json::to_string(&body).expect("a Status serialises")
}

/// A successful `metav1.Status` as JSON text, as returned by deletes of most kinds.
pub fn success_status(info: &ResourceInfo, name: &str, uid: &str) -> String {
    let mut details = resource_details(info, name);
    details.insert("uid".into(), uid.into());
    status_body("Success", "", "", Some(&details), None)
}
