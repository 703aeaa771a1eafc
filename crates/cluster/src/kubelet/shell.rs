//! The shell of simulated containers: `sh -c` scripts of simple commands joined by
//! `;`, `&&`, `||` and newlines, `while true` and `until nslookup` loops, `$VAR`
//! expansion and quotes, output redirection (`>`, `>>`), and the programs a
//! container runs (`echo`, `sleep`, `printenv`, `touch`, `rm`, `date`, `exit`,
//! perl's π one-liner); any other program runs until stopped.

use super::behaviour::{Behaviour, Lookup};
use super::env::Environment;
use super::output::{Output, Write, DATE_LINE};
use super::pi;

/// What a shell command did to the script's flow.
enum Flow {
    Continue(i32),
    Exit(i32),
    Forever,
}

/// Marks a redirection operator among a command's words (`>`, `>>`, `2>`, `2>&1`).
const REDIRECTION: char = '\u{2}';

/// Where one of a command's output streams goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sink {
    /// The container's log.
    Log,
    /// Nowhere (`/dev/null`).
    Discard,
    /// A file, emptied first (`>`) or appended to (`>>`).
    File { path: String, replaces: bool },
}

impl Sink {
    /// The sink of `> target` (or `>> target` when `appends`).
    fn to(target: &str, appends: bool) -> Sink {
        if target == "/dev/null" {
            Sink::Discard
        } else {
            Sink::File {
                path: target.to_string(),
                replaces: !appends,
            }
        }
    }
}

/// A command line's run so far, in an environment.
struct Run<'e> {
    elapsed_ms: u64,
    output: Output,
    env: &'e Environment,
    /// What was printed to the log after its last newline.
    partial: String,
    /// Where the running command's standard output and error go.
    stdout: Sink,
    stderr: Sink,
}

impl<'e> Run<'e> {
    fn new(env: &'e Environment) -> Self {
        Run {
            elapsed_ms: 0,
            output: Output::default(),
            env,
            partial: String::new(),
            stdout: Sink::Log,
            stderr: Sink::Log,
        }
    }

    fn finish(self, code: i32) -> Behaviour {
        Behaviour::Exit {
            after_ms: self.elapsed_ms,
            code,
            output: self.into_output(),
        }
    }

    /// What the run printed and wrote, its last line ended if it is open.
    fn into_output(mut self) -> Output {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.output.lines.push((self.elapsed_ms, line));
        }
        self.output
    }

    /// Writes `text` to standard output.
    fn print(&mut self, text: &str) {
        self.emit(self.stdout.clone(), text);
    }

    /// Writes `line` and a newline to standard output.
    fn print_line(&mut self, line: &str) {
        self.print(&format!("{line}\n"));
    }

    /// Writes `line` and a newline to standard error.
    fn print_error(&mut self, line: &str) {
        self.emit(self.stderr.clone(), &format!("{line}\n"));
    }

    /// Writes `text` to `sink`: the log takes a line at each newline.
    fn emit(&mut self, sink: Sink, text: &str) {
        match sink {
            Sink::Log => {
                let mut rest = text;
                while let Some(end) = rest.find('\n') {
                    self.partial.push_str(&rest[..end]);
                    let line = std::mem::take(&mut self.partial);
                    self.output.lines.push((self.elapsed_ms, line));
                    rest = &rest[end + 1..];
                }
                self.partial.push_str(rest);
            }
            Sink::Discard => {}
            Sink::File { path, replaces } => self.write(&path, text, replaces),
        }
    }

    /// Writes `text` to the file at `path` (creating it).
    fn write(&mut self, path: &str, text: &str, replaces: bool) {
        let at_ms = self.elapsed_ms;
        self.output.files.push((at_ms, path.to_string(), true));
        self.output.writes.push(Write {
            at_ms,
            path: path.to_string(),
            text: text.to_string(),
            replaces,
        });
    }

    /// One command of a script: its words, with its redirections applied while it runs.
    fn command(&mut self, words: &[String]) -> Option<Flow> {
        let mut argv: Vec<&str> = Vec::new();
        let (mut stdout, mut stderr) = (Sink::Log, Sink::Log);
        let mut words = words.iter();
        while let Some(word) = words.next() {
            let Some(operator) = word.strip_prefix(REDIRECTION) else {
                argv.push(word);
                continue;
            };
            match operator {
                "2>&1" => {
                    stderr = stdout.clone();
                    continue;
                }
                ">&2" | "1>&2" => {
                    stdout = stderr.clone();
                    continue;
                }
                _ if operator.contains('&') => continue,
                _ => {}
            }
            let target = words.next().map_or("", String::as_str);
            let sink = Sink::to(target, operator.ends_with(">>"));
            if let Sink::File { path, replaces } = &sink {
                if *replaces {
                    // The shell empties (and creates) the file before the command runs.
                    self.write(path, "", true);
                }
            }
            if operator.starts_with('2') {
                stderr = sink;
            } else {
                stdout = sink;
            }
        }
        let (program, args) = argv.split_first()?;
        let redirected = (stdout, stderr);
        let kept = (
            std::mem::replace(&mut self.stdout, redirected.0),
            std::mem::replace(&mut self.stderr, redirected.1),
        );
        let flow = self.simple(program, args);
        (self.stdout, self.stderr) = kept;
        Some(flow)
    }

    /// One simple command.
    fn simple(&mut self, program: &str, args: &[&str]) -> Flow {
        match program {
            "echo" => {
                self.echo(args);
                Flow::Continue(0)
            }
            "sleep" => match args.first().map(|a| parse_seconds(a)) {
                Some(Some(None)) => Flow::Forever,
                Some(Some(Some(ms))) => {
                    self.elapsed_ms += ms;
                    Flow::Continue(0)
                }
                _ => {
                    self.print_error("sleep: invalid number");
                    Flow::Continue(1)
                }
            },
            "exit" => Flow::Exit(args.first().and_then(|c| c.parse().ok()).unwrap_or(0)),
            "touch" | "rm" => {
                let exists = program == "touch";
                for path in args.iter().filter(|a| !a.starts_with('-')) {
                    self.output
                        .files
                        .push((self.elapsed_ms, path.to_string(), exists));
                }
                Flow::Continue(0)
            }
            "date" => {
                self.print_line(DATE_LINE);
                Flow::Continue(0)
            }
            "printenv" | "env" if program == "printenv" || args.is_empty() => {
                let mut missing = false;
                if args.is_empty() {
                    let all: Vec<String> = self
                        .env
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    all.iter().for_each(|line| self.print_line(line));
                }
                for name in args {
                    match self.env.get(name) {
                        Some(value) => self.print_line(&value.clone()),
                        None => missing = true,
                    }
                }
                Flow::Continue(i32::from(missing))
            }
            "perl" => match bpi_digits(args) {
                Some(digits) if digits <= MAX_PI_DIGITS => {
                    self.elapsed_ms += digits as u64 * PI_MS_PER_DIGIT;
                    self.print_line(&pi::pi(digits));
                    Flow::Continue(0)
                }
                _ => Flow::Forever,
            },
            "true" | ":" => Flow::Continue(0),
            "false" => Flow::Continue(1),
            "tail" if args.contains(&"-f") => Flow::Forever,
            "" => Flow::Continue(0),
            _ => Flow::Forever,
        }
    }

    /// busybox's `echo`: leading `-n` (no newline), `-e` (backslash escapes) and
    /// `-E` options, alone or together (`-en`); the words joined by spaces.
    fn echo(&mut self, args: &[&str]) {
        let is_option = |a: &&&str| {
            a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c))
        };
        let options: Vec<&str> = args.iter().take_while(is_option).copied().collect();
        let words = &args[options.len()..];
        let (mut newline, mut escapes) = (true, false);
        for c in options.iter().flat_map(|o| o[1..].chars()) {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        let joined = words.join(" ");
        let (mut text, stopped) = if escapes {
            unescape(&joined)
        } else {
            (joined, false)
        };
        if newline && !stopped {
            text.push('\n');
        }
        self.print(&text);
    }
}

/// The text of `echo -e`'s words with backslash escapes interpreted, and whether
/// a `\c` stopped the output there.
fn unescape(text: &str) -> (String, bool) {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('e') => out.push('\u{1b}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('\\') => out.push('\\'),
            Some('c') => return (out, true),
            Some('0') => {
                let mut code = 0u32;
                for _ in 0..3 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(digit) => {
                            code = code * 8 + digit;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.extend(char::from_u32(code));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    (out, false)
}

/// Runs one program with its arguments, as a container's `command` and `args`
/// name it (no shell: no redirection, no `$VAR`).
pub(super) fn run_program(program: &str, args: &[&str], env: &Environment) -> Behaviour {
    let mut run = Run::new(env);
    match run.simple(program, args) {
        Flow::Continue(code) | Flow::Exit(code) => run.finish(code),
        Flow::Forever => Behaviour::Serve {
            output: run.into_output(),
        },
    }
}

/// The cluster DNS Service's address (kubeadm's: the tenth of the Service range),
/// which containers' `/etc/resolv.conf` names.
const DNS_SERVER: &str = "10.96.0.10";

/// `until nslookup NAME; do BODY; done` (nothing after): the lookup, and what one
/// failing pass prints (busybox's `nslookup` answer, then the body's output),
/// repeating.
pub(super) fn until_lookup(script: &str, env: &Environment) -> Option<(Lookup, Output)> {
    let rest = script.strip_prefix("until ")?;
    let (condition, rest) = rest
        .split_once("; do ")
        .or_else(|| rest.split_once(";do "))?;
    let body = rest.trim_end().strip_suffix("done")?.trim_end();
    let body = body.strip_suffix(';').unwrap_or(body);
    let condition = words(condition, env);
    let [program, name] = condition.as_slice() else {
        return None;
    };
    if program != "nslookup" {
        return None;
    }
    let mut run = Run::new(env);
    for line in [
        format!("Server:    {DNS_SERVER}"),
        format!("Address 1: {DNS_SERVER}"),
        String::new(),
        format!("nslookup: can't resolve '{name}'"),
    ] {
        run.print_line(&line);
    }
    for (command, _) in split_commands(body) {
        let flow = run.command(&words(&command, env));
        if !matches!(flow, None | Some(Flow::Continue(_))) {
            return None;
        }
    }
    let lookup = Lookup {
        name: name.clone(),
        every_ms: run.elapsed_ms.max(1),
    };
    let period = run.elapsed_ms;
    Some((lookup, Output::repeating(run.into_output(), period)))
}

/// The most digits of π a simulated `perl` computes; more take longer than
/// anyone waits (it runs until stopped).
const MAX_PI_DIGITS: usize = 5_000;
/// How long `perl` takes per digit of π (2,000 digits in 6 s).
const PI_MS_PER_DIGIT: u64 = 3;

/// N when perl's arguments run a one-liner that prints `bpi(N)` (the Job example
/// in Kubernetes' documentation: `perl -Mbignum=bpi -wle 'print bpi(2000)'`).
fn bpi_digits(args: &[&str]) -> Option<usize> {
    let at = args
        .iter()
        .position(|a| a.starts_with('-') && !a.starts_with("-M") && a.ends_with('e'))?;
    let script = args.get(at + 1)?.replace(' ', "");
    let script = script.trim_end_matches(';');
    let inner = script.strip_prefix("printbpi(")?.strip_suffix(')')?;
    inner.parse().ok()
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

/// The variable a shell parameter expansion names at the start of `text`
/// (`NAME` or `{NAME}`), and how many characters it takes.
fn parameter(text: &str) -> Option<(&str, usize)> {
    if let Some(inner) = text.strip_prefix('{') {
        let end = inner.find('}')?;
        return Some((&inner[..end], end + 2));
    }
    let end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphanumeric() || *c == '_') || (*i == 0 && c.is_ascii_digit()))
        .map_or(text.len(), |(i, _)| i);
    (end > 0).then(|| (&text[..end], end))
}

/// Shell words with quotes removed and `$VAR`/`${VAR}` expanded from `env`
/// (outside single quotes; an unset variable is empty); an unquoted redirection
/// (`>`, `>>`, `2>`, `2>&1`) is a word of its own, marked with [`REDIRECTION`].
fn words(command: &str, env: &Environment) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = command.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '$' && quote != Some('\'') {
            if let Some((name, taken)) = parameter(&command[at + 1..]) {
                // Unquoted, an empty expansion leaves no word.
                current.push_str(env.get(name).map_or("", String::as_str));
                for _ in 0..taken {
                    chars.next();
                }
                continue;
            }
        }
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
            (None, '>') => {
                // `2>` and `1>` name a stream; any other word before `>` ends there.
                let mut operator = String::from(REDIRECTION);
                if !any && (current == "1" || current == "2") {
                    operator.push_str(&std::mem::take(&mut current));
                } else if !current.is_empty() || any {
                    out.push(std::mem::take(&mut current));
                }
                any = false;
                operator.push('>');
                if chars.next_if(|(_, c)| *c == '>').is_some() {
                    operator.push('>');
                } else if let Some((at, '&')) = chars.peek().copied() {
                    if let Some(fd) = command[at + 1..]
                        .chars()
                        .next()
                        .filter(char::is_ascii_digit)
                    {
                        chars.next();
                        chars.next();
                        operator.push('&');
                        operator.push(fd);
                    }
                }
                out.push(operator);
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
pub(super) fn run_script(script: &str, env: &Environment) -> Behaviour {
    let trimmed = script.trim();
    if trimmed.starts_with("while true") || trimmed.starts_with("while :") {
        // A loop that never ends: it serves, printing what one pass prints.
        let body = trimmed
            .split_once("do")
            .map(|(_, b)| b.trim_end().trim_end_matches("done"))
            .unwrap_or("");
        let mut run = Run::new(env);
        for (command, _) in split_commands(body) {
            let _ = run.command(&words(&command, env));
        }
        let period = run.elapsed_ms;
        return Behaviour::Serve {
            output: Output::repeating(run.into_output(), period),
        };
    }
    let mut run = Run::new(env);
    let mut status = 0;
    let mut skip_next: Option<&str> = None;
    for (command, separator) in split_commands(script) {
        let skip = match skip_next.take() {
            Some("&&") => status != 0,
            Some("||") => status == 0,
            _ => false,
        };
        if !skip {
            match run.command(&words(&command, env)) {
                None => continue,
                Some(Flow::Continue(code)) => status = code,
                Some(Flow::Exit(code)) => return run.finish(code),
                Some(Flow::Forever) => {
                    return Behaviour::Serve {
                        output: run.into_output(),
                    }
                }
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

    fn lines(behaviour: &Behaviour) -> Vec<&str> {
        let output = behaviour.output();
        output.lines.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn echo_takes_busybox_s_options_and_escapes() {
        let env = Environment::new();
        let script = "echo -en '\\n'; echo -n one; echo ' two'; echo -e 'a\\tb\\c'; echo -x -n";
        let run = run_script(script, &env);
        assert_eq!(lines(&run), ["", "one two", "a\tb-x -n"]);
        assert_eq!(lines(&run_script("echo -E 'a\\nb'", &env)), ["a\\nb"]);
    }

    #[test]
    fn redirected_output_goes_to_files_not_the_log() {
        let env = Environment::new();
        let script = "echo first > /tmp/out; echo second >> /tmp/out; echo shown; \
                      echo hidden >/dev/null; sleep 2; echo replaced>/tmp/out; echo oops 2>&1 >/dev/null";
        let run = run_script(script, &env);
        assert_eq!(lines(&run), ["shown"]);
        let output = run.output();
        assert_eq!(
            output.file_text("/tmp/out", 1_000).as_deref(),
            Some("first\nsecond\n")
        );
        assert_eq!(
            output.file_text("/tmp/out", 2_000).as_deref(),
            Some("replaced\n")
        );
        assert_eq!(output.file_text("/tmp/other", 2_000), None);
        assert!(output.file_exists("/tmp/out", 0));
        // A quoted `>` is text.
        assert_eq!(
            lines(&run_script("echo 'a > b' \"c>d\"", &env)),
            ["a > b c>d"]
        );
    }

    #[test]
    fn a_loop_appending_to_a_file_keeps_growing_it() {
        let env = Environment::new();
        let run = run_script(
            "while true; do echo logging >> /opt/logs.txt; sleep 1; done",
            &env,
        );
        assert!(lines(&run).is_empty());
        let text = run.output().file_text("/opt/logs.txt", 2_500).unwrap();
        assert_eq!(text, "logging\n".repeat(3));
    }

    #[test]
    fn env_and_printenv_list_what_the_process_sees() {
        let env: Environment = [("GREETING".to_string(), "hi".to_string())]
            .into_iter()
            .collect();
        assert_eq!(lines(&run_script("env", &env)), ["GREETING=hi"]);
        assert_eq!(
            lines(&run_script("printenv GREETING; echo $GREETING", &env)),
            ["hi", "hi"]
        );
    }
}
