//! kubectl's commands, one file each.

mod get;

use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

/// Dispatches a command line to its command.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    match args.first().map(String::as_str) {
        Some("get") => return get::run(kubectl, transport, &args[1..]),
        Some(other) if !other.starts_with('-') => {
            out.fail(format!(
                "error: unknown command {other:?} for \"kubectl\"\n"
            ));
        }
        _ => out.fail("error: a command is required, e.g. \"kubectl get pods\"\n"),
    }
    out
}
