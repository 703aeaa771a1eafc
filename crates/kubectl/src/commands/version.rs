//! `kubectl version [--client]`: the client's version and the server's `/version`.

use kubecraft_cluster::api::Request;
use kubecraft_cluster::KUBERNETES_VERSION;

use crate::errors::server_error;
use crate::flags::{self, boolean, Flag};
use crate::output::Output;
use crate::transport::Transport;

const FLAGS: &[Flag] = &[boolean("client", None)];

/// Runs `kubectl version`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "version") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    out.out(format!("Client Version: {KUBERNETES_VERSION}\n"));
    if parsed.is_set("client") {
        return out;
    }
    let response = transport.send(Request::get("/version"));
    if !response.is_success() {
        out.fail(server_error(&response));
        return out;
    }
    let server = response.body_json();
    out.out(format!(
        "Server Version: {}\n",
        server["gitVersion"].as_str().unwrap_or("")
    ));
    out
}
