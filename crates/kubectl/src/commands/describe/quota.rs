//! The ResourceQuota describer, as upstream's `describeQuota`: each resource the
//! quota's status counts, with what is used of what is allowed.

use serde_json::Value;

use super::{strings, text, Writer};

/// Upstream's explanation of a scope (`helpTextForResourceQuotaScope`).
fn scope_help(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "Terminating" => "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system.",
        "NotTerminating" => "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.",
        "BestEffort" => "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.",
        "NotBestEffort" => "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.",
        _ => return None,
    })
}

/// `kubectl describe resourcequota`.
pub(super) fn describe_quota(quota: &Value) -> String {
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{}\n", text(quota, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(quota, "/metadata/namespace")),
    );
    let mut scopes = strings(&quota["spec"]["scopes"]);
    if !scopes.is_empty() {
        scopes.sort_unstable();
        w.write(0, &format!("Scopes:\t{}\n", scopes.join(", ")));
        for help in scopes.iter().filter_map(|s| scope_help(s)) {
            w.write(0, &format!(" * {help}\n"));
        }
    }
    w.write(0, "Resource\tUsed\tHard\n");
    w.write(0, "--------\t----\t----\n");
    let hard = quota["status"]["hard"].as_object();
    for (name, amount) in hard.into_iter().flatten() {
        let used = quota["status"]["used"][name].as_str().unwrap_or("0");
        w.write(
            0,
            &format!("{name}\t{used}\t{}\n", amount.as_str().unwrap_or("")),
        );
    }
    w.finish()
}
