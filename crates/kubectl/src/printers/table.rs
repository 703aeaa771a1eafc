//! Printing server-side Tables the way kubectl does: upper-case headers, priority-1
//! columns only with `-o wide`, an optional NAMESPACE column and LABELS column.

use serde_json::Value;

use kubecraft_cluster::apiserver::tables::map_string;

use super::tabwriter::align;

/// How to print a table.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    pub wide: bool,
    /// Prepend NAMESPACE (for `-A`).
    pub with_namespace: bool,
    /// Append LABELS (for `--show-labels`).
    pub show_labels: bool,
    /// Prefix names with `kind.group/` (when several types are printed).
    pub name_prefix: Option<String>,
    /// Leave out the header row.
    pub no_headers: bool,
    /// Label keys shown as columns of their own (`-L`), before LABELS.
    pub label_columns: Vec<String>,
}

/// A label column's header: the key's last `/` segment, upper-cased.
fn label_header(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_ascii_uppercase()
}

/// A cell as kubectl's printer shows it.
pub fn cell_text(cell: &Value) -> String {
    match cell {
        Value::Null => "<none>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn labels_text(row: &Value) -> String {
    map_string(row.pointer("/object/metadata/labels"))
}

/// The rows (header first) of one or more Tables of the same kind.
pub fn rows(tables: &[Value], options: &TableOptions) -> Vec<Vec<String>> {
    let Some(first) = tables.first() else {
        return Vec::new();
    };
    let columns = first["columnDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shown: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| options.wide || c["priority"].as_i64().unwrap_or(0) == 0)
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    if !options.no_headers {
        let mut header = Vec::new();
        if options.with_namespace {
            header.push("NAMESPACE".to_string());
        }
        header.extend(shown.iter().map(|&i| {
            columns[i]["name"]
                .as_str()
                .unwrap_or("")
                .to_ascii_uppercase()
        }));
        header.extend(options.label_columns.iter().map(|k| label_header(k)));
        if options.show_labels {
            header.push("LABELS".to_string());
        }
        out.push(header);
    }
    for table in tables {
        for row in table["rows"].as_array().into_iter().flatten() {
            let cells = row["cells"].as_array().cloned().unwrap_or_default();
            let mut line = Vec::new();
            if options.with_namespace {
                line.push(
                    row.pointer("/object/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                );
            }
            for &i in &shown {
                let mut text = cells.get(i).map(cell_text).unwrap_or_default();
                if i == 0 {
                    if let Some(prefix) = &options.name_prefix {
                        text = format!("{prefix}/{text}");
                    }
                }
                line.push(text);
            }
            for key in &options.label_columns {
                let value = row
                    .pointer("/object/metadata/labels")
                    .and_then(|l| l.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                line.push(value.to_string());
            }
            if options.show_labels {
                line.push(labels_text(row));
            }
            out.push(line);
        }
    }
    out
}

/// Prints Tables as aligned text.
pub fn print(tables: &[Value], options: &TableOptions) -> String {
    align(&rows(tables, options))
}
