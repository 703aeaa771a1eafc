//! The global `--as` and `--as-group` flags: every request of the command carries
//! `Impersonate-User` and `Impersonate-Group` headers.

use kubecraft_cluster::api::{Request, Response};
use kubecraft_cluster::apiserver::watch::WatchId;

use crate::transport::Transport;

/// Who a command acts as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impersonation {
    pub user: Option<String>,
    pub groups: Vec<String>,
}

/// Removes `--as` and `--as-group` (either `--flag=value` or `--flag value`) from a
/// command line, up to a `--`. One without a value stays for the command's flag
/// parser to report.
pub fn take_impersonation(args: &[String]) -> (Vec<String>, Impersonation) {
    let mut rest = Vec::new();
    let mut impersonation = Impersonation::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            rest.push(word.clone());
            rest.extend(words.by_ref().cloned());
            break;
        }
        let Some((name, inline)) = word
            .strip_prefix("--")
            .map(|flag| match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (flag, None),
            })
        else {
            rest.push(word.clone());
            continue;
        };
        if name != "as" && name != "as-group" {
            rest.push(word.clone());
            continue;
        }
        let Some(value) = inline.or_else(|| words.next().cloned()) else {
            rest.push(word.clone());
            break;
        };
        if name == "as" {
            impersonation.user = Some(value).filter(|v| !v.is_empty());
        } else {
            impersonation.groups.push(value);
        }
    }
    (rest, impersonation)
}

/// A transport that adds the impersonation headers to every request.
pub struct Impersonating<'a> {
    inner: &'a mut dyn Transport,
    impersonation: Impersonation,
}

impl<'a> Impersonating<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Transport, impersonation: Impersonation) -> Self {
        Impersonating {
            inner,
            impersonation,
        }
    }
}

impl Transport for Impersonating<'_> {
    fn send(&mut self, mut request: Request) -> Response {
        if let Some(user) = &self.impersonation.user {
            request = request.with_header("Impersonate-User", user.clone());
        }
        for group in &self.impersonation.groups {
            request = request.with_header("Impersonate-Group", group.clone());
        }
        self.inner.send(request)
    }

    fn pass_time(&mut self) -> Option<u64> {
        self.inner.pass_time()
    }

    fn watch_events(&mut self, watch: WatchId) -> Vec<String> {
        self.inner.watch_events(watch)
    }

    fn close_watch(&mut self, watch: WatchId) {
        self.inner.close_watch(watch);
    }

    fn warn(&mut self, text: String) {
        self.inner.warn(text);
    }

    fn busy(&self) -> bool {
        self.inner.busy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_flags_are_taken_out_up_to_a_double_dash() {
        let (rest, who) =
            take_impersonation(&words("get pods --as jane --as-group=dev -n x -- --as y"));
        assert_eq!(rest, words("get pods -n x -- --as y"));
        assert_eq!(
            who,
            Impersonation {
                user: Some("jane".into()),
                groups: vec!["dev".into()]
            }
        );
        assert_eq!(
            take_impersonation(&words("get pods --as")).0,
            words("get pods --as")
        );
    }
}
