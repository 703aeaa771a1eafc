//! The PersistentVolumeClaim describer, as upstream's `describePersistentVolumeClaim`:
//! class, phase, volume, labels, finalizers, capacity and access modes once bound,
//! the pods using the claim, its conditions and events.

use serde_json::Value;

use super::{annotations, conditions_table, events, labels, strings, text, Writer};

/// Upstream's short access mode names, in its order.
const ACCESS_MODES: [(&str, &str); 4] = [
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
];

/// The claim's class: the beta annotation first, then `spec.storageClassName`.
fn class(claim: &Value) -> &str {
    claim
        .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(claim, "/spec/storageClassName"))
}

/// `kubectl describe persistentvolumeclaim`; `pods` are the namespace's pods.
pub(super) fn describe_claim(
    claim: &Value,
    pods: &[Value],
    event_list: &[Value],
    now_ms: i64,
) -> String {
    let name = text(claim, "/metadata/name");
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{name}\n"));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(claim, "/metadata/namespace")),
    );
    w.write(0, &format!("StorageClass:\t{}\n", class(claim)));
    if let Some(deleted) = claim
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
    {
        let lasts = kubecraft_cluster::apiserver::tables::age::age(Some(deleted), now_ms);
        w.write(0, &format!("Status:\tTerminating (lasts {lasts})\n"));
    } else {
        w.write(0, &format!("Status:\t{}\n", text(claim, "/status/phase")));
    }
    let volume = text(claim, "/spec/volumeName");
    w.write(0, &format!("Volume:\t{volume}\n"));
    labels(&mut w, "Labels", claim.pointer("/metadata/labels"));
    annotations(&mut w, claim.pointer("/metadata/annotations"));
    let finalizers = strings(&claim["metadata"]["finalizers"]);
    w.write(0, &format!("Finalizers:\t[{}]\n", finalizers.join(" ")));
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        let held = strings(&claim["status"]["accessModes"]);
        let modes: Vec<&str> = ACCESS_MODES
            .iter()
            .filter(|(long, _)| held.contains(long))
            .map(|(_, short)| *short)
            .collect();
        (
            text(claim, "/status/capacity/storage").to_string(),
            modes.join(","),
        )
    };
    w.write(0, &format!("Capacity:\t{capacity}\n"));
    w.write(0, &format!("Access Modes:\t{modes}\n"));
    if let Some(mode) = claim.pointer("/spec/volumeMode").and_then(Value::as_str) {
        w.write(0, &format!("VolumeMode:\t{mode}\n"));
    }
    if let Some(source) = claim.pointer("/spec/dataSource").filter(|s| s.is_object()) {
        w.write(0, "DataSource:\n");
        if let Some(group) = source["apiGroup"].as_str() {
            w.write(1, &format!("APIGroup:\t{group}\n"));
        }
        w.write(1, &format!("Kind:\t{}\n", text(source, "/kind")));
        w.write(1, &format!("Name:\t{}\n", text(source, "/name")));
    }
    let mut users: Vec<&str> = pods
        .iter()
        .filter(|pod| {
            pod["spec"]["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v["persistentVolumeClaim"]["claimName"] == name)
        })
        .map(|pod| text(pod, "/metadata/name"))
        .collect();
    users.sort_unstable();
    users.dedup();
    w.write(0, "Used By:\t");
    if users.is_empty() {
        w.write(0, "<none>\n");
    }
    for (i, user) in users.iter().enumerate() {
        if i > 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{user}\n"));
    }
    let conditions = claim["status"]["conditions"]
        .as_array()
        .filter(|c| !c.is_empty());
    if let Some(conditions) = conditions {
        conditions_table(&mut w, conditions, "LastProbeTime", "/lastProbeTime");
    }
    events(&mut w, event_list, now_ms);
    w.finish()
}
