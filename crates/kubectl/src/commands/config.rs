//! `kubectl config`: view, current-context, get-contexts, use-context, set-context.

use crate::flags::{self, boolean, value, Flag};
use crate::kubeconfig::Context;
use crate::output::Output;
use crate::printers::tabwriter::align;
use crate::printers::{jsonpath, structured};
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    boolean("minify", None),
    value("output", Some('o')),
    boolean("current", None),
    value("cluster", None),
    value("user", None),
];

/// Runs `kubectl config ...`.
pub fn run(kubectl: &mut Kubectl, args: &[String]) -> Output {
    let mut out = Output::default();
    let Some(sub) = args.first().map(String::as_str) else {
        out.fail("error: a config subcommand is required: view, current-context, get-contexts, use-context, set-context\n");
        return out;
    };
    let command = format!("config {sub}");
    let parsed = match flags::parse(&args[1..], FLAGS, &command) {
        Ok(p) => p,
        Err(text) => {
            out.fail(text);
            return out;
        }
    };
    let config = &mut kubectl.config;
    match sub {
        "view" => {
            let doc = config.to_value(parsed.is_set("minify"));
            match parsed.get("output").unwrap_or("yaml") {
                "yaml" => out.out(structured::yaml(&doc)),
                "json" => out.out(structured::json(&doc)),
                other => match other.strip_prefix("jsonpath=") {
                    Some(template) => match jsonpath::render(template, &doc, true) {
                        Ok(text) => out.out(text),
                        Err(e) => out.fail(format!("error: error executing jsonpath {template:?}: Error executing template: {e}\n")),
                    },
                    None => out.fail(format!("error: unable to match a printer suitable for the output format {other:?}\n")),
                },
            }
        }
        "current-context" => out.out(format!("{}\n", config.current)),
        "get-contexts" => {
            let mut rows = vec![["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"].map(String::from).to_vec()];
            for c in &config.contexts {
                let mark = if c.name == config.current { "*" } else { "" };
                rows.push(vec![mark.into(), c.name.clone(), c.cluster.clone(), c.user.clone(), c.namespace.clone().unwrap_or_default()]);
            }
            out.out(align(&rows));
        }
        "use-context" => match parsed.positional.first() {
            Some(name) if config.contexts.iter().any(|c| &c.name == name) => {
                config.current = name.clone();
                out.out(format!("Switched to context {name:?}.\n"));
            }
            Some(name) => out.fail(format!("error: no context exists with the name: {name:?}\n")),
            None => out.fail("error: Unexpected args: []\nSee 'kubectl config use-context -h' for help and examples\n"),
        },
        "set-context" => {
            let name = if parsed.is_set("current") {
                config.current.clone()
            } else {
                match parsed.positional.first() {
                    Some(n) => n.clone(),
                    None => {
                        out.fail("error: you must specify a non-empty context name or --current\nSee 'kubectl config set-context -h' for help and examples\n");
                        return out;
                    }
                }
            };
            let (cluster, user) = (config.cluster.clone(), config.user.clone());
            let exists = config.contexts.iter().any(|c| c.name == name);
            if !exists {
                config.contexts.push(Context { name: name.clone(), cluster: cluster.clone(), user: user.clone(), namespace: None });
            }
            let context = config.contexts.iter_mut().find(|c| c.name == name).expect("just ensured");
            if let Some(ns) = parsed.get("namespace") {
                context.namespace = Some(ns.to_string());
            }
            if let Some(c) = parsed.get("cluster") {
                context.cluster = c.to_string();
            }
            if let Some(u) = parsed.get("user") {
                context.user = u.to_string();
            }
            out.out(format!("Context {name:?} {}.\n", if exists { "modified" } else { "created" }));
        }
        other => out.fail(format!("error: unknown command {other:?} for \"kubectl config\"\n")),
    }
    out
}
