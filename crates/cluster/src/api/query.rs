//! Query parameters of list, watch, write and delete requests, parsed with
//! upstream's errors.

use base64::Engine;
use serde_json::{json, Value};

use super::fields::FieldSelector;
use super::labels::LabelSelector;
use super::request::Request;
use super::status::{FieldError, StatusError};

/// Options of a list or watch.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub label_selector: LabelSelector,
    pub field_selector: FieldSelector,
    /// The selectors as given, for error messages.
    pub label_text: String,
    pub field_text: String,
    pub limit: Option<usize>,
    pub continue_token: Option<ContinueToken>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub watch: bool,
    pub allow_bookmarks: bool,
    /// `sendInitialEvents`, when the query names it at all.
    pub send_initial_events: Option<bool>,
}

/// Which state of the collection a list reads (`resourceVersion` and `resourceVersionMatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListRead {
    /// No resourceVersion (or `0`): the latest state.
    Latest,
    /// At least as new as this resourceVersion.
    NotOlderThan(u64),
    /// Exactly the state at this resourceVersion.
    Exact(u64),
}

/// Where a paginated list resumes: the snapshot's resourceVersion and the next key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinueToken {
    pub resource_version: u64,
    pub start_key: String,
}

impl ContinueToken {
    /// Upstream's encoding: URL-safe base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":"key\u0000"}`.
    pub fn encode(&self) -> String {
        let body = json!({"v": "meta.k8s.io/v1", "rv": self.resource_version, "start": format!("{}\u{0}", self.start_key)});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string())
    }

    /// Decodes a token, with upstream's message when it is malformed.
    pub fn decode(token: &str) -> Result<Self, StatusError> {
        let bad = || {
            StatusError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| bad())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        let rv = value
            .get("rv")
            .and_then(Value::as_u64)
            .filter(|rv| *rv > 0)
            .ok_or_else(bad)?;
        let start = value.get("start").and_then(Value::as_str).ok_or_else(bad)?;
        Ok(ContinueToken {
            resource_version: rv,
            start_key: start.trim_end_matches('\u{0}').to_string(),
        })
    }
}

/// A boolean query parameter (`true` or `1`).
pub fn bool_param(req: &Request, key: &str) -> bool {
    matches!(req.query_param(key), Some("true") | Some("1"))
}

/// An integer query parameter, with Go's parse error for one that is not a number.
pub fn int_param(req: &Request, key: &str) -> Result<Option<i64>, StatusError> {
    match req.query_param(key) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            StatusError::bad_request(format!(
                "strconv.ParseInt: parsing {text:?}: invalid syntax"
            ))
        }),
    }
}

impl ListOptions {
    /// Reads list/watch options from a request's query.
    pub fn from_request(req: &Request) -> Result<Self, StatusError> {
        let label_text = req.query_param("labelSelector").unwrap_or("").to_string();
        let field_text = req.query_param("fieldSelector").unwrap_or("").to_string();
        let label_selector = LabelSelector::parse(&label_text)
            .map_err(|e| StatusError::bad_request(format!("unable to parse requirement: {e}")))?;
        let field_selector = FieldSelector::parse(&field_text).map_err(StatusError::bad_request)?;
        let limit = int_param(req, "limit")?
            .filter(|n| *n > 0)
            .map(|n| n as usize);
        let continue_token = match req.query_param("continue") {
            None | Some("") => None,
            Some(token) => Some(ContinueToken::decode(token)?),
        };
        Ok(ListOptions {
            label_selector,
            field_selector,
            label_text,
            field_text,
            limit,
            continue_token,
            resource_version: req
                .query_param("resourceVersion")
                .filter(|s| !s.is_empty())
                .map(String::from),
            resource_version_match: req
                .query_param("resourceVersionMatch")
                .filter(|s| !s.is_empty())
                .map(String::from),
            watch: bool_param(req, "watch"),
            allow_bookmarks: bool_param(req, "allowWatchBookmarks"),
            send_initial_events: req
                .query_param("sendInitialEvents")
                .map(|v| matches!(v, "true" | "1")),
        })
    }

    /// Upstream's `ValidateListOptions` (and its watch branch), as a 422 on `ListOptions`.
    pub fn validate(&self) -> Result<(), StatusError> {
        let errors = self.problems();
        if errors.is_empty() {
            return Ok(());
        }
        Err(StatusError::invalid_kind(
            "meta.k8s.io",
            "ListOptions",
            "",
            &errors,
        ))
    }

    fn problems(&self) -> Vec<FieldError> {
        const FIELD: &str = "resourceVersionMatch";
        let mut errors = Vec::new();
        let matching = self.resource_version_match.as_deref();
        let continuing = self.continue_token.is_some();
        if self.watch {
            if self.send_initial_events.is_some() && matching != Some(NOT_OLDER_THAN) {
                errors.push(FieldError::forbidden(
                    FIELD,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if let Some(m) = matching {
                if self.send_initial_events.is_none() {
                    errors.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if m != NOT_OLDER_THAN {
                    errors.push(FieldError::not_supported(
                        FIELD,
                        &json!(m),
                        &[NOT_OLDER_THAN],
                    ));
                }
                if continuing {
                    errors.push(FieldError::forbidden(
                        FIELD,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
            return errors;
        }
        if let Some(m) = matching {
            if self.resource_version.is_none() {
                errors.push(FieldError::forbidden(
                    FIELD,
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if continuing {
                errors.push(FieldError::forbidden(
                    FIELD,
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if m != EXACT && m != NOT_OLDER_THAN {
                errors.push(FieldError::not_supported(
                    FIELD,
                    &json!(m),
                    &[EXACT, NOT_OLDER_THAN, ""],
                ));
            }
            if m == EXACT && self.resource_version.as_deref() == Some("0") {
                errors.push(FieldError::forbidden(
                    FIELD,
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if self.send_initial_events.is_some() {
            errors.push(FieldError::forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for list",
            ));
        }
        errors
    }

    /// The state a (validated) list or watch asks for.
    pub fn read(&self) -> Result<ListRead, StatusError> {
        let rv = match self.resource_version.as_deref() {
            None | Some("0") => return Ok(ListRead::Latest),
            Some(text) => parse_resource_version(text)?,
        };
        Ok(match self.resource_version_match.as_deref() {
            Some(EXACT) => ListRead::Exact(rv),
            _ => ListRead::NotOlderThan(rv),
        })
    }
}

const EXACT: &str = "Exact";
const NOT_OLDER_THAN: &str = "NotOlderThan";

/// A `resourceVersion` parameter as a number, with upstream's error.
pub fn parse_resource_version(text: &str) -> Result<u64, StatusError> {
    text.parse().map_err(|_| {
        StatusError::bad_request(format!(
            "resourceVersion: Invalid value: {text:?}: must be a non-negative integer"
        ))
    })
}

/// Whether a write asks for `dryRun=All`; any other value is refused as upstream does.
pub fn dry_run(req: &Request) -> Result<bool, StatusError> {
    let values: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "dryRun")
        .map(|(_, v)| v.as_str())
        .collect();
    match values.as_slice() {
        [] => Ok(false),
        ["All"] => Ok(true),
        other => Err(StatusError::bad_request(format!(
            "Invalid dry run value: [{}] -- must be empty or 'All'",
            other.join(" ")
        ))),
    }
}

/// What a write does with fields the kind does not have (`fieldValidation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and say so in `Warning` headers (the server's default).
    #[default]
    Warn,
    /// Refuse the write (what kubectl asks for by default).
    Strict,
}

impl FieldValidation {
    /// The request's directive, with upstream's refusal of unknown values.
    pub fn of(req: &Request) -> Result<FieldValidation, StatusError> {
        match req.query_param("fieldValidation").unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            "Strict" => Ok(FieldValidation::Strict),
            other => Err(StatusError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// How a delete treats dependents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Options of a delete, from the query and a `DeleteOptions` body.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation: Option<Propagation>,
    /// `preconditions.resourceVersion` and `.uid`.
    pub precondition_rv: Option<String>,
    pub precondition_uid: Option<String>,
}

impl DeleteOptions {
    /// Reads delete options; the body's fields win over the query's, as upstream.
    pub fn from_request(req: &Request) -> Result<Self, StatusError> {
        let body: Value = if req.body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&req.body).map_err(|e| {
                StatusError::bad_request(format!("error decoding DeleteOptions: {e}"))
            })?
        };
        let grace = body
            .get("gracePeriodSeconds")
            .and_then(Value::as_i64)
            .or_else(|| {
                req.query_param("gracePeriodSeconds")
                    .and_then(|v| v.parse().ok())
            });
        let mut propagation_text = body
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or_else(|| req.query_param("propagationPolicy"))
            .map(String::from);
        if propagation_text.is_none() {
            if let Some(orphan) = body
                .get("orphanDependents")
                .and_then(Value::as_bool)
                .or_else(|| req.query_param("orphanDependents").map(|v| v == "true"))
            {
                propagation_text = Some(if orphan { "Orphan" } else { "Background" }.into());
            }
        }
        let propagation = match propagation_text.as_deref() {
            None => None,
            Some("Orphan") => Some(Propagation::Orphan),
            Some("Background") => Some(Propagation::Background),
            Some("Foreground") => Some(Propagation::Foreground),
            Some(other) => {
                return Err(StatusError::bad_request(format!(
                    "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                )))
            }
        };
        let preconditions = body.get("preconditions");
        Ok(DeleteOptions {
            grace_period_seconds: grace,
            propagation,
            precondition_rv: preconditions
                .and_then(|p| p.get("resourceVersion"))
                .and_then(Value::as_str)
                .map(String::from),
            precondition_uid: preconditions
                .and_then(|p| p.get("uid"))
                .and_then(Value::as_str)
                .map(String::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let token = ContinueToken {
            resource_version: 42,
            start_key: "default/web-3".into(),
        };
        assert_eq!(ContinueToken::decode(&token.encode()).unwrap(), token);
        assert_eq!(ContinueToken::decode("garbage!").unwrap_err().code, 400);
    }
}
