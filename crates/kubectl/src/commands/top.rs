//! `kubectl top pod|node`: resource usage from the `metrics.k8s.io` API, laid
//! out as upstream's `TopCmdPrinter` (every cell tab-terminated, so each column
//! is padded), with CPU in millicores and memory in MiB.

use kubecraft_cluster::api::quantity::{milli_value, value};
use kubecraft_cluster::api::Request;
use serde_json::Value;

use crate::errors::server_error;
use crate::flags::{self, boolean, value as value_flag, Flag};
use crate::output::Output;
use crate::printers::tabwriter::format;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value_flag("selector", Some('l')),
    value_flag("sort-by", None),
    boolean("all-namespaces", Some('A')),
    boolean("containers", None),
    boolean("no-headers", None),
];

/// What `kubectl top` with no subcommand prints (kubectl 1.35's help).
const TOP_HELP: &str = include_str!("top_help.txt");

/// (cpu millicores, memory bytes) of a `usage` object.
fn usage_of(usage: &Value) -> (i64, i64) {
    (
        milli_value(usage["cpu"].as_str().unwrap_or("0")).unwrap_or(0),
        value(usage["memory"].as_str().unwrap_or("0")).unwrap_or(0),
    )
}

/// Tab-terminated cells, one row per line, aligned as kubectl's tabwriter does.
fn table(rows: &[Vec<String>]) -> String {
    let text: String = rows
        .iter()
        .map(|r| r.iter().map(|c| format!("{c}\t")).collect::<String>() + "\n")
        .collect();
    format(&text, 6, 3)
}

/// The metrics in the collection at `path` (all of them, or the one named after
/// `pod`/`node`), filtered by `-l`.
fn fetch_metrics(
    transport: &mut dyn Transport,
    path: String,
    parsed: &flags::Parsed,
) -> Result<Vec<Value>, String> {
    let path = match parsed.positional.get(1) {
        Some(name) => format!("{path}/{name}"),
        None => path,
    };
    let mut request = Request::get(path);
    if let Some(selector) = parsed.get("selector") {
        request = request.with_query("labelSelector", selector);
    }
    let response = transport.send(request);
    if !response.is_success() {
        return Err(server_error(&response));
    }
    let body = response.body_json();
    Ok(match body["items"].as_array() {
        Some(items) => items.clone(),
        None => vec![body],
    })
}

fn sort_rows(rows: &mut [(Vec<String>, (i64, i64))], sort_by: Option<&str>) {
    match sort_by {
        Some("cpu") => rows.sort_by_key(|r| std::cmp::Reverse(r.1 .0)),
        Some("memory") => rows.sort_by_key(|r| std::cmp::Reverse(r.1 .1)),
        _ => {}
    }
}

fn top_pods(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    parsed: &flags::Parsed,
    out: &mut Output,
) {
    let all = parsed.is_set("all-namespaces");
    let namespace = kubectl.namespace_for(parsed);
    let path = if all {
        "/apis/metrics.k8s.io/v1beta1/pods".to_string()
    } else {
        format!("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods")
    };
    let items = match fetch_metrics(transport, path, parsed) {
        Ok(items) => items,
        Err(e) => {
            out.fail(e);
            return;
        }
    };
    if items.is_empty() {
        let scope = if all {
            String::new()
        } else {
            format!(" in {namespace} namespace")
        };
        out.err(format!("No resources found{scope}.\n"));
        return;
    }
    let containers = parsed.is_set("containers");
    let mut header: Vec<String> = Vec::new();
    if all {
        header.push("NAMESPACE".into());
    }
    if containers {
        header.push("POD".into());
    }
    header.extend(["NAME", "CPU(cores)", "MEMORY(bytes)"].map(String::from));
    let mut rows: Vec<(Vec<String>, (i64, i64))> = Vec::new();
    for item in &items {
        let pod = item["metadata"]["name"].as_str().unwrap_or("").to_string();
        let mut prefix = Vec::new();
        if all {
            prefix.push(
                item["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
        let list = item["containers"].as_array().cloned().unwrap_or_default();
        if containers {
            for c in &list {
                let (cpu, memory) = usage_of(&c["usage"]);
                let mut row = prefix.clone();
                row.push(pod.clone());
                row.push(c["name"].as_str().unwrap_or("").to_string());
                row.push(format!("{cpu}m"));
                row.push(format!("{}Mi", memory / (1024 * 1024)));
                rows.push((row, (cpu, memory)));
            }
        } else {
            let (cpu, memory) = list.iter().fold((0, 0), |(c, m), x| {
                let (xc, xm) = usage_of(&x["usage"]);
                (c + xc, m + xm)
            });
            let mut row = prefix;
            row.push(pod);
            row.push(format!("{cpu}m"));
            row.push(format!("{}Mi", memory / (1024 * 1024)));
            rows.push((row, (cpu, memory)));
        }
    }
    sort_rows(&mut rows, parsed.get("sort-by"));
    let mut lines: Vec<Vec<String>> = Vec::new();
    if !parsed.is_set("no-headers") {
        lines.push(header);
    }
    lines.extend(rows.into_iter().map(|(r, _)| r));
    out.out(table(&lines));
}

fn top_nodes(transport: &mut dyn Transport, parsed: &flags::Parsed, out: &mut Output) {
    let path = "/apis/metrics.k8s.io/v1beta1/nodes".to_string();
    let items = match fetch_metrics(transport, path, parsed) {
        Ok(items) => items,
        Err(e) => {
            out.fail(e);
            return;
        }
    };
    let nodes = transport.send(Request::get("/api/v1/nodes")).body_json();
    let allocatable = |name: &str| {
        nodes["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["metadata"]["name"] == name)
            .map(|n| usage_of(&n["status"]["allocatable"]))
            .unwrap_or((0, 0))
    };
    let mut rows: Vec<(Vec<String>, (i64, i64))> = Vec::new();
    for item in &items {
        let name = item["metadata"]["name"].as_str().unwrap_or("");
        let (cpu, memory) = usage_of(&item["usage"]);
        let (cpu_total, memory_total) = allocatable(name);
        let percent = |used: i64, total: i64| {
            if total > 0 {
                format!("{}%", (used as f64 / total as f64 * 100.0) as i64)
            } else {
                "<unknown>".into()
            }
        };
        rows.push((
            vec![
                name.to_string(),
                format!("{cpu}m"),
                percent(cpu, cpu_total),
                format!("{}Mi", memory / (1024 * 1024)),
                percent(memory, memory_total),
            ],
            (cpu, memory),
        ));
    }
    sort_rows(&mut rows, parsed.get("sort-by"));
    let mut lines: Vec<Vec<String>> = Vec::new();
    if !parsed.is_set("no-headers") {
        lines.push(
            ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
                .map(String::from)
                .to_vec(),
        );
    }
    lines.extend(rows.into_iter().map(|(r, _)| r));
    out.out(table(&lines));
}

/// Runs `kubectl top`.
pub fn run(kubectl: &Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "top") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    match parsed.positional.first().map(String::as_str) {
        Some("pod" | "pods" | "po") => top_pods(kubectl, transport, &parsed, &mut out),
        Some("node" | "nodes" | "no") => top_nodes(transport, &parsed, &mut out),
        Some(other) => out.fail(flags::usage_error(
            "top",
            &format!("unknown command {other:?}"),
        )),
        None => out.fail(TOP_HELP),
    }
    out
}
