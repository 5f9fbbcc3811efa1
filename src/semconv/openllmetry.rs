//! OpenLLMetry / Traceloop: `traceloop.span.kind`, `llm.request.type`, flattened
//! `gen_ai.prompt.<i>.*` / `gen_ai.completion.<i>.*` (and era A `llm.prompts.<i>.*`),
//! `llm.request.functions.*`, `traceloop.association.properties.*`.

use super::attrs::{Attrs, as_json};
use super::content::openai_content;
use super::model::{Content, Message, Part, SpanType, joined_text, system_texts};
use crate::ingest::raw::AnyValue;

pub fn span_type(a: &Attrs) -> Option<SpanType> {
    if let Some(k) = a.str("traceloop.span.kind") {
        return Some(match k.as_str() {
            "workflow" | "task" => SpanType::Chain,
            "agent" => SpanType::Agent,
            "tool" => SpanType::Tool,
            _ => SpanType::Other,
        });
    }
    let t = a.str("llm.request.type")?;
    Some(match t.as_str() {
        "chat" | "completion" => SpanType::Llm,
        "embedding" => SpanType::Embedding,
        "rerank" => SpanType::Retriever,
        _ => SpanType::Other,
    })
}

pub const REQUEST_MODEL: &[&str] = &["llm.request.model"];
pub const RESPONSE_MODEL: &[&str] = &["llm.response.model"];
pub const SESSION: &[&str] = &["traceloop.association.properties.session_id"];
pub const USER: &[&str] = &["traceloop.association.properties.user_id"];
pub const PROVIDER: &[&str] = &["llm.vendor"];

fn text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.clone(),
        other => as_json(other).map(|j| j.to_string()).unwrap_or_default(),
    }
}

fn message(fields: &[(&str, &AnyValue)]) -> Message {
    let get = |k: &str| fields.iter().find(|(s, _)| *s == k).map(|(_, v)| text(v));
    let role = get("role").unwrap_or_else(|| "user".into());
    // Multimodal content is the JSON text of the OpenAI content list.
    let mut parts = match fields
        .iter()
        .find(|(s, _)| *s == "content")
        .and_then(|(_, v)| as_json(v))
    {
        Some(v) => openai_content(&v),
        None => Vec::new(),
    };
    let mut calls: std::collections::BTreeMap<usize, Vec<(&str, &AnyValue)>> = Default::default();
    for (k, v) in fields {
        if let Some(rest) = k.strip_prefix("tool_calls.")
            && let Some((i, tail)) = rest.split_once('.')
            && let Ok(i) = i.parse::<usize>()
        {
            calls.entry(i).or_default().push((tail, v));
        }
    }
    for c in calls.values() {
        let g = |k: &str| c.iter().find(|(s, _)| *s == k).map(|(_, v)| text(v));
        parts.push(Part::ToolCall {
            id: g("id"),
            name: g("name").unwrap_or_default(),
            arguments: g("arguments").unwrap_or_default(),
        });
    }
    if role == "tool" {
        let t = joined_text(&parts);
        parts = vec![Part::ToolResult {
            tool_call_id: get("tool_call_id"),
            content: t,
        }];
    }
    Message {
        role,
        parts,
        finish_reason: get("finish_reason"),
    }
}

pub fn content(a: &Attrs) -> Option<Content> {
    let mut c = Content::default();
    for prefix in ["gen_ai.prompt", "llm.prompts"] {
        if c.input.is_empty() {
            c.input = a
                .indexed(prefix)
                .values()
                .filter(|f| !f.is_empty())
                .map(|f| message(f))
                .collect();
        }
    }
    for prefix in ["gen_ai.completion", "llm.completions"] {
        if c.output.is_empty() {
            c.output = a.indexed(prefix).values().map(|f| message(f)).collect();
        }
    }
    c.system = system_texts(&c.input);
    c.tools = a
        .indexed("llm.request.functions")
        .values()
        .map(|f| {
            serde_json::Value::Object(
                f.iter()
                    .filter_map(|(k, v)| Some((k.to_string(), as_json(v)?)))
                    .collect(),
            )
        })
        .collect();
    if let Some(schema) = a.json("gen_ai.request.structured_output_schema") {
        c.parameters.insert("response_format".into(), schema);
    }
    (!c.is_empty()).then_some(c)
}
