//! `kubectl taint nodes NAME KEY[=VALUE]:EFFECT ... [KEY[:EFFECT]-]`: adds,
//! overwrites and removes node taints with upstream's checks and messages.

use kubecraft_cluster::api::names::{is_qualified_name, is_valid_label_value};
use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use super::target::fetch;
use crate::errors::server_error;
use crate::flags::{self, boolean};
use crate::output::Output;
use crate::transport::Transport;

/// One taint as the command line gives it (the effect may be empty for removals).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Taint {
    key: String,
    value: String,
    effect: String,
}

impl Taint {
    fn to_json(&self) -> Value {
        let mut t = json!({"key": self.key, "effect": self.effect});
        if !self.value.is_empty() {
            t["value"] = json!(self.value);
        }
        t
    }

    fn of(v: &Value) -> Taint {
        let text = |f: &str| v[f].as_str().unwrap_or("").to_string();
        Taint {
            key: text("key"),
            value: text("value"),
            effect: text("effect"),
        }
    }

    /// `key=value:effect`, as upstream's `Taint.ToString`.
    fn shown(&self) -> String {
        let mut s = self.key.clone();
        if !self.value.is_empty() {
            s = format!("{s}={}", self.value);
        }
        if !self.effect.is_empty() {
            s = format!("{s}:{}", self.effect);
        }
        s
    }
}

/// Upstream's `parseTaint`: `key=value:effect`, `key:effect` or `key`.
fn parse(spec: &str) -> Result<Taint, String> {
    let invalid = || format!("invalid taint spec: {spec}");
    let parts: Vec<&str> = spec.split(':').collect();
    let (kv, effect) = match parts.as_slice() {
        [key] => (*key, ""),
        [kv, effect] => {
            if !matches!(*effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(format!(
                    "invalid taint effect: {effect}, unsupported taint effect"
                ));
            }
            (*kv, *effect)
        }
        _ => return Err(invalid()),
    };
    let kv: Vec<&str> = kv.split('=').collect();
    let (key, value) = match kv.as_slice() {
        [key] => (*key, ""),
        [key, value] if !effect.is_empty() => (*key, *value),
        _ => return Err(invalid()),
    };
    if !is_valid_label_value(value) || !is_qualified_name(key) {
        return Err(invalid());
    }
    Ok(Taint {
        key: key.into(),
        value: value.into(),
        effect: effect.into(),
    })
}

/// Runs `kubectl taint`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, &[boolean("overwrite", None)], "taint") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let overwrite = parsed.get("overwrite").is_some_and(|v| v != "false");
    let (resource, rest) = match parsed.positional.split_first() {
        Some((first, rest)) => (first.as_str(), rest),
        None => {
            out.fail("error: at least one taint update is required\n");
            return out;
        }
    };
    let (node, updates) = match resource.split_once('/') {
        Some((kind, name)) => (Some((kind, name.to_string())), rest),
        None => match rest.split_first() {
            Some((name, updates)) => (Some((resource, name.clone())), updates),
            None => (None, rest),
        },
    };
    let Some((kind, name)) = node else {
        out.fail("error: one or more resources must be specified as <resource> <name>\n");
        return out;
    };
    if !matches!(kind, "node" | "nodes" | "no") {
        out.fail(format!(
            "error: invalid resource type {kind}, only node types are supported\n"
        ));
        return out;
    }
    if updates.is_empty() {
        out.fail("error: at least one taint update is required\n");
        return out;
    }
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for spec in updates {
        let result = match spec.strip_suffix('-') {
            Some(r) => parse(r).map(|t| remove.push(t)),
            None => parse(spec).and_then(|t| {
                if t.effect.is_empty() {
                    return Err(format!("invalid taint spec: {spec}"));
                }
                if add
                    .iter()
                    .any(|a: &Taint| a.key == t.key && a.effect == t.effect)
                {
                    return Err(format!(
                        "duplicated taints with the same key and effect: {}",
                        t.shown()
                    ));
                }
                add.push(t);
                Ok(())
            }),
        };
        if let Err(e) = result {
            out.fail(format!("error: {e}\n"));
            return out;
        }
    }
    let fetched = match fetch(transport, "nodes", &name, "") {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let old: Vec<Taint> = fetched.object["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(Taint::of)
        .collect();
    if !overwrite {
        let existing: Vec<&str> = add
            .iter()
            .filter(|t| old.iter().any(|o| o.key == t.key && o.effect == t.effect))
            .map(|t| t.key.as_str())
            .collect();
        if !existing.is_empty() {
            out.fail(format!(
                "error: node {name} already has {} taint(s) with same effect(s) and --overwrite is false\n",
                existing.join(",")
            ));
            return out;
        }
    }
    // Upstream's reorganizeTaints: new taints, then old ones not replaced, minus removals.
    let mut next = add.clone();
    for o in &old {
        if !next.iter().any(|t| t.key == o.key && t.effect == o.effect) {
            next.push(o.clone());
        }
    }
    let added = old.len() != next.len();
    let mut errors = Vec::new();
    let mut deleted = false;
    for r in &remove {
        let before = next.len();
        next.retain(|t| !(t.key == r.key && (r.effect.is_empty() || t.effect == r.effect)));
        deleted = next.len() != before;
        if !deleted {
            errors.push(format!("taint {:?} not found", r.shown()));
        }
    }
    if !errors.is_empty() {
        out.fail(format!("error: {}\n", errors.join(", ")));
        return out;
    }
    let verb = if (added && deleted) || overwrite {
        "modified"
    } else if added {
        "tainted"
    } else {
        "untainted"
    };
    let taints: Vec<Value> = next.iter().map(Taint::to_json).collect();
    let patch = json!({"spec": {"taints": if taints.is_empty() { Value::Null } else { Value::Array(taints) }}});
    let response = transport.send(Request::patch(
        fetched.path.clone(),
        "application/merge-patch+json",
        patch.to_string(),
    ));
    if response.is_success() {
        out.out(format!("node/{name} {verb}\n"));
    } else {
        out.fail(server_error(&response));
    }
    out
}
