//! One trace as `traces show` presents it: its spans as read (from the store or from
//! dumps), the tree, each span's own and rolled-up tokens and cost under the same
//! attribution as `traces cost`, and the conversation its model calls held.

use super::attribution::{Verdict, attribute};
use super::calls::{Calls, LlmCall, SpanRow, calls_from_rows, facts_of, row_from_normalized};
use super::cost_report::{CallFilter, CostReport, PriceCache, ReportBuilder, SumOverflow};
use super::source::Source;
use super::store_set::StoreSet;
use super::tree::Tree;
use crate::ingest::ids::{SpanId, TraceId};
use crate::ingest::raw::{
    AnyValue, Event, RawLog, RawSpan, Record, Resource, Scope, SpanKind, StatusCode,
};
use crate::ingest::{DecodeOptions, IngestError, decode_input, expand_inputs};
use crate::pricing::Pricing;
use crate::pricing::cost::call_cost;
use crate::semconv::model::{Message, Normalized, Part, SpanType};
use crate::semconv::{content, normalize};
use crate::store::encode::{attributes_from_json, value_from_json};
use crate::store::{Store, StoreError};
use polars::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("{0:?} is not a trace id: expected 4 to 32 hexadecimal digits")]
    BadId(String),
    #[error("no trace {id} in {place}")]
    Unknown { id: String, place: String },
    #[error("no trace of session {session:?} in {place}")]
    NoSession { session: String, place: String },
    #[error("{prefix} is the start of {} trace ids: {}; give more digits", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("store: a stored value of span {span} is not valid JSON ({key}): {message}")]
    Stored {
        span: String,
        key: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Sum(#[from] SumOverflow),
}

/// A trace's records as they were read.
#[derive(Debug, Clone, Default)]
pub struct TraceRecords {
    pub trace_id: TraceId,
    pub spans: Vec<RawSpan>,
    pub logs: Vec<RawLog>,
}

/// A full id or a unique prefix of at least 4 hex digits, lowercased; or the Langfuse id
/// of a trace imported from Langfuse JSON.
fn id_prefix(id: &str) -> Result<String, ShowError> {
    if let Some(t) = crate::ingest::langfuse::trace_id_of_text(id) {
        return Ok(t.to_string());
    }
    let p = id.trim().to_ascii_lowercase();
    if !(4..=32).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ShowError::BadId(id.to_string()));
    }
    Ok(p)
}

/// The one trace whose id starts with `prefix` among `candidates`.
fn unique(prefix: &str, candidates: BTreeSet<String>, place: &str) -> Result<String, ShowError> {
    let mut it = candidates.into_iter();
    match (it.next(), it.next()) {
        (None, _) => Err(ShowError::Unknown {
            id: prefix.to_string(),
            place: place.to_string(),
        }),
        (Some(one), None) => Ok(one),
        (Some(a), Some(b)) => {
            let mut all = vec![a, b];
            all.extend(it.take(18));
            Err(ShowError::Ambiguous {
                prefix: prefix.to_string(),
                candidates: all,
            })
        }
    }
}

/// The trace whose id is `id` or starts with it, with its log records.
pub fn load_trace(source: Source, id: &str) -> Result<TraceRecords, ShowError> {
    let prefix = id_prefix(id)?;
    match source {
        Source::Stores(stores) => from_stores(stores, &prefix),
        Source::Dumps(paths) => {
            let mut traces = dump_traces(paths, |t| t.to_string().starts_with(&prefix), |_| {})?;
            let ids = traces.keys().map(TraceId::to_string).collect();
            let id = unique(&prefix, ids, "these dumps")?;
            Ok(traces
                .remove(&TraceId::parse(&id).unwrap_or_default())
                .unwrap_or_default())
        }
    }
}

/// The traces of these full ids, in the order given, each with its log records: the
/// dumps are read once for all of them. Ids not found are left out.
pub fn load_traces(source: Source, ids: &[TraceId]) -> Result<Vec<TraceRecords>, ShowError> {
    match source {
        Source::Stores(stores) => from_stores_many(stores, ids),
        Source::Dumps(paths) => {
            let wanted: foldhash::HashSet<TraceId> = ids.iter().copied().collect();
            let mut traces = dump_traces(paths, |t| wanted.contains(&t), |_| {})?;
            Ok(ids.iter().filter_map(|id| traces.remove(id)).collect())
        }
    }
}

/// The traces of some dumps that `keep` keeps (by trace id), spans and log records;
/// `each` sees every span read, kept or not.
fn dump_traces(
    paths: &[std::path::PathBuf],
    keep: impl Fn(TraceId) -> bool,
    mut each: impl FnMut(&RawSpan),
) -> Result<HashMap<TraceId, TraceRecords>, ShowError> {
    let mut traces: HashMap<TraceId, TraceRecords> = HashMap::new();
    fn of(traces: &mut HashMap<TraceId, TraceRecords>, id: TraceId) -> &mut TraceRecords {
        traces.entry(id).or_insert_with(|| TraceRecords {
            trace_id: id,
            ..Default::default()
        })
    }
    for input in expand_inputs(paths)? {
        decode_input(&input, &DecodeOptions::default(), &mut |r| match r {
            Record::Span(s) => {
                each(&s);
                if keep(s.trace_id) {
                    of(&mut traces, s.trace_id).spans.push(s);
                }
            }
            Record::Log(l) => {
                if let Some(id) = l.trace_id.filter(|t| keep(*t)) {
                    of(&mut traces, id).logs.push(l);
                }
            }
        })?;
    }
    // A trace only log records named has no spans to show.
    traces.retain(|_, t| !t.spans.is_empty());
    Ok(traces)
}

/// The trace ids of the spans `keep` keeps.
fn trace_ids(spans: LazyFrame, keep: Expr) -> Result<BTreeSet<String>, ShowError> {
    let ids = spans.filter(keep).select([col("trace_id")]).collect()?;
    Ok(ids
        .column("trace_id")?
        .str()?
        .iter()
        .flatten()
        .map(String::from)
        .collect())
}

/// The ids of one store's traces that start with `prefix`, and its traces tables, if it
/// has them.
#[allow(clippy::type_complexity)]
fn candidates(
    store: &Store,
    prefix: &str,
) -> Result<(BTreeSet<String>, Option<Vec<crate::store::SpanRanges>>), ShowError> {
    // With traces tables, the id is looked up there and only the rows of the spans
    // files that hold the trace are read.
    let index = store.span_ranges(Some(prefix))?;
    let ids = match &index {
        Some(index) => index
            .iter()
            .flat_map(|s| s.traces.iter())
            .map(|t| t.trace_id.to_string())
            .collect(),
        // A full id needs no search for the traces it could be.
        None if prefix.len() == 32 => BTreeSet::from([prefix.to_string()]),
        None => match store.scan_spans()? {
            Some(spans) => trace_ids(spans, col("trace_id").str().starts_with(lit(prefix)))?,
            None => BTreeSet::new(),
        },
    };
    Ok((ids, index))
}

/// The one trace of the stores whose id is or starts with `prefix`, its spans and log
/// records from every store that holds some.
fn from_stores(stores: &StoreSet, prefix: &str) -> Result<TraceRecords, ShowError> {
    let mut ids = BTreeSet::new();
    let mut indexes = Vec::with_capacity(stores.stores().len());
    for store in stores.stores() {
        let (of_store, index) = candidates(store, prefix)?;
        ids.extend(of_store);
        indexes.push(index);
    }
    let id = unique(prefix, ids, &stores.place())?;
    let trace = TraceId::parse(&id).unwrap_or_default();
    let mut per_store = Vec::with_capacity(indexes.len());
    for (store, index) in stores.stores().iter().zip(&indexes) {
        per_store.push(records_of(store, index.as_deref(), &[trace])?);
    }
    union(per_store, &[trace]).pop().ok_or(ShowError::Unknown {
        id,
        place: stores.place(),
    })
}

/// Several traces of the stores: in each, the traces tables and the logs read once,
/// each trace's spans through its own row ranges (the union of fifty traces' ranges can
/// span a whole segment: read at once, every column of it would be held). Ids no store
/// holds are left out.
fn from_stores_many(stores: &StoreSet, ids: &[TraceId]) -> Result<Vec<TraceRecords>, ShowError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut per_store = Vec::with_capacity(stores.stores().len());
    for store in stores.stores() {
        per_store.push(records_of(store, store.locate(ids)?.as_deref(), ids)?);
    }
    Ok(union(per_store, ids))
}

/// The records of each trace of `ids` over the stores, in the order of `ids`: each span
/// once, the first store's copy kept (as an import keeps the first of an id), and each
/// log record once.
fn union(per_store: Vec<Vec<TraceRecords>>, ids: &[TraceId]) -> Vec<TraceRecords> {
    let mut stores = per_store.into_iter();
    let Some(first) = stores.next() else {
        return Vec::new();
    };
    let mut by_id: HashMap<TraceId, TraceRecords> =
        first.into_iter().map(|t| (t.trace_id, t)).collect();
    for of_store in stores {
        for t in of_store {
            let Some(kept) = by_id.get_mut(&t.trace_id) else {
                by_id.insert(t.trace_id, t);
                continue;
            };
            let spans: std::collections::HashSet<SpanId> =
                kept.spans.iter().map(|s| s.span_id).collect();
            kept.spans
                .extend(t.spans.into_iter().filter(|s| !spans.contains(&s.span_id)));
            let logs: std::collections::HashSet<u128> = kept.logs.iter().map(log_key).collect();
            kept.logs
                .extend(t.logs.into_iter().filter(|l| !logs.contains(&log_key(l))));
        }
    }
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// A log record's identity, as the store keeps it (`columns::log_id`): its content.
fn log_key(l: &RawLog) -> u128 {
    let (body, attributes) = crate::store::columns::LogColumns::encode(l);
    crate::store::columns::log_id(l, &body, &attributes)
}

/// The spans and log records of `ids`, found through `index` (the traces tables), or
/// by a scan of every segment in a store without them.
fn records_of(
    store: &Store,
    index: Option<&[crate::store::SpanRanges]>,
    ids: &[TraceId],
) -> Result<Vec<TraceRecords>, ShowError> {
    let mut by_id: HashMap<TraceId, TraceRecords> = HashMap::new();
    for &id in ids {
        let spans = match index {
            Some(index) => crate::store::spans_near(index, &|t| *t == id)?,
            None => store.scan_spans()?,
        };
        let Some(spans) = spans else { continue };
        let df = spans
            .filter(col("trace_id").eq(lit(id.to_string())))
            .collect()?;
        if df.height() > 0 {
            let spans = spans_of(&df)?;
            by_id.insert(
                id,
                TraceRecords {
                    trace_id: id,
                    spans,
                    logs: Vec::new(),
                },
            );
        }
    }
    if let Some(logs) = store.scan_logs()? {
        let keep = by_id
            .keys()
            .map(|id| col("trace_id").eq(lit(id.to_string())))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false));
        for log in logs_of(&logs.filter(keep).collect()?)? {
            if let Some(t) = log.trace_id.and_then(|id| by_id.get_mut(&id)) {
                t.logs.push(log);
            }
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn text_col<'a>(df: &'a DataFrame, name: &str) -> Result<&'a StringChunked, PolarsError> {
    df.column(name)?.str()
}

fn int_col<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Int64Chunked, PolarsError> {
    df.column(name)?.i64()
}

fn stored_json(
    text: Option<&str>,
    span: &str,
    key: &'static str,
) -> Result<serde_json::Value, ShowError> {
    match text {
        None | Some("") => Ok(serde_json::Value::Null),
        Some(t) => serde_json::from_str(t).map_err(|e| ShowError::Stored {
            span: span.to_string(),
            key,
            message: e.to_string(),
        }),
    }
}

fn attributes_of(
    text: Option<&str>,
    span: &str,
    key: &'static str,
) -> Result<Vec<crate::ingest::raw::KeyValue>, ShowError> {
    match text {
        None | Some("") => Ok(Vec::new()),
        Some(t) => attributes_from_json(t).map_err(|e| ShowError::Stored {
            span: span.to_string(),
            key,
            message: e.to_string(),
        }),
    }
}

/// The stored span rows back as the spans that were imported.
fn spans_of(df: &DataFrame) -> Result<Vec<RawSpan>, ShowError> {
    let t = |n| text_col(df, n);
    let (trace, span, parent, state, name, kind) = (
        t("trace_id")?,
        t("span_id")?,
        t("parent_span_id")?,
        t("trace_state")?,
        t("name")?,
        t("kind")?,
    );
    let (status, status_message, scope_name, scope_version) = (
        t("status_code")?,
        t("status_message")?,
        t("scope_name")?,
        t("scope_version")?,
    );
    let (attrs, events, resource, scope_attrs) = (
        t("attributes")?,
        t("events")?,
        t("resource_attributes")?,
        t("scope_attributes")?,
    );
    let (start, end, flags) = (
        int_col(df, "start_time_unix_nano")?,
        int_col(df, "end_time_unix_nano")?,
        int_col(df, "flags")?,
    );
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let sid = span.get(i).unwrap_or_default();
        out.push(RawSpan {
            trace_id: TraceId::parse(trace.get(i).unwrap_or_default()).unwrap_or_default(),
            span_id: SpanId::parse(sid).unwrap_or_default(),
            parent_span_id: SpanId::parse_parent(parent.get(i).unwrap_or_default())
                .unwrap_or_default(),
            trace_state: state.get(i).unwrap_or_default().to_string(),
            name: name.get(i).unwrap_or_default().to_string(),
            kind: SpanKind::from_name(kind.get(i).unwrap_or_default()).unwrap_or_default(),
            start_time_unix_nano: start.get(i).unwrap_or(0),
            end_time_unix_nano: end.get(i).unwrap_or(0),
            status_code: StatusCode::from_name(status.get(i).unwrap_or_default())
                .unwrap_or_default(),
            status_message: status_message.get(i).unwrap_or_default().to_string(),
            flags: u32::try_from(flags.get(i).unwrap_or(0)).unwrap_or(0),
            attributes: attributes_of(attrs.get(i), sid, "attributes")?,
            events: events_of(stored_json(events.get(i), sid, "events")?),
            links: Vec::new(),
            resource: Arc::new(Resource {
                attributes: attributes_of(resource.get(i), sid, "resource_attributes")?,
            }),
            scope: Arc::new(Scope {
                name: scope_name.get(i).unwrap_or_default().to_string(),
                version: scope_version.get(i).unwrap_or_default().to_string(),
                attributes: attributes_of(scope_attrs.get(i), sid, "scope_attributes")?,
            }),
        });
    }
    Ok(out)
}

/// The inverse of the store's events JSON.
fn events_of(v: serde_json::Value) -> Vec<Event> {
    let serde_json::Value::Array(items) = v else {
        return Vec::new();
    };
    items
        .into_iter()
        .map(|mut e| Event {
            time_unix_nano: e["time_unix_nano"].as_i64().unwrap_or(0),
            name: e["name"].as_str().unwrap_or_default().to_string(),
            attributes: match value_from_json(e["attributes"].take()) {
                AnyValue::KvList(kv) => kv,
                _ => Vec::new(),
            },
        })
        .collect()
}

fn logs_of(df: &DataFrame) -> Result<Vec<RawLog>, ShowError> {
    let t = |n| text_col(df, n);
    let (trace, span, severity_text, event_name, body, attrs, scope_name, scope_version) = (
        t("trace_id")?,
        t("span_id")?,
        t("severity_text")?,
        t("event_name")?,
        t("body")?,
        t("attributes")?,
        t("scope_name")?,
        t("scope_version")?,
    );
    let resource = t("resource_attributes")?;
    let (time, observed, severity, flags) = (
        int_col(df, "time_unix_nano")?,
        int_col(df, "observed_time_unix_nano")?,
        int_col(df, "severity_number")?,
        int_col(df, "flags")?,
    );
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let sid = span.get(i).unwrap_or_default();
        out.push(RawLog {
            trace_id: trace.get(i).and_then(|t| TraceId::parse(t).ok()),
            span_id: span.get(i).and_then(|s| SpanId::parse(s).ok()),
            time_unix_nano: time.get(i).unwrap_or(0),
            observed_time_unix_nano: observed.get(i).unwrap_or(0),
            severity_number: i32::try_from(severity.get(i).unwrap_or(0)).unwrap_or(0),
            severity_text: severity_text.get(i).unwrap_or_default().to_string(),
            event_name: event_name.get(i).unwrap_or_default().to_string(),
            body: value_from_json(stored_json(body.get(i), sid, "body")?),
            attributes: attributes_of(attrs.get(i), sid, "attributes")?,
            flags: u32::try_from(flags.get(i).unwrap_or(0)).unwrap_or(0),
            resource: Arc::new(Resource {
                attributes: attributes_of(resource.get(i), sid, "resource_attributes")?,
            }),
            scope: Arc::new(Scope {
                name: scope_name.get(i).unwrap_or_default().to_string(),
                version: scope_version.get(i).unwrap_or_default().to_string(),
                attributes: Vec::new(),
            }),
        });
    }
    Ok(out)
}

/// Tokens and cost of a span, or of the calls under it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    pub calls: u64,
    pub input_tokens: i64,
    pub cache_read_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    #[serde(serialize_with = "crate::render::exact_number")]
    pub cost_usd: Decimal,
    pub unpriced_calls: u64,
}

impl Tally {
    /// The part of a report's sums a tally shows.
    pub fn of(m: &super::cost_report::Metrics) -> Tally {
        Tally {
            calls: m.calls,
            input_tokens: m.input_tokens,
            cache_read_tokens: m.cache_read_tokens,
            output_tokens: m.output_tokens,
            reasoning_tokens: m.reasoning_tokens,
            cost_usd: m.cost_usd,
            unpriced_calls: m.unpriced_calls,
        }
    }

    fn add(&mut self, o: &Tally) {
        self.calls += o.calls;
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(o.cache_read_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(o.reasoning_tokens);
        self.cost_usd = self
            .cost_usd
            .checked_add(o.cost_usd)
            .unwrap_or(self.cost_usd);
        self.unpriced_calls += o.unpriced_calls;
    }
}

/// Why a span's usage does or does not count.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Counted {
    /// The span is a model call and its usage counts.
    Counts,
    /// Usage recorded here is counted on spans below it.
    CountedBelow,
    /// Another instrumentation's span of the same call counts.
    DuplicateOf { span_id: String },
    /// A model-call span without usage.
    NoUsage,
    /// Not a model call, no usage.
    None,
}

pub struct ShownSpan {
    pub raw: RawSpan,
    pub n: Normalized,
    pub counted: Counted,
    /// What the span's own call counts (zero unless `Counts`).
    pub own: Tally,
    /// Its own and every span's below it.
    pub rolled: Tally,
    /// Starts before its parent does (clock skew between producers).
    pub before_parent: bool,
}

pub struct TraceShow {
    pub trace_id: TraceId,
    pub spans: Vec<ShownSpan>,
    pub tree: Tree,
    /// The counted calls, as `traces cost` counts them.
    pub calls: Calls,
    /// The trace's report, as `traces cost --trace ID` makes it.
    pub report: CostReport,
    pub logs: Vec<RawLog>,
    pub session: Option<String>,
    pub user: Option<String>,
    /// Spans dropped because an earlier span of the trace had their id.
    pub repeated_span_ids: u64,
}

/// A span's name for people: Logfire names spans by their message template
/// (`OpenAI Agents trace: {name}`) and keeps the rendered message beside it.
pub fn display_name(s: &RawSpan) -> String {
    if s.name.contains('{')
        && let Some(msg) = crate::semconv::attrs::Attrs(&s.attributes).str("logfire.msg")
    {
        return msg;
    }
    s.name.clone()
}

/// A duration for people: milliseconds below a second, seconds above.
pub fn duration_text(ns: i64) -> String {
    let v = ns as f64 / 1e6;
    if v >= 1000.0 {
        format!("{:.2}s", v / 1000.0)
    } else {
        format!("{v:.1}ms")
    }
}

/// A byte count for people (`512 B`, `1.5 KB`, `2.0 MB`).
pub fn byte_size(b: u64) -> String {
    if b >= 1024 * 1024 {
        format!("{:.1} MB", b as f64 / (1024.0 * 1024.0))
    } else if b >= 1024 {
        format!("{:.1} KB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

/// A message part as one text: media summarized by type and size, never embedded.
pub fn part_text(p: &Part) -> String {
    match p {
        Part::Text { text } => text.clone(),
        Part::Reasoning { text } => format!("(thinking) {text}"),
        Part::Media {
            media_type, bytes, ..
        } => match bytes {
            Some(b) => format!(
                "[{}, {}]",
                media_type.as_deref().unwrap_or("media"),
                byte_size(*b)
            ),
            None => format!("[{}]", media_type.as_deref().unwrap_or("media")),
        },
        Part::ToolCall {
            id,
            name,
            arguments,
        } => format!(
            "tool call {name}({arguments}){}",
            id.as_ref().map(|i| format!(" [{i}]")).unwrap_or_default()
        ),
        Part::ToolResult {
            tool_call_id,
            content,
        } => format!(
            "tool result{}: {content}",
            tool_call_id
                .as_ref()
                .map(|i| format!(" [{i}]"))
                .unwrap_or_default()
        ),
    }
}

impl ShownSpan {
    /// The model a model call names: the response's, else the request's.
    pub fn model(&self) -> Option<&str> {
        self.n
            .response_model
            .as_deref()
            .or(self.n.request_model.as_deref())
    }

    /// What a failed span says of its failure (`Some("")` when it says nothing).
    pub fn error(&self) -> Option<String> {
        (self.raw.status_code == StatusCode::Error).then(|| {
            self.n
                .error_message
                .clone()
                .or_else(|| {
                    (!self.raw.status_message.is_empty()).then(|| self.raw.status_message.clone())
                })
                .or_else(|| self.n.error_type.clone())
                .unwrap_or_default()
        })
    }
}

/// How a mark on a span's line reads: an explanation, a problem, or a plain note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Quiet,
    Alert,
    Plain,
}

/// The marks a span's line carries in every rendering of the tree: why its usage counts
/// or not, errors, clock skew, a cut cycle.
pub fn marks(t: &TraceShow, i: usize) -> Vec<(Tone, String)> {
    let Some(s) = t.spans.get(i) else {
        return Vec::new();
    };
    let mut m = Vec::new();
    match &s.counted {
        Counted::CountedBelow => m.push((Tone::Quiet, "[counted below]".to_string())),
        Counted::DuplicateOf { span_id } => {
            m.push((Tone::Quiet, format!("[duplicate of {span_id}]")))
        }
        Counted::NoUsage => m.push((Tone::Quiet, "[no usage recorded]".to_string())),
        _ => {}
    }
    if s.own.unpriced_calls > 0 {
        m.push((Tone::Alert, "[no price]".to_string()));
    }
    if let Some(msg) = s.error() {
        let text = format!("error: {msg}");
        m.push((Tone::Alert, text.trim_end_matches(": ").to_string()));
    }
    if s.before_parent {
        m.push((Tone::Plain, "[starts before its parent]".to_string()));
    }
    if t.tree.cycles_cut.contains(&i) {
        m.push((Tone::Plain, "[parent cycle cut]".to_string()));
    }
    m
}

impl TraceShow {
    pub fn start(&self) -> i64 {
        self.spans
            .iter()
            .map(|s| s.raw.start_time_unix_nano)
            .min()
            .unwrap_or(0)
    }

    pub fn end(&self) -> i64 {
        self.spans
            .iter()
            .map(|s| s.raw.end_time_unix_nano.max(s.raw.start_time_unix_nano))
            .max()
            .unwrap_or(0)
    }

    /// From the first start to the last end; saturating, as the times come from files.
    pub fn duration_ns(&self) -> i64 {
        self.end().saturating_sub(self.start())
    }

    /// The first root's name.
    pub fn root_name(&self) -> String {
        self.tree
            .roots
            .first()
            .map_or(String::new(), |&r| display_name(&self.spans[r].raw))
    }

    pub fn service(&self) -> Option<&str> {
        self.tree
            .roots
            .first()
            .and_then(|&r| self.spans[r].raw.resource.service_name())
    }
}

/// Builds the view of one trace: normalized spans, their tree and attribution, each
/// counted call priced as `traces cost` prices it.
pub fn show(records: TraceRecords, pricing: &Pricing) -> Result<TraceShow, ShowError> {
    let TraceRecords {
        trace_id,
        spans,
        logs,
    } = records;
    // One span per id, the first read, as the store keeps it.
    let mut seen = foldhash::HashSet::default();
    let before = spans.len();
    let spans: Vec<RawSpan> = spans
        .into_iter()
        .filter(|s| seen.insert(s.span_id))
        .collect();
    let repeated_span_ids = (before - spans.len()) as u64;
    // Shown in time order, not in the order a dump or the store holds them: the same
    // trace shows alike from a dump, from its import, and after the store is compacted.
    let mut spans = spans;
    spans.sort_by_key(|s| (s.start_time_unix_nano, s.span_id));
    let normalized: Vec<Normalized> = spans.iter().map(normalize).collect();
    let rows: Vec<SpanRow> = spans
        .iter()
        .zip(&normalized)
        .map(|(s, n)| row_from_normalized(s, n.clone(), &[]))
        .collect();
    let refs: Vec<&SpanRow> = rows.iter().collect();
    let facts = facts_of(&refs);
    let attribution = attribute(&facts);
    let calls = calls_from_rows(&rows);

    let mut prices = PriceCache::new(pricing);
    let filter = CallFilter::default();
    let mut builder = ReportBuilder::new(pricing, Vec::new(), &filter, &[]);
    let by_span: HashMap<SpanId, &LlmCall> = calls.calls.iter().map(|c| (c.span_id, c)).collect();
    for c in &calls.calls {
        builder.add(c);
    }
    let report = builder.finish()?;

    let tree = Tree::build(
        &spans.iter().map(|s| s.span_id).collect::<Vec<_>>(),
        &spans.iter().map(|s| s.parent_span_id).collect::<Vec<_>>(),
        &spans
            .iter()
            .map(|s| s.start_time_unix_nano)
            .collect::<Vec<_>>(),
    );
    let own: Vec<Tally> = spans
        .iter()
        .map(|s| match by_span.get(&s.span_id) {
            Some(c) => {
                let cost = c
                    .model()
                    .and_then(|m| prices.entry(m, c.provider.as_deref()))
                    .and_then(|p| call_cost(p.entry, &c.usage, c.start, c.service_tier.as_deref()))
                    .and_then(|cc| cc.usd);
                Tally {
                    calls: 1,
                    input_tokens: c.usage.input.unwrap_or(0),
                    cache_read_tokens: c.usage.cache_read.unwrap_or(0),
                    output_tokens: c.usage.output.unwrap_or(0),
                    reasoning_tokens: c.usage.reasoning.unwrap_or(0),
                    cost_usd: cost.unwrap_or_default(),
                    unpriced_calls: u64::from(cost.is_none()),
                }
            }
            None => Tally::default(),
        })
        .collect();
    let rolled = tree.fold_up(&own, Tally::add);
    let session = tree
        .roots
        .iter()
        .copied()
        .chain(0..spans.len())
        .find_map(|i| attribution.session.get(i).copied().flatten())
        .map(String::from);
    let user = tree
        .roots
        .iter()
        .copied()
        .chain(0..spans.len())
        .find_map(|i| attribution.user.get(i).copied().flatten())
        .map(String::from);

    let shown = spans
        .into_iter()
        .zip(normalized)
        .enumerate()
        .map(|(i, (raw, n))| {
            let counted = match attribution.verdicts.get(i).copied().flatten() {
                Some(Verdict::Counts) if by_span.contains_key(&raw.span_id) => Counted::Counts,
                Some(Verdict::HasUsageBelow) => Counted::CountedBelow,
                Some(Verdict::DuplicateOf(k)) => Counted::DuplicateOf {
                    span_id: facts[k].span_id.to_string(),
                },
                _ if n.span_type.is_model_call() && n.usage.is_empty() => Counted::NoUsage,
                _ => Counted::None,
            };
            let before_parent =
                tree.parent[i].is_some_and(|p| raw.start_time_unix_nano < facts[p].start);
            ShownSpan {
                raw,
                n,
                counted,
                own: own[i].clone(),
                rolled: rolled[i].clone(),
                before_parent,
            }
        })
        .collect();
    Ok(TraceShow {
        trace_id,
        spans: shown,
        tree,
        calls,
        report,
        logs,
        session,
        user,
        repeated_span_ids,
    })
}

/// One entry of the conversation: a message shown once, or a change of the system
/// instructions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Message {
        role: String,
        parts: Vec<Part>,
        /// The span of the call that produced it (assistant output).
        #[serde(skip_serializing_if = "Option::is_none")]
        produced_by: Option<usize>,
    },
    SystemChanged {
        system: Vec<String>,
        at_span: usize,
    },
}

/// A tool call and what came of it, paired by call id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolPair {
    pub call_id: Option<String>,
    pub name: String,
    pub arguments: String,
    pub result: Option<String>,
    /// The tool span that ran it, if one names the call id or the tool.
    pub tool_span: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conversation {
    pub system: Vec<String>,
    pub entries: Vec<Entry>,
    pub tools: Vec<ToolPair>,
    /// Tool results whose call is not in the trace.
    pub orphan_results: Vec<String>,
    /// The model calls read, in order, by span index.
    pub calls: Vec<usize>,
    /// Calls that asked for structured output: span index and the format's name (the
    /// JSON schema's name, else the format's type).
    pub formats: Vec<(usize, String)>,
    /// Message attributes that could not be read: span index, key and why, so that a
    /// conversation is never silently empty.
    pub unreadable: Vec<(usize, String, String)>,
}

/// Attributes that hold messages as JSON text.
const MESSAGE_KEYS: [&str; 8] = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "langfuse.observation.input",
    "langfuse.observation.output",
    "ai.prompt.messages",
    "ai.response.messages",
    "llm.usage",
];

/// The message attributes of a span that are text but not JSON, with why.
fn unreadable(s: &RawSpan) -> Vec<(String, String)> {
    let json_mime = |k: &str| {
        crate::semconv::attrs::Attrs(&s.attributes)
            .str(k)
            .as_deref()
            == Some("application/json")
    };
    s.attributes
        .iter()
        .filter(|kv| {
            MESSAGE_KEYS.contains(&kv.key.as_str())
                || (kv.key == "input.value" && json_mime("input.mime_type"))
                || (kv.key == "output.value" && json_mime("output.mime_type"))
        })
        .filter_map(|kv| match &kv.value {
            AnyValue::String(t) => serde_json::from_str::<serde_json::Value>(t)
                .err()
                .map(|e| (kv.key.clone(), e.to_string())),
            _ => None,
        })
        .collect()
}

/// The name of a call's `response_format` (Chat) or `text.format` (Responses).
fn format_name(parameters: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let f = parameters
        .get("response_format")
        .or_else(|| parameters.get("text").and_then(|t| t.get("format")))?;
    let f = match f {
        serde_json::Value::String(s) => serde_json::from_str(s).unwrap_or(f.clone()),
        other => other.clone(),
    };
    f.get("json_schema")
        .and_then(|j| j.get("name"))
        .or_else(|| f.get("name"))
        .or_else(|| f.get("type"))
        .and_then(|v| v.as_str())
        .map(String::from)
}

/// What makes two messages the same message, whatever call repeated it.
fn message_key(m: &Message) -> String {
    let mut k = m.role.clone();
    for p in &m.parts {
        k.push('\u{1f}');
        match p {
            Part::Text { text } | Part::Reasoning { text } => k.push_str(text.trim()),
            Part::Media {
                media_type, bytes, ..
            } => k.push_str(&format!("media:{media_type:?}:{bytes:?}")),
            Part::ToolCall { id, name, .. } => k.push_str(&format!("call:{id:?}:{name}")),
            Part::ToolResult {
                tool_call_id,
                content,
            } => k.push_str(&format!("result:{tool_call_id:?}:{}", content.trim())),
        }
    }
    k
}

/// The conversation the trace's model calls held: each call repeats the history, so
/// every message is shown once, in order, assistant messages marked with the call
/// that produced them.
pub fn conversation(t: &TraceShow) -> Conversation {
    Transcript::default().add(t)
}

/// What a conversation has shown so far, carried from trace to trace of a session, so
/// that a trace whose first call repeats the previous trace's transcript continues it.
#[derive(Default)]
pub struct Transcript {
    shown: Vec<String>,
    system: Option<Vec<String>>,
}

impl Transcript {
    /// The part of the conversation that trace `t` adds.
    pub fn add(&mut self, t: &TraceShow) -> Conversation {
        let mut calls: Vec<usize> = t
            .spans
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.counted, Counted::Counts | Counted::NoUsage))
            .map(|(i, _)| i)
            .collect();
        calls.sort_by_key(|&i| (t.spans[i].raw.start_time_unix_nano, i));
        let mut out = Conversation {
            calls: calls.clone(),
            ..Default::default()
        };
        for &i in &calls {
            let s = &t.spans[i];
            let logs: Vec<RawLog> = t
                .logs
                .iter()
                .filter(|l| l.span_id == Some(s.raw.span_id))
                .cloned()
                .collect();
            for (key, why) in unreadable(&s.raw) {
                out.unreadable.push((i, key, why));
            }
            let mut c = content(&s.raw, &logs);
            if let Some(f) = format_name(&c.parameters) {
                out.formats.push((i, f));
            }
            // Producers without a key of their own for instructions keep them as messages.
            if c.system.is_empty() {
                c.system = crate::semconv::model::system_texts(&c.input);
            }
            if !c.system.is_empty() {
                match &self.system {
                    None => {
                        out.system = c.system.clone();
                        self.system = Some(c.system.clone());
                    }
                    Some(prev) if *prev != c.system => {
                        out.entries.push(Entry::SystemChanged {
                            system: c.system.clone(),
                            at_span: i,
                        });
                        self.system = Some(c.system.clone());
                    }
                    _ => {}
                }
            }
            // A history message already shown is skipped in order: the next occurrence
            // at or after the last one matched.
            let mut at = 0;
            for m in c
                .input
                .iter()
                .filter(|m| m.role != "system" && m.role != "developer")
            {
                let key = message_key(m);
                match self.shown[at..].iter().position(|k| *k == key) {
                    Some(p) => at += p + 1,
                    None => {
                        self.shown.push(key);
                        at = self.shown.len();
                        out.entries.push(Entry::Message {
                            role: m.role.clone(),
                            parts: m.parts.clone(),
                            produced_by: None,
                        });
                    }
                }
            }
            for m in &c.output {
                self.shown.push(message_key(m));
                // One tool call written twice (as a `tool_calls` entry and as a
                // Responses item) is one call.
                let mut parts: Vec<Part> = Vec::with_capacity(m.parts.len());
                for p in &m.parts {
                    if !parts.contains(p) {
                        parts.push(p.clone());
                    }
                }
                out.entries.push(Entry::Message {
                    role: m.role.clone(),
                    parts,
                    produced_by: Some(i),
                });
            }
        }
        pair_tools(t, &mut out);
        out
    }
}

/// Every trace of a session, in time order of their first span.
pub fn load_session(source: Source, session: &str) -> Result<Vec<TraceRecords>, ShowError> {
    let mut traces: Vec<TraceRecords> = match source {
        Source::Stores(stores) => {
            let mut ids = BTreeSet::new();
            for store in stores.stores() {
                if let Some(spans) = store.scan_spans()? {
                    ids.extend(trace_ids(spans, col("session_id").eq(lit(session)))?);
                }
            }
            ids.iter()
                .map(|id| from_stores(stores, id))
                .collect::<Result<_, _>>()?
        }
        Source::Dumps(paths) => {
            let mut wanted = BTreeSet::new();
            let mut traces = dump_traces(
                paths,
                |_| true,
                |s| {
                    if normalize(s).session_id.as_deref() == Some(session) {
                        wanted.insert(s.trace_id);
                    }
                },
            )?;
            wanted
                .into_iter()
                .filter_map(|t| traces.remove(&t))
                .collect()
        }
    };
    if traces.is_empty() {
        return Err(ShowError::NoSession {
            session: session.to_string(),
            place: match source {
                Source::Stores(s) => s.place(),
                Source::Dumps(_) => "these dumps".into(),
            },
        });
    }
    let first = |t: &TraceRecords| t.spans.iter().map(|s| s.start_time_unix_nano).min();
    traces.sort_by_key(|t| (first(t), t.trace_id));
    Ok(traces)
}

fn attr_text(s: &RawSpan, key: &str) -> Option<String> {
    crate::semconv::attrs::Attrs(&s.attributes).str(key)
}

fn pair_tools(t: &TraceShow, c: &mut Conversation) {
    let mut results: HashMap<String, String> = HashMap::new();
    let mut calls: Vec<(Option<String>, String, String)> = Vec::new();
    for e in &c.entries {
        let Entry::Message { parts, .. } = e else {
            continue;
        };
        for p in parts {
            match p {
                Part::ToolCall {
                    id,
                    name,
                    arguments,
                } => calls.push((id.clone(), name.clone(), arguments.clone())),
                Part::ToolResult {
                    tool_call_id: Some(id),
                    content,
                } => {
                    results.entry(id.clone()).or_insert_with(|| content.clone());
                }
                _ => {}
            }
        }
    }
    let tool_spans: Vec<usize> = t
        .spans
        .iter()
        .enumerate()
        .filter(|(_, s)| s.n.span_type == SpanType::Tool)
        .map(|(i, _)| i)
        .collect();
    let mut used = vec![false; tool_spans.len()];
    let call_ids: BTreeSet<String> = calls.iter().filter_map(|(id, _, _)| id.clone()).collect();
    for (id, name, arguments) in calls {
        let by_id = id.as_ref().and_then(|id| {
            tool_spans.iter().position(|&k| {
                attr_text(&t.spans[k].raw, "gen_ai.tool.call.id").as_deref() == Some(id)
            })
        });
        let by_name = || {
            tool_spans.iter().enumerate().position(|(j, &k)| {
                !used[j]
                    && (attr_text(&t.spans[k].raw, "gen_ai.tool.name").as_deref() == Some(&name)
                        || attr_text(&t.spans[k].raw, "tool.name").as_deref() == Some(&name)
                        || t.spans[k].raw.name == name
                        || t.spans[k].raw.name.ends_with(&format!(" {name}")))
            })
        };
        let found = by_id.or_else(by_name);
        if let Some(j) = found {
            used[j] = true;
        }
        c.tools.push(ToolPair {
            result: id.as_ref().and_then(|i| results.get(i).cloned()),
            call_id: id,
            name,
            arguments,
            tool_span: found.map(|j| tool_spans[j]),
        });
    }
    c.orphan_results = results
        .keys()
        .filter(|id| !call_ids.contains(*id))
        .cloned()
        .collect();
    c.orphan_results.sort();
}

/// The response id a trace's conversation continues: the first call (in time) whose
/// `previous_response_id` names a response no call of the trace produced.
pub fn continues(t: &TraceShow) -> Option<String> {
    let produced: BTreeSet<&str> = t
        .spans
        .iter()
        .filter_map(|s| s.n.response_id.as_deref())
        .collect();
    let mut calls: Vec<&ShownSpan> = t
        .spans
        .iter()
        .filter(|s| s.n.previous_response_id.is_some())
        .collect();
    calls.sort_by_key(|s| s.raw.start_time_unix_nano);
    calls
        .iter()
        .filter_map(|s| s.n.previous_response_id.as_deref())
        .find(|p| !produced.contains(p))
        .map(String::from)
}

/// The traces before `t` in its Responses API chain, oldest first: the conversation
/// of a chain of calls linked by `previous_response_id` lives in the responses they
/// name, which other traces may hold (one trace per request of a web app).
pub fn earlier_in_chain(
    source: Source,
    t: &TraceShow,
    pricing: &Pricing,
) -> Result<Vec<TraceShow>, ShowError> {
    const MAX_HOPS: usize = 100;
    let mut chain = Vec::new();
    let mut seen = BTreeSet::from([t.trace_id]);
    let mut want = continues(t);
    let mut dumps: Option<(HashMap<String, TraceId>, HashMap<TraceId, TraceRecords>)> = None;
    while let Some(response) = want.take() {
        if chain.len() >= MAX_HOPS {
            break;
        }
        let records = match source {
            Source::Stores(stores) => {
                let mut found = None;
                for store in stores.stores() {
                    let Some(spans) = store.scan_spans()? else {
                        continue;
                    };
                    let hit = spans
                        .filter(col("response_id").eq(lit(response.as_str())))
                        .select([col("trace_id")])
                        .limit(1)
                        .collect()?;
                    found = hit.column("trace_id")?.str()?.get(0).map(String::from);
                    if found.is_some() {
                        break;
                    }
                }
                let Some(id) = found else {
                    break;
                };
                from_stores(stores, &id)?
            }
            Source::Dumps(paths) => {
                if dumps.is_none() {
                    dumps = Some(index_dumps(paths)?);
                }
                let (by_response, traces) = dumps.as_mut().expect("indexed above");
                let Some(id) = by_response.get(&response).copied() else {
                    break;
                };
                match traces.get(&id) {
                    Some(r) => r.clone(),
                    None => break,
                }
            }
        };
        if !seen.insert(records.trace_id) {
            break;
        }
        let earlier = show(records, pricing)?;
        want = continues(&earlier);
        chain.push(earlier);
    }
    chain.reverse();
    Ok(chain)
}

/// Every trace of some dumps, and which trace produced each response id.
#[allow(clippy::type_complexity)]
fn index_dumps(
    paths: &[std::path::PathBuf],
) -> Result<(HashMap<String, TraceId>, HashMap<TraceId, TraceRecords>), ShowError> {
    let mut by_response = HashMap::new();
    let traces = dump_traces(
        paths,
        |_| true,
        |s| {
            if let Some(id) = normalize(s).response_id {
                by_response.entry(id).or_insert(s.trace_id);
            }
        },
    )?;
    Ok((by_response, traces))
}
