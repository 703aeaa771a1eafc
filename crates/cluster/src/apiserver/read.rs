//! Get and list: selectors served from indexes where possible, pagination with
//! continue tokens that read a consistent snapshot, and Table output.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::storage::{object_key, StoredObject};
use super::tables::wants_table;
use super::watch::field_value;
use super::{ApiServer, Env};
use crate::api::query::{parse_resource_version, ContinueToken, ListOptions, ListRead};
use crate::api::request::{Request, Response};
use crate::api::status::StatusError;

/// One page of a list.
pub(super) struct Page {
    pub items: Vec<Arc<StoredObject>>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

impl ApiServer {
    pub(super) fn get(
        &self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        name: &str,
        env: &Env,
    ) -> Result<Response, StatusError> {
        // A GET is served from the latest state, which must be at least as new as asked.
        if let Some(text) = req.query_param("resourceVersion").filter(|t| !t.is_empty()) {
            let wanted = parse_resource_version(text)?;
            if wanted > self.rv {
                return Err(StatusError::resource_version_too_large(wanted, self.rv));
            }
        }
        let served = &self.served[resource];
        let key = object_key(namespace, name);
        let obj = served
            .table
            .get(&key)
            .ok_or_else(|| StatusError::not_found(&served.info, name))?;
        if wants_table(req) {
            let table = self.table(req, resource, std::slice::from_ref(obj), self.rv, None, env);
            return Ok(Response::json(200, table));
        }
        Ok(Response::json(200, obj.json.to_string()))
    }

    /// Fails with upstream's message when a field selector names an unsupported field.
    pub(super) fn check_field_selector(
        &self,
        resource: usize,
        opts: &ListOptions,
    ) -> Result<(), StatusError> {
        let info = &self.served[resource].info;
        for requirement in &opts.field_selector.requirements {
            let field = requirement.field.as_str();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !info.selectable_fields.iter().any(|f| f == field)
            {
                return Err(StatusError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
        }
        Ok(())
    }

    /// The objects of a resource as they were at `rv` (which must still be in history).
    fn view_at(
        &self,
        resource: usize,
        rv: u64,
    ) -> Result<BTreeMap<Arc<str>, Arc<StoredObject>>, StatusError> {
        if rv < self.history.compacted_through() {
            return Err(StatusError::continue_expired());
        }
        let mut view: BTreeMap<Arc<str>, Arc<StoredObject>> = self.served[resource]
            .table
            .scan("", None)
            .map(|o| (o.key.clone(), o.clone()))
            .collect();
        for change in self
            .history
            .after(rv)
            .rev()
            .filter(|c| c.resource == resource)
        {
            match &change.previous {
                Some(previous) => view.insert(change.current.key.clone(), previous.clone()),
                None => view.remove(&change.current.key),
            };
        }
        Ok(view)
    }

    /// Selects one page of objects.
    pub(super) fn select(
        &self,
        resource: usize,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<Page, StatusError> {
        opts.validate()?;
        self.check_field_selector(resource, opts)?;
        let exact_rv = match opts.read()? {
            ListRead::Latest => None,
            ListRead::NotOlderThan(rv) | ListRead::Exact(rv) if rv > self.rv => {
                return Err(StatusError::resource_version_too_large(rv, self.rv))
            }
            ListRead::NotOlderThan(_) => None,
            ListRead::Exact(rv) if rv < self.history.compacted_through() => {
                return Err(StatusError::list_expired())
            }
            ListRead::Exact(rv) => Some(rv),
        };
        let served = &self.served[resource];
        let names = &served.info.selectable_fields;
        let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
        let after = opts.continue_token.as_ref().map(|t| t.start_key.as_str());
        let matches = |o: &StoredObject| {
            opts.label_selector.matches_pairs(&o.labels)
                && opts.field_selector.matches(|f| field_value(o, names, f))
        };
        let snapshot_rv = opts
            .continue_token
            .as_ref()
            .map(|t| t.resource_version)
            .or(exact_rv);
        let list_rv = snapshot_rv.unwrap_or(self.rv);
        let limit = opts.limit.unwrap_or(usize::MAX);
        let stale =
            snapshot_rv.is_some_and(|rv| self.history.after(rv).any(|c| c.resource == resource));
        let mut selected: Vec<Arc<StoredObject>> = Vec::new();
        let mut more = false;
        let mut remaining = None;
        if stale {
            let view = self.view_at(resource, snapshot_rv.unwrap_or(0))?;
            let mut iter = view.values().filter(|o| {
                o.key.starts_with(&prefix) && after.is_none_or(|a| &*o.key > a) && matches(o)
            });
            selected.extend(iter.by_ref().take(limit).cloned());
            more = iter.next().is_some();
        } else if let Some(slots) = self.indexed_candidates(resource, opts) {
            let mut found: Vec<&Arc<StoredObject>> = slots
                .into_iter()
                .filter_map(|s| served.table.slot(s))
                .filter(|o| {
                    o.key.starts_with(&prefix) && after.is_none_or(|a| &*o.key > a) && matches(o)
                })
                .collect();
            found.sort_by(|a, b| a.key.cmp(&b.key));
            more = found.len() > limit;
            selected.extend(found.into_iter().take(limit).cloned());
        } else {
            let mut iter = served.table.scan(&prefix, after).filter(|o| matches(o));
            selected.extend(iter.by_ref().take(limit).cloned());
            if opts.limit.is_some() {
                let rest = iter.count();
                more = rest > 0;
                if opts.label_selector.is_empty() && opts.field_selector.is_empty() && more {
                    remaining = Some(rest);
                }
            }
        }
        let continue_token = (more && !selected.is_empty()).then(|| {
            ContinueToken {
                resource_version: list_rv,
                start_key: selected
                    .last()
                    .map(|o| o.key.to_string())
                    .unwrap_or_default(),
            }
            .encode()
        });
        Ok(Page {
            items: selected,
            resource_version: list_rv,
            continue_token,
            remaining,
        })
    }

    /// Candidate slots from an index, when a selector pins an indexed value.
    fn indexed_candidates(&self, resource: usize, opts: &ListOptions) -> Option<Vec<u32>> {
        let served = &self.served[resource];
        let mut best: Option<Vec<u32>> = None;
        for (position, field) in served.info.selectable_fields.iter().enumerate() {
            if let Some(value) = opts.field_selector.exact(field) {
                if let Some(slots) = served.table.slots_with_field(position, value) {
                    best = Some(slots);
                }
            }
        }
        for requirement in &opts.label_selector.requirements {
            if let Some(value) = requirement.exact_value() {
                let slots = served.table.slots_with_label(&requirement.key, value);
                if best.as_ref().is_none_or(|b| slots.len() < b.len()) {
                    best = Some(slots);
                }
            }
        }
        best
    }

    pub(super) fn list(
        &self,
        req: &Request,
        resource: usize,
        namespace: Option<&str>,
        env: &Env,
    ) -> Result<Response, StatusError> {
        let opts = ListOptions::from_request(req)?;
        let page = self.select(resource, namespace, &opts)?;
        if wants_table(req) {
            let table = self.table(
                req,
                resource,
                &page.items,
                page.resource_version,
                page.continue_token.as_deref(),
                env,
            );
            return Ok(Response::json(200, table));
        }
        Ok(Response::json(200, self.list_json(resource, &page)))
    }

    /// A `<Kind>List` built from stored JSON without re-parsing it.
    pub(super) fn list_json(&self, resource: usize, page: &Page) -> String {
        let info = &self.served[resource].info;
        let mut out =
            String::with_capacity(128 + page.items.iter().map(|o| o.json.len() + 1).sum::<usize>());
        out.push_str(&format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{}\"",
            info.kind,
            info.api_version(),
            page.resource_version
        ));
        if let Some(token) = &page.continue_token {
            out.push_str(&format!(",\"continue\":\"{token}\""));
        }
        if let Some(remaining) = page.remaining {
            out.push_str(&format!(",\"remainingItemCount\":{remaining}"));
        }
        out.push_str("},\"items\":[");
        for (i, item) in page.items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&item.json);
        }
        out.push_str("]}");
        out
    }
}
