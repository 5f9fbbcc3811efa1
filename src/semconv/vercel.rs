//! Vercel AI SDK legacy `ai.*` spans: `ai.operationId`, `ai.model.*`, `ai.prompt.messages`,
//! `ai.response.*`, `ai.telemetry.metadata.*`.

use super::attrs::Attrs;
use super::content::openai_messages;
use super::model::{Content, Message, Part, SpanType, system_texts};
use serde_json::Value;

pub fn span_type(a: &Attrs) -> Option<SpanType> {
    let op = a.str("ai.operationId")?;
    Some(
        if op.ends_with(".doGenerate") || op.ends_with(".doStream") {
            if op.starts_with("ai.embed") {
                SpanType::Embedding
            } else {
                SpanType::Llm
            }
        } else if op.ends_with(".doEmbed") {
            SpanType::Embedding
        } else if op == "ai.toolCall" {
            SpanType::Tool
        } else {
            // The wrapper spans (ai.generateText, ai.streamText, ai.embed…) cover all steps.
            SpanType::Chain
        },
    )
}

pub const REQUEST_MODEL: &[&str] = &["ai.model.id"];
pub const RESPONSE_MODEL: &[&str] = &["ai.response.model"];
/// ai 4 to 6 write telemetry metadata on every span; ai 7's `@ai-sdk/otel` writes the
/// runtime context on the agent and step spans only (the trace's value reaches the
/// calls below them).
pub const SESSION: &[&str] = &[
    "ai.telemetry.metadata.sessionId",
    "ai.settings.context.sessionId",
];
pub const USER: &[&str] = &["ai.telemetry.metadata.userId", "ai.settings.context.userId"];

/// `openai.responses` → `openai`, `amazon-bedrock` → `aws.bedrock`, as AI SDK v7 maps them.
pub fn provider(a: &Attrs) -> Option<String> {
    let p = a.str("ai.model.provider")?;
    let base = p.split('.').next().unwrap_or(&p);
    Some(
        match base {
            "amazon-bedrock" | "bedrock" => "aws.bedrock",
            "google-vertex" => "gcp.vertex_ai",
            "google" if p.starts_with("google.vertex") => "gcp.vertex_ai",
            "google" => "gcp.gemini",
            "azure-openai" => "azure.ai.openai",
            "azure" => "azure.ai.inference",
            "mistral" => "mistral_ai",
            "xai" => "x_ai",
            other => other,
        }
        .to_string(),
    )
}

pub fn content(a: &Attrs) -> Option<Content> {
    let mut c = Content::default();
    if let Some(v) = a.json("ai.prompt.messages") {
        c.input = openai_messages(&v);
    } else if let Some(v) = a.json("ai.prompt") {
        if let Some(m) = v.get("messages") {
            c.input = openai_messages(m);
        } else if let Some(p) = v.get("prompt").and_then(Value::as_str) {
            c.input = vec![Message::text("user", p)];
        }
        if let Some(s) = v.get("system").and_then(Value::as_str) {
            c.system.push(s.to_string());
        }
    }
    c.system.extend(system_texts(&c.input));
    let mut out = Message {
        role: "assistant".into(),
        parts: Vec::new(),
        finish_reason: a.str("ai.response.finishReason"),
    };
    if let Some(t) = a
        .str("ai.response.text")
        .or_else(|| a.str("ai.response.object"))
    {
        out.parts.push(Part::Text { text: t });
    }
    if let Some(Value::Array(calls)) = a.json("ai.response.toolCalls") {
        for call in calls {
            out.parts.push(Part::ToolCall {
                id: call
                    .get("toolCallId")
                    .and_then(Value::as_str)
                    .map(String::from),
                name: call
                    .get("toolName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                arguments: match call.get("input").or_else(|| call.get("args")) {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                },
            });
        }
    }
    if !out.parts.is_empty() {
        c.output.push(out);
    }
    c.tools = a
        .str_list("ai.prompt.tools")
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
    if let Some(schema) = a.json("ai.schema") {
        c.parameters.insert("schema".into(), schema);
    }
    (!c.is_empty()).then_some(c)
}
