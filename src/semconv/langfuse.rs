//! Langfuse's own keys (SDK v3+ over OTel): observation type, model, usage and cost
//! details as JSON text, input/output in any shape, session and user.

use super::attrs::Attrs;
use super::genai::genai_or_openai;
use super::model::{Content, SpanType};
use serde_json::Value;

pub fn span_type(a: &Attrs) -> Option<SpanType> {
    let t = a.str("langfuse.observation.type")?;
    Some(match t.to_ascii_lowercase().as_str() {
        "generation" => SpanType::Llm,
        "embedding" => SpanType::Embedding,
        "agent" => SpanType::Agent,
        "tool" => SpanType::Tool,
        "chain" => SpanType::Chain,
        "retriever" => SpanType::Retriever,
        _ => SpanType::Other,
    })
}

pub const MODEL: &[&str] = &["langfuse.observation.model.name"];
pub const SESSION: &[&str] = &["langfuse.session.id"];
pub const USER: &[&str] = &["langfuse.user.id"];
pub const SESSION_FALLBACK: &[&str] = &[
    "langfuse.observation.metadata.langfuse_session_id",
    "langfuse.trace.metadata.langfuse_session_id",
];
pub const USER_FALLBACK: &[&str] = &[
    "langfuse.observation.metadata.langfuse_user_id",
    "langfuse.trace.metadata.langfuse_user_id",
];

/// `cost_details` total, or the sum of its parts. A failed call's all-zero details say
/// nothing was billed, which is kept as recorded.
pub fn recorded_cost(a: &Attrs) -> Option<f64> {
    let v = a.json("langfuse.observation.cost_details")?;
    let o = v.as_object()?;
    if let Some(t) = o.get("total").and_then(Value::as_f64) {
        return Some(t);
    }
    let parts: Vec<f64> = o.values().filter_map(Value::as_f64).collect();
    (!parts.is_empty()).then(|| parts.iter().sum())
}

pub fn content(a: &Attrs) -> Option<Content> {
    let mut c = Content::default();
    if let Some(mut v) = a.json("langfuse.observation.input") {
        c.tools.extend(tool_definitions(&mut v));
        c.input = genai_or_openai(&v);
        if let Some(tools) = v.get("tools").and_then(Value::as_array) {
            c.tools = tools.clone();
        }
    }
    if let Some(v) = a.json("langfuse.observation.output") {
        c.output = genai_or_openai(&v);
    }
    if let Some(Value::Object(p)) = a.json("langfuse.observation.model.parameters") {
        c.parameters = p;
    }
    // The OpenAI integration puts the request's other arguments in the metadata.
    if let Some(f) = a.json("langfuse.observation.metadata.response_format") {
        c.parameters.insert("response_format".into(), f);
    }
    if c.tools.is_empty()
        && let Some(Value::Array(tools)) = a.json("langfuse.observation.metadata.tools")
    {
        c.tools = tools;
    }
    (!c.is_empty()).then_some(c)
}

/// Langfuse's LangChain handler lists the tools offered as `tool` messages whose content
/// is the definition: they are taken out as tools, not shown as tool results.
fn tool_definitions(v: &mut Value) -> Vec<Value> {
    let Value::Array(items) = v else {
        return Vec::new();
    };
    let is_definition = |m: &Value| {
        m.get("role").and_then(Value::as_str) == Some("tool")
            && m.get("content").is_some_and(|c| {
                c.get("type").and_then(Value::as_str) == Some("function")
                    && c.get("function").is_some()
            })
    };
    let (defs, rest): (Vec<Value>, Vec<Value>) =
        std::mem::take(items).into_iter().partition(is_definition);
    *items = rest;
    defs.into_iter()
        .filter_map(|mut m| m.get_mut("content").map(Value::take))
        .collect()
}
