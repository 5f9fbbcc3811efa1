//! One row per trace: root span, start, duration, span count, service, errors.

use crate::store::{Store, StoreError};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    pub trace_id: String,
    pub root_name: String,
    pub service: Option<String>,
    pub start_unix_nano: i64,
    pub duration_ns: i64,
    pub spans: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Default)]
pub struct TraceFilter {
    /// Traces that start at or after this instant (Unix ns).
    pub since: Option<i64>,
    /// Traces that start before this instant (Unix ns).
    pub until: Option<i64>,
    /// Traces whose root span belongs to this service.
    pub service: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Start,
    Duration,
    Spans,
    Errors,
    Name,
    Service,
    TraceId,
}

impl std::str::FromStr for SortKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "start" | "start_time" => SortKey::Start,
            "duration" | "duration_ms" => SortKey::Duration,
            "spans" => SortKey::Spans,
            "errors" => SortKey::Errors,
            "name" | "root_name" => SortKey::Name,
            "service" => SortKey::Service,
            "trace" | "trace_id" => SortKey::TraceId,
            _ => {
                return Err(crate::suggest::unknown(
                    "cannot sort by",
                    s,
                    &[
                        "start", "duration", "spans", "errors", "name", "service", "trace_id",
                    ],
                ));
            }
        })
    }
}

struct Acc {
    start: i64,
    end: i64,
    spans: u64,
    errors: u64,
    /// (start, name, service) of the best root candidate so far.
    root: Option<(i64, String, Option<String>)>,
    first: Option<(i64, String, Option<String>)>,
}

/// One span, as much of it as a trace's row needs.
#[derive(Debug, Clone, Copy)]
pub struct SpanTimes<'a> {
    pub trace: &'a str,
    pub span: Option<&'a str>,
    pub parent: Option<&'a str>,
    pub name: &'a str,
    pub start: i64,
    /// The start when the span has no end.
    pub end: i64,
    pub error: bool,
    pub service: Option<&'a str>,
}

/// The root of a trace is its span without a parent in the trace (its parent is absent
/// or was never exported); with several, the earliest; with none (a cycle or bad ids),
/// the earliest span.
pub fn list_traces(store: &Store, filter: &TraceFilter) -> Result<Vec<TraceRow>, StoreError> {
    let Some(lf) = store.scan_spans()? else {
        return Ok(Vec::new());
    };
    let df = lf
        .select([
            col("trace_id"),
            col("span_id"),
            col("parent_span_id"),
            col("name"),
            col("start_time_unix_nano"),
            col("end_time_unix_nano"),
            col("status_code"),
            col("service_name"),
        ])
        .collect()?;
    let trace = df.column("trace_id")?.str()?;
    let span = df.column("span_id")?.str()?;
    let parent = df.column("parent_span_id")?.str()?;
    let name = df.column("name")?.str()?;
    let start = df.column("start_time_unix_nano")?.i64()?;
    let end = df.column("end_time_unix_nano")?.i64()?;
    let status = df.column("status_code")?.str()?;
    let service = df.column("service_name")?.str()?;
    let spans: Vec<SpanTimes> = (0..df.height())
        .filter_map(|i| {
            let s = start.get(i).unwrap_or(0);
            Some(SpanTimes {
                trace: trace.get(i)?,
                span: span.get(i),
                parent: parent.get(i),
                name: name.get(i).unwrap_or(""),
                start: s,
                end: end.get(i).unwrap_or(s),
                error: status.get(i) == Some("error"),
                service: service.get(i),
            })
        })
        .collect();
    Ok(trace_rows(&spans)
        .into_iter()
        .filter(|r| filter.since.is_none_or(|s| r.start_unix_nano >= s))
        .filter(|r| filter.until.is_none_or(|u| r.start_unix_nano < u))
        .filter(|r| {
            filter
                .service
                .as_ref()
                .is_none_or(|s| r.service.as_deref() == Some(s.as_str()))
        })
        .collect())
}

/// One row per trace of `spans`, in no particular order: the store's spans, or a dump's.
pub fn trace_rows(spans: &[SpanTimes]) -> Vec<TraceRow> {
    let ids: HashSet<(&str, &str)> = spans
        .iter()
        .filter_map(|s| Some((s.trace, s.span?)))
        .collect();
    let mut accs: HashMap<&str, Acc> = HashMap::new();
    for sp in spans {
        let t = sp.trace;
        let (s, e) = (sp.start, sp.end);
        let acc = accs.entry(t).or_insert(Acc {
            start: s,
            end: e,
            spans: 0,
            errors: 0,
            root: None,
            first: None,
        });
        acc.start = acc.start.min(s);
        acc.end = acc.end.max(e);
        acc.spans += 1;
        acc.errors += u64::from(sp.error);
        let candidate = || (s, sp.name.to_string(), sp.service.map(str::to_string));
        let is_root = match sp.parent {
            None => true,
            Some(p) => !ids.contains(&(t, p)),
        };
        if is_root && acc.root.as_ref().is_none_or(|r| s < r.0) {
            acc.root = Some(candidate());
        }
        if acc.first.as_ref().is_none_or(|r| s < r.0) {
            acc.first = Some(candidate());
        }
    }
    accs.into_iter()
        .map(|(t, a)| {
            let (_, root_name, service) = a.root.or(a.first).unwrap_or_default();
            TraceRow {
                trace_id: t.to_string(),
                root_name,
                service,
                start_unix_nano: a.start,
                // End before start is the dump's own contradiction: no negative duration.
                duration_ns: a.end.saturating_sub(a.start).max(0),
                spans: a.spans,
                errors: a.errors,
            }
        })
        .collect()
}

/// Sorts in place; ties are broken by trace id so the order is always the same.
pub fn sort_traces(rows: &mut [TraceRow], key: SortKey, descending: bool) {
    rows.sort_by(|a, b| {
        let o = match key {
            SortKey::Start => a.start_unix_nano.cmp(&b.start_unix_nano),
            SortKey::Duration => a.duration_ns.cmp(&b.duration_ns),
            SortKey::Spans => a.spans.cmp(&b.spans),
            SortKey::Errors => a.errors.cmp(&b.errors),
            SortKey::Name => a.root_name.cmp(&b.root_name),
            SortKey::Service => a.service.cmp(&b.service),
            SortKey::TraceId => std::cmp::Ordering::Equal,
        };
        let o = if descending { o.reverse() } else { o };
        o.then_with(|| a.trace_id.cmp(&b.trace_id))
    });
}
