//! One top-level JSON value of a dump, whatever produced it: an OTLP request (streamed),
//! a wrapper around one (SideSeat's `data`), an array of records, or a vendor span
//! object (CloudWatch, console, Phoenix) recognised by its keys.

use super::otlp_json::{ResourceListSeed, Sink};
use super::raw::Decoded;
use super::raw::Record;
use super::{any_agent, cloudwatch, console, langfuse, otel_js, phoenix};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

pub struct RecordSeed<'a, 's> {
    pub sink: &'a mut Sink<'s>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object holding spans or log records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(RecordSeed {
                sink: &mut *self.sink,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut otlp = false;
        let mut rest = Map::new();
        let mut agent_spans = None;
        while let Some(key) = map.next_key::<super::otlp_json::Text>()? {
            match key.as_ref() {
                "resourceSpans" | "resource_spans" | "resourceLogs" | "resource_logs" => {
                    otlp = true;
                    map.next_value_seed(ResourceListSeed {
                        sink: &mut *self.sink,
                    })?;
                }
                // A Collector writing several pipelines to one file mixes in signals
                // that are not read here: counted, not failed.
                "resourceMetrics" | "resource_metrics" | "resourceProfiles"
                | "resource_profiles" => {
                    otlp = true;
                    map.next_value::<IgnoredAny>()?;
                    let signal = match key.as_ref() {
                        "resourceMetrics" | "resource_metrics" => "metrics",
                        _ => "profiles",
                    };
                    (self.sink)(Decoded::Unread(signal));
                }
                // SideSeat's export wraps one OTLP request per line; a Langfuse API
                // page holds its objects there too.
                "data" => {
                    otlp = true;
                    map.next_value_seed(RecordSeed {
                        sink: &mut *self.sink,
                    })?;
                }
                // any-agent's spans carry 128-bit ids as JSON integers: kept as text.
                "spans" => agent_spans = Some(map.next_value::<Box<RawValue>>()?),
                _ => {
                    rest.insert(key.0.into_owned(), map.next_value::<Value>()?);
                }
            }
        }
        if let Some(spans) = agent_spans {
            for s in any_agent::decode(&spans).map_err(de::Error::custom)? {
                (self.sink)(Decoded::Record(Record::Span(s)));
            }
            return Ok(());
        }
        if otlp {
            return Ok(());
        }
        vendor(rest, self.sink).map_err(de::Error::custom)
    }
}

/// A record that is not OTLP: one span or log record in a vendor's shape.
fn vendor(mut obj: Map<String, Value>, sink: &mut Sink<'_>) -> Result<(), String> {
    if obj.is_empty() {
        return Ok(());
    }
    if let Some(inner) = obj.remove("raw_otel_json") {
        let Value::Object(inner) = inner else {
            return Err("`raw_otel_json` must be an object".into());
        };
        sink(Decoded::Record(cloudwatch::decode(inner)?));
        return Ok(());
    }
    if console::looks_like(&obj) {
        sink(Decoded::Record(console::decode(obj)?));
        return Ok(());
    }
    if phoenix::looks_like(&obj) {
        sink(Decoded::Record(phoenix::decode(obj)?));
        return Ok(());
    }
    if cloudwatch::looks_like(&obj) {
        sink(Decoded::Record(cloudwatch::decode(obj)?));
        return Ok(());
    }
    if otel_js::looks_like(&obj) {
        sink(Decoded::Record(Record::Span(otel_js::decode(obj)?)));
        return Ok(());
    }
    if langfuse::looks_like(&obj) {
        for p in langfuse::pieces(obj)? {
            sink(Decoded::Langfuse(Box::new(p)));
        }
        return Ok(());
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    keys.sort_unstable();
    Err(format!(
        "not a known record: expected an OTLP request (resourceSpans or resourceLogs), a \
         SideSeat or CloudWatch export record, a console span or a Phoenix span; found keys {}",
        keys.join(", ")
    ))
}
