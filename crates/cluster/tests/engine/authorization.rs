//! RBAC authorization, impersonation and the review APIs, with upstream's words.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::{Request, UserInfo};
use serde_json::{json, Value};

fn user(name: &str) -> UserInfo {
    UserInfo::system(name)
}

/// What `name` may do, as the admin impersonating it asks with a SelfSubjectAccessReview.
fn can(c: &mut Cluster, who: &str, attributes: Value) -> Value {
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    });
    let response = c.send(
        Request::post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            review.to_string(),
        )
        .with_header("Impersonate-User", who),
    );
    assert_eq!(response.status, 201, "{}", response.body_text());
    response.body_json()["status"].clone()
}

fn create(c: &mut Cluster, path: &str, object: Value) {
    let response = c.send(Request::post(path, object.to_string()));
    assert_eq!(response.status, 201, "{}", response.body_text());
}

fn bind_pod_reader(c: &mut Cluster, subject: Value) {
    create(
        c,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
    );
    create(
        c,
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "read-pods"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
            "subjects": [subject]}),
    );
}

#[test]
fn a_user_without_bindings_is_forbidden_in_upstreams_words() {
    let mut c = Cluster::new();
    let response = c.send(Request::get("/api/v1/namespaces/default/pods").as_user(user("jane")));
    assert_eq!(response.status, 403);
    assert_eq!(
        response.body_text(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#
    );
    let response = c.send(Request::get("/apis/apps/v1/deployments").as_user(user("jane")));
    assert_eq!(
        response.body_json()["message"],
        "deployments.apps is forbidden: User \"jane\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
    );
    let response = c.send(Request::get("/api/v1/namespaces/kube-system").as_user(user("jane")));
    assert_eq!(
        response.body_json()["message"],
        "namespaces \"kube-system\" is forbidden: User \"jane\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"kube-system\""
    );
    // Discovery is open to every authenticated user, not to the unauthenticated.
    assert_eq!(
        c.send(Request::get("/api").as_user(user("jane"))).status,
        200
    );
    let anonymous = UserInfo {
        username: "system:anonymous".into(),
        groups: vec!["system:unauthenticated".into()],
    };
    let response = c.send(Request::get("/api").as_user(anonymous));
    assert_eq!(
        response.body_json()["message"],
        "forbidden: User \"system:anonymous\" cannot get path \"/api\""
    );
}

#[test]
fn a_role_binding_grants_its_rules_in_its_namespace_only() {
    let mut c = Cluster::new();
    bind_pod_reader(
        &mut c,
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}),
    );
    let jane = |req: Request| req.as_user(user("jane"));
    assert_eq!(
        c.send(jane(Request::get("/api/v1/namespaces/default/pods")))
            .status,
        200
    );
    assert_eq!(
        c.send(jane(Request::get("/api/v1/namespaces/kube-system/pods")))
            .status,
        403
    );
    let response = c.send(jane(Request::delete("/api/v1/namespaces/default/pods/web")));
    assert_eq!(
        response.body_json()["message"],
        "pods \"web\" is forbidden: User \"jane\" cannot delete resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    assert_eq!(
        response.body_json()["details"],
        json!({"name": "web", "kind": "pods"})
    );
    // Subresources are resources of their own.
    assert_eq!(
        can(
            &mut c,
            "jane",
            json!({"namespace": "default", "verb": "get", "resource": "pods", "subresource": "log"})
        )["allowed"],
        false
    );
    // Deleting the binding takes the grant away at once.
    let response = c.send(Request::delete(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/read-pods",
    ));
    assert_eq!(response.status, 200);
    assert_eq!(
        c.send(jane(Request::get("/api/v1/namespaces/default/pods")))
            .status,
        403
    );
}

#[test]
fn access_reviews_give_upstreams_reasons() {
    let mut c = Cluster::new();
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}}});
    let response = c.send(Request::post(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        review.to_string(),
    ));
    assert_eq!(response.status, 201);
    assert_eq!(
        response.body_json(),
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "resource": "pods"}},
            "status": {"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\""}})
    );
    bind_pod_reader(&mut c, json!({"kind": "ServiceAccount", "name": "default"}));
    let status = can(
        &mut c,
        "system:serviceaccount:default:default",
        json!({"namespace": "default", "verb": "list", "resource": "pods"}),
    );
    assert_eq!(
        status["reason"],
        "RBAC: allowed by RoleBinding \"read-pods/default\" of Role \"pod-reader\" to ServiceAccount \"default/default\""
    );
    // A binding to a role that does not exist says so when nothing else allows.
    create(
        &mut c,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "dangling"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "nope"},
            "subjects": [{"kind": "User", "name": "bob"}]}),
    );
    let status = can(&mut c, "bob", json!({"verb": "list", "resource": "nodes"}));
    assert_eq!(
        status,
        json!({"allowed": false, "reason": "RBAC: clusterrole.rbac.authorization.k8s.io \"nope\" not found"})
    );
    // A SubjectAccessReview asks about anyone; it must name someone.
    let sar = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"},
                 "user": "system:serviceaccount:default:default"}});
    let response = c.send(Request::post(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        sar.to_string(),
    ));
    assert_eq!(response.body_json()["status"]["allowed"], true);
    let nobody = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"nonResourceAttributes": {"verb": "get", "path": "/version"}}});
    let response = c.send(Request::post(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        nobody.to_string(),
    ));
    assert_eq!(response.status, 422);
    assert_eq!(
        response.body_json()["message"],
        "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: \"\": at least one of user or group must be specified"
    );
}

#[test]
fn aggregated_cluster_roles_gather_labelled_rules() {
    let mut c = Cluster::with_world(kubecraft_cluster::cluster::start(1));
    let view = c
        .get("/apis/rbac.authorization.k8s.io/v1/clusterroles/view")
        .1;
    assert!(
        view["rules"].as_array().is_some_and(|r| !r.is_empty()),
        "{view}"
    );
    create(
        &mut c,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "jane-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "jane"}]}),
    );
    let get_pods = json!({"namespace": "default", "verb": "get", "resource": "pods"});
    assert_eq!(can(&mut c, "jane", get_pods)["allowed"], true);
    let list_crds = json!({"verb": "list", "resource": "customresourcedefinitions", "group": "apiextensions.k8s.io"});
    assert_eq!(can(&mut c, "jane", list_crds.clone())["allowed"], false);
    create(
        &mut c,
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "crd-viewer", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
            "rules": [{"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list"]}]}),
    );
    // Until the clusterrole-aggregation controller has run, view is as it was.
    assert_eq!(can(&mut c, "jane", list_crds.clone())["allowed"], false);
    c.world.settle(60_000);
    assert_eq!(can(&mut c, "jane", list_crds)["allowed"], true);
    // It rewrote view, edit and admin, which aggregate it in turn.
    for role in ["view", "edit", "admin"] {
        let stored = c
            .get(&format!(
                "/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}"
            ))
            .1;
        let rules = stored["rules"].as_array().unwrap();
        assert!(
            rules
                .iter()
                .any(|r| r["resources"] == json!(["customresourcedefinitions"])),
            "{role}: {stored}"
        );
    }
}

#[test]
fn impersonation_needs_the_impersonate_verb() {
    let mut c = Cluster::new();
    let response = c.send(
        Request::get("/api/v1/namespaces/default/pods")
            .as_user(user("jane"))
            .with_header("Impersonate-User", "bob"),
    );
    assert_eq!(response.status, 403);
    assert_eq!(
        response.body_json()["message"],
        "users \"bob\" is forbidden: User \"jane\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    // The admin may; the impersonated user gets system:authenticated, a service
    // account its groups.
    let whoami = |c: &mut Cluster, who: &str, group: Option<&str>| {
        let mut req = Request::post(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#,
        )
        .with_header("Impersonate-User", who);
        if let Some(group) = group {
            req = req.with_header("Impersonate-Group", group);
        }
        let response = c.send(req);
        assert_eq!(response.status, 201, "{}", response.body_text());
        response.body_json()["status"]["userInfo"].clone()
    };
    assert_eq!(
        whoami(&mut c, "bob", Some("dev")),
        json!({"username": "bob", "groups": ["dev", "system:authenticated"]})
    );
    assert_eq!(
        whoami(&mut c, "system:serviceaccount:kube-system:default", None),
        json!({"username": "system:serviceaccount:kube-system:default",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]})
    );
    let response = c.send(Request::get("/api/v1/nodes").with_header("Impersonate-User", "bob"));
    assert_eq!(
        response.body_json()["message"],
        "nodes is forbidden: User \"bob\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
    );
}
