//! Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
//! returns a meta.k8s.io/v1 Table with upstream's columns for each kind, so any
//! client prints what kubectl prints.

pub mod age;
mod cluster;
mod core;
pub mod custom;
mod pod;
mod row_facts;
mod workloads;

use crate::api::json_path::ValueExt;
use std::borrow::Cow;
use std::fmt::Write;
use std::sync::Arc;

use serde_json::{json, Value};

use super::storage::StoredObject;
use super::{ApiServer, Env};
use crate::api::request::Request;
pub use row_facts::{RowBuilder, RowFacts, Timed};

/// One column: name, type (`string`, `integer`, `date`), priority (0 default, 1 for `-o wide`).
pub struct Column {
    pub name: &'static str,
    pub kind: &'static str,
    pub priority: u8,
    pub description: &'static str,
}

/// A column shown by default.
pub const fn col(name: &'static str, kind: &'static str) -> Column {
    Column {
        name,
        kind,
        priority: 0,
        description: "",
    }
}

/// A column shown only with `-o wide`.
pub const fn wide(name: &'static str, kind: &'static str) -> Column {
    Column {
        name,
        kind,
        priority: 1,
        description: "",
    }
}

/// What a row printer needs besides the object.
pub struct PrintContext {
    /// The server's current time, in Unix milliseconds (for AGE columns).
    pub now_unix_ms: i64,
}

impl PrintContext {
    /// The age of the object's creationTimestamp.
    pub fn age_of(&self, obj: &Value) -> String {
        age::age(
            obj.at("/metadata/creationTimestamp")
                .and_then(Value::as_str),
            self.now_unix_ms,
        )
    }
}

/// How a printer reads an object for its cells.
pub enum RowFn {
    /// From the parsed object, when it is printed.
    Value(fn(&Value, &PrintContext) -> Vec<Value>),
    /// From facts taken from the object when it is stored (kinds listed by the
    /// hundred thousand), so a list does not parse it.
    Stored(fn(&Value) -> RowFacts),
}

/// An object to print: its JSON text and, for a stored object, its metadata's text
/// and its row facts.
pub struct Printable<'a> {
    pub json: &'a str,
    pub metadata: Option<&'a str>,
    pub facts: Option<&'a RowFacts>,
}

impl<'a> Printable<'a> {
    /// An object known only by its JSON text.
    pub fn text(json: &'a str) -> Printable<'a> {
        Printable {
            json,
            metadata: None,
            facts: None,
        }
    }
}

/// The printer of one kind: its columns and a function from object to cells.
pub struct Printer {
    pub columns: Vec<Column>,
    pub row: RowFn,
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// Room for a row's cells and the text around its object, in bytes.
const ROW_OVERHEAD: usize = 192;

/// Whether the request asks for a Table.
pub fn wants_table(req: &Request) -> bool {
    req.header("accept").is_some_and(|a| {
        a.split(',')
            .next()
            .is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
    })
}

/// The printer for a resource; kinds without one get upstream's default (Name, Created At).
pub fn printer_for(group: &str, plural: &str) -> Printer {
    match (group, plural) {
        ("", "pods") => pod::printer(),
        ("", "nodes") => core::node_printer(),
        ("", "namespaces") => core::namespace_printer(),
        ("", "services") => core::service_printer(),
        ("", "configmaps") => core::configmap_printer(),
        ("", "secrets") => core::secret_printer(),
        ("", "serviceaccounts") => core::serviceaccount_printer(),
        ("apps", "deployments") => workloads::deployment_printer(),
        ("apps", "replicasets") => workloads::replicaset_printer(),
        ("apps", "statefulsets") => workloads::statefulset_printer(),
        ("apps", "daemonsets") => workloads::daemonset_printer(),
        ("apps", "controllerrevisions") => cluster::controllerrevision_printer(),
        ("batch", "jobs") => workloads::job_printer(),
        ("batch", "cronjobs") => workloads::cronjob_printer(),
        ("autoscaling", "horizontalpodautoscalers") => workloads::hpa_printer(),
        ("", "events") | ("events.k8s.io", "events") => cluster::event_printer(),
        ("", "endpoints") => cluster::endpoints_printer(),
        ("discovery.k8s.io", "endpointslices") => cluster::endpointslice_printer(),
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => {
            cluster::binding_printer()
        }
        ("", "resourcequotas") => cluster::resourcequota_printer(),
        ("", "persistentvolumeclaims") => cluster::pvc_printer(),
        ("coordination.k8s.io", "leases") => cluster::lease_printer(),
        ("scheduling.k8s.io", "priorityclasses") => cluster::priorityclass_printer(),
        ("policy", "poddisruptionbudgets") => cluster::pdb_printer(),
        // Upstream's default table for kinds without a printer (CRDs, LimitRanges, Roles).
        _ => cluster::created_at_printer(),
    }
}

/// The object parsed as JSON (Null if it is not JSON), parsed into `slot` the first
/// time it is asked for.
fn parsed_once<'s>(slot: &'s mut Option<Value>, json: &str) -> &'s Value {
    slot.get_or_insert_with(|| serde_json::from_str(json).unwrap_or(Value::Null))
}

/// Appends cells as a JSON array.
fn write_values(out: &mut String, cells: Vec<Value>) {
    write!(out, "{}", Value::Array(cells)).expect("writing to a String");
}

/// Appends a row's `object`: the stored JSON itself (`Object`) or its
/// `PartialObjectMetadata` (the default) around the object's `metadata` text, keys in
/// the order serialisation gives them.
fn write_row_object(out: &mut String, json: &str, metadata: Option<&str>, include_object: &str) {
    out.push_str(r#","object":"#);
    if include_object == "Object" {
        out.push_str(json);
        return;
    }
    out.push_str(r#"{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":"#);
    out.push_str(metadata.unwrap_or("{}"));
    out.push('}');
}

impl ApiServer {
    /// A Table of `items` for a list or get request.
    pub(super) fn table(
        &self,
        req: &Request,
        resource: usize,
        items: &[Arc<StoredObject>],
        rv: u64,
        continue_token: Option<&str>,
        env: &Env,
    ) -> String {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if let Some(token) = continue_token {
            metadata["continue"] = json!(token);
        }
        let include_object = req.query_param("includeObject").unwrap_or("Metadata");
        let now_unix_ms = env.now.unix_millis(self.epoch_unix_ms);
        self.table_of(
            resource,
            items.iter().map(|item| item.printable()),
            include_object,
            true,
            metadata,
            now_unix_ms,
        )
    }

    /// A Table of `objects` with `metadata`: rows carry the object as `include_object`
    /// says (`None`, `Object`, else `Metadata`); `with_columns: false` leaves the column
    /// definitions out (upstream's watch events after the first).
    pub(super) fn table_of<'a>(
        &self,
        resource: usize,
        objects: impl Iterator<Item = Printable<'a>>,
        include_object: &str,
        with_columns: bool,
        metadata: Value,
        now_unix_ms: i64,
    ) -> String {
        let served = &self.served[resource];
        let ctx = PrintContext { now_unix_ms };
        let custom = served.strategy.printer_columns();
        let printer = printer_for(&served.info.group, &served.info.plural);
        let columns: Value = match (with_columns, custom) {
            // Upstream's watch events after the first: `NoHeaders`, no definitions.
            (false, _) => Value::Null,
            (true, Some(columns)) => Value::Array(custom::column_definitions(columns, NAME_DESCRIPTION)),
            (true, None) => printer
                .columns
                .iter()
                .map(|c| {
                    let (format, description) = if c.name == "Name" { ("name", NAME_DESCRIPTION) } else { ("", c.description) };
                    json!({"name": c.name, "type": c.kind, "format": format, "description": description, "priority": c.priority})
                })
                .collect(),
        };
        // Written as text, into room for every row: a Table of every pod is tens of megabytes.
        let objects: Vec<Printable> = objects.collect();
        let row_size = |o: &Printable| ROW_OVERHEAD + o.metadata.unwrap_or(o.json).len();
        let mut out = String::with_capacity(1024 + objects.iter().map(row_size).sum::<usize>());
        out.push_str(r#"{"apiVersion":"meta.k8s.io/v1","columnDefinitions":"#);
        out.push_str(&columns.to_string());
        out.push_str(r#","kind":"Table","metadata":"#);
        out.push_str(&metadata.to_string());
        out.push_str(r#","rows":["#);
        let wants_metadata = !matches!(include_object, "None" | "Object");
        for (i, object) in objects.into_iter().enumerate() {
            // A stored object's metadata text and row facts were kept when it was
            // stored; anything else is parsed for them.
            let mut parsed: Option<Value> = None;
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"cells":"#);
            match (custom, &printer.row, object.facts) {
                (Some(columns), _, _) => {
                    let obj = parsed_once(&mut parsed, object.json);
                    write_values(&mut out, custom::cells(obj, columns, &ctx));
                }
                (None, RowFn::Value(row), _) => {
                    write_values(&mut out, row(parsed_once(&mut parsed, object.json), &ctx));
                }
                (None, RowFn::Stored(_), Some(facts)) => facts.write_json(&mut out, now_unix_ms),
                (None, RowFn::Stored(facts), None) => {
                    facts(parsed_once(&mut parsed, object.json)).write_json(&mut out, now_unix_ms);
                }
            }
            let metadata = match object.metadata {
                Some(text) => Some(Cow::Borrowed(text)),
                None if wants_metadata => parsed_once(&mut parsed, object.json)
                    .get("metadata")
                    .map(|m| Cow::Owned(m.to_string())),
                None => None,
            };
            if include_object != "None" {
                write_row_object(&mut out, object.json, metadata.as_deref(), include_object);
            }
            out.push('}');
        }
        out.push_str("]}");
        out
    }
}

/// `s` if non-empty, else `<none>`.
pub fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.to_string()
    }
}

/// A string at a JSON pointer, or "".
pub fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.at(pointer).and_then(Value::as_str).unwrap_or("")
}

/// An integer at a JSON pointer, or 0.
pub fn int(obj: &Value, pointer: &str) -> i64 {
    obj.at(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Upstream's `labels.Set.String()`: the sorted `key=value` pairs joined by commas,
/// `<none>` when there are none.
pub fn pairs_string<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<String> = pairs.map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    or_none(&pairs.join(","))
}

/// A `key=value,...` rendering of a JSON string map, as `pairs_string`.
pub fn map_string(map: Option<&Value>) -> String {
    pairs_string(
        map.and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))),
    )
}
