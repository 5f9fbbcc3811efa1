//! Timestamps written as text or numbers by non-OTLP dumps, to Unix nanoseconds.

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

/// The last time a timestamp can hold: nanoseconds since 1970 in 64 bits end on
/// 2262-04-11. A later time (year 9999 is a common "never") is kept as this, and an
/// earlier one than 1677 as `EARLIEST`; import warns of both, rather than refusing a
/// dump whose other numbers are sound.
pub const LATEST: i64 = i64::MAX;
pub const EARLIEST: i64 = i64::MIN;

/// A time in nanoseconds, held to the range a timestamp can hold.
pub fn saturate(ns: i128) -> i64 {
    i64::try_from(ns).unwrap_or(if ns > 0 { LATEST } else { EARLIEST })
}

/// Whether a time is one of the limits a time beyond them was held to.
pub fn at_limit(ns: i64) -> bool {
    ns == LATEST || ns == EARLIEST
}

/// Text of digits alone (with a sign), however long: a time beyond i128 is still a
/// time, held to the limits.
pub fn parse_integer(t: &str) -> Option<i64> {
    if let Ok(n) = t.parse::<i128>() {
        return Some(saturate(n));
    }
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(if neg {
        EARLIEST
    } else {
        LATEST
    })
}

/// RFC 3339 / ISO 8601 text (a missing offset means UTC, as Python's `isoformat` of a
/// naive UTC time and pandas write it), or a number whose magnitude tells its unit.
pub fn to_unix_nanos(v: &Value) -> Result<i64, String> {
    match v {
        Value::Null => Ok(0),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            let a = f.abs();
            // Seconds up to 1e11 (year 5138), milliseconds up to 1e14, microseconds up to
            // 1e17, else nanoseconds; a product past i64 (after year 2262) is held to the
            // limit, not wrapped.
            let scale: i64 = if a < 1e11 {
                1_000_000_000
            } else if a < 1e14 {
                1_000_000
            } else if a < 1e17 {
                1_000
            } else {
                1
            };
            match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Ok(saturate(i128::from(i) * i128::from(scale))),
                (None, Some(u)) => Ok(saturate(i128::from(u) * i128::from(scale))),
                // Float to int casts saturate in Rust; a NaN cannot come from JSON.
                _ => Ok((f * scale as f64) as i64),
            }
        }
        Value::String(s) => parse_text(s).ok_or_else(|| format!("{s:?} is not a timestamp")),
        other => Err(format!(
            "a timestamp must be text or a number, found {other}"
        )),
    }
}

/// Nanoseconds of a date, held to the limits past 1677 or 2262.
fn nanos_of(d: DateTime<chrono::Utc>) -> i64 {
    d.timestamp_nanos_opt()
        .unwrap_or(if d.timestamp() > 0 { LATEST } else { EARLIEST })
}

fn parse_text(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Some(n) = parse_integer(t) {
        return if at_limit(n) {
            Some(n)
        } else {
            to_unix_nanos(&Value::from(n)).ok()
        };
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(nanos_of(d.to_utc()));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(nanos_of(d.and_utc()));
        }
    }
    DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%#z")
        .ok()
        .map(|d| nanos_of(d.to_utc()))
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
        // 9.9e10 s, 9.9e13 ms and 9.9e16 µs are past 2262: held there, not wrapped.
        for v in [
            99_000_000_000i64,
            99_000_000_000_000,
            99_000_000_000_000_000,
        ] {
            assert_eq!(to_unix_nanos(&Value::from(v)).unwrap(), LATEST);
            assert_eq!(to_unix_nanos(&Value::from(-v)).unwrap(), EARLIEST);
        }
        assert_eq!(to_unix_nanos(&Value::from(1e300)).unwrap(), LATEST);
        assert_eq!(to_unix_nanos(&Value::from(u64::MAX)).unwrap(), LATEST);
        for year_9999 in [
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59.999999",
            "9999-12-31 23:59:59+00:00",
            "253402300799000000000",
            "99999999999999999999999999999999999999999999",
        ] {
            assert_eq!(
                to_unix_nanos(&Value::from(year_9999)).unwrap(),
                LATEST,
                "{year_9999}"
            );
        }
        assert_eq!(
            to_unix_nanos(&Value::from("0001-01-01T00:00:00Z")).unwrap(),
            EARLIEST
        );
        // The last nanosecond that fits is a time like any other.
        assert_eq!(
            to_unix_nanos(&Value::from("2262-04-11T23:47:16.854775806Z")).unwrap(),
            i64::MAX - 1
        );
        assert_eq!(
            to_unix_nanos(&Value::from(-1_000i64)).unwrap(),
            -1_000_000_000_000,
            "before 1970 is a time"
        );
    }
}
