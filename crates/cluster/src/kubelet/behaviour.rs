//! What a simulated container does, read from its image, `command` and `args`
//! as a user would expect: server images (nginx, redis, ...) run until stopped;
//! `sleep 30`, `echo hi`, `exit 1`, `true`, `false` and small `sh -c` scripts
//! (`;`, `&&`, `||`, `while true; do ...; done`) print, wait and exit as a shell
//! would; a base image with no command (busybox, alpine, ubuntu) exits at once.
//! What it prints, and when, is its log.

use k8s_openapi::api::core::v1::Container;

/// What a container prints: each line with the milliseconds after its start
/// when it is written; a `while true` loop repeats its pass's lines forever.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub lines: Vec<(u64, String)>,
    /// The length of one pass of a loop that never ends, after which `lines` repeat.
    pub repeat_every_ms: Option<u64>,
}

impl Output {
    /// The output of a loop whose one pass printed `pass` and took `period_ms`.
    fn repeating(pass: Output, period_ms: u64) -> Output {
        Output {
            lines: pass.lines,
            // A loop without a sleep still takes time; one pass per millisecond bounds the log.
            repeat_every_ms: Some(period_ms.max(1)),
        }
    }
}

/// How a container run ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Runs until stopped, printing `output`.
    Serve { output: Output },
    /// Exits with `code` after `after_ms`, having printed `output`.
    Exit {
        after_ms: u64,
        code: i32,
        output: Output,
    },
}

impl Behaviour {
    /// What the container prints.
    pub fn output(&self) -> &Output {
        match self {
            Behaviour::Serve { output } | Behaviour::Exit { output, .. } => output,
        }
    }
}

/// Images whose default process exits at once (a shell without a terminal).
const BASE_IMAGES: &[&str] = &[
    "busybox", "alpine", "ubuntu", "debian", "centos", "fedora", "bash",
];

/// The image's name without registry, path and tag: `docker.io/library/busybox:1.36` → `busybox`.
fn image_name(image: &str) -> &str {
    let without_tag = image.split('@').next().unwrap_or(image);
    let without_tag = match without_tag.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => without_tag,
    };
    without_tag.rsplit('/').next().unwrap_or(without_tag)
}

/// The behaviour of a container from its spec.
pub fn of(container: &Container) -> Behaviour {
    let mut argv: Vec<String> = container.command.clone().unwrap_or_default();
    argv.extend(container.args.clone().unwrap_or_default());
    if argv.is_empty() {
        let image = container.image.as_deref().unwrap_or("");
        return if BASE_IMAGES.contains(&image_name(image)) {
            Behaviour::Exit {
                after_ms: 0,
                code: 0,
                output: Output::default(),
            }
        } else {
            Behaviour::Serve {
                output: Output::default(),
            }
        };
    }
    let program = argv[0].rsplit('/').next().unwrap_or("").to_string();
    if matches!(program.as_str(), "sh" | "bash" | "ash")
        && argv.get(1).map(String::as_str) == Some("-c")
    {
        return run_script(argv.get(2).map(String::as_str).unwrap_or(""));
    }
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let mut run = Run::default();
    match run.simple(&program, &words[1..]) {
        Flow::Continue(code) => run.finish(code),
        Flow::Exit(code) => run.finish(code),
        Flow::Forever => Behaviour::Serve { output: run.output },
    }
}

/// What a shell command did to the script's flow.
enum Flow {
    Continue(i32),
    Exit(i32),
    Forever,
}

#[derive(Default)]
struct Run {
    elapsed_ms: u64,
    output: Output,
}

impl Run {
    fn finish(self, code: i32) -> Behaviour {
        Behaviour::Exit {
            after_ms: self.elapsed_ms,
            code,
            output: self.output,
        }
    }

    /// One simple command.
    fn simple(&mut self, program: &str, args: &[&str]) -> Flow {
        match program {
            "echo" => {
                let (newline, words) = match args.first() {
                    Some(&"-n") => (false, &args[1..]),
                    _ => (true, args),
                };
                let line = words.join(" ");
                if newline || !line.is_empty() {
                    self.output.lines.push((self.elapsed_ms, line));
                }
                Flow::Continue(0)
            }
            "sleep" => match args.first().map(|a| parse_seconds(a)) {
                Some(Some(None)) => Flow::Forever,
                Some(Some(Some(ms))) => {
                    self.elapsed_ms += ms;
                    Flow::Continue(0)
                }
                _ => {
                    let line = "sleep: invalid number".to_string();
                    self.output.lines.push((self.elapsed_ms, line));
                    Flow::Continue(1)
                }
            },
            "exit" => Flow::Exit(args.first().and_then(|c| c.parse().ok()).unwrap_or(0)),
            "true" | ":" => Flow::Continue(0),
            "false" => Flow::Continue(1),
            "tail" if args.contains(&"-f") => Flow::Forever,
            "" => Flow::Continue(0),
            _ => Flow::Forever,
        }
    }
}

/// `30`, `1.5`, `2m`, `infinity` → Some(Some(ms)) / Some(None) for infinity; None if invalid.
fn parse_seconds(text: &str) -> Option<Option<u64>> {
    if text == "infinity" || text == "inf" {
        return Some(None);
    }
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&text[..i], &text[i..]),
        None => (text, "s"),
    };
    let value: f64 = number.parse().ok()?;
    let factor = match unit {
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(Some((value * factor) as u64))
}

/// Splits a script into commands joined by `;`, `&&`, `||` or newlines.
fn split_commands(script: &str) -> Vec<(String, &'static str)> {
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut chars = script.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, ';' | '\n') => commands.push((std::mem::take(&mut current), ";")),
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                commands.push((std::mem::take(&mut current), "&&"));
            }
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                commands.push((std::mem::take(&mut current), "||"));
            }
            (None, c) => current.push(c),
        }
    }
    commands.push((current, ";"));
    commands
        .into_iter()
        .map(|(c, sep)| (c.trim().to_string(), sep))
        .filter(|(c, _)| !c.is_empty())
        .collect()
}

/// Shell words with quotes removed.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() || any {
                    out.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            (None, c) => current.push(c),
        }
    }
    if !current.is_empty() || any {
        out.push(current);
    }
    out
}

/// Runs a `sh -c` script.
fn run_script(script: &str) -> Behaviour {
    let trimmed = script.trim();
    if trimmed.starts_with("while true") || trimmed.starts_with("while :") {
        // A loop that never ends: it serves, printing what one pass prints.
        let body = trimmed
            .split_once("do")
            .map(|(_, b)| b.trim_end().trim_end_matches("done"))
            .unwrap_or("");
        let mut run = Run::default();
        for (command, _) in split_commands(body) {
            let w = words(&command);
            if let Some((program, args)) = w.split_first() {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let _ = run.simple(program, &args);
            }
        }
        return Behaviour::Serve {
            output: Output::repeating(run.output, run.elapsed_ms),
        };
    }
    let mut run = Run::default();
    let mut status = 0;
    let mut skip_next: Option<&str> = None;
    for (command, separator) in split_commands(script) {
        let skip = match skip_next.take() {
            Some("&&") => status != 0,
            Some("||") => status == 0,
            _ => false,
        };
        if !skip {
            let w = words(&command);
            let Some((program, args)) = w.split_first() else {
                continue;
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match run.simple(program, &args) {
                Flow::Continue(code) => status = code,
                Flow::Exit(code) => return run.finish(code),
                Flow::Forever => return Behaviour::Serve { output: run.output },
            }
        }
        if separator != ";" {
            skip_next = Some(separator);
        }
    }
    run.finish(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(image: &str, command: &[&str], args: &[&str]) -> Container {
        Container {
            name: "c".into(),
            image: Some(image.into()),
            command: (!command.is_empty()).then(|| command.iter().map(|s| s.to_string()).collect()),
            args: (!args.is_empty()).then(|| args.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    fn printed(lines: &[(u64, &str)]) -> Output {
        Output {
            lines: lines.iter().map(|(at, s)| (*at, s.to_string())).collect(),
            repeat_every_ms: None,
        }
    }

    fn exit(after_ms: u64, code: i32, lines: &[(u64, &str)]) -> Behaviour {
        Behaviour::Exit {
            after_ms,
            code,
            output: printed(lines),
        }
    }

    #[test]
    fn servers_serve_and_base_images_exit_at_once() {
        assert_eq!(
            of(&container("nginx:1.27", &[], &[])),
            Behaviour::Serve {
                output: Output::default()
            }
        );
        assert_eq!(
            of(&container("docker.io/library/busybox:1.36", &[], &[])),
            exit(0, 0, &[])
        );
    }

    #[test]
    fn simple_commands_sleep_print_and_fail() {
        assert_eq!(
            of(&container("busybox", &["sleep", "30"], &[])),
            exit(30_000, 0, &[])
        );
        assert_eq!(
            of(&container("busybox", &["sleep"], &["1.5"])),
            exit(1_500, 0, &[])
        );
        assert_eq!(
            of(&container("busybox", &["echo", "hi"], &[])),
            exit(0, 0, &[(0, "hi")])
        );
        assert_eq!(of(&container("busybox", &["false"], &[])), exit(0, 1, &[]));
        assert_eq!(
            of(&container("busybox", &["sleep", "infinity"], &[])),
            Behaviour::Serve {
                output: Output::default()
            }
        );
    }

    #[test]
    fn shell_scripts_follow_their_operators() {
        let sh = |s: &str| of(&container("busybox", &["sh", "-c", s], &[]));
        assert_eq!(
            sh("echo start; sleep 5; echo end; exit 3"),
            exit(5_000, 3, &[(0, "start"), (5_000, "end")])
        );
        assert_eq!(
            sh("false && echo no || echo 'yes, really'"),
            exit(0, 0, &[(0, "yes, really")])
        );
        assert_eq!(
            sh("echo a\necho \"b c\""),
            exit(0, 0, &[(0, "a"), (0, "b c")])
        );
        assert_eq!(
            sh("while true; do echo tick; sleep 1; done"),
            Behaviour::Serve {
                output: Output {
                    lines: vec![(0, "tick".into())],
                    repeat_every_ms: Some(1_000),
                }
            }
        );
        assert_eq!(
            of(&container("busybox", &["/bin/sh", "-c"], &["exit 1"])),
            exit(0, 1, &[])
        );
    }
}
