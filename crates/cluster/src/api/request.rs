//! The one door into the cluster: a transport-neutral request and its response.
//!
//! The same values serve an in-process call, a `postMessage` from the UI thread and
//! (later) a socket that a real kubectl talks to.

use serde::{Deserialize, Serialize};

use super::status::StatusError;
use crate::apiserver::watch::WatchId;

/// An HTTP method, as the API server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method's name as on the wire (`GET`, `POST`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// The verb authorizers see for a non-resource request: the lower-case method.
    pub fn verb(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }

    /// The method a wire name (`GET`, `POST`, ...) names; `None` for others.
    pub fn from_name(name: &str) -> Option<Method> {
        [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
        ]
        .into_iter()
        .find(|m| m.as_str() == name)
    }
}

/// Who is making a request (authentication is the transport's business).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The cluster administrator, as kubeadm's `kubernetes-admin` user.
    pub fn admin() -> Self {
        UserInfo {
            username: "kubernetes-admin".into(),
            groups: vec![
                "kubeadm:cluster-admins".into(),
                "system:authenticated".into(),
            ],
        }
    }

    /// A control-plane component or kubelet, named as upstream names them.
    pub fn system(username: &str) -> Self {
        UserInfo {
            username: username.into(),
            groups: vec!["system:authenticated".into()],
        }
    }
}

/// A request to the API server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: Method,
    /// The URL path, e.g. `/api/v1/namespaces/default/pods/web-1`.
    pub path: String,
    /// Decoded query parameters in the order given.
    #[serde(default)]
    pub query: Vec<(String, String)>,
    /// Headers; names are matched case-insensitively.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: String,
    pub user: UserInfo,
}

impl Request {
    /// A request with no query, headers or body, made by the administrator.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: String::new(),
            user: UserInfo::admin(),
        }
    }

    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }

    /// A POST of a JSON body.
    pub fn post(path: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(Method::Post, path).with_body(body, "application/json")
    }

    /// A PUT of a JSON body.
    pub fn put(path: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(Method::Put, path).with_body(body, "application/json")
    }

    /// A PATCH whose content type names the patch kind.
    pub fn patch(path: impl Into<String>, content_type: &str, body: impl Into<String>) -> Self {
        Self::new(Method::Patch, path).with_body(body, content_type)
    }

    /// A DELETE of `path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path)
    }

    /// Sets the body and its `Content-Type`.
    pub fn with_body(mut self, body: impl Into<String>, content_type: &str) -> Self {
        self.body = body.into();
        self.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self
    }

    /// Adds a query parameter.
    pub fn with_query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Makes the request as `user`.
    pub fn as_user(mut self, user: UserInfo) -> Self {
        self.user = user;
        self
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a response carries: bytes, or a watch to read events from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ResponseBody {
    /// A complete body (JSON unless the headers say otherwise).
    Bytes(String),
    /// An open watch; read its events with `ApiServer::take_watch_events`.
    Watch(WatchId),
}

/// The API server's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ResponseBody,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: String) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: ResponseBody::Bytes(body),
        }
    }

    /// A plain-text response (pod logs).
    pub fn text(status: u16, body: String) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: ResponseBody::Bytes(body),
        }
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text; empty for a watch.
    pub fn body_text(&self) -> &str {
        match &self.body {
            ResponseBody::Bytes(s) => s,
            ResponseBody::Watch(_) => "",
        }
    }

    /// The body as text, taken out of the response ("" for a watch).
    pub fn into_body_text(self) -> String {
        match self.body {
            ResponseBody::Bytes(s) => s,
            ResponseBody::Watch(_) => String::new(),
        }
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_str(self.body_text()).unwrap_or(serde_json::Value::Null)
    }

    /// The `message` of a `metav1.Status` body (empty for other bodies).
    pub fn status_message(&self) -> String {
        self.body_json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The watch this response opened, if any.
    pub fn watch_id(&self) -> Option<WatchId> {
        match self.body {
            ResponseBody::Watch(id) => Some(id),
            ResponseBody::Bytes(_) => None,
        }
    }

    /// Whether the status code is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl From<StatusError> for Response {
    fn from(err: StatusError) -> Self {
        Response::json(err.code, err.to_json())
    }
}
