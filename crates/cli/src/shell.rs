//! `kubecraft shell`: a fresh cluster driven by lines of input — kubectl commands
//! (with or without the word `kubectl`) and simulation commands (`sim ...`).
//!
//! Virtual time moves only by `sim` commands (and, later, commands that wait).

use kubecraft_cluster::cluster;
use kubecraft_cluster::kubelet::{NodeConfig, TaintSpec};
use kubecraft_cluster::scheduler;
use kubecraft_cluster::service_request;
use kubecraft_cluster::sim::clock::parse_duration;
use kubecraft_cluster::sim::World;
use kubecraft_kubectl::{Kubectl, Output};
use std::collections::BTreeMap;

use crate::words;

/// How far `sim settle` looks ahead for pending work (one virtual hour).
const SETTLE_HORIZON_MS: u64 = 3_600_000;

/// A command waiting for the body of its here-document.
struct PendingHeredoc {
    words: Vec<String>,
    delimiter: String,
    /// `<<-WORD`: leading tabs are stripped from body lines.
    strip_tabs: bool,
    body: String,
}

/// A cluster and a kubectl session.
pub struct Shell {
    world: World,
    kubectl: Kubectl,
    heredoc: Option<PendingHeredoc>,
    line_number: usize,
    /// Environment variables kubectl reads (`KUBE_EDITOR`, `EDITOR`): the process's,
    /// then what `export NAME=value` set.
    env: BTreeMap<String, String>,
}

/// The variables the shell passes on to kubectl.
const KUBECTL_ENV: &[&str] = &["KUBE_EDITOR", "EDITOR"];

/// `NAME=value`: a shell variable assignment.
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, value))
}

/// Finds a here-document redirection (`<<EOF`, `<<'EOF'`, `<<-EOF`, `<< EOF`) and
/// removes it from the words, returning the delimiter and whether tabs are stripped.
fn take_heredoc(words: &mut Vec<String>) -> Option<(String, bool)> {
    let at = words.iter().position(|w| w.starts_with("<<"))?;
    let mut rest = words.remove(at)[2..].to_string();
    let strip_tabs = rest.starts_with('-');
    if strip_tabs {
        rest.remove(0);
    }
    if rest.is_empty() && at < words.len() {
        rest = words.remove(at);
    }
    Some((rest, strip_tabs))
}

/// Formats virtual milliseconds as `1h2m3.5s`-style text for `sim status`.
fn virtual_time(ms: u64) -> String {
    let (h, m, s, frac) = (
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000,
    );
    let seconds = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{frac:03}s")
    };
    match (h, m) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

/// The machine `sim node add NAME [--cpu N] [--memory Q] [--label k=v]... [--taint k=v:Effect]...` describes.
fn node_config(name: &str, flags: &[&str]) -> Result<NodeConfig, String> {
    let mut config = NodeConfig::worker(name, 0, "4", "8Gi");
    config.labels.clear();
    let mut rest = flags.iter();
    while let Some(flag) = rest.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (*flag, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| rest.next().map(|v| v.to_string()))
                .ok_or(format!("flag needs an argument: {flag}"))
        };
        match flag {
            "--cpu" => {
                let cpu = value()?;
                if kubecraft_cluster::api::quantity::milli_value(&cpu).is_none_or(|m| m <= 0) {
                    return Err(format!("invalid --cpu {cpu:?}"));
                }
                config.cpu = cpu;
            }
            "--memory" => {
                let memory = value()?;
                if kubecraft_cluster::api::quantity::value(&memory).is_none_or(|m| m <= 0) {
                    return Err(format!("invalid --memory {memory:?}"));
                }
                config.memory = memory;
            }
            "--label" => {
                let label = value()?;
                let (k, v) = label
                    .split_once('=')
                    .ok_or(format!("invalid --label {label:?} (want key=value)"))?;
                config.labels.push((k.to_string(), v.to_string()));
            }
            "--taint" => config.taints.push(TaintSpec::parse(&value()?)?),
            other => return Err(format!("unknown flag: {other}")),
        }
    }
    Ok(config)
}

impl Shell {
    /// A shell over a new default cluster (a control plane and three workers) with `seed`.
    pub fn new(seed: u64) -> Self {
        Self::from_world(cluster::start(seed))
    }

    /// A shell over an existing cluster (e.g. one restored from `--state`).
    pub fn from_world(world: World) -> Self {
        Shell {
            world,
            kubectl: Kubectl {
                read_file: Some(|path| std::fs::read_to_string(path)),
                editor: Some(crate::editor::HOOKS),
                ..Kubectl::default()
            },
            heredoc: None,
            line_number: 0,
            env: KUBECTL_ENV
                .iter()
                .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
                .collect(),
        }
    }

    /// A shell for the browser's worker: no file system, and no editor process, so
    /// `kubectl edit` waits for the editor pane (see [`Shell::pending_editor`]).
    pub fn in_browser(seed: u64) -> Self {
        let mut shell = Self::new(seed);
        shell.kubectl.read_file = None;
        shell.kubectl.editor = None;
        shell
    }

    /// The text the editor pane should show, while a `kubectl edit` waits for it.
    pub fn pending_editor(&self) -> Option<&str> {
        self.kubectl
            .pending_edit
            .as_ref()
            .map(|edit| edit.text.as_str())
    }

    /// Hands the editor pane's saved text to the waiting `kubectl edit`.
    pub fn save_edit(&mut self, text: String) -> Output {
        self.kubectl.save_edit(&mut self.world, text)
    }

    /// The cluster, for callers that also make API requests directly (the browser's worker).
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// The cluster's snapshot, for `--state`.
    pub fn snapshot(&self) -> serde_json::Value {
        self.world.snapshot()
    }

    /// Takes one input line: runs it, or collects it into a pending here-document.
    pub fn feed(&mut self, line: &str) -> Output {
        self.line_number += 1;
        if let Some(pending) = &mut self.heredoc {
            let content = if pending.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if content == pending.delimiter {
                let pending = self.heredoc.take().expect("pending here-document");
                return self.run_words(&pending.words, Some(&pending.body));
            }
            pending.body.push_str(content);
            pending.body.push('\n');
            return Output::default();
        }
        self.run_line(line)
    }

    /// Ends the input: a here-document still open runs with what it has, as bash does.
    pub fn finish(&mut self) -> Output {
        let Some(pending) = self.heredoc.take() else {
            return Output::default();
        };
        let mut out = Output::default();
        out.err(format!(
            "warning: here-document at line {} delimited by end-of-file (wanted `{}')\n",
            self.line_number, pending.delimiter
        ));
        out.extend(self.run_words(&pending.words, Some(&pending.body)));
        out
    }

    /// Runs one input line and returns what it printed.
    pub fn run_line(&mut self, line: &str) -> Output {
        let mut out = Output::default();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return out;
        }
        let mut words = match words::split(trimmed) {
            Ok(w) => w,
            Err(e) => {
                out.fail(format!("error: {e}\n"));
                return out;
            }
        };
        if let Some((delimiter, strip_tabs)) = take_heredoc(&mut words) {
            self.heredoc = Some(PendingHeredoc {
                words,
                delimiter,
                strip_tabs,
                body: String::new(),
            });
            return out;
        }
        self.run_words(&words, None)
    }

    fn run_words(&mut self, words: &[String], stdin: Option<&str>) -> Output {
        // `export NAME=value ...` sets variables; `NAME=value command` sets them for one command.
        if words.first().is_some_and(|w| w == "export") {
            for (name, value) in words[1..].iter().filter_map(|w| assignment(w)) {
                self.env.insert(name.to_string(), value.to_string());
            }
            return Output::default();
        }
        let prefix = words.iter().take_while(|w| assignment(w).is_some()).count();
        let mut env = self.env.clone();
        for (name, value) in words[..prefix].iter().filter_map(|w| assignment(w)) {
            env.insert(name.to_string(), value.to_string());
        }
        self.kubectl.editor_command = KUBECTL_ENV
            .iter()
            .find_map(|name| env.get(*name).filter(|v| !v.is_empty()))
            .cloned()
            .unwrap_or_default();
        let words = &words[prefix..];
        match words.first().map(String::as_str) {
            Some("sim") => self.sim(&words[1..], stdin),
            Some("kubectl") => self.kubectl.run(&mut self.world, &words[1..], stdin),
            _ => self.kubectl.run(&mut self.world, words, stdin),
        }
    }

    fn sim(&mut self, args: &[String], stdin: Option<&str>) -> Output {
        let mut out = Output::default();
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["advance", duration] => match parse_duration(duration) {
                Some(ms) => self.world.advance(ms),
                None => out.fail(format!(
                    "error: invalid duration {duration:?} (examples: 500ms, 30s, 7m, 2h)\n"
                )),
            },
            ["settle"] => {
                if !self.world.settle(SETTLE_HORIZON_MS) {
                    out.err("warning: the cluster did not settle within an hour of virtual time\n");
                }
            }
            ["status"] => out.out(format!(
                "time: {}\nseed: {}\npending events: {}\n",
                virtual_time(self.world.now().millis()),
                self.world.seed(),
                self.world.pending_events()
            )),
            ["seed", seed] => match seed.parse() {
                Ok(seed) => self.world.reseed(seed),
                Err(_) => out.fail(format!("error: invalid seed {seed:?}\n")),
            },
            ["node", "add", name, flags @ ..] => match node_config(name, flags) {
                Ok(config) => match cluster::add_node(&mut self.world, config) {
                    Ok(()) => {
                        self.world.settle(SETTLE_HORIZON_MS);
                        out.out(format!("node/{name} added\n"));
                    }
                    Err(e) => out.fail(format!("error: {e}\n")),
                },
                Err(e) => out.fail(format!("error: {e}\n")),
            },
            ["node", action @ ("remove" | "fail" | "recover"), name] => {
                let result = match *action {
                    "remove" => cluster::remove_node(&mut self.world, name),
                    "fail" => cluster::fail_node(&mut self.world, name),
                    _ => cluster::recover_node(&mut self.world, name),
                };
                match result {
                    Ok(()) => {
                        let done = match *action {
                            "remove" => "removed",
                            "fail" => "failed",
                            _ => "recovered",
                        };
                        out.out(format!("node/{name} {done}\n"));
                    }
                    Err(e) => out.fail(format!("error: {e}\n")),
                }
            }
            ["curl", rest @ ..] => {
                let (namespace, url) = match rest {
                    ["-n" | "--namespace", namespace, url] => (*namespace, *url),
                    [url] => ("default", *url),
                    _ => {
                        out.fail("error: usage: sim curl [-n NAMESPACE] [http://]HOST[:PORT][/PATH]\n");
                        return out;
                    }
                };
                match service_request::send(&mut self.world, namespace, url) {
                    Ok(answer) => out.out(format!(
                        "HTTP/1.1 {} (answered by pod {} at {})\n",
                        answer.status, answer.pod, answer.endpoint
                    )),
                    Err(message) => out.fail(format!("{message}\n")),
                }
            }
            ["scheduler", "config"] => match scheduler::configure::describe(&mut self.world) {
                Ok(text) => out.out(text),
                Err(e) => out.fail(format!("error: {e}\n")),
            },
            ["scheduler", "config", "-f", file] => {
                let text = if *file == "-" {
                    Ok(stdin.unwrap_or("").to_string())
                } else {
                    match self.kubectl.read_file.map(|read| read(file)) {
                        Some(Ok(text)) => Ok(text),
                        Some(Err(_)) => Err(format!("open {file}: no such file or directory")),
                        None => Err(format!("open {file}: files are not available here; use -f - with a here-document")),
                    }
                };
                match text.and_then(|t| scheduler::configure::apply(&mut self.world, &t)) {
                    Ok(profiles) => {
                        self.world.settle(SETTLE_HORIZON_MS);
                        out.out(format!(
                            "scheduler configured: profiles {}\n",
                            profiles.join(", ")
                        ));
                    }
                    Err(e) => out.fail(format!("error: {e}\n")),
                }
            }
            ["scheduler", ..] => out.fail(
                "error: usage: sim scheduler config [-f <file>|-]\n",
            ),
            ["node", ..] => out.fail(
                "error: usage: sim node add <name> [--cpu N] [--memory Q] [--label k=v]... [--taint k=v:Effect]... | sim node remove|fail|recover <name>\n",
            ),
            [other, ..] => out.fail(format!("error: unknown sim command {other:?}\n")),
            [] => out.fail(
                "error: sim needs a command: advance <duration>, settle, status, seed <n>, node ..., scheduler config ..., curl <url>\n",
            ),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn here_documents_and_files_feed_kubectl() {
        let mut shell = Shell::new(1);
        assert!(shell.feed("kubectl create -f - <<-EOF").chunks.is_empty());
        for line in [
            "\tapiVersion: v1",
            "\tkind: Namespace",
            "\tmetadata:",
            "\t  name: team",
            "\tEOF",
        ] {
            let out = shell.feed(line);
            if line == "\tEOF" {
                assert_eq!(out.combined(), "namespace/team created\n");
            }
        }
        let path =
            std::env::temp_dir().join(format!("kubecraft-shell-{}.yaml", std::process::id()));
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\n",
        )
        .unwrap();
        let out = shell.feed(&format!("kubectl create -f {}", path.display()));
        assert_eq!(out.combined(), "configmap/from-file created\n");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            shell.feed("kubectl create -f /no/such.yaml").combined(),
            "error: the path \"/no/such.yaml\" does not exist\n"
        );
        shell.feed("kubectl create -f - <<EOF");
        shell.feed("apiVersion: v1");
        let out = shell.finish();
        assert!(out.combined().starts_with("warning: here-document at line"));
    }

    #[test]
    fn time_format() {
        assert_eq!(virtual_time(0), "0s");
        assert_eq!(virtual_time(90_500), "1m30.500s");
        assert_eq!(virtual_time(3_723_000), "1h2m3s");
    }
}
