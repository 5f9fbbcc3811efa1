//! OpenTelemetry JS `ReadableSpan` objects as `JSON.stringify` or an in-memory exporter
//! writes them: ids under `spanContext` (or the class's `_spanContext`), times as
//! `[seconds, nanoseconds]` pairs, flat attribute maps, the parent as `parentSpanId`
//! (SDK 1.x) or `parentSpanContext` (2.x), and kinds numbered as the JS API numbers
//! them, which is not the OTLP numbering.

use super::ids::{SpanId, TraceId};
use super::json_value::{attributes_at, kind_of, objects_at, str_at, to_any, to_attributes};
use super::raw::{Event, KeyValue, Link, RawSpan, Resource, Scope, SpanKind};
use super::timestamp::to_unix_nanos;
use serde_json::{Map, Value};
use std::sync::Arc;

pub fn looks_like(obj: &Map<String, Value>) -> bool {
    context(obj).is_some() && (obj.contains_key("startTime") || obj.contains_key("name"))
}

fn context(obj: &Map<String, Value>) -> Option<&Map<String, Value>> {
    ["spanContext", "_spanContext"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_object))
}

pub fn decode(mut obj: Map<String, Value>) -> Result<RawSpan, String> {
    let ctx = context(&obj).ok_or("a span needs `spanContext`")?;
    let trace_id = TraceId::parse(&str_at(ctx, "traceId")?).map_err(|e| e.to_string())?;
    let span_id = SpanId::parse(&str_at(ctx, "spanId")?).map_err(|e| e.to_string())?;
    let trace_state = match ctx.get("traceState") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let parent = match obj.get("parentSpanContext") {
        Some(Value::Object(p)) => str_at(p, "spanId")?,
        _ => str_at(&obj, "parentSpanId")?,
    };
    let parent_span_id = SpanId::parse_parent(&parent).map_err(|e| e.to_string())?;
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => SpanKind::Unspecified,
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(js_kind)
            .ok_or_else(|| format!("unknown span kind {n}"))?,
        Some(Value::String(s)) => {
            SpanKind::from_name(s).ok_or_else(|| format!("unknown span kind {s:?}"))?
        }
        Some(other) => return Err(format!("`kind` must be a number, found {}", kind_of(other))),
    };
    let start = time(&obj, "startTime")?;
    let end = match obj.get("endTime") {
        Some(v) if !v.is_null() => time(&obj, "endTime")?,
        _ => {
            let d = match obj.get("duration").or_else(|| obj.get("_duration")) {
                Some(v) => hrtime(v, "duration")?,
                None => 0,
            };
            start
                .checked_add(d)
                .ok_or("startTime + duration is past 2262")?
        }
    };
    let (status_code, status_message) = super::cloudwatch::status(&obj)?;
    let attributes = attributes_at(&mut obj, "attributes")?;
    let events = events(&mut obj)?;
    let links = links(&mut obj)?;
    let resource = Resource {
        attributes: resource_attributes(obj.remove("resource"))?,
    };
    let scope = match obj
        .remove("instrumentationScope")
        .or_else(|| obj.remove("instrumentationLibrary"))
    {
        Some(Value::Object(s)) => Scope {
            name: str_at(&s, "name")?,
            version: str_at(&s, "version")?,
            attributes: Vec::new(),
        },
        _ => Scope::default(),
    };
    Ok(RawSpan {
        trace_id,
        span_id,
        parent_span_id,
        trace_state,
        name: str_at(&obj, "name")?,
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        status_code,
        status_message,
        flags: 0,
        attributes,
        events,
        links,
        resource: Arc::new(resource),
        scope: Arc::new(scope),
    })
}

/// `@opentelemetry/api`'s `SpanKind`: INTERNAL is 0 there, UNSPECIFIED does not exist.
fn js_kind(n: i64) -> Option<SpanKind> {
    Some(match n {
        0 => SpanKind::Internal,
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => return None,
    })
}

fn time(obj: &Map<String, Value>, key: &str) -> Result<i64, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => hrtime(v, key),
    }
}

/// An `HrTime` `[seconds, nanoseconds]`, or a time as text or a number.
fn hrtime(v: &Value, key: &str) -> Result<i64, String> {
    let Value::Array(pair) = v else {
        return to_unix_nanos(v).map_err(|e| format!("`{key}`: {e}"));
    };
    let part = |i: usize| -> Result<i64, String> {
        pair.get(i)
            .and_then(Value::as_i64)
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("`{key}` must be [seconds, nanoseconds], found {v}"))
    };
    if pair.len() != 2 {
        return Err(format!("`{key}` must be [seconds, nanoseconds], found {v}"));
    }
    let (secs, nanos) = (part(0)?, part(1)?);
    Ok(super::timestamp::saturate(
        i128::from(secs) * 1_000_000_000 + i128::from(nanos.min(999_999_999)),
    ))
}

/// A `Resource` as the class serializes: `attributes`, or the private fields of SDK 1.x
/// (`_attributes`, `_syncAttributes`) and 2.x (`_rawAttributes` as `[key, value]` pairs,
/// `_memoizedAttributes`).
fn resource_attributes(v: Option<Value>) -> Result<Vec<KeyValue>, String> {
    let Some(Value::Object(mut r)) = v else {
        return Ok(Vec::new());
    };
    for key in [
        "attributes",
        "_attributes",
        "_memoizedAttributes",
        "_syncAttributes",
    ] {
        if let Some(Value::Object(m)) = r.remove(key) {
            return Ok(to_attributes(m));
        }
    }
    match r.remove("_rawAttributes") {
        Some(Value::Array(pairs)) => Ok(pairs
            .into_iter()
            .filter_map(|p| match p {
                Value::Array(mut kv) if kv.len() == 2 => {
                    let v = kv.pop()?;
                    let k = kv.pop()?.as_str()?.to_string();
                    Some(KeyValue::new(k, to_any(v)))
                }
                _ => None,
            })
            .collect()),
        _ => Ok(Vec::new()),
    }
}

fn events(obj: &mut Map<String, Value>) -> Result<Vec<Event>, String> {
    objects_at(obj, "events", "an event")?
        .into_iter()
        .map(|mut e| {
            Ok(Event {
                time_unix_nano: time(&e, "time")?,
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
            let ctx = match l.get("context") {
                Some(Value::Object(c)) => c.clone(),
                _ => l.clone(),
            };
            Ok(Link {
                trace_id: TraceId::parse(&str_at(&ctx, "traceId")?).map_err(|e| e.to_string())?,
                span_id: SpanId::parse(&str_at(&ctx, "spanId")?).map_err(|e| e.to_string())?,
                trace_state: String::new(),
                attributes: attributes_at(&mut l, "attributes")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_numbered_as_the_js_api_numbers_them() {
        let obj = |kind: i64| {
            serde_json::json!({
                "name": "s", "kind": kind,
                "spanContext": {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331"},
                "startTime": [1770131992, 242000000], "endTime": [1770131994, 21415667],
            })
            .as_object()
            .unwrap()
            .clone()
        };
        assert_eq!(decode(obj(0)).unwrap().kind, SpanKind::Internal);
        assert_eq!(decode(obj(2)).unwrap().kind, SpanKind::Client);
        let s = decode(obj(1)).unwrap();
        assert_eq!(s.start_time_unix_nano, 1_770_131_992_242_000_000);
        assert_eq!(s.end_time_unix_nano, 1_770_131_994_021_415_667);
        assert!(decode(obj(9)).is_err());
    }
}
