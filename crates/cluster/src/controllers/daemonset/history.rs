//! A DaemonSet's history as ControllerRevisions (`<name>-<hash>`, data =
//! the template as a `$patch: replace` patch, `revision` counting up), as
//! upstream's `constructHistory` and `cleanupHistory` keep it: the current
//! template's revision is created or moved to the top, and old revisions past
//! `revisionHistoryLimit` go unless a live pod still runs them.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use serde_json::json;

use super::placement::REVISION_HASH_LABEL;
use crate::api::Request;
use crate::controllers::owners::{controller_ref, is_controlled_by};
use crate::sim::Ctx;

fn revisions_path(namespace: &str) -> String {
    format!("/apis/apps/v1/namespaces/{namespace}/controllerrevisions")
}

fn hash_of(revision: &ControllerRevision) -> &str {
    revision
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_HASH_LABEL))
        .map_or("", String::as_str)
}

/// The revision the DaemonSet's current template (hashed as `hash`) is stored as.
fn new_revision(ds: &DaemonSet, hash: &str, revision: i64) -> serde_json::Value {
    let template = ds
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let mut labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(REVISION_HASH_LABEL.into(), hash.into());
    let mut patch_template = serde_json::to_value(&template).unwrap_or_default();
    patch_template["$patch"] = json!("replace");
    json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": format!("{}-{hash}", ds.metadata.name.as_deref().unwrap_or("")),
            "namespace": ds.metadata.namespace,
            "labels": labels,
            "ownerReferences": [controller_ref("apps/v1", "DaemonSet", &ds.metadata)],
        },
        "data": {"spec": {"template": patch_template}},
        "revision": revision,
    })
}

/// Makes the current template the newest revision, then deletes old revisions
/// beyond the history limit that no pod in `live_hashes` runs.
pub fn sync_history<'a>(
    ds: &DaemonSet,
    hash: &str,
    revisions: impl Iterator<Item = &'a ControllerRevision>,
    live_hashes: &BTreeSet<String>,
    ctx: &mut Ctx,
) {
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    let namespace = ds.metadata.namespace.as_deref().unwrap_or("");
    let mut owned: Vec<&ControllerRevision> = revisions
        .filter(|r| is_controlled_by(&r.metadata, uid))
        .collect();
    owned.sort_by_key(|r| r.revision);
    let newest = owned.last().map_or(0, |r| r.revision);
    match owned.iter().find(|r| hash_of(r) == hash) {
        None => {
            let body = new_revision(ds, hash, newest + 1);
            ctx.call(Request::post(revisions_path(namespace), body.to_string()));
        }
        Some(current) if current.revision < newest => {
            let path = format!(
                "{}/{}",
                revisions_path(namespace),
                current.metadata.name.as_deref().unwrap_or("")
            );
            let patch = json!({"revision": newest + 1});
            ctx.call(Request::patch(
                path,
                "application/merge-patch+json",
                patch.to_string(),
            ));
        }
        Some(_) => {}
    }
    let limit = ds
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let old: Vec<&&ControllerRevision> = owned.iter().filter(|r| hash_of(r) != hash).collect();
    let mut to_kill = old.len().saturating_sub(limit);
    for revision in old {
        if to_kill == 0 {
            break;
        }
        if live_hashes.contains(hash_of(revision)) {
            continue;
        }
        let path = format!(
            "{}/{}",
            revisions_path(namespace),
            revision.metadata.name.as_deref().unwrap_or("")
        );
        ctx.call(Request::delete(path));
        to_kill -= 1;
    }
}
