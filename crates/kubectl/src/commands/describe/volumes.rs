//! A pod's (or pod template's) volumes as upstream's `describeVolumes` prints
//! them: each volume's name, then its source's type and fields.

use serde_json::Value;

use super::{text, Writer};

/// `Volumes:` with each volume; `space` indents the block inside a pod template.
pub(super) fn describe_volumes(w: &mut Writer, volumes: Option<&Value>, space: &str) {
    let Some(volumes) = volumes.and_then(Value::as_array).filter(|v| !v.is_empty()) else {
        w.write(0, &format!("{space}Volumes:\t<none>\n"));
        return;
    };
    w.write(0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for volume in volumes {
        w.write(1, &format!("{name_indent}{}:\n", text(volume, "/name")));
        describe_source(w, volume);
    }
}

/// `true` when the boolean at `pointer` is set and true, as upstream prints
/// `Optional` and `ReadOnly` (unset is false).
fn flag(obj: &Value, pointer: &str) -> bool {
    obj.pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn describe_source(w: &mut Writer, volume: &Value) {
    let field = |pointer: &str| text(volume, pointer).to_string();
    if volume.get("hostPath").is_some() {
        let kind = match field("/hostPath/type") {
            t if t.is_empty() => "<none>".to_string(),
            t => t,
        };
        w.write(2, "Type:\tHostPath (bare host directory volume)\n");
        w.write(2, &format!("Path:\t{}\n", field("/hostPath/path")));
        w.write(2, &format!("HostPathType:\t{kind}\n"));
    } else if let Some(dir) = volume.get("emptyDir") {
        let size = match text(dir, "/sizeLimit") {
            "" | "0" => "<unset>",
            size => size,
        };
        w.write(
            2,
            "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n",
        );
        w.write(2, &format!("Medium:\t{}\n", text(dir, "/medium")));
        w.write(2, &format!("SizeLimit:\t{size}\n"));
    } else if volume.get("secret").is_some() {
        w.write(2, "Type:\tSecret (a volume populated by a Secret)\n");
        w.write(
            2,
            &format!("SecretName:\t{}\n", field("/secret/secretName")),
        );
        w.write(
            2,
            &format!("Optional:\t{}\n", flag(volume, "/secret/optional")),
        );
    } else if volume.get("configMap").is_some() {
        w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n");
        w.write(2, &format!("Name:\t{}\n", field("/configMap/name")));
        w.write(
            2,
            &format!("Optional:\t{}\n", flag(volume, "/configMap/optional")),
        );
    } else if volume.get("persistentVolumeClaim").is_some() {
        w.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n");
        let claim = field("/persistentVolumeClaim/claimName");
        w.write(2, &format!("ClaimName:\t{claim}\n"));
        let read_only = flag(volume, "/persistentVolumeClaim/readOnly");
        w.write(2, &format!("ReadOnly:\t{read_only}\n"));
    } else if let Some(projected) = volume.get("projected") {
        describe_projected(w, projected);
    } else if let Some(downward) = volume.get("downwardAPI") {
        w.write(
            2,
            "Type:\tDownwardAPI (a volume populated by information about the pod)\n",
        );
        w.write(2, "Items:\n");
        for item in downward["items"].as_array().into_iter().flatten() {
            let path = text(item, "/path");
            if let Some(field_path) = item.pointer("/fieldRef/fieldPath") {
                let field_path = field_path.as_str().unwrap_or("");
                w.write(3, &format!("{field_path} -> {path}\n"));
            }
            if let Some(resource) = item.pointer("/resourceFieldRef/resource") {
                let resource = resource.as_str().unwrap_or("");
                w.write(3, &format!("{resource} -> {path}\n"));
            }
        }
    } else {
        w.write(1, "<unknown>\n");
    }
}

/// Upstream's `printProjectedVolumeSource`: each source on its own lines.
fn describe_projected(w: &mut Writer, projected: &Value) {
    w.write(
        2,
        "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
    );
    for source in projected["sources"].as_array().into_iter().flatten() {
        if let Some(secret) = source.get("secret") {
            w.write(2, &format!("SecretName:\t{}\n", text(secret, "/name")));
            w.write(2, &format!("Optional:\t{}\n", flag(secret, "/optional")));
        } else if source.get("downwardAPI").is_some() {
            w.write(2, "DownwardAPI:\ttrue\n");
        } else if let Some(map) = source.get("configMap") {
            w.write(2, &format!("ConfigMapName:\t{}\n", text(map, "/name")));
            w.write(2, &format!("Optional:\t{}\n", flag(map, "/optional")));
        } else if let Some(token) = source.get("serviceAccountToken") {
            let seconds = token["expirationSeconds"].as_i64().unwrap_or(3600);
            w.write(2, &format!("TokenExpirationSeconds:\t{seconds}\n"));
        }
    }
}
