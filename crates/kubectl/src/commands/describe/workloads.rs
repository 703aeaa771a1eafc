//! Describers for Deployments, ReplicaSets, DaemonSets and StatefulSets, as upstream's:
//! replica (or node) counts, strategy, the pod template, conditions, the old and
//! new ReplicaSets, and events.

use kubecraft_cluster::api::labels::LabelSelector;
use kubecraft_cluster::api::Request;
use serde_json::Value;

use super::super::target::{controlled_replicasets, template_without_hash};
use super::{
    annotations, controlled_by, describe_container, events, events_for, labels, rfc1123z,
    sorted_pairs, strings, text, tolerations, Writer,
};
use crate::transport::Transport;

/// A label selector as `metav1.LabelSelectorAsSelector(...).String()` prints it.
pub(super) fn selector_string(selector: &Value) -> String {
    match LabelSelector::from_json(selector).map(|s| s.to_string()) {
        Ok(text) if !text.is_empty() => text,
        _ => "<none>".into(),
    }
}

/// Upstream's `DescribePodTemplate`.
/// Upstream's `printTemplate`: the pod template as `DescribePodTemplate` writes it,
/// tabs left in (`rollout history --revision` prints it without a tabwriter).
pub(crate) fn pod_template_text(template: &Value) -> String {
    let mut w = Writer::default();
    pod_template(&mut w, template);
    w.pending
}

pub(super) fn pod_template(w: &mut Writer, template: &Value) {
    w.write(0, "Pod Template:\n");
    labels(w, "  Labels", template.pointer("/metadata/labels"));
    if template
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| !a.is_empty())
    {
        let mut inner = Writer::default();
        annotations(&mut inner, template.pointer("/metadata/annotations"));
        w.write(0, &format!("  {}", inner.pending));
    }
    let spec = &template["spec"];
    if !text(spec, "/serviceAccountName").is_empty() {
        w.write(
            1,
            &format!("Service Account:\t{}\n", text(spec, "/serviceAccountName")),
        );
    }
    for (list, label) in [
        ("initContainers", "Init Containers"),
        ("containers", "Containers"),
    ] {
        let containers = spec[list].as_array().cloned().unwrap_or_default();
        if list == "initContainers" && containers.is_empty() {
            continue;
        }
        let none = if containers.is_empty() { " <none>" } else { "" };
        w.write(0, &format!("  {label}:{none}\n"));
        for c in &containers {
            describe_container(w, c, None, " ");
        }
    }
    super::volumes::describe_volumes(w, spec.pointer("/volumes"), "  ");
    if !text(spec, "/priorityClassName").is_empty() {
        w.write(
            1,
            &format!(
                "Priority Class Name:\t{}\n",
                text(spec, "/priorityClassName")
            ),
        );
    }
    labels(w, "  Node-Selectors", spec.pointer("/nodeSelector"));
    tolerations(w, "  Tolerations", spec.pointer("/tolerations"));
}

/// The `Conditions:` table of a workload.
fn conditions(w: &mut Writer, obj: &Value) {
    let Some(list) = obj["status"]["conditions"]
        .as_array()
        .filter(|c| !c.is_empty())
    else {
        return;
    };
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for c in list {
        w.write(
            1,
            &format!(
                "{} \t{}\t{}\n",
                text(c, "/type"),
                text(c, "/status"),
                text(c, "/reason")
            ),
        );
    }
}

pub(super) fn int(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `name (status/spec replicas created), ...` or `<none>`.
fn sets_line(sets: &[&Value]) -> String {
    if sets.is_empty() {
        return "<none>".into();
    }
    sets.iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                text(rs, "/metadata/name"),
                int(rs, "/status/replicas"),
                int(rs, "/spec/replicas")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Upstream's `describeDeployment`.
pub(super) fn describe_deployment(transport: &mut dyn Transport, d: &Value, now_ms: i64) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(d, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(d, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(text(d, "/metadata/creationTimestamp"))
        ),
    );
    labels(&mut w, "Labels", d.pointer("/metadata/labels"));
    annotations(&mut w, d.pointer("/metadata/annotations"));
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(&d["spec"]["selector"])),
    );
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            int(d, "/spec/replicas"),
            int(d, "/status/updatedReplicas"),
            int(d, "/status/replicas"),
            int(d, "/status/availableReplicas"),
            int(d, "/status/unavailableReplicas")
        ),
    );
    w.write(
        0,
        &format!("StrategyType:\t{}\n", text(d, "/spec/strategy/type")),
    );
    w.write(
        0,
        &format!("MinReadySeconds:\t{}\n", int(d, "/spec/minReadySeconds")),
    );
    if let Some(ru) = d.pointer("/spec/strategy/rollingUpdate") {
        w.write(
            0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
                int_or_string(&ru["maxUnavailable"]),
                int_or_string(&ru["maxSurge"])
            ),
        );
    }
    pod_template(&mut w, &d["spec"]["template"]);
    conditions(&mut w, d);
    let sets = controlled_replicasets(transport, d).unwrap_or_default();
    if !sets.is_empty() {
        let template = template_without_hash(&d["spec"]["template"]);
        let new = sets
            .iter()
            .find(|rs| template_without_hash(&rs["spec"]["template"]) == template);
        let old: Vec<&Value> = sets.iter().filter(|rs| Some(*rs) != new).collect();
        w.write(0, &format!("OldReplicaSets:\t{}\n", sets_line(&old)));
        w.write(
            0,
            &format!(
                "NewReplicaSet:\t{}\n",
                sets_line(&new.into_iter().collect::<Vec<_>>())
            ),
        );
    }
    events(&mut w, &events_for(transport, d), now_ms);
    w.finish()
}

/// Running, Waiting (pending), Succeeded and Failed counts of the pods `owner`
/// selects and controls (upstream's `getPodStatusForController`).
fn controlled_pod_phases(transport: &mut dyn Transport, owner: &Value) -> [usize; 4] {
    let ns = text(owner, "/metadata/namespace");
    let pods = transport
        .send(
            Request::get(format!("/api/v1/namespaces/{ns}/pods"))
                .with_query("labelSelector", selector_string(&owner["spec"]["selector"])),
        )
        .body_json();
    let uid = &owner["metadata"]["uid"];
    let mut phases = [0; 4];
    for pod in pods["items"].as_array().into_iter().flatten() {
        let owned = pod["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|r| {
                r.iter()
                    .any(|r| r["controller"] == true && r["uid"] == *uid)
            });
        if !owned {
            continue;
        }
        match text(pod, "/status/phase") {
            "Running" => phases[0] += 1,
            "Pending" => phases[1] += 1,
            "Succeeded" => phases[2] += 1,
            "Failed" => phases[3] += 1,
            _ => {}
        }
    }
    phases
}

/// The `Pods Status:` line.
fn pods_status(w: &mut Writer, phases: [usize; 4]) {
    w.write(
        0,
        &format!(
            "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed\n",
            phases[0], phases[1], phases[2], phases[3]
        ),
    );
}

/// Upstream's `describeDaemonSet`.
pub(super) fn describe_daemonset(transport: &mut dyn Transport, ds: &Value, now_ms: i64) -> String {
    let phases = controlled_pod_phases(transport, ds);
    let node_selector: Vec<String> = ds["spec"]["template"]["spec"]["nodeSelector"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(ds, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(ds, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(&ds["spec"]["selector"])),
    );
    let node_selector = if node_selector.is_empty() {
        "<none>".to_string()
    } else {
        node_selector.join(",")
    };
    w.write(0, &format!("Node-Selector:\t{node_selector}\n"));
    labels(&mut w, "Labels", ds.pointer("/metadata/labels"));
    annotations(&mut w, ds.pointer("/metadata/annotations"));
    for (title, field) in [
        (
            "Desired Number of Nodes Scheduled",
            "desiredNumberScheduled",
        ),
        (
            "Current Number of Nodes Scheduled",
            "currentNumberScheduled",
        ),
        (
            "Number of Nodes Scheduled with Up-to-date Pods",
            "updatedNumberScheduled",
        ),
        (
            "Number of Nodes Scheduled with Available Pods",
            "numberAvailable",
        ),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ] {
        let count = ds["status"][field].as_i64().unwrap_or(0);
        w.write(0, &format!("{title}: {count}\n"));
    }
    pods_status(&mut w, phases);
    pod_template(&mut w, &ds["spec"]["template"]);
    events(&mut w, &events_for(transport, ds), now_ms);
    w.finish()
}

/// Upstream's `describeStatefulSet`.
pub(super) fn describe_statefulset(
    transport: &mut dyn Transport,
    sts: &Value,
    now_ms: i64,
) -> String {
    let phases = controlled_pod_phases(transport, sts);
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(sts, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(sts, "/metadata/namespace")),
    );
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(text(sts, "/metadata/creationTimestamp"))
        ),
    );
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(&sts["spec"]["selector"])),
    );
    labels(&mut w, "Labels", sts.pointer("/metadata/labels"));
    annotations(&mut w, sts.pointer("/metadata/annotations"));
    let spec = &sts["spec"];
    w.optional("Service Name", text(spec, "/serviceName"));
    w.optional("Pod Management Policy", text(spec, "/podManagementPolicy"));
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} total\n",
            int(sts, "/spec/replicas"),
            int(sts, "/status/replicas")
        ),
    );
    w.write(
        0,
        &format!("Update Strategy:\t{}\n", text(spec, "/updateStrategy/type")),
    );
    if let Some(partition) = spec.pointer("/updateStrategy/rollingUpdate/partition") {
        w.write(1, &format!("Partition:\t{partition}\n"));
        if let Some(max) = spec.pointer("/updateStrategy/rollingUpdate/maxUnavailable") {
            w.write(1, &format!("MaxUnavailable:\t{}\n", int_or_string(max)));
        }
    }
    if spec.get("persistentVolumeClaimRetentionPolicy").is_some() {
        w.write(0, "Persistent Volume Claim Retention Policy:\n");
        for (title, field) in [("WhenDeleted", "whenDeleted"), ("WhenScaled", "whenScaled")] {
            let policy = text(
                spec,
                &format!("/persistentVolumeClaimRetentionPolicy/{field}"),
            );
            w.write(1, &format!("{title}:\t{policy}\n"));
        }
    }
    pods_status(&mut w, phases);
    pod_template(&mut w, &spec["template"]);
    volume_claim_templates(&mut w, spec.get("volumeClaimTemplates"));
    events(&mut w, &events_for(transport, sts), now_ms);
    w.finish()
}

/// Upstream's `describeVolumeClaimTemplates`.
fn volume_claim_templates(w: &mut Writer, templates: Option<&Value>) {
    let templates = templates
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if templates.is_empty() {
        w.write(0, "Volume Claims:\t<none>\n");
        return;
    }
    w.write(0, "Volume Claims:\n");
    for pvc in &templates {
        w.write(1, &format!("Name:\t{}\n", text(pvc, "/metadata/name")));
        let class = pvc
            .pointer("/spec/storageClassName")
            .or_else(|| {
                pvc.pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
            })
            .and_then(Value::as_str)
            .unwrap_or("");
        w.write(1, &format!("StorageClass:\t{class}\n"));
        for (title, field) in [("Labels", "labels"), ("Annotations", "annotations")] {
            let pairs = sorted_pairs(pvc["metadata"].get(field));
            w.write(0, &format!("  {title}:\t"));
            if pairs.is_empty() {
                w.write(0, "<none>\n");
            }
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    w.write(0, "  \t");
                }
                w.write(0, &format!("{k}={v}\n"));
            }
        }
        let capacity = text(pvc, "/spec/resources/requests/storage");
        let capacity = if capacity.is_empty() {
            "<default>"
        } else {
            capacity
        };
        w.write(1, &format!("Capacity:\t{capacity}\n"));
        let modes = strings(&pvc["spec"]["accessModes"]);
        w.write(1, &format!("Access Modes:\t[{}]\n", modes.join(" ")));
    }
}

/// Upstream's `describeReplicaSet`.
pub(super) fn describe_replicaset(
    transport: &mut dyn Transport,
    rs: &Value,
    now_ms: i64,
) -> String {
    let ns = text(rs, "/metadata/namespace");
    let phases = controlled_pod_phases(transport, rs);
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(rs, "/metadata/name")));
    w.write(0, &format!("Namespace:\t{ns}\n"));
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(&rs["spec"]["selector"])),
    );
    labels(&mut w, "Labels", rs.pointer("/metadata/labels"));
    annotations(&mut w, rs.pointer("/metadata/annotations"));
    controlled_by(&mut w, rs);
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            int(rs, "/status/replicas"),
            int(rs, "/spec/replicas")
        ),
    );
    pods_status(&mut w, phases);
    pod_template(&mut w, &rs["spec"]["template"]);
    conditions(&mut w, rs);
    events(&mut w, &events_for(transport, rs), now_ms);
    w.finish()
}
