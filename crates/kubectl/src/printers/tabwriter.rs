//! Go's `text/tabwriter` as kubectl configures it (minwidth 6, padding 3, spaces):
//! every column but the last is padded to its widest cell plus three.

/// kubectl's minimum cell width, padding included.
const MIN_WIDTH: usize = 6;
/// Spaces after the widest cell of a column.
const PADDING: usize = 3;

/// Aligns rows of cells into text lines.
pub fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                widths[i] = widths[i].max((cell.chars().count() + PADDING).max(MIN_WIDTH));
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_all_but_the_last_column() {
        let rows = vec![
            vec!["NAME".to_string(), "READY".to_string(), "AGE".to_string()],
            vec!["web-1".to_string(), "1/1".to_string(), "5s".to_string()],
        ];
        assert_eq!(align(&rows), "NAME    READY   AGE\nweb-1   1/1     5s\n");
        assert_eq!(align(&[vec!["a".into(), "b".into()]]), "a     b\n");
    }
}
