//! Reading selectable fields and labels out of an object, for storage indexes.

use crate::api::json_path::ValueExt;
use serde_json::Value;

/// The string value of a dotted field path as field selectors compare it
/// (missing → empty; booleans and numbers as text; `spec.unschedulable` defaults to false).
pub fn selectable_value(obj: &Value, field: &str) -> String {
    let path = match field {
        "source" => "source.component",
        other => other,
    };
    let mut current = obj;
    for part in path.split('.') {
        match current.get(part) {
            Some(next) => current = next,
            None => {
                return if field == "spec.unschedulable" || field == "spec.hostNetwork" {
                    "false".into()
                } else {
                    String::new()
                }
            }
        }
    }
    match current {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The object's labels as boxed pairs, in the object's order.
pub fn labels_of(obj: &Value) -> Box<[(Box<str>, Box<str>)]> {
    obj.at("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (Box::from(k.as_str()), Box::from(v.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default()
}
