//! `kubectl api-resources`: what the server serves, sorted by group then name.

use crate::discovery::{discover, preferred};
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::printers::tabwriter::align;
use crate::transport::Transport;

const FLAGS: &[Flag] = &[
    value("output", Some('o')),
    value("api-group", None),
    value("namespaced", None),
    boolean("no-headers", None),
];

/// Runs `kubectl api-resources`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "api-resources") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let format = parsed.get("output").unwrap_or("");
    if !matches!(format, "" | "wide" | "name") {
        out.fail(format!("error: --output {format} is not available\n"));
        return out;
    }
    let discovered = discover(transport);
    let mut resources = preferred(&discovered);
    if let Some(group) = parsed.get("api-group") {
        resources.retain(|r| r.group == group);
    }
    if let Some(namespaced) = parsed.get("namespaced") {
        let want = namespaced == "true";
        resources.retain(|r| r.namespaced() == want);
    }
    resources.sort_by(|a, b| {
        (a.group.as_str(), a.plural.as_str()).cmp(&(b.group.as_str(), b.plural.as_str()))
    });
    if format == "name" {
        for r in &resources {
            out.out(if r.group.is_empty() {
                format!("{}\n", r.plural)
            } else {
                format!("{}.{}\n", r.plural, r.group)
            });
        }
        return out;
    }
    let wide = format == "wide";
    let mut rows = Vec::new();
    if !parsed.is_set("no-headers") {
        let mut header: Vec<String> = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            .map(String::from)
            .to_vec();
        if wide {
            header.extend(["VERBS".to_string(), "CATEGORIES".to_string()]);
        }
        rows.push(header);
    }
    for r in &resources {
        let mut row = vec![
            r.plural.clone(),
            r.short_names.join(","),
            r.api_version(),
            r.namespaced().to_string(),
            r.kind.clone(),
        ];
        if wide {
            row.push(format!("[{}]", r.verbs.join(" ")));
            row.push(r.categories.join(","));
        }
        rows.push(row);
    }
    out.out(align(&rows));
    out
}
