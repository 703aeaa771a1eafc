//! `kubectl edit TYPE NAME` (or `TYPE/NAME`): the object opens in the user's editor
//! under upstream's header; what was saved goes back as a patch. An invalid edit
//! (a syntax error, an emptied file, a refused patch) reopens the editor with the
//! reasons in the header, as upstream's loop does, until a save changes nothing.

use serde_json::Value;

use super::apply::send_patch;
use super::target::fetch_target;
use super::three_way::three_way;
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::output::Output;
use crate::printers::structured;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[value("output", Some('o')), value("validate", None)];

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

/// How many times an invalid edit reopens the editor before giving up (upstream
/// reopens it for ever; an editor script that keeps breaking the file would hang).
const MAX_ROUNDS: usize = 20;

/// What saving a file in the editor produced: its text, and where it is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditedFile {
    pub path: String,
    pub text: String,
}

/// How `kubectl edit` reaches the user's editor (natively, `$KUBE_EDITOR`/`$EDITOR`
/// on a temporary file).
#[derive(Clone, Copy, Debug)]
pub struct EditorHooks {
    /// Opens `text` in the editor command given (`vi`, `code --wait`, ...).
    pub launch: fn(editor: &str, text: &str) -> Result<EditedFile, String>,
    /// Removes a file `launch` left.
    pub remove: fn(path: &str),
}

/// Upstream's `ManualStrip`: the text without its comment lines.
fn strip_comments(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect()
}

/// Why a save was refused, for the header of the reopened file.
struct Reason {
    head: String,
    causes: Vec<String>,
}

fn header(reasons: &[Reason]) -> String {
    let mut text = HEADER.to_string();
    for reason in reasons {
        let colon = if reason.causes.is_empty() { "" } else { ":" };
        text.push_str(&format!("# {}{colon}\n", reason.head.replace('\n', "\n# ")));
        for cause in &reason.causes {
            text.push_str(&format!("# * {}\n", cause.replace('\n', "\n# ")));
        }
        text.push_str("#\n");
    }
    text
}

fn parse(text: &str, json: bool) -> Result<Value, String> {
    if json {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_yaml::from_str(text).map_err(|e| format!("error converting YAML to JSON: yaml: {e}"))
    }
}

/// Runs `kubectl edit`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "edit") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let json = match parsed.get("output").unwrap_or("yaml") {
        "yaml" => false,
        "json" => true,
        other => {
            out.fail(format!(
                "error: unable to match a printer suitable for the output format {other:?}, allowed formats are: json,kyaml,yaml\n"
            ));
            return out;
        }
    };
    let validation = match flags::field_validation(&parsed) {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let Some(hooks) = kubectl.editor else {
        out.fail("error: there is no editor here to edit in\n");
        return out;
    };
    let namespace = kubectl.namespace_for(&parsed);
    let missing = "error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\n";
    let fetched = match fetch_target(transport, &parsed.positional, missing, &namespace) {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let mut original = fetched.object.clone();
    if let Some(meta) = original["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    let printed = if json {
        structured::json(&original)
    } else {
        structured::yaml(&original)
    };
    let editor = match kubectl.editor_command.as_str() {
        "" => "vi".to_string(),
        command => command.to_string(),
    };
    let qualified = fetched.resource.qualified_plural();
    let name = fetched.name.clone();
    let mut reasons: Vec<Reason> = Vec::new();
    // What the last refused save held, without its comments.
    let mut previous: Option<String> = None;
    let mut kept: Option<String> = None;
    let preserved = |out: &mut Output, path: &str, error: &str| {
        out.err(format!(
            "A copy of your changes has been stored to {path:?}\n"
        ));
        out.fail(format!("error: {error}\n"));
    };
    for _ in 0..MAX_ROUNDS {
        let body = previous.as_ref().unwrap_or(&printed);
        let file = match (hooks.launch)(&editor, &format!("{}{body}", header(&reasons))) {
            Ok(file) => file,
            Err(e) => {
                out.fail(format!("error: {e}\n"));
                return out;
            }
        };
        if let Some(old) = kept.replace(file.path.clone()) {
            (hooks.remove)(&old);
        }
        let edited = strip_comments(&file.text);
        if previous.as_ref() == Some(&edited) {
            preserved(
                &mut out,
                &file.path,
                "Edit cancelled, no valid changes were saved.",
            );
            return out;
        }
        if previous.is_none() && edited == strip_comments(&printed) {
            (hooks.remove)(&file.path);
            out.err("Edit cancelled, no changes made.\n");
            return out;
        }
        previous = Some(edited.clone());
        // An emptied file no longer holds the object: kubectl 1.35 counts that as invalid.
        let parsed = match edited.trim() {
            "" => Err(format!("{qualified} {name:?} was not valid")),
            _ => {
                parse(&edited, json).map_err(|e| format!("The edited file had a syntax error: {e}"))
            }
        };
        let updated = match parsed {
            Ok(v) => v,
            Err(head) => {
                out.err(format!("error: {qualified} {name:?} is invalid\n"));
                reasons = vec![Reason {
                    head,
                    causes: Vec::new(),
                }];
                continue;
            }
        };
        let prefix = kind_prefix(&fetched.resource);
        if updated == original {
            (hooks.remove)(&file.path);
            out.out(format!("{prefix}/{name} skipped\n"));
            return out;
        }
        let identity = |v: &Value| {
            (
                v["apiVersion"].clone(),
                v["kind"].clone(),
                v["metadata"]["name"].clone(),
            )
        };
        if identity(&updated) != identity(&original) {
            preserved(
                &mut out,
                &file.path,
                "At least one of apiVersion, kind and name was changed",
            );
            return out;
        }
        let patch = three_way(Some(&original), &updated, &original);
        let response = send_patch(transport, &fetched.path, &patch, validation, false);
        if response.is_success() {
            (hooks.remove)(&file.path);
            out.out(format!("{prefix}/{name} edited\n"));
            return out;
        }
        let status = response.body_json();
        match status["reason"].as_str().unwrap_or("") {
            "Invalid" => {
                out.err(format!("error: {qualified} {name:?} is invalid\n"));
                let causes = status["details"]["causes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        format!(
                            "{}: {}",
                            c["field"].as_str().unwrap_or(""),
                            c["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                reasons = vec![Reason {
                    head: format!("{qualified} {name:?} was not valid"),
                    causes,
                }];
            }
            "NotFound" => {
                out.err(format!(
                    "error: {qualified} {name:?} could not be found on the server\n"
                ));
                out.fail(format!(
                    "The edits you made on deleted resources have been saved to {:?}\n",
                    file.path
                ));
                return out;
            }
            _ => {
                let message = match status["message"].as_str() {
                    Some(message) => message.to_string(),
                    None => server_error(&response).trim_end().to_string(),
                };
                out.err(format!(
                    "error: {qualified} {name:?} could not be patched: {message}\n"
                ));
                out.fail(format!(
                    "You can run `kubectl replace -f {}` to try this update again.\n",
                    file.path
                ));
                return out;
            }
        }
    }
    let path = kept.unwrap_or_default();
    preserved(
        &mut out,
        &path,
        "Edit cancelled, no valid changes were saved.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_lists_each_reason_and_its_causes() {
        let reasons = [Reason {
            head: "deployments.apps \"web\" was not valid".into(),
            causes: vec![
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0".into(),
            ],
        }];
        assert_eq!(
            header(&reasons),
            format!("{HEADER}# deployments.apps \"web\" was not valid:\n# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n#\n")
        );
        assert_eq!(strip_comments("# a\nb: 1\n  # c\nd: 2\n"), "b: 1\nd: 2\n");
    }
}
