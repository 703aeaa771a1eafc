//! The built-in resources kubecraft serves, with upstream 1.35's discovery facts
//! (names, short names, categories, verbs, subresources, selectable fields).

use super::resources::{ResourceInfo, Scope, SubresourceInfo, ALL_VERBS};

/// A small builder so the table below reads like discovery output.
struct Def(ResourceInfo);

fn def(group: &str, version: &str, plural: &str, kind: &str, scope: Scope) -> Def {
    Def(ResourceInfo {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: kind.to_ascii_lowercase(),
        kind: kind.into(),
        scope,
        verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
        short_names: Vec::new(),
        categories: Vec::new(),
        subresources: Vec::new(),
        selectable_fields: Vec::new(),
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Def {
    fn short(mut self, names: &[&str]) -> Self {
        self.0.short_names = strings(names);
        self
    }
    fn category(mut self, names: &[&str]) -> Self {
        self.0.categories = strings(names);
        self
    }
    fn verbs(mut self, verbs: &[&str]) -> Self {
        self.0.verbs = strings(verbs);
        self
    }
    fn fields(mut self, fields: &[&str]) -> Self {
        self.0.selectable_fields = strings(fields);
        self
    }
    fn sub(mut self, name: &str, kind: &str, verbs: &[&str]) -> Self {
        self.0.subresources.push(SubresourceInfo {
            name: name.into(),
            kind: kind.into(),
            group: None,
            version: None,
            verbs: strings(verbs),
        });
        self
    }
    fn sub_in(
        mut self,
        name: &str,
        group: &str,
        version: &str,
        kind: &str,
        verbs: &[&str],
    ) -> Self {
        self.0.subresources.push(SubresourceInfo {
            name: name.into(),
            kind: kind.into(),
            group: Some(group.into()),
            version: Some(version.into()),
            verbs: strings(verbs),
        });
        self
    }
    fn status(self) -> Self {
        let kind = self.0.kind.clone();
        self.sub("status", &kind, &["get", "patch", "update"])
    }
    fn scale(self) -> Self {
        self.sub_in(
            "scale",
            "autoscaling",
            "v1",
            "Scale",
            &["get", "patch", "update"],
        )
    }
}

/// Every built-in resource, in the order discovery lists groups.
pub fn builtin_resources() -> Vec<ResourceInfo> {
    use Scope::{Cluster, Namespaced};
    let table = vec![
        // core/v1
        def("", "v1", "bindings", "Binding", Namespaced).verbs(&["create"]),
        def("", "v1", "configmaps", "ConfigMap", Namespaced).short(&["cm"]),
        def("", "v1", "endpoints", "Endpoints", Namespaced).short(&["ep"]),
        def("", "v1", "events", "Event", Namespaced)
            .short(&["ev"])
            .fields(&[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ]),
        def("", "v1", "limitranges", "LimitRange", Namespaced).short(&["limits"]),
        def("", "v1", "namespaces", "Namespace", Cluster)
            .short(&["ns"])
            .verbs(&[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ])
            .fields(&["status.phase"])
            .sub("finalize", "Namespace", &["update"])
            .status(),
        def("", "v1", "nodes", "Node", Cluster)
            .short(&["no"])
            .fields(&["spec.unschedulable"])
            .status(),
        def(
            "",
            "v1",
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            Namespaced,
        )
        .short(&["pvc"])
        .status(),
        def("", "v1", "pods", "Pod", Namespaced)
            .short(&["po"])
            .category(&["all"])
            .fields(&[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ])
            .sub("binding", "Binding", &["create"])
            .sub_in("eviction", "policy", "v1", "Eviction", &["create"])
            .sub("log", "Pod", &["get"])
            .status(),
        def("", "v1", "resourcequotas", "ResourceQuota", Namespaced)
            .short(&["quota"])
            .status(),
        def("", "v1", "secrets", "Secret", Namespaced).fields(&["type"]),
        def("", "v1", "serviceaccounts", "ServiceAccount", Namespaced).short(&["sa"]),
        def("", "v1", "services", "Service", Namespaced)
            .short(&["svc"])
            .category(&["all"])
            .status(),
        // apiextensions.k8s.io/v1
        def(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            Cluster,
        )
        .short(&["crd", "crds"])
        .category(&["api-extensions"])
        .status(),
        // apps/v1
        def(
            "apps",
            "v1",
            "controllerrevisions",
            "ControllerRevision",
            Namespaced,
        ),
        def("apps", "v1", "daemonsets", "DaemonSet", Namespaced)
            .short(&["ds"])
            .category(&["all"])
            .status(),
        def("apps", "v1", "deployments", "Deployment", Namespaced)
            .short(&["deploy"])
            .category(&["all"])
            .scale()
            .status(),
        def("apps", "v1", "replicasets", "ReplicaSet", Namespaced)
            .short(&["rs"])
            .category(&["all"])
            .scale()
            .status(),
        def("apps", "v1", "statefulsets", "StatefulSet", Namespaced)
            .short(&["sts"])
            .category(&["all"])
            .scale()
            .status(),
        // events.k8s.io/v1
        def("events.k8s.io", "v1", "events", "Event", Namespaced).short(&["ev"]),
        // authentication.k8s.io/v1
        def(
            "authentication.k8s.io",
            "v1",
            "selfsubjectreviews",
            "SelfSubjectReview",
            Cluster,
        )
        .verbs(&["create"]),
        // authorization.k8s.io/v1
        def(
            "authorization.k8s.io",
            "v1",
            "localsubjectaccessreviews",
            "LocalSubjectAccessReview",
            Namespaced,
        )
        .verbs(&["create"]),
        def(
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
            Cluster,
        )
        .verbs(&["create"]),
        def(
            "authorization.k8s.io",
            "v1",
            "selfsubjectrulesreviews",
            "SelfSubjectRulesReview",
            Cluster,
        )
        .verbs(&["create"]),
        def(
            "authorization.k8s.io",
            "v1",
            "subjectaccessreviews",
            "SubjectAccessReview",
            Cluster,
        )
        .verbs(&["create"]),
        // metrics.k8s.io/v1beta1 (metrics-server's resource metrics API)
        def("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", Cluster).verbs(&["get", "list"]),
        def(
            "metrics.k8s.io",
            "v1beta1",
            "pods",
            "PodMetrics",
            Namespaced,
        )
        .verbs(&["get", "list"]),
        // autoscaling/v2
        def(
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            "HorizontalPodAutoscaler",
            Namespaced,
        )
        .short(&["hpa"])
        .category(&["all"])
        .status(),
        // batch/v1
        def("batch", "v1", "cronjobs", "CronJob", Namespaced)
            .short(&["cj"])
            .category(&["all"])
            .status(),
        def("batch", "v1", "jobs", "Job", Namespaced)
            .category(&["all"])
            .fields(&["status.successful"])
            .status(),
        // coordination.k8s.io/v1
        def("coordination.k8s.io", "v1", "leases", "Lease", Namespaced),
        // discovery.k8s.io/v1
        def(
            "discovery.k8s.io",
            "v1",
            "endpointslices",
            "EndpointSlice",
            Namespaced,
        ),
        // policy/v1
        def(
            "policy",
            "v1",
            "poddisruptionbudgets",
            "PodDisruptionBudget",
            Namespaced,
        )
        .short(&["pdb"])
        .status(),
        // rbac.authorization.k8s.io/v1
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            Cluster,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "ClusterRole",
            Cluster,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            "RoleBinding",
            Namespaced,
        ),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "roles",
            "Role",
            Namespaced,
        ),
        // scheduling.k8s.io/v1
        def(
            "scheduling.k8s.io",
            "v1",
            "priorityclasses",
            "PriorityClass",
            Cluster,
        )
        .short(&["pc"]),
    ];
    table.into_iter().map(|d| d.0).collect()
}

/// The groups in discovery's order (upstream's priority order for these groups).
pub const GROUP_ORDER: &[&str] = &[
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "apiextensions.k8s.io",
];
