//! YAML as kubectl prints it (JSON → go-yaml v2 via sigs.k8s.io/yaml): sorted keys,
//! two-space indentation, sequences in mappings not indented, and go-yaml's scalar
//! styles — plain when safe, double quotes for strings that would read as another
//! type (`"3"`, `"true"`, timestamps), single quotes for strings that start with an
//! indicator (`'*/5 * * * *'`), literal blocks for multi-line text.

use serde_json::Value;

/// Whether YAML 1.1 (as go-yaml v2 resolves it) would read `s` as something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    const NULLS: &[&str] = &["", "~", "null", "Null", "NULL"];
    const BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    const SPECIAL_FLOATS: &[&str] = &[
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN",
    ];
    if NULLS.contains(&s) || BOOLS.contains(&s) || SPECIAL_FLOATS.contains(&s) {
        return true;
    }
    is_number(s) || is_timestamp(s) || is_base60(s)
}

fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let digits =
        |t: &str, ok: fn(char) -> bool| !t.is_empty() && t.chars().all(|c| ok(c) || c == '_');
    if let Some(hex) = body.strip_prefix("0x") {
        return digits(hex, |c| c.is_ascii_hexdigit());
    }
    if let Some(bin) = body.strip_prefix("0b") {
        return digits(bin, |c| c == '0' || c == '1');
    }
    // Decimal integers and floats: digits, one optional dot, optional exponent.
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    let whole_ok = whole.is_empty() || digits(whole, |c| c.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| f.is_empty() || digits(f, |c| c.is_ascii_digit()));
    let has_digits = !whole.is_empty() || frac.is_some_and(|f| !f.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    whole_ok
        && frac_ok
        && has_digits
        && exponent_ok
        && (exponent.is_none() || frac.is_some() || !whole.is_empty())
}

/// `2006-1-2`, optionally followed by a time (`T`, `t` or space).
fn is_timestamp(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() < 8 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let date_end = rest.find(['T', 't', ' ']).unwrap_or(rest.len());
    let mut fields = rest[..date_end].split('-');
    let (Some(month), Some(day), None) = (fields.next(), fields.next(), fields.next()) else {
        return false;
    };
    let small = |f: &str| (1..=2).contains(&f.len()) && f.chars().all(|c| c.is_ascii_digit());
    small(month) && small(day)
}

/// go-yaml v2 also quotes base-60 floats such as `1:20`.
fn is_base60(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    body.contains(':')
        && body.split(':').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        })
        && body.as_bytes()[0].is_ascii_digit()
}

/// Whether libyaml may emit `s` as a plain scalar in block context.
fn plain_allowed(s: &str) -> bool {
    if s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with("---")
        || s.starts_with("...")
    {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let followed_by_space = |i: usize| chars.get(i + 1).is_none_or(|c| *c == ' ' || *c == '\t');
    for (i, &c) in chars.iter().enumerate() {
        if c.is_control() || c == '\t' {
            return false;
        }
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                return false;
            }
            if (c == '?' || c == ':' || c == '-') && followed_by_space(i) {
                return false;
            }
        } else {
            if c == ':' && followed_by_space(i) {
                return false;
            }
            if c == '#' && chars[i - 1] == ' ' {
                return false;
            }
        }
    }
    true
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string scalar in go-yaml's style; multi-line strings become literal blocks at `indent`.
fn string_scalar(s: &str, indent: usize) -> String {
    if s.contains('\n') && !s.chars().any(|c| c.is_control() && c != '\n') && !s.starts_with(' ') {
        let chomp = if s.ends_with("\n\n") {
            "+"
        } else if s.ends_with('\n') {
            ""
        } else {
            "-"
        };
        let pad = " ".repeat(indent);
        let body: Vec<String> = s
            .trim_end_matches('\n')
            .split('\n')
            .map(|line| {
                if line.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{line}")
                }
            })
            .collect();
        return format!("|{chomp}\n{}", body.join("\n"));
    }
    if resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    if s.chars().any(|c| c.is_control()) {
        return double_quoted(s);
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn scalar(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_scalar(s, indent),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_collection(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn write_node(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                let v = &map[key];
                out.push_str(&pad);
                out.push_str(&string_scalar(key, indent));
                out.push(':');
                match v {
                    Value::Object(_) if is_collection(v) => {
                        out.push('\n');
                        write_node(v, indent + 2, out);
                    }
                    Value::Array(_) if is_collection(v) => {
                        out.push('\n');
                        write_node(v, indent, out);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&scalar(v, indent + 2));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                if is_collection(item) {
                    let mut nested = String::new();
                    write_node(item, indent + 2, &mut nested);
                    // The first line of the item sits after the dash.
                    out.push(' ');
                    out.push_str(nested.trim_start());
                } else {
                    out.push(' ');
                    out.push_str(&scalar(item, indent + 2));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other, indent));
            out.push('\n');
        }
    }
}

/// A JSON value as kubectl's YAML.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_node(value, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalar_styles_match_go_yaml() {
        let cases = [
            ("nginx:1.27", "nginx:1.27"),
            ("3", "\"3\""),
            ("2026-01-01T00:00:00Z", "\"2026-01-01T00:00:00Z\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("", "\"\""),
            ("1.5", "\"1.5\""),
            ("1e3", "\"1e3\""),
            ("*/5 * * * *", "'*/5 * * * *'"),
            ("- x", "'- x'"),
            ("a: b", "'a: b'"),
            ("it's", "it's"),
            ("10.96.0.1", "10.96.0.1"),
            ("100m", "100m"),
            ("128Mi", "128Mi"),
            ("v1", "v1"),
        ];
        for (input, expected) in cases {
            assert_eq!(string_scalar(input, 0), expected, "{input}");
        }
    }

    #[test]
    fn layout_matches_kubectl() {
        let v = json!({"metadata": {"name": "a", "labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "c", "image": "nginx", "ports": [{"containerPort": 80}], "args": ["-c", "echo hi"]}
        ], "empty": [], "none": {}}, "data": {"script": "line1\nline2\n"}});
        assert_eq!(
            to_yaml(&v),
            "data:\n  script: |\n    line1\n    line2\nmetadata:\n  labels:\n    app: web\n  name: a\nspec:\n  containers:\n  - args:\n    - -c\n    - echo hi\n    image: nginx\n    name: c\n    ports:\n    - containerPort: 80\n  empty: []\n  none: {}\n"
        );
    }
}
