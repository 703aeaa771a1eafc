//! Controller history as ControllerRevisions (`<owner>-<hash>`, data = the pod
//! template as a `$patch: replace` patch, `revision` counting up), kept as
//! upstream's DaemonSet and StatefulSet controllers keep it: the current
//! template's revision is created or moved to the top, and old revisions past
//! `revisionHistoryLimit` go unless a live pod still runs them.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use crate::api::Request;
use crate::controllers::owners::{controller_ref, is_controlled_by};
use crate::sim::Ctx;

/// What a workload's revisions are made of.
pub struct History<'a> {
    pub owner: &'a ObjectMeta,
    /// `DaemonSet` or `StatefulSet` (apps/v1).
    pub owner_kind: &'a str,
    pub template: &'a PodTemplateSpec,
    pub hash: &'a str,
    /// The label that carries the hash on a revision.
    pub hash_label: &'a str,
    /// Annotations copied onto new revisions (a DaemonSet's, for its change cause).
    pub annotations: Option<&'a BTreeMap<String, String>>,
    pub limit: usize,
}

impl History<'_> {
    /// The name of the revision of the current template.
    pub fn revision_name(&self) -> String {
        format!("{}-{}", self.owner.name.as_deref().unwrap_or(""), self.hash)
    }

    fn path(&self) -> String {
        format!(
            "/apis/apps/v1/namespaces/{}/controllerrevisions",
            self.owner.namespace.as_deref().unwrap_or("")
        )
    }

    fn new_revision(&self, revision: i64) -> serde_json::Value {
        let mut labels = self
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        labels.insert(self.hash_label.into(), self.hash.into());
        let mut patch_template = serde_json::to_value(self.template).unwrap_or_default();
        patch_template["$patch"] = json!("replace");
        json!({
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": self.revision_name(),
                "namespace": self.owner.namespace,
                "labels": labels,
                "annotations": self.annotations,
                "ownerReferences": [controller_ref("apps/v1", self.owner_kind, self.owner)],
            },
            "data": {"spec": {"template": patch_template}},
            "revision": revision,
        })
    }

    /// Makes the current template the newest revision, then deletes old revisions
    /// beyond the limit that no live pod runs (`live` holds revision names).
    pub fn sync<'r>(
        &self,
        revisions: impl Iterator<Item = &'r ControllerRevision>,
        live: &BTreeSet<String>,
        ctx: &mut Ctx,
    ) {
        let uid = self.owner.uid.as_deref().unwrap_or("");
        let mut owned: Vec<&ControllerRevision> = revisions
            .filter(|r| is_controlled_by(&r.metadata, uid))
            .collect();
        owned.sort_by_key(|r| r.revision);
        let newest = owned.last().map_or(0, |r| r.revision);
        let current_name = self.revision_name();
        let name_of = |r: &ControllerRevision| r.metadata.name.clone().unwrap_or_default();
        match owned.iter().find(|r| name_of(r) == current_name) {
            None => {
                let body = self.new_revision(newest + 1);
                ctx.call(Request::post(self.path(), body.to_string()));
            }
            Some(current) if current.revision < newest => {
                let patch = json!({"revision": newest + 1});
                ctx.call(Request::patch(
                    format!("{}/{current_name}", self.path()),
                    "application/merge-patch+json",
                    patch.to_string(),
                ));
            }
            Some(_) => {}
        }
        let old: Vec<&&ControllerRevision> = owned
            .iter()
            .filter(|r| name_of(r) != current_name)
            .collect();
        let mut to_kill = old.len().saturating_sub(self.limit);
        for revision in old {
            if to_kill == 0 {
                break;
            }
            let name = name_of(revision);
            if live.contains(&name) {
                continue;
            }
            ctx.call(Request::delete(format!("{}/{name}", self.path())));
            to_kill -= 1;
        }
    }
}
