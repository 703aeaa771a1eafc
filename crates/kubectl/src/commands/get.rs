//! `kubectl get`: lists or named objects, as Tables (`-o wide`), names, JSON or YAML,
//! in one namespace or all (`-A`), filtered by label and field selectors.

use kubecraft_cluster::api::Request;
use serde_json::Value;

use kubecraft_cluster::api::ResourceInfo;

use super::get_watch::{self, WatchOptions};
use crate::discovery::{category, discover, kind_prefix, resolve, resolve_known, warn_ambiguous};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag, Parsed};
use crate::output::Output;
use crate::printers::table::{self, Table, TableOptions};
use crate::printers::tabwriter::align;
use crate::printers::{jsonpath, sort_by, structured};
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    boolean("all-namespaces", Some('A')),
    value("output", Some('o')),
    value("selector", Some('l')),
    value("field-selector", None),
    boolean("show-labels", None),
    boolean("no-headers", None),
    boolean("watch", Some('w')),
    boolean("watch-only", None),
    boolean("output-watch-events", None),
    value("label-columns", Some('L')),
    value("sort-by", None),
];

pub(super) const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

const NO_TYPE: &str = "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples\n";

const FORMATS: &str = "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml";

/// What to fetch: a resource and, optionally, names.
pub(super) struct Target<'a> {
    pub resource: &'a ResourceInfo,
    pub names: Vec<String>,
}

/// Runs `kubectl get`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "get") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    if parsed.positional.is_empty() {
        out.fail(NO_TYPE);
        return out;
    }
    let output = parsed.get("output").unwrap_or("");
    let (format, template) = match output.split_once('=') {
        Some((f @ ("jsonpath" | "custom-columns"), t)) => (f, t),
        _ => (output, ""),
    };
    if !matches!(
        format,
        "" | "wide" | "name" | "json" | "yaml" | "jsonpath" | "custom-columns"
    ) {
        out.fail(format!(
            "error: unable to match a printer suitable for the output format {format:?}, allowed formats are: {FORMATS}\n"
        ));
        return out;
    }
    let all_namespaces = parsed.is_set("all-namespaces");
    let namespace = kubectl.namespace_for(&parsed);
    let resources = discover(transport);
    warn_ambiguous(transport, &resources, &parsed.positional);
    let targets = match targets(&resources, &parsed.positional) {
        Ok(t) => t,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let multiple = targets.len() > 1 || parsed.positional[0].contains('/');
    let ns = (!all_namespaces).then_some(namespace.as_str());
    let sort_by = parsed.get("sort-by").filter(|s| !s.is_empty());
    if parsed.is_set("watch") || parsed.is_set("watch-only") {
        if sort_by.is_some() {
            out.err(if parsed.is_set("watch-only") {
                "warning: --watch-only requested, --sort-by will be ignored\n"
            } else {
                "warning: --watch requested, --sort-by will be ignored for watch events received\n"
            });
        }
        let found: usize = targets.iter().map(|t| t.names.len().max(1)).sum();
        if found != 1 {
            out.fail(format!("error: watch is only supported on individual resources and resource collections, but {found} resources were found\n"));
            return out;
        }
        let timeout_ms = match flags::request_timeout_ms(&parsed) {
            Ok(ms) => ms,
            Err(e) => {
                out.fail(e);
                return out;
            }
        };
        let target = &targets[0];
        let options = WatchOptions {
            watch_only: parsed.is_set("watch-only"),
            output_watch_events: parsed.is_set("output-watch-events"),
            timeout_ms,
            format,
            template,
            table: table_options(&parsed, format, all_namespaces, target.resource, multiple),
            label_selector: parsed.get("selector"),
            field_selector: parsed.get("field-selector"),
        };
        let target_ns = if target.names.is_empty() {
            ns
        } else {
            Some(namespace.as_str())
        };
        return get_watch::run(transport, target, target_ns, &options);
    }
    let mut printed_any = false;
    let mut structured_items = Vec::new();
    let mut errors = Output::default();
    let want_table = matches!(format, "" | "wide");
    for target in &targets {
        let mut table_bodies: Vec<String> = Vec::new();
        let mut objects = Vec::new();
        let requests: Vec<Request> = if target.names.is_empty() {
            let mut req = Request::get(target.resource.collection_path(ns));
            if let Some(sel) = parsed.get("selector") {
                req = req.with_query("labelSelector", sel);
            }
            if let Some(sel) = parsed.get("field-selector") {
                req = req.with_query("fieldSelector", sel);
            }
            vec![req]
        } else {
            target
                .names
                .iter()
                .map(|name| {
                    Request::get(format!(
                        "{}/{name}",
                        target.resource.collection_path(Some(&namespace))
                    ))
                })
                .collect()
        };
        for mut req in requests {
            if want_table {
                req = req.with_header("Accept", TABLE_ACCEPT);
                if sort_by.is_some() {
                    // Sorting reads the objects' fields, so the rows carry them.
                    req = req.with_query("includeObject", "Object");
                }
            }
            let response = transport.send(req);
            if !response.is_success() {
                errors.fail(server_error(&response));
                continue;
            }
            if want_table {
                match sort_by {
                    Some(field) => {
                        let mut body = response.body_json();
                        // kubectl prints nothing of a Table it cannot sort (and says so no further).
                        if sort_by::sort_table(&mut body, field).is_err() {
                            continue;
                        }
                        table_bodies.push(body.to_string());
                    }
                    None => table_bodies.push(response.into_body_text()),
                }
                continue;
            }
            let body = response.body_json();
            if let Some(items) = body.get("items").and_then(Value::as_array) {
                objects.extend(items.iter().cloned().map(|mut o| {
                    // List items may omit their type; kubectl fills it in.
                    o["apiVersion"] = Value::String(target.resource.api_version());
                    o["kind"] = Value::String(target.resource.kind.clone());
                    o
                }));
            } else {
                objects.push(body);
            }
        }
        if let Some(field) = sort_by.filter(|_| !want_table) {
            if let Err(e) = sort_by::sort_objects(&mut objects, field) {
                out.fail(format!("error: {e}\n"));
                return out;
            }
        }
        if want_table {
            let tables: Vec<Table> = table_bodies
                .iter()
                .map(|body| Table::from_json(body))
                .filter(|table| !table.rows().is_empty())
                .collect();
            if tables.is_empty() {
                continue;
            }
            if printed_any {
                out.out("\n");
            }
            let options = table_options(&parsed, format, all_namespaces, target.resource, multiple);
            out.out(table::print(&tables, &options));
            printed_any = true;
        } else if format == "name" {
            for obj in &objects {
                let name = obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.out(format!("{}/{name}\n", kind_prefix(target.resource)));
                printed_any = true;
            }
        } else {
            structured_items.extend(objects);
        }
    }
    if format == "custom-columns" {
        match custom_columns(template, &structured_items, parsed.is_set("no-headers")) {
            Ok(text) => out.out(text),
            Err(e) => out.fail(e),
        }
        printed_any = true;
    }
    if matches!(format, "json" | "yaml" | "jsonpath") {
        let single = targets.len() == 1 && targets[0].names.len() == 1;
        let doc = if single && structured_items.len() == 1 {
            structured_items.pop().expect("one item")
        } else {
            structured::list(structured_items)
        };
        if !(single && errors.exit_code != 0) {
            match format {
                "json" => out.out(structured::json(&doc)),
                "yaml" => out.out(structured::yaml(&doc)),
                _ => match jsonpath::render(template, &doc, true) {
                    Ok(text) => out.out(text),
                    Err(e) => out.fail(format!(
                        "error: error executing jsonpath {template:?}: Error executing template: {e}\n"
                    )),
                },
            }
            printed_any = true;
        }
    }
    let named = targets.iter().any(|t| !t.names.is_empty());
    if !printed_any && errors.exit_code == 0 && !named {
        out.err(if all_namespaces {
            "No resources found\n".to_string()
        } else {
            format!("No resources found in {namespace} namespace.\n")
        });
    }
    out.extend(errors);
    out
}

/// How a resource's Tables print, from the flags.
fn table_options(
    parsed: &Parsed,
    format: &str,
    all_namespaces: bool,
    resource: &ResourceInfo,
    multiple: bool,
) -> TableOptions {
    TableOptions {
        wide: format == "wide",
        with_namespace: all_namespaces && resource.namespaced(),
        show_labels: parsed.is_set("show-labels"),
        name_prefix: multiple.then(|| kind_prefix(resource)),
        no_headers: parsed.is_set("no-headers"),
        label_columns: parsed.get_slice("label-columns"),
    }
}

/// Resolves `TYPE[,TYPE] [NAME...]` or `TYPE/NAME ...` into fetch targets.
fn targets<'a>(
    resources: &'a [ResourceInfo],
    positional: &[String],
) -> Result<Vec<Target<'a>>, String> {
    let mut out: Vec<Target<'a>> = Vec::new();
    if positional[0].contains('/') {
        for arg in positional {
            let Some((typed, name)) = arg.split_once('/') else {
                return Err("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'\n".to_string());
            };
            let resource = resolve_known(resources, typed)?;
            match out.iter_mut().find(|t| std::ptr::eq(t.resource, resource)) {
                Some(t) => t.names.push(name.to_string()),
                None => out.push(Target {
                    resource,
                    names: vec![name.to_string()],
                }),
            }
        }
        return Ok(out);
    }
    let names: Vec<String> = positional[1..].to_vec();
    for typed in positional[0].split(',').filter(|t| !t.is_empty()) {
        let expanded = category(resources, typed);
        if !expanded.is_empty() && resolve(resources, typed).is_none() {
            out.extend(expanded.into_iter().map(|resource| Target {
                resource,
                names: names.clone(),
            }));
            continue;
        }
        let resource = resolve_known(resources, typed)?;
        out.push(Target {
            resource,
            names: names.clone(),
        });
    }
    Ok(out)
}

/// `-o custom-columns=HEADER:.path,...`: one row per object; several values join with
/// commas, none print `<none>`.
pub(super) fn custom_columns(
    spec: &str,
    objects: &[Value],
    no_headers: bool,
) -> Result<String, String> {
    if spec.is_empty() {
        return Err("error: custom-columns format specified but no custom columns given\n".into());
    }
    let mut columns = Vec::new();
    for part in spec.split(',') {
        let (header, path) = part
            .split_once(':')
            .ok_or_else(|| format!("error: unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>\n"))?;
        columns.push((header.to_string(), path.to_string()));
    }
    let mut rows = Vec::new();
    if !no_headers {
        rows.push(columns.iter().map(|(h, _)| h.clone()).collect());
    }
    for obj in objects {
        let mut row = Vec::new();
        for (_, path) in &columns {
            let values = jsonpath::select(path, obj).map_err(|e| format!("error: {e}\n"))?;
            let texts: Vec<String> = values.iter().map(jsonpath::text_of).collect();
            row.push(if texts.is_empty() {
                "<none>".to_string()
            } else {
                texts.join(",")
            });
        }
        rows.push(row);
    }
    Ok(align(&rows))
}
