//! AWS CloudWatch `aws/spans` and OTLP log records as CloudWatch stores them: one OTLP
//! span or log record per JSON object, with flat attribute maps, kinds and status codes
//! as names and nanosecond times as numbers. Exports wrap each in
//! `{"timestamp", "raw_otel_json": {…}}`.

use super::ids::{SpanId, TraceId};
use super::json_value::{attributes_at, int_at, objects_at, str_at, time_at, to_any, u32_at};
use super::raw::{
    AnyValue, Event, Link, RawLog, RawSpan, Record, Resource, Scope, SpanKind, StatusCode,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Whether an object is a CloudWatch span or log record rather than something else.
pub fn looks_like(obj: &Map<String, Value>) -> bool {
    obj.contains_key("traceId") && (obj.contains_key("spanId") || obj.contains_key("body"))
}

pub fn decode(mut obj: Map<String, Value>) -> Result<Record, String> {
    // Plain application log lines (`level`, `message`) share the log group with OTLP
    // records; they belong to no span but are still log records.
    if !obj.contains_key("traceId") && obj.contains_key("message") {
        let level = str_at(&obj, "level").unwrap_or_default();
        let body = obj.remove("message").map(to_any).unwrap_or_default();
        let attributes = super::json_value::to_attributes(obj);
        return Ok(Record::Log(RawLog {
            severity_text: level,
            body,
            attributes,
            ..Default::default()
        }));
    }
    let resource = Arc::new(resource(&mut obj)?);
    let scope = Arc::new(scope(&mut obj)?);
    let trace_id = TraceId::parse(&str_at(&obj, "traceId")?).map_err(|e| e.to_string())?;
    let is_log =
        !obj.contains_key("name") && (obj.contains_key("body") || obj.contains_key("timeUnixNano"));
    if is_log {
        let span_id = SpanId::parse_parent(&str_at(&obj, "spanId")?).map_err(|e| e.to_string())?;
        return Ok(Record::Log(RawLog {
            trace_id: (!trace_id.is_zero()).then_some(trace_id),
            span_id,
            time_unix_nano: time_at(&obj, "timeUnixNano")?,
            observed_time_unix_nano: time_at(&obj, "observedTimeUnixNano")?,
            severity_number: i32::try_from(int_at(&obj, "severityNumber")?).unwrap_or(0),
            severity_text: str_at(&obj, "severityText")?,
            event_name: str_at(&obj, "eventName")?,
            flags: u32_at(&obj, "flags")?,
            attributes: attributes_at(&mut obj, "attributes")?,
            body: obj.remove("body").map(to_any).unwrap_or(AnyValue::Empty),
            resource,
            scope,
        }));
    }
    let span_id = SpanId::parse(&str_at(&obj, "spanId")?).map_err(|e| e.to_string())?;
    let kind_text = str_at(&obj, "kind").unwrap_or_default();
    let kind = match obj.get("kind") {
        Some(Value::Number(n)) => n.as_i64().and_then(SpanKind::from_otlp),
        _ => SpanKind::from_name(&kind_text),
    }
    .ok_or_else(|| format!("unknown span kind {:?}", obj.get("kind")))?;
    let (status_code, status_message) = status(&obj)?;
    let start = time_at(&obj, "startTimeUnixNano")?;
    let mut end = time_at(&obj, "endTimeUnixNano")?;
    if end == 0 {
        let duration = time_at(&obj, "durationNano")?;
        end = start.saturating_add(duration);
    }
    Ok(Record::Span(RawSpan {
        trace_id,
        span_id,
        parent_span_id: SpanId::parse_parent(&str_at(&obj, "parentSpanId")?)
            .map_err(|e| e.to_string())?,
        trace_state: str_at(&obj, "traceState")?,
        name: str_at(&obj, "name")?,
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        status_code,
        status_message,
        flags: u32_at(&obj, "flags")?,
        events: events(&mut obj)?,
        links: links(&mut obj)?,
        attributes: attributes_at(&mut obj, "attributes")?,
        resource,
        scope,
    }))
}

fn resource(obj: &mut Map<String, Value>) -> Result<Resource, String> {
    match obj.remove("resource") {
        Some(Value::Object(mut r)) => Ok(Resource {
            attributes: attributes_at(&mut r, "attributes")?,
        }),
        _ => Ok(Resource::default()),
    }
}

fn scope(obj: &mut Map<String, Value>) -> Result<Scope, String> {
    match obj.remove("scope") {
        Some(Value::Object(mut s)) => Ok(Scope {
            name: str_at(&s, "name")?,
            version: str_at(&s, "version")?,
            attributes: attributes_at(&mut s, "attributes")?,
        }),
        _ => Ok(Scope::default()),
    }
}

/// `status` with its code as a number or a name (CloudWatch, OTel JS).
pub(super) fn status(obj: &Map<String, Value>) -> Result<(StatusCode, String), String> {
    let Some(Value::Object(s)) = obj.get("status") else {
        return Ok((StatusCode::Unset, String::new()));
    };
    let code = match s.get("code") {
        Some(Value::Number(n)) => n.as_i64().and_then(StatusCode::from_otlp),
        Some(Value::String(t)) => StatusCode::from_name(t),
        _ => Some(StatusCode::Unset),
    }
    .ok_or_else(|| format!("unknown status code {:?}", s.get("code")))?;
    Ok((code, str_at(s, "message")?))
}

fn events(obj: &mut Map<String, Value>) -> Result<Vec<Event>, String> {
    objects_at(obj, "events", "an event")?
        .into_iter()
        .map(|mut e| {
            Ok(Event {
                time_unix_nano: time_at(&e, "timeUnixNano")?,
                name: str_at(&e, "name")?,
                attributes: attributes_at(&mut e, "attributes")?,
            })
        })
        .collect()
}

fn links(obj: &mut Map<String, Value>) -> Result<Vec<Link>, String> {
    objects_at(obj, "links", "a link")?
        .into_iter()
        .map(|mut l| {
            Ok(Link {
                trace_id: TraceId::parse(&str_at(&l, "traceId")?).map_err(|e| e.to_string())?,
                span_id: SpanId::parse(&str_at(&l, "spanId")?).map_err(|e| e.to_string())?,
                trace_state: str_at(&l, "traceState")?,
                attributes: attributes_at(&mut l, "attributes")?,
            })
        })
        .collect()
}
