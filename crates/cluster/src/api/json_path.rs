//! Reading nested JSON without allocating: `value.at("/spec/nodeName")`.
//!
//! serde_json's `Value::pointer` unescapes every token into new strings; the engine's
//! own paths never contain `~` escapes, so this walks them as plain keys. (User-given
//! JSON pointers, as in JSON patches, still go through `Value::pointer`.)

use serde_json::Value;

/// Allocation-free lookups by slash-separated path.
pub trait ValueExt {
    /// The value at `path` (`/a/b/0`), or `None`.
    fn at(&self, path: &str) -> Option<&Value>;
}

impl ValueExt for Value {
    fn at(&self, path: &str) -> Option<&Value> {
        if path.is_empty() {
            return Some(self);
        }
        let mut current = self;
        for token in path.strip_prefix('/')?.split('/') {
            current = match current {
                Value::Object(map) => map.get(token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walks_objects_and_arrays() {
        let v = json!({"spec": {"containers": [{"name": "a"}]}});
        assert_eq!(v.at("/spec/containers/0/name"), Some(&json!("a")));
        assert_eq!(v.at("/spec/missing"), None);
        assert_eq!(v.at(""), Some(&v));
        assert_eq!(v.at("no-slash"), None);
    }
}
