//! Spans as the OpenTelemetry Python SDK's `ConsoleSpanExporter` prints them
//! (`span.to_json()`): `0x` hex ids under `context`, `SpanKind.CLIENT`, ISO times with
//! microseconds, flat attribute maps. Pretty-printed or one per line.

use super::ids::{SpanId, TraceId};
use super::json_value::{attributes_at, kind_of, str_at};
use super::raw::{Event, Link, RawSpan, Record, Resource, Scope, SpanKind, StatusCode};
use super::timestamp::to_unix_nanos;
use serde_json::{Map, Value};
use std::sync::Arc;

pub fn looks_like(obj: &Map<String, Value>) -> bool {
    matches!(obj.get("context"), Some(Value::Object(c)) if c.contains_key("trace_id"))
        && obj.contains_key("name")
}

fn context(v: Option<Value>) -> Result<(TraceId, SpanId, String), String> {
    let Some(Value::Object(c)) = v else {
        return Err("`context` must be an object".into());
    };
    let trace_id = TraceId::parse(&str_at(&c, "trace_id")?).map_err(|e| e.to_string())?;
    let span_id = SpanId::parse(&str_at(&c, "span_id")?).map_err(|e| e.to_string())?;
    // Python prints an empty TraceState as "[]".
    let state = str_at(&c, "trace_state").unwrap_or_default();
    let state = if state == "[]" { String::new() } else { state };
    Ok((trace_id, span_id, state))
}

pub fn decode(mut obj: Map<String, Value>) -> Result<Record, String> {
    let (trace_id, span_id, trace_state) = context(obj.remove("context"))?;
    let kind_text = str_at(&obj, "kind")?;
    let kind = SpanKind::from_name(&kind_text)
        .ok_or_else(|| format!("unknown span kind {kind_text:?}"))?;
    let (status_code, status_message) = match obj.remove("status") {
        Some(Value::Object(s)) => {
            let c = str_at(&s, "status_code")?;
            (
                StatusCode::from_name(&c).ok_or_else(|| format!("unknown status code {c:?}"))?,
                str_at(&s, "description")?,
            )
        }
        _ => (StatusCode::Unset, String::new()),
    };
    let resource = match obj.remove("resource") {
        Some(Value::Object(mut r)) => Resource {
            attributes: attributes_at(&mut r, "attributes")?,
        },
        _ => Resource::default(),
    };
    let scope = match obj
        .remove("instrumentation_scope")
        .or_else(|| obj.remove("scope"))
    {
        Some(Value::Object(mut s)) => Scope {
            name: str_at(&s, "name")?,
            version: str_at(&s, "version")?,
            attributes: attributes_at(&mut s, "attributes")?,
        },
        _ => Scope::default(),
    };
    let events = match obj.remove("events") {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|e| {
                let Value::Object(mut e) = e else {
                    return Err(format!("an event must be an object, found {}", kind_of(&e)));
                };
                Ok(Event {
                    time_unix_nano: to_unix_nanos(e.get("timestamp").unwrap_or(&Value::Null))?,
                    name: str_at(&e, "name")?,
                    attributes: attributes_at(&mut e, "attributes")?,
                })
            })
            .collect::<Result<_, String>>()?,
        _ => Vec::new(),
    };
    let links = match obj.remove("links") {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|l| {
                let Value::Object(mut l) = l else {
                    return Err(format!("a link must be an object, found {}", kind_of(&l)));
                };
                let (trace_id, span_id, trace_state) = context(l.remove("context"))?;
                Ok(Link {
                    trace_id,
                    span_id,
                    trace_state,
                    attributes: attributes_at(&mut l, "attributes")?,
                })
            })
            .collect::<Result<_, String>>()?,
        _ => Vec::new(),
    };
    Ok(Record::Span(RawSpan {
        trace_id,
        span_id,
        parent_span_id: SpanId::parse_parent(&str_at(&obj, "parent_id")?)
            .map_err(|e| e.to_string())?,
        trace_state,
        name: str_at(&obj, "name")?,
        kind,
        start_time_unix_nano: to_unix_nanos(obj.get("start_time").unwrap_or(&Value::Null))?,
        end_time_unix_nano: to_unix_nanos(obj.get("end_time").unwrap_or(&Value::Null))?,
        status_code,
        status_message,
        flags: 0,
        attributes: attributes_at(&mut obj, "attributes")?,
        events,
        links,
        resource: Arc::new(resource),
        scope: Arc::new(scope),
    }))
}
