//! Upstream's "kube-aware" ordering of API version names (`v2 > v1 > v1beta2 >
//! v1beta1 > v1alpha1`, then names that are not kube-like, alphabetically), which
//! decides a custom group's preferred version and the version a deprecation warning
//! recommends.

use std::cmp::Ordering;

/// The stability levels, least stable first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stability {
    Alpha,
    Beta,
    Ga,
}

/// `v{major}[alpha|beta{minor}]` → (stability, major, minor); `None` for other names.
fn parse(version: &str) -> Option<(Stability, u64, u64)> {
    let rest = version.strip_prefix('v')?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (major, tail) = rest.split_at(digits);
    let major: u64 = major.parse().ok()?;
    if tail.is_empty() {
        return Some((Stability::Ga, major, 0));
    }
    let (stability, minor) = if let Some(minor) = tail.strip_prefix("alpha") {
        (Stability::Alpha, minor)
    } else {
        (Stability::Beta, tail.strip_prefix("beta")?)
    };
    if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stability, major, minor.parse().ok()?))
}

/// Compares two version names by priority: `Greater` when `a` is preferred over `b`.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        // Names that are not kube-like: the alphabetically first is preferred.
        (None, None) => b.cmp(a),
    }
}

/// Sorts version names from most to least preferred.
pub fn sort_by_priority(versions: &mut [String]) {
    versions.sort_by(|a, b| compare(b, a));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_upstream_documents() {
        let mut versions: Vec<String> = [
            "v1alpha1",
            "foo1",
            "v11alpha2",
            "v12alpha1",
            "v3beta1",
            "v1",
            "v10beta3",
            "v2",
            "v10",
            "v11beta2",
            "foo10",
            "v10alpha1",
        ]
        .map(String::from)
        .to_vec();
        sort_by_priority(&mut versions);
        // The order upstream's documentation on CRD versioning gives.
        assert_eq!(
            versions,
            [
                "v10",
                "v2",
                "v1",
                "v11beta2",
                "v10beta3",
                "v3beta1",
                "v12alpha1",
                "v11alpha2",
                "v10alpha1",
                "v1alpha1",
                "foo1",
                "foo10"
            ]
        );
    }

    #[test]
    fn malformed_names_are_not_kube_like() {
        assert_eq!(parse("v1beta"), None);
        assert_eq!(parse("v1gamma1"), None);
        assert_eq!(parse("1"), None);
        assert_eq!(compare("v1alpha1", "zeta"), Ordering::Greater);
    }
}
