//! `kubectl explain RESOURCE[.FIELD...]`: the documentation of a resource and its
//! fields, read from the server's OpenAPI v3 document and laid out as upstream's
//! plaintext template does (`--recursive` prints the field tree instead).

use kubecraft_cluster::api::Request;
use serde_json::Value;

use crate::discovery::{discover, resolve_known};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::transport::Transport;

const FLAGS: &[Flag] = &[
    boolean("recursive", None),
    value("api-version", None),
    value("output", Some('o')),
];

const NO_TYPE: &str = "error: You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete list of supported resources.\n";

/// Runs `kubectl explain`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    match explain(transport, args) {
        Ok(text) => out.out(text),
        Err(Explained::Nothing(error)) => out.fail(error),
        Err(Explained::Partly(printed, error)) => {
            out.out(printed);
            out.fail(error);
        }
    }
    out
}

fn explain(transport: &mut dyn Transport, args: &[String]) -> Result<String, Explained> {
    let parsed = flags::parse(args, FLAGS, "explain")?;
    let format = parsed.get("output").unwrap_or("plaintext");
    if format != "plaintext" {
        return Err(format!("error: unrecognized format: {format}\n").into());
    }
    let typed = match parsed.positional.as_slice() {
        [] => return Err(NO_TYPE.to_string().into()),
        [one] => one.as_str(),
        _ => {
            return Err("error: We accept only this format: explain RESOURCE\n"
                .to_string()
                .into())
        }
    };
    let resources = discover(transport);
    let mut parts = typed.split('.');
    let first = parts.next().unwrap_or("");
    // Upstream's explain reports an unknown type without the usual `error: ` prefix.
    let resource = resolve_known(&resources, first)
        .map_err(|e| e.trim_start_matches("error: ").to_string())?;
    let mut fields: Vec<&str> = parts.collect();
    // `deployments.apps.spec`: a group right after the resource is not a field.
    let group_prefix = format!("{}.{}", resource.plural, resource.group);
    if !resource.group.is_empty() && typed.starts_with(&group_prefix) {
        fields.drain(..resource.group.split('.').count());
    }
    let (group, version) = match parsed.get("api-version") {
        Some(gv) => match gv.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), gv.to_string()),
        },
        None => (resource.group.clone(), resource.version.clone()),
    };
    let gvr = Gvr {
        group: &group,
        version: &version,
        resource: &resource.plural,
    };
    let document = openapi_document(transport, &gvr)?;
    let Some(gvk) = gvk_of(&document, &gvr) else {
        return Err(format!(
            "error: GVR ({}) not found in OpenAPI schema\n",
            gvr.describe()
        )
        .into());
    };
    let mut text = String::new();
    let kind_group = gvk["group"].as_str().unwrap_or("");
    if !kind_group.is_empty() {
        text.push_str(&format!("GROUP:      {kind_group}\n"));
    }
    text.push_str(&format!(
        "KIND:       {}\nVERSION:    {}\n\n",
        gvk["kind"].as_str().unwrap_or(""),
        gvk["version"].as_str().unwrap_or("")
    ));
    let schema = kind_schema(&document, gvk)
        .ok_or_else(|| format!("error: GVK {gvk} not found in OpenAPI schema\n"))?;
    let renderer = Renderer {
        document: &document,
        recursive: parsed.is_set("recursive"),
    };
    let body = renderer.output(schema, &fields, &mut Vec::new());
    if body.is_empty() {
        let last = fields.last().copied().unwrap_or("");
        return Err(Explained::Partly(
            text,
            format!("error: field {last:?} does not exist\n"),
        ));
    }
    text.push_str(&body);
    text.push('\n');
    Ok(text)
}

/// How explaining fails: with nothing printed, or after the header was printed.
enum Explained {
    Nothing(String),
    Partly(String, String),
}

impl From<String> for Explained {
    fn from(error: String) -> Self {
        Explained::Nothing(error)
    }
}

/// The group, version and resource being explained.
struct Gvr<'a> {
    group: &'a str,
    version: &'a str,
    resource: &'a str,
}

impl Gvr<'_> {
    /// Upstream's `GroupVersionResource.String()`.
    fn describe(&self) -> String {
        format!(
            "{}/{}, Resource={}",
            self.group, self.version, self.resource
        )
    }
}

/// The server's OpenAPI v3 document of a group version.
fn openapi_document(transport: &mut dyn Transport, gvr: &Gvr) -> Result<Value, String> {
    let index = transport.send(Request::get("/openapi/v3"));
    if !index.is_success() {
        return Err(server_error(&index));
    }
    let path = if gvr.group.is_empty() {
        format!("api/{}", gvr.version)
    } else {
        format!("apis/{}/{}", gvr.group, gvr.version)
    };
    let url = index.body_json()["paths"][&path]["serverRelativeURL"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("error: couldn't find resource for {:?}\n", gvr.describe()))?;
    let response = transport.send(Request::get(url));
    if !response.is_success() {
        return Err(server_error(&response));
    }
    Ok(response.body_json())
}

/// The group/version/kind the document's paths give the resource (upstream's
/// template looks at the collection and item paths, cluster-scoped and namespaced).
fn gvk_of<'a>(document: &'a Value, gvr: &Gvr) -> Option<&'a Value> {
    let prefix = if gvr.group.is_empty() {
        "/api".to_string()
    } else {
        format!("/apis/{}", gvr.group)
    };
    let base = format!("{prefix}/{}", gvr.version);
    let candidates = [
        format!("{base}/{}", gvr.resource),
        format!("{base}/{}/{{name}}", gvr.resource),
        format!("{base}/namespaces/{{namespace}}/{}", gvr.resource),
        format!("{base}/namespaces/{{namespace}}/{}/{{name}}", gvr.resource),
    ];
    candidates.iter().find_map(|path| {
        let element = document["paths"].get(path)?;
        ["get", "post", "put", "patch", "delete"]
            .iter()
            .find_map(|method| element.get(*method)?.get("x-kubernetes-group-version-kind"))
    })
}

/// The component schema that names `gvk` among its `x-kubernetes-group-version-kind`.
fn kind_schema<'a>(document: &'a Value, gvk: &Value) -> Option<&'a Value> {
    document["components"]["schemas"]
        .as_object()?
        .values()
        .find(|schema| {
            schema["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(gvk))
        })
}

/// Wraps text at `limit` columns as the word-wrap writer upstream uses does: words
/// move to the next line whole; a word longer than the limit keeps a line of its own.
fn wrap(text: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut current = 0;
    let (mut word, mut space) = (String::new(), String::new());
    let (mut word_len, mut space_len) = (0, 0);
    for c in text.chars() {
        if c == '\n' {
            out.push_str(&space);
            out.push_str(&word);
            out.push('\n');
            (word, space) = (String::new(), String::new());
            (word_len, space_len, current) = (0, 0, 0);
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                out.push_str(&space);
                out.push_str(&word);
                (word, space) = (String::new(), String::new());
                (word_len, space_len) = (0, 0);
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + space_len + word_len > limit && word_len < limit {
                out.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= limit {
            out.push_str(&space);
        }
    } else {
        out.push_str(&space);
        out.push_str(&word);
    }
    out
}

/// Upstream's `indent`: pads the first line and every line after a newline.
fn indent(amount: usize, text: &str) -> String {
    let pad = " ".repeat(amount);
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

/// Renders schemas of one OpenAPI document as upstream's plaintext template.
struct Renderer<'a> {
    document: &'a Value,
    recursive: bool,
}

impl<'a> Renderer<'a> {
    /// The schema a `$ref` names.
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let name = reference.strip_prefix("#/components/schemas/")?;
        self.document["components"]["schemas"].get(name)
    }

    /// The schema itself, or what its `$ref` names.
    fn resolved(&self, schema: &'a Value) -> &'a Value {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
            .unwrap_or(schema)
    }

    /// Follows `path` down the schema, then prints the description and the fields.
    fn output(&self, schema: &'a Value, path: &[&str], history: &mut Vec<String>) -> String {
        let reference = schema.get("$ref").and_then(Value::as_str).unwrap_or("");
        let resolved = self.resolved(schema);
        if path.is_empty() {
            let description = self.description(schema);
            let description = if description.is_empty() {
                "<empty>".to_string()
            } else {
                description
            };
            let mut text = format!("DESCRIPTION:\n{}\n", indent(4, &wrap(&description, 76)));
            let fields = self.field_list(resolved, 1, &mut Vec::new());
            if !fields.is_empty() {
                text.push_str("FIELDS:\n");
                text.push_str(&fields);
            }
            return text;
        }
        if !reference.is_empty() && history.iter().any(|h| h == reference) {
            return String::new();
        }
        history.push(reference.to_string());
        if let Some(field) = resolved["properties"].get(path[0]) {
            let mut text = String::new();
            if path.len() == 1 {
                text.push_str(&format!(
                    "FIELD: {} <{}>\n",
                    path[0],
                    self.type_guess(field)
                ));
                text.push_str(&enum_long(field));
                text.push_str("\n\n");
            }
            text.push_str(&self.output(field, &path[1..], &mut Vec::new()));
            return text;
        }
        if let Some(items) = resolved.get("items") {
            return self.output(items, path, history);
        }
        if let Some(values) = resolved
            .get("additionalProperties")
            .filter(|v| v.is_object())
        {
            return self.output(values, path, history);
        }
        for alternative in resolved["allOf"].as_array().into_iter().flatten() {
            let text = self.output(alternative, path, history);
            if !text.is_empty() {
                return text;
            }
        }
        String::new()
    }

    /// A schema's description, then those of what it wraps (allOf, items, map values).
    fn description(&self, schema: &'a Value) -> String {
        let resolved = self.resolved(schema);
        let mut text = String::new();
        if let Some(d) = resolved
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
        {
            text.push_str(d);
            text.push('\n');
        }
        for alternative in resolved["allOf"].as_array().into_iter().flatten() {
            text.push_str(&self.description(alternative));
        }
        if let Some(items) = resolved.get("items") {
            text.push_str(&self.description(items));
        }
        if let Some(values) = resolved
            .get("additionalProperties")
            .filter(|v| v.is_object())
        {
            text.push_str(&self.description(values));
        }
        text
    }

    /// The fields of a schema (sorted by name), each with its type and description, or
    /// with `--recursive` the tree of field names and types.
    fn field_list(&self, schema: &'a Value, level: usize, history: &mut Vec<String>) -> String {
        let reference = schema.get("$ref").and_then(Value::as_str).unwrap_or("");
        if !reference.is_empty() && history.iter().any(|h| h == reference) {
            return String::new();
        }
        history.push(reference.to_string());
        let resolved = self.resolved(schema);
        let mut text = String::new();
        if let Some(properties) = resolved["properties"].as_object() {
            for (name, field) in properties {
                text.push_str(&self.field_detail(resolved, name, level));
                if self.recursive {
                    text.push_str(&self.field_list(field, level + 1, &mut history.clone()));
                }
            }
        }
        for alternative in resolved["allOf"].as_array().into_iter().flatten() {
            text.push_str(&self.field_list(alternative, level, &mut history.clone()));
        }
        if let Some(items) = resolved.get("items") {
            text.push_str(&self.field_list(items, level, &mut history.clone()));
        }
        if let Some(values) = resolved
            .get("additionalProperties")
            .filter(|v| v.is_object())
        {
            text.push_str(&self.field_list(values, level, &mut history.clone()));
        }
        text
    }

    /// One field: `name <type> -required-`, its enum, and (unless recursive) its description.
    fn field_detail(&self, parent: &Value, name: &str, level: usize) -> String {
        let field = &parent["properties"][name];
        let pad = level * 2;
        let mut text = format!("{}\t<{}>", indent(pad, name), self.type_guess(field));
        let required = parent["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|n| n == name));
        if required {
            text.push_str(" -required-");
        }
        text.push_str(&enum_short(field, pad));
        text.push('\n');
        if !self.recursive {
            let description = field
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .unwrap_or("<no description>");
            text.push_str(&indent(pad + 2, &wrap(description, 78 - pad)));
            text.push_str("\n\n");
        }
        text
    }

    /// A short type name: `string`, `Object`, `[]Container`, `map[string]string`.
    fn type_guess(&self, schema: &Value) -> String {
        if let Some(items) = schema.get("items") {
            return format!("[]{}", self.type_guess(items));
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            return format!("map[string]{}", self.type_guess(values));
        }
        let all_of = schema["allOf"].as_array().map_or(&[][..], Vec::as_slice);
        if all_of.len() == 1 && schema.get("properties").is_none() {
            return self.type_guess(&all_of[0]);
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(reference);
            let kind = target.and_then(|t| t.get("type")).and_then(Value::as_str);
            return match kind {
                None | Some("object") => {
                    let name = reference.rsplit('/').next().unwrap_or("");
                    match name.rsplit('.').next() {
                        Some(last) if !last.is_empty() => last.to_string(),
                        _ => "Object".to_string(),
                    }
                }
                Some(other) => other.to_string(),
            };
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") | None => "Object".to_string(),
            Some(other) => other.to_string(),
        }
    }
}

/// An enum value as upstream prints it (`""` for the empty string).
fn enum_value(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ENUM:` then one value per line, for the field being explained.
fn enum_long(schema: &Value) -> String {
    let Some(values) = schema["enum"].as_array() else {
        return String::new();
    };
    let mut text = "ENUM:".to_string();
    for v in values {
        text.push_str("\n    ");
        text.push_str(&enum_value(v));
    }
    text
}

/// `enum: a, b, c, d, ....` under a field in a field list (at most four values).
fn enum_short(schema: &Value, pad: usize) -> String {
    let Some(values) = schema["enum"].as_array() else {
        return String::new();
    };
    let mut text = format!("\n{}enum: ", " ".repeat(pad));
    for (i, v) in values.iter().enumerate() {
        if i >= 4 {
            text.push_str(", ....");
            break;
        }
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&enum_value(v));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_like_upstreams_word_wrapper() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(wrap("one\ntwo three", 5), "one\ntwo\nthree");
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            "averyveryverylongword\nx"
        );
        assert_eq!(indent(2, "a\nb"), "  a\n  b");
    }
}
