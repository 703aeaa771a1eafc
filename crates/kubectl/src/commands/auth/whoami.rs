//! `kubectl auth whoami [-o json|yaml]`: the SelfSubjectReview of the user.

use kubecraft_cluster::api::Request;
use serde_json::{json, Value};

use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::printers::go_values::{self, json_strings};
use crate::printers::structured;
use crate::printers::tabwriter::align;
use crate::transport::Transport;

const FLAGS: &[Flag] = &[value("output", Some('o'))];

/// Go's `%v` of a JSON list of strings: `[a b]`.
fn go_list(value: &Value) -> String {
    go_values::go_list(&json_strings(value))
}

/// Runs `kubectl auth whoami`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "auth whoami") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let format = parsed.get("output").unwrap_or("");
    if !matches!(format, "" | "json" | "yaml") {
        out.fail(format!(
            "error: unable to match a printer suitable for the output format {format:?}, allowed formats are: json,yaml\n"
        ));
        return out;
    }
    let review = json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {}});
    let response = transport.send(Request::post(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        review.to_string(),
    ));
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let review = response.body_json();
    match format {
        "json" => out.out(structured::json(&review)),
        "yaml" => out.out(structured::yaml(&review)),
        _ => {
            let user = &review["status"]["userInfo"];
            let mut rows = vec![vec!["ATTRIBUTE".to_string(), "VALUE".to_string()]];
            for (label, key) in [("Username", "username"), ("UID", "uid")] {
                if let Some(text) = user[key].as_str().filter(|t| !t.is_empty()) {
                    rows.push(vec![label.to_string(), text.to_string()]);
                }
            }
            if user["groups"].as_array().is_some_and(|g| !g.is_empty()) {
                rows.push(vec!["Groups".to_string(), go_list(&user["groups"])]);
            }
            for (key, values) in user["extra"].as_object().into_iter().flatten() {
                rows.push(vec![format!("Extra: {key}"), go_list(values)]);
            }
            out.out(align(&rows));
        }
    }
    out
}
