//! `kubectl rollout history` and `kubectl rollout undo` for Deployments: the
//! revisions are the Deployment's ReplicaSets and their revision annotations.

use kubecraft_cluster::api::Request;

use super::super::target::{controlled_replicasets, template_without_hash};
use serde_json::{json, Map, Value};

use super::Fetched;
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::flags::{self, Parsed};
use crate::output::Output;
use crate::transport::Transport;

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Annotations a rollback keeps from the Deployment instead of the ReplicaSet.
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// The Deployment's ReplicaSets (controlled by it) with their revisions, in order.
fn revisions(
    transport: &mut dyn Transport,
    fetched: &Fetched,
) -> Result<Vec<(i64, Value)>, String> {
    let mut found: Vec<(i64, Value)> = controlled_replicasets(transport, &fetched.object)?
        .into_iter()
        .filter_map(|rs| {
            let revision = rs["metadata"]["annotations"][REVISION]
                .as_str()?
                .parse()
                .ok()?;
            Some((revision, rs))
        })
        .collect();
    found.sort_by_key(|(r, _)| *r);
    Ok(found)
}

/// Runs `rollout history`.
pub fn show(transport: &mut dyn Transport, fetched: &Fetched, _parsed: &Parsed, out: &mut Output) {
    let found = match revisions(transport, fetched) {
        Ok(f) => f,
        Err(e) => return out.fail(e),
    };
    let prefix = format!("{}/{}", kind_prefix(&fetched.resource), fetched.name);
    if found.is_empty() {
        out.out(format!("{prefix} No rollout history found.\n"));
        return;
    }
    let width = found
        .iter()
        .map(|(r, _)| r.to_string().len())
        .max()
        .unwrap_or(0)
        .max("REVISION".len())
        + 2;
    let mut table = format!("{:<width$}CHANGE-CAUSE\n", "REVISION");
    for (revision, rs) in &found {
        let cause = rs["spec"]["template"]["metadata"]["annotations"][CHANGE_CAUSE]
            .as_str()
            .or_else(|| rs["metadata"]["annotations"][CHANGE_CAUSE].as_str())
            .unwrap_or("<none>");
        table.push_str(&format!("{:<width$}{cause}\n", revision.to_string()));
    }
    out.out(format!("{prefix} \n{table}\n"));
}

/// Runs `rollout undo`: restores the template of the previous (or given) revision.
pub fn undo(transport: &mut dyn Transport, fetched: &Fetched, parsed: &Parsed, out: &mut Output) {
    let to_revision = match parsed.int(&flags::value("to-revision", None), "rollout undo") {
        Ok(revision) => revision.unwrap_or(0),
        Err(e) => return out.fail(e),
    };
    let found = match revisions(transport, fetched) {
        Ok(f) => f,
        Err(e) => return out.fail(e),
    };
    let d = &fetched.object;
    let target = if to_revision != 0 {
        match found.iter().find(|(r, _)| *r == to_revision) {
            Some((_, rs)) => rs,
            None => {
                return out.fail(format!(
                    "error: unable to find specified revision {to_revision} in history\n"
                ))
            }
        }
    } else if found.len() >= 2 {
        &found[found.len() - 2].1
    } else {
        return out.fail(format!(
            "error: no rollout history found for deployment {:?}\n",
            fetched.name
        ));
    };
    if d.pointer("/spec/paused") == Some(&json!(true)) {
        return out.fail(format!(
            "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/{}' and try again\n",
            fetched.name
        ));
    }
    let prefix = format!("{}/{}", kind_prefix(&fetched.resource), fetched.name);
    let restored = template_without_hash(&target["spec"]["template"]);
    if restored == template_without_hash(&d["spec"]["template"]) {
        out.out(format!(
            "{prefix} skipped rollback (current template already matches revision {to_revision})\n"
        ));
        return;
    }
    let mut annotations = Map::new();
    for key in ANNOTATIONS_TO_SKIP {
        if let Some(v) = d["metadata"]["annotations"].get(*key) {
            annotations.insert(key.to_string(), v.clone());
        }
    }
    for (k, v) in target["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    let patch = json!([
        {"op": "replace", "path": "/spec/template", "value": restored},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]);
    let response = transport.send(Request::patch(
        fetched.path.clone(),
        "application/json-patch+json",
        patch.to_string(),
    ));
    if response.is_success() {
        out.out(format!("{prefix} rolled back\n"));
    } else {
        out.fail(format!(
            "error: failed restoring revision {to_revision}: {}",
            server_error(&response).trim_start_matches("Error from server ")
        ));
    }
}
