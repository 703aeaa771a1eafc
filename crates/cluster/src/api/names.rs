//! Name validation with upstream's messages (RFC 1123 subdomains and labels,
//! RFC 1035 labels, path segments) and `generateName` suffixes.

/// Which rule an object's name must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (namespaces).
    Label,
    /// RFC 1035 label (services).
    Dns1035Label,
    /// Any string usable as a URL path segment (RBAC kinds).
    PathSegment,
}

const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
/// Upstream's message for a string that is not an RFC 1035 label.
pub const DNS1035_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Whether `s` is an RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_alnum(b[0])
        && is_alnum(b[b.len() - 1])
        && b.iter().all(|&c| is_alnum(c) || c == b'-')
}

/// Whether `s` is an RFC 1123 subdomain: labels joined by dots.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(is_dns1123_label)
}

/// Whether `s` is an RFC 1035 label: like RFC 1123 but starting with a letter.
pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// Upstream's complaints about `name` under `rule` (empty when valid).
pub fn name_problems(rule: NameRule, name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match rule {
        NameRule::Subdomain => {
            if name.len() > 253 {
                problems.push("must be no more than 253 characters".to_string());
            }
            if !is_dns1123_subdomain(name) {
                problems.push(SUBDOMAIN_MESSAGE.to_string());
            }
        }
        NameRule::Label => {
            if name.len() > 63 {
                problems.push("must be no more than 63 characters".to_string());
            }
            if !is_dns1123_label(name) {
                problems.push(LABEL_MESSAGE.to_string());
            }
        }
        NameRule::Dns1035Label => {
            if name.len() > 63 {
                problems.push("must be no more than 63 characters".to_string());
            }
            if !is_dns1035_label(name) {
                problems.push(DNS1035_MESSAGE.to_string());
            }
        }
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                problems.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    problems.push(format!("may not contain '{bad}'"));
                }
            }
        }
    }
    problems
}

/// A name part of a label key or a label value: at most 63 characters,
/// alphanumeric at both ends, `-`, `_` or `.` inside.
fn is_label_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Upstream's message for a name part that is not a qualified name.
pub const QUALIFIED_NAME_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// Upstream's `IsQualifiedName`: `[prefix/]name`, the prefix a DNS subdomain.
pub fn is_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

/// Upstream's `IsValidLabelValue`: empty, or a label name.
pub fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

/// The alphabet of `generateName` suffixes (no vowels, no look-alike digits).
pub const GENERATE_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The length of a `generateName` suffix.
pub const GENERATE_NAME_SUFFIX_LEN: usize = 5;

/// Upstream caps the prefix so the generated name stays within 63 characters.
pub fn generated_name(prefix: &str, suffix: &str) -> String {
    let max_prefix = 63 - GENERATE_NAME_SUFFIX_LEN;
    let prefix = if prefix.len() > max_prefix {
        &prefix[..max_prefix]
    } else {
        prefix
    };
    format!("{prefix}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_labels_and_1035_labels() {
        assert!(is_dns1123_subdomain("web.example-1"));
        assert!(!is_dns1123_subdomain("Web"));
        assert!(!is_dns1123_subdomain("web-"));
        assert!(is_dns1123_label("123-abc"));
        assert!(!is_dns1123_label("a.b"));
        assert!(!is_dns1035_label("1abc"));
        assert!(name_problems(NameRule::Subdomain, "web").is_empty());
        assert_eq!(
            name_problems(NameRule::Label, "Web"),
            vec![LABEL_MESSAGE.to_string()]
        );
        assert_eq!(
            name_problems(NameRule::PathSegment, "a/b"),
            vec!["may not contain '/'".to_string()]
        );
    }
}
