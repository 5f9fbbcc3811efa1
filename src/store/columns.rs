//! The columns of the store, and the builders that turn decoded records into them.
//! Ids are lowercase hex text and times are Unix nanoseconds, so DuckDB and others read
//! the files as they are; raw attributes, events and links are lossless JSON text.

use super::encode::{attributes_json, events_json, links_json, value_json};
use crate::ingest::raw::{RawLog, RawSpan, Resource, Scope};
use crate::semconv::model::Normalized;
use polars::prelude::*;
use std::sync::Arc;

/// Resource and scope JSON, encoded once per batch rather than once per span.
#[derive(Default)]
struct SharedText {
    last: Option<(*const Resource, *const Scope)>,
    resource: String,
    scope_attrs: String,
}

impl SharedText {
    fn get(&mut self, r: &Arc<Resource>, s: &Arc<Scope>) -> (&str, &str) {
        let key = (Arc::as_ptr(r), Arc::as_ptr(s));
        if self.last != Some(key) {
            self.resource = attributes_json(&r.attributes);
            self.scope_attrs = attributes_json(&s.attributes);
            self.last = Some(key);
        }
        (&self.resource, &self.scope_attrs)
    }
}

#[derive(Default)]
pub struct SpanColumns {
    trace_id: Vec<String>,
    span_id: Vec<String>,
    parent_span_id: Vec<Option<String>>,
    trace_state: Vec<String>,
    name: Vec<String>,
    kind: Vec<&'static str>,
    start: Vec<i64>,
    end: Vec<i64>,
    status_code: Vec<&'static str>,
    status_message: Vec<String>,
    flags: Vec<i64>,
    service_name: Vec<Option<String>>,
    scope_name: Vec<String>,
    scope_version: Vec<String>,
    attributes: Vec<String>,
    events: Vec<String>,
    links: Vec<String>,
    resource_attributes: Vec<String>,
    scope_attributes: Vec<String>,
    source: Vec<Arc<str>>,
    norm: NormColumns,
    shared: SharedText,
}

/// The dialect layer's view of each span (see `semconv`). Null where the span does not
/// say: missing usage is unknown, not zero.
#[derive(Default)]
struct NormColumns {
    span_type: Vec<&'static str>,
    operation: Vec<Option<String>>,
    provider: Vec<Option<String>>,
    request_model: Vec<Option<String>>,
    response_model: Vec<Option<String>>,
    session_id: Vec<Option<String>>,
    user_id: Vec<Option<String>>,
    input_tokens: Vec<Option<i64>>,
    output_tokens: Vec<Option<i64>>,
    cache_read_tokens: Vec<Option<i64>>,
    cache_write_tokens: Vec<Option<i64>>,
    reasoning_tokens: Vec<Option<i64>>,
    usage_source: Vec<Option<String>>,
    recorded_cost_usd: Vec<Option<f64>>,
    response_id: Vec<Option<String>>,
    previous_response_id: Vec<Option<String>>,
    service_tier: Vec<Option<String>>,
    finish_reasons: Vec<Option<String>>,
    error_type: Vec<Option<String>>,
}

impl NormColumns {
    fn push(&mut self, n: Normalized) {
        self.span_type.push(n.span_type.as_str());
        self.operation.push(n.operation);
        self.provider.push(n.provider);
        self.request_model.push(n.request_model);
        self.response_model.push(n.response_model);
        self.session_id.push(n.session_id);
        self.user_id.push(n.user_id);
        self.input_tokens.push(n.usage.input);
        self.output_tokens.push(n.usage.output);
        self.cache_read_tokens.push(n.usage.cache_read);
        self.cache_write_tokens.push(n.usage.cache_write);
        self.reasoning_tokens.push(n.usage.reasoning);
        self.usage_source.push(n.usage_source);
        self.recorded_cost_usd.push(n.recorded_cost_usd);
        self.response_id.push(n.response_id);
        self.previous_response_id.push(n.previous_response_id);
        self.service_tier.push(n.service_tier);
        self.finish_reasons.push(
            (!n.finish_reasons.is_empty())
                .then(|| serde_json::to_string(&n.finish_reasons).unwrap_or_default()),
        );
        self.error_type.push(n.error_type);
    }

    fn into_columns(self, cols: &mut Vec<Column>) {
        cols.extend([
            Column::new("span_type".into(), self.span_type),
            Column::new("operation".into(), self.operation),
            Column::new("provider".into(), self.provider),
            Column::new("request_model".into(), self.request_model),
            Column::new("response_model".into(), self.response_model),
            Column::new("session_id".into(), self.session_id),
            Column::new("user_id".into(), self.user_id),
            Column::new("input_tokens".into(), self.input_tokens),
            Column::new("output_tokens".into(), self.output_tokens),
            Column::new("cache_read_tokens".into(), self.cache_read_tokens),
            Column::new("cache_write_tokens".into(), self.cache_write_tokens),
            Column::new("reasoning_tokens".into(), self.reasoning_tokens),
            Column::new("usage_source".into(), self.usage_source),
            Column::new("recorded_cost_usd".into(), self.recorded_cost_usd),
            Column::new("response_id".into(), self.response_id),
            Column::new("previous_response_id".into(), self.previous_response_id),
            Column::new("service_tier".into(), self.service_tier),
            Column::new("finish_reasons".into(), self.finish_reasons),
            Column::new("error_type".into(), self.error_type),
        ]);
    }
}

/// What is computed per span before it is appended, in parallel: the JSON texts of its
/// raw parts and its normalized view.
pub struct PreparedSpan {
    attributes: String,
    events: String,
    links: String,
    norm: Normalized,
}

impl PreparedSpan {
    pub fn normalized(&self) -> &Normalized {
        &self.norm
    }

    pub fn new(s: &RawSpan) -> PreparedSpan {
        PreparedSpan {
            attributes: attributes_json(&s.attributes),
            events: events_json(&s.events),
            links: links_json(&s.links),
            norm: crate::semconv::normalize(s),
        }
    }
}

impl SpanColumns {
    pub fn len(&self) -> usize {
        self.trace_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trace_id.is_empty()
    }

    pub fn push(&mut self, s: &RawSpan, prepared: PreparedSpan, source: &Arc<str>) {
        self.trace_id.push(s.trace_id.to_string());
        self.span_id.push(s.span_id.to_string());
        self.parent_span_id
            .push(s.parent_span_id.map(|p| p.to_string()));
        self.trace_state.push(s.trace_state.clone());
        self.name.push(s.name.clone());
        self.kind.push(s.kind.as_str());
        self.start.push(s.start_time_unix_nano);
        self.end.push(s.end_time_unix_nano);
        self.status_code.push(s.status_code.as_str());
        self.status_message.push(s.status_message.clone());
        self.flags.push(s.flags as i64);
        self.service_name
            .push(s.resource.service_name().map(str::to_string));
        self.scope_name.push(s.scope.name.clone());
        self.scope_version.push(s.scope.version.clone());
        self.attributes.push(prepared.attributes);
        self.events.push(prepared.events);
        self.links.push(prepared.links);
        self.norm.push(prepared.norm);
        let (res, scope) = self.shared.get(&s.resource, &s.scope);
        self.resource_attributes.push(res.to_string());
        self.scope_attributes.push(scope.to_string());
        self.source.push(source.clone());
    }

    /// Hands the rows over as a DataFrame and starts empty again.
    pub fn take(&mut self) -> PolarsResult<DataFrame> {
        let t = std::mem::take(self);
        self.shared = t.shared;
        let n = t.trace_id.len();
        let mut cols: Vec<Column> = vec![
            Column::new("trace_id".into(), t.trace_id),
            Column::new("span_id".into(), t.span_id),
            Column::new("parent_span_id".into(), t.parent_span_id),
            Column::new("trace_state".into(), t.trace_state),
            Column::new("name".into(), t.name),
            Column::new("kind".into(), t.kind),
            Column::new("start_time_unix_nano".into(), t.start),
            Column::new("end_time_unix_nano".into(), t.end),
            Column::new("status_code".into(), t.status_code),
            Column::new("status_message".into(), t.status_message),
            Column::new("flags".into(), t.flags),
            Column::new("service_name".into(), t.service_name),
            Column::new("scope_name".into(), t.scope_name),
            Column::new("scope_version".into(), t.scope_version),
            Column::new("attributes".into(), t.attributes),
            Column::new("events".into(), t.events),
            Column::new("links".into(), t.links),
            Column::new("resource_attributes".into(), t.resource_attributes),
            Column::new("scope_attributes".into(), t.scope_attributes),
            Column::new(
                "source".into(),
                t.source.iter().map(|s| s.as_ref()).collect::<Vec<&str>>(),
            ),
        ];
        t.norm.into_columns(&mut cols);
        DataFrame::new(n, cols)
    }
}

#[derive(Default)]
pub struct LogColumns {
    log_id: Vec<String>,
    trace_id: Vec<Option<String>>,
    span_id: Vec<Option<String>>,
    time: Vec<i64>,
    observed: Vec<i64>,
    severity_number: Vec<i64>,
    severity_text: Vec<String>,
    event_name: Vec<Option<String>>,
    body: Vec<String>,
    attributes: Vec<String>,
    flags: Vec<i64>,
    service_name: Vec<Option<String>>,
    scope_name: Vec<String>,
    scope_version: Vec<String>,
    resource_attributes: Vec<String>,
    source: Vec<Arc<str>>,
    shared: SharedText,
}

/// A log record's identity. OTLP gives log records no id, so it is their content:
/// the same record imported twice hashes the same, two distinct records do not.
pub fn log_id(l: &RawLog, body: &str, attributes: &str) -> u128 {
    use xxhash_rust::xxh3::Xxh3;
    let mut h = Xxh3::new();
    h.update(&l.trace_id.map(|t| t.0).unwrap_or_default());
    h.update(&l.span_id.map(|s| s.0).unwrap_or_default());
    h.update(&l.time_unix_nano.to_le_bytes());
    h.update(&l.observed_time_unix_nano.to_le_bytes());
    h.update(&l.severity_number.to_le_bytes());
    for part in [
        l.severity_text.as_str(),
        l.event_name.as_str(),
        body,
        attributes,
    ] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.digest128()
}

impl LogColumns {
    pub fn len(&self) -> usize {
        self.log_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log_id.is_empty()
    }

    /// Encodes a record's body and attributes, which its identity is made of.
    pub fn encode(l: &RawLog) -> (String, String) {
        (value_json(&l.body), attributes_json(&l.attributes))
    }

    pub fn push(
        &mut self,
        l: &RawLog,
        id: String,
        body: String,
        attributes: String,
        source: &Arc<str>,
    ) {
        self.log_id.push(id);
        self.trace_id.push(l.trace_id.map(|t| t.to_string()));
        self.span_id.push(l.span_id.map(|s| s.to_string()));
        self.time.push(l.time_unix_nano);
        self.observed.push(l.observed_time_unix_nano);
        self.severity_number.push(l.severity_number as i64);
        self.severity_text.push(l.severity_text.clone());
        self.event_name
            .push(l.effective_event_name().map(str::to_string));
        self.body.push(body);
        self.attributes.push(attributes);
        self.flags.push(l.flags as i64);
        self.service_name
            .push(l.resource.service_name().map(str::to_string));
        self.scope_name.push(l.scope.name.clone());
        self.scope_version.push(l.scope.version.clone());
        let (res, _) = self.shared.get(&l.resource, &l.scope);
        self.resource_attributes.push(res.to_string());
        self.source.push(source.clone());
    }

    pub fn take(&mut self) -> PolarsResult<DataFrame> {
        let t = std::mem::take(self);
        self.shared = t.shared;
        let n = t.log_id.len();
        DataFrame::new(
            n,
            vec![
                Column::new("log_id".into(), t.log_id),
                Column::new("trace_id".into(), t.trace_id),
                Column::new("span_id".into(), t.span_id),
                Column::new("time_unix_nano".into(), t.time),
                Column::new("observed_time_unix_nano".into(), t.observed),
                Column::new("severity_number".into(), t.severity_number),
                Column::new("severity_text".into(), t.severity_text),
                Column::new("event_name".into(), t.event_name),
                Column::new("body".into(), t.body),
                Column::new("attributes".into(), t.attributes),
                Column::new("flags".into(), t.flags),
                Column::new("service_name".into(), t.service_name),
                Column::new("scope_name".into(), t.scope_name),
                Column::new("scope_version".into(), t.scope_version),
                Column::new("resource_attributes".into(), t.resource_attributes),
                Column::new(
                    "source".into(),
                    t.source.iter().map(|s| s.as_ref()).collect::<Vec<&str>>(),
                ),
            ],
        )
    }
}
