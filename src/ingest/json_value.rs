//! Plain JSON values as attribute values: the flat attribute maps of console, CloudWatch
//! and Phoenix dumps write `"key": 42` where OTLP would write `{"intValue": "42"}`.

use super::raw::{AnyValue, KeyValue};
use serde_json::{Map, Value};

pub fn to_any(v: Value) -> AnyValue {
    match v {
        Value::Null => AnyValue::Empty,
        Value::Bool(b) => AnyValue::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Int(i),
            None => AnyValue::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => AnyValue::String(s),
        Value::Array(a) => AnyValue::Array(a.into_iter().map(to_any).collect()),
        Value::Object(o) => AnyValue::KvList(to_attributes(o)),
    }
}

pub fn to_attributes(map: Map<String, Value>) -> Vec<KeyValue> {
    map.into_iter()
        .map(|(k, v)| KeyValue::new(k, to_any(v)))
        .collect()
}

/// The attribute map under `key`, if it is an object; `null` and absence are empty.
pub fn attributes_at(obj: &mut Map<String, Value>, key: &str) -> Result<Vec<KeyValue>, String> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(to_attributes(m)),
        Some(other) => Err(format!(
            "`{key}` must be an object of attributes, found {}",
            kind_of(&other)
        )),
    }
}

/// The objects of the array under `key` (`what` names one in the error); absent is none.
pub fn objects_at(
    obj: &mut Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Vec<Map<String, Value>>, String> {
    let Some(Value::Array(items)) = obj.remove(key) else {
        return Ok(Vec::new());
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::Object(o) => Ok(o),
            _ => Err(format!("{what} must be an object")),
        })
        .collect()
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string field; absent or null is empty.
pub fn str_at(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "`{key}` must be a string, found {}",
            kind_of(other)
        )),
    }
}

/// An integer field written as a number or a numeric string; absent or null is 0.
/// A time in nanoseconds at `key`: as `int_at`, but a time past what i64 holds (year
/// 2262) is held to the limit rather than refused (import warns of it).
pub fn time_at(obj: &Map<String, Value>, key: &str) -> Result<i64, String> {
    use super::timestamp::{parse_integer, saturate};
    match obj.get(key) {
        Some(Value::Number(n)) if n.as_i64().is_none() => match n.as_u64() {
            Some(u) => Ok(saturate(i128::from(u))),
            None => n
                .as_f64()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
                .ok_or_else(|| format!("`{key}` is not an integer: {n}")),
        },
        Some(Value::String(s)) => {
            parse_integer(s.trim()).ok_or_else(|| format!("`{key}` is not an integer: {s:?}"))
        }
        _ => int_at(obj, key),
    }
}

/// A `u32` at `key` (flags): a value past it is refused, not truncated.
pub fn u32_at(obj: &Map<String, Value>, key: &str) -> Result<u32, String> {
    let v = int_at(obj, key)?;
    u32::try_from(v).map_err(|_| format!("`{key}` {v} is out of range for 32-bit flags"))
}

pub fn int_at(obj: &Map<String, Value>, key: &str) -> Result<i64, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.3e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| format!("`{key}` is not an integer: {n}")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{key}` is not an integer: {s:?}")),
        Some(other) => Err(format!(
            "`{key}` must be an integer, found {}",
            kind_of(other)
        )),
    }
}
