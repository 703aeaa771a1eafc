//! Label selectors: upstream's string syntax (`a=b,c!=d,e in (f,g),!h`) and
//! `metav1.LabelSelector` objects, parsed into requirements that match label sets.

use serde_json::Value;

/// The operator of one requirement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One requirement: `key <op> values`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// A conjunction of requirements; empty selects everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

impl std::fmt::Display for Requirement {
    /// Upstream's `Requirement.String()`: `a=b`, `a!=b`, `a in (b,c)`, `a`, `!a`, `a>1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut values = self.values.clone();
        values.sort();
        let key = &self.key;
        match self.operator {
            Operator::Equals => write!(f, "{key}={}", values.join(",")),
            Operator::NotEquals => write!(f, "{key}!={}", values.join(",")),
            Operator::In => write!(f, "{key} in ({})", values.join(",")),
            Operator::NotIn => write!(f, "{key} notin ({})", values.join(",")),
            Operator::Exists => write!(f, "{key}"),
            Operator::DoesNotExist => write!(f, "!{key}"),
            Operator::GreaterThan => write!(f, "{key}>{}", values.join(",")),
            Operator::LessThan => write!(f, "{key}<{}", values.join(",")),
        }
    }
}

impl std::fmt::Display for LabelSelector {
    /// Upstream's `Selector.String()`: requirements sorted by key, joined by commas.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sorted: Vec<&Requirement> = self.requirements.iter().collect();
        sorted.sort_by(|a, b| a.key.cmp(&b.key));
        let parts: Vec<String> = sorted.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl Requirement {
    fn matches<'a>(&self, mut lookup: impl FnMut(&str) -> Option<&'a str>) -> bool {
        let value = lookup(&self.key);
        match self.operator {
            Operator::Equals | Operator::In => {
                value.is_some_and(|v| self.values.iter().any(|x| x == v))
            }
            Operator::NotEquals | Operator::NotIn => {
                value.is_none_or(|v| !self.values.iter().any(|x| x == v))
            }
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(v), Some(bound)) = (value, self.values.first()) else {
                    return false;
                };
                match (v.parse::<i64>(), bound.parse::<i64>()) {
                    (Ok(v), Ok(b)) if self.operator == Operator::GreaterThan => v > b,
                    (Ok(v), Ok(b)) => v < b,
                    _ => false,
                }
            }
        }
    }

    /// The single value this requirement pins the key to (`a=b`, `a in (b)`), if any.
    pub fn exact_value(&self) -> Option<&str> {
        match self.operator {
            Operator::Equals | Operator::In if self.values.len() == 1 => Some(&self.values[0]),
            _ => None,
        }
    }
}

impl LabelSelector {
    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a label set given as (key, value) pairs matches.
    pub fn matches_pairs<K: AsRef<str>, V: AsRef<str>>(&self, labels: &[(K, V)]) -> bool {
        self.requirements.iter().all(|r| {
            r.matches(|key| {
                labels
                    .iter()
                    .find(|(k, _)| k.as_ref() == key)
                    .map(|(_, v)| v.as_ref())
            })
        })
    }

    /// Whether a JSON `labels` map matches (a missing map is empty).
    pub fn matches_json(&self, labels: Option<&Value>) -> bool {
        let map = labels.and_then(Value::as_object);
        self.requirements
            .iter()
            .all(|r| r.matches(|key| map.and_then(|m| m.get(key)).and_then(Value::as_str)))
    }

    /// Whether a typed label map matches (`None` is the empty set).
    pub fn matches_map(&self, labels: Option<&std::collections::BTreeMap<String, String>>) -> bool {
        self.requirements
            .iter()
            .all(|r| r.matches(|key| labels.and_then(|m| m.get(key)).map(String::as_str)))
    }

    /// Converts a typed `metav1.LabelSelector`.
    pub fn of(
        selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    ) -> Result<Self, String> {
        Self::from_json(&serde_json::to_value(selector).unwrap_or_default())
    }

    /// Parses upstream's string syntax.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser {
            chars: text.chars().collect(),
            pos: 0,
        };
        let mut requirements = Vec::new();
        parser.skip_spaces();
        if parser.at_end() {
            return Ok(LabelSelector::default());
        }
        loop {
            requirements.push(parser.requirement()?);
            parser.skip_spaces();
            if parser.at_end() {
                break;
            }
            if !parser.eat(',') {
                return Err(format!(
                    "found '{}', expected: ',' or 'end of string'",
                    parser.peek_token()
                ));
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// Converts a `metav1.LabelSelector` object (matchLabels + matchExpressions).
    pub fn from_json(selector: &Value) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (key, value) in labels {
                requirements.push(Requirement {
                    key: key.clone(),
                    operator: Operator::Equals,
                    values: vec![value.as_str().unwrap_or_default().to_string()],
                });
            }
        }
        if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
            for expr in exprs {
                let key = expr.get("key").and_then(Value::as_str).unwrap_or_default();
                let op = expr
                    .get("operator")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let values: Vec<String> = expr
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| {
                        v.iter()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let operator = match op {
                    "In" => Operator::In,
                    "NotIn" => Operator::NotIn,
                    "Exists" => Operator::Exists,
                    "DoesNotExist" => Operator::DoesNotExist,
                    other => {
                        return Err(format!("{other:?} is not a valid label selector operator"))
                    }
                };
                requirements.push(Requirement {
                    key: key.to_string(),
                    operator,
                    values,
                });
            }
        }
        Ok(LabelSelector { requirements })
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

fn is_identifier_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ',' | '=' | '!' | '(' | ')' | '<' | '>')
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn skip_spaces(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.chars.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn peek_token(&self) -> String {
        match self.chars.get(self.pos) {
            None => String::new(),
            Some(c) if is_identifier_char(*c) => self.chars[self.pos..]
                .iter()
                .take_while(|c| is_identifier_char(**c))
                .collect(),
            Some(c) => c.to_string(),
        }
    }

    fn identifier(&mut self) -> String {
        self.skip_spaces();
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| is_identifier_char(*c))
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        self.skip_spaces();
        if self.eat('!') {
            let key = self.identifier();
            if key.is_empty() {
                return Err(format!(
                    "found '{}', expected: identifier",
                    self.peek_token()
                ));
            }
            return Ok(Requirement {
                key,
                operator: Operator::DoesNotExist,
                values: Vec::new(),
            });
        }
        let key = self.identifier();
        if key.is_empty() {
            return Err(format!(
                "found '{}', expected: !, identifier, or 'end of string'",
                self.peek_token()
            ));
        }
        self.skip_spaces();
        let operator = if self.eat('=') {
            self.eat('=');
            Operator::Equals
        } else if self.eat('!') {
            if !self.eat('=') {
                return Err(format!("found '{}', expected: =", self.peek_token()));
            }
            Operator::NotEquals
        } else if self.eat('>') {
            Operator::GreaterThan
        } else if self.eat('<') {
            Operator::LessThan
        } else {
            let word = self.peek_token();
            match word.as_str() {
                "in" | "notin" => {
                    self.pos += word.len();
                    return self.set_requirement(key, word == "in");
                }
                "" | "," => {
                    return Ok(Requirement {
                        key,
                        operator: Operator::Exists,
                        values: Vec::new(),
                    })
                }
                _ => {
                    return Err(format!(
                        "found '{word}', expected: in, notin, =, ==, !=, gt, lt"
                    ))
                }
            }
        };
        let value = self.identifier();
        Ok(Requirement {
            key,
            operator,
            values: vec![value],
        })
    }

    fn set_requirement(&mut self, key: String, is_in: bool) -> Result<Requirement, String> {
        self.skip_spaces();
        if !self.eat('(') {
            return Err(format!("found '{}', expected: '('", self.peek_token()));
        }
        let mut values = Vec::new();
        loop {
            let value = self.identifier();
            values.push(value);
            self.skip_spaces();
            if self.eat(')') {
                break;
            }
            if !self.eat(',') {
                return Err(format!(
                    "found '{}', expected: ',' or ')'",
                    self.peek_token()
                ));
            }
        }
        Ok(Requirement {
            key,
            operator: if is_in { Operator::In } else { Operator::NotIn },
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equality_and_set_based_requirements_match_like_upstream() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let db = labels(&[("app", "db")]);
        let cases = [
            ("app=web", true, false),
            ("app==web", true, false),
            ("app!=web", false, true),
            ("app in (web,db)", true, true),
            ("app notin (web)", false, true),
            ("tier", true, false),
            ("!tier", false, true),
            ("app=web,tier=front", true, false),
            ("", true, true),
        ];
        for (text, on_web, on_db) in cases {
            let sel = LabelSelector::parse(text).unwrap();
            assert_eq!(sel.matches_pairs(&web), on_web, "{text} on web");
            assert_eq!(sel.matches_pairs(&db), on_db, "{text} on db");
        }
    }

    #[test]
    fn malformed_selectors_are_rejected() {
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("app=web tier").is_err());
        assert!(LabelSelector::parse("app!web").is_err());
    }

    #[test]
    fn match_expressions_from_json() {
        let sel = LabelSelector::from_json(&serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]
        }))
        .unwrap();
        assert!(sel.matches_json(Some(&serde_json::json!({"app": "web"}))));
        assert!(!sel.matches_json(Some(&serde_json::json!({"app": "web", "tier": "db"}))));
    }
}
