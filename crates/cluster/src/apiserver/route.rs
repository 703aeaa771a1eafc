//! Turns a request path and method into upstream's RequestInfo: verb, resource,
//! namespace, name and subresource — or a discovery path.

use crate::api::request::{Method, Request};

/// What a path addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Version,
    /// `/api`: the core group's versions.
    CoreVersions,
    /// `/apis`: every group.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion {
        group: String,
        version: String,
    },
    /// `/openapi/v3`: the OpenAPI v3 documents, one per group version.
    OpenApiIndex,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`.
    OpenApi {
        group: String,
        version: String,
    },
    /// A resource request.
    Resource(ResourceRequest),
}

/// A request for a resource, as upstream's RequestInfo describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRequest {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The audit verb.
    pub verb: &'static str,
}

/// The verb upstream derives from method, name and the `watch` parameter.
fn verb_for(req: &Request, has_name: bool) -> &'static str {
    let watch = matches!(req.query_param("watch"), Some("true") | Some("1"));
    match (req.method, has_name) {
        (Method::Get, _) if watch => "watch",
        (Method::Get, true) => "get",
        (Method::Get, false) => "list",
        (Method::Post, _) => "create",
        (Method::Put, _) => "update",
        (Method::Patch, _) => "patch",
        (Method::Delete, true) => "delete",
        (Method::Delete, false) => "deletecollection",
    }
}

/// Parses a request's path; `None` when it names nothing the server serves.
pub fn route(req: &Request) -> Option<Route> {
    let path = req.path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (group, version, rest) = match parts.as_slice() {
        ["version"] => return Some(Route::Version),
        ["openapi", "v3"] => return Some(Route::OpenApiIndex),
        ["openapi", "v3", "api", version] => {
            return Some(Route::OpenApi {
                group: String::new(),
                version: version.to_string(),
            })
        }
        ["openapi", "v3", "apis", group, version] => {
            return Some(Route::OpenApi {
                group: group.to_string(),
                version: version.to_string(),
            })
        }
        ["api"] => return Some(Route::CoreVersions),
        ["apis"] => return Some(Route::Groups),
        ["apis", group] => return Some(Route::Group(group.to_string())),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    if rest.is_empty() {
        return Some(Route::GroupVersion {
            group: group.into(),
            version: version.into(),
        });
    }
    let mut rest = rest;
    let mut namespace = None;
    if rest[0] == "namespaces" && rest.len() > 1 {
        namespace = Some(rest[1].to_string());
        // `/namespaces/{ns}/{resource}` unless the third part is a namespace subresource.
        if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
            rest = &rest[2..];
        } else {
            // The namespace object itself: `/namespaces/{name}[/{subresource}]`.
            let name = namespace.take();
            let subresource = rest.get(2).map(|s| s.to_string());
            return Some(Route::Resource(ResourceRequest {
                group: group.into(),
                version: version.into(),
                namespace: None,
                resource: "namespaces".into(),
                verb: verb_for(req, true),
                name,
                subresource,
            }));
        }
    }
    let (resource, name, subresource) = match rest {
        [resource] => (*resource, None, None),
        [resource, name] => (*resource, Some(name.to_string()), None),
        [resource, name, sub] => (*resource, Some(name.to_string()), Some(sub.to_string())),
        _ => return None,
    };
    Some(Route::Resource(ResourceRequest {
        group: group.into(),
        version: version.into(),
        namespace,
        resource: resource.into(),
        verb: verb_for(req, name.is_some()),
        name,
        subresource,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(method: Method, path: &str) -> ResourceRequest {
        match route(&Request::new(method, path)) {
            Some(Route::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn parses_upstream_paths() {
        let r = resource(Method::Get, "/api/v1/namespaces/default/pods/web-1/status");
        assert_eq!(
            (
                r.namespace.as_deref(),
                r.resource.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref(),
                r.verb
            ),
            (
                Some("default"),
                "pods",
                Some("web-1"),
                Some("status"),
                "get"
            )
        );
        let r = resource(Method::Get, "/apis/apps/v1/deployments");
        assert_eq!(
            (r.group.as_str(), r.verb, r.namespace),
            ("apps", "list", None)
        );
        let r = resource(Method::Put, "/api/v1/namespaces/kube-system/finalize");
        assert_eq!(
            (
                r.resource.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("namespaces", Some("kube-system"), Some("finalize"))
        );
        let r = resource(Method::Delete, "/api/v1/namespaces/default/pods");
        assert_eq!(r.verb, "deletecollection");
        assert_eq!(route(&Request::get("/apis")), Some(Route::Groups));
        assert_eq!(route(&Request::get("/healthz/x/y")), None);
    }
}
