//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`): decoding (strict,
//! as kube-scheduler's `--config`), upstream's defaults (the default plugins merged
//! with each profile's, default plugin arguments) and validation, in upstream's words.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{json, Value};

use super::framework::ExtensionPoint;
use super::plugin_args::PluginArgs;
use super::plugins::DEFAULT_PLUGINS;
use crate::api::status::FieldError;
use crate::apiserver::registry::field_path;

/// The group/version this configuration is read in.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The default profile's name.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// The largest configuration accepted (it is read into memory and kept in a ConfigMap).
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// A plugin named in a plugin set, with its score weight.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PluginRef {
    pub name: String,
    #[serde(default)]
    pub weight: Option<i64>,
}

/// Enabled and disabled plugins at one extension point.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PluginSet {
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

/// A profile's `plugins`: one set per extension point, and `multiPoint`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plugins {
    #[serde(default)]
    pub pre_enqueue: PluginSet,
    #[serde(default)]
    pub queue_sort: PluginSet,
    #[serde(default)]
    pub pre_filter: PluginSet,
    #[serde(default)]
    pub filter: PluginSet,
    #[serde(default)]
    pub post_filter: PluginSet,
    #[serde(default)]
    pub pre_score: PluginSet,
    #[serde(default)]
    pub score: PluginSet,
    #[serde(default)]
    pub reserve: PluginSet,
    #[serde(default)]
    pub permit: PluginSet,
    #[serde(default)]
    pub pre_bind: PluginSet,
    #[serde(default)]
    pub bind: PluginSet,
    #[serde(default)]
    pub post_bind: PluginSet,
    #[serde(default)]
    pub multi_point: PluginSet,
}

impl Plugins {
    /// The set for one extension point.
    pub fn at(&self, point: ExtensionPoint) -> &PluginSet {
        match point {
            ExtensionPoint::PreEnqueue => &self.pre_enqueue,
            ExtensionPoint::QueueSort => &self.queue_sort,
            ExtensionPoint::PreFilter => &self.pre_filter,
            ExtensionPoint::Filter => &self.filter,
            ExtensionPoint::PostFilter => &self.post_filter,
            ExtensionPoint::PreScore => &self.pre_score,
            ExtensionPoint::Score => &self.score,
            ExtensionPoint::Reserve => &self.reserve,
            ExtensionPoint::Permit => &self.permit,
            ExtensionPoint::PreBind => &self.pre_bind,
            ExtensionPoint::Bind => &self.bind,
            ExtensionPoint::PostBind => &self.post_bind,
        }
    }

    fn at_mut(&mut self, point: ExtensionPoint) -> &mut PluginSet {
        match point {
            ExtensionPoint::PreEnqueue => &mut self.pre_enqueue,
            ExtensionPoint::QueueSort => &mut self.queue_sort,
            ExtensionPoint::PreFilter => &mut self.pre_filter,
            ExtensionPoint::Filter => &mut self.filter,
            ExtensionPoint::PostFilter => &mut self.post_filter,
            ExtensionPoint::PreScore => &mut self.pre_score,
            ExtensionPoint::Score => &mut self.score,
            ExtensionPoint::Reserve => &mut self.reserve,
            ExtensionPoint::Permit => &mut self.permit,
            ExtensionPoint::PreBind => &mut self.pre_bind,
            ExtensionPoint::Bind => &mut self.bind,
            ExtensionPoint::PostBind => &mut self.post_bind,
        }
    }

    /// Every plugin enabled anywhere, `multiPoint` included, sorted.
    pub fn enabled_names(&self) -> BTreeSet<&str> {
        ExtensionPoint::ALL
            .iter()
            .map(|p| self.at(*p))
            .chain([&self.multi_point])
            .flat_map(|set| set.enabled.iter().map(|p| p.name.as_str()))
            .collect()
    }

    /// Upstream's defaults: the default `multiPoint` set merged with these.
    fn merged_with_defaults(&self) -> Plugins {
        let defaults = PluginSet {
            enabled: DEFAULT_PLUGINS
                .iter()
                .map(|(name, weight)| PluginRef {
                    name: (*name).into(),
                    weight: weight.map(i64::from),
                })
                .collect(),
            disabled: Vec::new(),
        };
        let mut merged = Plugins {
            multi_point: merge_plugin_set(&defaults, &self.multi_point),
            ..Plugins::default()
        };
        for point in ExtensionPoint::ALL {
            *merged.at_mut(point) = merge_plugin_set(&PluginSet::default(), self.at(point));
        }
        merged
    }
}

/// Upstream's `mergePluginSet`: defaults not disabled (a custom entry with the same
/// name replaces one in place), then the other custom plugins.
fn merge_plugin_set(defaults: &PluginSet, custom: &PluginSet) -> PluginSet {
    let disabled: BTreeSet<&str> = custom
        .disabled
        .iter()
        .chain(&defaults.disabled)
        .map(|p| p.name.as_str())
        .collect();
    let mut replaced = BTreeSet::new();
    let mut enabled = Vec::new();
    if !disabled.contains("*") {
        for default in &defaults.enabled {
            if disabled.contains(default.name.as_str()) {
                continue;
            }
            match custom.enabled.iter().position(|c| c.name == default.name) {
                Some(i) => {
                    replaced.insert(i);
                    enabled.push(custom.enabled[i].clone());
                }
                None => enabled.push(default.clone()),
            }
        }
    }
    for (i, plugin) in custom.enabled.iter().enumerate() {
        if !replaced.contains(&i) {
            enabled.push(plugin.clone());
        }
    }
    PluginSet {
        enabled,
        disabled: custom
            .disabled
            .iter()
            .chain(&defaults.disabled)
            .map(|p| PluginRef {
                name: p.name.clone(),
                weight: None,
            })
            .collect(),
    }
}

/// A profile's `pluginConfig` entry.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PluginConfig {
    pub name: String,
    #[serde(default)]
    pub args: Value,
}

/// One profile as written.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ProfileDocument {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<i64>,
    plugins: Option<Plugins>,
    #[serde(default)]
    plugin_config: Vec<PluginConfig>,
}

/// Fields kube-scheduler reads that the simulation has no use for: accepted as they are.
const UNUSED_FIELDS: [&str; 7] = [
    "apiVersion",
    "kind",
    "leaderElection",
    "clientConnection",
    "delayCacheUntilActive",
    "enableProfiling",
    "enableContentionProfiling",
];

/// The document as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigurationDocument {
    parallelism: Option<i64>,
    percentage_of_nodes_to_score: Option<i64>,
    pod_initial_backoff_seconds: Option<i64>,
    pod_max_backoff_seconds: Option<i64>,
    #[serde(default)]
    profiles: Vec<ProfileDocument>,
    #[serde(default)]
    extenders: Vec<Value>,
}

/// One profile after defaulting: its plugins merged with the defaults and the
/// arguments of every plugin that takes some.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileConfig {
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: Option<i64>,
    pub plugins: Plugins,
    /// Arguments by plugin, in the order written, then the defaulted ones.
    pub plugin_config: Vec<(String, Option<PluginArgs>)>,
}

/// The whole configuration after defaulting and validation.
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulerConfig {
    pub profiles: Vec<ProfileConfig>,
    pub percentage_of_nodes_to_score: i64,
    pub pod_initial_backoff_seconds: i64,
    pub pod_max_backoff_seconds: i64,
}

impl Default for SchedulerConfig {
    /// kube-scheduler without `--config`: one default profile.
    fn default() -> Self {
        defaulted(ConfigurationDocument::default()).expect("the defaults are valid")
    }
}

/// Upstream's aggregate of several errors: `[a, b]`; one error alone is itself.
pub(crate) fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Reads a configuration as kube-scheduler's `--config` does: YAML or JSON, strict
/// decoding, defaults, validation. The error is what kube-scheduler prints.
pub fn load(text: &str) -> Result<SchedulerConfig, String> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(format!(
            "the configuration is larger than {MAX_CONFIG_BYTES} bytes"
        ));
    }
    let value: Value = serde_yaml::from_str(text)
        .map_err(|e| format!("error converting YAML to JSON: yaml: {e}"))?;
    let api_version = value["apiVersion"].as_str().unwrap_or("");
    let kind = value["kind"].as_str().unwrap_or("");
    if api_version.is_empty() || kind.is_empty() {
        return Err(format!(
            "Object 'Kind' is missing in '{}'",
            serde_json::to_string(&value).unwrap_or_default()
        ));
    }
    if api_version != API_VERSION || kind != "KubeSchedulerConfiguration" {
        return Err(format!(
            "no kind \"{kind}\" is registered for version \"{api_version}\" in scheme \"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme/scheme.go:30\""
        ));
    }
    let mut unknown = Vec::new();
    let mut note = |path: serde_ignored::Path| {
        let path = field_path(&path);
        let top = path.split(['.', '[']).next().unwrap_or("");
        if !UNUSED_FIELDS.contains(&top) {
            unknown.push(path);
        }
    };
    let document: ConfigurationDocument =
        serde_ignored::deserialize(value, &mut note).map_err(|e| e.to_string())?;
    if !unknown.is_empty() {
        let fields: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect();
        return Err(format!("strict decoding error: {}", fields.join(", ")));
    }
    defaulted(document)
}

/// The configuration a stored document gives: [`load`]ed, or the defaults when
/// there is none (kube-scheduler without `--config`).
pub fn stored(text: Option<&str>) -> Result<SchedulerConfig, String> {
    text.map_or_else(|| Ok(SchedulerConfig::default()), load)
}

/// Decodes each `pluginConfig` entry's arguments, defaults everything and validates.
fn defaulted(document: ConfigurationDocument) -> Result<SchedulerConfig, String> {
    let mut profiles_in = document.profiles;
    if profiles_in.is_empty() {
        profiles_in.push(ProfileDocument::default());
    }
    if profiles_in.len() == 1 && profiles_in[0].scheduler_name.is_none() {
        profiles_in[0].scheduler_name = Some(DEFAULT_SCHEDULER_NAME.into());
    }
    let mut strict = Vec::new();
    let mut profiles = Vec::new();
    for profile in &profiles_in {
        let plugins = profile
            .plugins
            .clone()
            .unwrap_or_default()
            .merged_with_defaults();
        let mut plugin_config = Vec::new();
        for entry in &profile.plugin_config {
            let mut unknown = Vec::new();
            let mut args = PluginArgs::decode(&entry.name, &entry.args, &mut unknown)
                .map_err(|e| format!("decoding args for plugin {}: {e}", entry.name))?;
            if !unknown.is_empty() {
                let fields: Vec<String> = unknown
                    .iter()
                    .map(|f| format!("unknown field \"{f}\""))
                    .collect();
                strict.push(format!(
                    "decoding args for plugin {}: strict decoding error: {}",
                    entry.name,
                    fields.join(", ")
                ));
            }
            if let Some(args) = args.as_mut() {
                args.set_defaults();
            }
            plugin_config.push((entry.name.clone(), args));
        }
        for name in plugins.enabled_names() {
            if plugin_config.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Ok(Some(mut args)) = PluginArgs::decode(name, &Value::Null, &mut Vec::new()) {
                args.set_defaults();
                plugin_config.push((name.to_string(), Some(args)));
            }
        }
        profiles.push(ProfileConfig {
            scheduler_name: profile.scheduler_name.clone().unwrap_or_default(),
            percentage_of_nodes_to_score: profile.percentage_of_nodes_to_score,
            plugins,
            plugin_config,
        });
    }
    if !strict.is_empty() {
        return Err(format!("strict decoding error: {}", strict.join(", ")));
    }
    let config = SchedulerConfig {
        profiles,
        percentage_of_nodes_to_score: document.percentage_of_nodes_to_score.unwrap_or(0),
        pod_initial_backoff_seconds: document.pod_initial_backoff_seconds.unwrap_or(1),
        pod_max_backoff_seconds: document.pod_max_backoff_seconds.unwrap_or(10),
    };
    let mut errors = validate(&config, &profiles_in, document.parallelism.unwrap_or(16));
    if !document.extenders.is_empty() {
        errors.push(FieldError::forbidden(
            "extenders",
            "scheduler extenders (HTTP webhooks) are not simulated",
        ));
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        let messages: Vec<String> = errors.iter().map(FieldError::full_message).collect();
        Err(aggregate(&messages))
    }
}

/// Plugins removed from the v1 configuration.
const INVALID_PLUGINS: [&str; 4] = [
    "AzureDiskLimits",
    "CinderLimits",
    "EBSLimits",
    "GCEPDLimits",
];

/// The message for a removed plugin.
fn invalid_plugin_detail() -> String {
    format!("was invalid in version \"{API_VERSION}\" (KubeSchedulerConfiguration is version \"{API_VERSION}\")")
}

/// Upstream's `ValidateKubeSchedulerConfiguration` (the parts that apply here).
fn validate(
    config: &SchedulerConfig,
    written: &[ProfileDocument],
    parallelism: i64,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if parallelism <= 0 {
        errors.push(FieldError::invalid(
            "parallelism",
            &json!(parallelism),
            "should be an integer value greater than zero",
        ));
    }
    for (i, profile) in config.profiles.iter().enumerate() {
        let path = format!("profiles[{i}]");
        if profile.scheduler_name.is_empty() {
            errors.push(FieldError::required(format!("{path}.schedulerName"), ""));
        }
        if let Some(p) = profile.percentage_of_nodes_to_score {
            if !(0..=100).contains(&p) {
                errors.push(FieldError::invalid(
                    format!("{path}.percentageOfNodesToScore"),
                    &json!(p),
                    "not in valid range [0-100]",
                ));
            }
        }
        if let Some(plugins) = &written[i].plugins {
            for point in ExtensionPoint::ALL {
                for (j, plugin) in plugins.at(point).enabled.iter().enumerate() {
                    if INVALID_PLUGINS.contains(&plugin.name.as_str()) {
                        errors.push(FieldError::invalid(
                            format!("{path}.plugins.{}.enabled[{j}]", point.config_key()),
                            &json!(plugin.name),
                            &invalid_plugin_detail(),
                        ));
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (j, entry) in written[i].plugin_config.iter().enumerate() {
            let entry_path = format!("{path}.pluginConfig[{j}]");
            if !seen.insert(entry.name.as_str()) {
                errors.push(FieldError::duplicate(&entry_path, &json!(entry.name)));
            }
            if INVALID_PLUGINS.contains(&entry.name.as_str()) {
                errors.push(FieldError::invalid(
                    &entry_path,
                    &json!(entry.name),
                    &invalid_plugin_detail(),
                ));
                continue;
            }
            // Upstream validates NodeResourcesFit's arguments when the plugin starts.
            if entry.name == "NodeResourcesFit" {
                continue;
            }
            if let Some((_, Some(args))) = profile.plugin_config.get(j) {
                errors.extend(args.validate(&format!("{entry_path}.args")));
            }
        }
        if i > 0 {
            let first = written[0].plugins.as_ref().map(|p| &p.queue_sort);
            let this = written[i].plugins.as_ref().map(|p| &p.queue_sort);
            if first.cloned().unwrap_or_default() != this.cloned().unwrap_or_default() {
                errors.push(FieldError::invalid(
                    format!("{path}.plugins.queueSort"),
                    &json!(this.map(|s| s
                        .enabled
                        .iter()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>())),
                    "must be the same for all profiles",
                ));
            }
        }
        if let Some(j) = config.profiles[..i]
            .iter()
            .position(|p| p.scheduler_name == profile.scheduler_name)
        {
            errors.push(FieldError {
                reason: "FieldValueDuplicate",
                field: format!("{path}.schedulerName"),
                message: format!("Duplicate value: \"profiles[{j}].schedulerName\""),
            });
        }
    }
    if let Some(first) = written.first().and_then(|p| p.plugins.as_ref()) {
        let count = first.queue_sort.enabled.len();
        if count > 1 {
            errors.push(FieldError::invalid(
                "profiles[0].plugins.queueSort.Enabled",
                &json!(count),
                "only one queue sort plugin can be enabled",
            ));
        }
    }
    if !(0..=100).contains(&config.percentage_of_nodes_to_score) {
        errors.push(FieldError::invalid(
            "percentageOfNodesToScore",
            &json!(config.percentage_of_nodes_to_score),
            "not in valid range [0-100]",
        ));
    }
    if config.pod_initial_backoff_seconds <= 0 {
        errors.push(FieldError::invalid(
            "podInitialBackoffSeconds",
            &json!(config.pod_initial_backoff_seconds),
            "must be greater than 0",
        ));
    }
    if config.pod_max_backoff_seconds < config.pod_initial_backoff_seconds {
        errors.push(FieldError::invalid(
            "podMaxBackoffSeconds",
            &json!(config.pod_max_backoff_seconds),
            "must be greater than or equal to PodInitialBackoffSeconds",
        ));
    }
    errors
}
