//! The LimitRanger admission plugin: a pod created in a namespace with LimitRanges
//! gets each Container limit's `defaultRequest` and `default` for the resources its
//! containers (and init containers) leave unset, noted in the annotation
//! `kubernetes.io/limit-ranger`; then every container, the pod as a whole (type
//! Pod) and PersistentVolumeClaims (type PersistentVolumeClaim, storage requests)
//! must respect each limit's min, max and max limit/request ratio, or the create
//! is Forbidden with upstream's messages.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::ApiServer;
use crate::api::quantity::{compare, format_bytes, format_milli, milli_value};
use crate::api::status::StatusError;
use crate::api::ResourceInfo;

/// Where the plugin notes what it set.
const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// Resource names to quantity texts.
type Amounts = BTreeMap<String, String>;

fn amounts(value: &Value) -> Amounts {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// A container list of the pod (`containers`, `initContainers`) with the word
/// upstream's annotation uses for it.
const CONTAINER_LISTS: [(&str, &str); 2] = [
    ("containers", "container"),
    ("initContainers", "init container"),
];

/// Sets the unset requests and limits of one container from the defaults; what it
/// set, as the annotation words it.
fn default_container(
    container: &mut Value,
    requests: &Amounts,
    limits: &Amounts,
    word: &str,
) -> Vec<String> {
    let name = container["name"].as_str().unwrap_or("").to_string();
    let mut notes = Vec::new();
    for (field, defaults, what) in [
        ("requests", requests, "request"),
        ("limits", limits, "limit"),
    ] {
        let resources = &mut container["resources"];
        if !resources.is_object() {
            *resources = json!({});
        }
        let list = &mut resources[field];
        if !list.is_object() {
            *list = Value::Object(Map::new());
        }
        let list = list.as_object_mut().expect("made an object");
        let mut set = Vec::new();
        for (resource, amount) in defaults {
            if !list.contains_key(resource) {
                list.insert(resource.clone(), json!(amount));
                set.push(resource.as_str());
            }
        }
        if !set.is_empty() {
            notes.push((what, set.join(", ")));
        }
        if list.is_empty() {
            resources
                .as_object_mut()
                .expect("made an object")
                .remove(field);
        }
    }
    // Upstream notes requests before limits.
    notes.sort_by_key(|(what, _)| *what != "request");
    notes
        .into_iter()
        .map(|(what, set)| format!("{set} {what} for {word} {name}"))
        .collect()
}

fn min_constraint(
    kind: &str,
    resource: &str,
    enforced: &str,
    request: &Amounts,
    limit: &Amounts,
) -> Option<String> {
    let below = |q: &String| compare(q, enforced) == Some(std::cmp::Ordering::Less);
    match (request.get(resource), limit.get(resource)) {
        (None, _) => Some(format!(
            "minimum {resource} usage per {kind} is {enforced}.  No request is specified"
        )),
        (Some(req), _) if below(req) => Some(format!(
            "minimum {resource} usage per {kind} is {enforced}, but request is {req}"
        )),
        (_, Some(lim)) if below(lim) => Some(format!(
            "minimum {resource} usage per {kind} is {enforced}, but limit is {lim}"
        )),
        _ => None,
    }
}

fn max_constraint(
    kind: &str,
    resource: &str,
    enforced: &str,
    request: &Amounts,
    limit: &Amounts,
) -> Option<String> {
    let above = |q: &String| compare(q, enforced) == Some(std::cmp::Ordering::Greater);
    match (request.get(resource), limit.get(resource)) {
        (_, None) => Some(format!(
            "maximum {resource} usage per {kind} is {enforced}.  No limit is specified"
        )),
        (_, Some(lim)) if above(lim) => Some(format!(
            "maximum {resource} usage per {kind} is {enforced}, but limit is {lim}"
        )),
        (Some(req), _) if above(req) => Some(format!(
            "maximum {resource} usage per {kind} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

/// The maximum of a claim's storage bounds its request (claims have no limits).
fn max_request_constraint(
    kind: &str,
    resource: &str,
    enforced: &str,
    request: &Amounts,
) -> Option<String> {
    match request.get(resource) {
        None => Some(format!(
            "maximum {resource} usage per {kind} is {enforced}.  No request is specified"
        )),
        Some(req) if compare(req, enforced) == Some(std::cmp::Ordering::Greater) => Some(format!(
            "maximum {resource} usage per {kind} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

fn ratio_constraint(
    kind: &str,
    resource: &str,
    enforced: &str,
    request: &Amounts,
    limit: &Amounts,
) -> Option<String> {
    let milli = |q: Option<&String>| q.and_then(|q| milli_value(q)).unwrap_or(0);
    let (req, lim) = (milli(request.get(resource)), milli(limit.get(resource)));
    if req == 0 {
        return Some(format!("{resource} max limit to request ratio per {kind} is {enforced}, but no request is specified or request is 0"));
    }
    if lim == 0 {
        return Some(format!("{resource} max limit to request ratio per {kind} is {enforced}, but no limit is specified or limit is 0"));
    }
    let ratio = lim as f64 / req as f64;
    let max = milli_value(enforced).unwrap_or(0) as f64 / 1000.0;
    (ratio > max).then(|| {
        format!("{resource} max limit to request ratio per {kind} is {enforced}, but provided ratio is {ratio:.6}")
    })
}

/// One of the checks: (limit type, resource, enforced amount, requests, limits)
/// to upstream's message when violated.
type Constraint = fn(&str, &str, &str, &Amounts, &Amounts) -> Option<String>;

/// Every min, max and ratio violation of one limit by (`request`, `limit`).
fn violations(limit: &Value, kind: &str, request: &Amounts, lim: &Amounts) -> Vec<String> {
    let checks: [(&str, Constraint); 3] = [
        ("min", min_constraint),
        ("max", max_constraint),
        ("maxLimitRequestRatio", ratio_constraint),
    ];
    checks
        .iter()
        .flat_map(|(field, check)| {
            amounts(&limit[*field])
                .into_iter()
                .filter_map(|(resource, enforced)| check(kind, &resource, &enforced, request, lim))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Per resource, thousandths and whether any amount had a binary suffix.
type Totals = BTreeMap<String, (i64, bool)>;

fn add(into: &mut Totals, amounts: &Amounts) {
    for (k, v) in amounts {
        let entry = into.entry(k.clone()).or_default();
        entry.0 += milli_value(v).unwrap_or(0);
        entry.1 |= v.ends_with('i');
    }
}

/// The pod's total of `field` (`requests`, `limits`) per resource: its containers
/// and sidecars summed, at least each regular init container's (upstream's
/// `podRequests`/`podLimits`).
fn pod_total(pod: &Value, field: &str) -> Amounts {
    let mut total = Totals::new();
    let of = |c: &Value| amounts(&c["resources"][field]);
    let mut sidecars = Totals::new();
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        add(&mut total, &of(c));
    }
    for c in pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if c["restartPolicy"] == "Always" {
            add(&mut total, &of(c));
            add(&mut sidecars, &of(c));
            continue;
        }
        let mut with_sidecars = sidecars.clone();
        add(&mut with_sidecars, &of(c));
        for (k, (milli, binary)) in with_sidecars {
            let entry = total.entry(k).or_default();
            entry.0 = entry.0.max(milli);
            entry.1 |= binary;
        }
    }
    total
        .into_iter()
        .map(|(k, (milli, binary))| {
            let text = if k == "cpu" {
                format_milli(milli)
            } else {
                format_bytes(milli / 1000, binary)
            };
            (k, text)
        })
        .collect()
}

impl ApiServer {
    /// The LimitRanges of `namespace`.
    pub(super) fn limit_ranges(&self, namespace: &str) -> Vec<Value> {
        let Some(id) = self.resource_id("", "v1", "limitranges") else {
            return Vec::new();
        };
        self.served[id]
            .table
            .scan(&format!("{namespace}/"), None)
            .map(|o| o.value())
            .collect()
    }
}

/// LimitRanger's mutating half: a pod being created gets the Container defaults of
/// its namespace's `ranges`.
pub(super) fn default_from_limit_ranges(ranges: &[Value], pod: &mut Value) {
    let mut requests = Amounts::new();
    let mut limits = Amounts::new();
    for range in ranges {
        for limit in range["spec"]["limits"].as_array().into_iter().flatten() {
            if limit["type"] == "Container" {
                requests.extend(amounts(&limit["defaultRequest"]));
                limits.extend(amounts(&limit["default"]));
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    for (list, word) in CONTAINER_LISTS {
        for container in pod["spec"][list].as_array_mut().into_iter().flatten() {
            notes.extend(default_container(container, &requests, &limits, word));
        }
    }
    if !notes.is_empty() {
        let meta = &mut pod["metadata"];
        if !meta["annotations"].is_object() {
            meta["annotations"] = json!({});
        }
        meta["annotations"][ANNOTATION] =
            json!(format!("LimitRanger plugin set: {}", notes.join("; ")));
    }
}

/// LimitRanger's validating half for a pod or claim (`info`) being created against
/// its namespace's `ranges`: every violation, as upstream aggregates them (`[a, b]`
/// when there are several).
pub(super) fn validate_limit_ranges(
    ranges: &[Value],
    info: &ResourceInfo,
    obj: &Value,
) -> Result<(), StatusError> {
    let is_pod = info.plural == "pods";
    let mut errors = Vec::new();
    for range in ranges {
        for limit in range["spec"]["limits"].as_array().into_iter().flatten() {
            match (limit["type"].as_str().unwrap_or(""), is_pod) {
                ("Container", true) => {
                    for (list, _) in CONTAINER_LISTS {
                        for c in obj["spec"][list].as_array().into_iter().flatten() {
                            let requests = amounts(&c["resources"]["requests"]);
                            let limits = amounts(&c["resources"]["limits"]);
                            errors.extend(violations(limit, "Container", &requests, &limits));
                        }
                    }
                }
                ("Pod", true) => {
                    let requests = pod_total(obj, "requests");
                    let limits = pod_total(obj, "limits");
                    errors.extend(violations(limit, "Pod", &requests, &limits));
                }
                ("PersistentVolumeClaim", false) => {
                    let requests = amounts(&obj["spec"]["resources"]["requests"]);
                    for (resource, enforced) in amounts(&limit["min"]) {
                        errors.extend(min_constraint(
                            "PersistentVolumeClaim",
                            &resource,
                            &enforced,
                            &requests,
                            &Amounts::new(),
                        ));
                    }
                    for (resource, enforced) in amounts(&limit["max"]) {
                        errors.extend(max_request_constraint(
                            "PersistentVolumeClaim",
                            &resource,
                            &enforced,
                            &requests,
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let why = if errors.len() == 1 {
        errors.remove(0)
    } else {
        format!("[{}]", errors.join(", "))
    };
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    Err(StatusError::forbidden(info, name, &why))
}
