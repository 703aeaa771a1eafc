//! `kubectl edit`'s editor natively, as upstream launches it: the object is written
//! to a temporary `kubectl-edit-*.yaml` file and `$KUBE_EDITOR` or `$EDITOR` (else
//! `vi`) runs on it — split at spaces, or through `$SHELL -c` when it quotes.

use std::io::IsTerminal;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use kubecraft_kubectl::commands::edit::{EditedFile, EditorHooks};

static FILES: AtomicU64 = AtomicU64::new(0);

/// The editor hooks of the native binary.
pub const HOOKS: EditorHooks = EditorHooks { launch, remove };

/// The editor's own arguments and whether they run through a shell (upstream's
/// `defaultEnvEditor`).
fn editor_args(editor: &str) -> (Vec<String>, bool) {
    if !editor.contains(' ') {
        return (vec![editor.to_string()], false);
    }
    if !editor.contains(['"', '\'', '\\']) {
        return (editor.split(' ').map(String::from).collect(), false);
    }
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/bash".to_string());
    (vec![shell, "-c".into(), editor.to_string()], true)
}

/// The command line that opens `path` in `editor`.
fn command_line(editor: &str, path: &str) -> Vec<String> {
    let (mut args, shell) = editor_args(editor);
    if shell {
        let last = args.pop().unwrap_or_default();
        args.push(format!("{last} {path:?}"));
    } else {
        args.push(path.to_string());
    }
    args
}

fn launch(editor: &str, text: &str) -> Result<EditedFile, String> {
    let unique = FILES.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("kubectl-edit-{}{unique}.yaml", std::process::id()));
    let path = path.to_string_lossy().to_string();
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let args = command_line(editor, &path);
    // An editor may use the terminal; when commands come from a pipe, it must not eat them.
    let stdin = if std::io::stdin().is_terminal() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    let status = Command::new(&args[0])
        .args(&args[1..])
        .stdin(stdin)
        .status();
    let shown = editor_args(editor).0.join(" ");
    let failure = match status {
        Ok(status) if status.success() => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("unable to launch the editor {shown:?}"))
        }
        _ => Some(format!("there was a problem with the editor {shown:?}")),
    };
    if let Some(failure) = failure {
        // Nothing was saved, and the message names no file: leave none behind.
        remove(&path);
        return Err(failure);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    Ok(EditedFile { path, text })
}

fn remove(path: &str) {
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editors_are_split_at_spaces_unless_they_quote() {
        assert_eq!(command_line("vi", "/t/f"), ["vi", "/t/f"]);
        assert_eq!(
            command_line("code --wait", "/t/f"),
            ["code", "--wait", "/t/f"]
        );
        let quoted = command_line("sed -i 's/a/b/'", "/t/f");
        assert_eq!(
            quoted[1..],
            ["-c".to_string(), "sed -i 's/a/b/' \"/t/f\"".to_string()]
        );
    }
}
