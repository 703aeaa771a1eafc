//! Comparing JSON objects while ignoring some of their keys, without copying them.

use serde_json::{Map, Value};

/// Whether `a` and `b` are equal ignoring the top-level keys in `skip`.
pub fn equal_ignoring(a: &Value, b: &Value, skip: &[&str]) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let relevant =
                |m: &Map<String, Value>| m.keys().filter(|k| !skip.contains(&k.as_str())).count();
            relevant(a) == relevant(b)
                && a.iter()
                    .filter(|(k, _)| !skip.contains(&k.as_str()))
                    .all(|(k, v)| b.get(k) == Some(v))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignores_only_the_named_keys() {
        let a = json!({"spec": 1, "status": 2});
        assert!(equal_ignoring(
            &a,
            &json!({"spec": 1, "status": 3}),
            &["status"]
        ));
        assert!(!equal_ignoring(
            &a,
            &json!({"spec": 2, "status": 2}),
            &["status"]
        ));
        assert!(!equal_ignoring(
            &a,
            &json!({"spec": 1, "extra": 0}),
            &["status"]
        ));
    }
}
