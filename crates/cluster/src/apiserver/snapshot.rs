//! Snapshots of the stored cluster: every object, the resourceVersion, the
//! Events' leases, the containers' access lines and the earlier versions of
//! ConfigMaps and Secrets (when there are any), written
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
        let history: Vec<Value> = self
            .config_history
            .changed()
            .map(|recorded| {
                let versions: Vec<Value> = recorded
                    .versions
                    .iter()
                    .map(
                        |(from, object)| json!({"from": from, "object": object.map(|o| o.value())}),
                    )
                    .collect();
                json!({
                    "resource": self.served[recorded.resource].info.plural,
                    "key": recorded.key,
                    "truncated": recorded.truncated,
                    "versions": versions,
                })
            })
            .collect();
        if !history.is_empty() {
            snapshot["configHistory"] = Value::Array(history);
        }
        snapshot
    }

    /// Puts back the versions of ConfigMaps and Secrets a snapshot kept (see
    /// [`Self::snapshot`]); the error says what is wrong.
    fn restore_config_history(&mut self, history: &Value) -> Result<(), String> {
        let entries = history.as_array().ok_or("configHistory is not a list")?;
        for (i, entry) in entries.iter().enumerate() {
            let bad = |what: &str| format!("configHistory entry {i} {what}");
            let resource = entry
                .get("resource")
                .and_then(Value::as_str)
                .and_then(|plural| self.config_resource(plural))
                .ok_or_else(|| bad("is not of configmaps or secrets"))?;
            let key = entry
                .get("key")
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| bad("has no key"))?;
            let truncated = entry
                .get("truncated")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let listed = entry
                .get("versions")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("has no versions"))?;
            let mut versions = Vec::new();
            for version in listed {
                let from = version
                    .get("from")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| bad("has a version with no time"))?;
                let object = match version.get("object") {
                    None | Some(Value::Null) => None,
                    Some(object) => {
                        let rv = object
                            .at("/metadata/resourceVersion")
                            .and_then(Value::as_str)
                            .and_then(|v| v.parse::<u64>().ok())
                            .filter(|rv| *rv <= self.rv)
                            .ok_or_else(|| bad("has a version with no valid resourceVersion"))?;
                        let mut stored_form = object.clone();
                        let stored = self.stored(resource, &mut stored_form, rv);
                        if *stored.key != *key {
                            return Err(bad("has a version of another object"));
                        }
                        Some(stored)
                    }
                };
                versions.push((from, object));
            }
            self.config_history
                .restore(resource, key.into(), truncated, versions)
                .map_err(|e| bad(&e))?;
        }
        Ok(())
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
        if let Some(history) = snapshot.get("configHistory") {
            server.restore_config_history(history)?;
        }
        Ok(server)
    }
}
