//! kubectl's JSONPath templates (`-o jsonpath=...`): literal text mixed with `{...}`
//! expressions — fields (`.a.b`), indexes and slices (`[0]`, `[*]`, `[1:3]`),
//! recursive descent (`..name`), filters (`[?(@.type=="Ready")]`), `range ... end`
//! and quoted literals (`{"\n"}`). Several results of one expression print
//! space-separated; strings print raw, other values as compact JSON.

use serde_json::Value;

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Expr(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Recursive(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    /// `[?(@.path)]` or `[?(@.path==literal)]`.
    Filter(Vec<Step>, Option<Value>),
}

/// Parses and evaluates `template` against `data`. With `allow_missing` (kubectl get's
/// default), a missing field yields nothing instead of an error.
pub fn render(template: &str, data: &Value, allow_missing: bool) -> Result<String, String> {
    let nodes = parse(template)?;
    let mut out = String::new();
    eval_nodes(&nodes, data, allow_missing, &mut out)?;
    Ok(out)
}

/// The values one path expression (`.spec.containers[*].image`) selects.
pub fn select(path: &str, data: &Value) -> Result<Vec<Value>, String> {
    let inner = path.trim().trim_start_matches('{').trim_end_matches('}');
    apply(&parse_path(inner)?, data, true)
}

fn parse(template: &str) -> Result<Vec<Node>, String> {
    let mut pieces: Vec<(bool, String)> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            pieces.push((false, rest[..start].to_string()));
        }
        let end = find_close(&rest[start..])
            .ok_or_else(|| format!("unclosed action in template {template:?}"))?;
        pieces.push((true, rest[start + 1..start + end].trim().to_string()));
        rest = &rest[start + end + 1..];
    }
    if !rest.is_empty() {
        pieces.push((false, rest.to_string()));
    }
    let mut iter = pieces.into_iter();
    let nodes = parse_block(&mut iter, false)?;
    Ok(nodes)
}

/// The index of the `}` closing the `{` at the start, skipping quoted strings.
fn find_close(text: &str) -> Option<usize> {
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_block(
    iter: &mut impl Iterator<Item = (bool, String)>,
    in_range: bool,
) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    while let Some((is_expr, text)) = iter.next() {
        if !is_expr {
            nodes.push(Node::Text(text));
            continue;
        }
        if text == "end" {
            if in_range {
                return Ok(nodes);
            }
            return Err("not in range, nothing to end".into());
        }
        if let Some(path) = text.strip_prefix("range ") {
            let steps = parse_path(path.trim())?;
            let body = parse_block(iter, true)?;
            nodes.push(Node::Range(steps, body));
            continue;
        }
        if let Some(literal) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            nodes.push(Node::Text(unescape(literal)));
            continue;
        }
        nodes.push(Node::Expr(parse_path(&text)?));
    }
    if in_range {
        return Err("unclosed range".into());
    }
    Ok(nodes)
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\"", "\"")
        .replace("\\\\", "\\")
}

fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    if chars.first() == Some(&'@') || chars.first() == Some(&'$') {
        i = 1;
    }
    while i < chars.len() {
        match chars[i] {
            '.' if chars.get(i + 1) == Some(&'.') => {
                let (name, next) = read_name(&chars, i + 2);
                steps.push(Step::Recursive(name));
                i = next;
            }
            '.' => {
                let (name, next) = read_name(&chars, i + 1);
                if name == "*" {
                    steps.push(Step::Wildcard);
                } else if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
                i = next;
            }
            '[' => {
                let close = find_bracket(&chars, i)
                    .ok_or_else(|| format!("unterminated array in {path:?}"))?;
                let inner: String = chars[i + 1..close].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = close + 1;
            }
            c if c.is_whitespace() => i += 1,
            _ => {
                let (name, next) = read_name(&chars, i);
                if name.is_empty() {
                    return Err(format!("unrecognized character in action: {:?}", chars[i]));
                }
                steps.push(Step::Field(name));
                i = next;
            }
        }
    }
    Ok(steps)
}

/// A field name up to the next `.`, `[` or space; `\.` is a literal dot (as in
/// `{.metadata.annotations.example\.com/key}`).
fn read_name(chars: &[char], start: usize) -> (String, usize) {
    let mut name = String::new();
    let mut end = start;
    while end < chars.len() && !matches!(chars[end], '.' | '[' | ' ') {
        if chars[end] == '\\' && chars.get(end + 1) == Some(&'.') {
            end += 1;
        }
        name.push(chars[end]);
        end += 1;
    }
    (name, end)
}

fn find_bracket(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut in_quote = false;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '"' | '\'' => in_quote = !in_quote,
            '[' if !in_quote => depth += 1,
            ']' if !in_quote => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(filter) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        let (path, comparison) = match filter.split_once("==") {
            Some((p, v)) => {
                let v = v.trim();
                let literal = v
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                    .map(|s| Value::String(s.to_string()))
                    .unwrap_or_else(|| {
                        serde_json::from_str(v).unwrap_or(Value::String(v.to_string()))
                    });
                (p.trim(), Some(literal))
            }
            None => (filter.trim(), None),
        };
        return Ok(Step::Filter(parse_path(path)?, comparison));
    }
    if let Some((a, b)) = inner.split_once(':') {
        let num = |s: &str| s.trim().parse::<i64>().ok();
        return Ok(Step::Slice(num(a), num(b)));
    }
    if let Ok(n) = inner.parse::<i64>() {
        return Ok(Step::Index(n));
    }
    let name = inner.trim_matches(|c| c == '\'' || c == '"');
    Ok(Step::Field(name.to_string()))
}

fn apply(steps: &[Step], data: &Value, allow_missing: bool) -> Result<Vec<Value>, String> {
    let mut current = vec![data.clone()];
    for step in steps {
        let mut next = Vec::new();
        for value in &current {
            match step {
                Step::Field(name) => {
                    if let Some(v) = value.get(name) {
                        next.push(v.clone());
                    } else if value.is_object() && !allow_missing {
                        return Err(format!("{name} is not found"));
                    }
                }
                Step::Recursive(name) => collect_recursive(value, name, &mut next),
                Step::Wildcard => match value {
                    Value::Array(items) => next.extend(items.iter().cloned()),
                    Value::Object(map) => next.extend(map.values().cloned()),
                    _ => {}
                },
                Step::Index(i) => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| "array index on a non-array".to_string())?;
                    let at = if *i < 0 { items.len() as i64 + i } else { *i };
                    let item = items.get(at as usize).filter(|_| at >= 0).ok_or_else(|| {
                        format!(
                            "array index out of bounds: index {i}, length {}",
                            items.len()
                        )
                    })?;
                    next.push(item.clone());
                }
                Step::Slice(a, b) => {
                    if let Some(items) = value.as_array() {
                        let len = items.len() as i64;
                        let clamp = |x: i64| x.clamp(0, len) as usize;
                        let start = clamp(a.map(|a| if a < 0 { len + a } else { a }).unwrap_or(0));
                        let end = clamp(b.map(|b| if b < 0 { len + b } else { b }).unwrap_or(len));
                        if start < end {
                            next.extend(items[start..end].iter().cloned());
                        }
                    }
                }
                Step::Filter(path, comparison) => {
                    let items: Vec<Value> = match value {
                        Value::Array(items) => items.clone(),
                        other => vec![other.clone()],
                    };
                    for item in items {
                        let found = apply(path, &item, true).unwrap_or_default();
                        let keep = match comparison {
                            Some(expected) => found.iter().any(|f| f == expected),
                            None => !found.is_empty(),
                        };
                        if keep {
                            next.push(item);
                        }
                    }
                }
            }
        }
        current = next;
    }
    Ok(current)
}

fn collect_recursive(value: &Value, name: &str, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if let Some(v) = map.get(name) {
                out.push(v.clone());
            }
            for v in map.values() {
                collect_recursive(v, name, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_recursive(v, name, out)),
        _ => {}
    }
}

/// How kubectl's jsonpath printer shows one value.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Evaluates nodes against `current` (the object, or the item inside a `range`).
fn eval_nodes(
    nodes: &[Node],
    current: &Value,
    allow_missing: bool,
    out: &mut String,
) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Expr(steps) => {
                let values = apply(steps, current, allow_missing)?;
                let texts: Vec<String> = values.iter().map(text_of).collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(steps, body) => {
                for item in apply(steps, current, allow_missing)? {
                    eval_nodes(body, &item, allow_missing, out)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> Value {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}, "spec": {"containers": [{"image": "nginx", "ports": [{"containerPort": 80}]}]}},
            {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}, "spec": {"containers": [{"image": "redis"}]}}
        ]})
    }

    #[test]
    fn escaped_dots_stay_in_the_field_name() {
        let obj = serde_json::json!({"metadata": {"annotations": {"example.com/key": "v"}}});
        assert_eq!(
            render("{.metadata.annotations.example\\.com/key}", &obj, false).unwrap(),
            "v"
        );
    }

    #[test]
    fn fields_wildcards_ranges_and_filters() {
        let l = list();
        assert_eq!(
            render("{.items[*].metadata.name}", &l, false).unwrap(),
            "a b"
        );
        assert_eq!(render("{.items[0].metadata.name}", &l, false).unwrap(), "a");
        assert_eq!(
            render("{.items[-1].metadata.name}", &l, false).unwrap(),
            "b"
        );
        assert_eq!(render("{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.containers[0].image}{\"\\n\"}{end}", &l, false).unwrap(), "a\tnginx\nb\tredis\n");
        assert_eq!(
            render(
                "{.items[?(@.status.conditions[0].status==\"True\")].metadata.name}",
                &l,
                false
            )
            .unwrap(),
            "a"
        );
        assert_eq!(render("{..image}", &l, false).unwrap(), "nginx redis");
        assert_eq!(
            render("{.items[0].spec.containers[0].ports}", &l, false).unwrap(),
            "[{\"containerPort\":80}]"
        );
        assert_eq!(render("name: {.kind}", &l, false).unwrap(), "name: List");
        assert!(render("{.items[0].nope}", &l, false).is_err());
        assert_eq!(render("{.items[0].nope}", &l, true).unwrap(), "");
        assert!(render("{.items[5]}", &l, true).is_err());
    }
}
