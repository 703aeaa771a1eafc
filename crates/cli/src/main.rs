//! The native `kubecraft` binary: the same engine from a terminal.
//!
//! - `kubecraft version` — the kubecraft and Kubernetes versions.
//! - `kubecraft raw [--seed N] METHOD PATH [BODY]` — one API request against a fresh
//!   cluster, printing the response body like `kubectl get --raw`.
//!
//! - `kubecraft shell [--seed N] [--state FILE]` — a cluster driven by lines on stdin: kubectl
//!   commands (with or without `kubectl`) and `sim` commands.
//! - `kubecraft serve [--seed N] [--state FILE] [--listen ADDR]` — the cluster's API over
//!   HTTP in real time, for real clients such as kubectl.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use kubecraft_cli::shell::Shell;
use kubecraft_kubectl::output::Stream;

use kubecraft_cluster::api::{Method, Request};
use kubecraft_cluster::sim::World;

/// mimalloc: the engine allocates many small JSON values; it is about a third faster than the system allocator.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "Usage:
  kubecraft version
  kubecraft shell [--seed N] [--state FILE]
  kubecraft raw [--seed N] METHOD PATH [BODY]
  kubecraft serve [--seed N] [--state FILE] [--listen ADDR]";

/// The largest state file `--state` reads.
const MAX_STATE_BYTES: u64 = 256 * 1024 * 1024;

/// Loads a `--state` file into a world; the error is the line to print.
fn load_state(path: &str) -> Result<World, String> {
    let fail = |why: String| format!("error: cannot load state from {path:?}: {why}");
    let size = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if size > MAX_STATE_BYTES {
        return Err(fail(format!(
            "the file is larger than {MAX_STATE_BYTES} bytes"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    kubecraft_cluster::cluster::restore(&value).map_err(fail)
}

/// Saves a snapshot to `path` atomically (a temporary file, then a rename).
fn save_state(path: &str, snapshot: &serde_json::Value) -> Result<(), String> {
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, snapshot.to_string())
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("error: cannot save state to {path:?}: {e}"))
}

/// Takes `--FLAG VALUE` out of `args`, returning its value and the other arguments.
fn take_option<'a>(
    args: &'a [String],
    flag: &str,
) -> Result<(Option<String>, Vec<&'a String>), String> {
    let mut value = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == flag {
            value = Some(
                args.get(i + 1)
                    .cloned()
                    .ok_or(format!("error: flag needs an argument: {flag}"))?,
            );
            i += 2;
            continue;
        }
        rest.push(&args[i]);
        i += 1;
    }
    Ok((value, rest))
}

/// Parses `--seed N` out of `args`, returning the seed and the other arguments.
fn take_seed(args: &[String]) -> Result<(u64, Vec<&String>), String> {
    let mut seed = 1;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--seed" {
            match args.get(i + 1).and_then(|s| s.parse().ok()) {
                Some(n) => seed = n,
                None => {
                    return Err(format!(
                        "error: invalid argument {:?} for \"--seed\" flag",
                        args.get(i + 1).map_or("", |s| s.as_str())
                    ))
                }
            }
            i += 2;
            continue;
        }
        rest.push(&args[i]);
        i += 1;
    }
    Ok((seed, rest))
}

/// Runs `shell`: every stdin line through the cluster, output in order; with
/// `--state FILE` the cluster is loaded from and saved to FILE.
fn shell(args: &[String]) -> ExitCode {
    let (state, rest) = match take_option(args, "--state") {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let rest: Vec<String> = rest.into_iter().cloned().collect();
    let (seed, rest) = match take_seed(&rest) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(extra) = rest.first() {
        eprintln!("error: unknown argument {extra:?} for \"kubecraft shell\"");
        return ExitCode::FAILURE;
    }
    let world = match &state {
        Some(path) if std::path::Path::new(path).exists() => match load_state(path) {
            Ok(world) => world,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        },
        _ => kubecraft_cluster::cluster::start(seed),
    };
    let mut shell = Shell::from_world(world);
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let mut print = |output: kubecraft_kubectl::Output| {
        for (stream, text) in output.chunks {
            let _ = match stream {
                Stream::Stdout => stdout
                    .write_all(text.as_bytes())
                    .and_then(|_| stdout.flush()),
                Stream::Stderr => stderr
                    .write_all(text.as_bytes())
                    .and_then(|_| stderr.flush()),
            };
        }
    };
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            return ExitCode::FAILURE;
        };
        print(shell.feed(&line));
    }
    print(shell.finish());
    if let Some(path) = &state {
        if let Err(e) = save_state(path, &shell.snapshot()) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Runs `serve`: the API on `--listen` (127.0.0.1:8080 by default) until interrupted.
fn serve(args: &[String]) -> ExitCode {
    let parsed = take_option(args, "--state").and_then(|(state, rest)| {
        let rest: Vec<String> = rest.into_iter().cloned().collect();
        let (listen, rest) = take_option(&rest, "--listen")?;
        let rest: Vec<String> = rest.into_iter().cloned().collect();
        let (seed, rest) = take_seed(&rest)?;
        match rest.first() {
            Some(extra) => Err(format!(
                "error: unknown argument {extra:?} for \"kubecraft serve\""
            )),
            None => Ok((state, listen, seed)),
        }
    });
    let (state, listen, seed) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let world = match state {
        Some(path) => match load_state(&path) {
            Ok(world) => world,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        },
        None => kubecraft_cluster::cluster::start(seed),
    };
    let listen = listen.unwrap_or_else(|| "127.0.0.1:8080".into());
    match kubecraft_cli::serve::serve(world, &listen) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot serve on {listen}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `raw`: returns the exit code.
fn raw(args: &[String]) -> ExitCode {
    let (seed, rest) = match take_seed(args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let (Some(method), Some(path)) = (rest.first(), rest.get(1)) else {
        eprintln!("error: raw needs METHOD and PATH\n{USAGE}");
        return ExitCode::FAILURE;
    };
    let Some(method) = Method::from_name(&method.to_ascii_uppercase()) else {
        eprintln!("error: unknown method {method:?}");
        return ExitCode::FAILURE;
    };
    let mut request = Request::new(method, path.as_str());
    if let Some(body) = rest.get(2) {
        let content_type = if method == Method::Patch {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        request = request.with_body(body.as_str(), content_type);
    }
    let mut world = World::new(seed);
    let response = world.call("kubecraft", &request);
    if response.is_success() {
        println!("{}", response.body_text());
        return ExitCode::SUCCESS;
    }
    let status = response.body_json();
    eprintln!(
        "Error from server ({}): {}",
        status["reason"].as_str().unwrap_or("Unknown"),
        status["message"].as_str().unwrap_or(response.body_text())
    );
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("version") => {
            println!(
                "kubecraft {} (Kubernetes {})",
                env!("CARGO_PKG_VERSION"),
                kubecraft_cluster::KUBERNETES_VERSION
            );
            ExitCode::SUCCESS
        }
        Some("raw") => raw(&args[1..]),
        Some("shell") => shell(&args[1..]),
        Some("serve") => serve(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown command {other:?} for \"kubecraft\"\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}
