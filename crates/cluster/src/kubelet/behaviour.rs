//! What a simulated container does, read from its image, `command` and `args`
//! as a user would expect: server images (nginx, redis, ...) run until stopped;
//! `sleep 30`, `echo hi`, `exit 1`, `true`, `false` and small `sh -c` scripts
//! (`;`, `&&`, `||`, `while true; do ...; done`) print, wait and exit as a shell
//! would; a base image with no command (busybox, alpine, ubuntu) exits at once.
//! What it prints, and when, is its log; the files it touches and removes are
//! what exec probes (`cat /tmp/healthy`) see.

use k8s_openapi::api::core::v1::Container;

use super::env::{expand, Environment};
use super::output::Output;
use super::shell::{self, run_script, until_lookup};

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
pub fn image_name(image: &str) -> &str {
    let without_tag = image.split('@').next().unwrap_or(image);
    let without_tag = match without_tag.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => without_tag,
    };
    without_tag.rsplit('/').next().unwrap_or(without_tag)
}

/// Well-known server images and the port their default process listens on;
/// `http` when it answers HTTP (and only `/` and `/index.html` exist).
const SERVERS: &[(&str, i32, bool)] = &[
    ("nginx", 80, true),
    ("httpd", 80, true),
    ("caddy", 80, true),
    ("redis", 6379, false),
    ("postgres", 5432, false),
    ("mysql", 3306, false),
    ("mariadb", 3306, false),
    ("mongo", 27017, false),
    ("memcached", 11211, false),
    ("rabbitmq", 5672, false),
];

/// Whether a well-known server image speaks HTTP (`None` for other images).
pub fn speaks_http(image: &str) -> Option<bool> {
    SERVERS
        .iter()
        .find(|(name, _, _)| *name == image)
        .map(|(_, _, http)| *http)
}

/// What answers on a port of a running container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// Nothing: connections are refused.
    Nothing,
    /// A known web server with only its default pages.
    WebServer,
    /// Some server (any request succeeds as far as probes can tell).
    Server,
}

/// What listens on `port` of `container`: a server image without a command
/// listens on its well-known port, or (for other images) on any declared port.
pub fn listener(container: &Container, port: i32) -> Listener {
    let has_command = container.command.as_ref().is_some_and(|c| !c.is_empty())
        || container.args.as_ref().is_some_and(|a| !a.is_empty());
    if has_command {
        return Listener::Nothing;
    }
    let image = image_name(container.image.as_deref().unwrap_or(""));
    if BASE_IMAGES.contains(&image) {
        return Listener::Nothing;
    }
    match SERVERS.iter().find(|(name, _, _)| *name == image) {
        Some((_, known, true)) if *known == port => Listener::WebServer,
        Some((_, known, false)) if *known == port => Listener::Server,
        Some(_) => Listener::Nothing,
        None => Listener::Server,
    }
}

/// The behaviour of a container from its spec, with its environment `env`
/// (`$(VAR)` in `command` and `args`, `$VAR` in `sh -c` scripts).
pub fn of(container: &Container, env: &Environment) -> Behaviour {
    with_lookup(container, env).0
}

/// [`of`], and the DNS name whose resolving ends the container's run when its
/// `sh -c` script is an `until nslookup` loop with nothing after it.
pub fn with_lookup(container: &Container, env: &Environment) -> (Behaviour, Option<Lookup>) {
    let argv: Vec<String> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .map(|word| expand(word, env.kubelet()))
        .collect();
    if argv.is_empty() {
        let image = container.image.as_deref().unwrap_or("");
        let behaviour = if BASE_IMAGES.contains(&image_name(image)) {
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
        return (behaviour, None);
    }
    let program = argv[0].rsplit('/').next().unwrap_or("").to_string();
    if matches!(program.as_str(), "sh" | "bash" | "ash")
        && argv.get(1).map(String::as_str) == Some("-c")
    {
        let script = argv.get(2).map(String::as_str).unwrap_or("").trim();
        return match until_lookup(script, env) {
            Some((lookup, pass)) => (Behaviour::Serve { output: pass }, Some(lookup)),
            None => (run_script(script, env), None),
        };
    }
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    (shell::run_program(&program, &words[1..], env), None)
}

/// A container waiting for a DNS name to resolve: its script is the loop
/// `until nslookup NAME; do ...; done` (the documentation's init containers that
/// wait for a Service), which ends once the name resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The name looked up.
    pub name: String,
    /// How long one pass of the loop takes (its lookup, then its body).
    pub every_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::output::Repeat;

    /// A container's behaviour with an empty environment.
    fn of(container: &Container) -> Behaviour {
        super::of(container, &Environment::new())
    }

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
            ..Output::default()
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
    fn the_documentation_s_perl_job_prints_pi_and_exits() {
        let job = container(
            "perl:5.34.0",
            &["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
            &[],
        );
        let Behaviour::Exit {
            after_ms,
            code,
            output,
        } = of(&job)
        else {
            panic!("it finishes");
        };
        assert_eq!((after_ms, code), (6_000, 0));
        assert_eq!(output.lines.len(), 1);
        assert!(output.lines[0].1.starts_with("3.14159265358979"));
        assert_eq!(output.lines[0].1.len(), 2001);
        let server = container("perl:5.34.0", &["perl", "/app/server.pl"], &[]);
        assert!(matches!(of(&server), Behaviour::Serve { .. }));
    }

    #[test]
    fn an_until_nslookup_loop_waits_for_its_name_printing_each_failed_pass() {
        let script = "until nslookup myservice.default.svc.cluster.local; do echo waiting for myservice; sleep 2; done";
        let c = container("busybox:1.28", &["sh", "-c", script], &[]);
        assert_eq!(
            with_lookup(&c, &Environment::new()).1,
            Some(Lookup {
                name: "myservice.default.svc.cluster.local".into(),
                every_ms: 2_000
            })
        );
        let Behaviour::Serve { output } = of(&c) else {
            panic!("it waits");
        };
        assert_eq!(output.repeat.map(|r| r.every_ms), Some(2_000));
        let lines: Vec<&str> = output.lines.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            lines,
            [
                "Server:    10.96.0.10",
                "Address 1: 10.96.0.10",
                "",
                "nslookup: can't resolve 'myservice.default.svc.cluster.local'",
                "waiting for myservice"
            ]
        );
        let then = format!("{script}; echo done");
        let c = container("busybox:1.28", &["sh", "-c", &then], &[]);
        assert_eq!(with_lookup(&c, &Environment::new()).1, None);
    }

    #[test]
    fn printenv_prints_the_values_it_is_asked_for() {
        let env: Environment = [("GREETING".to_string(), "hello".to_string())]
            .into_iter()
            .collect();
        let c = container("busybox:1.36", &["printenv", "GREETING"], &[]);
        assert_eq!(super::of(&c, &env), exit(0, 0, &[(0, "hello")]));
        let missing = container("busybox:1.36", &["printenv", "GREETING", "NOPE"], &[]);
        assert_eq!(super::of(&missing, &env), exit(0, 1, &[(0, "hello")]));
        let all = container("busybox:1.36", &["printenv"], &[]);
        assert_eq!(super::of(&all, &env), exit(0, 0, &[(0, "GREETING=hello")]));
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
    fn variables_expand_in_arguments_and_scripts() {
        let env: Environment = [("NAME", "web"), ("INDEX", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            super::of(
                &container("busybox", &["echo", "$(NAME)-$(INDEX)"], &[]),
                &env
            ),
            exit(0, 0, &[(0, "web-3")])
        );
        let script = r#"echo "index ${INDEX} of $NAME" '$NAME' $UNSET."#;
        assert_eq!(
            super::of(&container("busybox", &["sh", "-c", script], &[]), &env),
            exit(0, 0, &[(0, "index 3 of web $NAME .")])
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
                    lines: vec![(0, "tick".into()), (1_000, "tick".into())],
                    repeat: Some(Repeat {
                        from_ms: 1_000,
                        every_ms: 1_000
                    }),
                    ..Output::default()
                }
            }
        );
        assert_eq!(
            of(&container("busybox", &["/bin/sh", "-c"], &["exit 1"])),
            exit(0, 1, &[])
        );
    }

    #[test]
    fn files_touched_and_removed_are_seen_when_they_are() {
        let liveness = of(&container(
            "busybox",
            &["/bin/sh", "-c"],
            &["touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
        ));
        let out = liveness.output();
        assert!(out.file_exists("/tmp/healthy", 0));
        assert!(out.file_exists("/tmp/healthy", 29_999));
        assert!(!out.file_exists("/tmp/healthy", 30_000));
        assert!(!out.file_exists("/tmp/other", 0));
        let flapping = of(&container(
            "busybox",
            &[
                "sh",
                "-c",
                "while true; do touch /ok; sleep 5; rm /ok; sleep 5; done",
            ],
            &[],
        ));
        let out = flapping.output();
        assert!(out.file_exists("/ok", 12_000));
        assert!(!out.file_exists("/ok", 17_000));
    }
}
