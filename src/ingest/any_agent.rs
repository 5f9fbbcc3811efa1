//! any-agent `AgentTrace` files (`{"spans": [...], "final_output": ...}`): OTel Python
//! SDK spans as pydantic serializes them, snake_case, nanosecond times, and trace and
//! span ids as decimal integers. A 128-bit id does not fit a JSON reader's number, so
//! the spans arrive as raw text and the ids are read digit by digit.

use super::ids::{SpanId, TraceId};
use super::json_value::{kind_of, to_attributes};
use super::raw::{Event, Link, RawSpan, Resource, Scope, SpanKind, StatusCode};
use super::timestamp::to_unix_nanos;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Deserialize)]
struct Span {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    parent: Option<Context>,
    #[serde(default)]
    start_time: Value,
    #[serde(default)]
    end_time: Value,
    #[serde(default)]
    status: Option<Status>,
    context: Context,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
    #[serde(default)]
    links: Vec<LinkJson>,
    #[serde(default)]
    events: Vec<EventJson>,
    #[serde(default)]
    resource: Option<ResourceJson>,
}

#[derive(Deserialize)]
struct Context {
    trace_id: Box<RawValue>,
    span_id: Box<RawValue>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    status_code: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct LinkJson {
    context: Context,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct EventJson {
    #[serde(default)]
    name: String,
    #[serde(default)]
    timestamp: Value,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct ResourceJson {
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

/// The spans of one trace file, from the raw text of its `spans` array.
pub fn decode(spans: &RawValue) -> Result<Vec<RawSpan>, String> {
    let spans: Vec<Span> = serde_json::from_str(spans.get())
        .map_err(|e| format!("`spans` is not an any-agent span list: {e}"))?;
    spans
        .into_iter()
        .enumerate()
        .map(|(i, s)| span(s).map_err(|e| format!("spans[{i}]: {e}")))
        .collect()
}

fn span(s: Span) -> Result<RawSpan, String> {
    let trace_id = trace_id(&s.context.trace_id)?;
    let span_id = span_id(&s.context.span_id)?;
    // A root's parent is absent, null, or a context whose ids are null.
    let parent_span_id = match &s.parent {
        Some(p) if p.span_id.get().trim() != "null" => {
            Some(span_id_of(&p.span_id)?).filter(|p| !p.is_zero())
        }
        _ => None,
    };
    let kind = match s.kind.as_deref() {
        None => SpanKind::Unspecified,
        Some(k) => SpanKind::from_name(k).ok_or_else(|| format!("unknown span kind {k:?}"))?,
    };
    let (status_code, status_message) = match s.status {
        None => (StatusCode::Unset, String::new()),
        Some(st) => {
            let code = st.status_code.unwrap_or_default();
            (
                StatusCode::from_name(&code).ok_or_else(|| format!("unknown status {code:?}"))?,
                st.description.unwrap_or_default(),
            )
        }
    };
    let events = s
        .events
        .into_iter()
        .map(|e| {
            Ok(Event {
                time_unix_nano: to_unix_nanos(&e.timestamp)?,
                name: e.name,
                attributes: to_attributes(e.attributes.unwrap_or_default()),
            })
        })
        .collect::<Result<_, String>>()?;
    let links = s
        .links
        .into_iter()
        .map(|l| {
            Ok(Link {
                trace_id: trace_id_of(&l.context.trace_id)?,
                span_id: span_id_of(&l.context.span_id)?,
                trace_state: String::new(),
                attributes: to_attributes(l.attributes.unwrap_or_default()),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(RawSpan {
        trace_id,
        span_id,
        parent_span_id,
        trace_state: String::new(),
        name: s.name,
        kind,
        start_time_unix_nano: to_unix_nanos(&s.start_time)?,
        end_time_unix_nano: to_unix_nanos(&s.end_time)?,
        status_code,
        status_message,
        flags: 0,
        attributes: to_attributes(s.attributes.unwrap_or_default()),
        events,
        links,
        resource: Arc::new(Resource {
            attributes: to_attributes(s.resource.and_then(|r| r.attributes).unwrap_or_default()),
        }),
        scope: Arc::new(Scope::default()),
    })
}

fn trace_id(raw: &RawValue) -> Result<TraceId, String> {
    let id = trace_id_of(raw)?;
    if id.is_zero() {
        return Err("trace_id is 0".into());
    }
    Ok(id)
}

fn span_id(raw: &RawValue) -> Result<SpanId, String> {
    let id = span_id_of(raw)?;
    if id.is_zero() {
        return Err("span_id is 0".into());
    }
    Ok(id)
}

fn trace_id_of(raw: &RawValue) -> Result<TraceId, String> {
    match id_text(raw)? {
        Id::Number(digits) => {
            let n: u128 = digits
                .parse()
                .map_err(|_| format!("trace_id {digits} does not fit 128 bits"))?;
            TraceId::from_bytes(&n.to_be_bytes()).ok_or_else(|| "bad trace_id".into())
        }
        Id::Text(t) => TraceId::parse(&t).map_err(|e| e.to_string()),
    }
}

fn span_id_of(raw: &RawValue) -> Result<SpanId, String> {
    match id_text(raw)? {
        Id::Number(digits) => {
            let n: u64 = digits
                .parse()
                .map_err(|_| format!("span_id {digits} does not fit 64 bits"))?;
            SpanId::from_bytes(&n.to_be_bytes()).ok_or_else(|| "bad span_id".into())
        }
        Id::Text(t) => SpanId::parse(&t).map_err(|e| e.to_string()),
    }
}

enum Id {
    Number(String),
    Text(String),
}

/// An id as written: a decimal integer (any-agent), or hex text.
fn id_text(raw: &RawValue) -> Result<Id, String> {
    let text = raw.get().trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Id::Number(text.to_string()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::String(s)) => Ok(Id::Text(s)),
        Ok(other) => Err(format!(
            "an id must be an integer or hex text, found {}",
            kind_of(&other)
        )),
        Err(e) => Err(format!("bad id {text}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_ids_keep_every_bit() {
        let raw = RawValue::from_string(
            r#"[{"name": "call_llm", "kind": "internal",
                 "context": {"trace_id": 100927429609276267646756448943279827607, "span_id": 9295669169508793927},
                 "parent": {"trace_id": 100927429609276267646756448943279827607, "span_id": 12324293800750531911},
                 "start_time": 1758026593210770000, "end_time": 1758026593449611000,
                 "status": {"status_code": "ok", "description": null},
                 "attributes": {"gen_ai.usage.input_tokens": 269}}]"#
                .to_string(),
        )
        .unwrap();
        let spans = decode(&raw).unwrap();
        // The same numbers in hex, worked out by hand (Python's `format(n, "032x")`).
        assert_eq!(
            spans[0].trace_id.to_string(),
            "4bedea77bb33b9c5f280371eae21ea97"
        );
        assert_eq!(spans[0].span_id.to_string(), "8100d9dbee1f3e47");
        assert_eq!(
            spans[0].parent_span_id.unwrap().to_string(),
            "ab08afea3548c547"
        );
        assert_eq!(spans[0].status_code, StatusCode::Ok);
    }
}
