//! The calls table an import leaves beside its spans: every counted model call of every
//! trace the import touched, attributed over all of that trace's spans in the store at
//! that moment. A trace touched by several imports takes its calls from the newest, so
//! a report from the store reads a few small columns instead of attributing every span
//! again. Reports that need raw attributes (`attr:KEY`, `--where`) still read the spans.

use super::calls::{Calls, LlmCall, calls_from_rows};
use super::cost_columns::SplitTraces;
use super::cost_report::{PriceCache, recorded_decimal};
use super::partition::{SpillError, TracePartitions};
use crate::ingest::ids::TraceId;
use crate::pricing::Pricing;
use crate::semconv::model::Usage;
use crate::store::{Store, StoreError, layout};
use polars::prelude::*;
use std::collections::BTreeSet;

const TEXT_COLUMNS: [&str; 11] = [
    "root_name",
    "service",
    "span_type",
    "provider",
    "request_model",
    "response_model",
    "session_id",
    "user_id",
    "response_id",
    "previous_response_id",
    "service_tier",
];

const TOKEN_COLUMNS: [&str; 9] = Usage::COLUMNS;

fn text_of(c: &LlmCall) -> [Option<&str>; 11] {
    [
        Some(c.root_name.as_str()),
        c.service.as_deref(),
        Some(c.span_type.as_str()),
        c.provider.as_deref(),
        c.request_model.as_deref(),
        c.response_model.as_deref(),
        c.session_id.as_deref(),
        c.user_id.as_deref(),
        c.response_id.as_deref(),
        c.previous_response_id.as_deref(),
        c.service_tier.as_deref(),
    ]
}

/// One row per counted call, then one marker row (no span id) per touched trace, which
/// says the import recomputed it and how many of its model calls recorded no usage.
pub fn to_frame(touched: &[TraceId], calls: &Calls) -> PolarsResult<DataFrame> {
    frame(
        &calls.calls,
        &markers(touched, &calls.without_usage_by_trace),
        &Written {
            segment: 0,
            pricing: None,
        },
    )
}

/// What a calls table's rows say beyond the calls themselves, for engines that read the
/// table without `traces`: the import that wrote them (a trace's rows count from the
/// newest import that touched it) and the price entry each call resolved to.
struct Written<'a> {
    segment: i64,
    pricing: Option<&'a Pricing>,
}

/// The marker rows' contents: every touched trace, with its calls without usage.
fn markers(touched: &[TraceId], without_usage_by_trace: &[(TraceId, u64)]) -> Vec<(TraceId, u64)> {
    let without_by: std::collections::HashMap<TraceId, u64> =
        without_usage_by_trace.iter().copied().collect();
    touched
        .iter()
        .map(|t| (*t, without_by.get(t).copied().unwrap_or(0)))
        .collect()
}

/// Rows of a calls table: these calls, then these markers.
fn frame(
    calls: &[LlmCall],
    markers: &[(TraceId, u64)],
    written: &Written,
) -> PolarsResult<DataFrame> {
    let n = calls.len() + markers.len();
    let mut prices = written.pricing.map(PriceCache::new);
    let mut price_id: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut price_fallback: Vec<Option<bool>> = Vec::with_capacity(n);
    // The recorded cost as the decimal reports sum, which a float cast in SQL is not.
    let mut recorded_text: Vec<Option<String>> = Vec::with_capacity(n);
    let mut trace_id: Vec<&[u8]> = Vec::with_capacity(n);
    let mut span_id: Vec<Option<&[u8]>> = Vec::with_capacity(n);
    let mut start: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut cost: Vec<Option<f64>> = Vec::with_capacity(n);
    let mut without: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut text: Vec<Vec<Option<&str>>> = vec![Vec::with_capacity(n); TEXT_COLUMNS.len()];
    let mut tokens: Vec<Vec<Option<i64>>> = vec![Vec::with_capacity(n); TOKEN_COLUMNS.len()];
    for c in calls {
        trace_id.push(&c.trace_id.0);
        span_id.push(Some(&c.span_id.0));
        start.push(Some(c.start));
        cost.push(c.recorded_cost_usd);
        recorded_text.push(
            c.recorded_cost_usd
                .and_then(recorded_decimal)
                .map(|d| d.normalize().to_string()),
        );
        let matched = prices
            .as_mut()
            .zip(c.model())
            .and_then(|(p, m)| p.entry(m, c.provider.as_deref()));
        price_id.push(matched.as_ref().map(|m| m.entry.id.as_str()));
        price_fallback.push(Some(matched.is_some_and(|m| m.fallback.is_some())));
        without.push(None);
        for (col, v) in text.iter_mut().zip(text_of(c)) {
            col.push(v);
        }
        for (col, v) in tokens.iter_mut().zip(c.usage.counts()) {
            col.push(v);
        }
    }
    for (t, w) in markers {
        trace_id.push(&t.0);
        span_id.push(None);
        start.push(None);
        cost.push(None);
        recorded_text.push(None);
        price_id.push(None);
        price_fallback.push(None);
        without.push(Some(*w as i64));
        text.iter_mut().for_each(|c| c.push(None));
        tokens.iter_mut().for_each(|c| c.push(None));
    }
    let mut cols = vec![
        Column::new("trace_id".into(), trace_id),
        Column::new("span_id".into(), span_id),
        Column::new("start_time_unix_nano".into(), start),
        Column::new("recorded_cost_usd".into(), cost),
        Column::new("calls_without_usage".into(), without),
    ];
    for (name, v) in TEXT_COLUMNS.iter().zip(text) {
        cols.push(Column::new((*name).into(), v));
    }
    for (name, v) in TOKEN_COLUMNS.iter().zip(tokens) {
        cols.push(Column::new((*name).into(), v));
    }
    cols.extend([
        Column::new("segment".into(), vec![written.segment; n]),
        Column::new("price_id".into(), price_id),
        Column::new("price_fallback".into(), price_fallback),
        Column::new("recorded_cost_usd_text".into(), recorded_text),
    ]);
    DataFrame::new(n, cols)
}

/// What an import's summary says of the calls it attributed. Sums of i64 counts over
/// at most 2^64 calls cannot pass i128: the summary is exact whatever the input says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTotals {
    pub calls: u64,
    pub input_tokens: i128,
    pub output_tokens: i128,
}

impl CallTotals {
    fn of(calls: &[LlmCall]) -> Self {
        let sum = |f: fn(&LlmCall) -> Option<i64>| calls.iter().filter_map(f).map(i128::from).sum();
        CallTotals {
            calls: calls.len() as u64,
            input_tokens: sum(|c| c.usage.input),
            output_tokens: sum(|c| c.usage.output),
        }
    }

    fn absorb(&mut self, other: CallTotals) {
        self.calls += other.calls;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// An import's calls, attributed and written.
pub struct Saved {
    /// The counts and anomalies, without the calls themselves.
    pub calls: Calls,
    pub totals: CallTotals,
    /// Why the table could not be written; reports then derive the calls from the spans.
    pub table_error: Option<StoreError>,
}

/// Attributes the rows of every trace an import touched and writes its calls table
/// (when `segment` is given) a set of traces at a time: the sets' calls become rows on
/// every core while the table is compressed on its own thread, and no call is held
/// after it is written.
pub fn attribute_and_save(
    store: &Store,
    segment: Option<u64>,
    touched: &[TraceId],
    rows: TracePartitions,
    pricing: &Pricing,
) -> Result<Saved, SpillError> {
    let written = Written {
        segment: segment.map_or(0, |s| s as i64),
        pricing: Some(pricing),
    };
    let mut table_error = None;
    let mut table =
        segment.and_then(|s| store.begin_calls(s).map_err(|e| table_error = Some(e)).ok());
    let mut out = Calls::default();
    let mut totals = CallTotals::default();
    let writing = table.is_some();
    // The days each trace has spans in: its marker row goes in each (see `layout`).
    let mut trace_days: foldhash::HashMap<TraceId, BTreeSet<i32>> = Default::default();
    rows.for_each(
        |rows| {
            let mut days: Vec<(TraceId, i32)> = rows
                .iter()
                .map(|r| (r.trace_id, layout::day_of(r.start)))
                .collect();
            days.sort_unstable();
            days.dedup();
            let mut part = calls_from_rows(rows);
            let df = writing.then(|| {
                let call_days: Vec<i32> =
                    part.calls.iter().map(|c| layout::day_of(c.start)).collect();
                frame(&part.calls, &[], &written).map(|df| (df, call_days))
            });
            let t = CallTotals::of(&part.calls);
            part.calls = Vec::new();
            (part, t, df, days)
        },
        |(mut part, t, df, days)| {
            out.absorb_counts(&mut part);
            totals.absorb(t);
            for (trace, day) in days {
                trace_days.entry(trace).or_default().insert(day);
            }
            if let (Some(w), Some(df)) = (table.as_mut(), df)
                && let Err(e) = df
                    .map_err(StoreError::from)
                    .and_then(|(df, days)| w.write(df, &days))
            {
                table_error = Some(e);
                table = None;
            }
        },
    )?;
    if let Some(mut w) = table {
        let mut rows = Vec::new();
        let mut days = Vec::new();
        for (trace, without) in markers(touched, &out.without_usage_by_trace) {
            // A touched trace has spans read; day 0 would be for one that had none.
            for (day, w) in layout::marker_days(trace_days.get(&trace), 0, without) {
                rows.push((trace, w));
                days.push(day);
            }
        }
        let r = frame(&[], &rows, &written)
            .map_err(StoreError::from)
            .and_then(|df| w.write(df, &days))
            .and_then(|()| w.attach());
        if let Err(e) = r {
            table_error = Some(e);
        }
    }
    Ok(Saved {
        calls: out,
        totals,
        table_error,
    })
}

/// Calls attributed at report time as parts of a calls table with these columns (and
/// `trace_id`), as `read` gives them.
pub fn parts_of(calls: &[LlmCall], columns: &[&str]) -> PolarsResult<Vec<CallsPart>> {
    let written = Written {
        segment: 0,
        pricing: None,
    };
    let mut wanted: Vec<Expr> = vec![col("trace_id")];
    wanted.extend(
        columns
            .iter()
            .filter(|c| **c != "trace_id")
            .map(|c| col(*c)),
    );
    let df = frame(calls, &[], &written)?
        .lazy()
        .select(wanted)
        .collect()?;
    Ok(split(df))
}

/// A frame in parts of `ROWS_PER_PART` rows.
fn split(f: DataFrame) -> Vec<CallsPart> {
    (0..f.height())
        .step_by(ROWS_PER_PART as usize)
        .map(|offset| {
            let part = f.slice(offset as i64, ROWS_PER_PART as usize);
            CallsPart {
                calls: part.height() as u64,
                frame: part.lazy(),
            }
        })
        .collect()
}

/// Rows of a table read at a time.
const ROWS_PER_PART: u32 = 65_536;

/// Consecutive rows of a calls table.
pub struct CallsPart {
    pub frame: LazyFrame,
    /// How many calls it holds, or about: to share the work out evenly.
    pub calls: u64,
}

/// The store's counted calls, read from its calls tables.
pub struct CallsTable {
    /// One row per call, of the asked-for columns (and `trace_id`), in parts of a row
    /// group or so: a report reads one at a time and reuses its memory.
    pub calls: Vec<CallsPart>,
    /// Traces with model calls that recorded no usage, and how many.
    pub without_usage_by_trace: Vec<(TraceId, u64)>,
    /// Traces whose calls lie apart, in the tables of several days of one import.
    pub split_traces: SplitTraces,
}

/// Reads the calls tables, newest import first, keeping each trace's rows from the
/// newest import that recomputed it, and none of the traces in `except` (which the
/// caller counts otherwise); `None` when an import has no table (a store written
/// before they existed): the caller then derives the calls from the spans.
pub fn read(
    store: &Store,
    columns: &[&str],
    except: &foldhash::HashSet<TraceId>,
) -> Result<Option<CallsTable>, StoreError> {
    let Some(imports) = store.calls_files()? else {
        return Ok(None);
    };
    let scan = |file: &std::path::Path| {
        LazyFrame::scan_parquet(
            PlRefPath::new(file.to_string_lossy().as_ref()),
            Default::default(),
        )
    };
    // A table written before a count had its column reads it as missing.
    let wanted_in = |file: &std::path::Path| -> PolarsResult<Vec<Expr>> {
        let schema = scan(file)?.collect_schema()?;
        let mut wanted: Vec<Expr> = vec![col("trace_id")];
        wanted.extend(columns.iter().filter(|c| **c != "trace_id").map(|c| {
            if Usage::COLUMNS.contains(c) {
                super::calls::count_column(&schema, c)
            } else {
                col(*c)
            }
        }));
        Ok(wanted)
    };
    let is_call = || col("calls_without_usage").is_null();
    let mut without_usage_by_trace = Vec::new();
    // What each import touched, newest first: its days' markers together; and each
    // table's own, with its number of markers.
    let mut touched_by_import: Vec<foldhash::HashSet<TraceId>> = Vec::with_capacity(imports.len());
    let mut touched_by_file: Vec<Vec<(foldhash::HashSet<TraceId>, u64)>> = Vec::new();
    let mut split_traces = SplitTraces::default();
    for (i, files) in imports.iter().enumerate() {
        let mut touched = foldhash::HashSet::default();
        let mut own = Vec::with_capacity(files.len());
        // A table's own traces are asked only whether a newer import (or the caller)
        // counts one of them: never so for the newest import's when the caller counts
        // none. Left empty then, which a 200k-trace store's report spends 15 ms less on.
        let keep_own = i > 0 || !except.is_empty();
        for file in files {
            let mut mine = foldhash::HashSet::default();
            let mut markers = scan(file)?.filter(is_call().not());
            // Tables of the first release held ids as hex text: their calls are derived
            // from the spans again.
            if markers.collect_schema()?.get("trace_id") != Some(&DataType::Binary) {
                return Ok(None);
            }
            let markers = markers
                .select([col("trace_id"), col("calls_without_usage")])
                .collect()?;
            let (traces, without) = (
                markers.column("trace_id")?.binary()?,
                markers.column("calls_without_usage")?.i64()?,
            );
            // Sized once: grown by doubling, the sets cost more than reading the markers.
            touched.reserve(markers.height());
            if keep_own {
                mine.reserve(markers.height());
            }
            for (t, w) in traces.iter().zip(without.iter()) {
                let Some(t) = t.and_then(TraceId::from_bytes) else {
                    continue;
                };
                if keep_own {
                    mine.insert(t);
                }
                if !touched.insert(t) {
                    split_traces.insert(t);
                }
                let w = w.unwrap_or(0).max(0) as u64;
                if w > 0
                    && !except.contains(&t)
                    && !touched_by_import.iter().any(|newer| newer.contains(&t))
                {
                    without_usage_by_trace.push((t, w));
                }
            }
            own.push((mine, markers.height() as u64));
        }
        touched_by_import.push(touched);
        touched_by_file.push(own);
    }
    // Traces a newer import recomputed (or the caller counts): an older table's rows
    // for them are stale. A table with none is read a part at a time; one with some
    // is read whole and filtered.
    let mut newer = except.clone();
    let mut calls = Vec::new();
    for ((files, touched), own) in imports.iter().zip(touched_by_import).zip(touched_by_file) {
        for (file, (mine, markers)) in files.iter().zip(own) {
            let wanted = wanted_in(file)?;
            if !mine.iter().any(|t| newer.contains(t)) {
                let rows = scan(file)?.select([len()]).collect()?;
                let rows = rows
                    .column("len")?
                    .cast(&DataType::UInt64)?
                    .u64()?
                    .get(0)
                    .unwrap_or(0);
                // An import writes a table's calls first and its markers last.
                let call_rows = rows.saturating_sub(markers);
                for offset in (0..rows).step_by(ROWS_PER_PART as usize) {
                    calls.push(CallsPart {
                        frame: scan(file)?
                            .slice(offset as i64, ROWS_PER_PART)
                            .filter(is_call())
                            .select(wanted.clone()),
                        calls: call_rows.saturating_sub(offset).min(ROWS_PER_PART as u64),
                    });
                }
                continue;
            }
            let df = scan(file)?.filter(is_call()).select(wanted).collect()?;
            let fresh: BooleanChunked = df
                .column("trace_id")?
                .binary()?
                .iter()
                .map(|t| {
                    t.and_then(TraceId::from_bytes)
                        .is_some_and(|t| !newer.contains(&t))
                })
                .collect();
            calls.extend(split(df.filter(&fresh)?));
        }
        newer.extend(touched);
    }
    Ok(Some(CallsTable {
        calls,
        without_usage_by_trace,
        split_traces,
    }))
}
