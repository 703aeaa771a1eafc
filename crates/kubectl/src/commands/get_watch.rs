//! `kubectl get --watch` / `--watch-only`: the list first (unless watch-only), then
//! one line per change as the server's watch reports it, each event printed as it
//! arrives with the column widths kept from earlier lines (kubectl's tabwriter
//! remembers them), `--output-watch-events` adding the EVENT column.
//!
//! A watch runs until `--request-timeout` passes; without one, against a simulated
//! cluster, until the cluster settles (at most five minutes of cluster time).

use serde_json::Value;

use super::get::{custom_columns, Target, TABLE_ACCEPT};
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::output::Output;
use crate::printers::table::{rows, ColumnDefinition, Table, TableOptions};
use crate::printers::tabwriter::RememberingWriter;
use crate::printers::{jsonpath, structured};
use crate::transport::{follow_watch, Transport};
use kubecraft_cluster::api::Request;

/// What the watch prints and for how long.
pub struct WatchOptions<'a> {
    /// `--watch-only`: no initial list.
    pub watch_only: bool,
    /// `--output-watch-events`: an EVENT column (or the WatchEvent, for JSON/YAML).
    pub output_watch_events: bool,
    /// `--request-timeout` in cluster milliseconds, if given.
    pub timeout_ms: Option<u64>,
    /// The output format (`""`, `wide`, `name`, `json`, `yaml`, `jsonpath`, `custom-columns`)
    /// and its template.
    pub format: &'a str,
    pub template: &'a str,
    pub table: TableOptions,
    pub label_selector: Option<&'a str>,
    pub field_selector: Option<&'a str>,
}

/// Prints objects and events in the chosen format, remembering what it printed.
struct Printer<'a> {
    options: &'a WatchOptions<'a>,
    target: &'a Target<'a>,
    writer: RememberingWriter,
    /// The table columns last seen (watch events after the first carry none).
    columns: Vec<ColumnDefinition>,
    printed_headers: bool,
    printed_objects: usize,
}

impl Printer<'_> {
    fn wants_table(&self) -> bool {
        matches!(self.options.format, "" | "wide")
    }

    /// Prints a Table (a list's, or one event's), its rows tagged with `event`.
    fn table(&mut self, text: &str, event: &str) -> String {
        let mut table = Table::from_json(text);
        if table.column_definitions.is_empty() {
            table.column_definitions = self.columns.clone();
        } else {
            self.columns = table.column_definitions.clone();
        }
        if table.rows().is_empty() {
            return String::new();
        }
        let no_headers = self.options.table.no_headers || self.printed_headers;
        let options = TableOptions {
            no_headers,
            ..self.options.table.clone()
        };
        let mut lines = rows(std::slice::from_ref(&table), &options);
        if self.options.output_watch_events {
            for (i, line) in lines.iter_mut().enumerate() {
                let tag = if i == 0 && !no_headers {
                    "EVENT"
                } else {
                    event
                };
                line.insert(0, tag.into());
            }
        }
        self.printed_headers = true;
        self.writer.write(&lines)
    }

    /// Prints one object (not a Table) with `event` as its watch event type.
    fn object(&mut self, object: Value, event: &str) -> Result<String, String> {
        self.printed_objects += 1;
        let wrapped = |object: Value| {
            if self.options.output_watch_events {
                serde_json::json!({"type": event, "object": object})
            } else {
                object
            }
        };
        match self.options.format {
            "name" => {
                let name = object["metadata"]["name"].as_str().unwrap_or("");
                let line = format!("{}/{name}\n", kind_prefix(self.target.resource));
                Ok(if self.options.output_watch_events {
                    format!("{event} {line}")
                } else {
                    line
                })
            }
            "json" => Ok(structured::json(&wrapped(object))),
            "yaml" => {
                let separator = if self.printed_objects > 1 {
                    "---\n"
                } else {
                    ""
                };
                Ok(format!("{separator}{}", structured::yaml(&wrapped(object))))
            }
            "jsonpath" => jsonpath::render(self.options.template, &object, true).map_err(|e| {
                format!(
                    "error: error executing jsonpath {:?}: Error executing template: {e}\n",
                    self.options.template
                )
            }),
            _ => custom_columns(
                self.options.template,
                &[object],
                self.options.table.no_headers || self.printed_objects > 1,
            ),
        }
    }
}

/// The request for the target's collection (or its one named object) with the
/// watch's selectors, asking for Tables when the format prints them.
fn collection_request(
    target: &Target,
    namespace: Option<&str>,
    options: &WatchOptions,
    watch_from: Option<&str>,
) -> Request {
    let path = target.resource.collection_path(namespace);
    let mut req = match (target.names.first(), watch_from) {
        (Some(name), None) => Request::get(format!("{path}/{name}")),
        _ => Request::get(path),
    };
    if let Some(rv) = watch_from {
        req = req
            .with_query("watch", "true")
            .with_query("resourceVersion", rv);
        if let Some(name) = target.names.first() {
            req = req.with_query("fieldSelector", format!("metadata.name={name}"));
        }
    }
    if target.names.is_empty() {
        if let Some(sel) = options.label_selector {
            req = req.with_query("labelSelector", sel);
        }
        if let Some(sel) = options.field_selector {
            req = req.with_query("fieldSelector", sel);
        }
    }
    if matches!(options.format, "" | "wide") {
        req = req.with_header("Accept", TABLE_ACCEPT);
    }
    req
}

/// Runs the watch for one target in `namespace` (`None`: all namespaces).
pub fn run(
    transport: &mut dyn Transport,
    target: &Target,
    namespace: Option<&str>,
    options: &WatchOptions,
) -> Output {
    let mut out = Output::default();
    let mut printer = Printer {
        options,
        target,
        writer: RememberingWriter::default(),
        columns: Vec::new(),
        printed_headers: false,
        printed_objects: 0,
    };
    let first = transport.send(collection_request(target, namespace, options, None));
    if !first.is_success() {
        out.fail(server_error(&first));
        return out;
    }
    let body = first.body_json();
    let rv = body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if printer.wants_table() {
        let text = printer.table(first.body_text(), "ADDED");
        if !options.watch_only {
            out.out(text);
        } else {
            // The list only teaches the printer its columns.
            printer.printed_headers = false;
            printer.writer = RememberingWriter::default();
        }
    } else if !options.watch_only {
        let objects = match body["items"].as_array() {
            Some(items) => items.clone(),
            None => vec![body],
        };
        for mut object in objects {
            object["apiVersion"] = Value::String(target.resource.api_version());
            object["kind"] = Value::String(target.resource.kind.clone());
            match printer.object(object, "ADDED") {
                Ok(text) => out.out(text),
                Err(e) => {
                    out.fail(e);
                    return out;
                }
            }
        }
    }
    let watch = transport.send(collection_request(target, namespace, options, Some(&rv)));
    let Some(id) = watch.watch_id() else {
        out.fail(server_error(&watch));
        return out;
    };
    follow_watch(transport, id, options.timeout_ms, |kind, object| {
        match kind {
            "ERROR" => {
                let message = object["message"].as_str().unwrap_or("");
                out.fail(format!("error: {message}\n"));
                return false;
            }
            "BOOKMARK" => {}
            _ if object["kind"] == "Table" => out.out(printer.table(&object.to_string(), kind)),
            _ => match printer.object(object, kind) {
                Ok(text) => out.out(text),
                Err(e) => out.fail(e),
            },
        }
        true
    });
    out
}
