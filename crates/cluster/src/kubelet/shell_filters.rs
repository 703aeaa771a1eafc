//! The text filters of the simulated containers' shell, as busybox writes them:
//! `grep`, `head`, `tail`, `wc`, `sort`, `uniq`, `tr`, `rev`, `cut` and
//! `base64`, each reading its input (a pipe's or a file's) and returning what it
//! prints, its exit status and what it says on standard error.

/// What a filter did: its output, exit status and error message.
pub struct Filtered {
    pub output: String,
    pub status: i32,
    pub error: Option<String>,
}

impl Filtered {
    fn ok(output: String) -> Self {
        Filtered {
            output,
            status: 0,
            error: None,
        }
    }

    fn failed(program: &str, message: &str) -> Self {
        Filtered {
            output: String::new(),
            status: 1,
            error: Some(format!("{program}: {message}")),
        }
    }
}

/// The programs this module runs.
pub const FILTERS: &[&str] = &[
    "grep", "head", "tail", "wc", "sort", "uniq", "tr", "rev", "cut", "base64",
];

/// The options and operands of `program`'s arguments; an option that takes a
/// value (`head -n 5`, `cut -d = -f 2`) keeps it beside it.
fn split<'a>(program: &str, args: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    let valued: &[&str] = match program {
        "head" | "tail" => &["-n"],
        "cut" => &["-d", "-f"],
        _ => &[],
    };
    let mut flags = Vec::new();
    let mut operands = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            flag if valued.contains(&flag) => {
                flags.push(*arg);
                flags.extend(args.next().copied());
            }
            a if a.starts_with('-') && a.len() > 1 => flags.push(a),
            a => operands.push(a),
        }
    }
    (flags, operands)
}

/// The files `program`'s arguments name (after `grep`'s pattern, `tr` names none).
pub fn file_operands<'a>(program: &str, args: &[&'a str]) -> Vec<&'a str> {
    let (_, operands) = split(program, args);
    let skip = match program {
        "grep" => 1,
        "tr" => operands.len(),
        _ => 0,
    };
    operands.into_iter().skip(skip).collect()
}

/// The value after a flag (`-n 5`), or the number in `-5`.
fn count(flags: &[&str], default: usize) -> usize {
    if let Some(i) = flags.iter().position(|f| *f == "-n") {
        return flags
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default);
    }
    let numeric = flags.iter().find_map(|f| f.strip_prefix('-')?.parse().ok());
    numeric.unwrap_or(default)
}

/// Lines of `input`, each with its newline.
fn lines(input: &str) -> Vec<&str> {
    input.split_inclusive('\n').collect()
}

/// Runs `program` (one of [`FILTERS`]) with `args` over `input` (its
/// [`file_operands`]' contents, or a pipe's).
pub fn run(program: &str, args: &[&str], input: &str) -> Filtered {
    let (flags, operands) = split(program, args);
    let has = |flag: char| {
        flags
            .iter()
            .any(|f| !f.starts_with("--") && f.contains(flag))
    };
    match program {
        "grep" => {
            let Some(pattern) = operands.first() else {
                return Filtered::failed("grep", "usage: grep [-vicq] PATTERN [FILE]...");
            };
            let (invert, fold) = (has('v'), has('i'));
            let matches = |line: &str| {
                let line = line.trim_end_matches('\n');
                let found = if fold {
                    pattern_matches(&pattern.to_lowercase(), &line.to_lowercase())
                } else {
                    pattern_matches(pattern, line)
                };
                found != invert
            };
            let found: Vec<&str> = lines(input).into_iter().filter(|l| matches(l)).collect();
            let status = i32::from(found.is_empty());
            let output = if has('q') {
                String::new()
            } else if has('c') {
                format!("{}\n", found.len())
            } else {
                found.iter().map(|l| with_newline(l)).collect()
            };
            Filtered {
                output,
                status,
                error: None,
            }
        }
        "head" => {
            let n = count(&flags, 10);
            Filtered::ok(lines(input).into_iter().take(n).map(with_newline).collect())
        }
        "tail" => {
            let all = lines(input);
            let n = count(&flags, 10);
            Filtered::ok(
                all[all.len().saturating_sub(n)..]
                    .iter()
                    .map(|l| with_newline(l))
                    .collect(),
            )
        }
        "wc" => {
            let (l, w, c) = (
                input.matches('\n').count(),
                input.split_whitespace().count(),
                input.len(),
            );
            let output = match (has('l'), has('w'), has('c')) {
                (true, false, false) => format!("{l}\n"),
                (false, true, false) => format!("{w}\n"),
                (false, false, true) => format!("{c}\n"),
                _ => format!("{l:>9} {w:>9} {c:>9}\n"),
            };
            Filtered::ok(output)
        }
        "sort" => {
            let mut all: Vec<String> = lines(input).into_iter().map(with_newline).collect();
            if has('n') {
                let number = |l: &String| l.trim().parse::<f64>().unwrap_or(0.0);
                all.sort_by(|a, b| number(a).total_cmp(&number(b)));
            } else {
                all.sort();
            }
            if has('r') {
                all.reverse();
            }
            if has('u') {
                all.dedup();
            }
            Filtered::ok(all.concat())
        }
        "uniq" => {
            let mut all: Vec<String> = lines(input).into_iter().map(with_newline).collect();
            all.dedup();
            Filtered::ok(all.concat())
        }
        "tr" => match operands.as_slice() {
            [from, to] => {
                let (from, to) = (char_set(from), char_set(to));
                let map = |c: char| match from.iter().position(|f| *f == c) {
                    Some(i) => to.get(i).or(to.last()).copied().unwrap_or(c),
                    None => c,
                };
                Filtered::ok(input.chars().map(map).collect())
            }
            [set] if has('d') => {
                let set = char_set(set);
                Filtered::ok(input.chars().filter(|c| !set.contains(c)).collect())
            }
            _ => Filtered::failed("tr", "missing operand"),
        },
        "rev" => Filtered::ok(
            lines(input)
                .into_iter()
                .map(|l| {
                    format!(
                        "{}\n",
                        l.trim_end_matches('\n').chars().rev().collect::<String>()
                    )
                })
                .collect(),
        ),
        "cut" => {
            let value_of = |flag: &str| {
                let i = flags.iter().position(|f| *f == flag)?;
                flags.get(i + 1).copied()
            };
            let delimiter = value_of("-d")
                .and_then(|d| d.chars().next())
                .unwrap_or('\t');
            let Some(fields) = value_of("-f") else {
                return Filtered::failed("cut", "expected a list of bytes, characters, or fields");
            };
            let wanted: Vec<usize> = fields.split(',').filter_map(|f| f.parse().ok()).collect();
            let cut = |line: &str| {
                let line = line.trim_end_matches('\n');
                let parts: Vec<&str> = line.split(delimiter).collect();
                if parts.len() == 1 {
                    return format!("{line}\n");
                }
                let picked: Vec<&str> = wanted
                    .iter()
                    .filter_map(|i| parts.get(i.wrapping_sub(1)).copied())
                    .collect();
                format!("{}\n", picked.join(&delimiter.to_string()))
            };
            Filtered::ok(lines(input).into_iter().map(cut).collect())
        }
        "base64" => {
            use base64::Engine;
            let engine = base64::engine::general_purpose::STANDARD;
            if has('d') {
                let text: String = input.split_whitespace().collect();
                match engine.decode(text) {
                    Ok(bytes) => Filtered::ok(String::from_utf8_lossy(&bytes).into_owned()),
                    Err(_) => Filtered::failed("base64", "invalid input"),
                }
            } else {
                Filtered::ok(format!("{}\n", engine.encode(input)))
            }
        }
        _ => Filtered::failed(program, "not found"),
    }
}

fn with_newline(line: &str) -> String {
    if line.ends_with('\n') {
        line.to_string()
    } else {
        format!("{line}\n")
    }
}

/// Whether `line` holds `pattern`: literal text, anchored by a leading `^` or a
/// trailing `$`.
fn pattern_matches(pattern: &str, line: &str) -> bool {
    match (pattern.strip_prefix('^'), pattern.strip_suffix('$')) {
        (Some(rest), _) if rest.ends_with('$') => line == &rest[..rest.len() - 1],
        (Some(rest), _) => line.starts_with(rest),
        (None, Some(rest)) => line.ends_with(rest),
        (None, None) => line.contains(pattern),
    }
}

/// The characters of a `tr` set, with ranges (`a-z`) spelled out.
fn char_set(set: &str) -> Vec<char> {
    let chars: Vec<char> = set.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            out.extend(chars[i]..=chars[i + 2]);
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(program: &str, args: &[&str], input: &str) -> String {
        run(program, args, input).output
    }

    #[test]
    fn filters_print_as_busybox_does() {
        let text = "b=2\na=1\nc=3\na=1\n";
        assert_eq!(out("grep", &["a="], text), "a=1\na=1\n");
        assert_eq!(out("grep", &["-v", "a="], text), "b=2\nc=3\n");
        assert_eq!(out("grep", &["-c", "^a"], text), "2\n");
        assert_eq!(run("grep", &["-q", "zzz"], text).status, 1);
        assert_eq!(out("head", &["-n", "2"], text), "b=2\na=1\n");
        assert_eq!(out("tail", &["-1"], text), "a=1\n");
        assert_eq!(out("wc", &["-l"], text), "4\n");
        assert_eq!(out("sort", &["-u"], text), "a=1\nb=2\nc=3\n");
        assert_eq!(out("sort", &["-rn"], "2\n10\n1\n"), "10\n2\n1\n");
        assert_eq!(out("uniq", &[], "a\na\nb\n"), "a\nb\n");
        assert_eq!(out("tr", &["a-z", "A-Z"], "hello\n"), "HELLO\n");
        assert_eq!(out("tr", &["-d", "l"], "hello\n"), "heo\n");
        assert_eq!(out("rev", &[], "abc\n"), "cba\n");
        assert_eq!(out("cut", &["-d", "=", "-f", "2"], text), "2\n1\n3\n1\n");
        assert_eq!(out("base64", &["-d"], "czNjcjN0"), "s3cr3t");
        assert_eq!(out("base64", &[], "s3cr3t"), "czNjcjN0\n");
        assert_eq!(
            file_operands("grep", &["-v", "x", "/a", "/b"]),
            ["/a", "/b"]
        );
        assert_eq!(file_operands("head", &["-n", "5", "/a"]), ["/a"]);
        assert!(file_operands("tr", &["a", "b"]).is_empty());
    }
}
