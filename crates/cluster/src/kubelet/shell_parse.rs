//! The grammar of the simulated containers' `sh -c` scripts: lists of commands
//! joined by `;`, newlines, `&&` and `||`, pipelines (`a | b`), and the compound commands `if ...;
//! then ...; elif ...; else ...; fi`, `while`/`until ...; do ...; done` and
//! `for NAME in WORDS; do ...; done`. Simple commands stay text: their words are
//! expanded when they run.

/// Commands run one after another.
pub type List = Vec<AndOr>;

/// Commands joined by `&&` and `||`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AndOr {
    pub first: Command,
    pub rest: Vec<(Connective, Command)>,
}

/// How a command joins the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connective {
    /// `&&`: runs when the one before succeeded.
    And,
    /// `||`: runs when the one before failed.
    Or,
}

/// One command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A simple command's text.
    Simple(String),
    /// `if`: the (condition, body) of `if` and each `elif`, then the `else` body.
    If {
        branches: Vec<(List, List)>,
        otherwise: Option<List>,
    },
    /// `while` (or `until`, which loops while the condition fails).
    Loop {
        until: bool,
        condition: List,
        body: List,
    },
    /// Commands whose output feeds the next one's input (`a | b`).
    Pipeline(Vec<Command>),
    /// `for NAME in WORDS`: the words are expanded when it runs.
    For {
        name: String,
        words: String,
        body: List,
    },
}

/// Words that open or close compound commands where a command may start.
const RESERVED: &[&str] = &[
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for",
];

/// A piece of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Reserved(&'static str),
    Text(String),
    /// `;` or a newline.
    End,
    /// `|`.
    Pipe,
    Join(Connective),
}

/// Parses a script, or says what is wrong with it as busybox's `sh` does
/// (`syntax error: unexpected "fi"`).
pub fn parse(script: &str) -> Result<List, String> {
    let tokens = tokenize(script);
    let mut parser = Parser { tokens, at: 0 };
    let list = parser.list(&[])?;
    match parser.tokens.get(parser.at) {
        None => Ok(list),
        Some(token) => Err(unexpected(Some(token))),
    }
}

fn unexpected(token: Option<&Token>) -> String {
    match token {
        Some(Token::Reserved(word)) => format!("syntax error: unexpected \"{word}\""),
        Some(Token::Join(Connective::And)) => "syntax error: unexpected \"&&\"".into(),
        Some(Token::Join(Connective::Or)) => "syntax error: unexpected \"||\"".into(),
        Some(Token::End) => "syntax error: unexpected \";\"".into(),
        Some(Token::Pipe) => "syntax error: unexpected \"|\"".into(),
        Some(Token::Text(text)) => format!("syntax error: unexpected \"{text}\""),
        None => "syntax error: unexpected end of file".into(),
    }
}

/// Splits a script at unquoted `;`, newlines, `&&` and `||`, and a reserved word
/// from the start of each piece.
fn tokenize(script: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut chars = script.chars().peekable();
    let mut quote: Option<char> = None;
    let flush = |current: &mut String, tokens: &mut Vec<Token>| {
        let mut rest = current.trim();
        while !rest.is_empty() {
            let first = rest.split_whitespace().next().unwrap_or("");
            match RESERVED.iter().find(|w| **w == first) {
                Some(word) => {
                    tokens.push(Token::Reserved(word));
                    rest = rest[first.len()..].trim_start();
                }
                None => {
                    tokens.push(Token::Text(rest.to_string()));
                    break;
                }
            }
        }
        current.clear();
    };
    // How deep in command substitutions (`$(...)`) the text is: no splitting there.
    let mut depth = 0;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '$') if chars.peek() == Some(&'(') => {
                chars.next();
                depth += 1;
                current.push_str("$(");
            }
            (None, '(') if depth > 0 => {
                depth += 1;
                current.push(c);
            }
            (None, ')') if depth > 0 => {
                depth -= 1;
                current.push(c);
            }
            (None, c) if depth > 0 => current.push(c),
            (None, ';' | '\n') => {
                flush(&mut current, &mut tokens);
                tokens.push(Token::End);
            }
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                flush(&mut current, &mut tokens);
                tokens.push(Token::Join(Connective::And));
            }
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                flush(&mut current, &mut tokens);
                tokens.push(Token::Join(Connective::Or));
            }
            (None, '|') => {
                flush(&mut current, &mut tokens);
                tokens.push(Token::Pipe);
            }
            (None, c) => current.push(c),
        }
    }
    flush(&mut current, &mut tokens);
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn skip_ends(&mut self) {
        while self.peek() == Some(&Token::End) {
            self.at += 1;
        }
    }

    fn expect(&mut self, word: &str) -> Result<(), String> {
        self.skip_ends();
        match self.peek() {
            Some(Token::Reserved(w)) if *w == word => {
                self.at += 1;
                Ok(())
            }
            other => Err(unexpected(other)),
        }
    }

    /// And-or lists up to one of the reserved words `stop` (or the end).
    fn list(&mut self, stop: &[&str]) -> Result<List, String> {
        let mut list = Vec::new();
        loop {
            self.skip_ends();
            match self.peek() {
                None => return Ok(list),
                Some(Token::Reserved(w)) if stop.contains(w) => return Ok(list),
                _ => list.push(self.and_or()?),
            }
        }
    }

    fn and_or(&mut self) -> Result<AndOr, String> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        while let Some(Token::Join(connective)) = self.peek().cloned() {
            self.at += 1;
            self.skip_ends();
            rest.push((connective, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    /// A command, or commands joined by `|`.
    fn pipeline(&mut self) -> Result<Command, String> {
        let mut commands = vec![self.command()?];
        while self.peek() == Some(&Token::Pipe) {
            self.at += 1;
            self.skip_ends();
            commands.push(self.command()?);
        }
        Ok(match commands.len() {
            1 => commands.pop().expect("one command"),
            _ => Command::Pipeline(commands),
        })
    }

    fn command(&mut self) -> Result<Command, String> {
        let token = self.peek().cloned();
        self.at += 1;
        match token {
            Some(Token::Text(text)) => Ok(Command::Simple(text)),
            Some(Token::Reserved("if")) => self.if_clause(),
            Some(Token::Reserved(word @ ("while" | "until"))) => {
                let condition = self.list(&["do"])?;
                self.expect("do")?;
                let body = self.list(&["done"])?;
                self.expect("done")?;
                Ok(Command::Loop {
                    until: word == "until",
                    condition,
                    body,
                })
            }
            Some(Token::Reserved("for")) => self.for_clause(),
            other => Err(unexpected(other.as_ref())),
        }
    }

    fn if_clause(&mut self) -> Result<Command, String> {
        let mut branches = Vec::new();
        loop {
            let condition = self.list(&["then"])?;
            self.expect("then")?;
            let body = self.list(&["elif", "else", "fi"])?;
            branches.push((condition, body));
            self.skip_ends();
            match self.peek() {
                Some(Token::Reserved("elif")) => self.at += 1,
                Some(Token::Reserved("else")) => {
                    self.at += 1;
                    let otherwise = self.list(&["fi"])?;
                    self.expect("fi")?;
                    return Ok(Command::If {
                        branches,
                        otherwise: Some(otherwise),
                    });
                }
                _ => {
                    self.expect("fi")?;
                    return Ok(Command::If {
                        branches,
                        otherwise: None,
                    });
                }
            }
        }
    }

    fn for_clause(&mut self) -> Result<Command, String> {
        let Some(Token::Text(header)) = self.peek().cloned() else {
            return Err(unexpected(self.peek()));
        };
        self.at += 1;
        let (name, words) = match header.split_once(char::is_whitespace) {
            Some((name, rest)) => {
                let rest = rest.trim_start();
                let words = rest
                    .strip_prefix("in")
                    .filter(|w| w.is_empty() || w.starts_with(char::is_whitespace));
                (name.to_string(), words.unwrap_or(rest).trim().to_string())
            }
            None => (header.clone(), String::new()),
        };
        self.expect("do")?;
        let body = self.list(&["done"])?;
        self.expect("done")?;
        Ok(Command::For { name, words, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(text: &str) -> AndOr {
        AndOr {
            first: Command::Simple(text.into()),
            rest: Vec::new(),
        }
    }

    #[test]
    fn lists_and_connectives() {
        let list = parse("echo a; echo b && echo c || echo d\necho e").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0], simple("echo a"));
        assert_eq!(
            list[1].rest,
            [
                (Connective::And, Command::Simple("echo c".into())),
                (Connective::Or, Command::Simple("echo d".into()))
            ]
        );
        assert_eq!(
            parse("echo 'a; b' \"&&\"").unwrap(),
            [simple("echo 'a; b' \"&&\"")]
        );
    }

    #[test]
    fn the_downward_api_example_s_loop_of_ifs() {
        let script = "while true; do if [[ -e /etc/podinfo/labels ]]; then echo -en '\\n\\n'; \
                      cat /etc/podinfo/labels; fi; sleep 5; done;";
        let list = parse(script).unwrap();
        let Command::Loop {
            until,
            condition,
            body,
        } = &list[0].first
        else {
            panic!("a loop: {list:?}");
        };
        assert!(!until);
        assert_eq!(condition, &[simple("true")]);
        assert_eq!(body.len(), 2);
        let Command::If {
            branches,
            otherwise,
        } = &body[0].first
        else {
            panic!("an if: {body:?}");
        };
        assert_eq!(branches[0].0, [simple("[[ -e /etc/podinfo/labels ]]")]);
        assert_eq!(branches[0].1.len(), 2);
        assert_eq!(otherwise, &None);
    }

    #[test]
    fn elif_else_and_for() {
        let list = parse("if false; then echo a; elif true; then echo b; else echo c; fi").unwrap();
        let Command::If {
            branches,
            otherwise,
        } = &list[0].first
        else {
            panic!("{list:?}");
        };
        assert_eq!(branches.len(), 2);
        assert_eq!(otherwise.as_deref(), Some(&[simple("echo c")][..]));
        let list = parse("for i in 1 2 3; do echo $i; done").unwrap();
        assert_eq!(
            list[0].first,
            Command::For {
                name: "i".into(),
                words: "1 2 3".into(),
                body: vec![simple("echo $i")]
            }
        );
    }

    #[test]
    fn busybox_s_syntax_errors() {
        assert_eq!(
            parse("echo a; fi").unwrap_err(),
            "syntax error: unexpected \"fi\""
        );
        assert_eq!(
            parse("if true; then echo a").unwrap_err(),
            "syntax error: unexpected end of file"
        );
        assert_eq!(
            parse("&& echo").unwrap_err(),
            "syntax error: unexpected \"&&\""
        );
    }

    #[test]
    fn pipelines() {
        let list = parse("printenv | grep KUBERNETES | sort || echo none").unwrap();
        assert_eq!(
            list[0].first,
            Command::Pipeline(vec![
                Command::Simple("printenv".into()),
                Command::Simple("grep KUBERNETES".into()),
                Command::Simple("sort".into())
            ])
        );
        assert_eq!(list[0].rest.len(), 1);
        assert_eq!(
            parse("| grep x").unwrap_err(),
            "syntax error: unexpected \"|\""
        );
    }
}
