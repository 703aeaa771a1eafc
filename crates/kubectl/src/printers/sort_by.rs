//! `--sort-by`: orders objects (or a Table's rows, by their objects) by the first
//! value a JSONPath finds, compared as kubectl's sorter compares them: numbers as
//! numbers, strings that are both quantities as quantities, other strings byte-wise;
//! an object without the field sorts first.

use std::cmp::Ordering;

use kubecraft_cluster::api::quantity;
use serde_json::Value;

use super::jsonpath;

/// Upstream's `RelaxedJSONPathExpression`: `.a.b`, `a.b`, `{a.b}` and `{.a.b}` all
/// become `{.a.b}`.
pub fn relaxed(expression: &str) -> Result<String, String> {
    let inner = match expression.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}'),
        None => Some(expression),
    };
    let inner = inner.map(|i| i.strip_prefix('.').unwrap_or(i));
    match inner {
        Some(spec) if !spec.is_empty() && !spec.contains(['{', '}']) => Ok(format!("{{.{spec}}}")),
        _ => Err("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'".into()),
    }
}

/// kubectl's `isLess` on two found values.
fn is_less(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x < y,
            _ => x.as_f64().unwrap_or(0.0) < y.as_f64().unwrap_or(0.0),
        },
        (Value::String(x), Value::String(y)) => match quantity::compare(x, y) {
            Some(order) => order == Ordering::Less,
            None => x < y,
        },
        (Value::Bool(x), Value::Bool(y)) => !x & y,
        _ => false,
    }
}

/// Sorts `items` by the value `field` finds in `object_of(item)`, as kubectl does:
/// small lists by insertion sort (Go's sort for fewer than 13 elements), larger ones
/// stably. Fails when no item has the field.
fn sort<T: Clone>(
    items: &mut [T],
    field: &str,
    object_of: impl Fn(&T) -> &Value,
) -> Result<(), String> {
    let keys: Vec<Option<Value>> = items
        .iter()
        .map(|item| {
            jsonpath::select(field, object_of(item))
                .ok()
                .and_then(|values| values.into_iter().next())
        })
        .collect();
    if !items.is_empty() && keys.iter().all(Option::is_none) {
        return Err(format!(
            "couldn't find any field with path {field:?} in the list of objects"
        ));
    }
    let less = |a: &Option<Value>, b: &Option<Value>| match (a, b) {
        (None, _) => true,
        (_, None) => false,
        (Some(a), Some(b)) => is_less(a, b),
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    if order.len() <= 12 {
        for i in 1..order.len() {
            let mut j = i;
            while j > 0 && less(&keys[order[j]], &keys[order[j - 1]]) {
                order.swap(j, j - 1);
                j -= 1;
            }
        }
    } else {
        order.sort_by(|&a, &b| {
            if less(&keys[a], &keys[b]) {
                Ordering::Less
            } else if less(&keys[b], &keys[a]) {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        });
    }
    let sorted: Vec<T> = order.iter().map(|&i| items[i].clone()).collect();
    items.clone_from_slice(&sorted);
    Ok(())
}

/// Sorts objects by `expression`.
pub fn sort_objects(objects: &mut [Value], expression: &str) -> Result<(), String> {
    let field = relaxed(expression)?;
    sort(objects, &field, |o| o)
}

/// Sorts a server Table's rows by their objects (asked for with `includeObject=Object`);
/// a Table of one row stays as it is.
pub fn sort_table(table: &mut Value, expression: &str) -> Result<(), String> {
    let field = relaxed(expression).unwrap_or_else(|_| expression.to_string());
    let Some(rows) = table["rows"].as_array_mut().filter(|r| r.len() > 1) else {
        return Ok(());
    };
    static NULL: Value = Value::Null;
    sort(rows, &field, |row| row.get("object").unwrap_or(&NULL))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relaxed_paths_as_kubectl_reads_them() {
        for given in [
            ".metadata.name",
            "metadata.name",
            "{.metadata.name}",
            "{metadata.name}",
        ] {
            assert_eq!(relaxed(given).unwrap(), "{.metadata.name}");
        }
        assert!(relaxed("{.a}{.b}").is_err());
    }

    #[test]
    fn numbers_quantities_strings_and_missing_fields() {
        let mut objects: Vec<Value> = ["2", "500m", "1Ki", "10"]
            .iter()
            .map(|q| json!({"q": q}))
            .collect();
        objects.push(json!({"other": 1}));
        sort_objects(&mut objects, ".q").unwrap();
        let order: Vec<Value> = objects.iter().map(|o| o["q"].clone()).collect();
        assert_eq!(
            order,
            [
                Value::Null,
                json!("500m"),
                json!("2"),
                json!("10"),
                json!("1Ki")
            ]
        );
        let mut names = vec![
            json!({"n": "pod-10"}),
            json!({"n": "pod-2"}),
            json!({"n": "pod-1"}),
        ];
        sort_objects(&mut names, "{.n}").unwrap();
        assert_eq!(
            names,
            [
                json!({"n": "pod-1"}),
                json!({"n": "pod-10"}),
                json!({"n": "pod-2"})
            ]
        );
        assert_eq!(
            sort_objects(&mut names, ".missing").unwrap_err(),
            "couldn't find any field with path \"{.missing}\" in the list of objects"
        );
    }
}
