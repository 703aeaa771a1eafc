//! `kubectl events [--for TYPE/NAME] [--types=Normal,Warning] [-A]`: the
//! namespace's events oldest first, with upstream's `LAST SEEN (xN over AGE)`
//! intervals and `Kind/name` objects.

use kubecraft_cluster::api::Request;
use kubecraft_cluster::apiserver::tables::age::age;
use serde_json::Value;

use crate::discovery::{discover, resolve_known};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::printers::tabwriter::format;
use crate::transport::{response_date_ms, Transport};
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("for", None),
    value("types", None),
    boolean("all-namespaces", Some('A')),
    boolean("no-headers", None),
];

/// Unix milliseconds of an RFC 3339 time, if there is one.
fn millis(text: &Value) -> Option<i64> {
    text.as_str()?
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// When an event last happened (series, lastTimestamp, then eventTime), for sorting.
fn event_time(e: &Value) -> i64 {
    millis(&e["series"]["lastObservedTime"])
        .or_else(|| millis(&e["lastTimestamp"]))
        .or_else(|| millis(&e["eventTime"]))
        .unwrap_or(0)
}

/// Upstream's `getInterval`, which `kubectl describe` shows as an event's Age too:
/// `5s`, or `5s (x3 over 2m)` for repeated events.
pub fn interval(e: &Value, now_ms: i64) -> String {
    let since = |path: &str| age(e.pointer(path).and_then(Value::as_str), now_ms);
    let first = match millis(&e["eventTime"]) {
        Some(_) => since("/eventTime"),
        None => since("/firstTimestamp"),
    };
    if !e["series"].is_null() {
        return format!(
            "{} (x{} over {first})",
            since("/series/lastObservedTime"),
            e["series"]["count"]
        );
    }
    match e["count"].as_i64() {
        Some(count) if count > 1 => {
            format!("{} (x{count} over {first})", since("/lastTimestamp"))
        }
        _ => first,
    }
}

/// Runs `kubectl events`.
pub fn run(kubectl: &Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "events") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let all = parsed.is_set("all-namespaces");
    let namespace = kubectl.namespace_for(&parsed);
    let mut selector = None;
    if let Some(target) = parsed.get("for") {
        let Some((typed, name)) = target.split_once('/') else {
            out.fail("error: --for must be in resource/name form\n");
            return out;
        };
        let resources = discover(transport);
        let resource = match resolve_known(&resources, typed) {
            Ok(resource) => resource,
            Err(error) => {
                out.fail(error);
                return out;
            }
        };
        selector = Some(format!(
            "involvedObject.kind={},involvedObject.apiVersion={},involvedObject.name={name}",
            resource.kind,
            resource.api_version()
        ));
    }
    let types: Vec<String> = parsed
        .get_all("types")
        .iter()
        .flat_map(|t| t.split(','))
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    if types
        .iter()
        .any(|t| !t.eq_ignore_ascii_case("Normal") && !t.eq_ignore_ascii_case("Warning"))
    {
        out.fail("error: valid --types are Normal or Warning\n");
        return out;
    }
    let path = if all {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{namespace}/events")
    };
    let mut request = Request::get(path);
    if let Some(selector) = selector {
        request = request.with_query("fieldSelector", selector);
    }
    let response = transport.send(request);
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let now_ms = response_date_ms(&response);
    let mut events: Vec<Value> = response.body_json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            types.is_empty()
                || types.iter().any(|t| {
                    e["type"]
                        .as_str()
                        .is_some_and(|k| k.eq_ignore_ascii_case(t))
                })
        })
        .collect();
    if events.is_empty() {
        if all {
            out.err("No events found.\n");
        } else {
            out.err(format!("No events found in {namespace} namespace.\n"));
        }
        return out;
    }
    events.sort_by_key(event_time);
    let mut text = String::new();
    if !parsed.is_set("no-headers") {
        if all {
            text.push_str("NAMESPACE\t");
        }
        text.push_str("LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n");
    }
    let field = |e: &Value, p: &str| {
        e.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    for e in &events {
        if all {
            text.push_str(&format!("{}\t", field(e, "/metadata/namespace")));
        }
        text.push_str(&format!(
            "{}\t{}\t{}\t{}/{}\t{}\n",
            interval(e, now_ms),
            field(e, "/type"),
            field(e, "/reason"),
            field(e, "/involvedObject/kind"),
            field(e, "/involvedObject/name"),
            field(e, "/message").trim()
        ));
    }
    out.out(format(&text, 6, 3));
    out
}
