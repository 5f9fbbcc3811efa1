//! Arize Phoenix span exports: its spans dataframe saved as JSON lines (or Parquet, see
//! `phoenix_parquet`): `context.trace_id`, `context.span_id`, `parent_id`, `span_kind`
//! (the OpenInference kind), `start_time`, and attributes either flattened into
//! `attributes.*` columns or nested under `attributes`.

use super::ids::{SpanId, TraceId};
use super::json_value::{kind_of, str_at, to_any};
use super::raw::{
    AnyValue, Event, KeyValue, RawSpan, Record, Resource, Scope, SpanKind, StatusCode,
};
use super::timestamp::to_unix_nanos;
use serde_json::{Map, Value};
use std::sync::Arc;

pub fn looks_like(obj: &Map<String, Value>) -> bool {
    obj.contains_key("context.trace_id")
        || (obj.contains_key("span_kind")
            && matches!(obj.get("context"), Some(Value::Object(c)) if c.contains_key("trace_id")))
}

/// Phoenix nests attributes by their dotted path (`{"llm": {"model_name": …}}`) and
/// lists of messages as arrays of objects; OpenInference keys are the flattened form
/// (`llm.input_messages.0.message.role`), so that is what is rebuilt.
pub fn flatten_into(prefix: &str, v: Value, out: &mut Vec<KeyValue>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(&key, v, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, v) in items.into_iter().enumerate() {
                flatten_into(&format!("{prefix}.{i}"), v, out);
            }
        }
        // pandas writes a missing column value as null: nothing was recorded.
        Value::Null => {}
        other => out.push(KeyValue::new(prefix, to_any(other))),
    }
}

fn id_text(obj: &Map<String, Value>, flat: &str, nested: &str) -> Result<String, String> {
    if let Some(v) = obj.get(flat) {
        return match v {
            Value::String(s) => Ok(s.clone()),
            Value::Null => Ok(String::new()),
            other => Err(format!(
                "`{flat}` must be a string, found {}",
                kind_of(other)
            )),
        };
    }
    match obj.get("context") {
        Some(Value::Object(c)) => str_at(c, nested),
        _ => Ok(String::new()),
    }
}

pub fn decode(mut obj: Map<String, Value>) -> Result<Record, String> {
    let trace_id = TraceId::parse(&id_text(&obj, "context.trace_id", "trace_id")?)
        .map_err(|e| e.to_string())?;
    let span_id =
        SpanId::parse(&id_text(&obj, "context.span_id", "span_id")?).map_err(|e| e.to_string())?;
    let parent_span_id =
        SpanId::parse_parent(&str_at(&obj, "parent_id")?).map_err(|e| e.to_string())?;
    let mut attributes = Vec::new();
    if let Some(a) = obj.remove("attributes") {
        flatten_into("", a, &mut attributes);
    }
    let flat_keys: Vec<String> = obj
        .keys()
        .filter(|k| k.starts_with("attributes."))
        .cloned()
        .collect();
    for k in flat_keys {
        let v = obj.remove(&k).unwrap_or(Value::Null);
        flatten_into(&k["attributes.".len()..], v, &mut attributes);
    }
    let span_kind = str_at(&obj, "span_kind")?;
    if !span_kind.is_empty()
        && !attributes
            .iter()
            .any(|kv| kv.key == "openinference.span.kind")
    {
        attributes.push(KeyValue::new(
            "openinference.span.kind",
            AnyValue::String(span_kind),
        ));
    }
    let status_text = str_at(&obj, "status_code")?;
    let status_code = StatusCode::from_name(&status_text)
        .ok_or_else(|| format!("unknown status code {status_text:?}"))?;
    let events = match obj.remove("events") {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|e| {
                let Value::Object(mut e) = e else {
                    return Err(format!("an event must be an object, found {}", kind_of(&e)));
                };
                let mut attributes = Vec::new();
                if let Some(a) = e.remove("attributes") {
                    flatten_into("", a, &mut attributes);
                }
                Ok(Event {
                    time_unix_nano: to_unix_nanos(e.get("timestamp").unwrap_or(&Value::Null))?,
                    name: str_at(&e, "name")?,
                    attributes,
                })
            })
            .collect::<Result<_, String>>()?,
        _ => Vec::new(),
    };
    Ok(Record::Span(RawSpan {
        trace_id,
        span_id,
        parent_span_id,
        trace_state: String::new(),
        name: str_at(&obj, "name")?,
        // Phoenix keeps the OpenInference kind, not the OTel one.
        kind: SpanKind::Unspecified,
        start_time_unix_nano: to_unix_nanos(obj.get("start_time").unwrap_or(&Value::Null))?,
        end_time_unix_nano: to_unix_nanos(obj.get("end_time").unwrap_or(&Value::Null))?,
        status_code,
        status_message: str_at(&obj, "status_message")?,
        flags: 0,
        attributes,
        events,
        links: Vec::new(),
        resource: Arc::new(Resource::default()),
        scope: Arc::new(Scope::default()),
    }))
}
