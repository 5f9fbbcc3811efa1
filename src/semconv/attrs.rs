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
                (!t.is_empty() && t != "__REDACTED__" && !is_scrubbed(t)).then(|| t.to_string())
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

    /// A token count: a non-negative integer, also when written as a string or a whole
    /// double. `None` when the key is absent or empty; an error says why a value that is
    /// there cannot be a count (it is then missing, never 0).
    pub fn count(&self, key: &str) -> Option<Result<i64, BadCount>> {
        match self.get(key)? {
            AnyValue::Empty => None,
            AnyValue::String(s) if s.trim().is_empty() => None,
            v => Some(as_count(v)),
        }
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

/// Logfire's placeholder for a value it took for a secret (`[Scrubbed due to 'session']`):
/// no value at all.
pub fn is_scrubbed(s: &str) -> bool {
    s.starts_with("[Scrubbed due to")
}

/// Why a value read from a file cannot be a token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadCount {
    Negative,
    Fractional,
    /// Beyond 2^63 - 1, the largest count a report can hold.
    TooLarge,
    NotANumber,
}

impl std::fmt::Display for BadCount {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            BadCount::Negative => "a token count cannot be negative",
            BadCount::Fractional => "a token count must be a whole number",
            BadCount::TooLarge => "a token count cannot exceed 2^63 - 1",
            BadCount::NotANumber => "not a number",
        })
    }
}

/// A whole, non-negative double as a count. `f as i64` would saturate at 2^63 - 1, and
/// 2^63 itself is the first double past it.
fn count_of_f64(f: f64) -> Result<i64, BadCount> {
    if !f.is_finite() {
        Err(BadCount::NotANumber)
    } else if f < 0.0 {
        Err(BadCount::Negative)
    } else if f.fract() != 0.0 {
        Err(BadCount::Fractional)
    } else if f >= 9_223_372_036_854_775_808.0 {
        Err(BadCount::TooLarge)
    } else {
        Ok(f as i64)
    }
}

fn count_of_text(s: &str) -> Result<i64, BadCount> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return if i < 0 {
            Err(BadCount::Negative)
        } else {
            Ok(i)
        };
    }
    let digits = t.strip_prefix('+').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadCount::TooLarge);
    }
    match t.parse::<f64>() {
        Ok(f) => count_of_f64(f),
        Err(_) => Err(BadCount::NotANumber),
    }
}

pub fn as_count(v: &AnyValue) -> Result<i64, BadCount> {
    match v {
        AnyValue::Int(i) if *i < 0 => Err(BadCount::Negative),
        AnyValue::Int(i) => Ok(*i),
        AnyValue::Double(d) => count_of_f64(*d),
        AnyValue::String(s) => count_of_text(s),
        _ => Err(BadCount::NotANumber),
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

/// The value at a path of object keys and array indices.
pub fn json_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, p| match cur {
        Value::Array(items) => items.get(p.parse::<usize>().ok()?),
        _ => cur.get(p),
    })
}

/// A token count inside a JSON object, at a path of keys: `None` when absent or null.
pub fn json_count(v: &Value, path: &[&str]) -> Option<Result<i64, BadCount>> {
    let cur = json_at(v, path)?;
    Some(match cur {
        Value::Null => return None,
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) if i < 0 => Err(BadCount::Negative),
            (Some(i), _) => Ok(i),
            (None, Some(_)) => Err(BadCount::TooLarge),
            _ => count_of_f64(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => count_of_text(s),
        _ => Err(BadCount::NotANumber),
    })
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
        assert_eq!(a.count("n"), Some(Ok(21245)));
        assert_eq!(a.count("nan"), Some(Err(BadCount::NotANumber)));
        assert_eq!(a.count("absent"), None);
        assert_eq!(a.str_list("list"), vec!["end_turn"]);
        let idx = a.indexed("m");
        assert_eq!(idx.keys().copied().collect::<Vec<_>>(), vec![0, 2]);
    }

    #[test]
    fn counts_refuse_what_no_count_can_be() {
        use AnyValue::*;
        let cases = [
            (Int(0), Ok(0)),
            (Int(i64::MAX), Ok(i64::MAX)),
            (Int(-1), Err(BadCount::Negative)),
            (Double(12.0), Ok(12)),
            (Double(12.5), Err(BadCount::Fractional)),
            (Double(-3.0), Err(BadCount::Negative)),
            (Double(9.3e18), Err(BadCount::TooLarge)),
            (Double(f64::INFINITY), Err(BadCount::NotANumber)),
            (String("9223372036854775807".into()), Ok(i64::MAX)),
            (
                String("9223372036854775808".into()),
                Err(BadCount::TooLarge),
            ),
            (String("1e3".into()), Ok(1000)),
            (String("-7".into()), Err(BadCount::Negative)),
            (String("0.5".into()), Err(BadCount::Fractional)),
            (String("lots".into()), Err(BadCount::NotANumber)),
            (Bool(true), Err(BadCount::NotANumber)),
        ];
        for (v, want) in cases {
            assert_eq!(as_count(&v), want, "{v:?}");
        }
        let j = serde_json::json!({"a": 18446744073709551615u64, "b": -2, "c": 3.0, "d": null});
        assert_eq!(json_count(&j, &["a"]), Some(Err(BadCount::TooLarge)));
        assert_eq!(json_count(&j, &["b"]), Some(Err(BadCount::Negative)));
        assert_eq!(json_count(&j, &["c"]), Some(Ok(3)));
        assert_eq!(json_count(&j, &["d"]), None);
    }
}
