//! OpenTelemetry GenAI semantic conventions: current keys (v1.37+), the older forms
//! still emitted (`gen_ai.system`, prompt/completion span events, per-message events),
//! and the `gen_ai.client.inference.operation.details` event or log record.

use super::attrs::{Attrs, as_json};
use super::content::{genai_messages, genai_parts, openai_content, openai_message};
use super::model::{Content, Message, Part, SpanType};
use crate::ingest::raw::Event;
use serde_json::Value;

pub fn span_type(a: &Attrs) -> Option<SpanType> {
    let op = a.str("gen_ai.operation.name")?;
    Some(match op.as_str() {
        // LiteLLM names its call types, `a` for the async ones (its proxy's).
        "chat" | "generate_content" | "text_completion" | "completion" | "generate"
        | "responses" | "acompletion" | "atext_completion" | "aresponses" => SpanType::Llm,
        "embeddings" | "embedding" | "aembedding" => SpanType::Embedding,
        "execute_tool" => SpanType::Tool,
        "invoke_agent" | "create_agent" | "agent" => SpanType::Agent,
        "invoke_workflow"
        | "agent_step"
        | "execute_event_loop_cycle"
        | "invoke_swarm"
        | "execute_task" => SpanType::Chain,
        "retrieval" | "vector_db_retrieve" => SpanType::Retriever,
        _ => SpanType::Other,
    })
}

/// Framework names that older producers put in `gen_ai.system`: not providers.
const FRAMEWORKS: [&str; 6] = [
    "strands-agents",
    "autogen",
    "langchain",
    "crewai",
    "pydantic_ai",
    "openai_agents",
];

pub fn provider(a: &Attrs) -> Option<String> {
    a.str("gen_ai.provider.name").or_else(|| {
        a.str("gen_ai.system")
            .filter(|s| !FRAMEWORKS.contains(&s.to_ascii_lowercase().as_str()))
    })
}

pub const REQUEST_MODEL: &[&str] = &["gen_ai.request.model"];
pub const RESPONSE_MODEL: &[&str] = &["gen_ai.response.model"];
pub const SESSION: &[&str] = &["gen_ai.conversation.id"];

pub fn finish_reasons(a: &Attrs) -> Vec<String> {
    let v = a.str_list("gen_ai.response.finish_reasons");
    if v.is_empty() {
        a.str_list("gen_ai.response.finish_reason")
    } else {
        v
    }
}

/// `gen_ai.request.*` parameters, and the older OpenAI-specific ones.
pub fn parameters(a: &Attrs, out: &mut serde_json::Map<String, Value>) {
    for kv in a.0 {
        let name = kv
            .key
            .strip_prefix("gen_ai.request.")
            .or_else(|| kv.key.strip_prefix("gen_ai.openai.request."))
            .or_else(|| kv.key.strip_prefix("openai.request."));
        if let Some(name) = name
            && name != "model"
            && let Some(v) = as_json(&kv.value)
        {
            out.entry(name.to_string()).or_insert(v);
        }
    }
    if let Some(t) = a.str("gen_ai.output.type") {
        out.entry("output_type".to_string())
            .or_insert(Value::String(t));
    }
}

/// Content from span attributes (v1.37+), then from the details event, then from the
/// per-message events of v1.28–v1.36, then from the prompt/completion events of v1.26.
pub fn content(a: &Attrs, events: &[Event]) -> Option<Content> {
    let mut c = Content::default();
    if let Some(v) = a.json("gen_ai.input.messages") {
        c.input = genai_or_openai(&v);
    }
    if let Some(v) = a.json("gen_ai.output.messages") {
        c.output = genai_or_openai(&v);
    }
    if let Some(v) = a.json("gen_ai.system_instructions") {
        c.system = system_texts(&v);
    }
    if let Some(Value::Array(tools)) = a.json("gen_ai.tool.definitions") {
        c.tools = tools;
    }
    if c.input.is_empty() && c.output.is_empty() {
        for e in events
            .iter()
            .filter(|e| e.name == "gen_ai.client.inference.operation.details")
        {
            let ea = Attrs(&e.attributes);
            if let Some(v) = ea.json("gen_ai.input.messages") {
                c.input = genai_or_openai(&v);
            }
            if let Some(v) = ea.json("gen_ai.output.messages") {
                c.output = genai_or_openai(&v);
            }
            if c.system.is_empty()
                && let Some(v) = ea.json("gen_ai.system_instructions")
            {
                c.system = system_texts(&v);
            }
        }
    }
    if c.input.is_empty() && c.output.is_empty() {
        per_message_events(events, &mut c);
    }
    if c.input.is_empty() && c.output.is_empty() {
        for e in events {
            let ea = Attrs(&e.attributes);
            match e.name.as_str() {
                "gen_ai.content.prompt" => {
                    c.input = ea
                        .json("gen_ai.prompt")
                        .map(|v| genai_or_openai(&v))
                        .unwrap_or_default()
                }
                "gen_ai.content.completion" => {
                    c.output = ea
                        .json("gen_ai.completion")
                        .map(|v| genai_or_openai(&v))
                        .unwrap_or_default()
                }
                _ => {}
            }
        }
    }
    (!c.is_empty()).then_some(c)
}

/// GenAI parts when the items have `parts`, provider-native (OpenAI, Bedrock) messages
/// when they have `content`, as SideSeat's details events do.
pub fn genai_or_openai(v: &Value) -> Vec<Message> {
    let parts_shape = v
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m.get("parts").is_some()));
    if parts_shape {
        genai_messages(v)
    } else {
        super::content::openai_messages(v)
    }
}

fn system_texts(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(_) => genai_parts(v)
            .into_iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// v1.28–v1.36: one event (or log record, joined to its span as an event) per message,
/// the role implied by the name, the fields in a `body` or in the event's attributes.
fn per_message_events(events: &[Event], c: &mut Content) {
    for e in events {
        let role = match e.name.as_str() {
            "gen_ai.system.message" => "system",
            "gen_ai.user.message" => "user",
            "gen_ai.assistant.message" => "assistant",
            "gen_ai.tool.message" => "tool",
            "gen_ai.choice" => "choice",
            _ => continue,
        };
        let ea = Attrs(&e.attributes);
        let body = ea
            .json("body")
            .or_else(|| as_json_event(&ea))
            .unwrap_or(Value::Null);
        if role == "choice" {
            let msg = body.get("message").unwrap_or(&body);
            let mut m = openai_message(&with_role(msg, "assistant"))
                .unwrap_or(Message::text("assistant", ""));
            if let Some(calls) = body
                .get("tool_calls")
                .filter(|_| msg.get("tool_calls").is_none())
            {
                let extra =
                    openai_message(&serde_json::json!({"role": "assistant", "tool_calls": calls}));
                m.parts.extend(extra.map(|x| x.parts).unwrap_or_default());
            }
            m.finish_reason = body
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(String::from);
            c.output.push(m);
        } else if role == "system" {
            c.system.extend(
                openai_content(body.get("content").unwrap_or(&Value::Null))
                    .into_iter()
                    .filter_map(|p| match p {
                        Part::Text { text } => Some(text),
                        _ => None,
                    }),
            );
        } else if let Some(m) = openai_message(&with_role(&body, role)) {
            c.input.push(m);
        }
    }
}

/// Span-event variant: the body's fields written as the event's attributes.
fn as_json_event(a: &Attrs) -> Option<Value> {
    let obj: serde_json::Map<String, Value> =
        a.0.iter()
            .filter_map(|kv| as_json(&kv.value).map(|v| (kv.key.clone(), v)))
            .collect();
    (!obj.is_empty()).then_some(Value::Object(obj))
}

fn with_role(v: &Value, role: &str) -> Value {
    let mut v = match v {
        Value::Object(_) => v.clone(),
        other => serde_json::json!({ "content": other }),
    };
    if let Some(o) = v.as_object_mut() {
        o.entry("role").or_insert(Value::String(role.to_string()));
        o.entry("type")
            .or_insert(Value::String("message".to_string()));
    }
    v
}
