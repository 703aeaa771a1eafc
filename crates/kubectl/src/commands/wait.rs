//! `kubectl wait --for=condition=NAME[=VALUE]|delete|create|jsonpath='{…}'[=VALUE]
//! (TYPE/NAME … | TYPE NAME … | TYPE -l SELECTOR | TYPE --all)`: lets cluster time
//! pass until each object meets the condition (or `--timeout`, 30 s by default,
//! runs out), printing `pod/web condition met` as upstream does.

use kubecraft_cluster::api::{Request, ResourceInfo};
use serde_json::Value;

use crate::discovery::{discover, kind_prefix, resolve_known, warn_ambiguous};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::printers::jsonpath;
use crate::transport::{Deadline, Transport};
use crate::Kubectl;

const TIMEOUT: Flag = value("timeout", None);

const FLAGS: &[Flag] = &[
    TIMEOUT,
    value("for", None),
    value("selector", Some('l')),
    boolean("all", None),
    boolean("all-namespaces", Some('A')),
];

/// What to wait for.
enum Condition {
    Delete,
    Create,
    /// A `status.conditions` entry of this type with this status (case-insensitive).
    Status(String, String),
    /// A JSONPath expression, and the value it must print (any value when `None`).
    JsonPath(String, Option<String>),
}

/// Upstream's `conditionFuncFor` and `processJSONPathInput`.
fn parse_condition(text: &str) -> Result<Condition, String> {
    let lower = text.to_lowercase();
    if lower == "delete" {
        return Ok(Condition::Delete);
    }
    if lower == "create" {
        return Ok(Condition::Create);
    }
    if let Some(rest) = text.strip_prefix("condition=") {
        let (name, status) = rest.split_once('=').unwrap_or((rest, "true"));
        return Ok(Condition::Status(name.to_string(), status.to_string()));
    }
    if let Some(rest) = text.strip_prefix("jsonpath=") {
        // Quotes the shell left in (`'{.status.phase}'=Running`) are not part of it.
        let rest = rest.replace('\'', "");
        let rest = rest.as_str();
        if rest.is_empty() {
            return Err("jsonpath expression cannot be empty".into());
        }
        let (expression, wanted) = match rest.rfind('}') {
            Some(end) if rest[end + 1..].starts_with('=') => {
                let wanted = &rest[end + 2..];
                if wanted.is_empty() {
                    return Err("jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3".into());
                }
                (&rest[..=end], Some(wanted.to_string()))
            }
            Some(end) if end + 1 == rest.len() => (rest, None),
            _ => return Err("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'".into()),
        };
        return Ok(Condition::JsonPath(expression.to_string(), wanted));
    }
    Err(format!("unrecognized condition: {text:?}"))
}

/// Whether `obj` meets a status or JSONPath condition.
fn met(condition: &Condition, obj: &Value) -> bool {
    match condition {
        Condition::Status(name, status) => {
            let generation = obj["metadata"]["generation"].as_i64();
            obj["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| {
                    c["type"]
                        .as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case(name))
                })
                .is_some_and(|c| {
                    let observed = c["observedGeneration"]
                        .as_i64()
                        .or_else(|| obj["status"]["observedGeneration"].as_i64());
                    let current = match (generation, observed) {
                        (Some(g), Some(o)) => o >= g,
                        _ => true,
                    };
                    current
                        && c["status"]
                            .as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(status))
                })
        }
        Condition::JsonPath(expression, wanted) => match jsonpath::render(expression, obj, true) {
            Ok(text) => match wanted {
                Some(v) => text == *v,
                None => !text.is_empty(),
            },
            Err(_) => false,
        },
        Condition::Delete | Condition::Create => true,
    }
}

/// The objects to wait on: `(resource, name, path)`.
fn targets(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    parsed: &flags::Parsed,
) -> Result<Vec<(ResourceInfo, String, String)>, String> {
    let namespace = kubectl.namespace_for(parsed);
    let resources = discover(transport);
    warn_ambiguous(transport, &resources, &parsed.positional);
    let lookup = |typed: &str| resolve_known(&resources, typed).cloned();
    let args = &parsed.positional;
    if args.is_empty() {
        return Err("error: resource(s) were provided, but no name was specified\n".into());
    }
    if args.iter().all(|a| a.contains('/')) {
        return args
            .iter()
            .map(|a| {
                let (typed, name) = a.split_once('/').expect("checked");
                let resource = lookup(typed)?;
                let path = resource.object_path(Some(&namespace), name);
                Ok((resource, name.to_string(), path))
            })
            .collect();
    }
    let resource = lookup(&args[0])?;
    if args.len() > 1 {
        return Ok(args[1..]
            .iter()
            .map(|name| {
                let path = resource.object_path(Some(&namespace), name);
                (resource.clone(), name.clone(), path)
            })
            .collect());
    }
    if parsed.get("selector").is_none() && !parsed.is_set("all") {
        return Err("error: resource(s) were provided, but no name was specified\n".into());
    }
    let scope = (!parsed.is_set("all-namespaces")).then_some(namespace.as_str());
    let mut request = Request::get(resource.collection_path(scope));
    if let Some(selector) = parsed.get("selector") {
        request = request.with_query("labelSelector", selector);
    }
    let response = transport.send(request);
    if !response.is_success() {
        return Err(server_error(&response));
    }
    Ok(response.body_json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
            let ns = item["metadata"]["namespace"].as_str();
            let path = resource.object_path(ns, &name);
            (resource.clone(), name, path)
        })
        .collect())
}

/// Runs `kubectl wait`.
pub fn run(kubectl: &Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "wait") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let limit_ms = match parsed.duration_ms(&TIMEOUT, "wait") {
        Ok(None) => 30_000,
        Ok(Some(ms)) if ms < 0 => 7 * 24 * 3_600_000,
        Ok(Some(ms)) => ms as u64,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let condition = match parse_condition(parsed.get("for").unwrap_or("")) {
        Ok(c) => c,
        Err(e) => {
            out.fail(format!("error: {e}\n"));
            return out;
        }
    };
    let objects = match targets(kubectl, transport, &parsed) {
        Ok(o) => o,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    if objects.is_empty() && !matches!(condition, Condition::Delete) {
        out.fail("error: no matching resources found\n");
        return out;
    }
    let mut deadline = Deadline::new(limit_ms);
    for (resource, name, path) in objects {
        let first = transport.send(Request::get(path.clone()));
        let uid = first.body_json()["metadata"]["uid"].clone();
        if first.status == 404 && !matches!(condition, Condition::Create) {
            if !matches!(condition, Condition::Delete) {
                out.fail(server_error(&first));
                return out;
            }
            continue;
        }
        let mut response = first;
        loop {
            let done = match &condition {
                Condition::Delete => {
                    response.status == 404 || response.body_json()["metadata"]["uid"] != uid
                }
                Condition::Create => response.is_success(),
                other => response.is_success() && met(other, &response.body_json()),
            };
            if done {
                out.out(format!("{}/{name} condition met\n", kind_prefix(&resource)));
                break;
            }
            if !deadline.pass(transport) {
                out.fail(format!(
                    "error: timed out waiting for the condition on {}/{name}\n",
                    resource.plural
                ));
                return out;
            }
            response = transport.send(Request::get(path.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_parse_as_upstream() {
        assert!(matches!(
            parse_condition("condition=Ready").unwrap(),
            Condition::Status(n, s) if n == "Ready" && s == "true"
        ));
        assert!(matches!(
            parse_condition("jsonpath='{.status.phase}'=Running").unwrap(),
            Condition::JsonPath(e, Some(v)) if e == "{.status.phase}" && v == "Running"
        ));
        assert_eq!(
            parse_condition("jsonpath={.status}=").err().unwrap(),
            "jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3"
        );
        assert_eq!(
            parse_condition("").err().unwrap(),
            "unrecognized condition: \"\""
        );
    }

    #[test]
    fn a_condition_of_an_older_generation_does_not_count() {
        let stale = json!({"metadata": {"generation": 2},
            "status": {"observedGeneration": 1, "conditions": [{"type": "Available", "status": "True"}]}});
        let current = json!({"metadata": {"generation": 2},
            "status": {"observedGeneration": 2, "conditions": [{"type": "Available", "status": "True"}]}});
        let available = Condition::Status("available".into(), "true".into());
        assert!(!met(&available, &stale));
        assert!(met(&available, &current));
    }
}
