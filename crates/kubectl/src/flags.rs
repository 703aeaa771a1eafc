//! Command-line flags the way cobra/pflag parse them, with their error messages.

/// One flag a command accepts.
#[derive(Clone, Copy, Debug)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    /// Whether the flag takes a value (otherwise it is a boolean).
    pub takes_value: bool,
}

/// A flag taking a value.
pub const fn value(long: &'static str, short: Option<char>) -> Flag {
    Flag {
        long,
        short,
        takes_value: true,
    }
}

/// A boolean flag.
pub const fn boolean(long: &'static str, short: Option<char>) -> Flag {
    Flag {
        long,
        short,
        takes_value: false,
    }
}

/// Flags every command accepts (`--as` and `--as-group` are taken out before a
/// command parses its flags; they are here so a missing value is reported as such).
pub const GLOBAL: &[Flag] = &[
    value("namespace", Some('n')),
    REQUEST_TIMEOUT,
    value("as", None),
    value("as-group", None),
];

/// `--request-timeout`: how long a request (a watch, here) may take; 0 is no limit.
pub const REQUEST_TIMEOUT: Flag = value("request-timeout", None);

/// The result of parsing: positional arguments and flag values in order.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub positional: Vec<String>,
    /// How many positional arguments came before `--` (cobra's `ArgsLenAtDash`), if it was given.
    pub args_len_at_dash: Option<usize>,
    values: Vec<(&'static str, String)>,
}

impl Parsed {
    /// The last value given for a flag.
    pub fn get(&self, long: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == long)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for a repeatable flag, in order.
    pub fn get_all(&self, long: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| *k == long)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every value of a `StringSlice` flag (`--verb=get,list --verb=watch`): each
    /// occurrence split at commas, empty items dropped.
    pub fn get_slice(&self, long: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| *k == long)
            .flat_map(|(_, v)| v.split(','))
            .filter(|item| !item.is_empty())
            .map(String::from)
            .collect()
    }

    /// Whether a boolean flag is set (`--flag` or `--flag=true`).
    pub fn is_set(&self, long: &str) -> bool {
        self.get(long).is_some_and(|v| v == "true")
    }
}

impl Flag {
    /// How pflag names the flag in its errors: `-r, --replicas` or `--tail`.
    fn display_name(&self) -> String {
        match self.short {
            Some(c) => format!("-{c}, --{}", self.long),
            None => format!("--{}", self.long),
        }
    }
}

impl Parsed {
    /// An integer flag's value; the error is pflag's, with the usage hint.
    pub fn int(&self, flag: &Flag, command: &str) -> Result<Option<i64>, String> {
        let Some(text) = self.get(flag.long) else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|_| {
            format!(
                "error: invalid argument {text:?} for \"{}\" flag: strconv.ParseInt: parsing {text:?}: invalid syntax\n{}",
                flag.display_name(),
                usage_hint(command)
            )
        })
    }

    /// A duration flag's value in (possibly negative) milliseconds; the error is pflag's.
    pub fn duration_ms(&self, flag: &Flag, command: &str) -> Result<Option<i64>, String> {
        let Some(text) = self.get(flag.long) else {
            return Ok(None);
        };
        let (sign, magnitude) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text),
        };
        let parsed = if magnitude == "0" {
            Some(0)
        } else {
            kubecraft_cluster::sim::clock::parse_duration(magnitude)
        };
        parsed.map(|ms| Some(sign * ms as i64)).ok_or_else(|| {
            format!(
                "error: invalid argument {text:?} for \"{}\" flag: time: invalid duration {text:?}\n{}",
                flag.display_name(),
                usage_hint(command)
            )
        })
    }
}

/// `--request-timeout`: a whole number of seconds or a duration (`1s`, `2m`, `3h`);
/// `None` when unset or zero (no limit), as kubectl reads it.
pub fn request_timeout_ms(parsed: &Parsed) -> Result<Option<u64>, String> {
    let Some(text) = parsed.get(REQUEST_TIMEOUT.long) else {
        return Ok(None);
    };
    let magnitude = text.strip_prefix('-');
    let ms = if let Ok(seconds) = magnitude.unwrap_or(text).parse::<u64>() {
        Some(seconds * 1_000)
    } else {
        kubecraft_cluster::sim::clock::parse_duration(magnitude.unwrap_or(text))
    };
    match ms {
        Some(_) if magnitude.is_some() => Ok(None),
        Some(0) => Ok(None),
        Some(ms) => Ok(Some(ms)),
        None => Err("error: Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)\n".into()),
    }
}

/// A usage error as cobra's `UsageErrorf` prints it for `kubectl <command>`.
pub fn usage_error(command: &str, message: &str) -> String {
    format!("error: {message}\nSee 'kubectl {command} -h' for help and examples\n")
}

/// kubectl's usage hint after a flag error.
fn usage_hint(command: &str) -> String {
    format!("See 'kubectl {command} --help' for usage.\n")
}

/// Parses `args` against the command's flags plus the global ones. The error is the
/// complete text kubectl prints.
pub fn parse(args: &[String], flags: &[Flag], command: &str) -> Result<Parsed, String> {
    let all: Vec<Flag> = flags.iter().chain(GLOBAL.iter()).copied().collect();
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            parsed.args_len_at_dash = Some(parsed.positional.len());
            parsed.positional.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let Some(flag) = all.iter().find(|f| f.long == name) else {
                return Err(format!(
                    "error: unknown flag: --{name}\n{}",
                    usage_hint(command)
                ));
            };
            let value = if flag.takes_value {
                match inline {
                    Some(v) => v,
                    None if i < args.len() => {
                        i += 1;
                        args[i - 1].clone()
                    }
                    None => {
                        return Err(format!(
                            "error: flag needs an argument: --{name}\n{}",
                            usage_hint(command)
                        ))
                    }
                }
            } else {
                inline.unwrap_or_else(|| "true".into())
            };
            parsed.values.push((flag.long, value));
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let c = short.chars().next().expect("non-empty");
            let Some(flag) = all.iter().find(|f| f.short == Some(c)) else {
                return Err(format!(
                    "error: unknown shorthand flag: '{c}' in -{short}\n{}",
                    usage_hint(command)
                ));
            };
            let rest = &short[c.len_utf8()..];
            let value = if flag.takes_value {
                if !rest.is_empty() {
                    rest.trim_start_matches('=').to_string()
                } else if i < args.len() {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    return Err(format!(
                        "error: flag needs an argument: '{c}' in -{short}\n{}",
                        usage_hint(command)
                    ));
                }
            } else {
                "true".to_string()
            };
            parsed.values.push((flag.long, value));
        } else {
            parsed.positional.push(arg.clone());
        }
    }
    Ok(parsed)
}

/// The `fieldValidation` directive kubectl's `--validate` asks of the server
/// (default `strict`).
pub fn field_validation(parsed: &Parsed) -> Result<&'static str, String> {
    match parsed.get("validate").unwrap_or("strict") {
        "strict" | "true" => Ok("Strict"),
        "warn" => Ok("Warn"),
        "ignore" | "false" => Ok("Ignore"),
        other => Err(format!(
            "error: invalid - validate option {other:?}; must be one of: strict (or true), warn, ignore (or false)\n"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    const FLAGS: &[Flag] = &[
        value("output", Some('o')),
        boolean("all-namespaces", Some('A')),
    ];

    #[test]
    fn long_short_inline_and_errors() {
        let p = parse(
            &args("pods web -o=wide -n kube-system --all-namespaces"),
            FLAGS,
            "get",
        )
        .unwrap();
        assert_eq!(p.positional, vec!["pods", "web"]);
        assert_eq!(p.get("output"), Some("wide"));
        assert_eq!(p.get("namespace"), Some("kube-system"));
        assert!(p.is_set("all-namespaces"));
        assert_eq!(
            parse(&args("-owide"), FLAGS, "get").unwrap().get("output"),
            Some("wide")
        );
        assert_eq!(
            parse(&args("pods --replica"), FLAGS, "get").unwrap_err(),
            "error: unknown flag: --replica\nSee 'kubectl get --help' for usage.\n"
        );
        assert_eq!(
            parse(&args("pods -x"), FLAGS, "get").unwrap_err(),
            "error: unknown shorthand flag: 'x' in -x\nSee 'kubectl get --help' for usage.\n"
        );
        assert_eq!(
            parse(&args("pods -n"), FLAGS, "get").unwrap_err(),
            "error: flag needs an argument: 'n' in -n\nSee 'kubectl get --help' for usage.\n"
        );
    }
}
