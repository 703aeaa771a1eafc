//! The API access volume the ServiceAccount admission plugin mounts into every
//! container of a pod (upstream's `mountServiceAccountToken`): a projected
//! `kube-api-access-<suffix>` volume holding a bound token, the cluster's CA
//! (`kube-root-ca.crt`) and the pod's namespace, read-only at
//! `/var/run/secrets/kubernetes.io/serviceaccount`.

use serde_json::{json, Value};

use crate::api::names::GENERATE_NAME_ALPHABET;

/// Where containers find the token (upstream's `DefaultAPITokenMountPath`).
const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The volume's name prefix (upstream's `ServiceAccountVolumeName`).
const VOLUME_PREFIX: &str = "kube-api-access-";
/// Upstream's `WarnOnlyBoundTokenExpirationSeconds`.
const TOKEN_EXPIRATION_SECONDS: i64 = 3607;
/// The generated suffix's length, as `SimpleNameGenerator` makes it.
const SUFFIX_LEN: usize = 5;

/// The projected source upstream's `TokenVolumeSource` describes.
fn token_volume(name: &str) -> Value {
    json!({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
            "path": "namespace"}]}}
    ]}})
}

/// A volume name suffix drawn from the pod's uid (FNV-1a), so it is as random as
/// the uid without taking a draw from the world's RNG.
fn suffix_of(uid: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in uid.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..SUFFIX_LEN)
        .map(|_| {
            let i = (hash % GENERATE_NAME_ALPHABET.len() as u64) as usize;
            hash /= GENERATE_NAME_ALPHABET.len() as u64;
            GENERATE_NAME_ALPHABET[i] as char
        })
        .collect()
}

/// Mounts the API access volume into each (init) container of `pod` that has no
/// mount at the token path yet, unless the pod's `automountServiceAccountToken`
/// (else the ServiceAccount's, `account_automounts`) says no.
pub(super) fn mount_token_volume(pod: &mut Value, account_automounts: Option<bool>) {
    let spec = &pod["spec"];
    let automount = spec["automountServiceAccountToken"]
        .as_bool()
        .or(account_automounts)
        .unwrap_or(true);
    if !automount {
        return;
    }
    let existing = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .find(|name| name.starts_with(VOLUME_PREFIX))
        .map(str::to_string);
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("");
    let name = existing
        .clone()
        .unwrap_or_else(|| format!("{VOLUME_PREFIX}{}", suffix_of(uid)));
    let mount = json!({"mountPath": TOKEN_MOUNT_PATH, "name": name, "readOnly": true});
    let mut mounted = false;
    for list in ["initContainers", "containers"] {
        let Some(containers) = pod["spec"].get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers {
            let has_mount = container["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["mountPath"] == TOKEN_MOUNT_PATH);
            if has_mount {
                continue;
            }
            match container
                .get_mut("volumeMounts")
                .and_then(Value::as_array_mut)
            {
                Some(mounts) => mounts.push(mount.clone()),
                None => container["volumeMounts"] = json!([mount.clone()]),
            }
            mounted = true;
        }
    }
    if mounted && existing.is_none() {
        match pod["spec"].get_mut("volumes").and_then(Value::as_array_mut) {
            Some(volumes) => volumes.push(token_volume(&name)),
            None => pod["spec"]["volumes"] = json!([token_volume(&name)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p", "uid": "6a1f3c2e-0000-4000-8000-000000000001"}, "spec": spec})
    }

    #[test]
    fn every_container_gets_the_read_only_token_mount_and_the_pod_one_volume() {
        let mut bare = pod(json!({"containers": [{"name": "a"}]}));
        mount_token_volume(&mut bare, None);
        assert!(bare["spec"].get("initContainers").is_none());
        let mut p = pod(
            json!({"initContainers": [{"name": "i"}], "containers": [{"name": "a"},
            {"name": "b", "volumeMounts": [{"name": "own", "mountPath": TOKEN_MOUNT_PATH}]}]}),
        );
        mount_token_volume(&mut p, None);
        let volumes = p["spec"]["volumes"].as_array().unwrap();
        assert_eq!(volumes.len(), 1);
        let name = volumes[0]["name"].as_str().unwrap();
        assert!(name.starts_with(VOLUME_PREFIX) && name.len() == VOLUME_PREFIX.len() + SUFFIX_LEN);
        assert_eq!(
            volumes[0]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3607
        );
        for c in [&p["spec"]["initContainers"][0], &p["spec"]["containers"][0]] {
            assert_eq!(
                c["volumeMounts"],
                json!([{"mountPath": TOKEN_MOUNT_PATH, "name": name, "readOnly": true}])
            );
        }
        // A container that mounts something at the path already keeps its own.
        assert_eq!(
            p["spec"]["containers"][1]["volumeMounts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // The same uid gives the same name.
        let mut again = pod(json!({"containers": [{"name": "a"}]}));
        mount_token_volume(&mut again, None);
        assert_eq!(again["spec"]["volumes"][0]["name"], name);
    }

    #[test]
    fn automount_follows_the_pod_then_the_service_account() {
        let mounted = |spec: Value, account: Option<bool>| {
            let mut p = pod(spec);
            mount_token_volume(&mut p, account);
            p["spec"].get("volumes").is_some()
        };
        let containers = json!([{"name": "a"}]);
        assert!(mounted(json!({"containers": containers}), None));
        assert!(!mounted(json!({"containers": containers}), Some(false)));
        assert!(mounted(
            json!({"containers": containers, "automountServiceAccountToken": true}),
            Some(false)
        ));
        assert!(!mounted(
            json!({"containers": containers, "automountServiceAccountToken": false}),
            None
        ));
    }
}
