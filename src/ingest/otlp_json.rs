//! OTLP/JSON (`ExportTraceServiceRequest`, `ExportLogsServiceRequest`), read tolerantly:
//! hex or base64 ids, int64 as strings or numbers, enums as integers or names,
//! lowerCamelCase or snake_case names, unknown fields ignored. Spans are handed to a
//! sink one at a time, so a document never has to be held whole in memory.

use super::ids::{SpanId, TraceId};
use super::raw::{
    AnyValue, Decoded, Event, KeyValue, Link, RawLog, RawSpan, Record, Resource, Scope, SpanKind,
    StatusCode,
};
use base64::Engine as _;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

/// Where decoded records go.
pub type Sink<'s> = &'s mut dyn FnMut(Decoded);

/// A string read from the input: borrowed when it has no escapes, which is almost
/// always (`Cow<str>`'s own `Deserialize` always copies).
#[derive(Debug)]
pub struct Text<'de>(pub Cow<'de, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Names the attributes a decode skips: true for a key whose value is not wanted.
pub type SkipAttribute = fn(&str) -> bool;

thread_local! {
    /// Attribute keys whose values the decode on this thread skips unread (see
    /// `DecodeOptions::skip_attribute`). Thread-local because serde's `Deserialize`
    /// takes no context, and one record is always decoded on one thread.
    static SKIP_ATTRIBUTE: Cell<Option<SkipAttribute>> = const { Cell::new(None) };
}

/// Whether the decode on this thread leaves the value of attribute `key` unread (the
/// protobuf decode's reference in its tests asks per key).
#[cfg(test)]
pub(super) fn skipped(key: &str) -> bool {
    SKIP_ATTRIBUTE.get().is_some_and(|f| f(key))
}

/// What the decode on this thread skips, read once by a decode that asks per key.
pub(super) fn skip_attribute() -> Option<SkipAttribute> {
    SKIP_ATTRIBUTE.get()
}

/// Runs `f` with attribute values named by `skip` left unread.
pub fn skipping_attributes<R>(skip: Option<SkipAttribute>, f: impl FnOnce() -> R) -> R {
    let before = SKIP_ATTRIBUTE.replace(skip);
    let r = f();
    SKIP_ATTRIBUTE.set(before);
    r
}

// ---------------------------------------------------------------------------------
// Scalars

/// A time in nanoseconds: OTLP's fixed64, as a number or text. A time past what i64
/// holds (year 2262) is held to the limit, and import warns of it.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use super::timestamp::{parse_integer, saturate};
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer or a string holding one")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            Ok(saturate(i128::from(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // Some JavaScript producers write nanosecond times as floats; the cast
            // saturates.
            if v.is_finite() && v.fract() == 0.0 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("{v} is not an integer")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            parse_integer(v.trim()).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
    }
    d.deserialize_any(V)
}

fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// An enum written as its number or as its name.
fn enum_value<'de, D: Deserializer<'de>, T>(
    d: D,
    what: &'static str,
    from_int: fn(i64) -> Option<T>,
    from_name: fn(&str) -> Option<T>,
) -> Result<T, D::Error> {
    struct V<T> {
        what: &'static str,
        from_int: fn(i64) -> Option<T>,
        from_name: fn(&str) -> Option<T>,
    }
    impl<'de, T> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a {} as a number or a name", self.what)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            (self.from_int)(v).ok_or_else(|| E::custom(format!("unknown {} {v}", self.what)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_i64(v.min(i64::MAX as u64) as i64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            if let Ok(n) = v.parse::<i64>() {
                return self.visit_i64(n);
            }
            (self.from_name)(v).ok_or_else(|| E::custom(format!("unknown {} {v:?}", self.what)))
        }
    }
    d.deserialize_any(V {
        what,
        from_int,
        from_name,
    })
}

fn span_kind<'de, D: Deserializer<'de>>(d: D) -> Result<SpanKind, D::Error> {
    enum_value(d, "span kind", SpanKind::from_otlp, SpanKind::from_name)
}

fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<StatusCode, D::Error> {
    enum_value(
        d,
        "status code",
        StatusCode::from_otlp,
        StatusCode::from_name,
    )
}

fn severity<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    fn from_int(v: i64) -> Option<i32> {
        (0..=24).contains(&v).then_some(v as i32)
    }
    fn from_name(n: &str) -> Option<i32> {
        const NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
        let n = n.strip_prefix("SEVERITY_NUMBER_").unwrap_or(n);
        if n == "UNSPECIFIED" {
            return Some(0);
        }
        let digits = n.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let base = &n[..n.len() - digits.len()];
        let idx = NAMES.iter().position(|x| *x == base)? as i32;
        let step = if digits.is_empty() {
            1
        } else {
            digits.parse::<i32>().ok()?
        };
        (1..=4).contains(&step).then_some(idx * 4 + step)
    }
    enum_value(d, "severity number", from_int, from_name)
}

fn trace_id<'de, D: Deserializer<'de>>(d: D) -> Result<TraceId, D::Error> {
    let s = Text::deserialize(d)?;
    TraceId::parse(&s).map_err(de::Error::custom)
}

fn span_id<'de, D: Deserializer<'de>>(d: D) -> Result<SpanId, D::Error> {
    let s = Text::deserialize(d)?;
    SpanId::parse(&s).map_err(de::Error::custom)
}

fn parent_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SpanId>, D::Error> {
    let s = Option::<Text>::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => SpanId::parse_parent(&s).map_err(de::Error::custom),
    }
}

fn opt_trace_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TraceId>, D::Error> {
    let s = Option::<Text>::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => {
            let id = TraceId::parse(s).map_err(de::Error::custom)?;
            Ok((!id.is_zero()).then_some(id))
        }
    }
}

fn opt_span_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SpanId>, D::Error> {
    let s = Option::<Text>::deserialize(d)?;
    match s {
        None => Ok(None),
        Some(s) => SpanId::parse_parent(&s).map_err(de::Error::custom),
    }
}

// ---------------------------------------------------------------------------------
// AnyValue and attributes

/// An OTLP/JSON `AnyValue`: `{"stringValue": …}`, `{"intValue": "1"}`, …, `{}` for empty.
pub struct OtlpValue(pub AnyValue);

impl<'de> Deserialize<'de> for OtlpValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OtlpValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an OTLP AnyValue object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<OtlpValue, E> {
                Ok(OtlpValue(AnyValue::Empty))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OtlpValue, A::Error> {
                let mut out = AnyValue::Empty;
                while let Some(key) = map.next_key::<Text>()? {
                    let v = match key.as_ref() {
                        "stringValue" | "string_value" => {
                            map.next_value::<Option<String>>()?.map(AnyValue::String)
                        }
                        "boolValue" | "bool_value" => {
                            map.next_value::<Option<bool>>()?.map(AnyValue::Bool)
                        }
                        "intValue" | "int_value" => Some(map.next_value::<AttrInt>()?.0),
                        "doubleValue" | "double_value" => {
                            Some(AnyValue::Double(map.next_value::<DoubleField>()?.0))
                        }
                        "bytesValue" | "bytes_value" => {
                            let s = map.next_value::<Option<Text>>()?;
                            match s {
                                None => None,
                                Some(s) => {
                                    Some(AnyValue::Bytes(decode_bytes(&s).map_err(|_| {
                                        de::Error::custom(format!("bytesValue {s:?} is not base64"))
                                    })?))
                                }
                            }
                        }
                        "arrayValue" | "array_value" => {
                            let v = map.next_value::<Option<ValuesOf<OtlpValue>>>()?;
                            v.map(|v| AnyValue::Array(v.0.into_iter().map(|x| x.0).collect()))
                        }
                        "kvlistValue" | "kvlist_value" => {
                            let v = map.next_value::<Option<ValuesOf<OtlpKeyValue>>>()?;
                            v.map(|v| {
                                AnyValue::KvList(v.0.into_iter().filter_map(|x| x.0).collect())
                            })
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            None
                        }
                    };
                    if let Some(v) = v {
                        out = v;
                    }
                }
                Ok(OtlpValue(out))
            }
        }
        d.deserialize_any(V)
    }
}

fn decode_bytes(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let t = s.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
}

/// An attribute's `intValue`. Unlike an id or a timestamp, an attribute that is out of
/// int64's range or fractional spoils only itself: it is kept as written (digits as a
/// string, a fraction as a double) for the reader of that key to refuse with a warning,
/// rather than failing the whole record.
struct AttrInt(AnyValue);
impl<'de> Deserialize<'de> for AttrInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AttrInt;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a string holding one")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttrInt, E> {
                Ok(AttrInt(AnyValue::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttrInt, E> {
                Ok(AttrInt(match i64::try_from(v) {
                    Ok(i) => AnyValue::Int(i),
                    Err(_) => AnyValue::String(v.to_string()),
                }))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<AttrInt, E> {
                Ok(AttrInt(match i64::try_from(v) {
                    Ok(i) => AnyValue::Int(i),
                    Err(_) => AnyValue::String(v.to_string()),
                }))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<AttrInt, E> {
                self.visit_i128(i128::try_from(v).unwrap_or(i128::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttrInt, E> {
                Ok(AttrInt(
                    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.2e18 {
                        AnyValue::Int(v as i64)
                    } else {
                        AnyValue::Double(v)
                    },
                ))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AttrInt, E> {
                let t = v.trim();
                if let Ok(n) = t.parse::<i64>() {
                    return Ok(AttrInt(AnyValue::Int(n)));
                }
                let digits = t.strip_prefix('-').unwrap_or(t);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok(AttrInt(AnyValue::String(t.to_string())));
                }
                Err(E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AttrInt, E> {
                Ok(AttrInt(AnyValue::Empty))
            }
        }
        d.deserialize_any(V)
    }
}

/// Proto3 JSON writes non-finite doubles as the strings "NaN", "Infinity", "-Infinity".
struct DoubleField(f64);
impl<'de> Deserialize<'de> for DoubleField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DoubleField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a string holding one")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DoubleField, E> {
                Ok(DoubleField(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DoubleField, E> {
                Ok(DoubleField(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DoubleField, E> {
                Ok(DoubleField(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DoubleField, E> {
                match v.trim() {
                    "NaN" => Ok(DoubleField(f64::NAN)),
                    "Infinity" => Ok(DoubleField(f64::INFINITY)),
                    "-Infinity" => Ok(DoubleField(f64::NEG_INFINITY)),
                    t => t
                        .parse()
                        .map(DoubleField)
                        .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

struct ValuesOf<T>(Vec<T>);
impl<'de, T: Deserialize<'de>> Deserialize<'de> for ValuesOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W<T> {
            #[serde(default = "Vec::new")]
            values: Vec<T>,
        }
        W::<T>::deserialize(d).map(|w| ValuesOf(w.values))
    }
}

/// One attribute; `None` when the key is one the current decode skips.
pub struct OtlpKeyValue(pub Option<KeyValue>);
impl<'de> Deserialize<'de> for OtlpKeyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OtlpKeyValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute: {\"key\": …, \"value\": …}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OtlpKeyValue, A::Error> {
                let mut key: Option<Text> = None;
                let mut value = AnyValue::Empty;
                let mut skipped = false;
                while let Some(k) = map.next_key::<Text>()? {
                    match &*k {
                        "key" => key = Some(map.next_value()?),
                        // The key comes first in every producer's output; a value before
                        // its key is simply kept.
                        "value"
                            if key
                                .as_deref()
                                .is_some_and(|k| SKIP_ATTRIBUTE.get().is_some_and(|f| f(k))) =>
                        {
                            map.next_value::<IgnoredAny>()?;
                            skipped = true;
                        }
                        "value" => {
                            if let Some(v) = map.next_value::<Option<OtlpValue>>()? {
                                value = v.0;
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let key = key.ok_or_else(|| de::Error::missing_field("key"))?;
                Ok(OtlpKeyValue((!skipped).then(|| KeyValue {
                    key: key.0.into_owned(),
                    value,
                })))
            }
        }
        d.deserialize_map(V)
    }
}

fn attributes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<KeyValue>, D::Error> {
    let v = Option::<Vec<OtlpKeyValue>>::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .filter_map(|kv| kv.0)
        .collect())
}

// ---------------------------------------------------------------------------------
// Resource, scope, span, log record

#[derive(Deserialize, Default)]
struct ResourceJson {
    #[serde(default, deserialize_with = "attributes")]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize, Default)]
struct ScopeJson {
    #[serde(default, deserialize_with = "string_or_null")]
    name: String,
    #[serde(default, deserialize_with = "string_or_null")]
    version: String,
    #[serde(default, deserialize_with = "attributes")]
    attributes: Vec<KeyValue>,
}

impl ScopeJson {
    fn into_scope(self) -> Scope {
        Scope {
            name: self.name,
            version: self.version,
            attributes: self.attributes,
        }
    }
}

#[derive(Deserialize, Default)]
struct StatusJson {
    #[serde(default = "StatusCode::default", deserialize_with = "status_code")]
    code: StatusCode,
    #[serde(default, deserialize_with = "string_or_null")]
    message: String,
}

#[derive(Deserialize)]
struct EventJson {
    #[serde(
        rename = "timeUnixNano",
        alias = "time_unix_nano",
        default,
        deserialize_with = "int64"
    )]
    time: i64,
    #[serde(default, deserialize_with = "string_or_null")]
    name: String,
    #[serde(default, deserialize_with = "attributes")]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct LinkJson {
    #[serde(rename = "traceId", alias = "trace_id", deserialize_with = "trace_id")]
    trace_id: TraceId,
    #[serde(rename = "spanId", alias = "span_id", deserialize_with = "span_id")]
    span_id: SpanId,
    #[serde(
        rename = "traceState",
        alias = "trace_state",
        default,
        deserialize_with = "string_or_null"
    )]
    trace_state: String,
    #[serde(default, deserialize_with = "attributes")]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct SpanJson {
    #[serde(rename = "traceId", alias = "trace_id", deserialize_with = "trace_id")]
    trace_id: TraceId,
    #[serde(rename = "spanId", alias = "span_id", deserialize_with = "span_id")]
    span_id: SpanId,
    #[serde(
        rename = "traceState",
        alias = "trace_state",
        default,
        deserialize_with = "string_or_null"
    )]
    trace_state: String,
    #[serde(
        rename = "parentSpanId",
        alias = "parent_span_id",
        default,
        deserialize_with = "parent_id"
    )]
    parent_span_id: Option<SpanId>,
    #[serde(default)]
    flags: Option<u32>,
    #[serde(default, deserialize_with = "string_or_null")]
    name: String,
    #[serde(default = "SpanKind::default", deserialize_with = "span_kind")]
    kind: SpanKind,
    #[serde(
        rename = "startTimeUnixNano",
        alias = "start_time_unix_nano",
        default,
        deserialize_with = "int64"
    )]
    start: i64,
    #[serde(
        rename = "endTimeUnixNano",
        alias = "end_time_unix_nano",
        default,
        deserialize_with = "int64"
    )]
    end: i64,
    #[serde(default, deserialize_with = "attributes")]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    events: Option<Vec<EventJson>>,
    #[serde(default)]
    links: Option<Vec<LinkJson>>,
    #[serde(default)]
    status: Option<StatusJson>,
}

impl SpanJson {
    fn into_raw(self, resource: Arc<Resource>, scope: Arc<Scope>) -> RawSpan {
        let status = self.status.unwrap_or_default();
        RawSpan {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            trace_state: self.trace_state,
            name: self.name,
            kind: self.kind,
            start_time_unix_nano: self.start,
            end_time_unix_nano: self.end,
            status_code: status.code,
            status_message: status.message,
            flags: self.flags.unwrap_or(0),
            attributes: self.attributes,
            events: self
                .events
                .unwrap_or_default()
                .into_iter()
                .map(|e| Event {
                    time_unix_nano: e.time,
                    name: e.name,
                    attributes: e.attributes,
                })
                .collect(),
            links: self
                .links
                .unwrap_or_default()
                .into_iter()
                .map(|l| Link {
                    trace_id: l.trace_id,
                    span_id: l.span_id,
                    trace_state: l.trace_state,
                    attributes: l.attributes,
                })
                .collect(),
            resource,
            scope,
        }
    }
}

#[derive(Deserialize)]
struct LogJson {
    #[serde(
        rename = "timeUnixNano",
        alias = "time_unix_nano",
        default,
        deserialize_with = "int64"
    )]
    time: i64,
    #[serde(
        rename = "observedTimeUnixNano",
        alias = "observed_time_unix_nano",
        default,
        deserialize_with = "int64"
    )]
    observed: i64,
    #[serde(
        rename = "severityNumber",
        alias = "severity_number",
        default,
        deserialize_with = "severity"
    )]
    severity_number: i32,
    #[serde(
        rename = "severityText",
        alias = "severity_text",
        default,
        deserialize_with = "string_or_null"
    )]
    severity_text: String,
    #[serde(
        rename = "eventName",
        alias = "event_name",
        default,
        deserialize_with = "string_or_null"
    )]
    event_name: String,
    #[serde(default)]
    body: Option<OtlpValue>,
    #[serde(default, deserialize_with = "attributes")]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    flags: Option<u32>,
    #[serde(
        rename = "traceId",
        alias = "trace_id",
        default,
        deserialize_with = "opt_trace_id"
    )]
    trace_id: Option<TraceId>,
    #[serde(
        rename = "spanId",
        alias = "span_id",
        default,
        deserialize_with = "opt_span_id"
    )]
    span_id: Option<SpanId>,
}

impl LogJson {
    fn into_raw(self, resource: Arc<Resource>, scope: Arc<Scope>) -> RawLog {
        RawLog {
            trace_id: self.trace_id,
            span_id: self.span_id,
            time_unix_nano: self.time,
            observed_time_unix_nano: self.observed,
            severity_number: self.severity_number,
            severity_text: self.severity_text,
            event_name: self.event_name,
            body: self.body.map(|b| b.0).unwrap_or_default(),
            attributes: self.attributes,
            flags: self.flags.unwrap_or(0),
            resource,
            scope,
        }
    }
}

// ---------------------------------------------------------------------------------
// Streaming containers: resource → scope → items

/// Which signal a list of items holds.
#[derive(Clone, Copy)]
enum Signal {
    Traces,
    Logs,
}

/// A list of `ResourceSpans` or `ResourceLogs` (the item keys tell which), streamed
/// into the sink.
pub struct ResourceListSeed<'a, 's> {
    pub sink: &'a mut Sink<'s>,
}

impl<'de> DeserializeSeed<'de> for ResourceListSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResourceListSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of resource entries")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ResourceSeed {
                sink: &mut *self.sink,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct ResourceSeed<'a, 's> {
    sink: &'a mut Sink<'s>,
}

/// Items seen before their resource (or scope) was: JSON does not fix key order, so a
/// producer may write `scopeSpans` before `resource`. Held until it is known.
enum Pending {
    Span(SpanJson, Arc<Scope>),
    Log(LogJson, Arc<Scope>),
}

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource entry object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut resource: Option<Arc<Resource>> = None;
        let mut pending: Vec<Pending> = Vec::new();
        while let Some(key) = map.next_key::<Text>()? {
            match key.as_ref() {
                "resource" => {
                    let r = map
                        .next_value::<Option<ResourceJson>>()?
                        .unwrap_or_default();
                    resource = Some(Arc::new(Resource {
                        attributes: r.attributes,
                    }));
                }
                "scopeSpans"
                | "scope_spans"
                | "instrumentationLibrarySpans"
                | "instrumentation_library_spans"
                | "scopeLogs"
                | "scope_logs"
                | "instrumentationLibraryLogs"
                | "instrumentation_library_logs" => {
                    map.next_value_seed(ScopeListSeed {
                        resource: resource.clone(),
                        sink: &mut *self.sink,
                        pending: &mut pending,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let resource = resource.unwrap_or_default();
        for p in pending {
            (self.sink)(Decoded::Record(match p {
                Pending::Span(s, scope) => Record::Span(s.into_raw(resource.clone(), scope)),
                Pending::Log(l, scope) => Record::Log(l.into_raw(resource.clone(), scope)),
            }));
        }
        Ok(())
    }
}

struct ScopeListSeed<'a, 's> {
    resource: Option<Arc<Resource>>,
    sink: &'a mut Sink<'s>,
    pending: &'a mut Vec<Pending>,
}

impl<'de> DeserializeSeed<'de> for ScopeListSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScopeListSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of scope entries")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ScopeSeed {
                resource: self.resource.clone(),
                sink: &mut *self.sink,
                pending: &mut *self.pending,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct ScopeSeed<'a, 's> {
    resource: Option<Arc<Resource>>,
    sink: &'a mut Sink<'s>,
    pending: &'a mut Vec<Pending>,
}

impl<'de> DeserializeSeed<'de> for ScopeSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScopeSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scope entry object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut scope: Option<Arc<Scope>> = None;
        // Items that came before the scope key, in order.
        let mut early_spans: Vec<SpanJson> = Vec::new();
        let mut early_logs: Vec<LogJson> = Vec::new();
        while let Some(key) = map.next_key::<Text>()? {
            match key.as_ref() {
                "scope" | "instrumentationLibrary" | "instrumentation_library" => {
                    let s = map.next_value::<Option<ScopeJson>>()?.unwrap_or_default();
                    scope = Some(Arc::new(s.into_scope()));
                }
                "spans" => map.next_value_seed(ItemsSeed {
                    signal: Signal::Traces,
                    owner: &mut self,
                    scope: scope.clone(),
                    early_spans: &mut early_spans,
                    early_logs: &mut early_logs,
                })?,
                "logRecords" | "log_records" | "logs" => map.next_value_seed(ItemsSeed {
                    signal: Signal::Logs,
                    owner: &mut self,
                    scope: scope.clone(),
                    early_spans: &mut early_spans,
                    early_logs: &mut early_logs,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let scope = scope.unwrap_or_default();
        for s in early_spans {
            self.emit(Pending::Span(s, scope.clone()));
        }
        for l in early_logs {
            self.emit(Pending::Log(l, scope.clone()));
        }
        Ok(())
    }
}

impl ScopeSeed<'_, '_> {
    fn emit(&mut self, p: Pending) {
        match &self.resource {
            Some(r) => (self.sink)(Decoded::Record(match p {
                Pending::Span(s, scope) => Record::Span(s.into_raw(r.clone(), scope)),
                Pending::Log(l, scope) => Record::Log(l.into_raw(r.clone(), scope)),
            })),
            None => self.pending.push(p),
        }
    }
}

struct ItemsSeed<'a, 'b, 'c, 's> {
    signal: Signal,
    owner: &'a mut ScopeSeed<'b, 's>,
    scope: Option<Arc<Scope>>,
    early_spans: &'c mut Vec<SpanJson>,
    early_logs: &'c mut Vec<LogJson>,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of spans or log records")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.signal {
            Signal::Traces => {
                while let Some(s) = seq.next_element::<SpanJson>()? {
                    match &self.scope {
                        Some(scope) => self.owner.emit(Pending::Span(s, scope.clone())),
                        None => self.early_spans.push(s),
                    }
                }
            }
            Signal::Logs => {
                while let Some(l) = seq.next_element::<LogJson>()? {
                    match &self.scope {
                        Some(scope) => self.owner.emit(Pending::Log(l, scope.clone())),
                        None => self.early_logs.push(l),
                    }
                }
            }
        }
        Ok(())
    }
}
