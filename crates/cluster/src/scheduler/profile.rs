//! A scheduling profile: the plugins that run at each extension point, built from a
//! defaulted [`ProfileConfig`] as upstream's `NewFramework` builds a framework
//! (plugins made once with their arguments, each extension point's list, then
//! `multiPoint` expanded over the points each plugin implements), with its errors.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::config::{aggregate, PluginSet, ProfileConfig, SchedulerConfig, DEFAULT_SCHEDULER_NAME};
use super::framework::{ExtensionPoint, Plugin};
use super::plugins::registered;

/// A score plugin with its weight.
pub struct Weighted {
    pub plugin: Rc<dyn Plugin>,
    pub weight: i64,
}

/// The plugins a profile runs, per extension point, in order.
pub struct Profile {
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: Option<usize>,
    pub pre_enqueue: Vec<Rc<dyn Plugin>>,
    pub pre_filter: Vec<Rc<dyn Plugin>>,
    pub filter: Vec<Rc<dyn Plugin>>,
    /// Whether DefaultPreemption runs at PostFilter.
    pub preempts: bool,
    pub pre_score: Vec<Rc<dyn Plugin>>,
    pub score: Vec<Weighted>,
    pub reserve: Vec<Rc<dyn Plugin>>,
    pub permit: Vec<Rc<dyn Plugin>>,
    pub pre_bind: Vec<Rc<dyn Plugin>>,
    pub bind: Vec<Rc<dyn Plugin>>,
    pub post_bind: Vec<Rc<dyn Plugin>>,
}

impl Default for Profile {
    /// Upstream's default profile, `default-scheduler`.
    fn default() -> Self {
        let config = SchedulerConfig::default();
        Profile::new(&config.profiles[0]).expect("the default profile builds")
    }
}

/// The profiles of a whole configuration, each with the configuration's
/// `percentageOfNodesToScore` unless it sets its own; the error is kube-scheduler's.
pub fn profiles(config: &SchedulerConfig) -> Result<Vec<Profile>, String> {
    config
        .profiles
        .iter()
        .map(|p| {
            let mut profile = Profile::new(p).map_err(|e| {
                format!(
                    "initializing profiles: creating profile for scheduler name {}: {e}",
                    p.scheduler_name
                )
            })?;
            if profile.percentage_of_nodes_to_score.is_none()
                && config.percentage_of_nodes_to_score > 0
            {
                profile.percentage_of_nodes_to_score =
                    Some(config.percentage_of_nodes_to_score as usize);
            }
            Ok(profile)
        })
        .collect()
}

/// The plugin `name` was made for this profile: upstream's error if it was not.
fn made_plugin<'a>(
    made: &'a BTreeMap<String, Rc<dyn Plugin>>,
    point: ExtensionPoint,
    name: &str,
) -> Result<&'a Rc<dyn Plugin>, String> {
    made.get(name)
        .ok_or_else(|| format!("{} {name:?} does not exist", point.interface_name()))
}

/// Upstream's error for a plugin enabled twice at one extension point.
fn already_registered(point: ExtensionPoint, name: &str) -> String {
    format!(
        "plugin {name:?} already registered as {:?}",
        point.interface_name()
    )
}

/// Upstream's `updatePluginList`: the plugins a set enables at one point.
fn plugin_list(
    point: ExtensionPoint,
    set: &PluginSet,
    made: &BTreeMap<String, Rc<dyn Plugin>>,
) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for enabled in &set.enabled {
        let plugin = made_plugin(made, point, &enabled.name)?;
        if !plugin.extension_points().contains(&point) {
            return Err(format!(
                "plugin {:?} does not extend {} plugin",
                enabled.name,
                point.interface_name()
            ));
        }
        if names.contains(&enabled.name) {
            return Err(already_registered(point, &enabled.name));
        }
        names.push(enabled.name.clone());
    }
    Ok(names)
}

/// Upstream's `expandMultiPointPlugins` for one point: plugins the point's own set
/// names keep their place first, then `multiPoint`'s, then the point's others.
fn expand_multi_point(
    point: ExtensionPoint,
    own: Vec<String>,
    set: &PluginSet,
    multi_point: &PluginSet,
    made: &BTreeMap<String, Rc<dyn Plugin>>,
) -> Result<Vec<String>, String> {
    if set.disabled.iter().any(|p| p.name == "*") {
        return Ok(own);
    }
    let mut overrides = Vec::new();
    let mut expanded: Vec<String> = Vec::new();
    for enabled in &multi_point.enabled {
        let plugin = made_plugin(made, point, &enabled.name)?;
        if !plugin.extension_points().contains(&point)
            || set.disabled.iter().any(|p| p.name == enabled.name)
        {
            continue;
        }
        if own.contains(&enabled.name) {
            overrides.push(enabled.name.clone());
            continue;
        }
        if expanded.contains(&enabled.name) {
            return Err(already_registered(point, &enabled.name));
        }
        expanded.push(enabled.name.clone());
    }
    let (first, rest): (Vec<String>, Vec<String>) =
        own.into_iter().partition(|name| overrides.contains(name));
    Ok(first.into_iter().chain(expanded).chain(rest).collect())
}

impl Profile {
    /// Builds the profile; the error is upstream's `NewFramework` error.
    pub fn new(config: &ProfileConfig) -> Result<Profile, String> {
        let mut args = BTreeMap::new();
        for (name, plugin_args) in &config.plugin_config {
            if args.insert(name.as_str(), plugin_args.as_ref()).is_some() {
                return Err(format!("repeated config for plugin {name}"));
            }
        }
        let mut made: BTreeMap<String, Rc<dyn Plugin>> = BTreeMap::new();
        for name in config.plugins.enabled_names() {
            let Some(registration) = registered(name) else {
                continue;
            };
            let plugin_args = args.get(name).copied().flatten();
            if let Some(plugin_args) = plugin_args {
                let errors = plugin_args.validate("");
                if !errors.is_empty() {
                    let messages: Vec<String> = errors.iter().map(|e| e.full_message()).collect();
                    return Err(format!(
                        "initializing plugin {name:?}: {}",
                        aggregate(&messages)
                    ));
                }
            }
            made.insert(name.to_string(), (registration.new)(plugin_args));
        }
        let plugins = &config.plugins;
        let mut lists: BTreeMap<ExtensionPoint, Vec<String>> = BTreeMap::new();
        for point in ExtensionPoint::ALL {
            lists.insert(point, plugin_list(point, plugins.at(point), &made)?);
        }
        if !plugins.multi_point.enabled.is_empty() {
            for point in ExtensionPoint::ALL {
                let own = lists.remove(&point).unwrap_or_default();
                let expanded =
                    expand_multi_point(point, own, plugins.at(point), &plugins.multi_point, &made)?;
                lists.insert(point, expanded);
            }
        }
        let name = &config.scheduler_name;
        let queue_sort = lists[&ExtensionPoint::QueueSort].len();
        if queue_sort != 1 {
            return Err(format!(
                "only one queue sort plugin required for profile with scheduler name {name:?}, but got {queue_sort}"
            ));
        }
        if lists[&ExtensionPoint::Bind].is_empty() {
            return Err(format!(
                "at least one bind plugin is needed for profile with scheduler name {name:?}"
            ));
        }
        // Weights: the score set's own first, then multiPoint's; 0 counts as 1.
        let weight_of = |plugin: &str| {
            plugins
                .score
                .enabled
                .iter()
                .chain(&plugins.multi_point.enabled)
                .find(|p| p.name == plugin)
                .and_then(|p| p.weight)
                .filter(|w| *w != 0)
                .unwrap_or(1)
        };
        let plugins_at = |point: ExtensionPoint| -> Vec<Rc<dyn Plugin>> {
            lists[&point].iter().map(|n| made[n].clone()).collect()
        };
        Ok(Profile {
            scheduler_name: name.clone(),
            percentage_of_nodes_to_score: config
                .percentage_of_nodes_to_score
                .filter(|p| *p > 0)
                .map(|p| p as usize),
            pre_enqueue: plugins_at(ExtensionPoint::PreEnqueue),
            pre_filter: plugins_at(ExtensionPoint::PreFilter),
            filter: plugins_at(ExtensionPoint::Filter),
            preempts: lists[&ExtensionPoint::PostFilter]
                .iter()
                .any(|n| n == "DefaultPreemption"),
            pre_score: plugins_at(ExtensionPoint::PreScore),
            score: lists[&ExtensionPoint::Score]
                .iter()
                .map(|n| Weighted {
                    plugin: made[n].clone(),
                    weight: weight_of(n),
                })
                .collect(),
            reserve: plugins_at(ExtensionPoint::Reserve),
            permit: plugins_at(ExtensionPoint::Permit),
            pre_bind: plugins_at(ExtensionPoint::PreBind),
            bind: plugins_at(ExtensionPoint::Bind),
            post_bind: plugins_at(ExtensionPoint::PostBind),
        })
    }

    /// The profile's plugins at each extension point by name, as kube-scheduler logs
    /// them when it starts ("the scheduler starts to work with those plugins").
    pub fn describe(&self) -> Vec<(&'static str, Vec<String>)> {
        let names = |list: &[Rc<dyn Plugin>]| list.iter().map(|p| p.name().to_string()).collect();
        vec![
            ("preEnqueue", names(&self.pre_enqueue)),
            ("preFilter", names(&self.pre_filter)),
            ("filter", names(&self.filter)),
            (
                "postFilter",
                if self.preempts {
                    vec!["DefaultPreemption".to_string()]
                } else {
                    Vec::new()
                },
            ),
            ("preScore", names(&self.pre_score)),
            (
                "score",
                self.score
                    .iter()
                    .map(|w| format!("{} (weight {})", w.plugin.name(), w.weight))
                    .collect(),
            ),
            ("reserve", names(&self.reserve)),
            ("permit", names(&self.permit)),
            ("preBind", names(&self.pre_bind)),
            ("bind", names(&self.bind)),
            ("postBind", names(&self.post_bind)),
        ]
    }

    /// The profile named by a pod's `spec.schedulerName` (default: `default-scheduler`).
    pub fn serves(&self, scheduler_name: Option<&str>) -> bool {
        scheduler_name.unwrap_or(DEFAULT_SCHEDULER_NAME) == self.scheduler_name
    }
}
