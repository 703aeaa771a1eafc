//! `kubectl events [--for TYPE/NAME] [--types=Normal,Warning] [-A] [-w]`: the
//! namespace's events oldest first, with upstream's `LAST SEEN (xN over AGE)`
//! intervals and `Kind/name` objects; with `--watch`, the events as a watch reports
//! them (those that exist first, then new and repeated ones) one line at a time.

use kubecraft_cluster::api::Request;
use kubecraft_cluster::apiserver::tables::age::age;
use serde_json::Value;

use crate::discovery::{discover, resolve_known};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag, Parsed};
use crate::output::Output;
use crate::printers::tabwriter::RememberingWriter;
use crate::transport::{follow_watch, response_date_ms, Transport};
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("for", None),
    value("types", None),
    boolean("all-namespaces", Some('A')),
    boolean("no-headers", None),
    boolean("watch", Some('w')),
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
    let types: Vec<String> = parsed.get_slice("types");
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
    if parsed.is_set("watch") {
        return watch(transport, request, &parsed, &types, all);
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
        .filter(|e| of_types(e, &types))
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
    let mut lines = Vec::new();
    if !parsed.is_set("no-headers") {
        lines.push(headings(all));
    }
    lines.extend(events.iter().map(|e| line(e, all, now_ms)));
    out.out(RememberingWriter::default().write(&lines));
    out
}

/// The column headings.
fn headings(all_namespaces: bool) -> Vec<String> {
    let mut cells = Vec::new();
    if all_namespaces {
        cells.push("NAMESPACE".to_string());
    }
    cells.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"].map(String::from));
    cells
}

/// One event's cells.
fn line(e: &Value, all_namespaces: bool, now_ms: i64) -> Vec<String> {
    let field = |p: &str| e.pointer(p).and_then(Value::as_str).unwrap_or("");
    let mut cells = Vec::new();
    if all_namespaces {
        cells.push(field("/metadata/namespace").to_string());
    }
    cells.extend([
        interval(e, now_ms),
        field("/type").to_string(),
        field("/reason").to_string(),
        format!(
            "{}/{}",
            field("/involvedObject/kind"),
            field("/involvedObject/name")
        ),
        field("/message").trim().to_string(),
    ]);
    cells
}

/// `--watch`: every event the watch reports (none deleted, of the chosen types), one
/// line each as it comes, headings with the first.
fn watch(
    transport: &mut dyn Transport,
    request: Request,
    parsed: &Parsed,
    types: &[String],
    all: bool,
) -> Output {
    let mut out = Output::default();
    let timeout_ms = match flags::request_timeout_ms(parsed) {
        Ok(ms) => ms,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let response = transport.send(request.with_query("watch", "true"));
    let Some(id) = response.watch_id() else {
        out.fail(server_error(&response));
        return out;
    };
    // Events that happen while the watch runs are printed as they happen (0s ago).
    let started_ms = response_date_ms(&response);
    let mut writer = RememberingWriter::default();
    let mut headings_printed = parsed.is_set("no-headers");
    follow_watch(transport, id, timeout_ms, |kind, event| {
        if kind == "DELETED" || kind == "BOOKMARK" || !of_types(&event, types) {
            return true;
        }
        let now_ms = started_ms.max(event_time(&event));
        let mut lines = Vec::new();
        if !headings_printed {
            lines.push(headings(all));
            headings_printed = true;
        }
        lines.push(line(&event, all, now_ms));
        out.out(writer.write(&lines));
        true
    });
    out
}

/// Whether the event is of one of `types` (any, when none are given).
fn of_types(e: &Value, types: &[String]) -> bool {
    types.is_empty()
        || types.iter().any(|t| {
            e["type"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(t))
        })
}
