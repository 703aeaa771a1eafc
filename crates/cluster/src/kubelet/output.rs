//! What a container's process leaves behind: the lines it prints and the files it
//! creates, writes and removes, each at the milliseconds after its start when it
//! does so. Its log is read from the lines; exec probes and the termination
//! message from the files.

/// How many passes of a loop [`Output::file_text`] replays at most (a file a loop
/// appends to keeps its latest passes).
const MAX_REPLAYED_PASSES: u64 = 4_096;

/// What a container does that others can see: each line it prints, each file it
/// creates (`true`) or removes (`false`) and the text it writes to files, with the
/// milliseconds after its start when it does so; a `while true` loop repeats its
/// pass forever.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub lines: Vec<(u64, String)>,
    pub files: Vec<(u64, String, bool)>,
    pub writes: Vec<Write>,
    /// The length of one pass of a loop that never ends, after which it all repeats.
    pub repeat_every_ms: Option<u64>,
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
    /// What the process wrote to the file at `path` by `elapsed_ms` after its
    /// start (`None` when it wrote nothing there).
    pub fn file_text(&self, path: &str, elapsed_ms: u64) -> Option<String> {
        let writes: Vec<&Write> = self.writes.iter().filter(|w| w.path == path).collect();
        if writes.is_empty() {
            return None;
        }
        let mut text: Option<String> = None;
        let mut apply = |write: &Write| {
            let held = text.get_or_insert_with(String::new);
            if write.replaces {
                held.clear();
            }
            held.push_str(&write.text);
        };
        match self.repeat_every_ms {
            None => writes
                .iter()
                .filter(|w| w.at_ms <= elapsed_ms)
                .for_each(|w| apply(w)),
            Some(period) => {
                let passes = elapsed_ms / period;
                for _ in passes.saturating_sub(MAX_REPLAYED_PASSES)..passes {
                    writes.iter().for_each(|w| apply(w));
                }
                let now = elapsed_ms % period;
                writes
                    .iter()
                    .filter(|w| w.at_ms <= now)
                    .for_each(|w| apply(w));
            }
        }
        text
    }

    /// The output of a loop whose one pass did `pass` and took `period_ms`.
    pub(super) fn repeating(pass: Output, period_ms: u64) -> Output {
        Output {
            // A loop without a sleep still takes time; one pass per millisecond bounds the log.
            repeat_every_ms: Some(period_ms.max(1)),
            ..pass
        }
    }

    /// Whether the file at `path` exists `elapsed_ms` after the start.
    pub fn file_exists(&self, path: &str, elapsed_ms: u64) -> bool {
        let changes: Vec<(u64, bool)> = self
            .files
            .iter()
            .filter(|(_, p, _)| p == path)
            .map(|(at, _, exists)| (*at, *exists))
            .collect();
        let latest = |until: u64| changes.iter().rev().find(|(at, _)| *at <= until);
        match self.repeat_every_ms {
            None => latest(elapsed_ms).is_some_and(|(_, exists)| *exists),
            Some(period) => match latest(elapsed_ms % period) {
                Some((_, exists)) => *exists,
                // Before this pass changed it, the file is as the previous pass left it.
                None => elapsed_ms >= period && changes.last().is_some_and(|(_, e)| *e),
            },
        }
    }
}

/// A printed line that shows the time it is printed at, as `date` prints it (the
/// time is only known when the log is read).
pub const DATE_LINE: &str = "\u{1}date";
