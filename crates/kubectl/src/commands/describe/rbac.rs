//! The RBAC describers, as upstream's: a role's rules as a table (broken down,
//! compacted and sorted), a binding's role and subjects.

use serde_json::Value;

use super::{annotations, labels, text, Writer};
use crate::rbac_rules::{compact_sorted, from_json, row};

/// Upstream's `RoleDescriber` and `ClusterRoleDescriber`.
pub(super) fn describe_role(role: &Value) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(role, "/metadata/name")));
    labels(&mut w, "Labels", role.pointer("/metadata/labels"));
    annotations(&mut w, role.pointer("/metadata/annotations"));
    w.write(0, "PolicyRule:\n");
    w.write(1, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n");
    w.write(1, "---------\t-----------------\t--------------\t-----\n");
    let rules: Vec<_> = role["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(from_json)
        .collect();
    for rule in compact_sorted(&rules) {
        w.write(1, &format!("{}\n", row(&rule).join("\t")));
    }
    w.finish()
}

/// Upstream's `RoleBindingDescriber` and `ClusterRoleBindingDescriber`.
pub(super) fn describe_binding(binding: &Value) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(binding, "/metadata/name")));
    labels(&mut w, "Labels", binding.pointer("/metadata/labels"));
    annotations(&mut w, binding.pointer("/metadata/annotations"));
    w.write(0, "Role:\n");
    w.write(1, &format!("Kind:\t{}\n", text(binding, "/roleRef/kind")));
    w.write(1, &format!("Name:\t{}\n", text(binding, "/roleRef/name")));
    w.write(0, "Subjects:\n");
    w.write(1, "Kind\tName\tNamespace\n");
    w.write(1, "----\t----\t---------\n");
    for subject in binding["subjects"].as_array().into_iter().flatten() {
        w.write(
            1,
            &format!(
                "{}\t{}\t{}\n",
                text(subject, "/kind"),
                text(subject, "/name"),
                text(subject, "/namespace")
            ),
        );
    }
    w.finish()
}
