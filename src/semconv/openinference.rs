//! OpenInference (Arize Phoenix, Catalyst): `openinference.span.kind`, flattened
//! `llm.input_messages.<i>.message.*`, `llm.tools.*`, `llm.invocation_parameters`, raw
//! `input.value`/`output.value`, `llm.cost.*`.

use super::attrs::{Attrs, as_json};
use super::content::{media_from_url, openai_messages};
use super::model::{Content, Message, Part, SpanType, joined_text, system_texts};
use crate::ingest::raw::AnyValue;
use serde_json::Value;

pub fn span_type(a: &Attrs) -> Option<SpanType> {
    let kind = a.str("openinference.span.kind")?;
    Some(match kind.to_ascii_uppercase().as_str() {
        "LLM" => SpanType::Llm,
        "EMBEDDING" => SpanType::Embedding,
        "CHAIN" => SpanType::Chain,
        "AGENT" => SpanType::Agent,
        "TOOL" => SpanType::Tool,
        "RETRIEVER" | "RERANKER" => SpanType::Retriever,
        _ => SpanType::Other,
    })
}

pub fn provider(a: &Attrs) -> Option<String> {
    a.str("llm.provider").or_else(|| a.str("llm.system"))
}

pub const REQUEST_MODEL: &[&str] = &["llm.request.model_name"];
/// "The model name returned by the API", per the spec.
pub const RESPONSE_MODEL: &[&str] = &[
    "llm.response.model_name",
    "llm.model_name",
    "embedding.model_name",
];

pub fn recorded_cost(a: &Attrs) -> Option<f64> {
    a.float("llm.cost.total").or_else(|| {
        Some(a.float("llm.cost.prompt")? + a.float("llm.cost.completion").unwrap_or(0.0))
    })
}

fn str_of(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.clone(),
        other => as_json(other).map(|j| j.to_string()).unwrap_or_default(),
    }
}

/// One flattened message: the `(suffix, value)` pairs under `…<i>.`.
fn message(fields: &[(&str, &AnyValue)]) -> Message {
    let get = |k: &str| fields.iter().find(|(s, _)| *s == k).map(|(_, v)| str_of(v));
    let role = get("message.role").unwrap_or_else(|| "user".into());
    let mut parts = Vec::new();
    // Ordered content parts, then the plain content, then tool calls.
    let mut contents: std::collections::BTreeMap<usize, Vec<(&str, &AnyValue)>> =
        Default::default();
    let mut calls: std::collections::BTreeMap<usize, Vec<(&str, &AnyValue)>> = Default::default();
    for (k, v) in fields {
        if let Some(rest) = k.strip_prefix("message.contents.")
            && let Some((i, tail)) = rest.split_once('.')
            && let Ok(i) = i.parse::<usize>()
        {
            contents.entry(i).or_default().push((tail, v));
        }
        if let Some(rest) = k.strip_prefix("message.tool_calls.")
            && let Some((i, tail)) = rest.split_once('.')
            && let Ok(i) = i.parse::<usize>()
        {
            calls.entry(i).or_default().push((tail, v));
        }
    }
    for c in contents.values() {
        let g = |k: &str| c.iter().find(|(s, _)| *s == k).map(|(_, v)| str_of(v));
        match g("message_content.type").as_deref() {
            Some("image") => parts.push(media_from_url(
                &g("message_content.image.image.url").unwrap_or_default(),
            )),
            Some("reasoning") => parts.push(Part::Reasoning {
                text: g("message_content.text").unwrap_or_default(),
            }),
            Some("tool_use") => parts.push(Part::ToolCall {
                id: g("tool_call.id"),
                name: g("tool_call.function.name").unwrap_or_default(),
                arguments: g("tool_call.function.arguments").unwrap_or_default(),
            }),
            _ => {
                if let Some(t) = g("message_content.text") {
                    parts.push(Part::Text { text: t });
                }
            }
        }
    }
    if parts.is_empty()
        && let Some(t) = get("message.content")
    {
        // Some producers (Catalyst) write a multimodal content list as JSON text.
        match serde_json::from_str::<Value>(&t) {
            Ok(v @ Value::Array(_))
                if v.as_array()
                    .is_some_and(|a| a.iter().all(|p| p.get("type").is_some())) =>
            {
                parts.extend(super::content::openai_content(&v))
            }
            _ => parts.push(Part::Text { text: t }),
        }
    }
    for c in calls.values() {
        let g = |k: &str| c.iter().find(|(s, _)| *s == k).map(|(_, v)| str_of(v));
        parts.push(Part::ToolCall {
            id: g("tool_call.id"),
            name: g("tool_call.function.name").unwrap_or_default(),
            arguments: g("tool_call.function.arguments").unwrap_or_default(),
        });
    }
    if let Some(name) = get("message.function_call_name") {
        parts.push(Part::ToolCall {
            id: None,
            name,
            arguments: get("message.function_call_arguments_json").unwrap_or_default(),
        });
    }
    if role == "tool" || role == "function" {
        let text = joined_text(&parts);
        parts = vec![Part::ToolResult {
            tool_call_id: get("message.tool_call_id"),
            content: text,
        }];
    }
    Message {
        role,
        parts,
        finish_reason: None,
    }
}

pub fn content(a: &Attrs) -> Option<Content> {
    let mut c = Content::default();
    c.input = a
        .indexed("llm.input_messages")
        .values()
        .map(|f| message(f))
        .collect();
    c.output = a
        .indexed("llm.output_messages")
        .values()
        .map(|f| message(f))
        .collect();
    // System prompts are input messages in OpenInference; keep them there and list
    // their text as the system instructions too.
    c.system = system_texts(&c.input);
    c.tools = a
        .indexed("llm.tools")
        .values()
        .filter_map(|f| {
            f.iter()
                .find(|(s, _)| *s == "tool.json_schema")
                .and_then(|(_, v)| as_json(v))
        })
        .collect();
    if let Some(Value::Object(p)) = a.json("llm.invocation_parameters") {
        c.parameters = p;
    }
    // Without the structured keys, the raw request and response JSON.
    if c.input.is_empty()
        && a.str("input.mime_type").as_deref() == Some("application/json")
        && let Some(v) = a.json("input.value")
    {
        c.input = openai_messages(&v);
    }
    if c.output.is_empty()
        && a.str("output.mime_type").as_deref() == Some("application/json")
        && let Some(v) = a.json("output.value")
    {
        c.output = openai_messages(&v);
    }
    (!c.is_empty()).then_some(c)
}

/// The Responses API's `previous_response_id`, only in the raw request.
pub fn previous_response_id(a: &Attrs) -> Option<String> {
    ["llm.invocation_parameters", "input.value"]
        .iter()
        .find_map(|k| {
            a.json(k)?
                .get("previous_response_id")?
                .as_str()
                .map(String::from)
        })
}

pub fn response_id(a: &Attrs) -> Option<String> {
    let v = a.json("output.value")?;
    let id = v.get("id")?.as_str()?;
    (id.starts_with("chatcmpl") || id.starts_with("resp_") || id.starts_with("msg_"))
        .then(|| id.to_string())
}
