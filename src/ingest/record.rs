//! One top-level JSON value of a dump, whatever produced it: an OTLP request (streamed),
//! a wrapper around one (SideSeat's `data`), an array of records, or a vendor span
//! object (CloudWatch, console, Phoenix) recognised by its keys.

use super::otlp_json::{ResourceListSeed, Sink};
use super::{cloudwatch, console, phoenix};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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
        while let Some(key) = map.next_key::<super::otlp_json::Text>()? {
            match key.as_ref() {
                "resourceSpans" | "resource_spans" | "resourceLogs" | "resource_logs" => {
                    otlp = true;
                    map.next_value_seed(ResourceListSeed {
                        sink: &mut *self.sink,
                    })?;
                }
                // SideSeat's export wraps one OTLP request per line.
                "data" => {
                    otlp = true;
                    map.next_value_seed(RecordSeed {
                        sink: &mut *self.sink,
                    })?;
                }
                _ => {
                    rest.insert(key.0.into_owned(), map.next_value::<Value>()?);
                }
            }
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
        sink(cloudwatch::decode(inner)?);
        return Ok(());
    }
    if console::looks_like(&obj) {
        sink(console::decode(obj)?);
        return Ok(());
    }
    if phoenix::looks_like(&obj) {
        sink(phoenix::decode(obj)?);
        return Ok(());
    }
    if cloudwatch::looks_like(&obj) {
        sink(cloudwatch::decode(obj)?);
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
