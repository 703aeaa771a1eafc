//! The kubeconfig kubectl works from: one simulated cluster, one user, and
//! contexts that pick a namespace (as kubeadm names them).

use serde_json::{json, Value};

/// A context: cluster, user and default namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    pub cluster: String,
    pub user: String,
    pub namespace: Option<String>,
}

/// The kubeconfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeConfig {
    pub cluster: String,
    pub server: String,
    pub user: String,
    pub contexts: Vec<Context>,
    pub current: String,
}

impl Default for KubeConfig {
    fn default() -> Self {
        KubeConfig {
            cluster: "kubecraft".into(),
            server: "https://control-plane:6443".into(),
            user: "kubernetes-admin".into(),
            contexts: vec![Context {
                name: "kubernetes-admin@kubecraft".into(),
                cluster: "kubecraft".into(),
                user: "kubernetes-admin".into(),
                namespace: None,
            }],
            current: "kubernetes-admin@kubecraft".into(),
        }
    }
}

impl KubeConfig {
    /// The current context, if it exists.
    pub fn current_context(&self) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == self.current)
    }

    /// The namespace commands use without `-n`.
    pub fn namespace(&self) -> String {
        self.current_context()
            .and_then(|c| c.namespace.clone())
            .unwrap_or_else(|| "default".into())
    }

    /// The kubeconfig document (`kubectl config view`); `minify` keeps only what the
    /// current context uses.
    pub fn to_value(&self, minify: bool) -> Value {
        let contexts: Vec<Value> = self
            .contexts
            .iter()
            .filter(|c| !minify || c.name == self.current)
            .map(|c| {
                let mut context = json!({"cluster": c.cluster, "user": c.user});
                if let Some(ns) = &c.namespace {
                    context["namespace"] = json!(ns);
                }
                json!({"context": context, "name": c.name})
            })
            .collect();
        json!({
            "apiVersion": "v1",
            "clusters": [{"cluster": {"server": self.server}, "name": self.cluster}],
            "contexts": contexts,
            "current-context": self.current,
            "kind": "Config",
            "users": [{"name": self.user, "user": {}}],
        })
    }
}
