//! `kubectl edit TYPE NAME` (or `TYPE/NAME`): the object opens in the user's editor
//! under upstream's header; what was saved goes back as a patch. An invalid edit
//! (a syntax error, an emptied file, a refused patch) reopens the editor with the
//! reasons in the header, as upstream's loop does, until a save changes nothing.
//! Each round is a step of an [`EditSession`], so the browser's editor pane can
//! take the place of the editor process.

use kubecraft_cluster::api::ResourceInfo;
use serde_json::Value;

use super::apply::send_patch;
use super::target::fetch_target;
use super::three_way::three_way;
use crate::discovery::kind_prefix;
use crate::errors::server_error;
use crate::flags::{self, value, Flag};
use crate::impersonation::Impersonation;
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

/// The name the editor pane's text goes by in upstream's messages (the browser
/// has no files; the text stays in the pane until the edit is done).
pub const PANE_FILE: &str = "/tmp/kubectl-edit.yaml";

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

/// An edit waiting for the editor: the text it opens and what saving it needs.
/// Natively the editor is a process `run` waits for; in the browser the session
/// waits in [`Kubectl::pending_edit`] for the editor pane's save.
#[derive(Clone, Debug)]
pub struct EditSession {
    /// What the editor opens: upstream's header (with the reasons the last save was
    /// refused) above the object.
    pub text: String,
    /// Who the command acts as (`--as`, `--as-group`), for the patch.
    pub acting_as: Impersonation,
    resource: ResourceInfo,
    name: String,
    path: String,
    original: Value,
    printed: String,
    json: bool,
    validation: &'static str,
    /// Removes a file the editor left (natively; nothing in the browser).
    remove: fn(&str),
    /// What the last refused save held, without its comments.
    previous: Option<String>,
    /// The file holding the last refused save.
    kept: Option<String>,
    rounds: usize,
}

/// Starts `kubectl edit`: the session, or the output of a command that cannot edit.
fn begin(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    remove: fn(&str),
) -> Result<EditSession, Output> {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "edit") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return Err(out);
        }
    };
    let json = match parsed.get("output").unwrap_or("yaml") {
        "yaml" => false,
        "json" => true,
        other => {
            out.fail(format!(
                "error: unable to match a printer suitable for the output format {other:?}, allowed formats are: json,kyaml,yaml\n"
            ));
            return Err(out);
        }
    };
    let validation = match flags::field_validation(&parsed) {
        Ok(v) => v,
        Err(e) => {
            out.fail(e);
            return Err(out);
        }
    };
    let namespace = kubectl.namespace_for(&parsed);
    let missing = "error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\n";
    let fetched = match fetch_target(transport, &parsed.positional, missing, &namespace) {
        Ok(f) => f,
        Err(e) => {
            out.fail(e);
            return Err(out);
        }
    };
    let mut original = fetched.object;
    if let Some(meta) = original["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    let printed = if json {
        structured::json(&original)
    } else {
        structured::yaml(&original)
    };
    Ok(EditSession {
        text: format!("{}{printed}", header(&[])),
        acting_as: kubectl.acting_as.clone(),
        resource: fetched.resource,
        name: fetched.name,
        path: fetched.path,
        original,
        printed,
        json,
        validation,
        remove,
        previous: None,
        kept: None,
        rounds: 0,
    })
}

impl EditSession {
    /// Takes what the editor saved: the output of this round and, when the save was
    /// refused, the session again with the reasons in its header.
    pub fn saved(
        mut self,
        transport: &mut dyn Transport,
        file: EditedFile,
    ) -> (Output, Option<EditSession>) {
        let mut out = Output::default();
        self.rounds += 1;
        let (qualified, name) = (self.resource.qualified_plural(), self.name.clone());
        let preserved = |out: &mut Output, path: &str, error: &str| {
            out.err(format!(
                "A copy of your changes has been stored to {path:?}\n"
            ));
            out.fail(format!("error: {error}\n"));
        };
        if let Some(old) = self.kept.replace(file.path.clone()) {
            (self.remove)(&old);
        }
        let edited = strip_comments(&file.text);
        if self.previous.as_ref() == Some(&edited) {
            preserved(
                &mut out,
                &file.path,
                "Edit cancelled, no valid changes were saved.",
            );
            return (out, None);
        }
        if self.previous.is_none() && edited == strip_comments(&self.printed) {
            (self.remove)(&file.path);
            out.err("Edit cancelled, no changes made.\n");
            return (out, None);
        }
        self.previous = Some(edited.clone());
        // An emptied file no longer holds the object: kubectl 1.35 counts that as invalid.
        let parsed = match edited.trim() {
            "" => Err(format!("{qualified} {name:?} was not valid")),
            _ => parse(&edited, self.json)
                .map_err(|e| format!("The edited file had a syntax error: {e}")),
        };
        let updated = match parsed {
            Ok(v) => v,
            Err(head) => {
                out.err(format!("error: {qualified} {name:?} is invalid\n"));
                let reasons = [Reason {
                    head,
                    causes: Vec::new(),
                }];
                return self.reopen(out, &reasons);
            }
        };
        let prefix = kind_prefix(&self.resource);
        if updated == self.original {
            (self.remove)(&file.path);
            out.out(format!("{prefix}/{name} skipped\n"));
            return (out, None);
        }
        let identity = |v: &Value| {
            (
                v["apiVersion"].clone(),
                v["kind"].clone(),
                v["metadata"]["name"].clone(),
            )
        };
        if identity(&updated) != identity(&self.original) {
            preserved(
                &mut out,
                &file.path,
                "At least one of apiVersion, kind and name was changed",
            );
            return (out, None);
        }
        let patch = three_way(Some(&self.original), &updated, &self.original);
        let response = send_patch(transport, &self.path, &patch, self.validation, false);
        if response.is_success() {
            (self.remove)(&file.path);
            out.out(format!("{prefix}/{name} edited\n"));
            return (out, None);
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
                let reasons = [Reason {
                    head: format!("{qualified} {name:?} was not valid"),
                    causes,
                }];
                self.reopen(out, &reasons)
            }
            "NotFound" => {
                out.err(format!(
                    "error: {qualified} {name:?} could not be found on the server\n"
                ));
                out.fail(format!(
                    "The edits you made on deleted resources have been saved to {:?}\n",
                    file.path
                ));
                (out, None)
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
                (out, None)
            }
        }
    }

    /// Opens the last refused save again under the reasons it was refused, unless
    /// the editor has been reopened too often.
    fn reopen(mut self, mut out: Output, reasons: &[Reason]) -> (Output, Option<EditSession>) {
        if self.rounds >= MAX_ROUNDS {
            let path = self.kept.unwrap_or_default();
            out.err(format!(
                "A copy of your changes has been stored to {path:?}\n"
            ));
            out.fail("error: Edit cancelled, no valid changes were saved.\n");
            return (out, None);
        }
        let body = self.previous.as_deref().unwrap_or(&self.printed);
        self.text = format!("{}{body}", header(reasons));
        (out, Some(self))
    }
}

/// Runs `kubectl edit`: natively through the editor hooks until the edit is done; in
/// the browser, up to the editor pane, leaving the session in `kubectl.pending_edit`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let Some(hooks) = kubectl.editor else {
        return match begin(kubectl, transport, args, |_| {}) {
            Ok(session) => {
                kubectl.pending_edit = Some(session);
                Output::default()
            }
            Err(out) => out,
        };
    };
    let mut session = match begin(kubectl, transport, args, hooks.remove) {
        Ok(session) => session,
        Err(out) => return out,
    };
    let editor = match kubectl.editor_command.as_str() {
        "" => "vi",
        command => command,
    };
    let mut out = Output::default();
    loop {
        let file = match (hooks.launch)(editor, &session.text) {
            Ok(file) => file,
            Err(e) => {
                out.fail(format!("error: {e}\n"));
                return out;
            }
        };
        let (round, reopened) = session.saved(transport, file);
        out.extend(round);
        match reopened {
            Some(next) => session = next,
            None => return out,
        }
    }
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
