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
            // Seconds up to 1e11 (year 5138), milliseconds up to 1e14, microseconds up to
            // 1e17, else nanoseconds; a product past i64 (after year 2262) is refused,
            // not wrapped.
            let (scale, unit) = if a < 1e11 {
                (1_000_000_000, "seconds")
            } else if a < 1e14 {
                (1_000_000, "milliseconds")
            } else if a < 1e17 {
                (1_000, "microseconds")
            } else {
                (1, "nanoseconds")
            };
            let ns = match i {
                Some(i) => i.checked_mul(scale),
                None => {
                    let x = f * scale as f64;
                    (x.is_finite() && x.abs() < 9.2e18).then_some(x as i64)
                }
            };
            ns.ok_or_else(|| {
                format!("{n} {unit} since 1970 is past the last time a timestamp can hold (2262)")
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
        // 9.9e10 s and 9.9e13 ms are past 2262: refused, not wrapped.
        for v in [
            99_000_000_000i64,
            99_000_000_000_000,
            99_000_000_000_000_000,
        ] {
            let e = to_unix_nanos(&Value::from(v)).unwrap_err();
            assert!(e.contains("2262"), "{e}");
        }
        assert!(to_unix_nanos(&Value::from(1e300)).is_err());
        assert_eq!(
            to_unix_nanos(&Value::from(-1_000i64)).unwrap(),
            -1_000_000_000_000,
            "before 1970 is a time"
        );
    }
}
