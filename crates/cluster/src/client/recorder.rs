//! An event recorder: how components report what they did as core/v1 Events
//! (`kubectl describe` and `kubectl events` read them).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::Metadata;
use serde::Serialize;
use serde_json::json;

use crate::api::Request;
use crate::sim::Ctx;

/// The object an event is about, as `involvedObject` names it.
#[derive(Clone, Debug)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub field_path: Option<String>,
}

impl ObjectRef {
    /// A reference to a typed object (a Pod, a Deployment, ...).
    pub fn of<T: k8s_openapi::Resource + Metadata<Ty = ObjectMeta>>(obj: &T) -> ObjectRef {
        let meta = obj.metadata();
        ObjectRef {
            api_version: T::API_VERSION.into(),
            kind: T::KIND.into(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            field_path: None,
        }
    }

    /// A reference to a Node as its kubelet writes it: the UID is the node's name.
    pub fn node(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Node".into(),
            namespace: String::new(),
            name: name.into(),
            uid: name.into(),
            field_path: None,
        }
    }

    /// The same object, narrowed to a part such as `spec.containers{web}`.
    pub fn with_field_path(mut self, path: String) -> ObjectRef {
        self.field_path = Some(path);
        self
    }
}

/// The most identical events a recorder remembers for counting (upstream's LRU size).
const MAX_REMEMBERED: usize = 4096;
/// How many different messages of similar events (same object, type and reason)
/// make the next one a combined event (upstream's `defaultAggregateMaxEvents`).
const AGGREGATE_MAX_MESSAGES: usize = 10;
/// How long similar events are remembered after the last one (upstream's
/// `defaultAggregateIntervalInSeconds`).
const AGGREGATE_INTERVAL_MS: i64 = 600_000;
/// The prefix of a combined event's message.
const COMBINED: &str = "(combined from similar events): ";
/// How many events a recorder writes about one object at once (upstream's
/// `defaultSpamBurst`)...
const SPAM_BURST: f64 = 25.0;
/// ...and how many more a second after that (`defaultSpamQPS`: one per 5 minutes).
const SPAM_PER_SECOND: f64 = 1.0 / 300.0;

/// The events a recorder may still write about one object: a token bucket on the
/// virtual clock (upstream's `EventSourceObjectSpamFilter`).
struct SpamBucket {
    tokens: f64,
    at_ms: i64,
}

impl Default for SpamBucket {
    /// A full bucket (whenever it was last touched, it would have refilled by now).
    fn default() -> Self {
        SpamBucket {
            tokens: SPAM_BURST,
            at_ms: 0,
        }
    }
}

/// The entry under `key`, made when missing; a map that has grown to
/// [`MAX_REMEMBERED`] entries starts over (upstream's correlator caches are LRUs
/// of that size).
fn remembered<'a, V: Default>(map: &'a mut BTreeMap<String, V>, key: &str) -> &'a mut V {
    if map.len() >= MAX_REMEMBERED && !map.contains_key(key) {
        map.clear();
    }
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// The different messages similar events carried lately.
#[derive(Default)]
struct SimilarEvents {
    messages: BTreeSet<String>,
    last_ms: i64,
}

/// Writes events as one component (`kubelet`, `default-scheduler`, ...) on one host,
/// as upstream's event correlator does: an event identical to one it already wrote
/// (same object, type, reason and message) bumps that event's `count` and
/// `lastTimestamp` instead; once similar events (same object, type and reason)
/// carried ten different messages within ten minutes of each other, further ones
/// update one event whose message reads `(combined from similar events): …`; and
/// of the events about one object, 25 are written at once and one more every five
/// minutes after that, the rest dropped (their counts still add up).
pub struct Recorder {
    component: String,
    host: Option<String>,
    sequence: u64,
    /// identity → (event path, count).
    written: BTreeMap<String, (String, u64)>,
    /// Similar events by what makes them similar.
    similar: BTreeMap<String, SimilarEvents>,
    /// Each object's spam-filter bucket.
    spam: BTreeMap<String, SpamBucket>,
}

impl Recorder {
    /// A recorder for `component`, optionally on a node.
    pub fn new(component: &str, host: Option<&str>) -> Recorder {
        Recorder {
            component: component.into(),
            host: host.map(String::from),
            sequence: 0,
            written: BTreeMap::new(),
            similar: BTreeMap::new(),
            spam: BTreeMap::new(),
        }
    }

    /// Whether the spam filter lets one more event about `object` through at `now_ms`.
    fn spam_allows(&mut self, object: &str, now_ms: i64) -> bool {
        let bucket = remembered(&mut self.spam, object);
        let refill = (now_ms - bucket.at_ms).max(0) as f64 / 1000.0 * SPAM_PER_SECOND;
        bucket.tokens = (bucket.tokens + refill).min(SPAM_BURST);
        bucket.at_ms = now_ms;
        if bucket.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        true
    }

    /// Notes `message` among the similar events under `similar` at `now_ms`; whether
    /// they carried [`AGGREGATE_MAX_MESSAGES`] different messages, so this one is
    /// combined (upstream's `EventAggregate`).
    fn combines(&mut self, similar: &str, message: &str, now_ms: i64) -> bool {
        let record = remembered(&mut self.similar, similar);
        if now_ms - record.last_ms > AGGREGATE_INTERVAL_MS {
            record.messages.clear();
        }
        record.messages.insert(message.to_string());
        record.last_ms = now_ms;
        if record.messages.len() < AGGREGATE_MAX_MESSAGES {
            return false;
        }
        // The set never grows past the threshold (upstream drops an arbitrary one;
        // here the first, to stay deterministic).
        record.messages.pop_first();
        true
    }

    /// Records a `Normal` or `Warning` event with `reason` and `message`.
    pub fn event(
        &mut self,
        ctx: &mut Ctx,
        about: &ObjectRef,
        event_type: &str,
        reason: &str,
        message: &str,
    ) {
        let object = format!(
            "{}/{}/{}/{}/{}",
            about.kind, about.namespace, about.name, about.uid, about.api_version
        );
        let similar = format!("{object}/{event_type}/{reason}");
        // Identical events share an identity; combined ones share the similar key's.
        let combined;
        let (identity, message) = if self.combines(&similar, message, ctx.unix_millis()) {
            combined = format!("{COMBINED}{message}");
            (similar, combined.as_str())
        } else {
            let field_path = about.field_path.as_deref().unwrap_or("");
            (format!("{similar}/{field_path}/{message}"), message)
        };
        // Upstream counts an event before its spam filter drops it.
        let allowed = self.spam_allows(&object, ctx.unix_millis());
        if let Some((path, count)) = self.written.get_mut(&identity) {
            *count += 1;
            if !allowed {
                return;
            }
            let patch = json!({
                "count": *count,
                "lastTimestamp": ctx.timestamp(),
                "message": message,
            });
            let response = ctx.call(Request::patch(
                path.clone(),
                "application/merge-patch+json",
                patch.to_string(),
            ));
            if response.is_success() {
                return;
            }
            self.written.remove(&identity);
        }
        if !allowed {
            return;
        }
        // Upstream names events `<object>.<unix nanoseconds in hex>`.
        self.sequence += 1;
        let nanos = ctx.unix_millis() as u128 * 1_000_000 + u128::from(self.sequence % 1_000_000);
        let namespace = if about.namespace.is_empty() {
            "default"
        } else {
            &about.namespace
        };
        let now = ctx.timestamp();
        let event_name = format!("{}.{nanos:x}", about.name);
        let body = EventBody {
            api_version: "v1",
            kind: "Event",
            metadata: EventMeta {
                name: &event_name,
                namespace,
            },
            involved_object: InvolvedObject {
                kind: &about.kind,
                namespace: Some(about.namespace.as_str()).filter(|ns| !ns.is_empty()),
                name: &about.name,
                uid: &about.uid,
                api_version: &about.api_version,
                field_path: about.field_path.as_deref(),
            },
            reason,
            message,
            source: EventSource {
                component: &self.component,
                host: self.host.as_deref(),
            },
            first_timestamp: &now,
            last_timestamp: &now,
            count: 1,
            type_: event_type,
            event_time: None,
            reporting_component: &self.component,
            reporting_instance: self.host.as_deref().unwrap_or(""),
        };
        let body = serde_json::to_string(&body).expect("events serialise");
        let response = ctx.call(Request::post(
            format!("/api/v1/namespaces/{namespace}/events"),
            body,
        ));
        if response.status == 201 {
            let path = format!("/api/v1/namespaces/{namespace}/events/{event_name}");
            *remembered(&mut self.written, &identity) = (path, 1);
        }
    }
}

/// The Event a recorder posts, written straight to JSON in the field order
/// client-go's recorder sends.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventBody<'a> {
    api_version: &'a str,
    kind: &'a str,
    metadata: EventMeta<'a>,
    involved_object: InvolvedObject<'a>,
    reason: &'a str,
    message: &'a str,
    source: EventSource<'a>,
    first_timestamp: &'a str,
    last_timestamp: &'a str,
    count: u32,
    #[serde(rename = "type")]
    type_: &'a str,
    /// Always `null`: the core/v1 recorder leaves it unset.
    event_time: Option<&'a str>,
    reporting_component: &'a str,
    reporting_instance: &'a str,
}

#[derive(Serialize)]
struct EventMeta<'a> {
    name: &'a str,
    namespace: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvolvedObject<'a> {
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    name: &'a str,
    uid: &'a str,
    api_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field_path: Option<&'a str>,
}

#[derive(Serialize)]
struct EventSource<'a> {
    component: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::watch::{WatchEvent, WatchId};
    use crate::sim::{Component, World};

    /// Records one event per message when it starts.
    struct Emitter {
        recorder: Recorder,
        /// (reason, message) of each event.
        events: Vec<(String, String)>,
        /// Events recorded five minutes later.
        later: Vec<(String, String)>,
    }

    impl Emitter {
        fn record(&mut self, ctx: &mut Ctx, events: &[(String, String)]) {
            let about = ObjectRef::node("node-1");
            for (reason, message) in events {
                self.recorder.event(ctx, &about, "Warning", reason, message);
            }
        }
    }

    impl Component for Emitter {
        fn name(&self) -> &str {
            "emitter"
        }
        fn start(&mut self, ctx: &mut Ctx) {
            self.record(ctx, &self.events.clone());
            if !self.later.is_empty() {
                ctx.set_timer(300_000, 0);
            }
        }
        fn on_event(&mut self, _: WatchId, _: &WatchEvent, _: &mut Ctx) {}
        fn on_timer(&mut self, _: u64, ctx: &mut Ctx) {
            self.record(ctx, &self.later.clone());
        }
    }

    /// (message, count) of every event, oldest first.
    fn events(world: &mut World) -> Vec<(String, u64)> {
        let list = world
            .call("test", &Request::get("/api/v1/namespaces/default/events"))
            .body_json();
        let mut events: Vec<(String, String, u64)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["metadata"]["name"].as_str().unwrap().to_string(),
                    e["message"].as_str().unwrap().to_string(),
                    e["count"].as_u64().unwrap(),
                )
            })
            .collect();
        events.sort();
        events.into_iter().map(|(_, m, c)| (m, c)).collect()
    }

    #[test]
    fn the_tenth_different_message_of_similar_events_starts_a_combined_event() {
        let mut world = World::new(1);
        let messages: Vec<String> = (1..=12)
            .map(|i| format!("volume vol-{i} not found"))
            .chain(["volume vol-1 not found".to_string()])
            .collect();
        world.add_component(Box::new(Emitter {
            recorder: Recorder::new("kubelet", Some("node-1")),
            events: messages
                .into_iter()
                .map(|m| ("FailedMount".to_string(), m))
                .collect(),
            later: Vec::new(),
        }));
        world.settle(1_000);
        let events = events(&mut world);
        let single: Vec<(String, u64)> = (1..=9)
            .map(|i| (format!("volume vol-{i} not found"), 1))
            .collect();
        assert_eq!(events[..9], single[..]);
        // The 10th, 11th and 12th update one combined event, which keeps the
        // newest message; vol-1 was dropped from the set, so it counts as new.
        assert_eq!(
            events[9..],
            [(
                "(combined from similar events): volume vol-1 not found".to_string(),
                4
            )]
        );
    }

    #[test]
    fn an_object_gets_25_events_at_once_and_the_rest_only_add_to_counts() {
        let mut world = World::new(1);
        let distinct = (1..=24).map(|i| (format!("Reason{i:02}"), "m".to_string()));
        let repeated = (0..10).map(|_| ("Again".to_string(), "same".to_string()));
        world.add_component(Box::new(Emitter {
            recorder: Recorder::new("kubelet", Some("node-1")),
            events: distinct.chain(repeated).collect(),
            later: vec![("Again".to_string(), "same".to_string())],
        }));
        world.settle(1_000);
        // 24 distinct reasons and the first "Again" take the burst; the nine
        // repeats after it are dropped but counted.
        let mut expected = vec![("m".to_string(), 1); 24];
        expected.push(("same".to_string(), 1));
        assert_eq!(events(&mut world), expected);
        // Five minutes refill one token: the next repeat writes the count so far.
        world.advance(300_000);
        expected[24].1 = 11;
        assert_eq!(events(&mut world), expected);
    }
}
