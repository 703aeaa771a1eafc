//! The shell of simulated containers: runs `sh -c` scripts (as `shell_parse`
//! reads them: lists, `&&`, `||`, pipelines, `if`, `while`, `until`, `for`) with `$VAR`
//! expansion, quotes, variables set by assignments and `for`, command
//! substitution (`$(...)`, backticks), arithmetic (`$((n + 1))`) and output
//! redirection (`>`, `>>`, `2>&1`); and the programs a container runs (`echo`,
//! `sleep`, `printenv`, `env`, `cat`, `ls`, `test`/`[`, `seq`, `hostname`, `pwd`,
//! `whoami`, `tee`, `touch`, `rm`, `date`, `exit`, perl's π one-liner, and the
//! text filters of `shell_filters`); any other program
//! runs until stopped. A script that ends in `while true` does what came before
//! once, then its loop's pass again and again.

use std::collections::BTreeMap;

use super::behaviour::{Behaviour, Lookup};
use super::env::Environment;
use super::output::{Output, Repeat, Write, DATE_MARK};
use super::pi;
use super::shell_filters;
use super::shell_parse::{parse, AndOr, Command, Connective, List};

/// How many passes a loop that does not end by itself runs before the shell
/// counts it as running until stopped.
const MAX_LOOP_PASSES: u32 = 1_000;

/// Directories every container image has.
const IMAGE_DIRECTORIES: &[&str] = &[
    "/", "/bin", "/dev", "/etc", "/home", "/proc", "/root", "/sys", "/tmp", "/usr", "/var",
];

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
    /// The text of a command substitution (`$(...)`).
    Capture,
    /// A file, emptied first (`>`) or appended to (`>>`).
    File { path: String, replaces: bool },
}

impl Sink {
    /// The sink of `> target` (or `>> target` when `appends`).
    fn to(target: &str, appends: bool) -> Sink {
        if target == "/dev/null" {
            Sink::Discard
        } else if matches!(target, "/dev/stdout" | "/dev/stderr") {
            Sink::Log
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
    /// Shell variables (assignments, `for`), over the environment's.
    variables: BTreeMap<String, String>,
    /// The exit status of the last command (`$?`).
    status: i32,
    /// What was printed to the log after its last newline.
    partial: String,
    /// Where the running command's standard output and error go.
    stdout: Sink,
    stderr: Sink,
    /// What a command substitution's commands printed.
    captured: String,
    /// What the previous command of a pipeline printed, the running command's input.
    stdin: Option<String>,
}

impl<'e> Run<'e> {
    fn new(env: &'e Environment) -> Self {
        Run {
            elapsed_ms: 0,
            output: Output::default(),
            env,
            variables: BTreeMap::new(),
            status: 0,
            partial: String::new(),
            stdout: Sink::Log,
            stderr: Sink::Log,
            captured: String::new(),
            stdin: None,
        }
    }

    /// The text a command substitution (`$(script)` or `` `script` ``) stands for:
    /// what its commands print, without the newlines at its end. It runs with what
    /// the script has so far (variables, files); what it prints to standard error
    /// goes to the log.
    fn substitute(&mut self, script: &str) -> String {
        let Ok(list) = parse(script) else {
            return String::new();
        };
        let mut child = Run::new(self.env);
        child.elapsed_ms = self.elapsed_ms;
        child.variables = self.variables.clone();
        child.output.files = self.output.files.clone();
        child.output.writes = self.output.writes.clone();
        child.stdout = Sink::Capture;
        let flow = child.list(&list);
        self.status = match flow {
            Flow::Continue(code) | Flow::Exit(code) => code,
            Flow::Forever => 0,
        };
        let captured = std::mem::take(&mut child.captured);
        for (_, line) in child.into_output().lines {
            self.print_error(&line);
        }
        captured.trim_end_matches('\n').to_string()
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

    /// What the run printed and wrote, of which what came from `repeat.from_ms` on
    /// repeats; the line a pass leaves open is finished by the next pass.
    fn into_repeating_output(self, repeat: Repeat) -> Output {
        Output {
            repeat: Some(repeat),
            ..self.output
        }
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
            Sink::Capture => self.captured.push_str(text),
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

    /// Shell words with quotes removed and `$VAR`/`${VAR}` expanded from `env`
    /// (outside single quotes; an unset variable is empty); an unquoted redirection
    /// (`>`, `>>`, `2>`, `2>&1`) is a word of its own, marked with [`REDIRECTION`].
    fn words(&mut self, command: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut quote: Option<char> = None;
        let mut any = false;
        let mut chars = command.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if quote != Some('\'') {
                if let Some((expression, taken)) = arithmetic(&command[at..]) {
                    current.push_str(&self.evaluate(expression).to_string());
                    while chars.next_if(|(i, _)| *i < at + taken).is_some() {}
                    continue;
                }
                if let Some((script, taken)) = substitution(&command[at..]) {
                    let text = self.substitute(script);
                    if quote.is_some() {
                        current.push_str(&text);
                        any = true;
                    } else {
                        // Unquoted, its text splits into words at whitespace.
                        let mut fields = text.split_whitespace();
                        current.push_str(fields.next().unwrap_or(""));
                        for field in fields {
                            out.push(std::mem::replace(&mut current, field.to_string()));
                        }
                    }
                    while chars.next_if(|(i, _)| *i < at + taken).is_some() {}
                    continue;
                }
            }
            if c == '$' && quote != Some('\'') {
                if let Some((name, taken)) = parameter(&command[at + 1..]) {
                    // Unquoted, an empty expansion leaves no word.
                    current.push_str(&self.parameter_value(name));
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

    /// Runs the commands of `list` one after another, until one exits or runs on.
    fn list(&mut self, list: &[AndOr]) -> Flow {
        let mut flow = Flow::Continue(self.status);
        for and_or in list {
            flow = self.and_or(and_or);
            if !matches!(flow, Flow::Continue(_)) {
                break;
            }
        }
        flow
    }

    /// Runs commands joined by `&&` and `||`, each when the status before it says so.
    fn and_or(&mut self, and_or: &AndOr) -> Flow {
        let mut flow = self.compound(&and_or.first);
        for (connective, command) in &and_or.rest {
            let Flow::Continue(status) = flow else {
                return flow;
            };
            let runs = match connective {
                Connective::And => status == 0,
                Connective::Or => status != 0,
            };
            if runs {
                flow = self.compound(command);
            }
        }
        flow
    }

    /// Runs one command, simple or compound.
    fn compound(&mut self, command: &Command) -> Flow {
        let flow = match command {
            Command::Simple(text) => {
                let words = self.words(text);
                self.command(&words).unwrap_or(Flow::Continue(0))
            }
            Command::If {
                branches,
                otherwise,
            } => self.if_clause(branches, otherwise.as_ref()),
            Command::Loop {
                until,
                condition,
                body,
            } => self.loop_clause(*until, condition, body),
            Command::Pipeline(commands) => self.pipeline(commands),
            Command::For { name, words, body } => {
                let mut flow = Flow::Continue(0);
                for item in self.words(words) {
                    self.variables.insert(name.clone(), item);
                    flow = self.list(body);
                    if !matches!(flow, Flow::Continue(_)) {
                        break;
                    }
                }
                flow
            }
        };
        if let Flow::Continue(status) = flow {
            self.status = status;
        }
        flow
    }

    /// Runs a pipeline's commands one after another, each reading what the one
    /// before it printed; its status is the last one's. One that runs until
    /// stopped keeps the whole pipeline running.
    fn pipeline(&mut self, commands: &[Command]) -> Flow {
        let mut input = None;
        let mut flow = Flow::Continue(0);
        for (i, command) in commands.iter().enumerate() {
            let outer_stdin = std::mem::replace(&mut self.stdin, input.take());
            if i + 1 < commands.len() {
                let outer_stdout = std::mem::replace(&mut self.stdout, Sink::Capture);
                let outer_captured = std::mem::take(&mut self.captured);
                flow = self.compound(command);
                input = Some(std::mem::replace(&mut self.captured, outer_captured));
                self.stdout = outer_stdout;
            } else {
                flow = self.compound(command);
            }
            self.stdin = outer_stdin;
            if matches!(flow, Flow::Forever) {
                return flow;
            }
        }
        match flow {
            // `exit` in a pipeline leaves only its own subshell.
            Flow::Exit(code) => Flow::Continue(code),
            other => other,
        }
    }

    fn if_clause(&mut self, branches: &[(List, List)], otherwise: Option<&List>) -> Flow {
        for (condition, body) in branches {
            match self.list(condition) {
                Flow::Continue(0) => return self.list(body),
                Flow::Continue(_) => {}
                other => return other,
            }
        }
        otherwise.map_or(Flow::Continue(0), |body| self.list(body))
    }

    /// `while` (or `until`): a loop that has not ended after [`MAX_LOOP_PASSES`]
    /// runs until stopped.
    fn loop_clause(&mut self, until: bool, condition: &List, body: &List) -> Flow {
        let mut status = 0;
        for _ in 0..MAX_LOOP_PASSES {
            let code = match self.list(condition) {
                Flow::Continue(code) => code,
                other => return other,
            };
            if (code == 0) == until {
                return Flow::Continue(status);
            }
            match self.list(body) {
                Flow::Continue(code) => status = code,
                other => return other,
            }
        }
        Flow::Forever
    }

    /// The value of an arithmetic expansion's expression: integers and variables
    /// (with or without `$`) joined by `+`, `-`, `*`, `/` and `%`, with the usual
    /// precedence and parentheses; what does not read as a number is 0.
    fn evaluate(&self, expression: &str) -> i64 {
        let mut tokens = Vec::new();
        let mut chars = expression.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => {}
                '+' | '-' | '*' | '/' | '%' | '(' | ')' => tokens.push(c.to_string()),
                c => {
                    let mut word = String::from(c);
                    while let Some(next) = chars.next_if(|n| n.is_ascii_alphanumeric() || *n == '_')
                    {
                        word.push(next);
                    }
                    let name = word.trim_start_matches('$');
                    let value = match name.parse::<i64>() {
                        Ok(number) => number,
                        Err(_) => self.parameter_value(name).trim().parse().unwrap_or(0),
                    };
                    tokens.push(value.to_string());
                }
            }
        }
        let mut at = 0;
        arithmetic_sum(&tokens, &mut at)
    }

    /// The value of a shell parameter: `$?`, a shell variable, or the environment's.
    fn parameter_value(&self, name: &str) -> String {
        if name == "?" {
            return self.status.to_string();
        }
        let variable = self.variables.get(name).or_else(|| self.env.get(name));
        variable.cloned().unwrap_or_default()
    }

    /// One command of a script: its words, with its redirections applied while
    /// it runs (a command of assignments alone sets shell variables).
    fn command(&mut self, words: &[String]) -> Option<Flow> {
        if !words.is_empty() && words.iter().all(|w| assignment(w).is_some()) {
            for (name, value) in words.iter().filter_map(|w| assignment(w)) {
                self.variables.insert(name.to_string(), value.to_string());
            }
            return Some(Flow::Continue(0));
        }
        let mut argv: Vec<&str> = Vec::new();
        // A command writes where the shell running it does, unless it redirects.
        let (mut stdout, mut stderr) = (self.stdout.clone(), self.stderr.clone());
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
                self.print_line(DATE_MARK);
                Flow::Continue(0)
            }
            "printf" => match args.split_first() {
                Some((format, rest)) => {
                    self.print(&printf(format, rest));
                    Flow::Continue(0)
                }
                None => {
                    self.print_error("printf: usage: printf FORMAT [ARGUMENT]...");
                    Flow::Continue(1)
                }
            },
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
            "cat" if !args.is_empty() => self.cat(args),
            "cat" => match self.stdin.take() {
                Some(input) => {
                    self.print(&input);
                    Flow::Continue(0)
                }
                None => Flow::Forever,
            },
            "tee" => {
                let input = self.stdin.take().unwrap_or_default();
                let appends = args.contains(&"-a");
                for file in args.iter().filter(|a| !a.starts_with('-')) {
                    self.write(&absolute(file), &input, !appends);
                }
                self.print(&input);
                Flow::Continue(0)
            }
            program if shell_filters::FILTERS.contains(&program) && !follows(program, args) => {
                self.filter(program, args)
            }
            "ls" => self.ls(args),
            "test" | "[" | "[[" => Flow::Continue(self.test(program, args)),
            "hostname" => {
                let name = self.env.get("HOSTNAME").cloned().unwrap_or_default();
                self.print_line(&name);
                Flow::Continue(0)
            }
            "pwd" => {
                self.print_line("/");
                Flow::Continue(0)
            }
            "whoami" => {
                self.print_line("root");
                Flow::Continue(0)
            }
            "seq" => self.seq(args),
            "true" | ":" => Flow::Continue(0),
            "false" => Flow::Continue(1),
            "tail" if follows("tail", args) => {
                let file = args.iter().rev().find(|a| !a.starts_with('-'));
                self.output.follows = file.map(|f| absolute(f));
                Flow::Forever
            }
            "" => Flow::Continue(0),
            _ => Flow::Forever,
        }
    }

    /// The file at `path` as the process sees it now: what it wrote there (a
    /// file it touched is empty), else what its mounts show.
    fn file(&self, path: &str) -> Option<String> {
        match self.output.file_state(path, self.elapsed_ms) {
            Some(true) => Some(
                self.output
                    .file_text(path, self.elapsed_ms)
                    .unwrap_or_default(),
            ),
            Some(false) => None,
            None => self.env.files().get(path).cloned(),
        }
    }

    /// The names directly under the directory `dir`, or `None` when there is no such directory.
    fn entries(&self, dir: &str) -> Option<Vec<String>> {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let own = self.output.files.iter().map(|(_, path, _)| path);
        let mounted = self.env.files().keys();
        let images = IMAGE_DIRECTORIES.iter().map(|d| d.to_string());
        let images: Vec<String> = images.collect();
        let mut names: Vec<String> = own
            .chain(mounted)
            .chain(images.iter())
            .filter(|path| self.file(path).is_some() || images.contains(path))
            .filter_map(|path| path.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('/').next())
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        let exists = !names.is_empty() || IMAGE_DIRECTORIES.contains(&dir);
        exists.then_some(names)
    }

    /// `seq [FIRST [STEP]] LAST`: the numbers from FIRST (1) to LAST by STEP (1).
    fn seq(&mut self, args: &[&str]) -> Flow {
        let numbers: Result<Vec<i64>, &str> = args
            .iter()
            .map(|a| a.parse::<i64>().map_err(|_| *a))
            .collect();
        let (first, step, last) = match numbers.as_deref() {
            Ok([last]) => (1, 1, *last),
            Ok([first, last]) => (*first, 1, *last),
            Ok([first, step, last]) if *step != 0 => (*first, *step, *last),
            Err(word) => {
                self.print_error(&format!("seq: invalid number '{word}'"));
                return Flow::Continue(1);
            }
            _ => {
                self.print_error("Usage: seq [-w] [-s SEP] [FIRST [INC]] LAST");
                return Flow::Continue(1);
            }
        };
        let mut n = first;
        while (step > 0 && n <= last) || (step < 0 && n >= last) {
            self.print_line(&n.to_string());
            n += step;
        }
        Flow::Continue(0)
    }

    /// A text filter over its file operands' contents, or else its input.
    fn filter(&mut self, program: &str, args: &[&str]) -> Flow {
        let files = shell_filters::file_operands(program, args);
        let mut input = String::new();
        for file in &files {
            match self.file(&absolute(file)) {
                Some(content) => input.push_str(&content),
                None => {
                    self.print_error(&format!("{program}: {file}: No such file or directory"));
                    return Flow::Continue(if program == "grep" { 2 } else { 1 });
                }
            }
        }
        if files.is_empty() {
            match self.stdin.take() {
                Some(text) => input = text,
                // Nothing to read from: it waits for input that never comes.
                None => return Flow::Forever,
            }
        }
        let filtered = shell_filters::run(program, args, &input);
        self.print(&filtered.output);
        if let Some(error) = filtered.error {
            self.print_error(&error);
        }
        Flow::Continue(filtered.status)
    }

    /// busybox's `cat`: each file's content in turn.
    fn cat(&mut self, args: &[&str]) -> Flow {
        let mut status = 0;
        for arg in args.iter().filter(|a| !a.starts_with('-')) {
            let path = absolute(arg);
            match self.file(&path) {
                Some(content) => self.print(&content),
                None if self.entries(&path).is_some() => {
                    self.print_error("cat: read error: Is a directory");
                    status = 1;
                }
                None => {
                    self.print_error(&format!(
                        "cat: can't open '{arg}': No such file or directory"
                    ));
                    status = 1;
                }
            }
        }
        Flow::Continue(status)
    }

    /// busybox's `ls`: a file's name, or the names in a directory, one a line.
    fn ls(&mut self, args: &[&str]) -> Flow {
        let operands: Vec<&str> = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .copied()
            .collect();
        let operands = if operands.is_empty() {
            vec!["."]
        } else {
            operands
        };
        let mut status = 0;
        for (i, operand) in operands.iter().enumerate() {
            let path = absolute(operand);
            if self.file(&path).is_some() {
                self.print_line(operand);
                continue;
            }
            let Some(names) = self.entries(&path) else {
                self.print_error(&format!("ls: {operand}: No such file or directory"));
                status = 1;
                continue;
            };
            if operands.len() > 1 {
                if i > 0 {
                    self.print_line("");
                }
                self.print_line(&format!("{operand}:"));
            }
            names.iter().for_each(|name| self.print_line(name));
        }
        Flow::Continue(status)
    }

    /// `test`, `[ ... ]` and `[[ ... ]]`: 0 when the expression holds, 1 when not,
    /// 2 for what it cannot read.
    fn test(&mut self, program: &str, args: &[&str]) -> i32 {
        let closing = match program {
            "[" => Some("]"),
            "[[" => Some("]]"),
            _ => None,
        };
        let args = match closing {
            Some(close) => match args.split_last() {
                Some((last, rest)) if *last == close => rest,
                _ => {
                    self.print_error(&format!("sh: missing {close}"));
                    return 2;
                }
            },
            None => args,
        };
        let (negated, args) = match args.split_first() {
            Some((&"!", rest)) => (true, rest),
            _ => (false, args),
        };
        let holds = match args {
            [] => false,
            [word] => !word.is_empty(),
            ["-n", word] => !word.is_empty(),
            ["-z", word] => word.is_empty(),
            ["-e" | "-r" | "-w" | "-x", path] => {
                let path = absolute(path);
                self.file(&path).is_some() || self.entries(&path).is_some()
            }
            ["-f", path] => self.file(&absolute(path)).is_some(),
            ["-s", path] => self.file(&absolute(path)).is_some_and(|c| !c.is_empty()),
            ["-d", path] => {
                let path = absolute(path);
                self.file(&path).is_none() && self.entries(&path).is_some()
            }
            [a, "=" | "==", b] => a == b,
            [a, "!=", b] => a != b,
            [a, operator, b] if operator.starts_with('-') => {
                let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>()) else {
                    self.print_error(&format!("sh: {a}: bad number"));
                    return 2;
                };
                match *operator {
                    "-eq" => a == b,
                    "-ne" => a != b,
                    "-lt" => a < b,
                    "-le" => a <= b,
                    "-gt" => a > b,
                    "-ge" => a >= b,
                    _ => return 2,
                }
            }
            _ => return 2,
        };
        i32::from(holds == negated)
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

/// What busybox's `printf FORMAT ARGUMENT...` prints: the format's backslash
/// escapes, and its conversions (`%s`, `%b`, `%c`, `%d`, `%i`, `%u`, `%x`, `%X`,
/// `%o`, `%%`, with `-` and `0` flags and a width) filled from the arguments in
/// turn (a missing one is empty or 0); the format is used again while arguments
/// remain.
fn printf(format: &str, args: &[&str]) -> String {
    let (format, stopped) = unescape(format);
    let mut out = String::new();
    let mut next = 0;
    loop {
        let before = next;
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let mut flags = String::new();
            while let Some(&f) = chars.peek().filter(|f| "-0+ #".contains(**f)) {
                flags.push(f);
                chars.next();
            }
            let mut width = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                width.push(d);
                chars.next();
            }
            let Some(conversion) = chars.next() else {
                out.push('%');
                break;
            };
            if conversion == '%' {
                out.push('%');
                continue;
            }
            let arg = args.get(next).copied().unwrap_or("");
            next += 1;
            let number = || arg.trim().parse::<i64>().unwrap_or(0);
            let text = match conversion {
                's' => arg.to_string(),
                'b' => unescape(arg).0,
                'c' => arg.chars().take(1).collect(),
                'd' | 'i' | 'u' => number().to_string(),
                'x' => format!("{:x}", number()),
                'X' => format!("{:X}", number()),
                'o' => format!("{:o}", number()),
                other => {
                    next -= 1;
                    format!("%{flags}{width}{other}")
                }
            };
            let width: usize = width.parse().unwrap_or(0);
            let pad = width.saturating_sub(text.chars().count());
            if flags.contains('-') {
                out.push_str(&text);
                out.extend(std::iter::repeat_n(' ', pad));
            } else {
                let zero = flags.contains('0') && "diuxXo".contains(conversion);
                out.extend(std::iter::repeat_n(if zero { '0' } else { ' ' }, pad));
                out.push_str(&text);
            }
        }
        if stopped || next >= args.len() || next == before {
            return out;
        }
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
    let list = parse(script).ok()?;
    let [AndOr {
        first:
            Command::Loop {
                until: true,
                condition,
                body,
            },
        rest,
    }] = list.as_slice()
    else {
        return None;
    };
    let [AndOr {
        first: Command::Simple(lookup),
        rest: joined,
    }] = condition.as_slice()
    else {
        return None;
    };
    let mut run = Run::new(env);
    let condition = run.words(lookup);
    let [program, name] = condition.as_slice() else {
        return None;
    };
    if program != "nslookup" || !rest.is_empty() || !joined.is_empty() {
        return None;
    }
    for line in [
        format!("Server:    {DNS_SERVER}"),
        format!("Address 1: {DNS_SERVER}"),
        String::new(),
        format!("nslookup: can't resolve '{name}'"),
    ] {
        run.print_line(&line);
    }
    if !matches!(run.list(body), Flow::Continue(_)) {
        return None;
    }
    let lookup = Lookup {
        name: name.clone(),
        every_ms: run.elapsed_ms.max(1),
    };
    let every_ms = lookup.every_ms;
    let mut output = run.into_output();
    output.repeat = Some(Repeat {
        from_ms: 0,
        every_ms,
    });
    Some((lookup, output))
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

/// The variable a shell parameter expansion names at the start of `text`
/// (`NAME` or `{NAME}`), and how many characters it takes.
fn parameter(text: &str) -> Option<(&str, usize)> {
    if text.starts_with('?') {
        return Some(("?", 1));
    }
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

/// Runs a `sh -c` script; one that does not parse fails as busybox's `sh` does
/// (`sh: syntax error: unexpected "fi"`, exit 2).
pub(super) fn run_script(script: &str, env: &Environment) -> Behaviour {
    let mut run = Run::new(env);
    let list = match parse(script) {
        Ok(list) => list,
        Err(message) => {
            run.print_error(&format!("sh: {message}"));
            return run.finish(2);
        }
    };
    let Some((prefix, body)) = ends_in_endless_loop(&list) else {
        return match run.list(&list) {
            Flow::Continue(code) | Flow::Exit(code) => run.finish(code),
            Flow::Forever => Behaviour::Serve {
                output: run.into_output(),
            },
        };
    };
    // What comes before the loop happens once; then one pass, repeated.
    match run.list(prefix) {
        Flow::Continue(_) => {}
        Flow::Exit(code) => return run.finish(code),
        Flow::Forever => {
            return Behaviour::Serve {
                output: run.into_output(),
            }
        }
    }
    // The first pass happens once; the second, which finishes the line the first
    // left open, is the one that repeats.
    let mut from_ms = run.elapsed_ms;
    for pass in 0..2 {
        match run.list(body) {
            Flow::Exit(code) => return run.finish(code),
            Flow::Forever => {
                return Behaviour::Serve {
                    output: run.into_output(),
                }
            }
            Flow::Continue(_) if pass == 0 => from_ms = run.elapsed_ms,
            Flow::Continue(_) => {}
        }
    }
    // A pass without a sleep still takes time; one per millisecond bounds the log.
    let every_ms = (run.elapsed_ms - from_ms).max(1);
    Behaviour::Serve {
        output: run.into_repeating_output(Repeat { from_ms, every_ms }),
    }
}

/// The commands before a final `while true` (or `while :`) loop, and its body.
fn ends_in_endless_loop(list: &List) -> Option<(&[AndOr], &List)> {
    let (last, prefix) = list.split_last()?;
    let Command::Loop {
        until: false,
        condition,
        body,
    } = &last.first
    else {
        return None;
    };
    let endless = matches!(condition.as_slice(), [AndOr { first: Command::Simple(c), rest }]
        if rest.is_empty() && (c == "true" || c == ":"));
    (endless && last.rest.is_empty()).then_some((prefix, body))
}

/// Whether `program` with `args` follows a file as it grows (`tail -f`, `tail -F`).
fn follows(program: &str, args: &[&str]) -> bool {
    program == "tail" && args.iter().any(|a| matches!(*a, "-f" | "-F"))
}

/// The expression of an arithmetic expansion at the start of `text` (`$((i + 1))`)
/// and how many bytes the expansion takes.
fn arithmetic(text: &str) -> Option<(&str, usize)> {
    let rest = text.strip_prefix("$((")?;
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            ')' => return rest[i + 1..].starts_with(')').then(|| (&rest[..i], i + 5)),
            _ => {}
        }
    }
    None
}

/// Sums and differences of products (arithmetic expansion, from token `at`).
fn arithmetic_sum(tokens: &[String], at: &mut usize) -> i64 {
    let mut value = arithmetic_product(tokens, at);
    while let Some(op) = tokens.get(*at).filter(|t| *t == "+" || *t == "-") {
        let op = op.clone();
        *at += 1;
        let rhs = arithmetic_product(tokens, at);
        value = if op == "+" {
            value.wrapping_add(rhs)
        } else {
            value.wrapping_sub(rhs)
        };
    }
    value
}

/// Products, quotients and remainders of factors.
fn arithmetic_product(tokens: &[String], at: &mut usize) -> i64 {
    let mut value = arithmetic_factor(tokens, at);
    while let Some(op) = tokens
        .get(*at)
        .filter(|t| matches!(t.as_str(), "*" | "/" | "%"))
    {
        let op = op.clone();
        *at += 1;
        let rhs = arithmetic_factor(tokens, at);
        value = match op.as_str() {
            "*" => value.wrapping_mul(rhs),
            _ if rhs == 0 => 0,
            "/" => value / rhs,
            _ => value % rhs,
        };
    }
    value
}

/// A number, a negated factor, or a parenthesised sum.
fn arithmetic_factor(tokens: &[String], at: &mut usize) -> i64 {
    let Some(token) = tokens.get(*at) else {
        return 0;
    };
    *at += 1;
    match token.as_str() {
        "-" => -arithmetic_factor(tokens, at),
        "+" => arithmetic_factor(tokens, at),
        "(" => {
            let value = arithmetic_sum(tokens, at);
            if tokens.get(*at).is_some_and(|t| t == ")") {
                *at += 1;
            }
            value
        }
        number => number.parse().unwrap_or(0),
    }
}

/// The script of a command substitution at the start of `text` (`$(script)` or
/// `` `script` ``) and how many bytes the substitution takes.
fn substitution(text: &str) -> Option<(&str, usize)> {
    if let Some(rest) = text.strip_prefix('`') {
        let end = rest.find('`')?;
        return Some((&rest[..end], end + 2));
    }
    let rest = text.strip_prefix("$(")?;
    if rest.starts_with('(') {
        return None; // arithmetic, `$((...))`
    }
    let mut depth = 1;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some((&rest[..i], i + 3));
                }
            }
            _ => {}
        }
    }
    None
}

/// A path from the root (the working directory is `/`), without a trailing `/`.
fn absolute(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let rooted = match path {
        "." | "" => "/".to_string(),
        p if p.starts_with('/') => p.to_string(),
        p => format!("/{p}"),
    };
    match rooted.trim_end_matches('/') {
        "" => "/".to_string(),
        trimmed => trimmed.to_string(),
    }
}

/// `NAME=value` as (name, value).
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let valid = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    (valid && !name.is_empty()).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment whose mounts show `files` (path, content).
    fn with_files(files: &[(&str, &str)]) -> Environment {
        let files = files.iter().map(|(p, c)| (p.to_string(), c.to_string()));
        Environment::new().with_files(files.collect())
    }

    fn lines(behaviour: &Behaviour) -> Vec<&str> {
        let output = behaviour.output();
        output.lines.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn printf_fills_its_format_from_the_arguments() {
        assert_eq!(printf("A=$(B)\\n", &[]), "A=$(B)\n");
        assert_eq!(
            printf("%s-%d|%5s|%-3s|%03d%%\\n", &["a", "7", "b", "c", "5"]),
            "a-7|    b|c  |005%\n"
        );
        assert_eq!(printf("%s\\n", &["one", "two"]), "one\ntwo\n");
        assert_eq!(
            printf("%x %o %c %b", &["255", "8", "yes", "t\\tab"]),
            "ff 10 y t\tab"
        );
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

    #[test]
    fn if_for_variables_and_tests() {
        let env = Environment::new();
        let script = "for i in 1 2 3; do if [ $i -eq 2 ]; then echo two; \
                      elif test $i = 3; then echo three; else echo $i; fi; done; \
                      N=5; [[ -n $N ]] && echo set $N; [ -z \"$M\" ] || echo unset; false; echo $?";
        assert_eq!(
            lines(&run_script(script, &env)),
            ["1", "two", "three", "set 5", "1"]
        );
        let until =
            "n=0; until [ -e /tmp/done ]; do touch /tmp/done; echo waiting; done; echo ready";
        assert_eq!(lines(&run_script(until, &env)), ["waiting", "ready"]);
    }

    #[test]
    fn a_script_s_start_happens_once_before_its_endless_loop() {
        let env = Environment::new();
        let run = run_script(
            "echo starting; sleep 2; while true; do echo tick; sleep 5; done",
            &env,
        );
        let Behaviour::Serve { output } = &run else {
            panic!("it runs on: {run:?}");
        };
        assert_eq!(
            output.repeat,
            Some(Repeat {
                from_ms: 7_000,
                every_ms: 5_000
            })
        );
        let seen = output.replay(&output.lines, |l| l.0, 12_000, 100);
        let seen: Vec<(u64, &str)> = seen.into_iter().map(|(t, l)| (t, l.1.as_str())).collect();
        assert_eq!(
            seen,
            [
                (0, "starting"),
                (2_000, "tick"),
                (7_000, "tick"),
                (12_000, "tick")
            ]
        );
        // A line a pass leaves open is finished by the next pass.
        let open = run_script(
            "while true; do echo -en '\\n\\n'; echo -n a; sleep 1; done",
            &env,
        );
        let output = open.output();
        let seen = output.replay(&output.lines, |l| l.0, 2_500, 100);
        let seen: Vec<&str> = seen.into_iter().map(|(_, l)| l.1.as_str()).collect();
        assert_eq!(seen, ["", "", "a", "", "a", ""]);
        // A loop that ends by itself after a while is no server.
        let bounded = run_script(
            "while [ ! -e /tmp/x ]; do sleep 1; touch /tmp/x; done; exit 4",
            &env,
        );
        assert!(matches!(
            bounded,
            Behaviour::Exit {
                after_ms: 1_000,
                code: 4,
                ..
            }
        ));
    }

    #[test]
    fn cat_and_ls_read_the_mounted_files_and_the_script_s_own() {
        let files = [
            ("/etc/config/SPECIAL_LEVEL", "very"),
            ("/etc/config/SPECIAL_TYPE", "charm"),
        ];
        let env = with_files(&files);
        assert_eq!(
            lines(&run_script("ls /etc/config/", &env)),
            ["SPECIAL_LEVEL", "SPECIAL_TYPE"]
        );
        let run = run_script(
            "cat /etc/config/SPECIAL_LEVEL; echo; echo x > /tmp/y; cat /tmp/y; cat /nope",
            &env,
        );
        assert_eq!(
            lines(&run),
            [
                "very",
                "x",
                "cat: can't open '/nope': No such file or directory"
            ]
        );
        assert!(matches!(run, Behaviour::Exit { code: 1, .. }));
        assert_eq!(
            lines(&run_script("ls /missing", &env)),
            ["ls: /missing: No such file or directory"]
        );
        assert_eq!(
            lines(&run_script(
                "[ -d /etc/config ] && [ -f /etc/config/SPECIAL_TYPE ] && echo yes",
                &env
            )),
            ["yes"]
        );
    }

    #[test]
    fn a_script_that_does_not_parse_fails_as_busybox_says() {
        let run = run_script("if true; then echo a", &Environment::new());
        assert_eq!(lines(&run), ["sh: syntax error: unexpected end of file"]);
        assert!(matches!(run, Behaviour::Exit { code: 2, .. }));
    }

    #[test]
    fn command_substitution_runs_its_script_for_the_text() {
        let files = [(
            "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
            "shop",
        )];
        let env = with_files(&files);
        let script =
            "echo web.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc; \
                      echo hi > /tmp/x; echo \"[`cat /tmp/x`]\" $(echo a; echo b) $(cat /nope)";
        assert_eq!(
            lines(&run_script(script, &env)),
            [
                "web.shop.svc",
                "cat: can't open '/nope': No such file or directory",
                "[hi] a b"
            ]
        );
    }

    #[test]
    fn counting_loops_with_seq_and_arithmetic() {
        let env = Environment::new();
        let script = "for i in $(seq 3); do echo item $i; done; n=0; \
                      while [ $n -lt 3 ]; do n=$((n + 1)); done; echo $n $(( (n * 4 - 2) / 5 % 2 )); \
                      seq 5 -2 1; seq 2 4; hostname; pwd; whoami";
        assert_eq!(
            lines(&run_script(script, &env)),
            ["item 1", "item 2", "item 3", "3 0", "5", "3", "1", "2", "3", "4", "", "/", "root"]
        );
    }

    #[test]
    fn pipelines_feed_each_command_the_one_before_s_output() {
        let env: Environment = [
            (
                "KUBERNETES_SERVICE_HOST".to_string(),
                "10.96.0.1".to_string(),
            ),
            (
                "KUBERNETES_PORT".to_string(),
                "tcp://10.96.0.1:443".to_string(),
            ),
            ("GREETING".to_string(), "hello".to_string()),
        ]
        .into_iter()
        .collect();
        let script = "printenv | grep KUBERNETES | sort -r | cut -d = -f 1; \
                      echo czNjcjN0 | base64 -d | tee /tmp/s | wc -c; cat /tmp/s; echo; \
                      echo $GREETING | tr a-z A-Z | rev; printenv | grep -q NOPE || echo absent";
        assert_eq!(
            lines(&run_script(script, &env)),
            [
                "KUBERNETES_SERVICE_HOST",
                "KUBERNETES_PORT",
                "6",
                "s3cr3t",
                "OLLEH",
                "absent"
            ]
        );
        // A filter with nothing to read waits, as it would on a terminal-less stdin.
        assert!(matches!(
            run_script("grep x", &env),
            Behaviour::Serve { .. }
        ));
    }

    #[test]
    fn filters_read_their_files() {
        let files = [(
            "/etc/config/app.properties",
            "mode=fast\nlevel=3\nname=web\n",
        )];
        let env = with_files(&files);
        let script =
            "grep level /etc/config/app.properties; head -n 1 /etc/config/app.properties; \
                      tail -1 /etc/config/app.properties; grep x /nope";
        let run = run_script(script, &env);
        assert_eq!(
            lines(&run),
            [
                "level=3",
                "mode=fast",
                "name=web",
                "grep: /nope: No such file or directory"
            ]
        );
        assert!(matches!(run, Behaviour::Exit { code: 2, .. }));
    }
}
