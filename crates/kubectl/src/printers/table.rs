//! Printing server-side Tables the way kubectl does: upper-case headers, priority-1
//! columns only with `-o wide`, an optional NAMESPACE column and LABELS column.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use kubecraft_cluster::apiserver::tables::pairs_string;

use super::tabwriter::align;

/// A meta.k8s.io/v1 Table as kubectl's printer reads it, borrowed from the response
/// text (a Table of every pod is tens of megabytes): the column definitions and, per
/// row, the cells and the namespace and labels of the row's object.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Table<'a> {
    /// Null in watch events after the first.
    #[serde(deserialize_with = "null_as_default")]
    pub column_definitions: Vec<ColumnDefinition>,
    #[serde(borrow)]
    pub rows: Option<Vec<Row<'a>>>,
}

/// One column of a Table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ColumnDefinition {
    pub name: String,
    /// 0 for default columns, 1 for `-o wide` ones.
    pub priority: i64,
}

/// One row of a Table: its cells as they were sent, read when printed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Row<'a> {
    #[serde(borrow)]
    pub cells: Vec<&'a RawValue>,
    #[serde(borrow)]
    pub object: RowObject<'a>,
}

/// What the printer reads of a row's object (its `PartialObjectMetadata` or the object).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RowObject<'a> {
    #[serde(borrow)]
    pub metadata: RowMetadata<'a>,
}

/// The namespace (for `-A`) and labels (for `--show-labels` and `-L`, read only then)
/// of a row's object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RowMetadata<'a> {
    #[serde(borrow)]
    pub namespace: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub labels: Option<&'a RawValue>,
}

impl RowMetadata<'_> {
    /// The object's labels (none when missing, null or not a string map).
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.labels
            .and_then(|raw| serde_json::from_str::<Option<_>>(raw.get()).ok())
            .flatten()
            .unwrap_or_default()
    }
}

/// A field's value, or its default when it is null.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl<'a> Table<'a> {
    /// A Table from a response body (empty if the body is not one).
    pub fn from_json(body: &'a str) -> Table<'a> {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// The rows (none in a Table that has none, or null ones).
    pub fn rows(&self) -> &[Row<'a>] {
        self.rows.as_deref().unwrap_or_default()
    }
}

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

/// A cell as kubectl's printer shows it (borrowed when it is a string without escapes).
pub fn cell_text(cell: &RawValue) -> Cow<'_, str> {
    let raw = cell.get();
    if let Some(text) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        if memchr::memchr(b'\\', text.as_bytes()).is_none() {
            return Cow::Borrowed(text);
        }
    }
    Cow::Owned(match serde_json::from_str(raw).unwrap_or(Value::Null) {
        Value::Null => "<none>".into(),
        Value::String(s) => s,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    })
}

/// The row's labels as upstream's `labels.Set.String()` prints them.
fn labels_text(labels: &BTreeMap<String, String>) -> String {
    pairs_string(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The rows (header first) of one or more Tables of the same kind.
pub fn rows<'t>(tables: &'t [Table<'_>], options: &TableOptions) -> Vec<Vec<Cow<'t, str>>> {
    let Some(first) = tables.first() else {
        return Vec::new();
    };
    let columns = &first.column_definitions;
    let shown: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| options.wide || c.priority == 0)
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    if !options.no_headers {
        let mut header = Vec::new();
        if options.with_namespace {
            header.push(Cow::Borrowed("NAMESPACE"));
        }
        header.extend(
            shown
                .iter()
                .map(|&i| Cow::Owned(columns[i].name.to_ascii_uppercase())),
        );
        header.extend(
            options
                .label_columns
                .iter()
                .map(|k| Cow::Owned(label_header(k))),
        );
        if options.show_labels {
            header.push(Cow::Borrowed("LABELS"));
        }
        out.push(header);
    }
    for row in tables.iter().flat_map(|t| t.rows()) {
        let mut line = Vec::with_capacity(shown.len() + 1);
        if options.with_namespace {
            let namespace = &row.object.metadata.namespace;
            line.push(Cow::Borrowed(namespace.as_deref().unwrap_or_default()));
        }
        for &i in &shown {
            let mut text = row
                .cells
                .get(i)
                .map(|cell| cell_text(cell))
                .unwrap_or_default();
            if i == 0 {
                if let Some(prefix) = &options.name_prefix {
                    text = Cow::Owned(format!("{prefix}/{text}"));
                }
            }
            line.push(text);
        }
        if !options.label_columns.is_empty() || options.show_labels {
            let labels = row.object.metadata.labels();
            for key in &options.label_columns {
                line.push(Cow::Owned(labels.get(key).cloned().unwrap_or_default()));
            }
            if options.show_labels {
                line.push(Cow::Owned(labels_text(&labels)));
            }
        }
        out.push(line);
    }
    out
}

/// Prints Tables as aligned text.
pub fn print(tables: &[Table<'_>], options: &TableOptions) -> String {
    align(&rows(tables, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_event_table_without_column_definitions_keeps_its_rows() {
        let event = r#"{"kind":"Table","columnDefinitions":null,"rows":[{"cells":["web",1],"object":{"metadata":{"namespace":"team-1","labels":{"b":"2","a":"1"}}}}]}"#;
        let mut table = Table::from_json(event);
        assert_eq!(table.rows().len(), 1);
        table.column_definitions = vec![
            ColumnDefinition {
                name: "Name".into(),
                priority: 0,
            },
            ColumnDefinition {
                name: "Count".into(),
                priority: 0,
            },
        ];
        let options = TableOptions {
            with_namespace: true,
            show_labels: true,
            ..TableOptions::default()
        };
        assert_eq!(
            rows(&[table], &options),
            [
                ["NAMESPACE", "NAME", "COUNT", "LABELS"],
                ["team-1", "web", "1", "a=1,b=2"]
            ]
        );
    }
}
