//! `kubectl create`: from manifests (`-f`) or from a generator (`namespace`,
//! `deployment`, `configmap`, `secret generic`, `service clusterip|nodeport`,
//! `poddisruptionbudget`, `role`, `clusterrole`, `rolebinding`, `clusterrolebinding`), with
//! `--dry-run=client|server` and `-o yaml|json|name`.

use kubecraft_cluster::api::{Request, ResourceInfo};
use serde_json::{json, Value};

use super::create_rbac::{self, BINDING_FLAGS, CLUSTER_BINDING_FLAGS, ROLE_FLAGS};
use super::generators;
use super::target::fetch_target;
use crate::commands::mapping::{resource_for, source_error};
use crate::discovery::{discover, kind_prefix};
use crate::errors::server_error;
use crate::flags::{self, value, Flag, Parsed};
use crate::output::Output;
use crate::printers::structured;
use crate::transport::Transport;
use crate::Kubectl;

const COMMON: &[Flag] = &[
    value("dry-run", None),
    value("output", Some('o')),
    value("validate", None),
];

/// How a create is carried out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum DryRun {
    None,
    Client,
    Server,
}

impl DryRun {
    /// What upstream appends to an operation's message: ` (dry run)`, ` (server dry run)`.
    pub fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// Where and how created objects go: the namespace, the dry-run mode, the `-o`
/// format, and the `fieldValidation` asked of the server (none: its default).
pub(super) struct CreateOptions<'a> {
    pub namespace: &'a str,
    pub mode: DryRun,
    pub output: Option<&'a str>,
    pub validation: Option<&'a str>,
}

fn flags_for(extra: &[Flag]) -> Vec<Flag> {
    COMMON.iter().chain(extra.iter()).copied().collect()
}

pub(super) fn dry_run(parsed: &Parsed) -> Result<DryRun, String> {
    match parsed.get("dry-run") {
        None | Some("none") => Ok(DryRun::None),
        Some("client") | Some("true") | Some("unchanged") => Ok(DryRun::Client),
        Some("server") => Ok(DryRun::Server),
        Some(other) => Err(format!("error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\".\n")),
    }
}

/// Runs `kubectl create`.
pub fn run(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Output {
    let (command, extra, rest): (&str, Vec<Flag>, &[String]) =
        match args.first().map(String::as_str) {
            Some("namespace" | "ns") => ("create namespace", vec![], &args[1..]),
            Some("serviceaccount" | "sa") => ("create serviceaccount", vec![], &args[1..]),
            Some("deployment" | "deploy") => (
                "create deployment",
                vec![
                    value("image", None),
                    value("replicas", Some('r')),
                    value("port", None),
                ],
                &args[1..],
            ),
            Some("configmap" | "cm") => (
                "create configmap",
                vec![value("from-literal", None)],
                &args[1..],
            ),
            Some("secret") if args.get(1).is_some_and(|a| a == "generic") => (
                "create secret generic",
                vec![value("from-literal", None), value("type", None)],
                &args[2..],
            ),
            Some("service" | "svc")
                if args
                    .get(1)
                    .is_some_and(|a| a == "clusterip" || a == "nodeport") =>
            {
                ("create service", vec![value("tcp", None)], &args[1..])
            }
            Some("job") => (
                "create job",
                vec![value("image", None), value("from", None)],
                &args[1..],
            ),
            Some("cronjob" | "cj") => (
                "create cronjob",
                vec![
                    value("image", None),
                    value("schedule", None),
                    value("restart", None),
                ],
                &args[1..],
            ),
            Some("role") => ("create role", ROLE_FLAGS[..3].to_vec(), &args[1..]),
            Some("clusterrole") => ("create clusterrole", ROLE_FLAGS.to_vec(), &args[1..]),
            Some("rolebinding") => ("create rolebinding", BINDING_FLAGS.to_vec(), &args[1..]),
            Some("clusterrolebinding") => (
                "create clusterrolebinding",
                CLUSTER_BINDING_FLAGS.to_vec(),
                &args[1..],
            ),
            Some("poddisruptionbudget" | "pdb") => (
                "create poddisruptionbudget",
                vec![
                    value("selector", None),
                    value("min-available", None),
                    value("max-unavailable", None),
                ],
                &args[1..],
            ),
            _ => ("create", vec![value("filename", Some('f'))], args),
        };
    let mut out = Output::default();
    let parsed = match flags::parse(rest, &flags_for(&extra), command) {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let (mode, validation) =
        match dry_run(&parsed).and_then(|m| Ok((m, flags::field_validation(&parsed)?))) {
            Ok(v) => v,
            Err(e) => {
                out.fail(e);
                return out;
            }
        };
    let namespace = kubectl.namespace_for(&parsed);
    let options = CreateOptions {
        namespace: &namespace,
        mode,
        output: parsed.get("output"),
        validation: Some(validation),
    };
    if command == "create" {
        return from_manifests(kubectl, transport, &parsed, &options, stdin);
    }
    let generated = match generate(command, args, &parsed, transport, &namespace) {
        Ok((obj, warnings)) => {
            warnings.into_iter().for_each(|w| out.err(w));
            obj
        }
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let namespace_given = parsed.get("namespace").is_some();
    out.extend(create_generated(
        transport,
        generated,
        &options,
        namespace_given,
    ));
    out
}

/// Creates an object a generator built (`create <kind>`, `run`); with `-n` given
/// (`namespace_given`), a namespaced object names its namespace, as kubectl's do.
pub(super) fn create_generated(
    transport: &mut dyn Transport,
    mut obj: Value,
    options: &CreateOptions,
    namespace_given: bool,
) -> Output {
    let resources = discover(transport);
    match resource_for(&resources, &obj, "") {
        Ok(resource) => {
            if namespace_given && resource.namespaced() {
                obj["metadata"]["namespace"] = json!(options.namespace);
            }
            create_one(transport, resource, obj, options, None)
        }
        Err(e) => {
            let mut out = Output::default();
            out.fail(e);
            out
        }
    }
}

/// Builds the object a generator subcommand describes (with the warnings kubectl
/// prints about it), or kubectl's argument error.
fn generate(
    command: &str,
    args: &[String],
    parsed: &Parsed,
    transport: &mut dyn Transport,
    namespace: &str,
) -> Result<(Value, Vec<String>), String> {
    let before_dash = parsed.args_len_at_dash.unwrap_or(parsed.positional.len());
    let names = &parsed.positional[usize::from(command == "create service")..before_dash];
    if names.len() != 1 {
        return Err(format!(
            "error: exactly one NAME is required, got {}\nSee 'kubectl {command} -h' for help and examples\n",
            names.len()
        ));
    }
    let name = names[0].as_str();
    let kind = |role: &str| {
        if command.starts_with("create cluster") {
            format!("Cluster{role}")
        } else {
            role.to_string()
        }
    };
    match command {
        "create role" | "create clusterrole" => {
            return create_rbac::role(&kind("Role"), name, parsed, &discover(transport))
        }
        "create rolebinding" | "create clusterrolebinding" => {
            create_rbac::binding(&kind("RoleBinding"), name, parsed)
        }
        "create job" => {
            let image = parsed.get("image").unwrap_or("");
            let from = parsed.get("from").unwrap_or("");
            let command = &parsed.positional[before_dash..];
            if image.is_empty() == from.is_empty() {
                return Err("error: either --image or --from must be specified\n".into());
            }
            if !command.is_empty() && !from.is_empty() {
                return Err("error: cannot specify --from and command\n".into());
            }
            if from.is_empty() {
                Ok(generators::job(name, image, command))
            } else {
                job_from(transport, name, from, namespace)
            }
        }
        "create cronjob" => {
            let missing: Vec<String> = ["image", "schedule"]
                .iter()
                .filter(|flag| parsed.get(flag).is_none())
                .map(|flag| format!("{flag:?}"))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "error: required flag(s) {} not set\n",
                    missing.join(", ")
                ));
            }
            Ok(generators::cronjob(
                name,
                parsed.get("image").unwrap_or(""),
                parsed.get("schedule").unwrap_or(""),
                parsed.get("restart").unwrap_or("OnFailure"),
                &parsed.positional[before_dash..],
            ))
        }
        "create namespace" => Ok(generators::namespace(name)),
        "create serviceaccount" => Ok(generators::service_account(name)),
        "create deployment" => {
            let images = parsed.get_all("image");
            if images.is_empty() {
                return Err("error: required flag(s) \"image\" not set\n".into());
            }
            let replicas = parsed
                .int(&value("replicas", Some('r')), command)?
                .unwrap_or(1);
            let port = parsed.get("port").and_then(|p| p.parse::<i64>().ok());
            let container_command = &parsed.positional[before_dash..];
            if images.len() > 1 && !container_command.is_empty() {
                return Err("error: cannot specify multiple --image options and command\n".into());
            }
            Ok(generators::deployment(
                name,
                &images,
                replicas,
                port,
                container_command,
            ))
        }
        "create configmap" => generators::configmap(name, &parsed.get_all("from-literal")),
        "create secret generic" => {
            generators::secret(name, &parsed.get_all("from-literal"), parsed.get("type"))
        }
        "create service" => {
            let kind = if args[1] == "nodeport" {
                "NodePort"
            } else {
                "ClusterIP"
            };
            let tcp = parsed.get_all("tcp");
            if tcp.is_empty() {
                return Err("error: at least one tcp port specifier must be provided\n".into());
            }
            generators::service(kind, name, &tcp)
        }
        "create poddisruptionbudget" => generators::pod_disruption_budget(
            name,
            parsed.get("selector").unwrap_or(""),
            parsed.get("min-available"),
            parsed.get("max-unavailable"),
        ),
        _ => Err(format!("error: unknown command {command:?}\n")),
    }
    .map(|obj| (obj, Vec::new()))
}

/// `create job NAME --from=cronjob/CRONJOB`: the Job made from that CronJob.
fn job_from(
    transport: &mut dyn Transport,
    name: &str,
    from: &str,
    namespace: &str,
) -> Result<Value, String> {
    let missing = format!("error: invalid resource name {from:?}\n");
    let fetched = fetch_target(transport, &[from], &missing, namespace)?;
    if fetched.object["kind"] != "CronJob" {
        return Err(format!(
            "error: unknown object type *{}.{}\n",
            fetched.resource.version, fetched.resource.kind
        ));
    }
    Ok(generators::job_from_cronjob(name, &fetched.object))
}

/// Creates one object and prints what kubectl prints for it.
pub(super) fn create_one(
    transport: &mut dyn Transport,
    resource: &ResourceInfo,
    obj: Value,
    options: &CreateOptions,
    source: Option<&str>,
) -> Output {
    let mut out = Output::default();
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(options.namespace)
        .to_string();
    let mode = options.mode;
    let shown = if mode == DryRun::Client {
        obj
    } else {
        let mut req = Request::post(resource.collection_path(Some(&ns)), obj.to_string());
        if mode == DryRun::Server {
            req = req.with_query("dryRun", "All");
        }
        if let Some(validation) = options.validation {
            req = req.with_query("fieldValidation", validation);
        }
        let response = transport.send(req);
        if !response.is_success() {
            out.fail(match source {
                Some(s) => source_error(&response, "creating", s),
                None => server_error(&response),
            });
            return out;
        }
        response.body_json()
    };
    let name = shown
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    match options.output {
        Some("yaml") => out.out(structured::yaml(&shown)),
        Some("json") => out.out(structured::json(&shown)),
        Some("name") => out.out(format!("{}/{name}\n", kind_prefix(resource))),
        _ => {
            let suffix = mode.suffix();
            out.out(format!(
                "{}/{name} created{suffix}\n",
                kind_prefix(resource)
            ));
        }
    }
    out
}

/// `kubectl create -f`: every object of the manifests, then any read error.
fn from_manifests(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    parsed: &Parsed,
    options: &CreateOptions,
    stdin: Option<&str>,
) -> Output {
    let mut out = Output::default();
    if !parsed.positional.is_empty() {
        out.fail(format!(
            "error: Unexpected args: [{}]\nSee 'kubectl create -h' for help and examples\n",
            parsed.positional.join(" ")
        ));
        return out;
    }
    let Some(file) = parsed.get("filename") else {
        out.fail("error: must specify one of -f and -k\n\n");
        return out;
    };
    let (read, source) = match super::read_manifests(kubectl, file, stdin) {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    if read.objects.is_empty() && read.error.is_none() {
        out.fail("error: no objects passed to create\n");
        return out;
    }
    let resources = discover(transport);
    let mut errors = Output::default();
    for obj in read.objects {
        match resource_for(&resources, &obj, &source) {
            Ok(resource) => {
                let result = create_one(transport, resource, obj, options, Some(&source));
                for (stream, text) in result.chunks {
                    match stream {
                        crate::output::Stream::Stdout => out.out(text),
                        crate::output::Stream::Stderr => errors.fail(text),
                    }
                }
            }
            Err(e) => errors.fail(e),
        }
    }
    out.extend(errors);
    if let Some(e) = read.error {
        out.fail(e);
    }
    out
}
