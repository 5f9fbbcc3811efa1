//! Where a command's spans come from: the store, or dumps read directly without an
//! import. Every command asks through this one choice, so that a report from dumps and
//! the same report from their import cannot drift apart.

use super::calls::{
    Calls, LlmCall, calls_from_rows, calls_of, load_rows_with, row_from_normalized,
};
use super::cost_report::{CallFilter, CostReport, Dim, ReportBuilder, ReportError, SumOverflow};
use super::partition::{SpillError, TracePartitions};
use super::store_set::StoreSet;
use super::trace_list::{
    SpanTimes, TraceFilter, TraceRow, list_traces, trace_rows as trace_rows_of,
};
use super::{calls_view, cost_columns};
use crate::ingest::ids::{SpanId, TraceId};
use crate::ingest::raw::StatusCode;
use crate::ingest::{DecodeOptions, IngestError, Record, decode_input_prepared, expand_inputs};
use crate::pricing::Pricing;
use crate::semconv::{RefusedValues, content_only, normalize};
use crate::store::StoreError;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// One store, or several read as one.
    Stores(&'a StoreSet),
    /// Files, directories or `-`, decoded and normalized in memory.
    Dumps(&'a [PathBuf]),
}

impl<'a> Source<'a> {
    /// The dumps when any are given, else the stores.
    pub fn of(stores: &'a StoreSet, dumps: &'a [PathBuf]) -> Source<'a> {
        if dumps.is_empty() {
            Source::Stores(stores)
        } else {
            Source::Dumps(dumps)
        }
    }
}

/// Why the calls of a source could not be read or reported.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Spill(#[from] SpillError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Overflow(#[from] SumOverflow),
}

/// The cost report of the source's calls that `filter` keeps, grouped by `group_by`,
/// and the counts and anomalies of the calls read (from the calls tables only their
/// calls without usage). `attr_keys` names the attributes to read for `attr:KEY` groups
/// and `--where` filters (the calls' `attrs`, in order); values refused while
/// normalizing dumps are noted in `refused`.
pub fn cost_report(
    source: Source,
    pricing: &Pricing,
    group_by: Vec<Dim>,
    filter: &CallFilter,
    attr_keys: &[String],
    refused: &RefusedValues,
) -> Result<(CostReport, Calls), SourceError> {
    let (mut reports, calls) =
        cost_reports(source, pricing, vec![group_by], filter, attr_keys, refused)?;
    Ok((reports.remove(0), calls))
}

/// Like `cost_report`, one report per grouping of `groupings`, from one reading of the
/// source: the calls of dumps are decoded and attributed once for all of them.
pub fn cost_reports(
    source: Source,
    pricing: &Pricing,
    groupings: Vec<Vec<Dim>>,
    filter: &CallFilter,
    attr_keys: &[String],
    refused: &RefusedValues,
) -> Result<(Vec<CostReport>, Calls), SourceError> {
    let by_attr = groupings
        .iter()
        .flatten()
        .any(|d| matches!(d, Dim::Attr(_)));
    let stores = match source {
        Source::Stores(stores) => stores,
        Source::Dumps(paths) => {
            let mut builders = builders(pricing, groupings, filter, attr_keys);
            let calls = calls_from_dumps(paths, attr_keys, refused, &mut |c| {
                builders.iter_mut().for_each(|b| b.add(c))
            })?;
            return Ok((finish(builders)?, calls));
        }
    };
    // The imports' calls tables, unless the report needs the spans' raw attributes.
    let table = if attr_keys.is_empty() && !by_attr {
        let mut columns: Vec<&str> = Vec::new();
        for g in &groupings {
            for c in cost_columns::columns_for(g, filter) {
                if !columns.contains(&c) {
                    columns.push(c);
                }
            }
        }
        calls_tables(stores, &columns)?
    } else {
        None
    };
    match table {
        Some((t, repeats)) => {
            let reports = groupings
                .into_iter()
                .map(|g| cost_columns::report(&t.calls, &t.split_traces, pricing, g, filter))
                .collect::<Result<Vec<_>, _>>()?;
            let counts = Calls {
                without_usage_by_trace: t.without_usage_by_trace,
                repeated_span_ids: repeats,
                repeated_span_ids_differing: repeats,
                ..Default::default()
            };
            Ok((reports, counts))
        }
        None => {
            let mut builders = builders(pricing, groupings, filter, attr_keys);
            let calls = union_calls(stores, None, attr_keys)?;
            for c in &calls.calls {
                builders.iter_mut().for_each(|b| b.add(c));
            }
            Ok((finish(builders)?, calls))
        }
    }
}

/// The counted calls of the stores from their calls tables, `None` when a store lacks
/// them. A trace only one store holds takes that store's rows; a trace several hold is
/// attributed again over the union of its spans, since no store's table saw them all.
/// Disjoint stores cost the sum of their reads, plus one read of each traces table.
/// Also how many spans two stores hold with different content.
fn calls_tables(
    stores: &StoreSet,
    columns: &[&str],
) -> Result<Option<(calls_view::CallsTable, u64)>, StoreError> {
    let shared = stores.shared_traces()?;
    let mut out = calls_view::CallsTable {
        calls: Vec::new(),
        without_usage_by_trace: Vec::new(),
        split_traces: Default::default(),
    };
    for store in stores.stores() {
        let Some(t) = calls_view::read(store, columns, &shared)? else {
            return Ok(None);
        };
        out.calls.extend(t.calls);
        out.without_usage_by_trace.extend(t.without_usage_by_trace);
        out.split_traces.extend(t.split_traces);
    }
    let mut repeats = 0;
    if !shared.is_empty() {
        let calls = union_calls(stores, Some(&shared), &[])?;
        out.calls
            .extend(calls_view::parts_of(&calls.calls, columns)?);
        out.without_usage_by_trace
            .extend(calls.without_usage_by_trace);
        repeats = calls.repeated_span_ids_differing;
    }
    Ok(Some((out, repeats)))
}

/// The calls of the stores' spans (of `traces` only, when given), each span once: the
/// rows of every store in the order named, the first of an id kept.
fn union_calls(
    stores: &StoreSet,
    traces: Option<&foldhash::HashSet<TraceId>>,
    attr_keys: &[String],
) -> Result<Calls, StoreError> {
    let mut rows = Vec::new();
    for store in stores.stores() {
        rows.extend(load_rows_with(store, traces, attr_keys)?);
    }
    let mut calls = calls_from_rows(&rows);
    // A span in two stores is the union's point, not an anomaly: only a repeat that
    // says something else is worth a warning.
    calls.repeated_span_ids = calls.repeated_span_ids_differing;
    Ok(calls)
}

fn builders<'a>(
    pricing: &'a Pricing,
    groupings: Vec<Vec<Dim>>,
    filter: &'a CallFilter,
    attr_keys: &'a [String],
) -> Vec<ReportBuilder<'a>> {
    groupings
        .into_iter()
        .map(|g| ReportBuilder::new(pricing, g, filter, attr_keys))
        .collect()
}

fn finish(builders: Vec<ReportBuilder>) -> Result<Vec<CostReport>, SumOverflow> {
    builders.into_iter().map(ReportBuilder::finish).collect()
}

/// Reads dumps without importing them: decode, normalize, attribute, in memory. Message
/// content is skipped unread, each span is normalized into its small row on the core
/// that decoded it, and the rows are attributed a partition of traces at a time, each
/// counting call handed to `call`; the counts and anomalies are returned, not the calls.
fn calls_from_dumps(
    paths: &[PathBuf],
    attr_keys: &[String],
    refused: &RefusedValues,
    call: &mut dyn FnMut(&LlmCall),
) -> Result<Calls, SourceError> {
    // A report asking for a content attribute itself must read it.
    let opts = DecodeOptions {
        skip_attribute: (!attr_keys.iter().any(|k| content_only(k))).then_some(content_only),
        ..Default::default()
    };
    let mut rows = TracePartitions::default();
    let mut filing = Ok(());
    let prepare = |r: Record| match r {
        Record::Span(s) => {
            let n = normalize(&s);
            refused.note(&s, &n);
            Some(row_from_normalized(&s, n, attr_keys))
        }
        Record::Log(_) => None,
    };
    for input in expand_inputs(paths)? {
        decode_input_prepared(&input, &opts, &prepare, &mut |row| {
            if let Some(row) = row
                && filing.is_ok()
            {
                filing = rows.push(row);
            }
        })?;
        std::mem::replace(&mut filing, Ok(()))?;
    }
    Ok(calls_of(rows, &mut |c| call(&c))?)
}

/// One row per trace of the source (its start, duration, spans and errors), as `traces
/// list` has them: dumps are read for their spans' times and statuses only.
pub fn trace_rows(source: Source) -> Result<Vec<TraceRow>, SourceError> {
    let paths = match source {
        Source::Stores(stores) => return Ok(list_traces(stores, &TraceFilter::default())?),
        Source::Dumps(paths) => paths,
    };
    let opts = DecodeOptions {
        skip_attribute: Some(content_only),
        ..Default::default()
    };
    struct Owned {
        trace: String,
        span: String,
        parent: Option<String>,
        name: String,
        start: i64,
        end: i64,
        error: bool,
        service: Option<String>,
    }
    // The first span of an id, as an import keeps it.
    let mut seen: foldhash::HashSet<(TraceId, SpanId)> = Default::default();
    let mut spans: Vec<Owned> = Vec::new();
    let prepare = |r: Record| match r {
        Record::Span(s) => Some(s),
        Record::Log(_) => None,
    };
    for input in expand_inputs(paths)? {
        decode_input_prepared(&input, &opts, &prepare, &mut |s| {
            let Some(s) = s else { return };
            if !seen.insert((s.trace_id, s.span_id)) {
                return;
            }
            spans.push(Owned {
                trace: s.trace_id.to_string(),
                span: s.span_id.to_string(),
                parent: s.parent_span_id.map(|p| p.to_string()),
                name: s.name.clone(),
                start: s.start_time_unix_nano,
                end: s.end_time_unix_nano,
                error: s.status_code == StatusCode::Error,
                service: s.resource.service_name().map(str::to_string),
            });
        })?;
    }
    let times: Vec<SpanTimes> = spans
        .iter()
        .map(|s| SpanTimes {
            trace: &s.trace,
            span: Some(&s.span),
            parent: s.parent.as_deref(),
            name: &s.name,
            start: s.start,
            end: s.end,
            error: s.error,
            service: s.service.as_deref(),
        })
        .collect();
    Ok(trace_rows_of(&times))
}
