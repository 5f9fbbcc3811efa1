//! Where a table's files go: hive-style by UTC day (`spans/day=2025-01-31/…`), so that
//! an engine reading the store prunes by date. A row's day is that of its start (a
//! span, a call) or its time (a log record); a call-less trace's marker row is in every
//! day its spans are in (see `analysis::calls_view`).

const NS_PER_DAY: i64 = 86_400_000_000_000;

/// Days since 1970-01-01 of a time in Unix ns, rounded down (a time before 1970 is in
/// the day it falls in, not the next one). Every i64 gives a day i32 holds.
pub fn day_of(ns: i64) -> i32 {
    ns.div_euclid(NS_PER_DAY) as i32
}

/// A log record's day: its time's, or when it has none, the time it was observed.
pub fn log_day(time: i64, observed: i64) -> i32 {
    day_of(if time != 0 { time } else { observed })
}

/// `YYYY-MM-DD` of a day since 1970-01-01.
pub fn day_text(day: i32) -> String {
    chrono::NaiveDate::from_num_days_from_ce_opt(day.saturating_add(EPOCH_CE))
        .map(|d| d.format("%Y-%m-%d").to_string())
        // Past chrono's calendar (±262,000 years): no i64 of ns gets there.
        .unwrap_or_else(|| format!("{day}"))
}

/// The day of a `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(chrono::Datelike::num_days_from_ce(&d) - EPOCH_CE)
}

/// The days of a touched trace's marker rows, each with its count of calls without
/// usage: one per day the trace has spans in (`fallback` when none is known), the count
/// on the first only, since it is the trace's and not a day's.
pub fn marker_days<W: Copy + Default>(
    days: Option<&std::collections::BTreeSet<i32>>,
    fallback: i32,
    without: W,
) -> Vec<(i32, W)> {
    let mut out: Vec<(i32, W)> = days
        .into_iter()
        .flatten()
        .map(|&d| (d, W::default()))
        .collect();
    if out.is_empty() {
        out.push((fallback, W::default()));
    }
    out[0].1 = without;
    out
}

/// 1970-01-01 in days from 0001-01-01 (chrono's day 1).
const EPOCH_CE: i32 = 719_163;

/// The file of segment `id` of `table`, relative to the store root; `day` is `None` for
/// a segment of a store of format 1, which keeps each table's files side by side.
pub fn file(table: &str, day: Option<&str>, id: u64) -> String {
    match day {
        Some(day) => format!("{table}/day={day}/segment-{id:06}.parquet"),
        None => format!("{table}/segment-{id:06}.parquet"),
    }
}

/// The day and segment id of a file `file` names, relative to its table's folder.
pub fn parse_file(rel: &str) -> Option<(Option<String>, u64)> {
    let (day, name) = match rel.split_once('/') {
        Some((dir, name)) => {
            let day = dir.strip_prefix("day=")?;
            parse_day(day)?;
            (Some(day.to_string()), name)
        }
        None => (None, rel),
    };
    let id = name
        .strip_prefix("segment-")?
        .strip_suffix(".parquet")?
        .parse()
        .ok()?;
    Some((day, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_calendar_days_at_every_limit() {
        assert_eq!(day_text(day_of(0)), "1970-01-01");
        assert_eq!(day_text(day_of(NS_PER_DAY - 1)), "1970-01-01");
        assert_eq!(day_text(day_of(NS_PER_DAY)), "1970-01-02");
        assert_eq!(day_text(day_of(-1)), "1969-12-31");
        // 2025-01-31T23:59:59.999999999Z and the next nanosecond.
        assert_eq!(day_text(day_of(1_738_367_999_999_999_999)), "2025-01-31");
        assert_eq!(day_text(day_of(1_738_368_000_000_000_000)), "2025-02-01");
        assert_eq!(day_text(day_of(i64::MAX)), "2262-04-11");
        assert_eq!(day_text(day_of(i64::MIN)), "1677-09-21");
        for d in [day_of(i64::MIN), -1, 0, 20_119, day_of(i64::MAX)] {
            assert_eq!(parse_day(&day_text(d)), Some(d));
        }
        assert_eq!(log_day(0, NS_PER_DAY), 1);
        assert_eq!(log_day(5, NS_PER_DAY), 0);
    }

    #[test]
    fn file_names_read_back() {
        let f = file("spans", Some("2025-01-31"), 12);
        assert_eq!(f, "spans/day=2025-01-31/segment-000012.parquet");
        let rel = f.strip_prefix("spans/").unwrap();
        assert_eq!(parse_file(rel), Some((Some("2025-01-31".into()), 12)));
        assert_eq!(parse_file("segment-000003.parquet"), Some((None, 3)));
        assert_eq!(parse_file("day=2025-13-01/segment-000003.parquet"), None);
        assert_eq!(parse_file("other.parquet"), None);
    }
}
