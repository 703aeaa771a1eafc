//! `kubectl auth can-i|whoami`: what the server's authorizer says about the user.

mod can_i;
mod rules;
mod whoami;

use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const HELP: &str = "Inspect authorization.

Available Commands:
  can-i         Check whether an action is allowed
  reconcile     Reconciles rules for RBAC role, role binding, cluster role, and cluster role binding objects
  whoami        Experimental: Check self subject attributes

Usage:
  kubectl auth [flags] [options]

Use \"kubectl auth <command> --help\" for more information about a given command.
Use \"kubectl options\" for a list of global command-line options (applies to all commands).
";

/// Runs `kubectl auth SUBCOMMAND ...`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    match args.first().map(String::as_str) {
        Some("can-i") => can_i::run(kubectl, transport, &args[1..]),
        Some("whoami") => whoami::run(transport, &args[1..]),
        Some(other) if !other.starts_with('-') => {
            let mut out = Output::default();
            out.fail(format!(
                "error: unknown command {other:?}\nSee 'kubectl auth -h' for help and examples\n"
            ));
            out
        }
        _ => {
            let mut out = Output::default();
            out.fail(HELP);
            out
        }
    }
}
