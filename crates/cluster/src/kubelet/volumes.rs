//! The files a container sees through its `volumeMounts`, as the kubelet's volume
//! plugins write them: a ConfigMap's or Secret's keys (all, or the `items` named,
//! at their `path`s), the downward API's fields (labels and annotations as
//! `key="value"` lines), and projected volumes of those; and the mount failures
//! that keep a pod in `ContainerCreating` (`configmap "x" not found`).
//! Other volume types (emptyDir, hostPath, claims) mount empty.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, DownwardAPIVolumeFile, KeyToPath, Pod, Volume, VolumeProjection,
};

use super::containers;
use super::env::{field, resource_field, Sources};

/// Path → content of the files a container's mounts show.
pub type Files = BTreeMap<String, String>;

/// The ConfigMaps and Secrets the pod's volumes show.
pub fn referenced(pod: &Pod) -> Vec<(&'static str, String)> {
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    let keyed = volumes.flat_map(keyed_sources);
    keyed
        .map(|(kind, name, _, _)| (kind, name.to_string()))
        .collect()
}

/// A ConfigMap or Secret a volume shows: kind, name, the `items` it picks, `optional`.
type KeyedSource<'v> = (&'static str, &'v str, Option<&'v [KeyToPath]>, Option<bool>);

/// The ConfigMaps and Secrets a volume shows, itself or projected.
fn keyed_sources(volume: &Volume) -> Vec<KeyedSource<'_>> {
    let mut keyed: Vec<KeyedSource> = Vec::new();
    if let Some(c) = &volume.config_map {
        keyed.push(("ConfigMap", &c.name, c.items.as_deref(), c.optional));
    }
    if let Some(s) = &volume.secret {
        let name = s.secret_name.as_deref().unwrap_or("");
        keyed.push(("Secret", name, s.items.as_deref(), s.optional));
    }
    for source in projections(volume) {
        if let Some(c) = &source.config_map {
            keyed.push(("ConfigMap", &c.name, c.items.as_deref(), c.optional));
        }
        if let Some(s) = &source.secret {
            keyed.push(("Secret", &s.name, s.items.as_deref(), s.optional));
        }
    }
    keyed
}

/// The downward API's files a volume shows, itself or projected.
fn downward_items(volume: &Volume) -> impl Iterator<Item = &DownwardAPIVolumeFile> {
    let own = volume
        .downward_api
        .iter()
        .flat_map(|d| d.items.iter().flatten());
    let projected = projections(volume).filter_map(|p| p.downward_api.as_ref());
    own.chain(projected.flat_map(|d| d.items.iter().flatten()))
}

fn projections(volume: &Volume) -> impl Iterator<Item = &VolumeProjection> {
    let projected = volume.projected.iter();
    projected.flat_map(|p| p.sources.iter().flatten())
}

/// The first volume of the pod that cannot be set up, with the kubelet's message
/// (`MountVolume.SetUp failed for volume "config" : configmap "app" not found`).
pub fn mount_failure(pod: &Pod, sources: &Sources) -> Option<String> {
    let mut volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    volumes.find_map(|volume| {
        let reason = volume_files(pod, volume, None, sources).err()?;
        Some(format!(
            "MountVolume.SetUp failed for volume {:?} : {reason}",
            volume.name
        ))
    })
}

/// Where every container finds its service account's credentials.
const SERVICE_ACCOUNT_DIRECTORY: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The files `container` sees under its mounts, and its service account's
/// `namespace` file (unless `automountServiceAccountToken` is false).
pub fn mounted_files(pod: &Pod, container: &Container, sources: &Sources) -> Files {
    let mut files = Files::new();
    let spec = pod.spec.as_ref();
    if spec.and_then(|s| s.automount_service_account_token) != Some(false) {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        files.insert(format!("{SERVICE_ACCOUNT_DIRECTORY}/namespace"), namespace);
    }
    let volumes = pod.spec.iter().flat_map(|s| s.volumes.iter().flatten());
    let by_name: BTreeMap<&str, &Volume> = volumes.map(|v| (v.name.as_str(), v)).collect();
    for mount in container.volume_mounts.iter().flatten() {
        let Some(volume) = by_name.get(mount.name.as_str()) else {
            continue;
        };
        let Ok(shown) = volume_files(pod, volume, Some(container), sources) else {
            continue;
        };
        let root = mount.mount_path.trim_end_matches('/');
        let sub_path = mount.sub_path.as_deref().filter(|p| !p.is_empty());
        for (path, content) in shown {
            match sub_path {
                // A subPath mounts one file (or directory) of the volume at the mount path.
                Some(sub) if path == sub => {
                    files.insert(root.to_string(), content);
                }
                Some(sub) => {
                    if let Some(rest) = path.strip_prefix(&format!("{sub}/")) {
                        files.insert(format!("{root}/{rest}"), content);
                    }
                }
                None => {
                    files.insert(format!("{root}/{path}"), content);
                }
            }
        }
    }
    files
}

/// The files of one volume (relative paths), or why it cannot be set up.
fn volume_files(
    pod: &Pod,
    volume: &Volume,
    container: Option<&Container>,
    sources: &Sources,
) -> Result<Files, String> {
    let mut files = Files::new();
    for (kind, name, items, optional) in keyed_sources(volume) {
        keyed(
            &mut files,
            sources,
            kind,
            name,
            items,
            optional == Some(true),
        )?;
    }
    downward(&mut files, pod, downward_items(volume), container, sources)?;
    Ok(files)
}

/// A ConfigMap's or Secret's keys as files: every key, or the `items` at their paths.
fn keyed(
    files: &mut Files,
    sources: &Sources,
    kind: &'static str,
    name: &str,
    items: Option<&[KeyToPath]>,
    optional: bool,
) -> Result<(), String> {
    let lower = kind.to_ascii_lowercase();
    let data = match sources.data.get(&(kind, name.to_string())) {
        Some(Some(data)) => data,
        _ if optional => return Ok(()),
        _ => return Err(format!("{lower} {name:?} not found")),
    };
    match items {
        None => files.extend(data.iter().map(|(k, v)| (k.clone(), v.clone()))),
        Some(items) => {
            for item in items {
                match data.get(&item.key) {
                    Some(value) => {
                        files.insert(item.path.clone(), value.clone());
                    }
                    None if optional => {}
                    None => {
                        return Err(format!(
                            "{lower} references non-existent config key: {}",
                            item.key
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// The downward API's files: each item's field, or its container's resource.
fn downward<'a>(
    files: &mut Files,
    pod: &Pod,
    items: impl Iterator<Item = &'a DownwardAPIVolumeFile>,
    container: Option<&Container>,
    sources: &Sources,
) -> Result<(), String> {
    for item in items {
        let content = if let Some(f) = &item.field_ref {
            match f.field_path.as_str() {
                "metadata.labels" => format_map(pod.metadata.labels.as_ref()),
                "metadata.annotations" => format_map(pod.metadata.annotations.as_ref()),
                path => field(pod, path).unwrap_or_default(),
            }
        } else if let Some(r) = &item.resource_field_ref {
            let named = r.container_name.as_deref().unwrap_or("");
            let Some(of) = containers::named(pod, named).or(container) else {
                continue;
            };
            let divisor = r.divisor.as_ref().map(|d| d.0.as_str());
            resource_field(of, &r.resource, divisor, &sources.node_allocatable)?
        } else {
            continue;
        };
        files.insert(item.path.clone(), content);
    }
    Ok(())
}

/// Labels or annotations as upstream's `FormatMap` writes them: `key="value"`
/// lines in key order, with no newline after the last.
fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    let lines: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={value:?}"))
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "kubernetes-downwardapi-volume-example", "namespace": "default",
                "labels": {"zone": "us-est-coast", "cluster": "test-cluster1", "rack": "rack-22"},
                "annotations": {"build": "two", "builder": "john-doe"}},
            "spec": spec,
        }))
        .unwrap()
    }

    fn sources(config: Option<&[(&str, &str)]>) -> Sources {
        let mut sources = Sources::default();
        let data = config.map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        });
        sources
            .data
            .insert(("ConfigMap", "special-config".into()), data);
        sources
    }

    #[test]
    fn a_config_map_s_keys_or_items_are_files_under_the_mount() {
        let p = pod(json!({
            "automountServiceAccountToken": false,
            "containers": [{"name": "c", "volumeMounts": [
                {"name": "all", "mountPath": "/etc/config"},
                {"name": "some", "mountPath": "/etc/picked/"}]}],
            "volumes": [
                {"name": "all", "configMap": {"name": "special-config"}},
                {"name": "some", "configMap": {"name": "special-config",
                    "items": [{"key": "SPECIAL_LEVEL", "path": "keys"}]}}]
        }));
        let config = [("SPECIAL_LEVEL", "very"), ("SPECIAL_TYPE", "charm")];
        let s = sources(Some(&config));
        let files = mounted_files(&p, &p.spec.as_ref().unwrap().containers[0], &s);
        let expected: Files = [
            ("/etc/config/SPECIAL_LEVEL", "very"),
            ("/etc/config/SPECIAL_TYPE", "charm"),
            ("/etc/picked/keys", "very"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(files, expected);
        assert_eq!(mount_failure(&p, &s), None);
    }

    #[test]
    fn a_missing_config_map_or_key_fails_the_mount_unless_optional() {
        let spec = |optional: bool, items: serde_json::Value| {
            pod(
                json!({"containers": [{"name": "c"}], "volumes": [{"name": "config-volume",
                "configMap": {"name": "special-config", "optional": optional, "items": items}}]}),
            )
        };
        assert_eq!(
            mount_failure(&spec(false, json!(null)), &sources(None)).as_deref(),
            Some("MountVolume.SetUp failed for volume \"config-volume\" : configmap \"special-config\" not found")
        );
        assert_eq!(
            mount_failure(&spec(true, json!(null)), &sources(None)),
            None
        );
        let missing_key = spec(false, json!([{"key": "NOPE", "path": "p"}]));
        assert_eq!(
            mount_failure(&missing_key, &sources(Some(&[("A", "1")]))).as_deref(),
            Some("MountVolume.SetUp failed for volume \"config-volume\" : configmap references non-existent config key: NOPE")
        );
    }

    #[test]
    fn the_downward_api_writes_labels_and_annotations_as_upstream_formats_them() {
        let p = pod(json!({
            "containers": [{"name": "client-container", "volumeMounts": [
                {"name": "podinfo", "mountPath": "/etc/podinfo"}],
                "resources": {"limits": {"cpu": "500m"}}}],
            "volumes": [{"name": "podinfo", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                {"path": "cpu_limit", "resourceFieldRef": {"containerName": "client-container",
                    "resource": "limits.cpu", "divisor": "1m"}}]}}]
        }));
        let files = mounted_files(
            &p,
            &p.spec.as_ref().unwrap().containers[0],
            &Sources::default(),
        );
        assert_eq!(
            files["/etc/podinfo/labels"],
            "cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\""
        );
        assert_eq!(
            files["/etc/podinfo/annotations"],
            "build=\"two\"\nbuilder=\"john-doe\""
        );
        assert_eq!(
            files["/etc/podinfo/name"],
            "kubernetes-downwardapi-volume-example"
        );
        assert_eq!(files["/etc/podinfo/cpu_limit"], "500");
        assert_eq!(
            files["/var/run/secrets/kubernetes.io/serviceaccount/namespace"],
            "default"
        );
    }

    #[test]
    fn a_projected_volume_gathers_its_sources_in_one_directory() {
        let p = pod(json!({
            "containers": [{"name": "c", "volumeMounts": [{"name": "all-in-one", "mountPath": "/projected-volume"}]}],
            "volumes": [{"name": "all-in-one", "projected": {"sources": [
                {"configMap": {"name": "special-config", "items": [{"key": "SPECIAL_TYPE", "path": "type"}]}},
                {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}}]
        }));
        let config = [("SPECIAL_TYPE", "charm")];
        let s = sources(Some(&config));
        let files = mounted_files(&p, &p.spec.as_ref().unwrap().containers[0], &s);
        assert_eq!(files["/projected-volume/type"], "charm");
        assert!(files["/projected-volume/labels"].starts_with("cluster=\"test-cluster1\""));
        assert_eq!(
            referenced(&p),
            [("ConfigMap", "special-config".to_string())]
        );
        assert_eq!(mount_failure(&p, &sources(None)).as_deref(), Some(
            "MountVolume.SetUp failed for volume \"all-in-one\" : configmap \"special-config\" not found"
        ));
    }
}
