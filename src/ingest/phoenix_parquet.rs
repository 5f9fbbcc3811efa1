//! Phoenix span dataframes saved as Parquet: each row becomes the JSON object that the
//! JSON-lines form of the same export would hold, and is decoded the same way.

use super::error::{IngestError, Invalid, Location};
use super::phoenix;
use super::raw::Decoded;
use polars::prelude::*;
use serde_json::{Map, Number, Value};
use std::io::{BufRead, Cursor, Read};

pub fn decode(
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    skip_invalid: bool,
    sink: &mut dyn FnMut(Decoded),
) -> Result<Vec<Invalid>, IngestError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|e| IngestError::invalid(file, Location::File, format!("cannot read: {e}")))?;
    super::parquet_claims::check(&bytes).map_err(|(at, why)| {
        IngestError::invalid(
            file,
            Location::Byte(at),
            format!("not a readable Parquet file: {why}"),
        )
    })?;
    let df = read_parquet(bytes).map_err(|e| {
        IngestError::invalid(
            file,
            Location::File,
            format!("not a readable Parquet file: {e}"),
        )
    })?;
    let columns = df.columns();
    let mut skipped = Vec::new();
    for row in 0..df.height() {
        let mut obj = Map::new();
        for c in columns {
            let v = c.get(row).map(|v| to_json(&v)).unwrap_or(Value::Null);
            obj.insert(c.name().to_string(), v);
        }
        match phoenix::decode(obj) {
            Ok(rec) => sink(Decoded::Record(rec)),
            Err(message) => {
                // Rows are numbered from 1, as a person counts them.
                let inv = Invalid {
                    file: file.to_string(),
                    location: Location::Line {
                        line: row as u64 + 1,
                        column: 0,
                    },
                    message,
                };
                if skip_invalid {
                    skipped.push(inv);
                } else {
                    return Err(IngestError::Invalid(inv));
                }
            }
        }
    }
    Ok(skipped)
}

/// polars' Parquet reader panics on some corrupt files (bad dictionary indices, bad
/// thrift lengths); a corrupt input must be an error like any other, and must not print
/// a panic message as if the program had crashed. (Claims that would make it allocate
/// past any memory, which no hook can catch, are refused before: `parquet_claims`.)
fn read_parquet(bytes: Vec<u8>) -> Result<DataFrame, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(move || ParquetReader::new(Cursor::new(bytes)).finish());
    std::panic::set_hook(hook);
    match result {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("corrupt data".to_string()),
    }
}

fn to_json(v: &AnyValue) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(i) => Value::from(*i),
        AnyValue::Int16(i) => Value::from(*i),
        AnyValue::Int32(i) => Value::from(*i),
        AnyValue::Int64(i) => Value::from(*i),
        AnyValue::UInt8(i) => Value::from(*i),
        AnyValue::UInt16(i) => Value::from(*i),
        AnyValue::UInt32(i) => Value::from(*i),
        AnyValue::UInt64(i) => Value::from(*i),
        AnyValue::Float32(f) => Number::from_f64(*f as f64).map_or(Value::Null, Value::Number),
        AnyValue::Float64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AnyValue::Datetime(t, unit, _) | AnyValue::DatetimeOwned(t, unit, _) => {
            let ns = match unit {
                TimeUnit::Nanoseconds => *t,
                TimeUnit::Microseconds => t.saturating_mul(1_000),
                TimeUnit::Milliseconds => t.saturating_mul(1_000_000),
            };
            Value::from(ns)
        }
        AnyValue::List(s) => Value::Array(s.iter().map(|v| to_json(&v)).collect()),
        AnyValue::Struct(..) | AnyValue::StructOwned(..) => {
            let mut m = Map::new();
            for (field, value) in v._iter_struct_av().zip(struct_fields(v)) {
                m.insert(value, to_json(&field));
            }
            Value::Object(m)
        }
        AnyValue::Binary(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        AnyValue::BinaryOwned(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        other => Value::String(other.to_string()),
    }
}

fn struct_fields(v: &AnyValue) -> Vec<String> {
    match v.dtype() {
        DataType::Struct(fields) => fields.iter().map(|f| f.name().to_string()).collect(),
        _ => Vec::new(),
    }
}
