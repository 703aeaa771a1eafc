//! kubectl's commands, one file each.

mod api_resources;
mod api_versions;
mod apply;
mod auth;
mod autoscale;
mod cluster_info;
mod config;
mod cordon;
mod create;
mod create_rbac;
mod delete;
mod describe;
mod diff;
mod drain;
pub mod edit;
mod events;
mod explain;
mod expose;
mod generators;
mod get;
mod get_watch;
mod logs;
mod mapping;
mod meta_edit;
mod patch;
mod replace;
mod rollout;
mod run;
mod scale;
mod set_env;
mod set_image;
mod taint;
mod target;
mod three_way;
mod top;
mod version;
mod wait;

use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

/// The objects behind `-f` and the name errors use for their source (`STDIN` or the
/// file); a read error for a later document comes back inside the manifests.
fn read_manifests(
    kubectl: &Kubectl,
    file: &str,
    stdin: Option<&str>,
) -> Result<(crate::manifests::Manifests, String), String> {
    let (text, source) = read_source(kubectl, file, stdin)?;
    Ok((crate::manifests::read(&text, &source), source))
}

/// The text behind `-f`: stdin for `-`, else a file; with the name errors use.
fn read_source(
    kubectl: &Kubectl,
    file: &str,
    stdin: Option<&str>,
) -> Result<(String, String), String> {
    if file == "-" {
        return Ok((stdin.unwrap_or("").to_string(), "STDIN".to_string()));
    }
    match kubectl.read_file.map(|read| read(file)) {
        Some(Ok(text)) => Ok((text, file.to_string())),
        _ => Err(format!(
            "error: the path {file:?} does not exist
"
        )),
    }
}

/// Dispatches a command line to its command; `stdin` is what `-f -` reads.
pub fn run(
    kubectl: &mut Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Output {
    let mut out = Output::default();
    match args.first().map(String::as_str) {
        Some("get") => return get::run(kubectl, transport, &args[1..]),
        Some("apply") => return apply::run(kubectl, transport, &args[1..], stdin),
        Some("edit") => return edit::run(kubectl, transport, &args[1..]),
        Some("diff") => return diff::run(kubectl, transport, &args[1..], stdin),
        Some("annotate") => {
            return meta_edit::run(
                kubectl,
                transport,
                &args[1..],
                meta_edit::Field::Annotations,
            )
        }
        Some("api-resources") => return api_resources::run(transport, &args[1..]),
        Some("api-versions") => return api_versions::run(transport, &args[1..]),
        Some("describe") => return describe::run(kubectl, transport, &args[1..]),
        Some("expose") => return expose::run(kubectl, transport, &args[1..]),
        Some("logs") => return logs::run(kubectl, transport, &args[1..]),
        Some("label") => {
            return meta_edit::run(kubectl, transport, &args[1..], meta_edit::Field::Labels)
        }
        Some("patch") => return patch::run(kubectl, transport, &args[1..]),
        Some("replace") => return replace::run(kubectl, transport, &args[1..], stdin),
        Some("set") if args.get(1).is_some_and(|a| a == "image") => {
            return set_image::run(kubectl, transport, &args[2..])
        }
        Some("set") if args.get(1).is_some_and(|a| a == "env") => {
            return set_env::run(kubectl, transport, &args[2..])
        }
        Some("rollout") => return rollout::run(kubectl, transport, &args[1..]),
        Some("run") => return run::run(kubectl, transport, &args[1..]),
        Some("scale") => return scale::run(kubectl, transport, &args[1..]),
        Some("cordon") => return cordon::run(transport, &args[1..], true),
        Some("uncordon") => return cordon::run(transport, &args[1..], false),
        Some("taint") => return taint::run(transport, &args[1..]),
        Some("drain") => return drain::run(transport, &args[1..]),
        Some("top") => return top::run(kubectl, transport, &args[1..]),
        Some("auth") => return auth::run(kubectl, transport, &args[1..]),
        Some("autoscale") => return autoscale::run(kubectl, transport, &args[1..]),
        Some("wait") => return wait::run(kubectl, transport, &args[1..]),
        Some("events") => return events::run(kubectl, transport, &args[1..]),
        Some("explain") => return explain::run(transport, &args[1..]),
        Some("version") => return version::run(transport, &args[1..]),
        Some("cluster-info") => return cluster_info::run(kubectl, transport),
        Some("config") => return config::run(kubectl, &args[1..]),
        Some("create") => return create::run(kubectl, transport, &args[1..], stdin),
        Some("delete") => return delete::run(kubectl, transport, &args[1..], stdin),
        Some(other) if !other.starts_with('-') => {
            out.fail(format!(
                "error: unknown command {other:?} for \"kubectl\"\n"
            ));
        }
        _ => out.fail("error: a command is required, e.g. \"kubectl get pods\"\n"),
    }
    out
}
