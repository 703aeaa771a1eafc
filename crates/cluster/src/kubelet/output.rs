//! What a container's process leaves behind: the lines it prints and the files it
//! creates, writes and removes, each at the milliseconds after its start when it
//! does so. Its log is read from the lines; exec probes and the termination
//! message from the files. A script that ends in a loop that never ends does what
//! it did before the loop once, then the loop's one pass over and over.

/// How many passes of a loop [`Output::file_text`] replays at most (a file a loop
/// appends to keeps its latest passes).
const MAX_REPLAYED_PASSES: u64 = 4_096;

/// What a container does that others can see: each line it prints, each file it
/// creates (`true`) or removes (`false`) and the text it writes to files, with the
/// milliseconds after its start when it does so.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub lines: Vec<(u64, String)>,
    pub files: Vec<(u64, String, bool)>,
    pub writes: Vec<Write>,
    /// The loop that never ends, whose pass repeats.
    pub repeat: Option<Repeat>,
    /// The file whose new lines it prints as they are written (`tail -F FILE`).
    pub follows: Option<String>,
}

/// A loop's pass: what happened from `from_ms` for `every_ms` happens again and again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat {
    pub from_ms: u64,
    pub every_ms: u64,
}

/// Text a process wrote to a file (`> file` replaces what it held, `>> file` appends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    pub at_ms: u64,
    pub path: String,
    pub text: String,
    pub replaces: bool,
}

impl Output {
    /// Each of `events` (at `at(event)` after the start) as it happened by
    /// `elapsed_ms`, in order, with when: those before the loop once, the loop's
    /// for each pass so far (the last `max_passes` and the current one).
    pub fn replay<'a, E>(
        &self,
        events: &'a [E],
        at: impl Fn(&E) -> u64,
        elapsed_ms: u64,
        max_passes: u64,
    ) -> Vec<(u64, &'a E)> {
        let happened = |e: &'a E| (at(e) <= elapsed_ms).then(|| (at(e), e));
        let Some(repeat) = self.repeat else {
            return events.iter().filter_map(happened).collect();
        };
        let (once, pass): (Vec<&E>, Vec<&E>) = events.iter().partition(|e| at(e) < repeat.from_ms);
        let mut out: Vec<(u64, &E)> = once.into_iter().filter_map(happened).collect();
        if elapsed_ms >= repeat.from_ms && !pass.is_empty() {
            let last = (elapsed_ms - repeat.from_ms) / repeat.every_ms;
            for k in last.saturating_sub(max_passes)..=last {
                let start = repeat.from_ms + k * repeat.every_ms;
                let times = pass.iter().map(|e| (start + at(e) - repeat.from_ms, *e));
                out.extend(times.filter(|(t, _)| *t <= elapsed_ms));
            }
        }
        out
    }

    /// What the process wrote to the file at `path` by `elapsed_ms` after its
    /// start (`None` when it wrote nothing there).
    pub fn file_text(&self, path: &str, elapsed_ms: u64) -> Option<String> {
        let writes = self.replay(&self.writes, |w| w.at_ms, elapsed_ms, MAX_REPLAYED_PASSES);
        let mut text: Option<String> = None;
        for (_, write) in writes.into_iter().filter(|(_, w)| w.path == path) {
            let held = text.get_or_insert_with(String::new);
            if write.replaces {
                held.clear();
            }
            held.push_str(&write.text);
        }
        text
    }

    /// Whether the process's own changes left a file at `path` by `elapsed_ms`
    /// (`None` when it never touched it).
    pub fn file_state(&self, path: &str, elapsed_ms: u64) -> Option<bool> {
        let changes = self.replay(&self.files, |f| f.0, elapsed_ms, 1);
        let mut touched = changes.into_iter().filter(|(_, f)| f.1 == path);
        touched.next_back().map(|(_, f)| f.2)
    }

    /// Whether the file at `path` exists `elapsed_ms` after the start.
    pub fn file_exists(&self, path: &str, elapsed_ms: u64) -> bool {
        self.file_state(path, elapsed_ms) == Some(true)
    }
}

/// What `date` prints, in a line of its own or inside one (`echo "$(date) ..."`):
/// the time the line is printed at, only known when the log is read.
pub const DATE_MARK: &str = "\u{1}date";

#[cfg(test)]
mod tests {
    use super::*;

    fn looping(from_ms: u64, every_ms: u64) -> Output {
        Output {
            lines: vec![(0, "start".into()), (from_ms, "tick".into())],
            files: vec![
                (from_ms, "/tmp/a".into(), true),
                (from_ms + 5, "/tmp/a".into(), false),
            ],
            repeat: Some(Repeat { from_ms, every_ms }),
            ..Output::default()
        }
    }

    #[test]
    fn what_came_before_the_loop_happens_once_then_each_pass() {
        let output = looping(100, 10);
        let lines: Vec<(u64, &str)> = output
            .replay(&output.lines, |l| l.0, 125, 100)
            .into_iter()
            .map(|(t, l)| (t, l.1.as_str()))
            .collect();
        assert_eq!(
            lines,
            [(0, "start"), (100, "tick"), (110, "tick"), (120, "tick")]
        );
        assert!(!output.file_exists("/tmp/a", 99));
        assert!(output.file_exists("/tmp/a", 121));
        assert!(!output.file_exists("/tmp/a", 126));
        assert_eq!(output.file_state("/tmp/b", 126), None);
    }
}
