//! How kubectl reaches an API server: anything that answers a [`Request`].

use kubecraft_cluster::api::{Request, Response};
use kubecraft_cluster::apiserver::watch::WatchId;
use kubecraft_cluster::sim::World;
use serde_json::Value;

use crate::output::{Output, Stream};

/// The server's clock from a response's `Date` header, in Unix milliseconds (0 if absent):
/// the "now" kubectl measures ages against (its own clock, against a real cluster).
pub fn response_date_ms(response: &Response) -> i64 {
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| kubecraft_cluster::sim::clock::parse_http_date(v))
        .unwrap_or(0)
}

/// How much cluster time a waiting command (`rollout status`, `wait`, `drain`,
/// `logs -f`) may let pass, and how much it has.
pub struct Deadline {
    limit_ms: u64,
    waited_ms: u64,
}

impl Deadline {
    /// A budget of `limit_ms` virtual milliseconds.
    pub fn new(limit_ms: u64) -> Deadline {
        Deadline {
            limit_ms,
            waited_ms: 0,
        }
    }

    /// Lets the cluster move on to its next event; false once that passes the
    /// limit (or time cannot pass at all).
    pub fn pass(&mut self, transport: &mut dyn Transport) -> bool {
        match transport.pass_time() {
            Some(ms) if self.waited_ms + ms <= self.limit_ms => {
                self.waited_ms += ms;
                true
            }
            _ => false,
        }
    }

    /// The cluster time passed so far.
    pub fn waited_ms(&self) -> u64 {
        self.waited_ms
    }
}

/// How long following a watch without a timeout may go on when the cluster does not
/// settle (a pod in CrashLoopBackOff keeps it busy for ever).
const UNTIL_SETTLED_LIMIT_MS: u64 = 5 * 60_000;

/// Follows an open watch, handing each event (`type`, object) to `each` until it
/// returns false, `timeout_ms` of cluster time passes or, without a timeout, the
/// cluster settles (at most five minutes of cluster time); then closes the watch.
pub fn follow_watch(
    transport: &mut dyn Transport,
    watch: WatchId,
    timeout_ms: Option<u64>,
    mut each: impl FnMut(&str, Value) -> bool,
) {
    let mut deadline = Deadline::new(timeout_ms.unwrap_or(UNTIL_SETTLED_LIMIT_MS));
    'follow: loop {
        for line in transport.watch_events(watch) {
            let Ok(mut event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let kind = event["type"].as_str().unwrap_or("").to_string();
            if !each(&kind, event["object"].take()) {
                break 'follow;
            }
        }
        if timeout_ms.is_none() && !transport.busy() {
            break;
        }
        if !deadline.pass(transport) {
            break;
        }
    }
    transport.close_watch(watch);
}

/// A connection to an API server.
pub trait Transport {
    /// Sends one request and returns the answer.
    fn send(&mut self, request: Request) -> Response;

    /// Lets the cluster move on to its next event, for commands that wait
    /// (`rollout status`); the virtual milliseconds that passed, or `None` when
    /// time cannot pass (nothing is scheduled, or a server that is not simulated).
    fn pass_time(&mut self) -> Option<u64> {
        None
    }

    /// The events a watch (a response from [`Transport::send`] that opened one) has
    /// received since last asked, each as upstream streams it
    /// (`{"type":"ADDED","object":{...}}`).
    fn watch_events(&mut self, _watch: WatchId) -> Vec<String> {
        Vec::new()
    }

    /// Closes a watch.
    fn close_watch(&mut self, _watch: WatchId) {}

    /// A warning of the client's own, printed as server warnings are
    /// (`Warning: ...` before the command's output) but never merged with an
    /// earlier one of the same text; dropped when nothing prints them.
    fn warn(&mut self, _text: String) {}

    /// Whether the cluster still has work in hand (a simulated cluster that has not
    /// settled); a real server never says so.
    fn busy(&self) -> bool {
        false
    }
}

/// An in-process cluster: requests are traced as the `kubectl` actor.
impl Transport for World {
    fn send(&mut self, request: Request) -> Response {
        self.call("kubectl", &request)
    }

    fn pass_time(&mut self) -> Option<u64> {
        let before = self.now().millis();
        self.step().then(|| self.now().millis() - before)
    }

    fn watch_events(&mut self, watch: WatchId) -> Vec<String> {
        self.take_watch_events(watch)
            .iter()
            .map(|e| e.to_json())
            .collect()
    }

    fn close_watch(&mut self, watch: WatchId) {
        World::close_watch(self, watch);
    }

    fn busy(&self) -> bool {
        self.pending_events() > 0
    }
}

/// A transport that collects the server's `Warning` headers (a deprecated version,
/// say), which kubectl prints to stderr as `Warning: ...`, each text once.
pub struct Warnings<'a> {
    inner: &'a mut dyn Transport,
    texts: Vec<String>,
}

impl<'a> Warnings<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Transport) -> Self {
        Warnings {
            inner,
            texts: Vec::new(),
        }
    }

    /// The command's output with the warnings printed first, as they arrive before
    /// anything the command prints about the responses that carried them.
    pub fn printed_before(self, output: Output) -> Output {
        let mut chunks: Vec<(Stream, String)> = self
            .texts
            .into_iter()
            .map(|text| (Stream::Stderr, format!("Warning: {text}\n")))
            .collect();
        chunks.extend(output.chunks);
        Output { chunks, ..output }
    }
}

/// The text of a `Warning` header value (`299 - "text"`).
fn warning_text(value: &str) -> Option<String> {
    let quoted = value.splitn(3, ' ').nth(2)?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
}

impl Transport for Warnings<'_> {
    fn send(&mut self, request: Request) -> Response {
        let response = self.inner.send(request);
        for (name, value) in &response.headers {
            if !name.eq_ignore_ascii_case("warning") {
                continue;
            }
            if let Some(text) = warning_text(value).filter(|t| !self.texts.contains(t)) {
                self.texts.push(text);
            }
        }
        response
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
        self.texts.push(text);
    }

    fn busy(&self) -> bool {
        self.inner.busy()
    }
}
