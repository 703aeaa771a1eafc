//! Opening watches: from a resourceVersion (replaying history, or 410 Expired when
//! it is compacted), from "now" with synthetic ADDED events, or with
//! `sendInitialEvents` ending in a bookmark.

use std::sync::Arc;

use serde_json::json;

use super::table_watch::TableWatch;
use super::tables::wants_table;
use super::watch::{event_for, EventType, WatchEvent, WatchFilter};
use super::ApiServer;
use crate::api::query::{ListOptions, ListRead};
use crate::api::request::{Request, Response, ResponseBody};
use crate::api::resources::ResourceInfo;
use crate::api::status::StatusError;

/// The object a BOOKMARK carries: kind, apiVersion and the resourceVersion only.
pub fn bookmark_object(info: &ResourceInfo, rv: u64, initial_events_end: bool) -> String {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": metadata}).to_string()
}

impl ApiServer {
    pub(super) fn watch(
        &mut self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
    ) -> Result<Response, StatusError> {
        let opts = ListOptions::from_request(req)?;
        opts.validate()?;
        self.check_field_selector(resource, &opts)?;
        let info = self.served[resource].info.clone();
        let requested: Option<u64> = match opts.read()? {
            ListRead::Latest => None,
            ListRead::NotOlderThan(rv) | ListRead::Exact(rv) => Some(rv),
        };
        // A watch pinned to one node's pods is filed so it costs nothing for other nodes' events.
        let pin = (info.group.is_empty() && info.plural == "pods")
            .then(|| opts.field_selector.exact("spec.nodeName"))
            .flatten()
            .and_then(|node| {
                info.selectable_fields
                    .iter()
                    .position(|f| f == "spec.nodeName")
                    .map(|p| (p, node.to_string()))
            });
        let filter = WatchFilter {
            resource,
            namespace: namespace.map(String::from),
            labels: opts.label_selector.clone(),
            fields: opts.field_selector.clone(),
            field_names: info.selectable_fields.clone(),
        };
        let id = self.watches.open(filter, opts.allow_bookmarks, pin);
        if wants_table(req) {
            self.table_watches
                .insert(id, TableWatch::new(req.query_param("includeObject")));
        }
        let send_initial_events = opts.send_initial_events == Some(true);
        let start_from_now = requested.is_none() || send_initial_events;
        if let Some(rv) = requested.filter(|_| !start_from_now) {
            if rv < self.history.compacted_through() {
                let status = StatusError::expired(rv, self.history.compacted_through() + 1);
                self.watches.push(
                    id,
                    WatchEvent {
                        event_type: EventType::Error,
                        rv: self.rv,
                        object: Arc::from(status.to_json()),
                        key: Arc::from(""),
                        metadata_end: None,
                    },
                );
                return Ok(watch_response(id));
            }
            let filter = self.watches.filter(id).expect("just opened");
            let replay: Vec<WatchEvent> = self
                .history
                .after(rv)
                .filter(|c| c.resource == resource)
                .filter_map(|c| event_for(c, filter))
                .collect();
            for event in replay {
                self.watches.push(id, event);
            }
            return Ok(watch_response(id));
        }
        // Synthetic ADDED events for what exists now, in key order.
        let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
        let filter = self.watches.filter(id).expect("just opened");
        let initial: Vec<WatchEvent> = self.served[resource]
            .table
            .scan(&prefix, None)
            .filter(|o| filter.matches(o))
            .map(|o| WatchEvent {
                event_type: EventType::Added,
                rv: o.rv,
                object: o.json.clone(),
                key: o.key.clone(),
                metadata_end: o.metadata.map(|(_, end)| end),
            })
            .collect();
        for event in initial {
            self.watches.push(id, event);
        }
        if send_initial_events && opts.allow_bookmarks {
            self.watches.push(
                id,
                WatchEvent {
                    event_type: EventType::Bookmark,
                    rv: self.rv,
                    object: Arc::from(bookmark_object(&info, self.rv, true)),
                    metadata_end: None,
                    key: Arc::from(""),
                },
            );
        }
        Ok(watch_response(id))
    }
}

fn watch_response(id: super::watch::WatchId) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Transfer-Encoding".into(), "chunked".into()),
        ],
        body: ResponseBody::Watch(id),
    }
}
