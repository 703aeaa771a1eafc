//! Go's ways of showing values that kubectl's messages and tables reuse.

use serde_json::Value;

/// The strings of a JSON list (anything else: none).
pub fn json_strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

/// Go's `%v` of a string slice: `[a b]`.
pub fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}
