//! The three patch kinds: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! strategic merge patch (merge keys and `$patch` directives of built-in kinds).

use serde_json::{Map, Value};

/// A patch kind, chosen by the request's `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
}

impl PatchType {
    /// The patch kind a content type names.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            _ => None,
        }
    }
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target_map = target.as_object_mut().expect("object");
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Why a JSON patch could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPatchError(pub String);

fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(pointer: &str) -> Result<Vec<String>, JsonPatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    if !pointer.starts_with('/') {
        return Err(JsonPatchError(format!("invalid path: {pointer}")));
    }
    Ok(pointer[1..].split('/').map(unescape_token).collect())
}

fn parent_and_key<'a>(
    doc: &'a mut Value,
    path: &str,
) -> Result<(&'a mut Value, String), JsonPatchError> {
    let mut tokens = split_pointer(path)?;
    let last = tokens
        .pop()
        .ok_or_else(|| JsonPatchError("cannot operate on the document root".into()))?;
    let mut current = doc;
    for token in tokens {
        current = match current {
            Value::Object(map) => map.get_mut(&token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| JsonPatchError(format!("doc is missing path: {path}: missing value")))?;
    }
    Ok((current, last))
}

fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let pointer: String = path.to_string();
    doc.pointer(&pointer)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), JsonPatchError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(map) => {
            map.insert(key, value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let index: usize = key
                .parse()
                .map_err(|_| JsonPatchError(format!("invalid index in path: {path}")))?;
            if index > items.len() {
                return Err(JsonPatchError(format!(
                    "unable to insert: index out of range: {index}"
                )));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(JsonPatchError(format!("doc is missing path: {path}"))),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, JsonPatchError> {
    let (parent, key) = parent_and_key(doc, path)?;
    let missing = || {
        JsonPatchError(format!(
            "unable to remove nonexistent key: {key}: missing value"
        ))
    };
    match parent {
        Value::Object(map) => map.remove(&key).ok_or_else(missing),
        Value::Array(items) => {
            let index: usize = key.parse().map_err(|_| missing())?;
            if index >= items.len() {
                return Err(missing());
            }
            Ok(items.remove(index))
        }
        _ => Err(missing()),
    }
}

/// RFC 6902: applies each operation in order; the document is untouched on error.
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, JsonPatchError> {
    let ops = patch.as_array().ok_or_else(|| {
        JsonPatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into())
    })?;
    let mut out = doc.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| JsonPatchError(format!("operation missing path: {op}")))?;
        match name {
            "add" => add(
                &mut out,
                path,
                op.get("value").cloned().unwrap_or(Value::Null),
            )?,
            "remove" => {
                remove(&mut out, path)?;
            }
            "replace" => {
                if get_path(&out, path).is_none() {
                    return Err(JsonPatchError(format!(
                        "replace operation does not apply: doc is missing key: {path}: missing value"
                    )));
                }
                remove(&mut out, path)?;
                add(
                    &mut out,
                    path,
                    op.get("value").cloned().unwrap_or(Value::Null),
                )?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| JsonPatchError(format!("operation missing from: {op}")))?;
                let value = if name == "move" {
                    remove(&mut out, from)?
                } else {
                    get_path(&out, from).cloned().ok_or_else(|| {
                        JsonPatchError(format!("doc is missing from path: {from}"))
                    })?
                };
                add(&mut out, path, value)?;
            }
            "test" => {
                let expected = op.get("value").unwrap_or(&Value::Null);
                if get_path(&out, path) != Some(expected) {
                    return Err(JsonPatchError(format!(
                        "testing value {path} failed: test failed"
                    )));
                }
            }
            other => return Err(JsonPatchError(format!("Unexpected kind: {other}"))),
        }
    }
    Ok(out)
}

/// How a list field merges in a strategic merge patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListStrategy {
    /// Elements are matched by this key and merged.
    MergeKey(&'static str),
    /// A list of primitives merged as a set.
    PrimitiveSet,
    /// The patch's list replaces the whole list.
    Replace,
}

/// Upstream's `patchMergeKey` / `patchStrategy` tags for built-in kinds' list fields.
/// `parent` is `"container"` for lists inside a container, else empty.
pub fn list_strategy(field: &str, parent: &str) -> ListStrategy {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => ListStrategy::MergeKey("name"),
        "ports" if parent == "container" => ListStrategy::MergeKey("containerPort"),
        "ports" => ListStrategy::MergeKey("port"),
        "volumeMounts" => ListStrategy::MergeKey("mountPath"),
        "volumeDevices" => ListStrategy::MergeKey("devicePath"),
        "conditions" | "addresses" => ListStrategy::MergeKey("type"),
        "ownerReferences" => ListStrategy::MergeKey("uid"),
        "hostAliases" => ListStrategy::MergeKey("ip"),
        "topologySpreadConstraints" => ListStrategy::MergeKey("topologyKey"),
        "readinessGates" => ListStrategy::MergeKey("conditionType"),
        "finalizers" => ListStrategy::PrimitiveSet,
        _ => ListStrategy::Replace,
    }
}

/// The parent context a list's elements live in, for fields whose merge key depends on it.
pub fn element_context(field: &str) -> &'static str {
    match field {
        "containers" | "initContainers" | "ephemeralContainers" => "container",
        _ => "",
    }
}

/// Strategic merge patch for built-in kinds.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    strategic_merge_object(target, patch, "");
}

fn strategic_merge_object(target: &mut Value, patch: &Value, context: &str) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = patch_map.clone();
        replacement.remove("$patch");
        *target = Value::Object(replacement);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let retain: Option<Vec<String>> =
        patch_map
            .get("$retainKeys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            });
    let target_map = target.as_object_mut().expect("object");
    if let Some(keys) = &retain {
        target_map.retain(|k, _| keys.contains(k));
    }
    for (key, value) in patch_map {
        if key.starts_with("$setElementOrder/") || key == "$retainKeys" || key == "$patch" {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(remove)) =
                (target_map.get_mut(field), value.as_array())
            {
                items.retain(|item| !remove.contains(item));
            }
            continue;
        }
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        if value.get("$patch").and_then(Value::as_str) == Some("delete") {
            target_map.remove(key);
            continue;
        }
        match value {
            Value::Array(patch_items) => {
                let existing = target_map
                    .entry(key.clone())
                    .or_insert(Value::Array(Vec::new()));
                merge_list(existing, patch_items, key, context);
            }
            Value::Object(_) => {
                let slot = target_map.entry(key.clone()).or_insert(Value::Null);
                strategic_merge_object(slot, value, "");
            }
            _ => {
                target_map.insert(key.clone(), value.clone());
            }
        }
    }
}

fn merge_list(existing: &mut Value, patch_items: &[Value], field: &str, parent: &str) {
    let strategy = list_strategy(field, parent);
    let Value::Array(items) = existing else {
        *existing = Value::Array(patch_items.to_vec());
        return;
    };
    match strategy {
        ListStrategy::Replace => *items = patch_items.to_vec(),
        ListStrategy::PrimitiveSet => {
            for item in patch_items {
                if !items.contains(item) {
                    items.push(item.clone());
                }
            }
        }
        ListStrategy::MergeKey(merge_key) => {
            if patch_items
                .iter()
                .any(|p| p.get("$patch").and_then(Value::as_str) == Some("replace"))
            {
                *items = patch_items
                    .iter()
                    .filter(|p| p.get("$patch").is_none())
                    .cloned()
                    .collect();
                return;
            }
            let context = element_context(field);
            for patch_item in patch_items {
                let Some(key_value) = patch_item.get(merge_key) else {
                    items.push(patch_item.clone());
                    continue;
                };
                let position = items
                    .iter()
                    .position(|i| i.get(merge_key) == Some(key_value));
                let delete = patch_item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, delete) {
                    (Some(i), true) => {
                        items.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => strategic_merge_object(&mut items[i], patch_item, context),
                    (None, false) => items.push(patch_item.clone()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_removes_nulls_and_replaces_lists() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        merge_patch(&mut doc, &json!({"b": {"c": null, "e": 4}, "l": [3]}));
        assert_eq!(doc, json!({"a": 1, "b": {"d": 3, "e": 4}, "l": [3]}));
    }

    #[test]
    fn json_patch_applies_in_order_and_fails_whole() {
        let doc = json!({"spec": {"replicas": 1, "list": [1, 2]}});
        let out = json_patch(
            &doc,
            &json!([
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/spec/list/-", "value": 9},
                {"op": "remove", "path": "/spec/list/0"},
                {"op": "test", "path": "/spec/replicas", "value": 3}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"spec": {"replicas": 3, "list": [2, 9]}}));
        let err = json_patch(
            &doc,
            &json!([{"op": "test", "path": "/spec/replicas", "value": 2}]),
        );
        assert!(err.is_err());
    }

    #[test]
    fn strategic_merge_merges_containers_by_name() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "a", "image": "nginx:1", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "redis"}
        ], "tolerations": [{"key": "x"}]}});
        strategic_merge_patch(
            &mut pod,
            &json!({"spec": {"containers": [
                {"name": "a", "image": "nginx:2", "ports": [{"containerPort": 443}]},
                {"name": "b", "$patch": "delete"},
                {"name": "c", "image": "busybox"}
            ], "tolerations": [{"key": "y"}]}}),
        );
        assert_eq!(
            pod,
            json!({"spec": {"containers": [
                {"name": "a", "image": "nginx:2", "ports": [{"containerPort": 80}, {"containerPort": 443}]},
                {"name": "c", "image": "busybox"}
            ], "tolerations": [{"key": "y"}]}})
        );
    }

    #[test]
    fn strategic_merge_finalizers_are_a_set() {
        let mut obj = json!({"metadata": {"finalizers": ["a"]}});
        strategic_merge_patch(&mut obj, &json!({"metadata": {"finalizers": ["a", "b"]}}));
        assert_eq!(obj, json!({"metadata": {"finalizers": ["a", "b"]}}));
        strategic_merge_patch(
            &mut obj,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(obj, json!({"metadata": {"finalizers": ["b"]}}));
    }
}
