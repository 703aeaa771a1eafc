//! Structural OpenAPI v3 schemas of CustomResourceDefinitions: pruning of unknown
//! fields, defaulting, and validation with upstream's field errors and go-openapi's
//! messages (`spec.replicas in body must be of type integer: "string"`).

use serde_json::{json, Map, Value};

use crate::api::status::FieldError;

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn preserves_unknown(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true))
}

/// Drops fields the schema does not declare (unless it preserves unknown fields).
/// `metadata`, `apiVersion` and `kind` at the root are left alone.
pub fn prune(value: &mut Value, schema: &Value, root: bool, pruned: &mut Vec<String>) {
    prune_at(value, schema, root, "", pruned);
}

/// [`prune`] of the value at field path `path`, noting each pruned field's path.
fn prune_at(value: &mut Value, schema: &Value, root: bool, path: &str, pruned: &mut Vec<String>) {
    let child = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            if let Some(additional) = additional {
                for (k, v) in map.iter_mut() {
                    prune_at(v, additional, false, &child(k), pruned);
                }
                return;
            }
            if !preserves_unknown(schema) {
                map.retain(|k, _| {
                    let known = (root && matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
                        || properties.is_some_and(|p| p.contains_key(k));
                    if !known {
                        pruned.push(child(k));
                    }
                    known
                });
            }
            if let Some(properties) = properties {
                for (k, v) in map.iter_mut() {
                    if root && k == "metadata" {
                        continue;
                    }
                    if let Some(s) = properties.get(k) {
                        prune_at(v, s, false, &child(k), pruned);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_at(item, item_schema, false, &format!("{path}[{i}]"), pruned);
                }
            }
        }
        _ => {}
    }
}

/// Fills in `default`s for missing properties of objects that are present.
pub fn apply_defaults(value: &mut Value, schema: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in properties {
                    if !map.contains_key(name) {
                        if let Some(default) = prop.get("default") {
                            map.insert(name.clone(), default.clone());
                        }
                    }
                    if let Some(v) = map.get_mut(name) {
                        apply_defaults(v, prop);
                    }
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for v in map.values_mut() {
                    apply_defaults(v, additional);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

/// The JSON type name go-openapi reports for a value.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(wanted: &str, value: &Value) -> bool {
    let actual = type_name(value);
    actual == wanted || (wanted == "number" && actual == "integer")
}

/// Renders a schema bound the way Go's `%v` prints a float64 that holds it.
fn bound(value: &Value) -> String {
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{}", f as i64),
        Some(f) => f.to_string(),
        None => value.to_string(),
    }
}

/// Validates `value` at `path` against `schema`, appending upstream's field errors.
pub fn validate(value: &Value, schema: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let name = if path.is_empty() { "body" } else { path };
    if value.is_null() && schema.get("nullable") == Some(&json!(true)) {
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&json!(true));
    if int_or_string {
        if !matches!(type_name(value), "integer" | "string") {
            let actual = type_name(value);
            errors.push(FieldError::type_invalid(
                path,
                &json!(actual),
                &format!("{name} in body must be of type integer,string: {actual:?}"),
            ));
            return;
        }
    } else if let Some(wanted) = schema.get("type").and_then(Value::as_str) {
        if !type_matches(wanted, value) {
            let actual = type_name(value);
            errors.push(FieldError::type_invalid(
                path,
                &json!(actual),
                &format!("{name} in body must be of type {wanted}: {actual:?}"),
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let names: Vec<String> = allowed
                .iter()
                .map(|a| {
                    a.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| a.to_string())
                })
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            errors.push(FieldError::not_supported(path, value, &refs));
        }
    }
    match value {
        Value::Number(n) => {
            validate_number(n.as_f64().unwrap_or(0.0), value, schema, path, name, errors)
        }
        Value::String(s) => validate_string(s, value, schema, path, name, errors),
        Value::Array(items) => {
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    errors.push(FieldError::invalid(
                        path,
                        &json!(items.len()),
                        &format!("{name} in body should have at least {min} items"),
                    ));
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    errors.push(FieldError {
                        reason: "FieldValueTooMany",
                        field: path.to_string(),
                        message: format!(
                            "Too many: {}: must have at most {max} items",
                            items.len()
                        ),
                    });
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(item, item_schema, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Value::Object(map) => validate_object(map, schema, path, errors),
        _ => {}
    }
}

fn validate_number(
    n: f64,
    value: &Value,
    schema: &Value,
    path: &str,
    name: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(min) = schema.get("minimum") {
        let exclusive = schema.get("exclusiveMinimum") == Some(&json!(true));
        let low = min.as_f64().unwrap_or(f64::MIN);
        if n < low || (exclusive && n == low) {
            let relation = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            errors.push(FieldError::invalid(
                path,
                value,
                &format!("{name} in body should be {relation} {}", bound(min)),
            ));
        }
    }
    if let Some(max) = schema.get("maximum") {
        let exclusive = schema.get("exclusiveMaximum") == Some(&json!(true));
        let high = max.as_f64().unwrap_or(f64::MAX);
        if n > high || (exclusive && n == high) {
            let relation = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            errors.push(FieldError::invalid(
                path,
                value,
                &format!("{name} in body should be {relation} {}", bound(max)),
            ));
        }
    }
    if let Some(step) = schema
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|s| *s > 0.0)
    {
        if (n / step).fract() != 0.0 {
            errors.push(FieldError::invalid(
                path,
                value,
                &format!(
                    "{name} in body should be a multiple of {}",
                    bound(&json!(step))
                ),
            ));
        }
    }
}

fn validate_string(
    s: &str,
    value: &Value,
    schema: &Value,
    path: &str,
    name: &str,
    errors: &mut Vec<FieldError>,
) {
    let length = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if length < min {
            errors.push(FieldError::invalid(
                path,
                value,
                &format!("{name} in body should be at least {min} chars long"),
            ));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if length > max {
            let unit = if max == 1 { "byte" } else { "bytes" };
            errors.push(FieldError {
                reason: "FieldValueTooLong",
                field: path.to_string(),
                message: format!("Too long: may not be more than {max} {unit}"),
            });
        }
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if !re.is_match(s) => {
                errors.push(FieldError::invalid(
                    path,
                    value,
                    &format!("{name} in body should match '{pattern}'"),
                ));
            }
            _ => {}
        }
    }
}

fn validate_object(
    map: &Map<String, Value>,
    schema: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for field in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(field) {
                errors.push(FieldError::required(child(path, field), ""));
            }
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (key, v) in map {
        if path.is_empty() && matches!(key.as_str(), "metadata" | "apiVersion" | "kind") {
            continue;
        }
        if let Some(s) = properties.and_then(|p| p.get(key)).or(additional) {
            validate(v, s, &child(path, key), errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10},
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
            "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
            "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
            "port": {"x-kubernetes-int-or-string": true},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }}}})
    }

    fn messages(value: Value) -> Vec<String> {
        let mut errors = Vec::new();
        validate(&value, &schema(), "", &mut errors);
        errors.iter().map(FieldError::full_message).collect()
    }

    #[test]
    fn upstream_messages_for_each_rule() {
        assert_eq!(
            messages(json!({"spec": {}})),
            vec!["spec.size: Required value"]
        );
        assert_eq!(
            messages(json!({"spec": {"size": "big"}})),
            vec!["spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\""]
        );
        assert_eq!(
            messages(json!({"spec": {"size": 0}})),
            vec!["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]
        );
        assert_eq!(
            messages(json!({"spec": {"size": 11}})),
            vec!["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"]
        );
        assert_eq!(
            messages(json!({"spec": {"size": 1, "color": "pink"}})),
            vec!["spec.color: Unsupported value: \"pink\": supported values: \"red\", \"blue\""]
        );
        assert_eq!(
            messages(json!({"spec": {"size": 1, "name": "Abc"}})),
            vec!["spec.name: Invalid value: \"Abc\": spec.name in body should match '^[a-z]+$'"]
        );
        assert_eq!(
            messages(json!({"spec": {"size": 1, "name": "abcdefg"}})),
            vec!["spec.name: Too long: may not be more than 5 bytes"]
        );
        assert_eq!(
            messages(json!({"spec": {"size": 1, "tags": ["a", "b", "c"]}})),
            vec!["spec.tags: Too many: 3: must have at most 2 items"]
        );
        assert!(messages(json!({"spec": {"size": 1, "port": "http"}})).is_empty());
        assert_eq!(
            messages(json!({"spec": {"size": 1, "port": true}})).len(),
            1
        );
    }

    #[test]
    fn pruning_and_defaults() {
        let mut obj = json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a", "labels": {"k": "v"}},
            "spec": {"size": 2, "unknown": 1, "extra": {"anything": [1]}}, "junk": true});
        let mut pruned = Vec::new();
        prune(&mut obj, &schema(), true, &mut pruned);
        assert_eq!(pruned, ["junk", "spec.unknown"]);
        apply_defaults(&mut obj, &schema());
        assert_eq!(
            obj,
            json!({"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a", "labels": {"k": "v"}},
                "spec": {"size": 2, "extra": {"anything": [1]}, "color": "red"}})
        );
    }
}
