//! `KubeSchedulerConfiguration` loading: upstream's defaults and plugin merging,
//! and every refusal in kube-scheduler's words.

use kubecraft_cluster::scheduler::config::load;
use kubecraft_cluster::scheduler::profile::{profiles, Profile};

const HEAD: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

/// The profiles `body` (after the apiVersion/kind lines) gives, or kube-scheduler's error.
fn built(body: &str) -> Result<Vec<Profile>, String> {
    profiles(&load(&format!("{HEAD}{body}"))?)
}

fn names_at(profile: &Profile, point: &str) -> Vec<String> {
    profile
        .describe()
        .into_iter()
        .find(|(p, _)| *p == point)
        .map(|(_, names)| names)
        .unwrap()
}

#[test]
fn no_profiles_means_the_default_profile() {
    let profiles = built("").unwrap();
    assert_eq!(profiles.len(), 1);
    let default = &profiles[0];
    assert_eq!(default.scheduler_name, "default-scheduler");
    assert_eq!(
        names_at(default, "filter"),
        [
            "NodeUnschedulable",
            "NodeName",
            "TaintToleration",
            "NodeAffinity",
            "NodePorts",
            "NodeResourcesFit",
            "VolumeRestrictions",
            "NodeVolumeLimits",
            "VolumeBinding",
            "VolumeZone",
            "PodTopologySpread",
            "InterPodAffinity",
            "DynamicResources",
        ]
    );
    assert_eq!(
        names_at(default, "score"),
        [
            "TaintToleration (weight 3)",
            "NodeAffinity (weight 2)",
            "NodeResourcesFit (weight 1)",
            "VolumeBinding (weight 1)",
            "VolumeZone (weight 1)",
            "PodTopologySpread (weight 2)",
            "InterPodAffinity (weight 2)",
            "NodeResourcesBalancedAllocation (weight 1)",
            "ImageLocality (weight 1)",
        ]
    );
    assert!(default.preempts);
    for point in ["reserve", "preBind"] {
        assert_eq!(
            names_at(default, point),
            ["VolumeBinding", "DynamicResources"]
        );
    }
    assert_eq!(names_at(default, "bind"), ["DefaultBinder"]);
    assert!(names_at(default, "permit").is_empty());
}

#[test]
fn custom_plugin_sets_merge_with_the_defaults_as_upstream() {
    let profiles = built(
        "profiles:\n- plugins:\n    score:\n      disabled:\n      - name: '*'\n      enabled:\n      - name: ImageLocality\n        weight: 5\n      - name: NodeAffinity\n    postFilter:\n      disabled:\n      - name: DefaultPreemption\n    multiPoint:\n      disabled:\n      - name: TaintToleration\n",
    )
    .unwrap();
    let p = &profiles[0];
    // Named again in `score` without a weight, NodeAffinity loses multiPoint's 2: the
    // score set's entry comes first and an unset weight counts as 1, as upstream.
    assert_eq!(
        names_at(p, "score"),
        ["ImageLocality (weight 5)", "NodeAffinity (weight 1)"]
    );
    assert!(!names_at(p, "filter").contains(&"TaintToleration".to_string()));
    assert!(!p.preempts);
    // A plugin the score set names keeps multiPoint's place ahead of the others.
    let profiles = built(
        "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: ImageLocality\n        weight: 4\n",
    )
    .unwrap();
    assert_eq!(
        names_at(&profiles[0], "score")[0],
        "ImageLocality (weight 4)"
    );
}

#[test]
fn refusals_are_kube_schedulers_errors() {
    let cases = [
        ("profiles:\n- schedulerName: a\n  plugin: {}\n", "strict decoding error: unknown field \"profiles[0].plugin\""),
        ("leaderElection:\n  leaderElect: false\npercentageOfNodesToScore: 101\n", "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"),
        ("profiles:\n- schedulerName: a\n- percentageOfNodesToScore: 5\n", "profiles[1].schedulerName: Required value"),
        ("profiles:\n- schedulerName: a\n- schedulerName: a\n", "profiles[1].schedulerName: Duplicate value: \"profiles[0].schedulerName\""),
        ("podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n", "podMaxBackoffSeconds: Invalid value: 2: must be greater than or equal to PodInitialBackoffSeconds"),
        ("profiles:\n- pluginConfig:\n  - name: InterPodAffinity\n    args:\n      hardPodAffinityWeight: 101\n  - name: InterPodAffinity\n", "[profiles[0].pluginConfig[0].args.hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100], profiles[0].pluginConfig[1]: Duplicate value: \"InterPodAffinity\"]"),
        ("profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: EBSLimits\n", "profiles[0].plugins.filter.enabled[0]: Invalid value: \"EBSLimits\": was invalid in version \"kubescheduler.config.k8s.io/v1\" (KubeSchedulerConfiguration is version \"kubescheduler.config.k8s.io/v1\")"),
        ("profiles:\n- pluginConfig:\n  - name: NodeResourcesBalancedAllocation\n    args:\n      resources:\n      - name: cpu\n        weight: 2\n", "profiles[0].pluginConfig[0].args.resources[0].weight: Invalid value: 2: must be 1"),
        ("profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultConstraints:\n      - maxSkew: 1\n        topologyKey: zone\n        whenUnsatisfiable: DoNotSchedule\n", "profiles[0].pluginConfig[0].args.defaultingType: Invalid value: \"System\": when .defaultConstraints are not empty"),
        ("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Fancy\n", "initializing profiles: creating profile for scheduler name default-scheduler: initializing plugin \"NodeResourcesFit\": scoringStrategy.type: Unsupported value: \"Fancy\": supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""),
        ("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: RequestedToCapacityRatio\n        requestedToCapacityRatio:\n          shape:\n          - utilization: 50\n            score: 11\n", "initializing profiles: creating profile for scheduler name default-scheduler: initializing plugin \"NodeResourcesFit\": scoringStrategy.requestedToCapacityRatio.shape[0].score: Invalid value: 11: not in valid range [0, 10]"),
        ("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategi: {}\n", "strict decoding error: decoding args for plugin NodeResourcesFit: strict decoding error: unknown field \"scoringStrategi\""),
        ("profiles:\n- plugins:\n    score:\n      enabled:\n      - name: NodeName\n", "initializing profiles: creating profile for scheduler name default-scheduler: plugin \"NodeName\" does not extend ScorePlugin plugin"),
        ("profiles:\n- plugins:\n    multiPoint:\n      enabled:\n      - name: Nope\n", "initializing profiles: creating profile for scheduler name default-scheduler: PreFilterPlugin \"Nope\" does not exist"),
        ("profiles:\n- plugins:\n    bind:\n      disabled:\n      - name: '*'\n    multiPoint:\n      disabled:\n      - name: DefaultBinder\n", "initializing profiles: creating profile for scheduler name default-scheduler: at least one bind plugin is needed for profile with scheduler name \"default-scheduler\""),
        ("extenders:\n- urlPrefix: http://example.com\n", "extenders: Forbidden: scheduler extenders (HTTP webhooks) are not simulated"),
    ];
    for (body, want) in cases {
        assert_eq!(built(body).err().as_deref(), Some(want), "{body}");
    }
    assert_eq!(
        load("apiVersion: v1\nkind: Pod\n").unwrap_err(),
        "no kind \"Pod\" is registered for version \"v1\" in scheme \"k8s.io/kubernetes/pkg/scheduler/apis/config/scheme/scheme.go:30\""
    );
}
