//! The three-way patch client-side apply sends: what changed between the current
//! object and the new manifest, plus deletions of what the last applied manifest had
//! and the new one dropped. Lists with a merge key (containers by name, ports, ...)
//! are compared item by item, as upstream's strategic merge patches are; other lists
//! are sent whole when they differ.

use kubecraft_cluster::api::patch::{element_context, list_strategy, ListStrategy};
use serde_json::{json, Map, Value};

/// The patch taking `current` toward `modified`, deleting what `original` had and `modified` lacks.
pub fn three_way(original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    object_patch(original, modified, current, "")
}

fn object_patch(
    original: Option<&Value>,
    modified: &Value,
    current: &Value,
    context: &str,
) -> Value {
    let mut patch = Map::new();
    let (Some(m), Some(c)) = (modified.as_object(), current.as_object()) else {
        return modified.clone();
    };
    for (key, new) in m {
        let before = original.and_then(|o| o.get(key));
        match (new, c.get(key)) {
            (Value::Object(_), Some(old @ Value::Object(_))) => {
                let sub = object_patch(before, new, old, "");
                if sub.as_object().is_some_and(|s| !s.is_empty()) {
                    patch.insert(key.clone(), sub);
                }
            }
            (Value::Array(new_items), Some(Value::Array(old_items))) => {
                if let Some(list) = list_patch(key, context, before, new_items, old_items) {
                    patch.insert(key.clone(), list);
                }
            }
            (_, Some(old)) if old == new => {}
            _ => {
                patch.insert(key.clone(), new.clone());
            }
        }
    }
    if let Some(o) = original.and_then(Value::as_object) {
        for key in o.keys() {
            if !m.contains_key(key) && c.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    Value::Object(patch)
}

/// The patch of one list, or `None` when nothing changed.
fn list_patch(
    field: &str,
    context: &str,
    original: Option<&Value>,
    new: &[Value],
    old: &[Value],
) -> Option<Value> {
    let ListStrategy::MergeKey(key) = list_strategy(field, context) else {
        return (new != old).then(|| Value::Array(new.to_vec()));
    };
    let find = |items: &[Value], k: &Value| items.iter().find(|i| i.get(key) == Some(k)).cloned();
    let before: Vec<Value> = original
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let item_context = element_context(field);
    let mut entries = Vec::new();
    for item in new {
        let Some(k) = item.get(key) else {
            return (new != old).then(|| Value::Array(new.to_vec()));
        };
        match find(old, k) {
            None => entries.push(item.clone()),
            Some(current) => {
                let sub = object_patch(find(&before, k).as_ref(), item, &current, item_context);
                if let Some(map) = sub.as_object().filter(|m| !m.is_empty()) {
                    let mut entry = map.clone();
                    entry.insert(key.to_string(), k.clone());
                    entries.push(Value::Object(entry));
                }
            }
        }
    }
    for item in &before {
        if let Some(k) = item.get(key) {
            if find(new, k).is_none() && find(old, k).is_some() {
                entries.push(json!({key: k, "$patch": "delete"}));
            }
        }
    }
    (!entries.is_empty()).then_some(Value::Array(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_additions_and_deletions() {
        let original =
            json!({"metadata": {"labels": {"a": "1", "gone": "x"}}, "spec": {"replicas": 1}});
        let modified =
            json!({"metadata": {"labels": {"a": "2"}}, "spec": {"replicas": 1, "paused": true}});
        let current = json!({"metadata": {"labels": {"a": "1", "gone": "x", "added-by-server": "y"}, "uid": "u"},
            "spec": {"replicas": 1, "revisionHistoryLimit": 10}, "status": {}});
        assert_eq!(
            three_way(Some(&original), &modified, &current),
            json!({"metadata": {"labels": {"a": "2", "gone": null}}, "spec": {"paused": true}})
        );
    }

    #[test]
    fn merge_keyed_lists_ignore_server_defaults_and_delete_dropped_items() {
        let original = json!({"spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}});
        let current = json!({"spec": {"containers": [
            {"name": "web", "image": "nginx:1", "imagePullPolicy": "IfNotPresent"},
            {"name": "side", "image": "busybox", "imagePullPolicy": "Always"}
        ]}});
        let same = json!({"spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}});
        assert_eq!(three_way(Some(&original), &same, &current), json!({}));
        let changed = json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}});
        assert_eq!(
            three_way(Some(&original), &changed, &current),
            json!({"spec": {"containers": [{"image": "nginx:2", "name": "web"}, {"name": "side", "$patch": "delete"}]}})
        );
    }
}
