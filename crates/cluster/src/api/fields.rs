//! Field selectors (`metadata.name=x,spec.nodeName!=y`): only `=`, `==` and `!=`.

/// One field requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
    /// `true` for `!=`.
    pub negated: bool,
}

/// A conjunction of field requirements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses upstream's syntax; `\,` and `\=` escape separators in values.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(FieldSelector::default());
        }
        for part in split_unescaped(text, ',') {
            let (field, value, negated) = if let Some(i) = part.find("!=") {
                (&part[..i], &part[i + 2..], true)
            } else if let Some(i) = part.find("==") {
                (&part[..i], &part[i + 2..], false)
            } else if let Some(i) = part.find('=') {
                (&part[..i], &part[i + 1..], false)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            requirements.push(FieldRequirement {
                field: field.trim().to_string(),
                value: value
                    .replace("\\,", ",")
                    .replace("\\=", "=")
                    .replace("\\\\", "\\"),
                negated,
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value `field` must equal, if a requirement pins it.
    pub fn exact(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && !r.negated)
            .map(|r| r.value.as_str())
    }

    /// Whether an object whose fields read through `lookup` matches.
    pub fn matches(&self, mut lookup: impl FnMut(&str) -> String) -> bool {
        self.requirements
            .iter()
            .all(|r| (lookup(&r.field) == r.value) != r.negated)
    }
}

fn split_unescaped(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_equality_and_inequality() {
        let sel = FieldSelector::parse("spec.nodeName=node-1,status.phase!=Running").unwrap();
        assert_eq!(sel.exact("spec.nodeName"), Some("node-1"));
        assert!(sel.matches(|f| if f == "spec.nodeName" {
            "node-1".into()
        } else {
            "Pending".into()
        }));
        assert!(!sel.matches(|f| if f == "spec.nodeName" {
            "node-1".into()
        } else {
            "Running".into()
        }));
        assert!(FieldSelector::parse("spec.nodeName").is_err());
    }
}
