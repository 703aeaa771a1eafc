//! Reading manifests as kubectl does: a YAML (or JSON) stream split on `---` lines,
//! each document decoded on its own, errors in kubectl's words with line numbers
//! counted from the start of the failing document. Lists (`kind: List`) expand.

use serde_json::Value;

/// The largest manifest kubectl here accepts (upstream's request limit is 3 MiB).
pub const MAX_MANIFEST_BYTES: usize = 3 * 1024 * 1024;

/// Documents decoded before any error, and the error line kubectl would print.
pub struct Manifests {
    pub objects: Vec<Value>,
    pub error: Option<String>,
}

/// Splits a YAML stream into documents (on lines that start with `---`).
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.starts_with("---") && line[3..].trim().is_empty() {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().expect("at least one document");
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs
}

/// go-yaml's wording of a parse error: `yaml: line N: message`.
fn yaml_error(e: &serde_yaml::Error) -> String {
    let message = e.to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    match e.location() {
        Some(loc) => format!("yaml: line {}: {message}", loc.line()),
        None => format!("yaml: {message}"),
    }
}

/// Reads every object from `text`, named `source` in errors (`STDIN` or a file name).
pub fn read(text: &str, source: &str) -> Manifests {
    let mut objects = Vec::new();
    if text.len() > MAX_MANIFEST_BYTES {
        return Manifests {
            objects,
            error: Some(format!("error: error reading {source}: the manifest is larger than {MAX_MANIFEST_BYTES} bytes\n")),
        };
    }
    for doc in documents(text) {
        if doc
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            continue;
        }
        let value: Value = match serde_yaml::from_str::<Value>(&doc) {
            Ok(v) => v,
            Err(e) => {
                return Manifests {
                    objects,
                    error: Some(format!(
                        "error: error parsing {source}: error converting YAML to JSON: {}\n",
                        yaml_error(&e)
                    )),
                }
            }
        };
        if value.is_null() {
            continue;
        }
        let mut missing = Vec::new();
        if value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            missing.push("apiVersion not set");
        }
        if value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            missing.push("kind not set");
        }
        if !missing.is_empty() {
            return Manifests {
                objects,
                error: Some(format!(
                    "error: error validating {source:?}: error validating data: [{}]; if you choose to ignore these errors, turn validation off with --validate=false\n",
                    missing.join(", ")
                )),
            };
        }
        if value["kind"] == "List" {
            objects.extend(value["items"].as_array().cloned().unwrap_or_default());
        } else {
            objects.push(value);
        }
    }
    Manifests {
        objects,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_and_stops_at_the_first_bad_one() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n   bad: indent\n";
        let m = read(text, "STDIN");
        assert_eq!(m.objects.len(), 2);
        assert_eq!(
            m.error.unwrap(),
            "error: error parsing STDIN: error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context\n"
        );
        let m = read("{\"metadata\": {\"name\": \"x\"}}", "STDIN");
        assert!(m
            .error
            .unwrap()
            .contains("[apiVersion not set, kind not set]"));
    }
}
