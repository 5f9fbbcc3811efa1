//! Attribute values as JSON text in the store, without loss: strings, booleans, integers
//! and arrays are plain JSON, key-value lists are objects, doubles always carry a
//! decimal point or exponent (so `1.0` stays a double), and the two kinds JSON cannot
//! hold are tagged: `{"$bytes": "<base64>"}` and `{"$double": "NaN"}`.

use crate::ingest::raw::{AnyValue, Event, KeyValue, Link};
use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

struct Val<'a>(&'a AnyValue);
struct Attrs<'a>(&'a [KeyValue]);

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            AnyValue::Empty => s.serialize_unit(),
            AnyValue::String(v) => s.serialize_str(v),
            AnyValue::Bool(v) => s.serialize_bool(*v),
            AnyValue::Int(v) => s.serialize_i64(*v),
            AnyValue::Double(v) if v.is_finite() => s.serialize_f64(*v),
            AnyValue::Double(v) => {
                let text = if v.is_nan() {
                    "NaN"
                } else if *v > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("$double", text)?;
                m.end()
            }
            AnyValue::Bytes(b) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(
                    "$bytes",
                    &base64::engine::general_purpose::STANDARD.encode(b),
                )?;
                m.end()
            }
            AnyValue::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(&Val(i))?;
                }
                seq.end()
            }
            AnyValue::KvList(kvs) => Attrs(kvs).serialize(s),
        }
    }
}

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for kv in self.0 {
            m.serialize_entry(&kv.key, &Val(&kv.value))?;
        }
        m.end()
    }
}

fn to_text(v: &impl Serialize, out: &mut String) {
    // Serializing these types into memory cannot fail: every value has a JSON form.
    // Message content is most of a dump's bytes: sonic-rs escapes strings with SIMD.
    match out.is_empty() {
        true => *out = sonic_rs::to_string(v).unwrap_or_default(),
        false => out.push_str(&sonic_rs::to_string(v).unwrap_or_default()),
    }
}

pub fn attributes_json(attrs: &[KeyValue]) -> String {
    let mut s = String::new();
    to_text(&Attrs(attrs), &mut s);
    s
}

pub fn value_json(v: &AnyValue) -> String {
    let mut s = String::new();
    to_text(&Val(v), &mut s);
    s
}

struct Events<'a>(&'a [Event]);
impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&EventJson(e))?;
        }
        seq.end()
    }
}
struct EventJson<'a>(&'a Event);
impl Serialize for EventJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("time_unix_nano", &self.0.time_unix_nano)?;
        m.serialize_entry("name", &self.0.name)?;
        m.serialize_entry("attributes", &Attrs(&self.0.attributes))?;
        m.end()
    }
}

pub fn events_json(events: &[Event]) -> String {
    let mut s = String::new();
    to_text(&Events(events), &mut s);
    s
}

struct Links<'a>(&'a [Link]);
impl Serialize for Links<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for l in self.0 {
            seq.serialize_element(&LinkJson(l))?;
        }
        seq.end()
    }
}
struct LinkJson<'a>(&'a Link);
impl Serialize for LinkJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("trace_id", &self.0.trace_id.to_string())?;
        m.serialize_entry("span_id", &self.0.span_id.to_string())?;
        m.serialize_entry("trace_state", &self.0.trace_state)?;
        m.serialize_entry("attributes", &Attrs(&self.0.attributes))?;
        m.end()
    }
}

pub fn links_json(links: &[Link]) -> String {
    let mut s = String::new();
    to_text(&Links(links), &mut s);
    s
}

/// The inverse of `value_json`.
pub fn value_from_json(v: Value) -> AnyValue {
    match v {
        Value::Null => AnyValue::Empty,
        Value::Bool(b) => AnyValue::Bool(b),
        Value::Number(n) => match (n.as_i64(), n.is_f64()) {
            (Some(i), false) => AnyValue::Int(i),
            _ => AnyValue::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => AnyValue::String(s),
        Value::Array(a) => AnyValue::Array(a.into_iter().map(value_from_json).collect()),
        Value::Object(mut o) => {
            if o.len() == 1 {
                if let Some(Value::String(b)) = o.get("$bytes")
                    && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b)
                {
                    return AnyValue::Bytes(bytes);
                }
                if let Some(Value::String(d)) = o.get("$double") {
                    match d.as_str() {
                        "NaN" => return AnyValue::Double(f64::NAN),
                        "Infinity" => return AnyValue::Double(f64::INFINITY),
                        "-Infinity" => return AnyValue::Double(f64::NEG_INFINITY),
                        _ => {}
                    }
                }
            }
            let keys: Vec<String> = o.keys().cloned().collect();
            AnyValue::KvList(
                keys.into_iter()
                    .map(|k| {
                        let v = o.remove(&k).unwrap_or(Value::Null);
                        KeyValue::new(k, value_from_json(v))
                    })
                    .collect(),
            )
        }
    }
}

/// The inverse of `attributes_json`.
pub fn attributes_from_json(text: &str) -> Result<Vec<KeyValue>, serde_json::Error> {
    match value_from_json(serde_json::from_str(text)?) {
        AnyValue::KvList(kvs) => Ok(kvs),
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_value() -> impl Strategy<Value = AnyValue> {
        let leaf = prop_oneof![
            Just(AnyValue::Empty),
            any::<String>().prop_map(AnyValue::String),
            "[\\x00-\\x1f\"\\\\a-z\u{7f}-\u{10ffff}]{0,12}".prop_map(AnyValue::String),
            any::<bool>().prop_map(AnyValue::Bool),
            any::<i64>().prop_map(AnyValue::Int),
            any::<f64>().prop_map(AnyValue::Double),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(AnyValue::Bytes),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(AnyValue::Array),
                prop::collection::vec((any::<String>(), inner), 0..4).prop_map(|kvs| {
                    AnyValue::KvList(kvs.into_iter().map(|(k, v)| KeyValue::new(&k, v)).collect())
                }),
            ]
        })
    }

    proptest! {
        /// The SIMD serializer writes what serde_json writes, byte for byte.
        #[test]
        fn attribute_text_is_serde_json_text(
            kvs in prop::collection::vec((any::<String>(), any_value()), 0..6)
        ) {
            let attrs: Vec<KeyValue> = kvs.into_iter().map(|(k, v)| KeyValue::new(&k, v)).collect();
            prop_assert_eq!(
                attributes_json(&attrs),
                serde_json::to_string(&Attrs(&attrs)).unwrap()
            );
        }
    }

    #[test]
    fn round_trip_is_lossless() {
        let attrs = vec![
            KeyValue::new("s", AnyValue::String("x\"y".into())),
            KeyValue::new("b", AnyValue::Bool(true)),
            KeyValue::new("big", AnyValue::Int(9_007_199_254_740_993)),
            KeyValue::new("one", AnyValue::Double(1.0)),
            KeyValue::new("nan", AnyValue::Double(f64::NAN)),
            KeyValue::new("bytes", AnyValue::Bytes(vec![0, 255, 1])),
            KeyValue::new(
                "arr",
                AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Double(2.5)]),
            ),
            KeyValue::new(
                "kv",
                AnyValue::KvList(vec![KeyValue::new("a", AnyValue::Empty)]),
            ),
        ];
        let text = attributes_json(&attrs);
        assert!(text.contains("9007199254740993"));
        assert!(text.contains("\"one\":1.0"));
        let back = attributes_from_json(&text).unwrap();
        // NaN != NaN, so compare the texts of the round trip instead.
        assert_eq!(attributes_json(&back), text);
        assert_eq!(back.len(), attrs.len());
        assert_eq!(back[2].value, AnyValue::Int(9_007_199_254_740_993));
        assert_eq!(back[3].value, AnyValue::Double(1.0));
        assert_eq!(back[5].value, AnyValue::Bytes(vec![0, 255, 1]));
    }
}
