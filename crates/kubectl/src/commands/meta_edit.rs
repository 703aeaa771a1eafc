//! `kubectl label` and `kubectl annotate`: set (`key=value`) or remove (`key-`)
//! labels or annotations with a merge patch; `--overwrite` to change existing values.

use kubecraft_cluster::api::Request;
use serde_json::{json, Map, Value};

use crate::discovery::{discover, kind_prefix, resolve_known, warn_ambiguous};
use crate::errors::server_error;
use crate::flags::{self, boolean, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[boolean("overwrite", None)];

/// Which metadata map the command edits.
#[derive(Clone, Copy)]
pub enum Field {
    Labels,
    Annotations,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Labels => "labels",
            Field::Annotations => "annotations",
        }
    }
    fn command(self) -> &'static str {
        match self {
            Field::Labels => "label",
            Field::Annotations => "annotate",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Field::Labels => "labeled",
            Field::Annotations => "annotated",
        }
    }
    fn singular(self) -> &'static str {
        match self {
            Field::Labels => "label",
            Field::Annotations => "annotation",
        }
    }
}

/// Runs `kubectl label` or `kubectl annotate`.
pub fn run(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    field: Field,
) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, field.command()) {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let (targets, updates): (Vec<&String>, Vec<&String>) = parsed
        .positional
        .iter()
        .partition(|a| !a.contains('=') && !a.ends_with('-'));
    if updates.is_empty() {
        out.fail(format!(
            "error: at least one {} update is required\n",
            field.singular()
        ));
        return out;
    }
    let (typed, names): (&str, Vec<String>) = match targets.as_slice() {
        [one] if one.contains('/') => {
            let (t, n) = one.split_once('/').expect("checked");
            (t, vec![n.to_string()])
        }
        [t, rest @ ..] if !rest.is_empty() => {
            (t.as_str(), rest.iter().map(|s| s.to_string()).collect())
        }
        _ => {
            out.fail("error: one or more resources must be specified as <resource> <name> or <resource>/<name>\n");
            return out;
        }
    };
    let resources = discover(transport);
    warn_ambiguous(transport, &resources, &[typed.to_string()]);
    let resource = match resolve_known(&resources, typed) {
        Ok(resource) => resource,
        Err(error) => {
            out.fail(error);
            return out;
        }
    };
    for name in names {
        let path = resource.object_path(Some(&namespace), &name);
        let current = transport.send(Request::get(path.clone()));
        if !current.is_success() {
            out.fail(server_error(&current));
            continue;
        }
        let existing = current.body_json()["metadata"][field.key()].clone();
        let mut changes = Map::new();
        for update in &updates {
            if let Some(key) = update.strip_suffix('-').filter(|_| !update.contains('=')) {
                changes.insert(key.to_string(), Value::Null);
                continue;
            }
            let (key, value) = update
                .split_once('=')
                .expect("updates contain = or end with -");
            if let Some(old) = existing.get(key).and_then(Value::as_str) {
                if old != value && !parsed.is_set("overwrite") {
                    out.fail(format!(
                        "error: '{key}' already has a value ({old}), and --overwrite is false\n"
                    ));
                    return out;
                }
            }
            changes.insert(key.to_string(), json!(value));
        }
        let patch = json!({"metadata": {field.key(): changes}});
        let response = transport.send(Request::patch(
            path,
            "application/merge-patch+json",
            patch.to_string(),
        ));
        if response.is_success() {
            out.out(format!(
                "{}/{name} {}\n",
                kind_prefix(resource),
                field.done()
            ));
        } else {
            out.fail(server_error(&response));
        }
    }
    out
}
