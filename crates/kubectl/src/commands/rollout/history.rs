//! `kubectl rollout history` and `kubectl rollout undo`: a Deployment's
//! revisions are its ReplicaSets and their revision annotations; a DaemonSet's
//! or StatefulSet's are its ControllerRevisions.

use kubecraft_cluster::api::Request;

use super::super::describe::pod_template_text;
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

/// One revision of a workload: its number, the object that records it (a
/// ReplicaSet or ControllerRevision), the pod template and the change cause.
struct Revision {
    number: i64,
    record: Value,
    template: Value,
    cause: String,
}

/// Whether `obj` is controlled by the object with `uid`.
fn controlled_by(obj: &Value, uid: &Value) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|r| {
            r.iter()
                .any(|r| r["controller"] == true && r["uid"] == *uid)
        })
}

/// The ControllerRevisions a DaemonSet or StatefulSet controls.
fn controller_revisions(
    transport: &mut dyn Transport,
    owner: &Value,
) -> Result<Vec<Revision>, String> {
    let namespace = owner["metadata"]["namespace"].as_str().unwrap_or("default");
    let response = transport.send(Request::get(format!(
        "/apis/apps/v1/namespaces/{namespace}/controllerrevisions"
    )));
    if !response.is_success() {
        return Err(server_error(&response));
    }
    Ok(response.body_json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| controlled_by(r, &owner["metadata"]["uid"]))
        .map(|r| {
            let mut template = r["data"]["spec"]["template"].clone();
            if let Some(map) = template.as_object_mut() {
                map.remove("$patch");
            }
            Revision {
                number: r["revision"].as_i64().unwrap_or(0),
                cause: r["metadata"]["annotations"][CHANGE_CAUSE]
                    .as_str()
                    .unwrap_or("<none>")
                    .to_string(),
                template,
                record: r.clone(),
            }
        })
        .collect())
}

/// The workload's revisions, oldest first.
fn revisions(transport: &mut dyn Transport, fetched: &Fetched) -> Result<Vec<Revision>, String> {
    let mut found = if fetched.resource.kind != "Deployment" {
        controller_revisions(transport, &fetched.object)?
    } else {
        controlled_replicasets(transport, &fetched.object)?
            .into_iter()
            .filter_map(|rs| {
                let number = rs["metadata"]["annotations"][REVISION]
                    .as_str()?
                    .parse()
                    .ok()?;
                let cause = rs["spec"]["template"]["metadata"]["annotations"][CHANGE_CAUSE]
                    .as_str()
                    .or_else(|| rs["metadata"]["annotations"][CHANGE_CAUSE].as_str())
                    .unwrap_or("<none>")
                    .to_string();
                Some(Revision {
                    number,
                    template: template_without_hash(&rs["spec"]["template"]),
                    cause,
                    record: rs,
                })
            })
            .collect()
    };
    found.sort_by_key(|r| r.number);
    Ok(found)
}

/// Runs `rollout history` (`--revision=N` prints that revision's pod template).
pub fn show(transport: &mut dyn Transport, fetched: &Fetched, parsed: &Parsed, out: &mut Output) {
    let revision = match parsed.int(&flags::value("revision", None), "rollout history") {
        Ok(r) => r.unwrap_or(0),
        Err(e) => return out.fail(e),
    };
    if revision < 0 {
        return out.fail(format!(
            "error: revision must be a positive integer: {revision}\n"
        ));
    }
    let found = match revisions(transport, fetched) {
        Ok(f) => f,
        Err(e) => return out.fail(e),
    };
    if revision > 0 {
        let Some(wanted) = found.iter().find(|r| r.number == revision) else {
            return out.fail("error: unable to find the specified revision\n");
        };
        // kubectl shows the ReplicaSet's template as stored, hash label included.
        let template = if fetched.resource.kind == "Deployment" {
            wanted.record["spec"]["template"].clone()
        } else {
            wanted.template.clone()
        };
        out.out(format!(
            "{}/{} with revision #{revision}\n{}\n",
            kind_prefix(&fetched.resource),
            fetched.name,
            pod_template_text(&template)
        ));
        return;
    }
    let prefix = format!("{}/{}", kind_prefix(&fetched.resource), fetched.name);
    if found.is_empty() {
        out.out(format!("{prefix} No rollout history found.\n"));
        return;
    }
    let width = found
        .iter()
        .map(|r| r.number.to_string().len())
        .max()
        .unwrap_or(0)
        .max("REVISION".len())
        + 2;
    let mut table = format!("{:<width$}CHANGE-CAUSE\n", "REVISION");
    for revision in &found {
        table.push_str(&format!(
            "{:<width$}{}\n",
            revision.number.to_string(),
            revision.cause
        ));
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
    let by_revisions = fetched.resource.kind != "Deployment";
    let target = if to_revision != 0 {
        match found.iter().find(|r| r.number == to_revision) {
            Some(revision) => revision,
            None => {
                return out.fail(format!(
                    "error: unable to find specified revision {to_revision} in history\n"
                ))
            }
        }
    } else if found.len() >= 2 {
        &found[found.len() - 2]
    } else if by_revisions {
        return out.fail("error: no last revision to roll back to\n");
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
    let restored = target.template.clone();
    if restored == template_without_hash(&d["spec"]["template"]) {
        out.out(format!(
            "{prefix} skipped rollback (current template already matches revision {to_revision})\n"
        ));
        return;
    }
    let patch = if by_revisions {
        json!([{"op": "replace", "path": "/spec/template", "value": restored}])
    } else {
        deployment_rollback(d, &target.record, restored)
    };
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

/// The JSON patch that rolls a Deployment back to a ReplicaSet's template and
/// annotations (keeping the Deployment's own bookkeeping annotations).
fn deployment_rollback(d: &Value, rs: &Value, template: Value) -> Value {
    let mut annotations = Map::new();
    for key in ANNOTATIONS_TO_SKIP {
        if let Some(v) = d["metadata"]["annotations"].get(*key) {
            annotations.insert(key.to_string(), v.clone());
        }
    }
    for (k, v) in rs["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])
}
