//! Printers for Deployments and ReplicaSets.

use serde_json::{json, Value};

use super::{col, int, or_none, text, wide, PrintContext, Printer};
use crate::apiserver::subresources::selector_string;

fn containers_and_images(obj: &Value) -> (String, String) {
    let containers = obj
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let images: Vec<&str> = containers
        .iter()
        .filter_map(|c| c["image"].as_str())
        .collect();
    (names.join(","), images.join(","))
}

fn selector(obj: &Value) -> String {
    or_none(&selector_string(
        obj.pointer("/spec/selector").unwrap_or(&Value::Null),
    ))
}

/// Deployments: READY, UP-TO-DATE, AVAILABLE.
pub fn deployment_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Ready", "string"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: |d, ctx: &PrintContext| {
            let (containers, images) = containers_and_images(d);
            vec![
                json!(text(d, "/metadata/name")),
                json!(format!(
                    "{}/{}",
                    int(d, "/status/readyReplicas"),
                    int(d, "/spec/replicas")
                )),
                json!(int(d, "/status/updatedReplicas")),
                json!(int(d, "/status/availableReplicas")),
                json!(ctx.age_of(d)),
                json!(containers),
                json!(images),
                json!(selector(d)),
            ]
        },
    }
}

/// ReplicaSets: DESIRED, CURRENT, READY.
pub fn replicaset_printer() -> Printer {
    Printer {
        columns: vec![
            col("Name", "string"),
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            col("Age", "string"),
            wide("Containers", "string"),
            wide("Images", "string"),
            wide("Selector", "string"),
        ],
        row: |rs, ctx: &PrintContext| {
            let (containers, images) = containers_and_images(rs);
            vec![
                json!(text(rs, "/metadata/name")),
                json!(int(rs, "/spec/replicas")),
                json!(int(rs, "/status/replicas")),
                json!(int(rs, "/status/readyReplicas")),
                json!(ctx.age_of(rs)),
                json!(containers),
                json!(images),
                json!(selector(rs)),
            ]
        },
    }
}
