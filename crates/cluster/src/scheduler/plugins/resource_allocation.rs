//! What NodeResourcesFit's scoring and NodeResourcesBalancedAllocation share
//! (upstream's `resourceAllocationScorer`): per configured resource, the node's
//! allocatable and what it would have requested with the pod; and Fit's scoring
//! strategies, LeastAllocated, MostAllocated and RequestedToCapacityRatio.

use crate::scheduler::framework::{NodeInfo, PodInfo, MAX_NODE_SCORE};
use crate::scheduler::plugin_args::{ResourceSpec, ScoringStrategy, MAX_CUSTOM_PRIORITY_SCORE};

/// A resource a scorer weighs.
#[derive(Clone, Debug, PartialEq)]
pub enum Resource {
    Cpu,
    Memory,
    EphemeralStorage,
    /// An extended resource, e.g. `nvidia.com/gpu`.
    Scalar(String),
}

/// A resource with its weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Weighted {
    pub resource: Resource,
    pub weight: i64,
}

/// Resolves configured resource names once, so scoring compares no strings.
pub fn weighted(specs: &[ResourceSpec]) -> Vec<Weighted> {
    specs
        .iter()
        .map(|spec| Weighted {
            resource: match spec.name.as_str() {
                "cpu" => Resource::Cpu,
                "memory" => Resource::Memory,
                "ephemeral-storage" => Resource::EphemeralStorage,
                other => Resource::Scalar(other.to_string()),
            },
            weight: spec.weight,
        })
        .collect()
}

/// What the pod requests of `resource` (actual requests, no defaults).
pub fn pod_request(resource: &Resource, pod: &PodInfo) -> i64 {
    let requests = &pod.requests;
    match resource {
        Resource::Cpu => requests.milli_cpu,
        Resource::Memory => requests.memory,
        Resource::EphemeralStorage => requests.ephemeral_storage,
        Resource::Scalar(name) => requests.scalar.get(name).copied().unwrap_or(0),
    }
}

/// The node's allocatable and its requests with the pod's for `resource`; (0, 0)
/// leaves the resource out. `use_requested` counts actual requests (Balanced
/// Allocation); otherwise CPU and memory use scoring's non-zero defaults.
pub fn amounts(
    resource: &Resource,
    pod: &PodInfo,
    node: &NodeInfo,
    use_requested: bool,
) -> (i64, i64) {
    let (pod_requests, node_requests) = if use_requested {
        (&pod.requests, &node.requested)
    } else {
        (&pod.non_zero, &node.non_zero_requested)
    };
    match resource {
        Resource::Cpu => (
            node.allocatable.milli_cpu,
            node_requests.milli_cpu + pod_requests.milli_cpu,
        ),
        Resource::Memory => (
            node.allocatable.memory,
            node_requests.memory + pod_requests.memory,
        ),
        Resource::EphemeralStorage => (
            node.allocatable.ephemeral_storage,
            node.requested.ephemeral_storage + pod.requests.ephemeral_storage,
        ),
        Resource::Scalar(name) => {
            let wanted = pod.requests.scalar.get(name).copied().unwrap_or(0);
            match node.allocatable.scalar.get(name) {
                Some(&allocatable) if wanted > 0 => (
                    allocatable,
                    node.requested.scalar.get(name).copied().unwrap_or(0) + wanted,
                ),
                _ => (0, 0),
            }
        }
    }
}

/// How NodeResourcesFit turns each resource's use into a score.
#[derive(Clone, Debug, PartialEq)]
enum Strategy {
    LeastAllocated,
    MostAllocated,
    /// The broken-linear function's points, scores scaled to 0..=100.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// NodeResourcesFit's scorer: a strategy over weighted resources.
#[derive(Clone, Debug, PartialEq)]
pub struct Scorer {
    strategy: Strategy,
    resources: Vec<Weighted>,
}

/// Upstream's `BuildBrokenLinearFunction` at `p`.
fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for (i, &(utilization, score)) in shape.iter().enumerate() {
        if p <= utilization {
            if i == 0 {
                return score;
            }
            let (u0, s0) = shape[i - 1];
            return s0 + (score - s0) * (p - u0) / (utilization - u0);
        }
    }
    shape.last().map_or(0, |&(_, score)| score)
}

impl Scorer {
    /// The scorer a (defaulted, valid) scoring strategy describes.
    pub fn new(strategy: &ScoringStrategy) -> Scorer {
        let kind = match strategy.strategy.as_str() {
            "MostAllocated" => Strategy::MostAllocated,
            "RequestedToCapacityRatio" => Strategy::RequestedToCapacityRatio(
                strategy
                    .requested_to_capacity_ratio
                    .iter()
                    .flat_map(|r| &r.shape)
                    .map(|p| {
                        (
                            p.utilization,
                            p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
                        )
                    })
                    .collect(),
            ),
            _ => Strategy::LeastAllocated,
        };
        Scorer {
            strategy: kind,
            resources: weighted(&strategy.resources),
        }
    }

    /// The node's score for the pod.
    pub fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let (mut total, mut weights) = (0i64, 0i64);
        for Weighted { resource, weight } in &self.resources {
            let (allocatable, requested) = amounts(resource, pod, node, false);
            if allocatable == 0 {
                continue;
            }
            let score = match &self.strategy {
                Strategy::LeastAllocated if requested > allocatable => 0,
                Strategy::LeastAllocated => {
                    (allocatable - requested) * MAX_NODE_SCORE / allocatable
                }
                Strategy::MostAllocated => {
                    requested.min(allocatable) * MAX_NODE_SCORE / allocatable
                }
                Strategy::RequestedToCapacityRatio(shape) => {
                    let utilization = if requested > allocatable {
                        100
                    } else {
                        requested * 100 / allocatable
                    };
                    let score = broken_linear(shape, utilization);
                    // Upstream leaves resources scoring 0 out of the average.
                    if score <= 0 {
                        continue;
                    }
                    score
                }
            };
            total += score * weight;
            weights += weight;
        }
        match (&self.strategy, weights) {
            (_, 0) => 0,
            (Strategy::RequestedToCapacityRatio(_), w) => (total as f64 / w as f64).round() as i64,
            (_, w) => total / w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugin_args::{RequestedToCapacityRatioParam, UtilizationShapePoint};

    #[test]
    fn broken_linear_interpolates_between_points() {
        let shape = [(0, 0), (50, 100), (100, 0)];
        assert_eq!(broken_linear(&shape, 25), 50);
        assert_eq!(broken_linear(&shape, 50), 100);
        assert_eq!(broken_linear(&shape, 75), 50);
        assert_eq!(broken_linear(&[(10, 30)], 5), 30);
        assert_eq!(broken_linear(&[(10, 30)], 50), 30);
    }

    #[test]
    fn shape_scores_are_scaled_to_node_scores() {
        let scorer = Scorer::new(&ScoringStrategy {
            strategy: "RequestedToCapacityRatio".into(),
            resources: vec![ResourceSpec {
                name: "cpu".into(),
                weight: 1,
            }],
            requested_to_capacity_ratio: Some(RequestedToCapacityRatioParam {
                shape: vec![
                    UtilizationShapePoint {
                        utilization: 0,
                        score: 0,
                    },
                    UtilizationShapePoint {
                        utilization: 100,
                        score: 10,
                    },
                ],
            }),
        });
        assert_eq!(
            scorer.strategy,
            Strategy::RequestedToCapacityRatio(vec![(0, 0), (100, 100)])
        );
    }
}
