//! What ingest produces: spans and log records exactly as the dump said them, with no
//! knowledge of LLMs. Every OTLP `AnyValue` kind survives the trip.

use super::ids::{SpanId, TraceId};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnyValue {
    #[default]
    Empty,
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Array(Vec<AnyValue>),
    KvList(Vec<KeyValue>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: AnyValue) -> Self {
        KeyValue {
            key: key.into(),
            value,
        }
    }
}

/// Looks up an attribute; the last one wins when a producer repeated a key, as the
/// OTel SDKs do when an attribute is set twice.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .rev()
        .find(|kv| kv.key == key)
        .map(|kv| &kv.value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    pub fn from_otlp(v: i64) -> Option<Self> {
        Some(match v {
            0 => Self::Unspecified,
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => return None,
        })
    }

    /// Accepts `SPAN_KIND_CLIENT`, `CLIENT`, `SpanKind.CLIENT`, `client`.
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.rsplit('.').next().unwrap_or(name);
        let n = n.strip_prefix("SPAN_KIND_").unwrap_or(n);
        Some(match n.to_ascii_lowercase().as_str() {
            "unspecified" | "" => Self::Unspecified,
            "internal" => Self::Internal,
            "server" => Self::Server,
            "client" => Self::Client,
            "producer" => Self::Producer,
            "consumer" => Self::Consumer,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Internal => "internal",
            Self::Server => "server",
            Self::Client => "client",
            Self::Producer => "producer",
            Self::Consumer => "consumer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub fn from_otlp(v: i64) -> Option<Self> {
        Some(match v {
            0 => Self::Unset,
            1 => Self::Ok,
            2 => Self::Error,
            _ => return None,
        })
    }

    /// Accepts `STATUS_CODE_ERROR`, `ERROR`, `StatusCode.ERROR`, `error`.
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.rsplit('.').next().unwrap_or(name);
        let n = n.strip_prefix("STATUS_CODE_").unwrap_or(n);
        Some(match n.to_ascii_lowercase().as_str() {
            "unset" | "" => Self::Unset,
            "ok" => Self::Ok,
            "error" => Self::Error,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unset => "unset",
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    pub attributes: Vec<KeyValue>,
}

impl Resource {
    pub fn service_name(&self) -> Option<&str> {
        match attr(&self.attributes, "service.name") {
            Some(AnyValue::String(s)) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    pub name: String,
    pub version: String,
    pub attributes: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub time_unix_nano: i64,
    pub name: String,
    pub attributes: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: String,
    pub attributes: Vec<KeyValue>,
}

/// One span as the producer recorded it. Resource and scope are shared by every span
/// of one batch, so they are reference-counted rather than copied.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSpan {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub trace_state: String,
    pub name: String,
    pub kind: SpanKind,
    pub start_time_unix_nano: i64,
    pub end_time_unix_nano: i64,
    pub status_code: StatusCode,
    pub status_message: String,
    pub flags: u32,
    pub attributes: Vec<KeyValue>,
    pub events: Vec<Event>,
    pub links: Vec<Link>,
    pub resource: Arc<Resource>,
    pub scope: Arc<Scope>,
}

impl AnyValue {
    /// About how many bytes of text the value is: what a store column holding it grows by.
    pub fn approx_bytes(&self) -> usize {
        match self {
            AnyValue::String(s) => s.len(),
            AnyValue::Bytes(b) => b.len(),
            AnyValue::Array(a) => a.iter().map(AnyValue::approx_bytes).sum(),
            AnyValue::KvList(kvs) => approx_bytes(kvs),
            AnyValue::Empty | AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => 8,
        }
    }
}

/// About how many bytes of text attributes are, keys included.
pub fn approx_bytes(attrs: &[KeyValue]) -> usize {
    attrs
        .iter()
        .map(|kv| kv.key.len() + kv.value.approx_bytes())
        .sum()
}

impl RawSpan {
    /// About how many bytes the span adds to a row group of the store: its attributes,
    /// events and links, which are all but a few bytes of a span that carries messages.
    pub fn approx_bytes(&self) -> usize {
        let events: usize = self
            .events
            .iter()
            .map(|e| e.name.len() + approx_bytes(&e.attributes))
            .sum();
        let links: usize = self.links.iter().map(|l| approx_bytes(&l.attributes)).sum();
        self.name.len()
            + self.status_message.len()
            + approx_bytes(&self.attributes)
            + events
            + links
    }

    /// How long the span took; 0 when it ends before it starts, and saturating, so that
    /// times at the limits of the type never wrap.
    pub fn duration_ns(&self) -> i64 {
        self.end_time_unix_nano
            .saturating_sub(self.start_time_unix_nano)
            .max(0)
    }
}

/// One OTLP log record. Records with a span id are joined to their span as events when
/// spans are read back; the rest are kept and counted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawLog {
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
    pub time_unix_nano: i64,
    pub observed_time_unix_nano: i64,
    pub severity_number: i32,
    pub severity_text: String,
    /// LogRecord `event_name` (recent SDKs) or the older `event.name` attribute.
    pub event_name: String,
    pub body: AnyValue,
    pub attributes: Vec<KeyValue>,
    pub flags: u32,
    pub resource: Arc<Resource>,
    pub scope: Arc<Scope>,
}

impl RawLog {
    /// The event name, wherever the producer put it.
    pub fn effective_event_name(&self) -> Option<&str> {
        if !self.event_name.is_empty() {
            return Some(&self.event_name);
        }
        match attr(&self.attributes, "event.name") {
            Some(AnyValue::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// What a decoder hands on: spans and log records in the order they were read.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Span(RawSpan),
    Log(RawLog),
}

impl Record {
    /// About how many bytes of text the record holds (`RawSpan::approx_bytes`).
    pub fn approx_bytes(&self) -> usize {
        match self {
            Record::Span(s) => s.approx_bytes(),
            Record::Log(l) => l.body.approx_bytes() + approx_bytes(&l.attributes),
        }
    }
}

/// What decoders hand to `decode_input`, which resolves all but records itself before
/// its caller sees anything.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    Record(Record),
    /// A Langfuse event or object: its spans exist only once the whole input is read,
    /// as updates and children may come after it.
    Langfuse(Box<super::langfuse::Piece>),
    /// A request of a signal traces does not read (`"metrics"`), counted in the summary.
    Unread(&'static str),
}
