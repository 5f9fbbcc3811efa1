//! `traces report`'s data: the cost reports `traces cost` makes for the same filters
//! (in total, by model, session, user and over time), and the costliest traces as
//! `traces show` builds them (tree, tallies, conversation). Built once here; the HTML
//! renderer only formats it.

use super::calls::Calls;
use super::cost_report::{CallFilter, CostReport, Dim, time_key};
use super::show::{Conversation, ShowError, TraceShow, Transcript, load_traces, show};
use super::source::{Source, SourceError, cost_reports};
use crate::ingest::ids::TraceId;
use crate::pricing::{PriceSource, Pricing};
use crate::semconv::RefusedValues;

/// Under three days of calls, cost over time goes by the hour.
const HOURLY_BELOW_NS: i64 = 3 * 24 * 3600 * 1_000_000_000;

/// The most rows a table of groups keeps; the rest fold into one `(other)` row, so
/// that a store of a million sessions still makes a page of a few MB whose rows add up.
pub const MAX_GROUP_ROWS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum ReportDataError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Show(#[from] ShowError),
}

/// One trace of the top: its cost under the filters, and the whole trace as shown.
pub struct TopTrace {
    pub metrics: super::cost_report::Metrics,
    pub show: TraceShow,
    pub conversation: Conversation,
}

pub struct ReportData {
    /// The report without groups: `traces cost`'s total.
    pub total: CostReport,
    pub by_model: CostReport,
    pub by_session: CostReport,
    pub by_user: CostReport,
    /// Sessions and users with calls (those without an id not counted).
    pub sessions: usize,
    pub users: usize,
    /// Cost per time bucket and model, buckets in order.
    pub over_time: CostReport,
    pub hourly: bool,
    /// Every bucket from the first call's to the last's, those without calls included,
    /// so that the chart's gaps show.
    pub buckets: Vec<String>,
    /// Spans set aside as another instrumentation's record of a counted call, when the
    /// source says (a store's calls tables keep only the counted calls).
    pub duplicates: Option<u64>,
    pub calls: Calls,
    pub top: Vec<TopTrace>,
    /// Traces with calls, of which `top` holds the costliest.
    pub traces: usize,
    pub pricing: PriceSource,
    /// The price of each model of the report, as in force on the day of its last call.
    pub prices: Vec<PriceRow>,
}

/// A model as the calls name it, and the price entry it resolves to (none: unpriced).
pub struct PriceRow {
    pub model: String,
    pub entry: Option<PriceEntry>,
}

pub struct PriceEntry {
    pub id: String,
    pub provider: String,
    /// The first day of the version shown (none: from the start).
    pub since: Option<chrono::NaiveDate>,
    /// USD per million tokens.
    pub input: Option<rust_decimal::Decimal>,
    pub cached_input: Option<rust_decimal::Decimal>,
    pub output: Option<rust_decimal::Decimal>,
}

/// The most buckets filled in between the first call and the last; past it (a range of
/// centuries from a bad clock) only the buckets with calls are drawn.
const MAX_BUCKETS: usize = 1000;

fn buckets(
    over_time: &CostReport,
    hourly: bool,
    first: Option<i64>,
    last: Option<i64>,
) -> Vec<String> {
    let dim = if hourly { Dim::Hour } else { Dim::Day };
    let step: i64 = if hourly { 3600 } else { 24 * 3600 } * 1_000_000_000;
    let mut with_calls: Vec<String> = over_time
        .rows
        .iter()
        .filter_map(|(k, _)| k.first().cloned().flatten())
        .collect();
    with_calls.dedup();
    let (Some(a), Some(b)) = (first, last) else {
        return with_calls;
    };
    let count = (b.saturating_sub(a) / step).saturating_add(2);
    if count > MAX_BUCKETS as i64 {
        return with_calls;
    }
    let mut all: Vec<String> = (0..count)
        .map(|i| time_key(&dim, a.saturating_add(i.saturating_mul(step))))
        .collect();
    all.dedup();
    if let Some(end) = all.iter().position(|k| *k > time_key(&dim, b)) {
        all.truncate(end);
    }
    all
}

/// An hour-by-model report summed by day and model (an hour's key starts with its day's).
fn by_day(hourly: CostReport) -> CostReport {
    let mut days: std::collections::BTreeMap<Vec<Option<String>>, super::cost_report::Metrics> =
        std::collections::BTreeMap::new();
    for (mut key, m) in hourly.rows {
        if let Some(Some(hour)) = key.first_mut() {
            hour.truncate(10);
        }
        days.entry(key).or_default().absorb(&m);
    }
    CostReport {
        group_by: vec![Dim::Day, Dim::Model],
        rows: days.into_iter().collect(),
        ..hourly
    }
}

/// Everything the report shows, for the calls `filter` keeps; `top_n` traces carry
/// their trees and conversations.
pub fn build(
    source: Source,
    pricing: &Pricing,
    filter: &CallFilter,
    attr_keys: &[String],
    refused: &RefusedValues,
    top_n: usize,
) -> Result<ReportData, ReportDataError> {
    // Each grouping prices every call once more, so the report asks for no grouping it
    // can derive: every report carries the total (and its unpriced models), and days
    // are the sums of their hours.
    let groupings = vec![
        vec![Dim::Model],
        vec![Dim::Session],
        vec![Dim::User],
        vec![Dim::Trace],
        vec![Dim::Hour, Dim::Model],
    ];
    let (mut r, calls) = cost_reports(source, pricing, groupings, filter, attr_keys, refused)?;
    let hourly_report = r.pop().unwrap_or_default();
    let mut by_trace = r.pop().unwrap_or_default();
    let mut by_user = r.pop().unwrap_or_default();
    let mut by_session = r.pop().unwrap_or_default();
    let mut by_model = r.pop().unwrap_or_default();
    let total = CostReport {
        group_by: Vec::new(),
        rows: vec![(Vec::new(), by_model.total.clone())],
        ..by_model.clone()
    };

    let range = match (total.total.first_start, total.total.last_start) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    let hourly = range < HOURLY_BELOW_NS;
    let mut over_time = if hourly {
        hourly_report
    } else {
        by_day(hourly_report)
    };
    // By bucket, then the costliest model first within it.
    let _ = over_time.sort("cost_usd", true);
    over_time.rows.sort_by(|a, b| a.0.first().cmp(&b.0.first()));
    let buckets = buckets(
        &over_time,
        hourly,
        total.total.first_start,
        total.total.last_start,
    );

    let with_id = |r: &CostReport| r.rows.iter().filter(|(k, _)| k[0].is_some()).count();
    let (sessions, users) = (with_id(&by_session), with_id(&by_user));
    for r in [&mut by_model, &mut by_session, &mut by_user] {
        let _ = r.sort("cost_usd", true);
        r.top(MAX_GROUP_ROWS);
    }

    let _ = by_trace.sort("cost_usd", true);
    let traces = by_trace.rows.len();
    let chosen: Vec<(TraceId, super::cost_report::Metrics)> = by_trace
        .rows
        .into_iter()
        .filter_map(|(k, m)| Some((TraceId::parse(k[0].as_deref()?).ok()?, m)))
        .take(top_n)
        .collect();
    let ids: Vec<TraceId> = chosen.iter().map(|(id, _)| *id).collect();
    let mut loaded: foldhash::HashMap<TraceId, _> = load_traces(source, &ids)?
        .into_iter()
        .map(|t| (t.trace_id, t))
        .collect();
    let mut top = Vec::with_capacity(chosen.len());
    for (id, metrics) in chosen {
        let Some(records) = loaded.remove(&id) else {
            continue;
        };
        let show = show(records, pricing)?;
        let conversation = Transcript::default().add(&show);
        top.push(TopTrace {
            metrics,
            show,
            conversation,
        });
    }

    let prices = by_model
        .rows
        .iter()
        .filter_map(|(k, m)| Some((k[0].clone()?, m.last_start)))
        .filter(|(m, _)| !m.starts_with("(other: "))
        .map(|(model, last)| {
            let day = last.map(|ns| chrono::DateTime::from_timestamp_nanos(ns).date_naive());
            let entry = pricing.resolve(&model, None).map(|(_, e)| {
                let v = e.version_at(day);
                PriceEntry {
                    id: e.id.clone(),
                    provider: e.provider.clone(),
                    since: v.and_then(|v| v.since),
                    input: v.and_then(|v| v.rates.input),
                    cached_input: v.and_then(|v| v.rates.cached_input),
                    output: v.and_then(|v| v.rates.output),
                }
            });
            PriceRow { model, entry }
        })
        .collect();
    let duplicates = match source {
        Source::Dumps(_) => Some(calls.duplicate_pairs.len() as u64),
        Source::Stores(_) if !calls.calls.is_empty() || !calls.duplicate_pairs.is_empty() => {
            Some(calls.duplicate_pairs.len() as u64)
        }
        Source::Stores(_) => None,
    };
    Ok(ReportData {
        total,
        by_model,
        by_session,
        by_user,
        sessions,
        users,
        over_time,
        hourly,
        buckets,
        duplicates,
        calls,
        top,
        traces,
        pricing: pricing.source().clone(),
        prices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cost_report::Metrics;

    fn report_of(keys: &[&str]) -> CostReport {
        CostReport {
            group_by: vec![Dim::Day, Dim::Model],
            rows: keys
                .iter()
                .map(|k| {
                    (
                        vec![Some(k.to_string()), Some("m".into())],
                        Metrics::default(),
                    )
                })
                .collect(),
            ..Default::default()
        }
    }

    const DAY: i64 = 24 * 3600 * 1_000_000_000;

    #[test]
    fn days_without_calls_are_buckets_too() {
        // 2026-01-01T12:00Z and 2026-01-04T01:00Z.
        let a = 1_767_268_800_000_000_000;
        let b = a + 2 * DAY + 13 * 3600 * 1_000_000_000;
        let r = report_of(&["2026-01-01", "2026-01-04"]);
        assert_eq!(
            buckets(&r, false, Some(a), Some(b)),
            ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
        );
    }

    #[test]
    fn a_range_of_centuries_draws_only_the_buckets_with_calls() {
        let r = report_of(&["1970-01-01", "2200-01-01"]);
        let got = buckets(&r, false, Some(0), Some(7_258_118_400_000_000_000));
        assert_eq!(got, ["1970-01-01", "2200-01-01"]);
    }
}
