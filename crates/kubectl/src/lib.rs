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
    /// How `kubectl edit` reaches that editor; `None` where there is none.
    pub editor: Option<commands::edit::EditorHooks>,
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
        let mut acting = impersonation::Impersonating::new(transport, who);
        let mut warned = transport::Warnings::new(&mut acting);
        let output = commands::run(self, &mut warned, &args, stdin);
        warned.printed_before(output)
    }
}
