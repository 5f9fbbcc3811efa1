//! Reading attribute values tolerantly: numbers written as strings, JSON written as
//! strings, lists flattened into indexed keys (`llm.input_messages.0.message.role`).

use crate::ingest::raw::{AnyValue, KeyValue, attr};
use serde_json::Value;
use std::collections::BTreeMap;

/// A span's attributes, with the lookups every dialect needs.
#[derive(Clone, Copy)]
pub struct Attrs<'a>(pub &'a [KeyValue]);

/// Langfuse caps reconstructed arrays at this many slots; a corrupt index must not
/// allocate without bound.
const MAX_INDEX: usize = 10_000;

impl<'a> Attrs<'a> {
    pub fn get(&self, key: &str) -> Option<&'a AnyValue> {
        attr(self.0, key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.0.iter().any(|kv| kv.key.starts_with(prefix))
    }

    /// A non-empty string (numbers and booleans are written out).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            AnyValue::String(s) => {
                let t = s.trim();
                // Redaction placeholders carry no value.
                (!t.is_empty() && t != "__REDACTED__").then(|| t.to_string())
            }
            AnyValue::Int(i) => Some(i.to_string()),
            AnyValue::Double(d) => Some(d.to_string()),
            AnyValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The first key of `keys` holding a non-empty string, and that key.
    pub fn first_str(&self, keys: &[&'static str]) -> Option<(String, &'static str)> {
        keys.iter().find_map(|k| self.str(k).map(|v| (v, *k)))
    }

    /// An integer, also when written as a string or a whole double; `NaN` and junk are
    /// absent, not zero.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(as_int)
    }

    pub fn float(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            AnyValue::Double(d) if d.is_finite() => Some(*d),
            AnyValue::Int(i) => Some(*i as f64),
            AnyValue::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
            _ => None,
        }
    }

    /// A JSON value: a JSON-encoded string, or a structured OTLP value.
    pub fn json(&self, key: &str) -> Option<Value> {
        self.get(key).and_then(as_json)
    }

    /// A list of strings: an OTLP array, a JSON string of one, a Python `repr` of one
    /// (`"['end_turn']"`, as CloudWatch flattens arrays), or a single string.
    pub fn str_list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(AnyValue::Array(items)) => items
                .iter()
                .filter_map(|v| as_json(v).and_then(|j| j.as_str().map(String::from)))
                .collect(),
            Some(AnyValue::String(s)) => parse_str_list(s),
            _ => Vec::new(),
        }
    }

    /// Unflattens `prefix.<i>.<rest>` keys into their indices, in order.
    pub fn indexed(&self, prefix: &str) -> BTreeMap<usize, Vec<(&'a str, &'a AnyValue)>> {
        let mut out: BTreeMap<usize, Vec<(&str, &AnyValue)>> = BTreeMap::new();
        let p = format!("{prefix}.");
        for kv in self.0 {
            let Some(rest) = kv.key.strip_prefix(&p) else {
                continue;
            };
            let (idx, tail) = rest.split_once('.').unwrap_or((rest, ""));
            let Ok(i) = idx.parse::<usize>() else {
                continue;
            };
            if i <= MAX_INDEX {
                out.entry(i).or_default().push((tail, &kv.value));
            }
        }
        out
    }
}

pub fn as_int(v: &AnyValue) -> Option<i64> {
    match v {
        AnyValue::Int(i) => Some(*i),
        AnyValue::Double(d) if d.is_finite() && d.fract() == 0.0 => Some(*d as i64),
        AnyValue::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.fract() == 0.0)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// A value as JSON: strings holding JSON are parsed (a string that is not JSON stays a
/// string), structured values are converted.
pub fn as_json(v: &AnyValue) -> Option<Value> {
    Some(match v {
        AnyValue::Empty => return None,
        AnyValue::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') || t.starts_with('[') || t.starts_with('"') {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
            } else {
                Value::String(s.clone())
            }
        }
        AnyValue::Bool(b) => Value::Bool(*b),
        AnyValue::Int(i) => Value::from(*i),
        AnyValue::Double(d) => serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number),
        AnyValue::Bytes(b) => Value::String(format!("<{} bytes>", b.len())),
        AnyValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| as_json(i).unwrap_or(Value::Null))
                .collect(),
        ),
        AnyValue::KvList(kvs) => Value::Object(
            kvs.iter()
                .map(|kv| (kv.key.clone(), as_json(&kv.value).unwrap_or(Value::Null)))
                .collect(),
        ),
    })
}

pub fn parse_str_list(s: &str) -> Vec<String> {
    let t = s.trim();
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(t) {
        return items
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner
            .split(',')
            .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .filter(|p| !p.is_empty())
            .collect();
    }
    if t.is_empty() {
        Vec::new()
    } else {
        vec![t.to_string()]
    }
}

/// An integer inside a JSON object, at a path of keys.
pub fn json_int(v: &Value, path: &[&str]) -> Option<i64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn json_str(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_reads() {
        let kv = vec![
            KeyValue::new("n", AnyValue::String("21245".into())),
            KeyValue::new("nan", AnyValue::String("NaN".into())),
            KeyValue::new("list", AnyValue::String("['end_turn']".into())),
            KeyValue::new("m.0.role", AnyValue::String("user".into())),
            KeyValue::new("m.2.role", AnyValue::String("assistant".into())),
            KeyValue::new("m.99999999.role", AnyValue::String("x".into())),
        ];
        let a = Attrs(&kv);
        assert_eq!(a.int("n"), Some(21245));
        assert_eq!(a.int("nan"), None);
        assert_eq!(a.str_list("list"), vec!["end_turn"]);
        let idx = a.indexed("m");
        assert_eq!(idx.keys().copied().collect::<Vec<_>>(), vec![0, 2]);
    }
}
