//! Turning API errors into the lines kubectl prints.

use kubecraft_cluster::api::Response;
use serde_json::Value;

/// kubectl's line for a failed response: `Error from server (NotFound): pods "x" not found`,
/// or, for Invalid errors with causes, `The Deployment "web" is invalid: ...`.
pub fn server_error(response: &Response) -> String {
    let status = response.body_json();
    let reason = status.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = status.get("message").and_then(Value::as_str).unwrap_or("");
    if reason == "Invalid" {
        if let Some(text) = invalid_error(&status) {
            return text;
        }
    }
    if reason.is_empty() {
        return format!(
            "Error from server: {}\n",
            if message.is_empty() {
                response.body_text()
            } else {
                message
            }
        );
    }
    format!("Error from server ({reason}): {message}\n")
}

/// Upstream's rendering of a 422 with causes.
fn invalid_error(status: &Value) -> Option<String> {
    let details = status.get("details")?;
    let kind = details.get("kind").and_then(Value::as_str)?;
    let name = details.get("name").and_then(Value::as_str).unwrap_or("");
    let causes = details.get("causes").and_then(Value::as_array)?;
    let lines: Vec<String> = causes
        .iter()
        .map(|c| {
            let field = c.get("field").and_then(Value::as_str).unwrap_or("");
            let message = c.get("message").and_then(Value::as_str).unwrap_or("");
            if field.is_empty() {
                message.to_string()
            } else {
                format!("{field}: {message}")
            }
        })
        .collect();
    Some(match lines.as_slice() {
        [] => return None,
        [one] => format!("The {kind} {name:?} is invalid: {one}\n"),
        many => format!(
            "The {kind} {name:?} is invalid: \n* {}\n",
            many.join("\n* ")
        ),
    })
}
