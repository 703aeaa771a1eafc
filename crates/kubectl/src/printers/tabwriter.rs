//! Go's `text/tabwriter` (left-aligned, space padding), which kubectl uses for
//! tables (minwidth 6, padding 3) and `describe` (minwidth 0, padding 2).
//!
//! Cells end at tabs; the text after a line's last tab is not aligned. A column's
//! width is set per *block* — a run of consecutive lines that have that column —
//! as the widest cell plus padding, so alignment restarts after a line without it.

/// kubectl's table settings.
const TABLE_MIN_WIDTH: usize = 6;
const TABLE_PADDING: usize = 3;

fn width(cell: &str) -> usize {
    if cell.is_ascii() {
        cell.len()
    } else {
        cell.chars().count()
    }
}

/// Appends `n` spaces.
fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

/// Formats tab-separated text the way Go's tabwriter does.
pub fn format(text: &str, min_width: usize, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n').split('\t').collect())
        .collect();
    let ends_with_newline: Vec<bool> = text
        .split_inclusive('\n')
        .map(|l| l.ends_with('\n'))
        .collect();
    let mut widths: Vec<Vec<usize>> = vec![Vec::new(); lines.len()];
    assign(
        &lines,
        0,
        lines.len(),
        0,
        min_width,
        padding,
        &mut Vec::new(),
        &mut widths,
    );
    let mut out = String::new();
    for (i, cells) in lines.iter().enumerate() {
        for (j, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths[i].get(j) {
                if j + 1 < cells.len() {
                    pad(&mut out, w.saturating_sub(width(cell)));
                }
            }
        }
        if ends_with_newline[i] {
            out.push('\n');
        }
    }
    out
}

/// Go's recursive `format`: finds the blocks of column `column` in lines
/// `line0..line1` and records, for each line, the widths of its aligned columns.
#[allow(clippy::too_many_arguments)]
fn assign(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    column: usize,
    min_width: usize,
    padding: usize,
    stack: &mut Vec<usize>,
    widths: &mut [Vec<usize>],
) {
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        // Lines before the block keep the enclosing widths.
        for w in widths.iter_mut().take(this).skip(line0) {
            if w.len() < stack.len() {
                *w = stack.clone();
            }
        }
        line0 = this;
        let mut block_width = min_width;
        while this < line1 && column + 1 < lines[this].len() {
            block_width = block_width.max(width(lines[this][column]) + padding);
            this += 1;
        }
        stack.push(block_width);
        assign(
            lines,
            line0,
            this,
            column + 1,
            min_width,
            padding,
            stack,
            widths,
        );
        stack.pop();
        line0 = this;
    }
    for w in widths.iter_mut().take(line1).skip(line0) {
        if w.len() < stack.len() {
            *w = stack.clone();
        }
    }
}

/// Aligns rows of cells as a kubectl table (every column but the last padded).
pub fn align<S: AsRef<str>>(rows: &[Vec<S>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let uniform = rows.iter().all(|row| {
        row.len() == columns
            && row
                .iter()
                .all(|cell| memchr::memchr2(b'\t', b'\n', cell.as_ref().as_bytes()).is_none())
    });
    if uniform {
        // Every line has every column, so each column is one block, as wide as its
        // widest cell plus padding: what a fresh remembering writer prints.
        return RememberingWriter::default().write(rows);
    }
    let text: String = rows
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.iter().map(AsRef::as_ref).collect();
            format!("{}\n", cells.join("\t"))
        })
        .collect();
    format(&text, TABLE_MIN_WIDTH, TABLE_PADDING)
}

/// kubectl's tabwriter across flushes (`RememberWidths`, liggitt/tabwriter): each
/// column is as wide as the widest cell printed in it so far, so the rows of a
/// watch, printed one event at a time, line up with what came before.
#[derive(Default)]
pub struct RememberingWriter {
    widths: Vec<usize>,
}

impl RememberingWriter {
    /// Aligns one flush of rows (all with the same columns), widening columns as needed.
    pub fn write<S: AsRef<str>>(&mut self, rows: &[Vec<S>]) -> String {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        if self.widths.len() < columns {
            self.widths.resize(columns, TABLE_MIN_WIDTH);
        }
        let mut size = 0;
        for row in rows {
            for (j, cell) in row.iter().enumerate().take(columns.saturating_sub(1)) {
                self.widths[j] = self.widths[j].max(width(cell.as_ref()) + TABLE_PADDING);
            }
            size += row.last().map_or(0, |cell| cell.as_ref().len()) + 1;
        }
        size += rows.len()
            * self
                .widths
                .iter()
                .take(columns.saturating_sub(1))
                .sum::<usize>();
        let mut out = String::with_capacity(size);
        for row in rows {
            for (j, cell) in row.iter().enumerate() {
                let cell = cell.as_ref();
                out.push_str(cell);
                if j + 1 < row.len() {
                    pad(&mut out, self.widths[j] - width(cell));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_widths_carry_over_and_grow() {
        let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let mut writer = RememberingWriter::default();
        assert_eq!(
            writer.write(&[
                row(&["NAME", "STATUS", "AGE"]),
                row(&["a", "ContainerCreating", "0s"])
            ]),
            "NAME   STATUS              AGE\na      ContainerCreating   0s\n"
        );
        assert_eq!(
            writer.write(&[row(&["b", "Running", "1s"])]),
            "b      Running             1s\n"
        );
        assert_eq!(
            writer.write(&[row(&["long-name", "Running", "2s"])]),
            "long-name   Running             2s\n"
        );
        assert_eq!(
            writer.write(&[row(&["c", "Running", "3s"])]),
            "c           Running             3s\n"
        );
    }

    #[test]
    fn pads_all_but_the_last_column() {
        let rows = vec![
            vec!["NAME".to_string(), "READY".to_string(), "AGE".to_string()],
            vec!["web-1".to_string(), "1/1".to_string(), "5s".to_string()],
        ];
        assert_eq!(align(&rows), "NAME    READY   AGE\nweb-1   1/1     5s\n");
        assert_eq!(align(&[vec!["a", "b"]]), "a     b\n");
    }

    #[test]
    fn rows_of_one_shape_align_as_the_text_tabwriter_does() {
        let rows: Vec<Vec<String>> = [
            ["NAMESPACE", "NAME", "READY", ""],
            ["kube-system", "coredns-ñ", "1/1", "3d"],
            ["", "x", "", "<none>"],
        ]
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
        let text: String = rows.iter().map(|r| r.join("\t") + "\n").collect();
        assert_eq!(align(&rows), format(&text, TABLE_MIN_WIDTH, TABLE_PADDING));
        // Rows of other shapes take the text path.
        let ragged = vec![rows[0].clone(), vec!["a".to_string()], rows[1].clone()];
        let text: String = ragged.iter().map(|r| r.join("\t") + "\n").collect();
        assert_eq!(
            align(&ragged),
            format(&text, TABLE_MIN_WIDTH, TABLE_PADDING)
        );
    }

    #[test]
    fn blocks_restart_after_a_line_without_the_column() {
        let text = "Name:\tweb\nNamespace:\tdefault\nContainers:\n  web:\n    Image:\tnginx\n    Port:\t<none>\nQoS Class:\tBestEffort\n";
        assert_eq!(
            format(text, 0, 2),
            "Name:       web\nNamespace:  default\nContainers:\n  web:\n    Image:  nginx\n    Port:   <none>\nQoS Class:  BestEffort\n"
        );
        // Continuation lines (empty first cell) align with their block.
        assert_eq!(
            format("Labels:\ta=b\n\tc=d\nIP:\t\n", 0, 2),
            "Labels:  a=b\n         c=d\nIP:      \n"
        );
    }
}
