//! `-o json` and `-o yaml`: objects with keys sorted (as kubectl's unstructured
//! printers emit them), JSON indented by four spaces.

use serde::Serialize;
use serde_json::{Map, Value};

/// A copy of `value` with every object's keys in sorted order.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// kubectl's JSON: sorted keys, four-space indent, trailing newline.
pub fn json(value: &Value) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    sorted(value)
        .serialize(&mut ser)
        .expect("JSON values serialise");
    let mut text = String::from_utf8(buf).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// kubectl's YAML (see [`super::yaml`]).
pub fn yaml(value: &Value) -> String {
    super::yaml::to_yaml(value)
}

/// The `List` kubectl prints for several objects.
pub fn list(items: Vec<Value>) -> Value {
    serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_four_space_json_and_yaml() {
        let v = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a"}});
        assert_eq!(json(&v), "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n    \"metadata\": {\n        \"name\": \"a\"\n    }\n}\n");
        assert_eq!(
            yaml(&v),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n"
        );
    }
}
