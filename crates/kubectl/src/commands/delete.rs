//! `kubectl delete`: by name, `TYPE/NAME`, manifest (`-f`), label selector or `--all`,
//! with `--grace-period`, `--now`, `--force`, `--cascade` and `--dry-run`.

use kubecraft_cluster::api::{Request, ResourceInfo};
use serde_json::{json, Value};

use crate::commands::create::{dry_run, DryRun};
use crate::commands::mapping::locate;
use crate::discovery::{
    discover, kind_prefix, resolve_known, unknown_resource_type, warn_ambiguous,
};
use crate::errors::server_error;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::transport::{Deadline, Transport};
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("filename", Some('f')),
    value("selector", Some('l')),
    boolean("all", None),
    value("grace-period", None),
    boolean("now", None),
    boolean("force", None),
    value("cascade", None),
    boolean("ignore-not-found", None),
    boolean("wait", None),
    value("timeout", None),
    value("dry-run", None),
];

const NO_ARGS: &str = "error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\n";

/// How long `--wait` lets cluster time pass without a `--timeout` (or with `0s`):
/// upstream's week.
const WAIT_LIMIT_MS: u64 = 168 * 3_600_000;

const FORCE_WARNING: &str = "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n";

/// One object to delete.
struct Victim<'a> {
    resource: &'a ResourceInfo,
    namespace: String,
    name: String,
}

/// Runs `kubectl delete`.
pub fn run(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "delete") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let propagation = match parsed.get("cascade").unwrap_or("background") {
        "background" | "true" => "Background",
        "foreground" => "Foreground",
        "orphan" | "false" => "Orphan",
        other => {
            out.fail(format!("error: invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\".\n"));
            return out;
        }
    };
    let force = parsed.is_set("force");
    let grace: Option<i64> = if parsed.is_set("now") {
        Some(1)
    } else {
        match parsed.int(&value("grace-period", None), "delete") {
            Ok(grace) => grace.filter(|g| *g >= 0),
            Err(e) => {
                out.fail(e);
                return out;
            }
        }
    };
    let grace = if force && grace.is_none() {
        Some(0)
    } else {
        grace
    };
    if grace == Some(0) && !force {
        out.fail("error: --grace-period=0 must have --force specified\n");
        return out;
    }
    let limit_ms = match parsed.duration_ms(&value("timeout", None), "delete") {
        Ok(Some(ms)) if ms > 0 => ms as u64,
        Ok(_) => WAIT_LIMIT_MS,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let mode = match dry_run(&parsed) {
        Ok(mode) => mode,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let resources = discover(transport);
    let mut errors = Output::default();
    let mut victims: Vec<Victim> = Vec::new();
    let mut read_error = None;
    if let Some(file) = parsed.get("filename") {
        let (read, source) = match super::read_manifests(kubectl, file, stdin) {
            Ok(v) => v,
            Err(e) => {
                out.fail(e);
                return out;
            }
        };
        read_error = read.error;
        for obj in &read.objects {
            match locate(&resources, obj, &source, &namespace) {
                Ok(l) => victims.push(Victim {
                    resource: l.resource,
                    namespace: l.namespace,
                    name: l.name,
                }),
                Err(e) => errors.fail(e),
            }
        }
    } else {
        if parsed.positional.is_empty() {
            out.fail(NO_ARGS);
            return out;
        }
        warn_ambiguous(transport, &resources, &parsed.positional);
        match select(transport, &resources, &parsed, &namespace) {
            Ok(found) => victims = found,
            Err(e) => {
                out.fail(e);
                return out;
            }
        }
        let by_selection = parsed.get("selector").is_some() || parsed.is_set("all");
        if victims.is_empty() && by_selection {
            out.err("No resources found\n");
            return out;
        }
    }
    if force && grace == Some(0) && !victims.is_empty() {
        out.err(FORCE_WARNING);
    }
    // What was deleted and may linger (finalizers, grace periods), for --wait.
    let mut lingering: Vec<(&Victim, String, Value)> = Vec::new();
    for victim in &victims {
        let mut options =
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation});
        if let Some(g) = grace {
            options["gracePeriodSeconds"] = json!(g);
        }
        let path = format!(
            "{}/{}",
            victim.resource.collection_path(Some(&victim.namespace)),
            victim.name
        );
        let mut request =
            Request::delete(path.clone()).with_body(options.to_string(), "application/json");
        if mode == DryRun::Server {
            request = request.with_query("dryRun", "All");
        }
        // A client-side dry run sends nothing: upstream names what it would delete.
        let response = (mode != DryRun::Client).then(|| transport.send(request));
        match response {
            Some(response) if !response.is_success() => {
                if !(response.status == 404 && parsed.is_set("ignore-not-found")) {
                    errors.fail(server_error(&response));
                }
                continue;
            }
            Some(response) if mode == DryRun::None => {
                let uid = response.body_json()["metadata"]["uid"].clone();
                lingering.push((victim, path, uid));
            }
            _ => {}
        }
        let mut operation = if force && grace == Some(0) {
            "force deleted".to_string()
        } else {
            "deleted".to_string()
        };
        if victim.resource.namespaced() {
            operation = format!("{operation} from {} namespace", victim.namespace);
        }
        let kind = kind_prefix(victim.resource);
        out.out(format!(
            "{kind} {:?} {operation}{}\n",
            victim.name,
            mode.suffix()
        ));
    }
    // Upstream never waits on a dry run (nothing is deleted); `lingering` is empty then.
    if parsed.get("wait") != Some("false") {
        if let Err(e) = wait_until_gone(transport, &lingering, limit_ms) {
            errors.fail(e);
        }
    }
    out.extend(errors);
    if let Some(e) = read_error {
        out.fail(e);
    }
    out
}

/// Upstream's `--wait` (the default): lets cluster time pass until each deleted
/// object is gone (or replaced by a new one under its name), for at most `limit_ms`.
fn wait_until_gone(
    transport: &mut dyn Transport,
    deleted: &[(&Victim, String, Value)],
    limit_ms: u64,
) -> Result<(), String> {
    let mut deadline = Deadline::new(limit_ms);
    for (victim, path, uid) in deleted {
        loop {
            let response = transport.send(Request::get(path.clone()));
            if response.status == 404 || response.body_json()["metadata"]["uid"] != *uid {
                break;
            }
            if !deadline.pass(transport) {
                return Err(format!(
                    "error: timed out waiting for the condition on {}/{}\n",
                    victim.resource.plural, victim.name
                ));
            }
        }
    }
    Ok(())
}

/// Objects named on the command line, or selected by `-l` / `--all`.
fn select<'a>(
    transport: &mut dyn Transport,
    resources: &'a [ResourceInfo],
    parsed: &flags::Parsed,
    namespace: &str,
) -> Result<Vec<Victim<'a>>, String> {
    let mut victims = Vec::new();
    if parsed.positional[0].contains('/') {
        for arg in &parsed.positional {
            let (typed, name) = arg
                .split_once('/')
                .ok_or_else(|| unknown_resource_type(arg))?;
            let resource = resolve_known(resources, typed)?;
            victims.push(Victim {
                resource,
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        }
        return Ok(victims);
    }
    let typed = &parsed.positional[0];
    let mut types = Vec::new();
    for t in typed.split(',') {
        types.push(resolve_known(resources, t)?);
    }
    let names = &parsed.positional[1..];
    let by_selection = parsed.get("selector").is_some() || parsed.is_set("all");
    if names.is_empty() && !by_selection {
        return Err("error: resource(s) were provided, but no name was specified\n".into());
    }
    for resource in types {
        if !names.is_empty() {
            victims.extend(names.iter().map(|n| Victim {
                resource,
                namespace: namespace.to_string(),
                name: n.clone(),
            }));
            continue;
        }
        let mut req = Request::get(resource.collection_path(Some(namespace)));
        if let Some(sel) = parsed.get("selector") {
            req = req.with_query("labelSelector", sel);
        }
        let response = transport.send(req);
        if !response.is_success() {
            return Err(server_error(&response));
        }
        for item in response.body_json()["items"]
            .as_array()
            .into_iter()
            .flatten()
        {
            victims.push(Victim {
                resource,
                namespace: item
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(namespace)
                    .to_string(),
                name: item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            });
        }
    }
    Ok(victims)
}
