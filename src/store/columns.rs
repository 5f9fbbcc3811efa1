//! The columns of the store, and the builders that turn decoded records into them.
//! Ids are lowercase hex text and times are Unix nanoseconds, so DuckDB and others read
//! the files as they are; raw attributes, events and links are lossless JSON text.

use super::encode::{attributes_json, events_json, links_json, value_json};
use crate::ingest::ids::Hex;
use crate::ingest::raw::{RawLog, RawSpan, Resource, Scope};
use crate::semconv::model::Normalized;
use polars::prelude::*;
use std::sync::Arc;
use xxhash_rust::xxh3::Xxh3;

/// Resource and scope JSON, encoded once per batch rather than once per span.
#[derive(Default)]
struct SharedText {
    last: Option<(*const Resource, *const Scope)>,
    resource: String,
    scope_attrs: String,
    hash: u64,
}

impl SharedText {
    fn get(&mut self, r: &Arc<Resource>, s: &Arc<Scope>) -> (&str, &str, u64) {
        let key = (Arc::as_ptr(r), Arc::as_ptr(s));
        if self.last != Some(key) {
            self.resource = attributes_json(&r.attributes);
            self.scope_attrs = attributes_json(&s.attributes);
            self.hash = context_hash(&self.resource, s, &self.scope_attrs);
            self.last = Some(key);
        }
        (&self.resource, &self.scope_attrs, self.hash)
    }
}

/// Feeds texts with their lengths, so that no two sequences of parts hash alike.
fn feed(h: &mut Xxh3, parts: &[&str]) {
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
}

/// The hash of what a batch's spans share: resource and scope.
fn context_hash(resource: &str, scope: &Scope, scope_attrs: &str) -> u64 {
    let mut h = Xxh3::new();
    feed(
        &mut h,
        &[resource, &scope.name, &scope.version, scope_attrs],
    );
    h.digest()
}

/// The hash of a span's own content, from the JSON texts of its parts.
fn body_hash(s: &RawSpan, attributes: &str, events: &str, links: &str) -> u64 {
    let mut h = Xxh3::new();
    h.update(&s.parent_span_id.map(|p| p.0).unwrap_or_default());
    h.update(&[u8::from(s.parent_span_id.is_some())]);
    h.update(&s.start_time_unix_nano.to_le_bytes());
    h.update(&s.end_time_unix_nano.to_le_bytes());
    h.update(&s.flags.to_le_bytes());
    feed(
        &mut h,
        &[
            &s.trace_state,
            &s.name,
            s.kind.as_str(),
            s.status_code.as_str(),
            &s.status_message,
            attributes,
            events,
            links,
        ],
    );
    h.digest()
}

/// What a span says, apart from its ids and the file it came from: two spans with one
/// id and different hashes are a conflict. Never 0, which stands for "not known" (a
/// span stored by a release that kept no hash).
fn content_hash(body: u64, context: u64) -> u64 {
    let mut h = Xxh3::new();
    h.update(&body.to_le_bytes());
    h.update(&context.to_le_bytes());
    h.digest().max(1)
}

/// A span's content hash, computed on its own: as `SpanColumns::push` stores it.
pub fn span_content_hash(s: &RawSpan) -> u64 {
    let body = body_hash(
        s,
        &attributes_json(&s.attributes),
        &events_json(&s.events),
        &links_json(&s.links),
    );
    let resource = attributes_json(&s.resource.attributes);
    let scope_attrs = attributes_json(&s.scope.attributes);
    content_hash(body, context_hash(&resource, &s.scope, &scope_attrs))
}

/// A text column built in place: each value is copied once, into the column's own
/// buffers, with no `String` per value on the way.
struct Text(StringChunkedBuilder);

impl Default for Text {
    fn default() -> Self {
        Text(StringChunkedBuilder::new(PlSmallStr::EMPTY, 0))
    }
}

impl Text {
    fn push(&mut self, v: &str) {
        self.0.append_value(v);
    }

    fn push_opt(&mut self, v: Option<&str>) {
        self.0.append_option(v);
    }

    fn column(self, name: &str) -> Column {
        self.0.finish().with_name(name.into()).into_column()
    }
}

#[derive(Default)]
pub struct SpanColumns {
    rows: usize,
    /// Bytes of the attributes, events and links held: what a row group's memory is.
    bytes: usize,
    trace_id: Text,
    span_id: Text,
    parent_span_id: Text,
    trace_state: Text,
    name: Text,
    kind: Text,
    start: Vec<i64>,
    end: Vec<i64>,
    status_code: Text,
    status_message: Text,
    flags: Vec<i64>,
    service_name: Text,
    scope_name: Text,
    scope_version: Text,
    attributes: Text,
    events: Text,
    links: Text,
    resource_attributes: Text,
    scope_attributes: Text,
    source: Text,
    content_hash: Vec<i64>,
    norm: NormColumns,
    shared: SharedText,
}

/// The dialect layer's view of each span (see `semconv`). Null where the span does not
/// say: missing usage is unknown, not zero.
#[derive(Default)]
struct NormColumns {
    span_type: Text,
    operation: Text,
    provider: Text,
    request_model: Text,
    response_model: Text,
    session_id: Text,
    user_id: Text,
    /// One column per count, in `Usage::COLUMNS` order.
    tokens: [Vec<Option<i64>>; 9],
    usage_source: Text,
    recorded_cost_usd: Vec<Option<f64>>,
    response_id: Text,
    previous_response_id: Text,
    service_tier: Text,
    finish_reasons: Text,
    error_type: Text,
}

impl NormColumns {
    fn push(&mut self, n: &Normalized) {
        self.span_type.push(n.span_type.as_str());
        self.operation.push_opt(n.operation.as_deref());
        self.provider.push_opt(n.provider.as_deref());
        self.request_model.push_opt(n.request_model.as_deref());
        self.response_model.push_opt(n.response_model.as_deref());
        self.session_id.push_opt(n.session_id.as_deref());
        self.user_id.push_opt(n.user_id.as_deref());
        for (col, v) in self.tokens.iter_mut().zip(n.usage.counts()) {
            col.push(v);
        }
        self.usage_source.push_opt(n.usage_source.as_deref());
        self.recorded_cost_usd.push(n.recorded_cost_usd);
        self.response_id.push_opt(n.response_id.as_deref());
        self.previous_response_id
            .push_opt(n.previous_response_id.as_deref());
        self.service_tier.push_opt(n.service_tier.as_deref());
        self.finish_reasons.push_opt(
            (!n.finish_reasons.is_empty())
                .then(|| serde_json::to_string(&n.finish_reasons).unwrap_or_default())
                .as_deref(),
        );
        self.error_type.push_opt(n.error_type.as_deref());
    }

    fn into_columns(self, cols: &mut Vec<Column>) {
        cols.extend([
            self.span_type.column("span_type"),
            self.operation.column("operation"),
            self.provider.column("provider"),
            self.request_model.column("request_model"),
            self.response_model.column("response_model"),
            self.session_id.column("session_id"),
            self.user_id.column("user_id"),
        ]);
        cols.extend(
            crate::semconv::model::Usage::COLUMNS
                .iter()
                .zip(self.tokens)
                .map(|(name, v)| Column::new((*name).into(), v)),
        );
        cols.extend([
            self.usage_source.column("usage_source"),
            Column::new("recorded_cost_usd".into(), self.recorded_cost_usd),
            self.response_id.column("response_id"),
            self.previous_response_id.column("previous_response_id"),
            self.service_tier.column("service_tier"),
            self.finish_reasons.column("finish_reasons"),
            self.error_type.column("error_type"),
        ]);
    }
}

/// What is computed per span before it is appended, in parallel: the JSON texts of its
/// raw parts and its normalized view.
pub struct PreparedSpan {
    attributes: String,
    events: String,
    links: String,
    body_hash: u64,
    norm: Normalized,
}

impl PreparedSpan {
    pub fn new(s: &RawSpan) -> PreparedSpan {
        let attributes = attributes_json(&s.attributes);
        let events = events_json(&s.events);
        let links = links_json(&s.links);
        PreparedSpan {
            body_hash: body_hash(s, &attributes, &events, &links),
            attributes,
            events,
            links,
            norm: crate::semconv::normalize(s),
        }
    }
}

impl SpanColumns {
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Bytes of the variable-length parts held (see `bytes`).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends a span and hands back its normalized view, which the columns copied, and
    /// its content hash.
    pub fn push(&mut self, s: &RawSpan, prepared: PreparedSpan, source: &str) -> (Normalized, u64) {
        self.rows += 1;
        self.trace_id.push(Hex::of(&s.trace_id.0).as_str());
        self.span_id.push(Hex::of(&s.span_id.0).as_str());
        match s.parent_span_id {
            Some(p) => self.parent_span_id.push(Hex::of(&p.0).as_str()),
            None => self.parent_span_id.push_opt(None),
        }
        self.trace_state.push(&s.trace_state);
        self.name.push(&s.name);
        self.kind.push(s.kind.as_str());
        self.start.push(s.start_time_unix_nano);
        self.end.push(s.end_time_unix_nano);
        self.status_code.push(s.status_code.as_str());
        self.status_message.push(&s.status_message);
        self.flags.push(s.flags as i64);
        self.service_name.push_opt(s.resource.service_name());
        self.scope_name.push(&s.scope.name);
        self.scope_version.push(&s.scope.version);
        self.bytes += prepared.attributes.len() + prepared.events.len() + prepared.links.len();
        self.attributes.push(&prepared.attributes);
        self.events.push(&prepared.events);
        self.links.push(&prepared.links);
        self.norm.push(&prepared.norm);
        let (res, scope, context) = self.shared.get(&s.resource, &s.scope);
        self.resource_attributes.push(res);
        self.scope_attributes.push(scope);
        self.source.push(source);
        let hash = content_hash(prepared.body_hash, context);
        // Stored as signed: Spark and others read no unsigned 64-bit Parquet column.
        self.content_hash.push(hash as i64);
        (prepared.norm, hash)
    }

    /// Hands the rows over as a DataFrame and starts empty again.
    pub fn take(&mut self) -> PolarsResult<DataFrame> {
        let t = std::mem::take(self);
        self.shared = t.shared;
        let mut cols: Vec<Column> = vec![
            t.trace_id.column("trace_id"),
            t.span_id.column("span_id"),
            t.parent_span_id.column("parent_span_id"),
            t.trace_state.column("trace_state"),
            t.name.column("name"),
            t.kind.column("kind"),
            Column::new("start_time_unix_nano".into(), t.start),
            Column::new("end_time_unix_nano".into(), t.end),
            t.status_code.column("status_code"),
            t.status_message.column("status_message"),
            Column::new("flags".into(), t.flags),
            t.service_name.column("service_name"),
            t.scope_name.column("scope_name"),
            t.scope_version.column("scope_version"),
            t.attributes.column("attributes"),
            t.events.column("events"),
            t.links.column("links"),
            t.resource_attributes.column("resource_attributes"),
            t.scope_attributes.column("scope_attributes"),
            t.source.column("source"),
            Column::new("content_hash".into(), t.content_hash),
        ];
        t.norm.into_columns(&mut cols);
        DataFrame::new(t.rows, cols)
    }
}

#[derive(Default)]
pub struct LogColumns {
    rows: usize,
    /// Bytes of the bodies and attributes held.
    bytes: usize,
    log_id: Text,
    trace_id: Text,
    span_id: Text,
    time: Vec<i64>,
    observed: Vec<i64>,
    severity_number: Vec<i64>,
    severity_text: Text,
    event_name: Text,
    body: Text,
    attributes: Text,
    flags: Vec<i64>,
    service_name: Text,
    scope_name: Text,
    scope_version: Text,
    resource_attributes: Text,
    source: Text,
    shared: SharedText,
}

/// A log record's identity. OTLP gives log records no id, so it is their content:
/// the same record imported twice hashes the same, two distinct records do not.
pub fn log_id(l: &RawLog, body: &str, attributes: &str) -> u128 {
    let mut h = Xxh3::new();
    h.update(&l.trace_id.map(|t| t.0).unwrap_or_default());
    h.update(&l.span_id.map(|s| s.0).unwrap_or_default());
    h.update(&l.time_unix_nano.to_le_bytes());
    h.update(&l.observed_time_unix_nano.to_le_bytes());
    h.update(&l.severity_number.to_le_bytes());
    feed(&mut h, &[&l.severity_text, &l.event_name, body, attributes]);
    h.digest128()
}

impl LogColumns {
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Bytes of the bodies and attributes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Encodes a record's body and attributes, which its identity is made of.
    pub fn encode(l: &RawLog) -> (String, String) {
        (value_json(&l.body), attributes_json(&l.attributes))
    }

    pub fn push(&mut self, l: &RawLog, id: u128, body: &str, attributes: &str, source: &str) {
        self.rows += 1;
        self.log_id.push(&format!("{id:032x}"));
        match l.trace_id {
            Some(t) => self.trace_id.push(Hex::of(&t.0).as_str()),
            None => self.trace_id.push_opt(None),
        }
        match l.span_id {
            Some(s) => self.span_id.push(Hex::of(&s.0).as_str()),
            None => self.span_id.push_opt(None),
        }
        self.time.push(l.time_unix_nano);
        self.observed.push(l.observed_time_unix_nano);
        self.severity_number.push(l.severity_number as i64);
        self.severity_text.push(&l.severity_text);
        self.event_name.push_opt(l.effective_event_name());
        self.bytes += body.len() + attributes.len();
        self.body.push(body);
        self.attributes.push(attributes);
        self.flags.push(l.flags as i64);
        self.service_name.push_opt(l.resource.service_name());
        self.scope_name.push(&l.scope.name);
        self.scope_version.push(&l.scope.version);
        let (res, _, _) = self.shared.get(&l.resource, &l.scope);
        self.resource_attributes.push(res);
        self.source.push(source);
    }

    pub fn take(&mut self) -> PolarsResult<DataFrame> {
        let t = std::mem::take(self);
        self.shared = t.shared;
        DataFrame::new(
            t.rows,
            vec![
                t.log_id.column("log_id"),
                t.trace_id.column("trace_id"),
                t.span_id.column("span_id"),
                Column::new("time_unix_nano".into(), t.time),
                Column::new("observed_time_unix_nano".into(), t.observed),
                Column::new("severity_number".into(), t.severity_number),
                t.severity_text.column("severity_text"),
                t.event_name.column("event_name"),
                t.body.column("body"),
                t.attributes.column("attributes"),
                Column::new("flags".into(), t.flags),
                t.service_name.column("service_name"),
                t.scope_name.column("scope_name"),
                t.scope_version.column("scope_version"),
                t.resource_attributes.column("resource_attributes"),
                t.source.column("source"),
            ],
        )
    }
}
