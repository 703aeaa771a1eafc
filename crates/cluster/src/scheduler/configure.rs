//! `sim scheduler config`: checks a `KubeSchedulerConfiguration` as kube-scheduler
//! would at start-up and stores it in the ConfigMap the scheduler watches
//! ([`CONFIG_MAP`] in `kube-system`), through the API like any other client; and
//! describes the profiles the stored configuration gives.

use serde_json::{json, Value};

use super::config;
use super::profile::{profiles, Profile};
use super::{CONFIG_KEY, CONFIG_MAP};
use crate::api::Request;
use crate::sim::World;

/// The actor these operations act as in the trace.
const ACTOR: &str = "sim";

fn config_map_path() -> String {
    format!("/api/v1/namespaces/kube-system/configmaps/{CONFIG_MAP}")
}

/// Checks `text` (kube-scheduler's error if it would not start with it), then stores
/// it; returns the profiles' scheduler names.
pub fn apply(world: &mut World, text: &str) -> Result<Vec<String>, String> {
    let loaded = config::load(text)?;
    let names = profiles(&loaded)?
        .into_iter()
        .map(|p| p.scheduler_name)
        .collect();
    let map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG_MAP, "namespace": "kube-system"},
        "data": {CONFIG_KEY: text},
    });
    let exists = world.call(ACTOR, &Request::get(config_map_path())).status == 200;
    let response = if exists {
        world.call(ACTOR, &Request::put(config_map_path(), map.to_string()))
    } else {
        world.call(
            ACTOR,
            &Request::post("/api/v1/namespaces/kube-system/configmaps", map.to_string()),
        )
    };
    if !response.is_success() {
        return Err(response.body_json()["message"]
            .as_str()
            .unwrap_or("the configuration could not be stored")
            .to_string());
    }
    Ok(names)
}

/// The profiles the stored configuration gives (upstream's defaults without one),
/// with their plugins at each extension point, as text.
pub fn describe(world: &mut World) -> Result<String, String> {
    let response = world.call(ACTOR, &Request::get(config_map_path()));
    let map: Value = response.body_json();
    let text = (response.status == 200).then(|| map["data"][CONFIG_KEY].as_str().unwrap_or(""));
    let loaded = config::stored(text)?;
    let mut text = String::new();
    for profile in profiles(&loaded)? {
        text.push_str(&describe_profile(&profile));
    }
    Ok(text)
}

fn describe_profile(profile: &Profile) -> String {
    let mut text = format!("profile: {}\n", profile.scheduler_name);
    if let Some(p) = profile.percentage_of_nodes_to_score {
        text.push_str(&format!("  percentageOfNodesToScore: {p}\n"));
    }
    for (point, plugins) in profile.describe() {
        let list = if plugins.is_empty() {
            "<none>".to_string()
        } else {
            plugins.join(", ")
        };
        text.push_str(&format!("  {point}: {list}\n"));
    }
    text
}
