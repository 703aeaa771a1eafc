//! `kubecraft shell`: a fresh cluster driven by lines of input — kubectl commands
//! (with or without the word `kubectl`) and simulation commands (`sim ...`).
//!
//! Virtual time moves only by `sim` commands (and, later, commands that wait).

use kubecraft_cluster::sim::clock::parse_duration;
use kubecraft_cluster::sim::World;
use kubecraft_kubectl::{Kubectl, Output};

use crate::words;

/// How far `sim settle` looks ahead for pending work (one virtual hour).
const SETTLE_HORIZON_MS: u64 = 3_600_000;

/// A cluster and a kubectl session.
pub struct Shell {
    world: World,
    kubectl: Kubectl,
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

impl Shell {
    /// A shell over a new cluster with `seed`.
    pub fn new(seed: u64) -> Self {
        Shell {
            world: World::new(seed),
            kubectl: Kubectl::default(),
        }
    }

    /// Runs one input line and returns what it printed.
    pub fn run_line(&mut self, line: &str) -> Output {
        let mut out = Output::default();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return out;
        }
        let words = match words::split(trimmed) {
            Ok(w) => w,
            Err(e) => {
                out.fail(format!("error: {e}\n"));
                return out;
            }
        };
        match words.first().map(String::as_str) {
            Some("sim") => self.sim(&words[1..]),
            Some("kubectl") => self.kubectl.run(&mut self.world, &words[1..]),
            _ => self.kubectl.run(&mut self.world, &words),
        }
    }

    fn sim(&mut self, args: &[String]) -> Output {
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
            [other, ..] => out.fail(format!("error: unknown sim command {other:?}\n")),
            [] => out.fail("error: sim needs a command: advance <duration>, settle, status\n"),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(virtual_time(0), "0s");
        assert_eq!(virtual_time(90_500), "1m30.500s");
        assert_eq!(virtual_time(3_723_000), "1h2m3s");
    }
}
