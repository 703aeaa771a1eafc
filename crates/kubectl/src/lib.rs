//! kubectl for kubecraft.
//!
//! A client that speaks only REST to an API server — discovery to map what the user
//! typed onto resources, then plain API requests — and prints what upstream kubectl
//! prints. The same code serves the browser console and the native `kubecraft shell`.

pub mod commands;
pub mod discovery;
pub mod errors;
pub mod flags;
pub mod impersonation;
pub mod kubeconfig;
pub mod manifests;
pub mod output;
pub mod printers;
pub mod rbac_rules;
pub mod transport;

pub use output::Output;
pub use transport::Transport;

/// kubectl's per-session settings.
#[derive(Clone, Debug, Default)]
pub struct Kubectl {
    /// Contexts and the current one (which sets the namespace commands use without `-n`).
    pub config: kubeconfig::KubeConfig,
    /// Reads `-f FILE` (natively, the file system; in the browser there are no files).
    pub read_file: Option<fn(&str) -> std::io::Result<String>>,
    /// The editor `kubectl edit` opens (natively, from `$KUBE_EDITOR` or `$EDITOR`;
    /// empty: `vi`).
    pub editor_command: String,
    /// How `kubectl edit` reaches that editor; `None` in the browser, where the
    /// edit waits in `pending_edit` for the editor pane.
    pub editor: Option<commands::edit::EditorHooks>,
    /// An edit waiting for the editor pane's save.
    pub pending_edit: Option<commands::edit::EditSession>,
    /// Who the command being run acts as (`--as`, `--as-group`).
    pub acting_as: impersonation::Impersonation,
}

impl Kubectl {
    /// The namespace commands use without `-n`.
    pub fn namespace(&self) -> String {
        self.config.namespace()
    }

    /// The namespace a command works in: its `-n`/`--namespace`, else the context's.
    pub fn namespace_for(&self, parsed: &flags::Parsed) -> String {
        parsed
            .get("namespace")
            .map(String::from)
            .unwrap_or_else(|| self.namespace())
    }

    /// Runs one command line (already split into words, without the leading `kubectl`);
    /// `stdin` is what `-f -` reads.
    pub fn run(
        &mut self,
        transport: &mut dyn Transport,
        args: &[String],
        stdin: Option<&str>,
    ) -> Output {
        let (args, who) = impersonation::take_impersonation(args);
        self.acting_as = who.clone();
        as_client(transport, who, |client| {
            commands::run(self, client, &args, stdin)
        })
    }

    /// Hands the editor pane's saved text to the edit waiting for it: what that
    /// round printed; the edit waits again when the save was refused.
    pub fn save_edit(&mut self, transport: &mut dyn Transport, text: String) -> Output {
        let Some(session) = self.pending_edit.take() else {
            let mut out = Output::default();
            out.fail("error: there is no edit in progress\n");
            return out;
        };
        let file = commands::edit::EditedFile {
            path: commands::edit::PANE_FILE.to_string(),
            text,
        };
        let who = session.acting_as.clone();
        as_client(transport, who, |client| {
            let (output, reopened) = session.saved(client, file);
            self.pending_edit = reopened;
            output
        })
    }
}

/// Runs `command` over `transport` as kubectl's client does: acting as `who`, with
/// the server's warnings printed before the command's output.
fn as_client(
    transport: &mut dyn Transport,
    who: impersonation::Impersonation,
    command: impl FnOnce(&mut dyn Transport) -> Output,
) -> Output {
    let mut acting = impersonation::Impersonating::new(transport, who);
    let mut warned = transport::Warnings::new(&mut acting);
    let output = command(&mut warned);
    warned.printed_before(output)
}
