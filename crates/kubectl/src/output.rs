//! What a command printed: stdout and stderr interleaved in order, and the exit code.

/// Which stream a piece of output went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A command's output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub chunks: Vec<(Stream, String)>,
    pub exit_code: i32,
}

impl Output {
    /// Appends to stdout.
    pub fn out(&mut self, text: impl Into<String>) {
        self.chunks.push((Stream::Stdout, text.into()));
    }

    /// Appends to stderr.
    pub fn err(&mut self, text: impl Into<String>) {
        self.chunks.push((Stream::Stderr, text.into()));
    }

    /// Appends an error line and sets exit code 1.
    pub fn fail(&mut self, text: impl Into<String>) {
        self.err(text);
        self.exit_code = 1;
    }

    /// Everything printed, both streams, in order.
    pub fn combined(&self) -> String {
        self.chunks.iter().map(|(_, t)| t.as_str()).collect()
    }

    /// Only what went to one stream.
    pub fn stream(&self, which: Stream) -> String {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == which)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    /// Appends another command's output (its exit code wins if it failed).
    pub fn extend(&mut self, other: Output) {
        self.chunks.extend(other.chunks);
        if other.exit_code != 0 {
            self.exit_code = other.exit_code;
        }
    }
}
