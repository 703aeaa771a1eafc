//! The objects `kubectl create <kind> NAME ...` builds, exactly as kubectl builds
//! them (what `--dry-run=client -o yaml` shows).

use base64::Engine;
use kubecraft_cluster::api::labels::{LabelSelector, Operator};
use serde_json::{json, Map, Value};

/// kubectl's container name for an image: the last path part without tag or digest,
/// with `_` and `.` made DNS-safe.
pub fn container_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let name = last.split(':').next().unwrap_or(last);
    let name = name.split('@').next().unwrap_or(name);
    name.replace(['_', '.'], "-")
}

/// `kubectl create namespace NAME`.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {}, "status": {}})
}

/// `kubectl create serviceaccount NAME`.
pub fn service_account(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
}

/// `kubectl create deployment NAME --image=... [--replicas=N] [--port=P] [-- COMMAND [args...]]`.
pub fn deployment(
    name: &str,
    images: &[String],
    replicas: i64,
    port: Option<i64>,
    command: &[String],
) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let mut c = Map::new();
            if !command.is_empty() {
                c.insert("command".into(), json!(command));
            }
            c.insert("image".into(), json!(image));
            c.insert("name".into(), json!(container_name(image)));
            c.insert("resources".into(), json!({}));
            let mut c = Value::Object(c);
            if let (0, Some(p)) = (i, port) {
                c["ports"] = json!([{"containerPort": p}]);
            }
            c
        })
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"labels": {"app": name}, "name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}
        },
        "status": {}
    })
}

/// Splits `--from-literal=key=value` arguments; the error is kubectl's.
fn literals(pairs: &[String]) -> Result<Vec<(String, String)>, String> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!(
                "error: invalid literal source {p}, expected key=value\n"
            )),
        })
        .collect()
}

/// `kubectl create configmap NAME --from-literal=k=v ...`.
pub fn configmap(name: &str, from_literal: &[String]) -> Result<Value, String> {
    let mut data = Map::new();
    for (k, v) in literals(from_literal)? {
        data.insert(k, json!(v));
    }
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    if !data.is_empty() {
        cm["data"] = Value::Object(data);
    }
    Ok(cm)
}

/// `kubectl create secret generic NAME --from-literal=k=v ... [--type=T]`.
pub fn secret(name: &str, from_literal: &[String], kind: Option<&str>) -> Result<Value, String> {
    let mut data = Map::new();
    for (k, v) in literals(from_literal)? {
        data.insert(
            k,
            json!(base64::engine::general_purpose::STANDARD.encode(v)),
        );
    }
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}});
    if !data.is_empty() {
        secret["data"] = Value::Object(data);
    }
    if let Some(t) = kind {
        secret["type"] = json!(t);
    }
    Ok(secret)
}

/// `kubectl create service clusterip|nodeport NAME --tcp=port[:targetPort] ...`.
pub fn service(kind: &str, name: &str, tcp: &[String]) -> Result<Value, String> {
    let mut ports = Vec::new();
    for spec in tcp {
        let (port, target) = spec.split_once(':').unwrap_or((spec, spec));
        let parse = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| format!("error: invalid port number {s:?}\n"))
        };
        let (port, target_text) = (parse(port)?, target);
        let target: Value = match target_text.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(target_text),
        };
        let port_name = if spec.contains(':') {
            format!("{port}-{target_text}")
        } else {
            port.to_string()
        };
        ports.push(
            json!({"name": port_name, "port": port, "protocol": "TCP", "targetPort": target}),
        );
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"labels": {"app": name}, "name": name},
        "spec": {"ports": ports, "selector": {"app": name}, "type": kind},
        "status": {"loadBalancer": {}}
    }))
}

/// `kubectl create poddisruptionbudget NAME --selector=... --min-available=N|--max-unavailable=N`.
pub fn pod_disruption_budget(
    name: &str,
    selector: &str,
    min_available: Option<&str>,
    max_unavailable: Option<&str>,
) -> Result<Value, String> {
    if selector.is_empty() {
        return Err("error: a selector must be specified\n".into());
    }
    let rule = match (min_available, max_unavailable) {
        (None, None) => {
            return Err("error: one of min-available or max-unavailable must be specified\n".into())
        }
        (Some(_), Some(_)) => {
            return Err(
                "error: min-available and max-unavailable cannot be both specified\n".into(),
            )
        }
        (Some(min), None) => ("minAvailable", min),
        (None, Some(max)) => ("maxUnavailable", max),
    };
    // intstr.Parse: a number is an integer, anything else (e.g. `50%`) a string.
    let amount = match rule.1.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(rule.1),
    };
    let parsed = LabelSelector::parse(selector).map_err(|e| format!("error: {e}\n"))?;
    let mut match_labels = Map::new();
    let mut expressions = Vec::new();
    for r in &parsed.requirements {
        match r.operator {
            Operator::Equals => {
                match_labels.insert(r.key.clone(), json!(r.values[0]));
            }
            _ => {
                let operator = match r.operator {
                    Operator::In => "In",
                    Operator::NotIn | Operator::NotEquals => "NotIn",
                    Operator::Exists => "Exists",
                    _ => "DoesNotExist",
                };
                let mut e = json!({"key": r.key, "operator": operator});
                if !r.values.is_empty() {
                    e["values"] = json!(r.values);
                }
                expressions.push(e);
            }
        }
    }
    let mut label_selector = Map::new();
    if !expressions.is_empty() {
        label_selector.insert("matchExpressions".into(), json!(expressions));
    }
    if !match_labels.is_empty() {
        label_selector.insert("matchLabels".into(), Value::Object(match_labels));
    }
    let mut spec = Map::new();
    spec.insert(rule.0.into(), amount);
    spec.insert("selector".into(), Value::Object(label_selector));
    Ok(json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": spec,
        "status": {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    }))
}

/// `kubectl run NAME --image=... [--port] [--labels] [--restart] [--command] [-- args...]`.
pub fn pod(
    name: &str,
    image: &str,
    port: Option<i64>,
    labels: Option<&str>,
    restart: &str,
    command: bool,
    args: &[String],
) -> Result<Value, String> {
    let mut label_map = Map::new();
    match labels {
        Some(text) => {
            for pair in text.split(',') {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("error: invalid label spec: {pair}\n"))?;
                label_map.insert(k.to_string(), json!(v));
            }
        }
        None => {
            label_map.insert("run".into(), json!(name));
        }
    }
    let mut container = json!({"image": image, "name": name, "resources": {}});
    if !args.is_empty() {
        container[if command { "command" } else { "args" }] = json!(args);
    }
    if let Some(p) = port {
        container["ports"] = json!([{"containerPort": p}]);
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"labels": label_map, "name": name},
        "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": restart},
        "status": {}
    }))
}

/// The one-container pod template `create job` and `create cronjob` build.
fn batch_template(name: &str, image: &str, command: &[String], restart: &str) -> Value {
    let mut container = json!({"image": image, "name": name, "resources": {}});
    if !command.is_empty() {
        container["command"] = json!(command);
    }
    json!({"metadata": {}, "spec": {"containers": [container], "restartPolicy": restart}})
}

/// `kubectl create job NAME --image=... [-- COMMAND [args...]]`.
pub fn job(name: &str, image: &str, command: &[String]) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": batch_template(name, image, command, "Never")},
        "status": {}
    })
}

/// `kubectl create job NAME --from=cronjob/CRONJOB`: a Job made from the CronJob's
/// template, marked as started by hand and owned by the CronJob.
pub fn job_from_cronjob(name: &str, cronjob: &Value) -> Value {
    let template = &cronjob["spec"]["jobTemplate"];
    let mut annotations = json!({"cronjob.kubernetes.io/instantiate": "manual"});
    for (key, value) in template["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        annotations[key] = value.clone();
    }
    let mut metadata = json!({
        "name": name,
        "annotations": annotations,
        "ownerReferences": [{
            "apiVersion": "batch/v1", "kind": "CronJob", "controller": true,
            "name": cronjob["metadata"]["name"], "uid": cronjob["metadata"]["uid"],
        }],
    });
    if let Some(labels) = template["metadata"].get("labels") {
        metadata["labels"] = labels.clone();
    }
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": metadata,
        "spec": template["spec"],
        "status": {}
    })
}

/// `kubectl create cronjob NAME --image=... --schedule=... [--restart] [-- COMMAND [args...]]`.
pub fn cronjob(
    name: &str,
    image: &str,
    schedule: &str,
    restart: &str,
    command: &[String],
) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "jobTemplate": {
                "metadata": {"name": name},
                "spec": {"template": batch_template(name, image, command, restart)}
            },
            "schedule": schedule
        },
        "status": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_shapes_match_kubectl() {
        assert_eq!(container_name("registry.k8s.io/pause:3.9"), "pause");
        assert_eq!(container_name("nginx@sha256:abc"), "nginx");
        let svc = service("ClusterIP", "web", &["80:8080".to_string()]).unwrap();
        assert_eq!(
            svc["spec"]["ports"][0],
            json!({"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080})
        );
        let secret = secret("s", &["password=hunter2".to_string()], None).unwrap();
        assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
        assert!(configmap("c", &["novalue".to_string()]).is_err());
    }
}
