//! Events expire. kube-apiserver stores every Event with a time to live
//! (`--event-ttl`, one hour by default) that each write of it starts afresh, as
//! an etcd lease; when the lease runs out etcd deletes the Event and watchers
//! see it DELETED. Without this a long-lived cluster would keep every Event its
//! components ever reported.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::sim::clock::{Duration, VirtualTime};

/// kube-apiserver's default `--event-ttl`: one hour.
pub const EVENT_TTL: Duration = 3_600_000;

/// The lease one write of an Event got: the version stored at `rv` under `key`
/// is deleted at `expires` unless a later write replaced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventLease {
    pub expires: VirtualTime,
    pub key: Arc<str>,
    pub rv: u64,
}

/// The leases of Event writes, soonest first.
#[derive(Default)]
pub struct EventLeases {
    /// Every lease runs the same TTL from its write and writes come in time order,
    /// so granting order is expiry order (restored leases are sorted once).
    leases: VecDeque<EventLease>,
}

impl EventLeases {
    /// A lease of [`EVENT_TTL`] for the write at `now` that stored `rv` under `key`.
    pub fn grant(&mut self, now: VirtualTime, key: Arc<str>, rv: u64) {
        self.leases.push_back(EventLease {
            expires: now.after(EVENT_TTL),
            key,
            rv,
        });
    }

    /// When the soonest lease runs out (it may belong to a version since replaced).
    pub fn next_expiry(&self) -> Option<VirtualTime> {
        self.leases.front().map(|lease| lease.expires)
    }

    /// Removes and returns the leases that ran out by `now`, soonest first.
    pub fn take_expired(&mut self, now: VirtualTime) -> Vec<EventLease> {
        let due = self.leases.partition_point(|lease| lease.expires <= now);
        self.leases.drain(..due).collect()
    }

    /// The keys leases are held for.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.leases.iter().map(|lease| &*lease.key)
    }

    /// The leases `is_current` keeps (those of stored versions), as snapshot JSON.
    pub fn to_json(&self, is_current: impl Fn(&EventLease) -> bool) -> Value {
        self.leases
            .iter()
            .filter(|lease| is_current(lease))
            .map(|lease| {
                json!({
                    "key": &*lease.key,
                    "resourceVersion": lease.rv.to_string(),
                    "expires": lease.expires.millis(),
                })
            })
            .collect()
    }

    /// Leases read back from [`Self::to_json`]; the error says which entry is wrong.
    pub fn from_json(value: &Value) -> Result<EventLeases, String> {
        let entries = value
            .as_array()
            .ok_or("the snapshot's eventLeases is not a list")?;
        let mut leases = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let key = entry.get("key").and_then(Value::as_str);
                let rv = entry
                    .get("resourceVersion")
                    .and_then(Value::as_str)
                    .and_then(|rv| rv.parse().ok());
                let expires = entry.get("expires").and_then(Value::as_u64);
                match (key, rv, expires) {
                    (Some(key), Some(rv), Some(expires)) => Ok(EventLease {
                        expires: VirtualTime(expires),
                        key: Arc::from(key),
                        rv,
                    }),
                    _ => Err(format!("event lease {i} is not a valid lease")),
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        leases.sort_by_key(|lease| lease.expires);
        Ok(EventLeases {
            leases: leases.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_run_out_in_order_an_hour_after_their_write() {
        let mut leases = EventLeases::default();
        leases.grant(VirtualTime(0), Arc::from("default/a"), 5);
        leases.grant(VirtualTime(1_000), Arc::from("default/b"), 6);
        assert_eq!(leases.next_expiry(), Some(VirtualTime(EVENT_TTL)));
        assert!(leases.take_expired(VirtualTime(EVENT_TTL - 1)).is_empty());
        let expired = leases.take_expired(VirtualTime(EVENT_TTL + 1_000));
        let keys: Vec<&str> = expired.iter().map(|l| &*l.key).collect();
        assert_eq!(keys, ["default/a", "default/b"]);
        assert_eq!(leases.next_expiry(), None);
    }

    #[test]
    fn snapshot_json_keeps_current_leases_and_refuses_broken_ones() {
        let mut leases = EventLeases::default();
        leases.grant(VirtualTime(0), Arc::from("default/a"), 5);
        leases.grant(VirtualTime(10), Arc::from("default/a"), 7);
        let json = leases.to_json(|lease| lease.rv == 7);
        let back = EventLeases::from_json(&json).unwrap();
        assert_eq!(back.next_expiry(), Some(VirtualTime(10 + EVENT_TTL)));
        assert_eq!(back.leases.len(), 1);
        let broken = json!([{"key": "default/a", "resourceVersion": "x", "expires": 1}]);
        assert_eq!(
            EventLeases::from_json(&broken).err().as_deref(),
            Some("event lease 0 is not a valid lease")
        );
    }
}
