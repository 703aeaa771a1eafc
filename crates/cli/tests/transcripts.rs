//! Transcript tests: every `tests/scenarios/*.txt` at the repository root is run
//! through `kubecraft shell`, and what it prints (stdout and stderr, in order) must
//! equal the transcript exactly.
//!
//! Format: a line starting with `$ ` is input, and so are the `> ` lines right after
//! it (a here-document's body); the lines after those, up to the next input line,
//! are exactly what that input prints. Lines before the first input line that
//! start with `#` describe the scenario.
//!
//! `BLESS_TRANSCRIPTS=1 cargo test -p kubecraft-cli --test transcripts` rewrites each
//! transcript's outputs from what the shell prints now (review the diff before committing).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Transcript {
    input: String,
    expected: String,
}

fn parse(text: &str) -> Transcript {
    let mut input = String::new();
    let mut expected = String::new();
    let mut started = false;
    let mut continuing = false;
    for line in text.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            started = true;
            continuing = true;
            input.push_str(command);
            input.push('\n');
        } else if let Some(body) = line
            .strip_prefix("> ")
            .filter(|_| continuing)
            .or((line == ">" && continuing).then_some(""))
        {
            input.push_str(body);
            input.push('\n');
        } else if started {
            continuing = false;
            expected.push_str(line);
            expected.push('\n');
        }
    }
    Transcript { input, expected }
}

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/scenarios exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

fn run_shell(input: &str) -> String {
    let dir = std::env::temp_dir().join(format!("kubecraft-transcript-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let input_path = dir.join("input.txt");
    let output_path = dir.join(format!(
        "output-{:x}.txt",
        input.len() as u64 ^ input.bytes().map(u64::from).sum::<u64>()
    ));
    fs::write(&input_path, input).unwrap();
    let output = File::create(&output_path).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_kubecraft"))
        .arg("shell")
        .stdin(File::open(&input_path).unwrap())
        .stdout(Stdio::from(output.try_clone().unwrap()))
        .stderr(Stdio::from(output))
        .status()
        .unwrap();
    assert!(status.success(), "kubecraft shell exited with {status}");
    let transcript = fs::read_to_string(&output_path).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    transcript
}

/// Rewrites `text`'s outputs with what a fresh shell prints for each input.
fn bless(text: &str) -> String {
    let mut shell = kubecraft_cli::shell::Shell::new(1);
    let mut blessed = String::new();
    let mut started = false;
    let mut continuing = false;
    let mut pending = String::new();
    let flush =
        |shell: &mut kubecraft_cli::shell::Shell, pending: &mut String, out: &mut String| {
            for line in pending.lines() {
                out.push_str(&shell.feed(line).combined());
            }
            pending.clear();
        };
    for line in text.lines() {
        let input = line
            .strip_prefix("$ ")
            .map(|_| true)
            .or_else(|| (continuing && (line.starts_with("> ") || line == ">")).then_some(false));
        match input {
            Some(first) => {
                if first {
                    flush(&mut shell, &mut pending, &mut blessed);
                }
                started = true;
                continuing = true;
                blessed.push_str(line);
                blessed.push('\n');
                let body = line.get(2..).unwrap_or("");
                pending.push_str(body);
                pending.push('\n');
            }
            None if !started => {
                blessed.push_str(line);
                blessed.push('\n');
            }
            None => continuing = false,
        }
    }
    flush(&mut shell, &mut pending, &mut blessed);
    blessed.push_str(&shell.finish().combined());
    blessed
}

#[test]
fn every_scenario_prints_exactly_its_transcript() {
    let files = scenarios();
    if std::env::var_os("BLESS_TRANSCRIPTS").is_some() {
        for file in &files {
            fs::write(file, bless(&fs::read_to_string(file).unwrap())).unwrap();
        }
    }
    assert!(!files.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    for file in &files {
        let transcript = parse(&fs::read_to_string(file).unwrap());
        let actual = run_shell(&transcript.input);
        if actual != transcript.expected {
            let line = actual
                .lines()
                .zip(transcript.expected.lines())
                .position(|(a, e)| a != e)
                .unwrap_or_else(|| {
                    actual
                        .lines()
                        .count()
                        .min(transcript.expected.lines().count())
                });
            failures.push(format!(
                "{}: output differs at output line {}\n--- expected\n{}--- actual\n{}",
                file.display(),
                line + 1,
                transcript.expected,
                actual
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
