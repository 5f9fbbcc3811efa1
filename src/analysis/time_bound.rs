//! `--since` / `--until` values: RFC 3339 instants, dates, or durations back from now
//! (`90s`, `30m`, `24h`, `7d`, `2w`).

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, thiserror::Error)]
#[error(
    "invalid time {0:?}: expected RFC 3339 (2025-01-31T12:00:00Z), a date (2025-01-31) or a duration back from now (30m, 24h, 7d)"
)]
pub struct TimeBoundError(pub String);

/// Unix nanoseconds of the bound.
pub fn parse_time_bound(text: &str, now: DateTime<Utc>) -> Result<i64, TimeBoundError> {
    let t = text.trim();
    let err = || TimeBoundError(text.to_string());
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return d.timestamp_nanos_opt().ok_or_else(err);
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_utc().timestamp_nanos_opt())
            .ok_or_else(err);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| err())?;
    let secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(err()),
    };
    let back = n
        .checked_mul(secs)
        .and_then(|s| s.checked_mul(1_000_000_000))
        .ok_or_else(err)?;
    now.timestamp_nanos_opt().map(|n| n - back).ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now = DateTime::parse_from_rfc3339("2025-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let day = 86_400_000_000_000i64;
        let n = now.timestamp_nanos_opt().unwrap();
        assert_eq!(parse_time_bound("24h", now).unwrap(), n - day);
        assert_eq!(parse_time_bound("1d", now).unwrap(), n - day);
        assert_eq!(parse_time_bound("2025-01-01", now).unwrap(), n - day);
        assert_eq!(
            parse_time_bound("2025-01-01T00:00:00Z", now).unwrap(),
            n - day
        );
        assert!(parse_time_bound("yesterday", now).is_err());
        assert!(parse_time_bound("5y", now).is_err());
    }
}
