//! kubectl for kubecraft.
//!
//! A client that speaks only REST to an API server — discovery to map what the user
//! typed onto resources, then plain API requests — and prints what upstream kubectl
//! prints. The same code serves the browser console and the native `kubecraft shell`.

pub mod commands;
pub mod discovery;
pub mod errors;
pub mod flags;
pub mod output;
pub mod printers;
pub mod transport;

pub use output::Output;
pub use transport::Transport;

/// kubectl's per-session settings (the parts of a kubeconfig context we use).
#[derive(Clone, Debug)]
pub struct Kubectl {
    /// The namespace commands use without `-n`.
    pub namespace: String,
}

impl Default for Kubectl {
    fn default() -> Self {
        Kubectl {
            namespace: "default".into(),
        }
    }
}

impl Kubectl {
    /// Runs one command line (already split into words, without the leading `kubectl`).
    pub fn run(&mut self, transport: &mut dyn Transport, args: &[String]) -> Output {
        commands::run(self, transport, args)
    }
}
