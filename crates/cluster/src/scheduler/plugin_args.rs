//! Upstream's plugin arguments (the `kubescheduler.config.k8s.io/v1` `*Args` kinds a
//! profile's `pluginConfig` carries): their fields, defaults and validation, in
//! upstream's words.

use k8s_openapi::api::core::v1::{NodeAffinity, TopologySpreadConstraint};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::names::{is_qualified_name, QUALIFIED_NAME_MESSAGE};
use crate::api::status::FieldError;
use crate::apiserver::registry::field_path;

/// A resource and its weight in a scoring strategy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ResourceSpec {
    pub name: String,
    #[serde(default)]
    pub weight: i64,
}

/// One point of RequestedToCapacityRatio's broken-linear function.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct UtilizationShapePoint {
    pub utilization: i64,
    pub score: i64,
}

/// RequestedToCapacityRatio's parameters.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RequestedToCapacityRatioParam {
    #[serde(default)]
    pub shape: Vec<UtilizationShapePoint>,
}

/// How NodeResourcesFit scores nodes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScoringStrategy {
    #[serde(rename = "type", default)]
    pub strategy: String,
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
    pub requested_to_capacity_ratio: Option<RequestedToCapacityRatioParam>,
}

/// `NodeResourcesFitArgs`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeResourcesFitArgs {
    #[serde(default)]
    pub ignored_resources: Vec<String>,
    #[serde(default)]
    pub ignored_resource_groups: Vec<String>,
    pub scoring_strategy: Option<ScoringStrategy>,
}

impl NodeResourcesFitArgs {
    /// Upstream's `SetDefaults_NodeResourcesFitArgs`: LeastAllocated over CPU and memory.
    pub fn set_defaults(&mut self) {
        let strategy = self
            .scoring_strategy
            .get_or_insert_with(|| ScoringStrategy {
                strategy: "LeastAllocated".into(),
                resources: default_resources(),
                requested_to_capacity_ratio: None,
            });
        default_resource_weights(&mut strategy.resources);
    }
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct NodeResourcesBalancedAllocationArgs {
    #[serde(default)]
    pub resources: Vec<ResourceSpec>,
}

impl NodeResourcesBalancedAllocationArgs {
    /// Upstream's `SetDefaults_NodeResourcesBalancedAllocationArgs`: CPU and memory.
    pub fn set_defaults(&mut self) {
        default_resource_weights(&mut self.resources);
    }
}

/// `InterPodAffinityArgs`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InterPodAffinityArgs {
    pub hard_pod_affinity_weight: Option<i64>,
    #[serde(default)]
    pub ignore_preferred_terms_of_existing_pods: bool,
}

/// `PodTopologySpreadArgs`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodTopologySpreadArgs {
    #[serde(default)]
    pub default_constraints: Vec<TopologySpreadConstraint>,
    #[serde(default)]
    pub defaulting_type: String,
}

/// `DefaultPreemptionArgs`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DefaultPreemptionArgs {
    pub min_candidate_nodes_percentage: Option<i64>,
    pub min_candidate_nodes_absolute: Option<i64>,
}

/// `NodeAffinityArgs`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeAffinityArgs {
    pub added_affinity: Option<NodeAffinity>,
}

/// The arguments of one plugin, by kind.
#[derive(Clone, Debug, PartialEq)]
pub enum PluginArgs {
    NodeResourcesFit(NodeResourcesFitArgs),
    NodeResourcesBalancedAllocation(NodeResourcesBalancedAllocationArgs),
    InterPodAffinity(InterPodAffinityArgs),
    PodTopologySpread(PodTopologySpreadArgs),
    DefaultPreemption(DefaultPreemptionArgs),
    NodeAffinity(NodeAffinityArgs),
}

/// Upstream's default resources for scoring: CPU and memory, weight 1 each.
fn default_resources() -> Vec<ResourceSpec> {
    ["cpu", "memory"]
        .into_iter()
        .map(|name| ResourceSpec {
            name: name.into(),
            weight: 1,
        })
        .collect()
}

/// Upstream's defaulting of a resource list: CPU and memory when empty, and a
/// weight of 1 where none is given.
fn default_resource_weights(resources: &mut Vec<ResourceSpec>) {
    if resources.is_empty() {
        *resources = default_resources();
    }
    for r in resources.iter_mut().filter(|r| r.weight == 0) {
        r.weight = 1;
    }
}

/// Decodes `args` as `T`, noting the fields `T` lacks; `apiVersion` and `kind` are the
/// args object's own.
fn decode<T: DeserializeOwned>(args: &Value, unknown: &mut Vec<String>) -> Result<T, String> {
    let mut body = args.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    let mut note = |path: serde_ignored::Path| unknown.push(field_path(&path));
    serde_ignored::deserialize(body, &mut note).map_err(|e| e.to_string())
}

impl PluginArgs {
    /// The plugins that take arguments.
    pub const PLUGINS: [&'static str; 6] = [
        "NodeResourcesFit",
        "NodeResourcesBalancedAllocation",
        "InterPodAffinity",
        "PodTopologySpread",
        "DefaultPreemption",
        "NodeAffinity",
    ];

    /// Decodes `args` for `plugin` (`null` for its defaults), noting unknown fields;
    /// `None` for a plugin that takes none.
    pub fn decode(
        plugin: &str,
        args: &Value,
        unknown: &mut Vec<String>,
    ) -> Result<Option<PluginArgs>, String> {
        let args = if args.is_null() { &json!({}) } else { args };
        let decoded = match plugin {
            "NodeResourcesFit" => PluginArgs::NodeResourcesFit(decode(args, unknown)?),
            "NodeResourcesBalancedAllocation" => {
                PluginArgs::NodeResourcesBalancedAllocation(decode(args, unknown)?)
            }
            "InterPodAffinity" => PluginArgs::InterPodAffinity(decode(args, unknown)?),
            "PodTopologySpread" => PluginArgs::PodTopologySpread(decode(args, unknown)?),
            "DefaultPreemption" => PluginArgs::DefaultPreemption(decode(args, unknown)?),
            "NodeAffinity" => PluginArgs::NodeAffinity(decode(args, unknown)?),
            _ => return Ok(None),
        };
        Ok(Some(decoded))
    }

    /// Fills in upstream's defaults (`SetDefaults_*Args`).
    pub fn set_defaults(&mut self) {
        match self {
            PluginArgs::NodeResourcesFit(args) => args.set_defaults(),
            PluginArgs::NodeResourcesBalancedAllocation(args) => args.set_defaults(),
            PluginArgs::InterPodAffinity(args) => {
                args.hard_pod_affinity_weight.get_or_insert(1);
            }
            PluginArgs::PodTopologySpread(args) => {
                if args.defaulting_type.is_empty() {
                    args.defaulting_type = "System".into();
                }
            }
            PluginArgs::DefaultPreemption(args) => {
                args.min_candidate_nodes_percentage.get_or_insert(10);
                args.min_candidate_nodes_absolute.get_or_insert(100);
            }
            PluginArgs::NodeAffinity(_) => {}
        }
    }

    /// Upstream's validation of the arguments, fields under `path` (empty: none).
    pub fn validate(&self, path: &str) -> Vec<FieldError> {
        let at = |field: &str| {
            if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        };
        let mut errors = Vec::new();
        match self {
            PluginArgs::NodeResourcesFit(args) => validate_fit(args, &at, &mut errors),
            PluginArgs::NodeResourcesBalancedAllocation(args) => {
                for (i, r) in args.resources.iter().enumerate() {
                    if args.resources[..i].iter().any(|o| o.name == r.name) {
                        errors.push(FieldError::duplicate(
                            at(&format!("resources[{i}].name")),
                            &json!(r.name),
                        ));
                    }
                    if r.weight != 1 {
                        errors.push(FieldError::invalid(
                            at(&format!("resources[{i}].weight")),
                            &json!(r.weight),
                            "must be 1",
                        ));
                    }
                }
            }
            PluginArgs::InterPodAffinity(args) => {
                let weight = args.hard_pod_affinity_weight.unwrap_or(1);
                if !(0..=100).contains(&weight) {
                    errors.push(FieldError::invalid(
                        at("hardPodAffinityWeight"),
                        &json!(weight),
                        "not in valid range [0, 100]",
                    ));
                }
            }
            PluginArgs::PodTopologySpread(args) => validate_spread(args, &at, &mut errors),
            PluginArgs::DefaultPreemption(args) => {
                let percentage = args.min_candidate_nodes_percentage.unwrap_or(10);
                let absolute = args.min_candidate_nodes_absolute.unwrap_or(100);
                let percentage_path = at("minCandidateNodesPercentage");
                let absolute_path = at("minCandidateNodesAbsolute");
                if !(0..=100).contains(&percentage) {
                    errors.push(FieldError::invalid(
                        &percentage_path,
                        &json!(percentage),
                        "not in valid range [0, 100]",
                    ));
                }
                if absolute < 0 {
                    errors.push(FieldError::invalid(
                        &absolute_path,
                        &json!(absolute),
                        "not in valid range [0, inf)",
                    ));
                }
                if percentage == 0 && absolute == 0 {
                    errors.push(FieldError::invalid(
                        percentage_path,
                        &json!(percentage),
                        "cannot be zero at the same time as minCandidateNodesAbsolute",
                    ));
                    errors.push(FieldError::invalid(
                        absolute_path,
                        &json!(absolute),
                        "cannot be zero at the same time as minCandidateNodesPercentage",
                    ));
                }
            }
            PluginArgs::NodeAffinity(_) => {}
        }
        errors
    }
}

fn validate_fit(
    args: &NodeResourcesFitArgs,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<FieldError>,
) {
    for (i, name) in args.ignored_resources.iter().enumerate() {
        if !is_qualified_name(name) {
            errors.push(qualified_name_error(
                at(&format!("ignoredResources[{i}]")),
                name,
            ));
        }
    }
    for (i, group) in args.ignored_resource_groups.iter().enumerate() {
        let path = at(&format!("ignoredResourceGroups[{i}]"));
        if group.contains('/') {
            errors.push(FieldError::invalid(
                &path,
                &json!(group),
                "resource group name can't contain '/'",
            ));
        }
        if !is_qualified_name(group) {
            errors.push(qualified_name_error(path, group));
        }
    }
    let Some(strategy) = &args.scoring_strategy else {
        errors.push(FieldError::required(
            at("scoringStrategy"),
            "ScoringStrategy field is required",
        ));
        return;
    };
    const TYPES: [&str; 3] = [
        "LeastAllocated",
        "MostAllocated",
        "RequestedToCapacityRatio",
    ];
    if !TYPES.contains(&strategy.strategy.as_str()) {
        errors.push(FieldError::not_supported(
            at("scoringStrategy.type"),
            &json!(strategy.strategy),
            &TYPES,
        ));
    }
    for (i, r) in strategy.resources.iter().enumerate() {
        if r.weight <= 0 || r.weight > 100 {
            errors.push(FieldError::invalid(
                at(&format!("scoringStrategy.resources[{i}].weight")),
                &json!(r.weight),
                &format!("resource weight of {} not in valid range (0, 100]", r.name),
            ));
        }
    }
    let ratio_path = at("scoringStrategy.requestedToCapacityRatio");
    match (
        &strategy.requested_to_capacity_ratio,
        strategy.strategy.as_str(),
    ) {
        (None, "RequestedToCapacityRatio") => errors.push(FieldError::required(
            ratio_path,
            "must be specified when type is RequestedToCapacityRatio",
        )),
        (Some(ratio), "RequestedToCapacityRatio") => {
            validate_shape(&ratio.shape, &format!("{ratio_path}.shape"), errors)
        }
        (Some(_), _) => errors.push(FieldError::forbidden(
            ratio_path,
            "must be nil when type is not RequestedToCapacityRatio",
        )),
        (None, _) => {}
    }
}

/// Upstream's highest score a shape point may give (it is scaled ×10 to 0..=100).
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

fn validate_shape(shape: &[UtilizationShapePoint], path: &str, errors: &mut Vec<FieldError>) {
    if shape.is_empty() {
        errors.push(FieldError::required(
            path,
            "at least one point must be specified",
        ));
        return;
    }
    if let Some(i) = (1..shape.len()).find(|&i| shape[i - 1].utilization >= shape[i].utilization) {
        errors.push(FieldError::invalid(
            format!("{path}[{i}].utilization"),
            &json!(shape[i].utilization),
            "values must be sorted in increasing order",
        ));
    }
    for (i, point) in shape.iter().enumerate() {
        if !(0..=100).contains(&point.utilization) {
            errors.push(FieldError::invalid(
                format!("{path}[{i}].utilization"),
                &json!(point.utilization),
                "not in valid range [0, 100]",
            ));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&point.score) {
            errors.push(FieldError::invalid(
                format!("{path}[{i}].score"),
                &json!(point.score),
                &format!("not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]"),
            ));
        }
    }
}

fn validate_spread(
    args: &PodTopologySpreadArgs,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<FieldError>,
) {
    let defaulting = args.defaulting_type.as_str();
    if defaulting != "System" && defaulting != "List" {
        errors.push(FieldError::not_supported(
            at("defaultingType"),
            &json!(defaulting),
            &["System", "List"],
        ));
    } else if defaulting == "System" && !args.default_constraints.is_empty() {
        errors.push(FieldError::invalid(
            at("defaultingType"),
            &json!(defaulting),
            "when .defaultConstraints are not empty",
        ));
    }
    for (i, c) in args.default_constraints.iter().enumerate() {
        let p = at(&format!("defaultConstraints[{i}]"));
        if c.max_skew <= 0 {
            errors.push(FieldError::invalid(
                format!("{p}.maxSkew"),
                &json!(c.max_skew),
                "not in valid range (0, inf)",
            ));
        }
        if c.topology_key.is_empty() {
            errors.push(FieldError::required(
                format!("{p}.topologyKey"),
                "can not be empty",
            ));
        } else if !is_qualified_name(&c.topology_key) {
            errors.push(qualified_name_error(
                format!("{p}.topologyKey"),
                &c.topology_key,
            ));
        }
        match c.when_unsatisfiable.as_str() {
            "" => errors.push(FieldError::required(
                format!("{p}.whenUnsatisfiable"),
                "can not be empty",
            )),
            "DoNotSchedule" | "ScheduleAnyway" => {}
            other => errors.push(FieldError::not_supported(
                format!("{p}.whenUnsatisfiable"),
                &json!(other),
                &["DoNotSchedule", "ScheduleAnyway"],
            )),
        }
        if c.label_selector.is_some() {
            errors.push(FieldError::forbidden(
                format!("{p}.labelSelector"),
                "constraint must not define a selector, as they deduced for each pod",
            ));
        }
        let repeated = args.default_constraints[..i].iter().any(|o| {
            o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
        });
        if repeated {
            errors.push(FieldError::duplicate(
                at(&format!("defaultConstraints[{i}]")),
                &json!(format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable)),
            ));
        }
    }
}

/// Upstream's error for a label name that is not a qualified name.
fn qualified_name_error(path: String, value: &str) -> FieldError {
    FieldError::invalid(path, &json!(value), QUALIFIED_NAME_MESSAGE)
}
