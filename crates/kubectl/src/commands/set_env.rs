//! `kubectl set env TYPE/NAME KEY=VALUE ... KEY- ...`: adds, changes or removes
//! containers' environment variables in a pod template (or a pod), takes them
//! from a ConfigMap's or Secret's keys (`--from`), or lists them (`--list`), as
//! upstream's `set env` does, with a strategic merge patch of the env lists.

use kubecraft_cluster::api::Request;
use serde_json::{json, Map, Value};

use super::target::{fetch, fetch_target, Fetched};
use crate::discovery::kind_prefix;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("containers", Some('c')),
    value("env", Some('e')),
    value("from", None),
    value("keys", None),
    value("prefix", None),
    boolean("list", None),
    boolean("overwrite", None),
];

/// What the command line asks of the variables.
#[derive(Debug)]
struct Changes {
    /// Variables to set, in order.
    set: Vec<Value>,
    /// Names to remove.
    remove: Vec<String>,
}

/// Runs `kubectl set env`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    if let Err(error) = set_env(kubectl, transport, args, &mut out) {
        out.fail(error);
    }
    out
}

fn set_env(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    out: &mut Output,
) -> Result<(), String> {
    let parsed = flags::parse(args, FLAGS, "set env")?;
    let is_change = |a: &String| a.contains('=') || a.ends_with('-');
    let split = parsed
        .positional
        .iter()
        .position(is_change)
        .unwrap_or(parsed.positional.len());
    let (targets, env_args) = parsed.positional.split_at(split);
    if env_args.iter().any(|a| !is_change(a)) {
        return Err(format!(
            "error: all resources must be specified before environment changes: {}\n",
            parsed.positional.join(" ")
        ));
    }
    let from = parsed.get("from");
    let keys = parsed.get_slice("keys");
    if !keys.is_empty() && from.is_none() {
        return Err(
            "error: when specifying --keys, a configmap or secret must be provided with --from\n"
                .into(),
        );
    }
    let specs: Vec<String> = parsed
        .get_all("env")
        .into_iter()
        .chain(env_args.iter().cloned())
        .collect();
    let mut changes = parse_env(&specs)?;
    let namespace = kubectl.namespace_for(&parsed);
    if let Some(from) = from {
        changes
            .set
            .extend(from_source(transport, from, &keys, &namespace)?);
    }
    if let Some(prefix) = parsed.get("prefix").filter(|p| !p.is_empty()) {
        for var in &mut changes.set {
            var["name"] = json!(format!("{prefix}{}", var["name"].as_str().unwrap_or("")));
        }
    }
    let Fetched {
        resource,
        name,
        path,
        object,
    } = fetch_target(
        transport,
        targets,
        "error: one or more resources must be specified as <resource> <name> or <resource>/<name>\n",
        &namespace,
    )?;
    let spec_path: &[&str] = if resource.kind == "Pod" {
        &["spec"]
    } else {
        &["spec", "template", "spec"]
    };
    let spec = spec_path.iter().fold(&object, |v, key| &v[*key]);
    let selector = parsed.get("containers").unwrap_or("*");
    let overwrite = parsed.get("overwrite") != Some("false");
    let mut patch_spec = Map::new();
    let mut matched = false;
    for list in ["containers", "initContainers"] {
        let mut patched = Vec::new();
        for container in spec[list].as_array().into_iter().flatten() {
            let container_name = container["name"].as_str().unwrap_or("");
            if !wildcard_match(selector, container_name) {
                continue;
            }
            matched = true;
            let existing = container["env"].as_array().cloned().unwrap_or_default();
            if parsed.is_set("list") {
                list_env(
                    out,
                    &resource.kind,
                    &name,
                    container_name,
                    &existing,
                    &changes,
                );
                continue;
            }
            if !overwrite {
                refuse_overwrites(&existing, &changes.set)?;
            }
            let env_patch = env_patch(&existing, &changes);
            if !env_patch.is_empty() {
                patched.push(json!({"name": container_name, "env": env_patch}));
            }
        }
        if !patched.is_empty() {
            patch_spec.insert(list.to_string(), Value::Array(patched));
        }
    }
    if !matched {
        out.err(format!(
            "warning: {}/{name} does not have any containers matching {selector:?}\n",
            resource.kind
        ));
    }
    if parsed.is_set("list") || patch_spec.is_empty() {
        return Ok(());
    }
    let patch = spec_path.iter().rev().fold(
        Value::Object(patch_spec),
        |inner, key| json!({ *key: inner }),
    );
    let response = transport.send(Request::patch(
        path,
        "application/strategic-merge-patch+json",
        patch.to_string(),
    ));
    if !response.is_success() {
        return Err(format!(
            "error: failed to patch env update to pod template: {}\n",
            response.status_message()
        ));
    }
    out.out(format!("{}/{name} env updated\n", kind_prefix(&resource)));
    Ok(())
}

/// Upstream's `envutil.ParseEnv`: `KEY=VALUE` sets, `KEY-` removes.
fn parse_env(specs: &[String]) -> Result<Changes, String> {
    let mut changes = Changes {
        set: Vec::new(),
        remove: Vec::new(),
    };
    for spec in specs {
        if let Some((key, value)) = spec.split_once('=') {
            if let Some(problem) = env_name_problem(key) {
                return Err(format!(
                    "error: {key:?} is not a valid key name: {problem}\n"
                ));
            }
            changes.set.push(json!({"name": key, "value": value}));
        } else if let Some(key) = spec.strip_suffix('-') {
            changes.remove.push(key.to_string());
        } else {
            return Err(format!("error: unknown environment variable: {spec}\n"));
        }
    }
    let set_names: Vec<&str> = changes
        .set
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    if changes
        .remove
        .iter()
        .any(|r| set_names.contains(&r.as_str()))
    {
        return Err(
            "error: can not both modify and remove an environment variable in the same command\n"
                .into(),
        );
    }
    Ok(changes)
}

/// Upstream's `IsEnvVarName` message, when `name` is not one.
fn env_name_problem(name: &str) -> Option<&'static str> {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    (!valid).then_some(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnv1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    )
}

/// A variable for each key (or each of `keys`) of the ConfigMap or Secret `from`
/// names (`configmap/NAME`, `secret/NAME`), named as upstream's `keyToEnvName` does.
fn from_source(
    transport: &mut dyn Transport,
    from: &str,
    keys: &[String],
    namespace: &str,
) -> Result<Vec<Value>, String> {
    let (typed, name) = from
        .split_once('/')
        .ok_or("error: resource(s) were provided, but no name was specified\n")?;
    let Fetched {
        resource, object, ..
    } = fetch(transport, typed, name, namespace)?;
    let reference = match resource.kind.as_str() {
        "ConfigMap" => "configMapKeyRef",
        "Secret" => "secretKeyRef",
        _ => return Err("error: unsupported resource specified in --from\n".into()),
    };
    let data = object["data"].as_object().cloned().unwrap_or_default();
    let vars = data
        .keys()
        .filter(|key| keys.is_empty() || keys.contains(key))
        .map(|key| {
            json!({"name": key_to_env_name(key),
                "valueFrom": {reference: {"name": name, "key": key}}})
        })
        .collect();
    Ok(vars)
}

/// Upstream's `keyToEnvName`: characters other than letters, digits and `_` become
/// `_`, and the whole is upper-cased.
fn key_to_env_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether `name` matches `pattern` (`*` for any run of characters), as Go's
/// `path.Match` does for container names.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| wildcard_match(rest, &tail[i..]))
        }
    }
}

/// Upstream's `validateNoOverwrites`, for `--overwrite=false`.
fn refuse_overwrites(existing: &[Value], set: &[Value]) -> Result<(), String> {
    for var in set {
        let current = existing.iter().find(|e| e["name"] == var["name"]);
        if let Some(current) = current.filter(|c| c["value"] != var["value"]) {
            return Err(format!(
                "error: '{}' already has a value ({}), and --overwrite is false\n",
                current["name"].as_str().unwrap_or(""),
                current["value"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// The strategic merge patch of one container's `env` list: each set variable
/// that differs (merged by name: changed in place, new ones appended, as
/// upstream's `updateEnv` orders them), each removed one that exists deleted.
fn env_patch(existing: &[Value], changes: &Changes) -> Vec<Value> {
    let mut patch: Vec<Value> = changes
        .set
        .iter()
        .filter(|var| !existing.contains(var))
        .cloned()
        .collect();
    for name in &changes.remove {
        if existing.iter().any(|e| e["name"] == json!(name)) {
            patch.push(json!({"name": name, "$patch": "delete"}));
        }
    }
    patch
}

/// `--list`: the container's variables after the changes, a reference as upstream
/// prints it (`# NAME from configmap fruits, key fruits`).
fn list_env(
    out: &mut Output,
    kind: &str,
    name: &str,
    container: &str,
    existing: &[Value],
    changes: &Changes,
) {
    out.out(format!("# {kind} {name}, container {container}\n"));
    let mut vars: Vec<Value> = existing
        .iter()
        .filter(|e| !changes.remove.iter().any(|r| e["name"] == json!(r)))
        .map(|e| {
            let newer = changes.set.iter().find(|s| s["name"] == e["name"]);
            newer.unwrap_or(e).clone()
        })
        .collect();
    for var in &changes.set {
        if !vars.iter().any(|v| v["name"] == var["name"]) {
            vars.push(var.clone());
        }
    }
    for var in vars {
        let var_name = var["name"].as_str().unwrap_or("");
        match var.get("valueFrom") {
            None => out.out(format!(
                "{var_name}={}\n",
                var["value"].as_str().unwrap_or("")
            )),
            Some(from) => out.out(format!("# {var_name} from {}\n", reference_text(from))),
        }
    }
}

/// Upstream's `GetEnvVarRefString`.
fn reference_text(from: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    if let Some(r) = from.get("configMapKeyRef") {
        return format!("configmap {}, key {}", text(&r["name"]), text(&r["key"]));
    }
    if let Some(r) = from.get("secretKeyRef") {
        return format!("secret {}, key {}", text(&r["name"]), text(&r["key"]));
    }
    if let Some(r) = from.get("fieldRef") {
        return format!("field path {}", text(&r["fieldPath"]));
    }
    if let Some(r) = from.get("resourceFieldRef") {
        let container = text(&r["containerName"]);
        let prefix = if container.is_empty() {
            String::new()
        } else {
            format!("{container}/")
        };
        return format!("resource field {prefix}{}", text(&r["resource"]));
    }
    "invalid valueFrom".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_variable_names_as_upstream_names_them() {
        assert_eq!(key_to_env_name("game.properties"), "GAME_PROPERTIES");
        assert_eq!(key_to_env_name("log-level_2"), "LOG_LEVEL_2");
    }

    #[test]
    fn container_names_match_wildcards() {
        assert!(wildcard_match("*", "app"));
        assert!(wildcard_match("a*p", "app"));
        assert!(wildcard_match("app", "app"));
        assert!(!wildcard_match("web*", "app"));
    }

    #[test]
    fn a_patch_sets_what_differs_and_deletes_what_exists() {
        let existing = vec![
            json!({"name": "A", "value": "1"}),
            json!({"name": "B", "value": "2"}),
        ];
        let changes = parse_env(&["A=1".into(), "C=3".into(), "B-".into(), "D-".into()]).unwrap();
        assert_eq!(
            env_patch(&existing, &changes),
            vec![
                json!({"name": "C", "value": "3"}),
                json!({"name": "B", "$patch": "delete"})
            ]
        );
        assert!(parse_env(&["A=1".into(), "A-".into()]).is_err());
        assert!(parse_env(&["1A=x".into()])
            .unwrap_err()
            .contains("is not a valid key name"));
    }
}
