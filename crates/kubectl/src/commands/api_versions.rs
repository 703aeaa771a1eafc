//! `kubectl api-versions`: every served group/version, sorted, one per line.

use kubecraft_cluster::api::Request;

use crate::errors::server_error;
use crate::flags;
use crate::output::Output;
use crate::transport::Transport;

/// Runs `kubectl api-versions`.
pub fn run(transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    if let Err(text) = flags::parse(args, &[], "api-versions") {
        out.fail(text);
        return out;
    }
    let mut versions = Vec::new();
    for path in ["/api", "/apis"] {
        let response = transport.send(Request::get(path));
        if !response.is_success() {
            out.fail(server_error(&response));
            return out;
        }
        let body = response.body_json();
        // `/api` lists bare versions; `/apis` lists groups with their versions.
        for version in body["versions"].as_array().into_iter().flatten() {
            versions.extend(version.as_str().map(String::from));
        }
        for group in body["groups"].as_array().into_iter().flatten() {
            for version in group["versions"].as_array().into_iter().flatten() {
                versions.extend(version["groupVersion"].as_str().map(String::from));
            }
        }
    }
    versions.sort();
    for version in versions {
        out.out(format!("{version}\n"));
    }
    out
}
