//! Snapshots of the stored cluster: every object, the resourceVersion, the
//! Events' leases and the containers' access lines (when there are any), written
//! and read back exactly (same uids, resourceVersions and ClusterIPs). Watch history
//! does not survive a restore, as after an etcd restore.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::event_ttl::EventLeases;
use super::{ApiServer, DEFAULT_HISTORY_CAPACITY};
use crate::api::json_path::ValueExt;
use crate::kubelet::access_log::AccessLog;
use crate::sim::clock::VirtualTime;

impl ApiServer {
    /// Every stored object (definitions before the custom objects they define) and the resourceVersion.
    pub fn snapshot(&self) -> Value {
        let objects: Vec<Value> = self
            .served
            .iter()
            .filter(|s| s.active)
            .flat_map(|s| s.table.scan("", None).map(|o| o.value()))
            .collect();
        let mut snapshot = json!({"resourceVersion": self.rv.to_string(), "objects": objects});
        let events = &self.served[self.events].table;
        let leases = self
            .event_leases
            .to_json(|lease| events.get(&lease.key).is_some_and(|o| o.rv == lease.rv));
        if leases.as_array().is_some_and(|l| !l.is_empty()) {
            snapshot["eventLeases"] = leases;
        }
        if !self.access_log.is_empty() {
            snapshot["accessLog"] = self.access_log.to_json();
        }
        snapshot
    }

    /// A server holding exactly what `snapshot` describes, restored at `now`; the
    /// error says what is wrong. Events the snapshot names no lease for (it was
    /// taken before leases were kept) live a full `--event-ttl` from `now`.
    pub fn from_snapshot(snapshot: &Value, now: VirtualTime) -> Result<ApiServer, String> {
        let rv: u64 = snapshot
            .get("resourceVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.parse().ok())
            .ok_or("the snapshot has no resourceVersion")?;
        let objects = snapshot
            .get("objects")
            .and_then(Value::as_array)
            .ok_or("the snapshot has no objects list")?;
        let mut server = ApiServer::without_objects(DEFAULT_HISTORY_CAPACITY);
        for (i, obj) in objects.iter().enumerate() {
            let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = obj
                .at("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let object_rv: u64 = obj
                .at("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok())
                .ok_or(format!(
                    "object {i} ({kind} {name:?}) has no resourceVersion"
                ))?;
            if name.is_empty() || object_rv > rv {
                return Err(format!(
                    "object {i} ({kind} {name:?}) is not a valid stored object"
                ));
            }
            let resource = server
                .served
                .iter()
                .position(|s| {
                    s.active
                        && s.custom.as_ref().is_none_or(|c| c.view_of.is_none())
                        && s.info.api_version() == api_version
                        && s.info.kind == kind
                })
                .ok_or(format!("object {i} has kind {kind:?} in {api_version:?}, which the cluster does not serve"))?;
            let mut stored_form = obj.clone();
            let stored = server.stored(resource, &mut stored_form, object_rv);
            if server.served[resource].table.put(stored).is_some() {
                return Err(format!("object {i} ({kind} {name:?}) appears twice"));
            }
            if resource == server.definitions {
                server.serve_definition(obj);
            }
            if server.served[resource].info.group.is_empty()
                && server.served[resource].info.plural == "services"
            {
                server.allocators.reserve_service(obj);
            }
        }
        server.rv = rv;
        if let Some(leases) = snapshot.get("eventLeases") {
            server.event_leases = EventLeases::from_json(leases)?;
        }
        let leased: BTreeSet<&str> = server.event_leases.keys().collect();
        let unleased: Vec<_> = server.served[server.events]
            .table
            .scan("", None)
            .filter(|o| !leased.contains(&*o.key))
            .map(|o| (o.key.clone(), o.rv))
            .collect();
        for (key, rv) in unleased {
            server.event_leases.grant(now, key, rv);
        }
        if let Some(log) = snapshot.get("accessLog") {
            server.access_log = AccessLog::from_json(log)?;
        }
        Ok(server)
    }
}
