//! ImageLocality: nodes that already have the pod's images score higher, by image
//! size scaled by how many nodes have the image (so one node does not attract
//! every pod). Names match as upstream's do: the pod's image with `:latest` added
//! when it has no tag, against the names nodes report (`docker.io/library/nginx:1.27`
//! is not `nginx:1.27`, as on a real containerd node).

use crate::scheduler::framework::{
    ClusterView, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status, MAX_NODE_SCORE,
};

const NAME: &str = "ImageLocality";
const PRE_SCORE_STATE: &str = "PreScoreImageLocality";
const MB: i64 = 1024 * 1024;
/// Below this total nothing counts; above it per container, nothing more does.
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The plugin.
pub struct ImageLocality;

/// Upstream's `normalizedImageName`: `:latest` when the name has no tag.
pub fn normalized_image_name(name: &str) -> String {
    let colon = name.rfind(':');
    let slash = name.rfind('/');
    if colon <= slash {
        format!("{name}:latest")
    } else {
        name.to_string()
    }
}

/// The pod's normalized image names (init containers, then containers), and for
/// each the share of all nodes that have it.
struct PreScoreState {
    images: Vec<(String, f64)>,
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::PreScore, ExtensionPoint::Score]
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _feasible: &[&NodeInfo],
        cluster: &ClusterView,
    ) -> Status {
        let Some(spec) = pod.pod.spec.as_ref() else {
            return Status::skip();
        };
        let total = cluster.nodes.len().max(1) as f64;
        let images = spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
            .map(|c| {
                let name = normalized_image_name(c.image.as_deref().unwrap_or(""));
                let share = cluster.image_nodes.get(&name).copied().unwrap_or(0) as f64 / total;
                (name, share)
            })
            .collect();
        state.write(PRE_SCORE_STATE, PreScoreState { images });
        Status::success()
    }

    /// `100 × (clamp(Σ size × spread) − 23 MB) / (1000 MB × containers − 23 MB)`.
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE) else {
            return 0;
        };
        let sum: i64 = s
            .images
            .iter()
            .filter_map(|(name, share)| {
                let size = node.images.get(name)?;
                Some((*size as f64 * share) as i64)
            })
            .sum();
        if s.images.is_empty() {
            return 0;
        }
        let max_threshold = MAX_CONTAINER_THRESHOLD * s.images.len() as i64;
        let clamped = sum.clamp(MIN_THRESHOLD, max_threshold);
        MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
    }
}
