//! The one model every dialect is normalized into.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanType {
    Llm,
    Embedding,
    Chain,
    Agent,
    Tool,
    Retriever,
    #[default]
    Other,
}

impl SpanType {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanType::Llm => "llm",
            SpanType::Embedding => "embedding",
            SpanType::Chain => "chain",
            SpanType::Agent => "agent",
            SpanType::Tool => "tool",
            SpanType::Retriever => "retriever",
            SpanType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> SpanType {
        match s {
            "llm" => SpanType::Llm,
            "embedding" => SpanType::Embedding,
            "chain" => SpanType::Chain,
            "agent" => SpanType::Agent,
            "tool" => SpanType::Tool,
            "retriever" => SpanType::Retriever,
            _ => SpanType::Other,
        }
    }

    /// Whether usage on a span of this type is a model call's own.
    pub fn is_model_call(self) -> bool {
        matches!(self, SpanType::Llm | SpanType::Embedding)
    }
}

/// Token usage with one meaning whatever the source: `input` includes cache reads and
/// writes, `output` includes reasoning. The price classes beyond text are parts of
/// their whole, as cache reads are of input: `cache_write_1h` of `cache_write` (the
/// rest are 5-minute writes), `audio_input` and `image_input` of `input`,
/// `audio_output` of `output`. A field the source did not report is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Usage {
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
    pub reasoning: Option<i64>,
    pub cache_write_1h: Option<i64>,
    pub audio_input: Option<i64>,
    pub audio_output: Option<i64>,
    pub image_input: Option<i64>,
}

impl Usage {
    /// The store's and the calls tables' column of each count, in `counts` order.
    pub const COLUMNS: [&'static str; 9] = [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "cache_write_1h_tokens",
        "audio_input_tokens",
        "audio_output_tokens",
        "image_input_tokens",
    ];

    pub fn counts(&self) -> [Option<i64>; 9] {
        [
            self.input,
            self.output,
            self.cache_read,
            self.cache_write,
            self.reasoning,
            self.cache_write_1h,
            self.audio_input,
            self.audio_output,
            self.image_input,
        ]
    }

    pub fn from_counts(c: [Option<i64>; 9]) -> Usage {
        Usage {
            input: c[0],
            output: c[1],
            cache_read: c[2],
            cache_write: c[3],
            reasoning: c[4],
            cache_write_1h: c[5],
            audio_input: c[6],
            audio_output: c[7],
            image_input: c[8],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none()
    }

    /// How many fields the source reported: the richest source of a span wins.
    pub fn richness(&self) -> usize {
        self.counts().iter().filter(|v| v.is_some()).count()
    }

    pub fn total(&self) -> Option<i64> {
        match (self.input, self.output) {
            (None, None) => None,
            (i, o) => Some(i.unwrap_or(0).saturating_add(o.unwrap_or(0))),
        }
    }
}

/// A number on a span that cannot be used (a negative, fractional or too large token
/// count, or a sum past 2^63 - 1): reported as a warning naming the span and key, and
/// treated as missing, never as 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedValue {
    pub key: String,
    /// The value as written, shortened.
    pub value: String,
    pub problem: String,
}

impl RefusedValue {
    pub fn new(key: &str, value: &str, problem: impl ToString) -> RefusedValue {
        const MAX: usize = 40;
        let value = match value.char_indices().nth(MAX) {
            Some((i, _)) => format!("{}…", &value[..i]),
            None => value.to_string(),
        };
        RefusedValue {
            key: key.to_string(),
            value,
            problem: problem.to_string(),
        }
    }
}

impl RefusedValue {
    /// `a + b` under `key` passed 2^63 - 1: neither part can be trusted.
    pub fn overflow(key: &str, a: i64, b: i64) -> RefusedValue {
        RefusedValue::new(key, &format!("{a} + {b}"), "the sum exceeds 2^63 - 1")
    }
}

impl std::fmt::Display for RefusedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} = {}: {}", self.key, self.value, self.problem)
    }
}

/// A part of a message, in the shape reports need (media are summarized, not kept).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    Reasoning {
        text: String,
    },
    Media {
        media_type: Option<String>,
        bytes: Option<u64>,
        uri: Option<String>,
    },
    ToolCall {
        id: Option<String>,
        name: String,
        arguments: String,
    },
    ToolResult {
        tool_call_id: Option<String>,
        content: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub role: String,
    pub parts: Vec<Part>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

/// The text parts of some parts, joined.
pub fn joined_text(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The texts of the system (or developer) messages: producers that have no separate
/// key for system instructions keep them as input messages.
pub fn system_texts(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.role == "system" || m.role == "developer")
        .flat_map(|m| m.parts.iter())
        .filter_map(|p| match p {
            Part::Text { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

impl Message {
    pub fn text(role: &str, text: impl Into<String>) -> Message {
        Message {
            role: role.to_string(),
            parts: vec![Part::Text { text: text.into() }],
            finish_reason: None,
        }
    }
}

/// Content of an LLM call: what went in and what came out.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Content {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<Message>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<Message>,
    /// Tool definitions as sent (name, description, parameters).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<serde_json::Value>,
    /// Invocation parameters, `response_format` / `text.format` included.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub parameters: serde_json::Map<String, serde_json::Value>,
}

impl Content {
    pub fn is_empty(&self) -> bool {
        self.system.is_empty()
            && self.input.is_empty()
            && self.output.is_empty()
            && self.tools.is_empty()
            && self.parameters.is_empty()
    }
}

/// Everything the dialects say about one span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Normalized {
    pub span_type: SpanType,
    pub operation: Option<String>,
    pub provider: Option<String>,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    pub usage: Usage,
    /// Which key or raw JSON the usage came from, and any correction applied to it.
    pub usage_source: Option<String>,
    pub recorded_cost_usd: Option<f64>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub response_id: Option<String>,
    pub previous_response_id: Option<String>,
    pub finish_reasons: Vec<String>,
    pub service_tier: Option<String>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    /// Numbers on the span that were refused, each treated as missing.
    pub refused_values: Vec<RefusedValue>,
}
