//! Components — controllers, the scheduler, kubelets — react to watch events and
//! timers and act only through [`Ctx::call`], which goes through the API server and
//! is traced as the component, caused by what it was handling.

use super::clock::{Duration, VirtualTime};
use super::rng::SeededRng;
use super::trace::TraceId;
use super::world::Core;
use crate::api::request::{Request, Response};
use crate::apiserver::watch::{WatchEvent, WatchId};

/// A simulated actor in the cluster.
pub trait Component {
    /// The name the trace shows, e.g. `replicaset-controller` or `kubelet/node-1`.
    fn name(&self) -> &str;
    /// Called once when added to the world: list and watch what it needs.
    fn start(&mut self, ctx: &mut Ctx);
    /// A watch event arrived on one of the component's watches.
    fn on_event(&mut self, watch: WatchId, event: &WatchEvent, ctx: &mut Ctx);
    /// A timer the component set has fired.
    fn on_timer(&mut self, key: u64, ctx: &mut Ctx);
}

/// What a component may touch while handling something.
pub struct Ctx<'a> {
    pub(super) core: &'a mut Core,
    pub(super) component: usize,
    pub(super) actor: String,
    pub(super) cause: Option<TraceId>,
    /// Whether this is background work; calls and timers made now inherit it.
    pub(super) background: bool,
}

impl Ctx<'_> {
    /// Makes an API request as this component; watches it opens deliver to it.
    pub fn call(&mut self, req: Request) -> Response {
        self.core.call(
            &self.actor,
            Some(self.component),
            self.cause,
            self.background,
            &req,
        )
    }

    /// Makes an API request on this component's behalf as another actor (the
    /// DNS lookup a container makes is CoreDNS's read of the Service).
    pub fn call_as(&mut self, actor: &str, req: Request) -> Response {
        self.core
            .call(actor, None, self.cause, self.background, &req)
    }

    /// Follows `stream` through the watch this component's process shares for it
    /// (one watch per stream for all of kube-controller-manager's informers),
    /// opening it with `req` if no component of the process has yet.
    pub fn join_watch(&mut self, stream: &str, req: Request) -> Option<WatchId> {
        self.core
            .join_watch(self.component, stream, self.cause, self.background, &req)
    }

    /// The current virtual time.
    pub fn now(&self) -> VirtualTime {
        self.core.now
    }

    /// Now as a `metav1.Time` (seconds): `2026-01-01T00:00:05Z`.
    pub fn timestamp(&self) -> String {
        self.core.now.rfc3339(self.core.epoch_unix_ms())
    }

    /// Now as a typed `metav1.Time` (whole seconds, as the API stores it).
    pub fn time(&self) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
        let seconds = self.unix_millis().div_euclid(1000);
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        )
    }

    /// Now as a `metav1.MicroTime`: `2026-01-01T00:00:05.250000Z`.
    pub fn micro_timestamp(&self) -> String {
        self.core.now.rfc3339_micros(self.core.epoch_unix_ms())
    }

    /// Now in Unix milliseconds.
    pub fn unix_millis(&self) -> i64 {
        self.core.now.unix_millis(self.core.epoch_unix_ms())
    }

    /// The world's random number generator.
    pub fn rng(&mut self) -> &mut SeededRng {
        &mut self.core.rng
    }

    /// Calls [`Component::on_timer`] with `key` after `after` milliseconds, as
    /// foreground work unless this is background work.
    pub fn set_timer(&mut self, after: Duration, key: u64) {
        self.core
            .schedule_timer(self.component, after, key, self.background);
    }

    /// Like [`Ctx::set_timer`], for periodic work (heartbeats, resyncs) that never
    /// keeps the cluster from being quiet.
    pub fn set_background_timer(&mut self, after: Duration, key: u64) {
        self.core.schedule_timer(self.component, after, key, true);
    }

    /// Marks what follows as real work although a heartbeat or periodic check
    /// found it (a node judged unreachable): its calls and timers keep the
    /// cluster busy.
    pub fn become_foreground(&mut self) {
        self.background = false;
    }

    /// Whether this is background work.
    pub fn is_background(&self) -> bool {
        self.background
    }

    /// The object `key` at resourceVersion `rv`, decoded once for every component
    /// that caches it (see [`SharedObjects`](super::shared_objects::SharedObjects)).
    pub fn shared_object<T: std::any::Any + Send + Sync>(
        &mut self,
        rv: u64,
        key: &str,
        decode: impl FnOnce() -> Option<T>,
    ) -> Option<std::sync::Arc<T>> {
        self.core.shared_objects.get_or_decode(rv, key, decode)
    }
}
