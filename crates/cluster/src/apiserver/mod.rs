//! The API server: the one door into the cluster.
//!
//! [`ApiServer::handle`] takes a transport-neutral [`Request`] and returns a
//! [`Response`] with upstream's paths, verbs, status codes, `metav1.Status` errors and
//! JSON shapes. Time and randomness come from the caller's [`Env`], never from the
//! wall clock.

mod admission;
mod allocators;
pub mod authorization;
mod commit;
mod config_history;
pub mod crd;
mod create;
mod delete;
mod discovery;
pub mod event_ttl;
mod event_view;
mod fields;
mod limit_ranger;
mod metrics;
mod openapi;
mod pod_log;
mod quota_admission;
mod read;
pub mod registry;
pub mod route;
mod snapshot;
pub mod storage;
mod subresources;
pub mod system_priority_classes;
mod table_watch;
pub mod tables;
mod update;
pub mod watch;
mod watching;

use std::sync::Arc;

use serde_json::json;

use crate::api::builtin::builtin_resources;
use crate::api::query::FieldValidation;
use crate::api::request::{Method, Request, Response};
use crate::api::resources::ResourceInfo;
use crate::api::status::StatusError;
use crate::kubelet::access_log::AccessLog;
use crate::sim::clock::{VirtualTime, DEFAULT_EPOCH_UNIX_MS};
use crate::sim::rng::SeededRng;
use allocators::Allocators;
use event_ttl::EventLeases;
use registry::Strategy;
use route::{ResourceRequest, Route};
use storage::{History, ResourceTable};
use table_watch::TableWatches;
use watch::{WatchEvent, WatchHub, WatchId};

/// A `Warning` header value as upstream writes it: code 299, agent `-`, quoted text.
fn warning_header(text: &str) -> String {
    format!("299 - {:?}", text)
}

/// Time and randomness for one request, lent by the world.
pub struct Env<'a> {
    pub now: VirtualTime,
    pub rng: &'a mut SeededRng,
}

/// A served resource: its facts, its strategy and its storage.
pub struct Served {
    pub info: Arc<ResourceInfo>,
    pub strategy: Box<dyn Strategy>,
    pub table: ResourceTable,
    /// False once a CustomResourceDefinition that defined it is gone.
    pub active: bool,
    /// For custom resources: the defining CRD and how this version is served.
    pub custom: Option<crd::CustomVersion>,
    /// For kinds whose Table rows are worked out on store: how.
    pub stored_row: Option<fn(&serde_json::Value) -> tables::RowFacts>,
}

impl Served {
    /// Whether requests and discovery may name this resource.
    fn addressable(&self) -> bool {
        self.active && self.custom.as_ref().is_none_or(|c| c.served)
    }
}

/// What handling a request produced, for the trace.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub response: Response,
    /// The resource request, when the path named one.
    pub request: Option<ResourceRequest>,
    /// The resourceVersion a successful write produced.
    pub resource_version: Option<u64>,
}

/// How many changes the watch history keeps by default.
pub const DEFAULT_HISTORY_CAPACITY: usize = 10_000;

/// The address the API server advertises: the default cluster's control-plane
/// node, as in a kind cluster.
pub const ADVERTISE_ADDRESS: &str = "172.18.0.2";

/// The API server's secure port (the `kubernetes` Service's target port).
pub const SECURE_PORT: i32 = 6443;

/// The warning every request for core/v1 Endpoints gets since Kubernetes 1.33.
const ENDPOINTS_DEPRECATION: &str =
    "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice";

/// The API server's state: every served resource, the global resourceVersion, the
/// change history and the open watches.
pub struct ApiServer {
    served: Vec<Served>,
    rv: u64,
    history: History,
    watches: WatchHub,
    /// The watches that asked for Tables.
    table_watches: TableWatches,
    epoch_unix_ms: i64,
    allocators: Allocators,
    /// The resource id of `namespaces`, consulted on every namespaced create.
    namespaces: usize,
    /// The resource id of `customresourcedefinitions`, whose writes change what is served.
    definitions: usize,
    /// The resource id of core/v1 `events`, whose writes expire.
    events: usize,
    /// The resource ids of `configmaps` and `secrets`, whose versions containers read.
    config_resources: [usize; 2],
    /// When each ConfigMap and Secret took each version, for containers' logs.
    config_history: config_history::ConfigHistory,
    /// When stored Events expire (`--event-ttl`).
    event_leases: EventLeases,
    /// The virtual time of the request being handled.
    now: VirtualTime,
    /// The rv the last write produced, reported in [`Outcome`].
    last_write_rv: Option<u64>,
    /// The request's `fieldValidation` directive.
    field_validation: FieldValidation,
    /// Whether the request is a PATCH (whose decode errors carry no kind prefix).
    patching: bool,
    /// `Warning` headers for the response being made.
    warnings: Vec<String>,
    /// The RBAC kinds' resource ids.
    rbac: authorization::RbacResources,
    /// The RBAC policy parsed from storage; `None` until needed after a change.
    policy: Option<authorization::policy::Policy>,
    /// What containers printed in answer to requests (node-local, like the rest of
    /// their logs, which the server works out when asked).
    access_log: AccessLog,
}

impl Default for ApiServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiServer {
    /// A server with every built-in resource and the `default`, `kube-system`,
    /// `kube-public` and `kube-node-lease` namespaces.
    pub fn new() -> Self {
        Self::with_history_capacity(DEFAULT_HISTORY_CAPACITY)
    }

    /// A server whose watch history keeps `capacity` changes.
    pub fn with_history_capacity(capacity: usize) -> Self {
        let mut server = Self::without_objects(capacity);
        server.bootstrap();
        server
    }

    /// A server serving every built-in resource but storing nothing yet.
    fn without_objects(capacity: usize) -> Self {
        let mut server = ApiServer {
            served: Vec::new(),
            rv: 0,
            history: History::new(capacity),
            watches: WatchHub::default(),
            table_watches: TableWatches::new(),
            epoch_unix_ms: DEFAULT_EPOCH_UNIX_MS,
            allocators: Allocators::default(),
            namespaces: 0,
            definitions: 0,
            events: 0,
            config_resources: [0, 0],
            config_history: config_history::ConfigHistory::default(),
            event_leases: EventLeases::default(),
            now: VirtualTime(0),
            last_write_rv: None,
            field_validation: FieldValidation::Warn,
            patching: false,
            warnings: Vec::new(),
            rbac: authorization::RbacResources::default(),
            policy: None,
            access_log: AccessLog::default(),
        };
        for info in builtin_resources() {
            let strategy = registry::builtin_strategy(&info.group, &info.plural);
            server.serve(info, strategy);
        }
        server.namespaces = server
            .resource_id("", "v1", "namespaces")
            .expect("namespaces are built in");
        server.definitions = server
            .resource_id("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .expect("CRDs are built in");
        server.events = server
            .resource_id("", "v1", "events")
            .expect("events are built in");
        server.config_resources = ["configmaps", "secrets"].map(|plural| {
            server
                .resource_id("", "v1", plural)
                .expect("ConfigMaps and Secrets are built in")
        });
        let rbac = |plural| {
            server
                .resource_id("rbac.authorization.k8s.io", "v1", plural)
                .expect("RBAC is built in")
        };
        server.rbac = authorization::RbacResources {
            cluster_roles: rbac("clusterroles"),
            roles: rbac("roles"),
            cluster_bindings: rbac("clusterrolebindings"),
            bindings: rbac("rolebindings"),
        };
        server
    }

    /// Starts serving a resource (built-in or custom).
    pub fn serve(&mut self, info: ResourceInfo, strategy: Box<dyn Strategy>) -> usize {
        let indexed: Vec<usize> = if info.group.is_empty() && info.plural == "pods" {
            info.selectable_fields
                .iter()
                .position(|f| f == "spec.nodeName")
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        let stored_row = match tables::printer_for(&info.group, &info.plural).row {
            tables::RowFn::Stored(facts) => Some(facts),
            tables::RowFn::Value(_) => None,
        };
        let id = self.served.len();
        self.served.push(Served {
            stored_row,
            info: Arc::new(info),
            strategy,
            table: ResourceTable::with_field_indexes(&indexed),
            active: true,
            custom: None,
        });
        id
    }

    /// What every cluster starts with: the four system namespaces, the
    /// `kubernetes` Service at the first address of the service CIDR with its
    /// Endpoints and EndpointSlice (the server's own address), the
    /// bootstrap RBAC policy and the system PriorityClasses, created by the
    /// server's own privileged client.
    fn bootstrap(&mut self) {
        let mut rng = SeededRng::new(0);
        let mut env = Env {
            now: VirtualTime(0),
            rng: &mut rng,
        };
        let loopback = authorization::bootstrap::loopback_user();
        let mut create = |server: &mut ApiServer, path: &str, body: String| {
            let request = Request::post(path, body).as_user(loopback.clone());
            let outcome = server.handle(&request, &mut env);
            debug_assert_eq!(
                outcome.response.status,
                201,
                "{}",
                outcome.response.body_text()
            );
        };
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            let body =
                format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#);
            create(self, "/api/v1/namespaces", body);
        }
        let kubernetes = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","labels":{"component":"apiserver","provider":"kubernetes"}},"spec":{"clusterIP":"10.96.0.1","ports":[{"name":"https","port":443,"protocol":"TCP","targetPort":6443}]}}"#;
        create(
            self,
            "/api/v1/namespaces/default/services",
            kubernetes.to_string(),
        );
        // Its endpoints, as the API server's endpoint reconciler writes them.
        let endpoints = json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": ADVERTISE_ADDRESS}],
                "ports": [{"name": "https", "port": SECURE_PORT, "protocol": "TCP"}]}]});
        create(
            self,
            "/api/v1/namespaces/default/endpoints",
            endpoints.to_string(),
        );
        let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "kubernetes",
                "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ADVERTISE_ADDRESS], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": SECURE_PORT, "protocol": "TCP"}]});
        create(
            self,
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            slice.to_string(),
        );
        for (collection, object) in authorization::bootstrap::objects() {
            create(self, collection, object.to_string());
        }
        for class in &system_priority_classes::SYSTEM_PRIORITY_CLASSES {
            let collection = "/apis/scheduling.k8s.io/v1/priorityclasses";
            create(self, collection, class.object().to_string());
        }
    }

    /// Every served resource's facts, in serving order.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceInfo> {
        self.served
            .iter()
            .filter(|s| s.addressable())
            .map(|s| s.info.as_ref())
    }

    /// The resource id of core/v1 `configmaps` or `secrets` (by plural), whose
    /// versions `config_history.rs` keeps.
    fn config_resource(&self, plural: &str) -> Option<usize> {
        match plural {
            "configmaps" => Some(self.config_resources[0]),
            "secrets" => Some(self.config_resources[1]),
            _ => None,
        }
    }

    /// The resource id of (group, version, plural).
    pub fn resource_id(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.served.iter().position(|s| {
            s.addressable()
                && s.info.plural == plural
                && s.info.group == group
                && s.info.version == version
        })
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// The instant virtual time 0 stands for, in Unix milliseconds.
    pub fn epoch_unix_ms(&self) -> i64 {
        self.epoch_unix_ms
    }

    /// Records a line a container printed in answer to a request at `now` (see
    /// [`AccessLog`]); `kubectl logs` shows it in the container's run.
    pub fn record_access(
        &mut self,
        pod_uid: &str,
        container: &str,
        now: VirtualTime,
        line: String,
    ) {
        let at = now.unix_millis(self.epoch_unix_ms);
        self.access_log.record(pod_uid, container, at, line);
    }

    /// How many objects of a resource are stored.
    pub fn object_count(&self, resource: usize) -> usize {
        self.served[resource].table.len()
    }

    /// Drops watch history at or below `rv`, as an etcd compaction does.
    pub fn compact(&mut self, rv: u64) {
        self.history.compact(rv);
    }

    /// When the soonest Event lease runs out, if any Event is stored.
    pub fn next_event_expiry(&self) -> Option<VirtualTime> {
        self.event_leases.next_expiry()
    }

    /// Deletes the Events whose lease ran out by `now`, as etcd does (no API call;
    /// watchers see them DELETED). Returns how many were deleted.
    pub fn expire_events(&mut self, now: VirtualTime) -> usize {
        self.now = now;
        let mut deleted = 0;
        for lease in self.event_leases.take_expired(now) {
            let table = &self.served[self.events].table;
            let Some(stored) = table.get(&lease.key).filter(|o| o.rv == lease.rv) else {
                continue; // written again since (a later lease holds it) or deleted
            };
            let last = stored.value();
            self.finish_delete(self.events, last);
            deleted += 1;
        }
        deleted
    }

    /// Removes and returns the events queued on a watch, as Tables printed at `now`
    /// if the watch asked for them.
    pub fn take_watch_events(&mut self, id: WatchId, now: VirtualTime) -> Vec<WatchEvent> {
        let mut events = self.watches.take(id);
        if self.table_watches.contains_key(&id) {
            self.tabulate(id, &mut events, now);
        }
        events
    }

    /// Removes and returns the oldest event queued on a watch.
    pub fn pop_watch_event(&mut self, id: WatchId) -> Option<WatchEvent> {
        self.watches.pop(id)
    }

    /// The resource a watch watches, as the trace names it (`pods`, `deployments.apps`).
    pub fn watch_resource_name(&self, id: WatchId) -> Option<String> {
        let info = &self.served[self.watches.filter(id)?.resource].info;
        Some(if info.group.is_empty() {
            info.plural.clone()
        } else {
            format!("{}.{}", info.plural, info.group)
        })
    }

    /// Closes a watch.
    pub fn close_watch(&mut self, id: WatchId) {
        self.watches.close(id);
        self.table_watches.remove(&id);
    }

    /// Which watches received events since the last call: one entry per event, in order.
    pub fn drain_watch_notifications(&mut self) -> Vec<WatchId> {
        self.watches.drain_notifications()
    }

    /// Sends a BOOKMARK at the current resourceVersion to every watch that allows them.
    pub fn send_bookmarks(&mut self) {
        let rv = self.rv;
        let served = &self.served;
        self.watches.bookmark_all(rv, |resource| {
            let info = &served[resource].info;
            watching::bookmark_object(info, rv, false).into()
        });
    }

    /// Handles one request.
    pub fn handle(&mut self, req: &Request, env: &mut Env) -> Outcome {
        self.last_write_rv = None;
        self.now = env.now;
        self.warnings.clear();
        self.field_validation = FieldValidation::Warn;
        self.patching = false;
        let route = route::route(req);
        let (response, request) = match self.authorize_request(req, route.as_ref()) {
            Ok(impersonated) => {
                let acting = impersonated.map(|user| req.clone().as_user(user));
                self.dispatch(acting.as_ref().unwrap_or(req), route, env)
            }
            Err(refused) => {
                let request = match route {
                    Some(Route::Resource(rr)) => Some(rr),
                    _ => None,
                };
                (refused.into(), request)
            }
        };
        let mut response = response;
        for warning in self.warnings.drain(..) {
            response
                .headers
                .push(("Warning".into(), warning_header(&warning)));
        }
        // Like any HTTP server, say when the answer was made (virtual time, second precision).
        response
            .headers
            .push(("Date".into(), env.now.http_date(self.epoch_unix_ms)));
        Outcome {
            response,
            request,
            resource_version: self.last_write_rv.take(),
        }
    }

    /// Serves an authorized request.
    fn dispatch(
        &mut self,
        req: &Request,
        route: Option<Route>,
        env: &mut Env,
    ) -> (Response, Option<ResourceRequest>) {
        match route {
            None => (StatusError::no_route().into(), None),
            Some(Route::Resource(rr)) => {
                let response = self
                    .handle_resource(req, &rr, env)
                    .unwrap_or_else(Response::from);
                (response, Some(rr))
            }
            Some(other) => {
                let response = if req.method == Method::Get {
                    self.discovery(&other)
                } else {
                    StatusError::method_not_allowed().into()
                };
                (response, None)
            }
        }
    }

    fn handle_resource(
        &mut self,
        req: &Request,
        rr: &ResourceRequest,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        if rr.group == "events.k8s.io" && rr.resource == "events" && rr.version == "v1" {
            return self.handle_event_view(req, rr, env);
        }
        if rr.group == metrics::GROUP && rr.version == "v1beta1" {
            return self.handle_metrics(req, rr, env);
        }
        if matches!(
            rr.group.as_str(),
            authorization::access_review::AUTHORIZATION_GROUP
                | authorization::access_review::AUTHENTICATION_GROUP
        ) {
            return self.handle_review(req, rr);
        }
        let resource = self
            .resource_id(&rr.group, &rr.version, &rr.resource)
            .ok_or_else(StatusError::no_route)?;
        if rr.group.is_empty() && rr.resource == "endpoints" {
            self.warnings.push(ENDPOINTS_DEPRECATION.to_string());
        }
        if matches!(rr.verb, "create" | "update" | "patch") {
            self.field_validation = FieldValidation::of(req)?;
            self.patching = rr.verb == "patch";
        }
        let Some(custom) = self.served[resource].custom.clone() else {
            return self.handle_stored(req, rr, resource, env);
        };
        let answer = match custom.view_of {
            Some(storage) => self.handle_version_view(req, rr, resource, storage, &custom, env),
            None => self.handle_stored(req, rr, resource, env),
        };
        // Every request to a deprecated version is warned, whether it succeeds or not.
        if let Some(warning) = custom.deprecation_warning {
            self.warnings.insert(0, warning);
        }
        answer
    }

    /// Handles a request for a resource whose objects live in its own table.
    pub(super) fn handle_stored(
        &mut self,
        req: &Request,
        rr: &ResourceRequest,
        resource: usize,
        env: &mut Env,
    ) -> Result<Response, StatusError> {
        let info = &self.served[resource].info;
        let namespaced = info.namespaced();
        if !namespaced && rr.namespace.is_some() {
            return Err(StatusError::no_route());
        }
        if namespaced && rr.namespace.is_none() && !matches!(rr.verb, "list" | "watch") {
            return Err(StatusError::no_route());
        }
        match &rr.subresource {
            Some(sub) => {
                let Some(subinfo) = info.subresource(sub) else {
                    return Err(StatusError::no_route());
                };
                if !subinfo.verbs.iter().any(|v| v == rr.verb) {
                    return Err(StatusError::method_not_allowed());
                }
                self.handle_subresource(req, rr, resource, sub, env)
            }
            None => {
                if !info.allows(rr.verb) {
                    return Err(StatusError::method_not_allowed());
                }
                let ns = rr.namespace.as_deref();
                let name = rr.name.as_deref().unwrap_or("");
                match rr.verb {
                    "get" => self.get(req, resource, ns, name, env),
                    "list" => self.list(req, resource, ns, env),
                    "watch" => self.watch(req, resource, ns),
                    "create" => self.create(req, resource, ns, env),
                    "update" => self.update(req, resource, ns, name, env),
                    "patch" => self.patch(req, resource, ns, name, env),
                    "delete" => self.delete(req, resource, ns, name, env),
                    "deletecollection" => self.delete_collection(req, resource, ns, env),
                    _ => Err(StatusError::method_not_allowed()),
                }
            }
        }
    }
}
