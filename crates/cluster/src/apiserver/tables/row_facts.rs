//! A row's cells worked out when an object is stored: the cells' JSON text in one
//! allocation, with holes where the cells that depend on the time go, so listing
//! a hundred thousand rows copies text instead of chasing a pointer per cell.

use std::fmt::Write;

use super::age::age_since;

/// A cell whose text depends on when it is printed.
#[derive(Clone, Copy, Debug)]
pub enum Timed {
    /// The age of a moment (Unix milliseconds), `<unknown>` when missing.
    Age(Option<i64>),
    /// A restart count, with how long ago the last restart was when there was one.
    Restarts { count: i64, last: Option<i64> },
}

impl Timed {
    /// The cell's text at `now_unix_ms`.
    fn printed(self, now_unix_ms: i64) -> String {
        match self {
            Timed::Age(at) => age_since(at, now_unix_ms),
            Timed::Restarts { count, last: None } => count.to_string(),
            Timed::Restarts {
                count,
                last: Some(at),
            } => format!("{count} ({} ago)", age_since(Some(at), now_unix_ms)),
        }
    }
}

/// Most timed cells a row has (a pod's RESTARTS and AGE).
const MAX_TIMED: usize = 2;

/// A row's cells as worked out when the object was stored.
#[derive(Clone, Debug)]
pub struct RowFacts {
    /// The cells as a JSON array, without the timed cells.
    json: Box<str>,
    /// Where each timed cell goes in `json` (a byte offset), in order.
    timed: [Option<(u32, Timed)>; MAX_TIMED],
}

impl RowFacts {
    /// Appends the cells as a JSON array, the timed ones printed at `now_unix_ms`.
    pub fn write_json(&self, out: &mut String, now_unix_ms: i64) {
        let mut from = 0;
        for (at, cell) in self.timed.iter().flatten() {
            let at = *at as usize;
            out.push_str(&self.json[from..at]);
            write!(out, "\"{}\"", cell.printed(now_unix_ms)).expect("writing to a String");
            from = at;
        }
        out.push_str(&self.json[from..]);
    }
}

/// Builds a row's facts cell by cell.
#[derive(Default)]
pub struct RowBuilder {
    json: Vec<u8>,
    timed: Vec<(u32, Timed)>,
}

impl RowBuilder {
    fn next_cell(&mut self) {
        self.json
            .push(if self.json.is_empty() { b'[' } else { b',' });
    }

    /// A text cell.
    pub fn text(mut self, text: &str) -> Self {
        self.next_cell();
        serde_json::to_writer(&mut self.json, text).expect("strings serialise");
        self
    }

    /// A text cell, `<none>` when empty.
    pub fn text_or_none(self, text: &str) -> Self {
        self.text(if text.is_empty() { "<none>" } else { text })
    }

    /// A cell printed when the row is.
    pub fn timed(mut self, cell: Timed) -> Self {
        assert!(
            self.timed.len() < MAX_TIMED,
            "a row has at most {MAX_TIMED} timed cells"
        );
        self.next_cell();
        self.timed.push((self.json.len() as u32, cell));
        self
    }

    /// The finished row.
    pub fn build(mut self) -> RowFacts {
        if self.json.is_empty() {
            self.json.push(b'[');
        }
        self.json.push(b']');
        let mut timed = [None; MAX_TIMED];
        for (slot, cell) in timed.iter_mut().zip(self.timed) {
            *slot = Some(cell);
        }
        RowFacts {
            json: String::from_utf8(self.json)
                .expect("serde_json writes UTF-8")
                .into_boxed_str(),
            timed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_cells_are_printed_into_their_holes() {
        let row = RowBuilder::default()
            .text("we\"b")
            .timed(Timed::Restarts {
                count: 2,
                last: Some(0),
            })
            .text_or_none("")
            .timed(Timed::Age(None))
            .build();
        let mut out = String::new();
        row.write_json(&mut out, 30_000);
        assert_eq!(out, r#"["we\"b","2 (30s ago)","<none>","<unknown>"]"#);
        let mut empty = String::new();
        RowBuilder::default().build().write_json(&mut empty, 0);
        assert_eq!(empty, "[]");
    }
}
