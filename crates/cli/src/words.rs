//! Splitting a command line into words as a POSIX shell would: single quotes,
//! double quotes with backslash escapes, backslashes outside quotes, and `#`
//! comments. The console runs one command a line, so an unquoted pipe,
//! redirection or command list is refused rather than passed on as words.

/// The words of `line`, or an error for an unterminated quote or an unquoted
/// shell operator (`|`, `&`, `;`, `>`, or `<` other than a here-document's `<<`).
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' if !in_word => break,
            '<' if chars.peek() == Some(&'<') => {
                in_word = true;
                current.push(c);
                current.push(chars.next().expect("peeked"));
            }
            '|' | '&' | ';' | '>' | '<' => return Err(unsupported_operator(c, chars.peek())),
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => current.push(ch),
                        None => return Err("unexpected EOF while looking for matching `''".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => current.push(ch),
                            Some(ch) => {
                                current.push('\\');
                                current.push(ch);
                            }
                            None => {
                                return Err("unexpected EOF while looking for matching `\"'".into())
                            }
                        },
                        Some(ch) => current.push(ch),
                        None => return Err("unexpected EOF while looking for matching `\"'".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    current.push(ch);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// Why the operator starting with `c` (followed by `next`) cannot run here.
fn unsupported_operator(c: char, next: Option<&char>) -> String {
    let operator = match (c, next) {
        ('|', Some('|')) | ('&', Some('&')) | ('>', Some('>')) => format!("{c}{c}"),
        _ => c.to_string(),
    };
    let what = match operator.as_str() {
        "|" => "pipes",
        ">" | ">>" | "<" => "redirections",
        _ => "command lists",
    };
    format!(
        "{operator:?} is not supported: this console runs one kubectl or sim command a line, without {what} (quote it to pass it as text)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            split("get pods -l 'app in (a,b)'").unwrap(),
            vec!["get", "pods", "-l", "app in (a,b)"]
        );
        assert_eq!(
            split(r#"a "b \"c\"" d\ e"#).unwrap(),
            vec!["a", "b \"c\"", "d e"]
        );
        assert_eq!(split("''").unwrap(), vec![""]);
        assert!(split("'open").is_err());
    }

    #[test]
    fn comments_end_the_line_only_at_a_word_start() {
        assert_eq!(
            split("get pods # all of them").unwrap(),
            vec!["get", "pods"]
        );
        assert_eq!(
            split("get pods#x '#y'").unwrap(),
            vec!["get", "pods#x", "#y"]
        );
    }

    #[test]
    fn shell_operators_are_refused_unless_quoted() {
        assert_eq!(
            split("get pods | grep web").unwrap_err(),
            "\"|\" is not supported: this console runs one kubectl or sim command a line, without pipes (quote it to pass it as text)"
        );
        assert!(split("get pods -o yaml > pod.yaml")
            .unwrap_err()
            .starts_with("\">\" is not supported"));
        assert!(split("get pods >> log")
            .unwrap_err()
            .contains("without redirections"));
        assert!(split("get pods && get nodes")
            .unwrap_err()
            .starts_with("\"&&\""));
        assert!(split("get pods; get nodes")
            .unwrap_err()
            .contains("command lists"));
        assert!(split("get pods || true")
            .unwrap_err()
            .contains("command lists"));
        assert_eq!(
            split("get pods -l 'a|b' \\> \"x;y&z\"").unwrap(),
            vec!["get", "pods", "-l", "a|b", ">", "x;y&z"]
        );
        assert_eq!(
            split("create -f - <<EOF").unwrap(),
            vec!["create", "-f", "-", "<<EOF"]
        );
        assert_eq!(split("create -f - << 'EOF'").unwrap()[3..], ["<<", "EOF"]);
    }
}
