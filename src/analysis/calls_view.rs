//! The calls table an import leaves beside its spans: every counted model call of every
//! trace the import touched, attributed over all of that trace's spans in the store at
//! that moment. A trace touched by several imports takes its calls from the newest, so
//! a report from the store reads a few small columns instead of attributing every span
//! again. Reports that need raw attributes (`attr:KEY`, `--where`) still read the spans.

use super::calls::{Calls, LlmCall};
use crate::ingest::ids::{SpanId, TraceId};
use crate::semconv::model::{SpanType, Usage};
use crate::store::{Store, StoreError};
use polars::prelude::*;
use std::path::Path;

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

const TOKEN_COLUMNS: [&str; 5] = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
];

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

fn tokens_of(u: &Usage) -> [Option<i64>; 5] {
    [u.input, u.output, u.cache_read, u.cache_write, u.reasoning]
}

/// One row per counted call, then one marker row (no span id) per touched trace, which
/// says the import recomputed it and how many of its model calls recorded no usage.
pub fn to_frame(touched: &[TraceId], calls: &Calls) -> PolarsResult<DataFrame> {
    let n = calls.calls.len() + touched.len();
    let mut trace_id = Vec::with_capacity(n);
    let mut span_id: Vec<Option<String>> = Vec::with_capacity(n);
    let mut start: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut cost: Vec<Option<f64>> = Vec::with_capacity(n);
    let mut without: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut text: Vec<Vec<Option<&str>>> = vec![Vec::with_capacity(n); TEXT_COLUMNS.len()];
    let mut tokens: Vec<Vec<Option<i64>>> = vec![Vec::with_capacity(n); TOKEN_COLUMNS.len()];
    for c in &calls.calls {
        trace_id.push(c.trace_id.to_string());
        span_id.push(Some(c.span_id.to_string()));
        start.push(Some(c.start));
        cost.push(c.recorded_cost_usd);
        without.push(None);
        for (col, v) in text.iter_mut().zip(text_of(c)) {
            col.push(v);
        }
        for (col, v) in tokens.iter_mut().zip(tokens_of(&c.usage)) {
            col.push(v);
        }
    }
    let without_by: std::collections::HashMap<TraceId, u64> =
        calls.without_usage_by_trace.iter().copied().collect();
    for t in touched {
        trace_id.push(t.to_string());
        span_id.push(None);
        start.push(None);
        cost.push(None);
        without.push(Some(without_by.get(t).copied().unwrap_or(0) as i64));
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
    DataFrame::new(n, cols)
}

/// Writes an import's calls table into the store.
pub fn save(
    store: &Store,
    segment: u64,
    touched: &[TraceId],
    calls: &Calls,
) -> Result<(), StoreError> {
    store.attach_calls(segment, &to_frame(touched, calls)?)
}

/// Hands each of the store's counted calls to `call`, from its calls tables, one call at
/// a time; `None` (and no call) when an import has no table (a store written before
/// they existed): the caller then derives the calls from the spans. The returned counts
/// have `without_usage_by_trace` filled in, and no calls.
pub fn load(store: &Store, call: &mut dyn FnMut(&LlmCall)) -> Result<Option<Calls>, StoreError> {
    let Some(files) = store.calls_files()? else {
        return Ok(None);
    };
    let mut out = Calls::default();
    // Traces a newer import recomputed: an older table's rows for them are stale.
    let mut newer: foldhash::HashSet<TraceId> = Default::default();
    for file in &files {
        let touched = read_one(file, &newer, &mut out, call)?;
        newer.extend(touched);
    }
    Ok(Some(out))
}

fn read_one(
    file: &Path,
    newer: &foldhash::HashSet<TraceId>,
    out: &mut Calls,
    call: &mut dyn FnMut(&LlmCall),
) -> Result<Vec<TraceId>, StoreError> {
    let df = LazyFrame::scan_parquet(
        PlRefPath::new(file.to_string_lossy().as_ref()),
        Default::default(),
    )?
    .collect()?;
    let s = |n: &str| -> PolarsResult<StringChunked> { Ok(df.column(n)?.str()?.clone()) };
    let i = |n: &str| -> PolarsResult<Int64Chunked> { Ok(df.column(n)?.i64()?.clone()) };
    let (trace, span, start, without) = (
        s("trace_id")?,
        s("span_id")?,
        i("start_time_unix_nano")?,
        i("calls_without_usage")?,
    );
    let cost = df.column("recorded_cost_usd")?.f64()?.clone();
    let text: Vec<StringChunked> = TEXT_COLUMNS
        .iter()
        .map(|n| s(n))
        .collect::<Result<_, _>>()?;
    let tokens: Vec<Int64Chunked> = TOKEN_COLUMNS
        .iter()
        .map(|n| i(n))
        .collect::<Result<_, _>>()?;
    let mut touched = Vec::new();
    for k in 0..df.height() {
        let Some(Ok(t)) = trace.get(k).map(TraceId::parse) else {
            continue;
        };
        if newer.contains(&t) {
            continue;
        }
        let Some(span) = span.get(k) else {
            touched.push(t);
            let w = without.get(k).unwrap_or(0).max(0) as u64;
            if w > 0 {
                out.without_usage_by_trace.push((t, w));
            }
            continue;
        };
        let Ok(span_id) = SpanId::parse(span) else {
            continue;
        };
        let txt = |c: usize| text[c].get(k).map(str::to_string);
        call(&LlmCall {
            trace_id: t,
            span_id,
            root_name: txt(0).unwrap_or_default(),
            service: txt(1),
            start: start.get(k).unwrap_or(0),
            span_type: SpanType::parse(text[2].get(k).unwrap_or("llm")),
            provider: txt(3),
            request_model: txt(4),
            response_model: txt(5),
            session_id: txt(6),
            user_id: txt(7),
            usage: Usage {
                input: tokens[0].get(k),
                output: tokens[1].get(k),
                cache_read: tokens[2].get(k),
                cache_write: tokens[3].get(k),
                reasoning: tokens[4].get(k),
            },
            recorded_cost_usd: cost.get(k),
            response_id: txt(8),
            previous_response_id: txt(9),
            service_tier: txt(10),
            attrs: Vec::new(),
        });
    }
    Ok(touched)
}
