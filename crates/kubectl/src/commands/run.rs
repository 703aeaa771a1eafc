//! `kubectl run NAME --image=IMAGE`: creates a pod, as upstream's generator builds it.

use super::create::{create_generated, dry_run, CreateOptions};
use super::generators;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::transport::Transport;
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("image", None),
    value("image-pull-policy", None),
    value("port", None),
    value("labels", Some('l')),
    value("restart", None),
    boolean("command", None),
    value("dry-run", None),
    value("output", Some('o')),
];

/// Runs `kubectl run`.
pub fn run(kubectl: &mut Kubectl, transport: &mut dyn Transport, args: &[String]) -> Output {
    let mut out = Output::default();
    let parsed = match flags::parse(args, FLAGS, "run") {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let Some(name) = parsed.positional.first() else {
        out.fail("error: NAME is required for run\nSee 'kubectl run -h' for help and examples\n");
        return out;
    };
    let Some(image) = parsed.get("image") else {
        out.fail("error: required flag(s) \"image\" not set\n");
        return out;
    };
    let restart = parsed.get("restart").unwrap_or("Always");
    if !matches!(restart, "Always" | "OnFailure" | "Never") {
        out.fail(format!("error: invalid restart policy: {restart}\nSee 'kubectl run -h' for help and examples\n"));
        return out;
    }
    let mode = match dry_run(&parsed) {
        Ok(m) => m,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    let port = parsed.get("port").and_then(|p| p.parse::<i64>().ok());
    let mut pod = match generators::pod(
        name,
        image,
        port,
        parsed.get("labels"),
        restart,
        parsed.is_set("command"),
        &parsed.positional[1..],
    ) {
        Ok(p) => p,
        Err(e) => {
            out.fail(e);
            return out;
        }
    };
    // Unchecked here: the API server refuses a policy it does not know.
    if let Some(policy) = parsed.get("image-pull-policy").filter(|p| !p.is_empty()) {
        pod["spec"]["containers"][0]["imagePullPolicy"] = policy.into();
    }
    let namespace = kubectl.namespace_for(&parsed);
    let options = CreateOptions {
        namespace: &namespace,
        mode,
        output: parsed.get("output"),
        validation: None,
    };
    create_generated(transport, pod, &options, parsed.get("namespace").is_some())
}
