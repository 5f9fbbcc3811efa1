//! Timestamps written as text or numbers by non-OTLP dumps, to Unix nanoseconds.

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

/// RFC 3339 / ISO 8601 text (a missing offset means UTC, as Python's `isoformat` of a
/// naive UTC time and pandas write it), or a number whose magnitude tells its unit.
pub fn to_unix_nanos(v: &Value) -> Result<i64, String> {
    match v {
        Value::Null => Ok(0),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let i = n.as_i64();
            let a = f.abs();
            Ok(if a < 1e11 {
                (f * 1e9) as i64
            } else if a < 1e14 {
                i.map(|i| i * 1_000_000).unwrap_or((f * 1e6) as i64)
            } else if a < 1e17 {
                i.map(|i| i * 1_000).unwrap_or((f * 1e3) as i64)
            } else {
                i.unwrap_or(f as i64)
            })
        }
        Value::String(s) => parse_text(s).ok_or_else(|| format!("{s:?} is not a timestamp")),
        other => Err(format!(
            "a timestamp must be text or a number, found {other}"
        )),
    }
}

fn parse_text(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i64>() {
        return to_unix_nanos(&Value::from(n)).ok();
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return d.timestamp_nanos_opt();
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return d.and_utc().timestamp_nanos_opt();
        }
    }
    DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%#z")
        .ok()?
        .timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let ns = 1_700_000_000_123_456_000i64;
        assert_eq!(
            to_unix_nanos(&Value::from("2023-11-14T22:13:20.123456Z")).unwrap(),
            ns
        );
        assert_eq!(
            to_unix_nanos(&Value::from("2023-11-14T22:13:20.123456")).unwrap(),
            ns
        );
        assert_eq!(
            to_unix_nanos(&Value::from("2023-11-14 22:13:20.123456+00:00")).unwrap(),
            ns
        );
        assert_eq!(
            to_unix_nanos(&Value::from(1_700_000_000_123i64)).unwrap(),
            1_700_000_000_123_000_000
        );
        assert_eq!(to_unix_nanos(&Value::from(ns)).unwrap(), ns);
        assert!(to_unix_nanos(&Value::from("yesterday")).is_err());
    }
}
