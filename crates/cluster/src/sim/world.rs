//! The world: one virtual clock, one seeded RNG, one event queue, one trace, the
//! API server and the components. Nothing here reads the wall clock.

use std::collections::BTreeMap;

use super::clock::{Duration, VirtualTime};
use super::component::{Component, Ctx};
use super::queue::EventQueue;
use super::rng::SeededRng;
use super::shared_objects::SharedObjects;
use super::trace::{Trace, TraceId, TraceKind};
use super::watch_receivers::WatchReceivers;
use crate::api::request::{Request, Response};
use crate::apiserver::watch::{EventType, WatchEvent, WatchId};
use crate::apiserver::{ApiServer, Env};
use crate::session_affinity::SessionAffinity;

/// How often watches that allow bookmarks receive one, in virtual milliseconds.
pub const BOOKMARK_INTERVAL: Duration = 60_000;

/// The smallest and largest delay between a write and its watch delivery.
pub const WATCH_DELAY_MS: (u64, u64) = (1, 10);

/// Something due at a point in virtual time.
enum Occurrence {
    /// Hand the oldest queued event of a watch to its owner.
    Deliver {
        watch: WatchId,
        cause: Option<TraceId>,
    },
    /// Fire a component's timer.
    Timer { component: usize, key: u64 },
}

/// An occurrence and whether it is background work (heartbeats and what they cause),
/// which never keeps the cluster from being quiet.
struct Scheduled {
    occurrence: Occurrence,
    background: bool,
}

/// Everything but the components, so a component can borrow it while it runs.
pub struct Core {
    pub(super) now: VirtualTime,
    pub(super) rng: SeededRng,
    queue: EventQueue<Scheduled>,
    /// How many queued occurrences are not background work.
    foreground_pending: usize,
    trace: Trace,
    api: ApiServer,
    watch_receivers: WatchReceivers,
    /// Each component's process: its own name, or the program it runs in
    /// (`kube-controller-manager`), whose informers share their watches.
    processes: Vec<String>,
    /// The last scheduled delivery per watch, so each watch stays in order.
    last_delivery: BTreeMap<WatchId, VirtualTime>,
    /// Objects components decoded, shared between their caches.
    pub(super) shared_objects: SharedObjects,
}

impl Core {
    /// Makes an API call, traces it, and schedules deliveries of the watch events it caused.
    pub(super) fn call(
        &mut self,
        actor: &str,
        component: Option<usize>,
        cause: Option<TraceId>,
        background: bool,
        req: &Request,
    ) -> Response {
        let mut env = Env {
            now: self.now,
            rng: &mut self.rng,
        };
        let outcome = self.api.handle(req, &mut env);
        let (verb, resource, subresource, namespace, name) = match &outcome.request {
            Some(rr) => (
                rr.verb.to_string(),
                if rr.group.is_empty() {
                    rr.resource.clone()
                } else {
                    format!("{}.{}", rr.resource, rr.group)
                },
                rr.subresource.clone().unwrap_or_default(),
                rr.namespace.clone().unwrap_or_default(),
                rr.name.clone().unwrap_or_default(),
            ),
            None => (
                req.method.as_str().to_ascii_lowercase(),
                String::new(),
                String::new(),
                String::new(),
                req.path.clone(),
            ),
        };
        let id = self.trace.record(
            self.now,
            cause,
            TraceKind::Call {
                actor: actor.to_string(),
                verb,
                resource,
                subresource,
                namespace,
                name,
                code: outcome.response.status,
                resource_version: outcome.resource_version,
            },
        );
        if let (Some(watch), Some(owner)) = (outcome.response.watch_id(), component) {
            self.watch_receivers.open(watch, actor, owner);
        }
        self.schedule_deliveries(Some(id), background);
        outcome.response
    }

    /// Schedules one delivery per event queued on a component-owned watch. A
    /// write reaches every watcher after the same delay, as the API server's
    /// watch cache fans an event out at once: no component sees the effect of a
    /// write (another component's reaction) before the write itself.
    fn schedule_deliveries(&mut self, cause: Option<TraceId>, background: bool) {
        let mut delay = None;
        for watch in self.api.drain_watch_notifications() {
            if self.watch_receivers.get(watch).is_none() {
                continue; // an outside reader (kubectl, the UI) takes these itself
            }
            let delay =
                *delay.get_or_insert_with(|| self.rng.between(WATCH_DELAY_MS.0, WATCH_DELAY_MS.1));
            let earliest = self.last_delivery.get(&watch).copied().unwrap_or_default();
            let at = self.now.after(delay).max(earliest);
            self.last_delivery.insert(watch, at);
            self.push(at, Occurrence::Deliver { watch, cause }, background);
        }
    }

    /// Joins `component` to the watch its process's informers share for `stream`,
    /// or opens that watch with `req`, traced as the process.
    pub(super) fn join_watch(
        &mut self,
        component: usize,
        stream: &str,
        cause: Option<TraceId>,
        background: bool,
        req: &Request,
    ) -> Option<WatchId> {
        let process = self.processes[component].clone();
        if let Some(watch) = self.watch_receivers.join(&process, stream, component) {
            return Some(watch);
        }
        let watch = self
            .call(&process, Some(component), cause, background, req)
            .watch_id()?;
        self.watch_receivers.share(&process, stream, watch);
        Some(watch)
    }

    /// When the soonest occurrence or Event expiry is due.
    fn next_due(&self) -> Option<VirtualTime> {
        [self.queue.next_time(), self.api.next_event_expiry()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the soonest Event expiry if it is due no later than every queued
    /// occurrence: etcd deletes the Events whose lease ran out (background work,
    /// caused by no call). Returns whether it ran.
    fn expire_events_first(&mut self) -> bool {
        let Some(expiry) = self.api.next_event_expiry() else {
            return false;
        };
        if self.queue.next_time().is_some_and(|next| next < expiry) {
            return false;
        }
        self.now = self.now.max(expiry);
        self.api.expire_events(self.now);
        self.schedule_deliveries(None, true);
        true
    }

    /// The calendar instant virtual time 0 stands for.
    pub(super) fn epoch_unix_ms(&self) -> i64 {
        self.api.epoch_unix_ms()
    }

    fn push(&mut self, at: VirtualTime, occurrence: Occurrence, background: bool) {
        if !background {
            self.foreground_pending += 1;
        }
        self.queue.push(
            at,
            Scheduled {
                occurrence,
                background,
            },
        );
    }

    pub(super) fn schedule_timer(
        &mut self,
        component: usize,
        after: Duration,
        key: u64,
        background: bool,
    ) {
        let at = self.now.after(after);
        self.push(at, Occurrence::Timer { component, key }, background);
    }
}

/// A deterministic simulated cluster.
pub struct World {
    core: Core,
    /// Components by index; a stopped one leaves `None` so indexes stay valid.
    components: Vec<Option<Box<dyn Component>>>,
    seed: u64,
    /// kube-proxy's session affinity memory (node-local, not in snapshots).
    session_affinity: SessionAffinity,
}

impl World {
    /// A world whose every random choice follows from `seed`.
    pub fn new(seed: u64) -> Self {
        Self::with_api_server(seed, ApiServer::new())
    }

    /// A world around a configured API server (e.g. a small watch history).
    pub fn with_api_server(seed: u64, api: ApiServer) -> Self {
        World {
            core: Core {
                now: VirtualTime(0),
                rng: SeededRng::new(seed),
                queue: EventQueue::default(),
                foreground_pending: 0,
                trace: Trace::default(),
                api,
                watch_receivers: WatchReceivers::default(),
                processes: Vec::new(),
                last_delivery: BTreeMap::new(),
                shared_objects: SharedObjects::default(),
            },
            components: Vec::new(),
            seed,
            session_affinity: SessionAffinity::default(),
        }
    }

    /// The world's state as JSON: seed, virtual time, RNG state and every stored object.
    /// Components and the trace are not included (their owner re-adds components).
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "KubecraftSnapshot",
            "version": 1,
            "seed": self.seed,
            "now": self.core.now.millis(),
            "rng": self.core.rng.state(),
            "cluster": self.core.api.snapshot(),
        })
    }

    /// A world continuing from a snapshot; the error says what is wrong with it.
    pub fn from_snapshot(snapshot: &serde_json::Value) -> Result<World, String> {
        if snapshot.get("kind").and_then(serde_json::Value::as_str) != Some("KubecraftSnapshot") {
            return Err("not a kubecraft snapshot".into());
        }
        if snapshot.get("version").and_then(serde_json::Value::as_u64) != Some(1) {
            return Err("unsupported snapshot version".into());
        }
        let number = |key: &str| {
            snapshot
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .ok_or(format!("the snapshot has no {key}"))
        };
        let seed = number("seed")?;
        let now = number("now")?;
        let rng: [u64; 4] =
            serde_json::from_value(snapshot.get("rng").cloned().unwrap_or_default())
                .map_err(|_| "the snapshot's rng state is invalid".to_string())?;
        let cluster = snapshot.get("cluster").unwrap_or(&serde_json::Value::Null);
        let api = ApiServer::from_snapshot(cluster, VirtualTime(now))?;
        let mut world = World::with_api_server(seed, api);
        world.core.now = VirtualTime(now);
        world.core.rng = SeededRng::from_state(rng);
        Ok(world)
    }

    /// The seed this world was made with.
    /// Restarts the random sequence from `seed` (`sim seed`).
    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.core.rng = SeededRng::new(seed);
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current virtual time.
    pub fn now(&self) -> VirtualTime {
        self.core.now
    }

    /// The trace so far (its newest entries; see [`Trace`]).
    pub fn trace(&self) -> &Trace {
        &self.core.trace
    }

    /// Keeps the newest `capacity` trace entries from now on.
    pub fn set_trace_capacity(&mut self, capacity: usize) {
        self.core.trace.set_capacity(capacity);
    }

    /// The API server (read-only: writes go through [`World::call`]).
    pub fn api(&self) -> &ApiServer {
        &self.core.api
    }

    /// Makes an API request from outside the simulation (kubectl, the UI), traced as `actor`.
    pub fn call(&mut self, actor: &str, req: &Request) -> Response {
        self.core.call(actor, None, None, false, req)
    }

    /// Takes the events queued on a watch opened with [`World::call`].
    pub fn take_watch_events(&mut self, watch: WatchId) -> Vec<WatchEvent> {
        self.core.api.take_watch_events(watch, self.core.now)
    }

    /// A random number below `n` from the world's seeded RNG, for a choice made
    /// outside any component (kube-proxy's pick of a Service endpoint).
    pub fn random_below(&mut self, n: u64) -> u64 {
        self.core.rng.below(n)
    }

    /// Records a line a container printed now in answer to a request (its access
    /// log, node-local state rather than an API object); `kubectl logs` shows it.
    pub fn record_access(&mut self, pod_uid: &str, container: &str, line: String) {
        let now = self.core.now;
        self.core.api.record_access(pod_uid, container, now, line);
    }

    /// kube-proxy's memory of which endpoint each client reached, for Services
    /// with `sessionAffinity: ClientIP`.
    pub fn session_affinity(&mut self) -> &mut SessionAffinity {
        &mut self.session_affinity
    }

    /// Closes a watch opened with [`World::call`].
    pub fn close_watch(&mut self, watch: WatchId) {
        self.core.api.close_watch(watch);
    }

    /// Adds a component and starts it.
    pub fn add_component(&mut self, component: Box<dyn Component>) {
        let process = component.name().to_string();
        self.add_component_in(&process, component);
    }

    /// Adds a component that runs in `process` (e.g. one controller of
    /// `kube-controller-manager`) and starts it: its informers share their
    /// watches with the process's other components.
    pub fn add_component_in(&mut self, process: &str, component: Box<dyn Component>) {
        let index = self.components.len();
        self.components.push(Some(component));
        self.core.processes.push(process.to_string());
        self.with_component(index, None, false, |c, ctx| c.start(ctx));
    }

    /// Stops the component named `name` and closes its watches; false if none runs.
    pub fn remove_component(&mut self, name: &str) -> bool {
        let Some(index) = self
            .components
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.name() == name))
        else {
            return false;
        };
        self.components[index] = None;
        for watch in self.core.watch_receivers.remove_component(index) {
            self.core.last_delivery.remove(&watch);
            self.core.api.close_watch(watch);
        }
        true
    }

    /// Whether a component named `name` is running.
    pub fn has_component(&self, name: &str) -> bool {
        self.components.iter().flatten().any(|c| c.name() == name)
    }

    fn with_component(
        &mut self,
        index: usize,
        cause: Option<TraceId>,
        background: bool,
        f: impl FnOnce(&mut dyn Component, &mut Ctx),
    ) {
        let Some(component) = self.components[index].as_mut() else {
            return; // stopped: its timers and deliveries fall away
        };
        let mut ctx = Ctx {
            actor: component.name().to_string(),
            core: &mut self.core,
            component: index,
            cause,
            background,
        };
        f(component.as_mut(), &mut ctx);
    }

    /// How many occurrences of foreground work are scheduled (background heartbeats not counted).
    pub fn pending_events(&self) -> usize {
        self.core.foreground_pending
    }

    /// When the next occurrence (or Event expiry) is due, if any.
    pub fn next_event_time(&self) -> Option<VirtualTime> {
        self.core.next_due()
    }

    /// Runs the earliest occurrence (or Event expiry); returns false when nothing is pending.
    pub fn step(&mut self) -> bool {
        if self.core.expire_events_first() {
            return true;
        }
        let Some((time, scheduled)) = self.core.queue.pop() else {
            return false;
        };
        let background = scheduled.background;
        if !background {
            self.core.foreground_pending -= 1;
        }
        self.core.now = self.core.now.max(time);
        match scheduled.occurrence {
            Occurrence::Deliver { watch, cause } => {
                let Some(event) = self.core.api.pop_watch_event(watch) else {
                    return true;
                };
                let Some(receivers) = self.core.watch_receivers.get(watch) else {
                    return true;
                };
                let actor = receivers.actor.clone();
                let owners = receivers.components.clone();
                if event.event_type == EventType::Error {
                    self.core.watch_receivers.retire(watch);
                }
                let resource = self.core.api.watch_resource_name(watch).unwrap_or_default();
                let (namespace, name) = match event.key.split_once('/') {
                    Some((ns, name)) => (ns.to_string(), name.to_string()),
                    None => (String::new(), event.key.to_string()),
                };
                let delivery = self.core.trace.record(
                    self.core.now,
                    cause,
                    TraceKind::Delivery {
                        actor,
                        event: event.event_type.as_str().to_string(),
                        resource,
                        namespace,
                        name,
                        resource_version: event.rv,
                    },
                );
                for owner in owners {
                    self.with_component(owner, Some(delivery), background, |c, ctx| {
                        c.on_event(watch, &event, ctx)
                    });
                }
            }
            Occurrence::Timer { component, key } => {
                self.with_component(component, None, background, |c, ctx| c.on_timer(key, ctx));
            }
        }
        true
    }

    /// Moves virtual time forward by `d`, running everything due on the way and
    /// sending watch bookmarks each [`BOOKMARK_INTERVAL`].
    pub fn advance(&mut self, d: Duration) {
        self.advance_to(self.core.now.after(d));
    }

    /// Moves virtual time to `target` (the browser calls this with wall time × speed).
    pub fn advance_to(&mut self, target: VirtualTime) {
        loop {
            let next_bookmark =
                VirtualTime((self.core.now.millis() / BOOKMARK_INTERVAL + 1) * BOOKMARK_INTERVAL);
            match self.core.next_due() {
                Some(t) if t <= target && t < next_bookmark => {
                    self.step();
                }
                _ if next_bookmark <= target => {
                    self.core.now = next_bookmark;
                    self.core.api.send_bookmarks();
                    self.core.schedule_deliveries(None, true);
                }
                _ => break,
            }
        }
        self.core.now = self.core.now.max(target);
    }

    /// Runs until no foreground work is pending (background heartbeats run along in
    /// time order but never keep it busy); false if work remains `horizon` past now.
    pub fn settle(&mut self, horizon: Duration) -> bool {
        let limit = self.core.now.after(horizon);
        while self.core.foreground_pending > 0 {
            match self.core.queue.next_time() {
                Some(t) if t <= limit => {
                    self.step();
                }
                _ => return false,
            }
        }
        true
    }
}
