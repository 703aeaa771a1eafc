//! The default plugins that act on volumes and resource claims: VolumeRestrictions,
//! NodeVolumeLimits, VolumeBinding, VolumeZone and DynamicResources. The simulated
//! cluster has no PersistentVolumes, CSI drivers or ResourceClaims, so they do what
//! upstream's do for a pod without any: skip at PreFilter and PreScore. They are
//! registered so configurations that name them load as they would upstream.

use crate::scheduler::framework::{
    ClusterView, CycleState, ExtensionPoint, NodeInfo, Plugin, PodInfo, Status,
};

use ExtensionPoint::*;

/// One of those plugins, by name and interfaces.
#[derive(Clone, Copy)]
pub struct VolumesAndClaims {
    name: &'static str,
    points: &'static [ExtensionPoint],
}

/// The five plugins.
pub const PLUGINS: [VolumesAndClaims; 5] = [
    VolumesAndClaims {
        name: "VolumeRestrictions",
        points: &[PreFilter, Filter],
    },
    VolumesAndClaims {
        name: "NodeVolumeLimits",
        points: &[PreFilter, Filter],
    },
    VolumesAndClaims {
        name: "VolumeBinding",
        points: &[PreFilter, Filter, Reserve, PreBind, PreScore, Score],
    },
    VolumesAndClaims {
        name: "VolumeZone",
        points: &[PreFilter, Filter, PreScore, Score],
    },
    VolumesAndClaims {
        name: "DynamicResources",
        points: &[PreEnqueue, PreFilter, Filter, PostFilter, Reserve, PreBind],
    },
];

impl Plugin for VolumesAndClaims {
    fn name(&self) -> &'static str {
        self.name
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        self.points
    }

    fn pre_filter(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _cluster: &ClusterView,
    ) -> Status {
        Status::skip()
    }

    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _feasible: &[&NodeInfo],
        _cluster: &ClusterView,
    ) -> Status {
        Status::skip()
    }
}
