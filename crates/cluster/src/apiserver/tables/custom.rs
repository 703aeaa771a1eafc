//! Tables for custom resources: a Name column, then the CRD's
//! `additionalPrinterColumns` read with simple JSONPaths.

use crate::api::json_path::ValueExt;
use serde_json::{json, Value};

use super::age::age;
use super::PrintContext;
use crate::apiserver::crd::definition::PrinterColumn;

/// The value a simple JSONPath (`.spec.replicas`, `.status.conditions[0].type`) selects.
pub fn simple_json_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = obj;
    for part in path
        .trim_start_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let i: usize = index.trim_end_matches(']').parse().ok()?;
            current = current.get(i)?;
        }
    }
    Some(current)
}

/// Column definitions: Name, then each printer column.
pub fn column_definitions(columns: &[PrinterColumn], name_description: &str) -> Vec<Value> {
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": name_description, "priority": 0}),
    ];
    for c in columns {
        let description = if c.description.is_empty() {
            format!(
                "Custom resource definition column (in JSONPath format): {}",
                c.json_path
            )
        } else {
            c.description.clone()
        };
        defs.push(json!({"name": c.name, "type": c.kind, "format": c.format, "description": description, "priority": c.priority}));
    }
    defs
}

/// One row's cells, typed as upstream's `cellForJSONValue` does (missing → null).
pub fn cells(obj: &Value, columns: &[PrinterColumn], ctx: &PrintContext) -> Vec<Value> {
    let mut cells = vec![obj.at("/metadata/name").cloned().unwrap_or(Value::Null)];
    for c in columns {
        let cell = match simple_json_path(obj, &c.json_path) {
            None | Some(Value::Null) => Value::Null,
            Some(v) => match c.kind.as_str() {
                "string" => json!(v
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())),
                "integer" => v
                    .as_i64()
                    .or_else(|| v.as_f64().map(|f| f as i64))
                    .map_or(Value::Null, |i| json!(i)),
                "number" => v.as_f64().map_or(Value::Null, |f| json!(f)),
                "boolean" => v.as_bool().map_or(Value::Null, |b| json!(b)),
                "date" => v
                    .as_str()
                    .map_or(Value::Null, |t| json!(age(Some(t), ctx.now_unix_ms))),
                _ => Value::Null,
            },
        };
        cells.push(cell);
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_paths_with_indexes() {
        let obj = json!({"spec": {"replicas": 3}, "status": {"conditions": [{"type": "Ready"}]}});
        assert_eq!(simple_json_path(&obj, ".spec.replicas"), Some(&json!(3)));
        assert_eq!(
            simple_json_path(&obj, ".status.conditions[0].type"),
            Some(&json!("Ready"))
        );
        assert_eq!(simple_json_path(&obj, ".spec.missing"), None);
    }
}
