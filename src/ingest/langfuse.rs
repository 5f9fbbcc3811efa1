//! Langfuse's own JSON: the ingestion batches its SDKs post (`{"batch": [events]}`, or
//! one event per line), trace exports (`{"trace": {…}, "observations": [...]}`) and
//! public API pages (`{"data": [...]}` of traces, observations or sessions).
//!
//! A Langfuse observation is known only once every event for it has been read (an
//! update may carry just the end time or the usage, in a later batch), so pieces are
//! held until the end of the input and assembled there into spans:
//!
//! - Ids: a trace id that is a UUID or 32 hex digits is those 16 bytes (dashes
//!   dropped); any other id is the XXH3-128 of its UTF-8 text. An observation id of 16
//!   hex digits is those 8 bytes, any other the XXH3-64 of its text. The original ids
//!   stay in `langfuse.trace.id` and `langfuse.observation.id`.
//! - A trace recorded by the Langfuse SDK 2.x (no OTel origin) becomes a root span
//!   carrying its name, session, user, tags, release, version and metadata; its
//!   top-level observations hang under it. A trace that came in over OTel (its metadata
//!   names a resource or scope) already has its root span among its observations.
//! - Observations become spans in the Langfuse SDK's OTel dialect
//!   (`langfuse.observation.*`), which the normalizer reads; EVENT observations become
//!   span events of their parent. An observation that came from another OTel
//!   instrumentation keeps its original attributes from `metadata.attributes`: those
//!   are what the instrumentation recorded, while Langfuse's `usageDetails` and
//!   `costDetails` there are derived from them or, where the span had no usage, its own
//!   tokenizer estimate. They are kept under `langfuse.export.*`, never counted.

use super::error::{Invalid, Location};
use super::ids::{SpanId, TraceId};
use super::json_value::{kind_of, str_at, to_attributes};
use super::raw::{
    AnyValue, Event, KeyValue, RawSpan, Record, Resource, Scope, SpanKind, StatusCode,
};
use super::timestamp::to_unix_nanos;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

/// One Langfuse event or object, checked for the types of the fields it carries.
#[derive(Debug, PartialEq)]
pub struct Piece {
    what: What,
    /// The ingestion event's own id: the same event sent twice counts once.
    event_id: Option<String>,
    /// The event's time, by which creates and updates of one id are merged.
    at: Option<i64>,
    /// Whether this is an update event, which cannot make an observation alone.
    update: bool,
    body: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Trace,
    /// The type as the event named it (`span-create` → SPAN), when it did.
    Observation(Option<&'static str>),
}

/// Whether an object is Langfuse's: a batch, an export, an event, or an API object.
pub fn looks_like(obj: &Map<String, Value>) -> bool {
    matches!(obj.get("batch"), Some(Value::Array(_)))
        || matches!(obj.get("trace"), Some(Value::Object(t)) if t.contains_key("id"))
        || event_type(obj).is_some()
        || is_trace_object(obj)
        || is_observation_object(obj)
        || is_session_object(obj)
}

fn event_type(obj: &Map<String, Value>) -> Option<&str> {
    let t = obj.get("type")?.as_str()?;
    (obj.get("body").is_some_and(Value::is_object) && t.contains('-')).then_some(t)
}

fn is_trace_object(obj: &Map<String, Value>) -> bool {
    obj.contains_key("id")
        && obj.contains_key("timestamp")
        && !obj.contains_key("traceId")
        && [
            "projectId",
            "observations",
            "sessionId",
            "userId",
            "htmlPath",
        ]
        .iter()
        .any(|k| obj.contains_key(*k))
}

fn is_observation_object(obj: &Map<String, Value>) -> bool {
    obj.contains_key("id")
        && obj.contains_key("traceId")
        && obj.contains_key("type")
        && obj.contains_key("startTime")
}

fn is_session_object(obj: &Map<String, Value>) -> bool {
    obj.contains_key("id")
        && obj.contains_key("createdAt")
        && obj.contains_key("projectId")
        && !obj.contains_key("timestamp")
        && !obj.contains_key("traceId")
}

/// The pieces one top-level object holds.
pub fn pieces(mut obj: Map<String, Value>) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    if let Some(Value::Array(events)) = obj.remove("batch") {
        for (i, e) in events.into_iter().enumerate() {
            let Value::Object(e) = e else {
                return Err(format!(
                    "batch[{i}] must be an object, found {}",
                    kind_of(&e)
                ));
            };
            if let Some(p) = event(e).map_err(|m| format!("batch[{i}]: {m}"))? {
                out.push(p);
            }
        }
        return Ok(out);
    }
    if let Some(Value::Object(mut trace)) = obj.remove("trace") {
        // An export lists the observations under the trace, at the top level, or both,
        // with the same ids.
        for list in [trace.remove("observations"), obj.remove("observations")] {
            observations_into(list, "observations", &mut out)?;
        }
        out.insert(0, object(What::Trace, trace)?);
        return Ok(out);
    }
    if event_type(&obj).is_some() {
        out.extend(event(obj)?);
        return Ok(out);
    }
    if is_observation_object(&obj) {
        out.push(object(What::Observation(None), obj)?);
        return Ok(out);
    }
    if is_session_object(&obj) {
        // A session from the API holds its traces (without their observations).
        let session = obj.get("id").cloned();
        if let Some(Value::Array(traces)) = obj.remove("traces") {
            for (i, t) in traces.into_iter().enumerate() {
                let Value::Object(mut t) = t else {
                    return Err(format!("traces[{i}] must be an object"));
                };
                if !t.contains_key("sessionId")
                    && let Some(s) = &session
                {
                    t.insert("sessionId".into(), s.clone());
                }
                out.push(object(What::Trace, t)?);
            }
        }
        return Ok(out);
    }
    // A trace from the API: its observations are full objects in the single-trace
    // endpoint and bare ids in the list, which hold nothing to read.
    let list = obj.remove("observations");
    out.push(object(What::Trace, obj)?);
    if let Some(Value::Array(items)) = list {
        let full: Vec<Value> = items.into_iter().filter(Value::is_object).collect();
        observations_into(Some(Value::Array(full)), "observations", &mut out)?;
    }
    Ok(out)
}

fn observations_into(list: Option<Value>, key: &str, out: &mut Vec<Piece>) -> Result<(), String> {
    match list {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => {
            for (i, o) in items.into_iter().enumerate() {
                let Value::Object(o) = o else {
                    return Err(format!(
                        "{key}[{i}] must be an object, found {}",
                        kind_of(&o)
                    ));
                };
                out.push(
                    object(What::Observation(None), o).map_err(|m| format!("{key}[{i}]: {m}"))?,
                );
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "`{key}` must be an array, found {}",
            kind_of(&other)
        )),
    }
}

fn object(what: What, body: Map<String, Value>) -> Result<Piece, String> {
    check(&body, what)?;
    Ok(Piece {
        what,
        event_id: None,
        at: None,
        update: false,
        body,
    })
}

/// One ingestion event; `None` for events that carry no span (scores, SDK logs).
fn event(mut e: Map<String, Value>) -> Result<Option<Piece>, String> {
    let ty = match e.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(other) => return Err(format!("`type` must be a string, found {}", kind_of(other))),
        None => return Err("an event needs a `type`".into()),
    };
    let (what, update) = match ty.as_str() {
        "trace-create" => (What::Trace, false),
        "span-create" => (What::Observation(Some("SPAN")), false),
        "span-update" => (What::Observation(Some("SPAN")), true),
        "generation-create" => (What::Observation(Some("GENERATION")), false),
        "generation-update" => (What::Observation(Some("GENERATION")), true),
        "event-create" => (What::Observation(Some("EVENT")), false),
        "observation-create" => (What::Observation(None), false),
        "observation-update" => (What::Observation(None), true),
        t if t.starts_with("agent-")
            || t.starts_with("tool-")
            || t.starts_with("chain-")
            || t.starts_with("retriever-")
            || t.starts_with("embedding-")
            || t.starts_with("evaluator-")
            || t.starts_with("guardrail-") =>
        {
            let kind = match t.split('-').next().unwrap_or_default() {
                "agent" => "AGENT",
                "tool" => "TOOL",
                "chain" => "CHAIN",
                "retriever" => "RETRIEVER",
                "embedding" => "EMBEDDING",
                "evaluator" => "EVALUATOR",
                _ => "GUARDRAIL",
            };
            (What::Observation(Some(kind)), t.ends_with("-update"))
        }
        // Scores, SDK logs, dataset items, prompts: nothing a span holds.
        _ => return Ok(None),
    };
    let at = match e.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(v) => Some(to_unix_nanos(v).map_err(|m| format!("`timestamp`: {m}"))?),
    };
    let event_id = match e.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let Some(Value::Object(body)) = e.remove("body") else {
        return Err(format!("a {ty} event needs a `body` object"));
    };
    check(&body, what).map_err(|m| format!("{ty} body: {m}"))?;
    Ok(Some(Piece {
        what,
        event_id,
        at,
        update,
        body,
    }))
}

/// The fields a span is made of must have their types: an error names the field.
fn check(body: &Map<String, Value>, what: What) -> Result<(), String> {
    let id = match body.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Number(_)) | None | Some(Value::Null) => {
            return Err(match what {
                What::Trace => "a trace needs an `id` (a string)".into(),
                What::Observation(_) => "an observation needs an `id` (a string)".into(),
            });
        }
        Some(other) => return Err(format!("`id` must be a string, found {}", kind_of(other))),
    };
    for key in [
        "traceId",
        "parentObservationId",
        "name",
        "model",
        "sessionId",
        "userId",
    ] {
        str_at(body, key).map_err(|m| format!("{id}: {m}"))?;
    }
    for key in ["timestamp", "startTime", "endTime", "completionStartTime"] {
        if let Some(v) = body.get(key)
            && !v.is_null()
        {
            to_unix_nanos(v).map_err(|m| format!("{id}: `{key}`: {m}"))?;
        }
    }
    for key in [
        "usage",
        "usageDetails",
        "costDetails",
        "providedUsageDetails",
    ] {
        match body.get(key) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(format!(
                    "{id}: `{key}` must be an object, found {}",
                    kind_of(other)
                ));
            }
        }
    }
    Ok(())
}

/// A Langfuse trace id as a trace id (see the module's documentation).
pub fn trace_id_for(id: &str) -> TraceId {
    let plain: String = if is_uuid(id) {
        id.chars().filter(|c| *c != '-').collect()
    } else {
        id.to_string()
    };
    if plain.len() == 32
        && plain.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(t) = TraceId::parse(&plain.to_ascii_lowercase())
        && !t.is_zero()
    {
        return t;
    }
    let h = xxh3_128(id.as_bytes()).max(1);
    TraceId::from_bytes(&h.to_be_bytes()).unwrap_or_else(|| unreachable!("16 bytes"))
}

/// The trace id a user means by `id` when it is not hex: a Langfuse id (a UUID or
/// any other text), as `--trace` and `show` accept them.
pub fn trace_id_of_text(id: &str) -> Option<TraceId> {
    let id = id.trim();
    (!id.is_empty() && !id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| trace_id_for(id))
}

/// Whether `id` is written as a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 5
        && parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn span_id_for(id: &str) -> SpanId {
    if id.len() == 16
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(s) = SpanId::parse(&id.to_ascii_lowercase())
        && !s.is_zero()
    {
        return s;
    }
    let h = xxh3_64(id.as_bytes()).max(1);
    SpanId::from_bytes(&h.to_be_bytes()).unwrap_or_else(|| unreachable!("8 bytes"))
}

/// The root span made for a Langfuse-native trace.
fn root_span_id(trace: &str) -> SpanId {
    span_id_for(&format!("langfuse trace {trace}"))
}

/// Pieces held until the end of one input.
#[derive(Debug, Default)]
pub struct Assembler {
    pieces: Vec<Piece>,
}

/// What an input's pieces made.
#[derive(Debug, Default)]
pub struct Assembled {
    pub records: Vec<Record>,
    pub skipped: Vec<Invalid>,
    pub notes: Vec<String>,
}

#[derive(Default)]
struct Merged {
    body: Map<String, Value>,
    ty: Option<&'static str>,
    created: bool,
}

impl Merged {
    fn absorb(&mut self, p: Piece) {
        if let What::Observation(Some(t)) = p.what {
            self.ty.get_or_insert(t);
        }
        self.created |= !p.update;
        for (k, v) in p.body {
            // An update says only what changed: a null or absent field keeps the value.
            if !v.is_null() {
                self.body.insert(k, v);
            }
        }
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.body
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// An object field that says something: absent, null and `{}` alike are nothing.
    fn object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.body
            .get(key)
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
    }

    fn time(&self, key: &str) -> Option<i64> {
        self.body
            .get(key)
            .and_then(|v| to_unix_nanos(v).ok())
            .filter(|t| *t != 0)
    }
}

impl Assembler {
    pub fn add(&mut self, p: Piece) {
        self.pieces.push(p);
    }

    pub fn assemble(self, file: &str, skip_invalid: bool) -> Result<Assembled, super::IngestError> {
        let mut out = Assembled::default();
        if self.pieces.is_empty() {
            return Ok(out);
        }
        let mut pieces = self.pieces;
        let mut seen = HashSet::new();
        let before = pieces.len();
        pieces.retain(|p| p.event_id.as_ref().is_none_or(|id| seen.insert(id.clone())));
        if pieces.len() < before {
            out.notes.push(format!(
                "{} Langfuse event(s) sent twice (same event id): counted once",
                before - pieces.len()
            ));
        }
        // Creates and updates merge in the order they happened; objects without an event
        // time keep the order they were read in (the sort is stable).
        pieces.sort_by_key(|p| p.at.unwrap_or(i64::MIN));
        let mut trace_order: Vec<String> = Vec::new();
        let mut traces: HashMap<String, Merged> = HashMap::new();
        let mut obs_order: Vec<String> = Vec::new();
        let mut observations: HashMap<String, Merged> = HashMap::new();
        for p in pieces {
            let id = p
                .body
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let (order, map) = match p.what {
                What::Trace => (&mut trace_order, &mut traces),
                What::Observation(_) => (&mut obs_order, &mut observations),
            };
            map.entry(id.clone())
                .or_insert_with(|| {
                    order.push(id);
                    Merged::default()
                })
                .absorb(p);
        }
        for m in observations.values_mut().chain(traces.values_mut()) {
            parse_metadata(m);
        }
        let mut by_trace: HashMap<String, Vec<String>> = HashMap::new();
        let mut invalid = Vec::new();
        for id in &obs_order {
            let o = &observations[id];
            if !o.created {
                invalid.push(format!(
                    "observation {id}: only update events, no create: its start, name and trace are unknown"
                ));
                continue;
            }
            let Some(trace) = o.str("traceId") else {
                invalid.push(format!("observation {id}: no `traceId`"));
                continue;
            };
            if o.time("startTime").is_none() {
                invalid.push(format!("observation {id}: no `startTime`"));
                continue;
            }
            if !traces.contains_key(trace) {
                trace_order.push(trace.to_string());
                traces.insert(trace.to_string(), Merged::default());
            }
            by_trace
                .entry(trace.to_string())
                .or_default()
                .push(id.clone());
        }
        for message in invalid {
            let inv = Invalid {
                file: file.to_string(),
                location: Location::File,
                message,
            };
            if !skip_invalid {
                return Err(super::IngestError::Invalid(inv));
            }
            out.skipped.push(inv);
        }
        let mut placeholders = 0;
        for tid in &trace_order {
            let t = &traces[tid];
            let obs: Vec<&Merged> = by_trace
                .get(tid)
                .map(|ids| ids.iter().map(|i| &observations[i]).collect())
                .unwrap_or_default();
            if t.body.is_empty() {
                placeholders += 1;
            }
            trace_spans(tid, t, &obs, &mut out.records);
        }
        if placeholders > 0 {
            out.notes.push(format!(
                "{placeholders} Langfuse trace(s) appear only in their observations: their spans are kept under a placeholder trace"
            ));
        }
        Ok(out)
    }
}

/// Whether a trace or observation came in over OTel: Langfuse keeps the span's
/// resource and scope in its metadata.
fn otel_metadata(m: &Merged) -> Option<&Map<String, Value>> {
    let meta = m.body.get("metadata")?;
    let obj = meta.as_object()?;
    (obj.contains_key("resourceAttributes") || obj.contains_key("scope")).then_some(obj)
}

/// Langfuse serves `metadata` as an object or as the JSON text of one.
fn parse_metadata(m: &mut Merged) {
    if let Some(Value::String(s)) = m.body.get("metadata")
        && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(s)
    {
        m.body.insert("metadata".into(), v);
    }
}

fn trace_spans(tid: &str, t: &Merged, obs: &[&Merged], out: &mut Vec<Record>) {
    let trace_id = trace_id_for(tid);
    // A trace that came in over OTel has its root among its observations; one known
    // only from its observations did if they all did.
    let otel_trace = otel_metadata(t).is_some()
        || (t.body.is_empty() && !obs.is_empty() && obs.iter().all(|o| otel_metadata(o).is_some()));
    let mut identity = Vec::new();
    str_attr(&mut identity, "langfuse.trace.id", Some(tid));
    str_attr(&mut identity, "langfuse.session.id", t.str("sessionId"));
    str_attr(&mut identity, "langfuse.user.id", t.str("userId"));
    str_attr(&mut identity, "langfuse.trace.name", t.str("name"));
    str_attr(&mut identity, "langfuse.release", t.str("release"));
    str_attr(&mut identity, "langfuse.version", t.str("version"));
    str_attr(&mut identity, "langfuse.environment", t.str("environment"));
    if let Some(tags) = t
        .body
        .get("tags")
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        identity.push(KeyValue::new(
            "langfuse.trace.tags",
            AnyValue::String(tags.to_string()),
        ));
    }
    let root = (!otel_trace).then(|| root_span_id(tid));
    let mut spans: Vec<RawSpan> = Vec::new();
    let mut events: Vec<(Option<SpanId>, Event)> = Vec::new();
    let mut index: HashMap<SpanId, usize> = HashMap::new();
    for &o in obs {
        let id = o.str("id").unwrap_or_default().to_string();
        let parent = o.str("parentObservationId").map(span_id_for).or(root);
        let ty = o
            .str("type")
            .map(str::to_string)
            .or(o.ty.map(str::to_string));
        if ty
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("EVENT"))
        {
            let mut attributes = Vec::new();
            str_attr(&mut attributes, "langfuse.observation.id", Some(&id));
            io_attrs(o, &mut attributes);
            events.push((
                parent,
                Event {
                    time_unix_nano: o.time("startTime").unwrap_or(0),
                    name: o.str("name").unwrap_or("event").to_string(),
                    attributes,
                },
            ));
            continue;
        }
        let mut span = observation_span(trace_id, &id, parent, ty.as_deref(), o);
        if otel_trace {
            span.attributes.extend(identity.iter().cloned());
        }
        index.insert(span.span_id, spans.len());
        spans.push(span);
    }
    if let Some(root) = root {
        let starts = spans.iter().map(|s| s.start_time_unix_nano);
        let ends = spans
            .iter()
            .map(|s| s.end_time_unix_nano.max(s.start_time_unix_nano));
        // The trace's own time is when it was first sent, which may be after its first
        // observation began: the root spans them all.
        let start = match (t.time("timestamp"), starts.min()) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(0),
        };
        let end = ends.max().unwrap_or(start).max(start);
        let mut attributes = identity;
        json_attr(&mut attributes, "langfuse.trace.input", t.body.get("input"));
        json_attr(
            &mut attributes,
            "langfuse.trace.output",
            t.body.get("output"),
        );
        if let Some(Value::Object(meta)) = t.body.get("metadata") {
            for (k, v) in meta {
                json_attr(
                    &mut attributes,
                    &format!("langfuse.trace.metadata.{k}"),
                    Some(v),
                );
            }
        }
        let name = match t.str("name") {
            Some(n) => n.to_string(),
            None if t.body.is_empty() => format!("(Langfuse trace {tid}: not in this input)"),
            None => "trace".to_string(),
        };
        index.insert(root, spans.len());
        spans.push(span(trace_id, root, None, name, (start, end), attributes));
    }
    for (parent, e) in events {
        let at = parent
            .and_then(|p| index.get(&p).copied())
            .or_else(|| spans.iter().position(|s| s.parent_span_id.is_none()));
        match at {
            Some(i) => spans[i].events.push(e),
            // An event with nothing to hang on is a span of its own, of no duration.
            None => {
                let id = span_id_for(&format!("langfuse event {}", e.name));
                let at = (e.time_unix_nano, e.time_unix_nano);
                spans.push(span(trace_id, id, parent, e.name, at, e.attributes));
            }
        }
    }
    out.extend(spans.into_iter().map(Record::Span));
}

fn langfuse_scope() -> Scope {
    Scope {
        name: "langfuse".into(),
        ..Default::default()
    }
}

fn observation_span(
    trace_id: TraceId,
    id: &str,
    parent: Option<SpanId>,
    ty: Option<&str>,
    o: &Merged,
) -> RawSpan {
    let start = o.time("startTime").unwrap_or(0);
    let end = o.time("endTime").unwrap_or(start);
    let mut attributes = Vec::new();
    let mut resource = Resource::default();
    let mut scope = langfuse_scope();
    let meta = o.body.get("metadata").and_then(Value::as_object);
    let otel = otel_metadata(o);
    let from_langfuse_sdk = otel
        .and_then(|m| m.get("scope"))
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        == Some("langfuse-sdk");
    if let Some(m) = otel {
        if let Some(Value::Object(r)) = m.get("resourceAttributes") {
            resource.attributes = to_attributes(r.clone());
        }
        if let Some(Value::Object(s)) = m.get("scope") {
            scope.name = s
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            scope.version = s
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
        }
    }
    let original = otel.is_some() && !from_langfuse_sdk;
    if original && let Some(Value::Object(a)) = otel.and_then(|m| m.get("attributes")) {
        attributes = to_attributes(a.clone());
    }
    str_attr(&mut attributes, "langfuse.observation.id", Some(id));
    if original {
        json_attr(
            &mut attributes,
            "langfuse.export.usage_details",
            o.body.get("usageDetails"),
        );
        json_attr(
            &mut attributes,
            "langfuse.export.cost_details",
            o.body.get("costDetails"),
        );
    } else {
        if let Some(t) = ty {
            str_attr(
                &mut attributes,
                "langfuse.observation.type",
                Some(&t.to_ascii_lowercase()),
            );
        }
        str_attr(
            &mut attributes,
            "langfuse.observation.model.name",
            o.str("model"),
        );
        json_attr(
            &mut attributes,
            "langfuse.observation.model.parameters",
            o.body.get("modelParameters"),
        );
        usage_attrs(o, &mut attributes);
        cost_attrs(o, &mut attributes);
    }
    io_attrs(o, &mut attributes);
    str_attr(
        &mut attributes,
        "langfuse.observation.status_message",
        o.str("statusMessage"),
    );
    str_attr(
        &mut attributes,
        "langfuse.observation.version",
        o.str("version"),
    );
    if let Some(Value::String(c)) = o.body.get("completionStartTime") {
        str_attr(
            &mut attributes,
            "langfuse.observation.completion_start_time",
            Some(c),
        );
    }
    if let Some(meta) = meta {
        for (k, v) in meta {
            if otel.is_some() && matches!(k.as_str(), "attributes" | "resourceAttributes" | "scope")
            {
                continue;
            }
            json_attr(
                &mut attributes,
                &format!("langfuse.observation.metadata.{k}"),
                Some(v),
            );
        }
    }
    let name = o.str("name").unwrap_or_default().to_string();
    let mut s = span(
        trace_id,
        span_id_for(id),
        parent,
        name,
        (start, end),
        attributes,
    );
    if o.str("level") == Some("ERROR") {
        s.status_code = StatusCode::Error;
        s.status_message = o.str("statusMessage").unwrap_or_default().to_string();
    }
    s.resource = Arc::new(resource);
    s.scope = Arc::new(scope);
    s
}

/// A span of Langfuse's making: internal, no links, Langfuse's scope.
fn span(
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    name: String,
    (start, end): (i64, i64),
    attributes: Vec<KeyValue>,
) -> RawSpan {
    RawSpan {
        trace_id,
        span_id,
        parent_span_id,
        trace_state: String::new(),
        name,
        kind: SpanKind::Internal,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        status_code: StatusCode::Unset,
        status_message: String::new(),
        flags: 0,
        attributes,
        events: Vec::new(),
        links: Vec::new(),
        resource: Arc::new(Resource::default()),
        scope: Arc::new(langfuse_scope()),
    }
}

/// Usage as the SDKs have sent it, written as Langfuse's `usage_details`: the
/// provider's counts where the SDK passed them on (`providedUsageDetails` of the API,
/// else `usageDetails`, else the older `usage`). A unit other than tokens (characters,
/// images, seconds) is kept apart and never read as tokens.
fn usage_attrs(o: &Merged, attributes: &mut Vec<KeyValue>) {
    if let Some(details) = o
        .object("providedUsageDetails")
        .or_else(|| o.object("usageDetails"))
    {
        let details = bucket_keys(details);
        attributes.push(KeyValue::new(
            "langfuse.observation.usage_details",
            AnyValue::String(Value::Object(details).to_string()),
        ));
        return;
    }
    let Some(usage) = o.object("usage") else {
        return;
    };
    let unit = usage
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or("TOKENS");
    if !unit.eq_ignore_ascii_case("TOKENS") {
        str_attr(attributes, "langfuse.observation.usage.unit", Some(unit));
        for k in ["input", "output", "total"] {
            if let Some(v) = usage.get(k).filter(|v| !v.is_null()) {
                attributes.push(KeyValue::new(
                    format!("langfuse.observation.usage.{k}"),
                    super::json_value::to_any(v.clone()),
                ));
            }
        }
        return;
    }
    let details = if usage.contains_key("prompt_tokens") || usage.contains_key("completion_tokens")
    {
        // OpenAI's own shape (the Assistants API's `run.usage`), read as OpenAI's.
        usage.clone()
    } else {
        let mut d = Map::new();
        let pick = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| usage.get(*k).filter(|v| !v.is_null()).cloned())
        };
        if let Some(v) = pick(&["input", "promptTokens"]) {
            d.insert("input".into(), v);
        }
        if let Some(v) = pick(&["output", "completionTokens"]) {
            d.insert("output".into(), v);
        }
        if d.is_empty() {
            return;
        }
        d
    };
    attributes.push(KeyValue::new(
        "langfuse.observation.usage_details",
        AnyValue::String(Value::Object(details).to_string()),
    ));
}

/// Langfuse buckets are disjoint, with every input part's name holding `input`:
/// Anthropic's own names, passed through by users, are renamed to the bucket names so
/// that they are read as parts of the input, not as Anthropic's usage object.
fn bucket_keys(details: &Map<String, Value>) -> Map<String, Value> {
    if !details.contains_key("input") && !details.contains_key("output") {
        return details.clone();
    }
    details
        .iter()
        .map(|(k, v)| {
            let k = match k.as_str() {
                "cache_read_input_tokens" => "input_cache_read",
                "cache_creation_input_tokens" => "input_cache_creation",
                other => other,
            };
            (k.to_string(), v.clone())
        })
        .filter(|(k, _)| k != "total")
        .collect()
}

/// The cost Langfuse or the SDK recorded: `providedCostDetails`, `costDetails`, else a
/// positive `calculatedTotalCost` or `totalCost`.
fn cost_attrs(o: &Merged, attributes: &mut Vec<KeyValue>) {
    let details = o
        .object("providedCostDetails")
        .or_else(|| o.object("costDetails"))
        .cloned()
        .or_else(|| {
            ["calculatedTotalCost", "totalCost"].iter().find_map(|k| {
                let v = o.body.get(*k)?;
                (v.as_f64()? > 0.0).then(|| {
                    let mut m = Map::new();
                    m.insert("total".into(), v.clone());
                    m
                })
            })
        });
    if let Some(d) = details {
        attributes.push(KeyValue::new(
            "langfuse.observation.cost_details",
            AnyValue::String(Value::Object(d).to_string()),
        ));
    }
}

/// What went in and out of an observation, and its level.
fn io_attrs(o: &Merged, attributes: &mut Vec<KeyValue>) {
    json_attr(
        attributes,
        "langfuse.observation.input",
        o.body.get("input"),
    );
    json_attr(
        attributes,
        "langfuse.observation.output",
        o.body.get("output"),
    );
    str_attr(attributes, "langfuse.observation.level", o.str("level"));
}

fn str_attr(attributes: &mut Vec<KeyValue>, key: &str, v: Option<&str>) {
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        attributes.push(KeyValue::new(key, AnyValue::String(v.to_string())));
    }
}

/// A value as the Langfuse SDK's OTel exporter writes it: text as it is, anything
/// else as its JSON text.
fn json_attr(attributes: &mut Vec<KeyValue>, key: &str, v: Option<&Value>) {
    match v {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => attributes.push(KeyValue::new(key, AnyValue::String(s.clone()))),
        Some(Value::Object(m)) if m.is_empty() => {}
        Some(v) => attributes.push(KeyValue::new(key, AnyValue::String(v.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_as_documented() {
        assert_eq!(
            trace_id_for("3f2b8a4e-1c9d-4e7a-9b3c-5d6e7f8a9b0c").to_string(),
            "3f2b8a4e1c9d4e7a9b3c5d6e7f8a9b0c"
        );
        assert_eq!(
            trace_id_for("FEE618F96DC31E0CA38B2F7B26EB8B29").to_string(),
            "fee618f96dc31e0ca38b2f7b26eb8b29"
        );
        // Any other id is hashed, the same way every time.
        let h = trace_id_for("checkout-run-42");
        assert_eq!(h, trace_id_for("checkout-run-42"));
        assert_ne!(h, trace_id_for("checkout-run-43"));
        assert_eq!(
            span_id_for("e5a76f27f51ad40e").to_string(),
            "e5a76f27f51ad40e"
        );
    }

    fn batch(events: Value) -> Vec<Piece> {
        pieces(
            serde_json::json!({ "batch": events })
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap()
    }

    #[test]
    fn creates_and_updates_merge_in_time_order_across_batches() {
        let mut a = Assembler::default();
        // The update is read first (a later batch listed before): time order decides.
        for p in batch(serde_json::json!([
            {"id": "e2", "timestamp": "2025-01-01T00:00:02Z", "type": "generation-update",
             "body": {"id": "g1", "endTime": "2025-01-01T00:00:02Z",
                      "usage": {"input": 10, "output": 3, "unit": "TOKENS"}}},
        ])) {
            a.add(p);
        }
        for p in batch(serde_json::json!([
            {"id": "e0", "timestamp": "2025-01-01T00:00:00Z", "type": "trace-create",
             "body": {"id": "t1", "name": "chat", "sessionId": "s1", "userId": "u1"}},
            {"id": "e1", "timestamp": "2025-01-01T00:00:01Z", "type": "generation-create",
             "body": {"id": "g1", "traceId": "t1", "name": "llm", "model": "gpt-4o",
                      "startTime": "2025-01-01T00:00:01Z"}},
            {"id": "e1", "timestamp": "2025-01-01T00:00:01Z", "type": "generation-create",
             "body": {"id": "g1", "traceId": "t1", "name": "llm", "model": "gpt-4o",
                      "startTime": "2025-01-01T00:00:01Z"}},
        ])) {
            a.add(p);
        }
        let out = a.assemble("b.jsonl", false).unwrap();
        let spans: Vec<&RawSpan> = out
            .records
            .iter()
            .map(|r| match r {
                Record::Span(s) => s,
                Record::Log(_) => panic!("no logs"),
            })
            .collect();
        assert_eq!(spans.len(), 2, "the generation and the trace's root");
        let g = spans.iter().find(|s| s.name == "llm").unwrap();
        let root = spans.iter().find(|s| s.name == "chat").unwrap();
        assert_eq!(g.parent_span_id, Some(root.span_id));
        assert_eq!(g.end_time_unix_nano - g.start_time_unix_nano, 1_000_000_000);
        let usage = super::super::raw::attr(&g.attributes, "langfuse.observation.usage_details");
        assert_eq!(
            usage,
            Some(&AnyValue::String(r#"{"input":10,"output":3}"#.into()))
        );
        assert!(
            out.notes
                .iter()
                .any(|n| n.contains("1 Langfuse event(s) sent twice"))
        );
    }

    #[test]
    fn an_update_without_a_create_is_invalid_unless_skipped() {
        let events = serde_json::json!([
            {"id": "e9", "timestamp": "2025-01-01T00:00:02Z", "type": "span-update",
             "body": {"id": "s9", "endTime": "2025-01-01T00:00:02Z"}},
        ]);
        let mut a = Assembler::default();
        batch(events.clone()).into_iter().for_each(|p| a.add(p));
        let e = a.assemble("b.jsonl", false).unwrap_err().to_string();
        assert!(e.contains("observation s9: only update events"), "{e}");
        let mut a = Assembler::default();
        batch(events).into_iter().for_each(|p| a.add(p));
        assert_eq!(a.assemble("b.jsonl", true).unwrap().skipped.len(), 1);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = pieces(
            serde_json::json!({"batch": [{"id": "e", "type": "generation-create",
                "body": {"id": "g", "usage": "lots"}}]})
            .as_object()
            .unwrap()
            .clone(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "batch[0]: generation-create body: g: `usage` must be an object, found a string"
        );
    }
}
