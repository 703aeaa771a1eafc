//! The LimitRange describer, as upstream's `describeLimitRange`: one row per limit
//! type and resource with its min, max, default request, default limit and max
//! limit/request ratio (`-` where unset). Upstream walks a Go map, so its row
//! order varies; rows here are in resource name order.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{text, Writer};

/// The fields of a limit, in the columns' order after Type and Resource.
const COLUMNS: [&str; 5] = [
    "min",
    "max",
    "defaultRequest",
    "default",
    "maxLimitRequestRatio",
];

/// `kubectl describe limitrange`.
pub(super) fn describe_limit_range(range: &Value) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(range, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(range, "/metadata/namespace")),
    );
    w.write(
        0,
        "Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n",
    );
    w.write(
        0,
        "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n",
    );
    for limit in range["spec"]["limits"].as_array().into_iter().flatten() {
        let resources: BTreeSet<&String> = COLUMNS
            .iter()
            .filter_map(|c| limit[*c].as_object())
            .flat_map(|m| m.keys())
            .collect();
        for resource in resources {
            let cells: Vec<&str> = COLUMNS
                .iter()
                .map(|c| limit[*c][resource.as_str()].as_str().unwrap_or("-"))
                .collect();
            w.write(
                0,
                &format!(
                    "{}\t{resource}\t{}\n",
                    text(limit, "/type"),
                    cells.join("\t")
                ),
            );
        }
    }
    w.finish()
}
