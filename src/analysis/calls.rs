//! The model calls of a set of spans, each counted once (see `attribution`), with the
//! session and user of its trace: what cost and usage reports sum.

use super::attribution::{SpanFacts, Verdict, attribute};
use super::partition::{SpillError, TracePartitions};
use crate::ingest::ids::{SpanId, TraceId};
use crate::ingest::spare::Spare;
use crate::semconv::model::{SpanType, Usage};
use crate::store::{Store, StoreError};
use polars::prelude::*;
use std::collections::HashSet;

/// One span as reports read it: identity, tree, and the normalized columns.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SpanRow {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub name: String,
    pub scope_name: String,
    pub service_name: Option<String>,
    pub start: i64,
    pub end: i64,
    pub span_type: SpanType,
    pub provider: Option<String>,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub usage: Usage,
    pub recorded_cost_usd: Option<f64>,
    pub response_id: Option<String>,
    pub previous_response_id: Option<String>,
    pub service_tier: Option<String>,
    /// Values of the attributes a report asked for (`attr:KEY`, `--where`), in the
    /// order asked, as text.
    pub attrs: Vec<Option<String>>,
}

impl SpanRow {
    /// Whether two rows of one span id say the same about it, in what reports read.
    fn same_content(&self, o: &SpanRow) -> bool {
        (
            &self.parent_span_id,
            &self.name,
            self.start,
            self.end,
            &self.usage,
            &self.request_model,
            &self.response_model,
        ) == (
            &o.parent_span_id,
            &o.name,
            o.start,
            o.end,
            &o.usage,
            &o.request_model,
            &o.response_model,
        )
    }
}

/// A model call that counts.
#[derive(Debug, Clone)]
pub struct LlmCall {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub root_name: String,
    pub service: Option<String>,
    pub start: i64,
    pub span_type: SpanType,
    pub provider: Option<String>,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub usage: Usage,
    pub recorded_cost_usd: Option<f64>,
    pub response_id: Option<String>,
    pub previous_response_id: Option<String>,
    pub service_tier: Option<String>,
    /// The asked-for attributes of the call's span, else of its trace's root span.
    pub attrs: Vec<Option<String>>,
}

impl LlmCall {
    /// The model that is priced: the response model when the span names one.
    pub fn model(&self) -> Option<&str> {
        self.response_model
            .as_deref()
            .or(self.request_model.as_deref())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub calls: Vec<LlmCall>,
    /// Spans whose usage was set aside because a descendant carries it.
    pub set_aside_nested: u64,
    /// (kept span, set-aside span): one call recorded by two instrumentations.
    pub duplicate_pairs: Vec<(SpanId, SpanId)>,
    /// Traces whose spans name more than one session or user.
    pub conflicts: Vec<String>,
    /// LLM and embedding spans that recorded no usage, per trace that has any.
    pub without_usage_by_trace: Vec<(TraceId, u64)>,
    /// Spans that repeat the id of an earlier span of their trace: the first is kept,
    /// as an import keeps it (and `differing` of them said something else).
    pub repeated_span_ids: u64,
    pub repeated_span_ids_differing: u64,
}

impl Calls {
    /// Takes in another set's counts and anomalies, leaving its calls.
    pub fn absorb_counts(&mut self, other: &mut Calls) {
        self.set_aside_nested += other.set_aside_nested;
        self.duplicate_pairs.append(&mut other.duplicate_pairs);
        self.conflicts.append(&mut other.conflicts);
        self.without_usage_by_trace
            .append(&mut other.without_usage_by_trace);
        self.repeated_span_ids += other.repeated_span_ids;
        self.repeated_span_ids_differing += other.repeated_span_ids_differing;
    }

    /// LLM and embedding spans that recorded no usage.
    pub fn without_usage(&self) -> u64 {
        self.without_usage_by_trace.iter().map(|(_, n)| n).sum()
    }
}

/// Attributes the partitions' traces, handing each counting call to `call`; the counts
/// and anomalies are returned, not the calls.
pub fn calls_of(rows: TracePartitions, call: &mut dyn FnMut(LlmCall)) -> Result<Calls, SpillError> {
    let mut out = Calls::default();
    // The calls are made on every core and handed on here: their vectors go back to be
    // filled again (see `Spare`).
    let spare = Spare::default();
    rows.for_each(
        |rows| calls_into(rows, spare.take()),
        |mut part| {
            part.calls.drain(..).for_each(&mut *call);
            out.absorb_counts(&mut part);
            spare.give(std::mem::take(&mut part.calls));
        },
    )?;
    Ok(out)
}

/// What attribution needs of one trace's spans.
pub fn facts_of<'a>(spans: &[&'a SpanRow]) -> Vec<SpanFacts<'a>> {
    spans
        .iter()
        .map(|s| SpanFacts {
            span_id: s.span_id,
            parent_span_id: s.parent_span_id,
            scope_name: &s.scope_name,
            start: s.start,
            end: s.end,
            model: s.response_model.as_deref().or(s.request_model.as_deref()),
            response_id: s.response_id.as_deref(),
            usage: (!s.usage.is_empty()).then_some([
                s.usage.input,
                s.usage.output,
                s.usage.cache_read,
                s.usage.cache_write,
                s.usage.reasoning,
            ]),
            session_id: s.session_id.as_deref(),
            user_id: s.user_id.as_deref(),
            model_call: s.span_type.is_model_call(),
        })
        .collect()
}

pub fn calls_from_rows(rows: &[SpanRow]) -> Calls {
    calls_into(rows, Vec::new())
}

/// As `calls_from_rows`, the calls pushed onto `calls` (empty, with room to reuse).
fn calls_into(rows: &[SpanRow], mut calls: Vec<LlmCall>) -> Calls {
    // Grouped by trace by sorting row numbers, not the rows (hundreds of bytes each);
    // stable, so a trace's spans keep their order.
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_by_key(|&i| rows[i as usize].trace_id);
    // At most a call a row; capacity never written is never faulted in, and grown by
    // doubling the calls would be copied to fresh pages again and again.
    calls.reserve(rows.len());
    let mut out = Calls {
        calls,
        ..Default::default()
    };
    for group in order.chunk_by(|&a, &b| rows[a as usize].trace_id == rows[b as usize].trace_id) {
        let mut spans: Vec<&SpanRow> = group.iter().map(|&i| &rows[i as usize]).collect();
        let trace_id = spans[0].trace_id;
        // One span per id, the first read, as a store keeps it: dumps read directly
        // must count what their import would.
        let mut first: foldhash::HashMap<SpanId, &SpanRow> = Default::default();
        spans.retain(|s| match first.get(&s.span_id) {
            None => {
                first.insert(s.span_id, s);
                true
            }
            Some(kept) => {
                out.repeated_span_ids += 1;
                out.repeated_span_ids_differing += u64::from(!kept.same_content(s));
                false
            }
        });
        let facts = facts_of(&spans);
        let a = attribute(&facts);
        if let Some(v) = &a.session_conflict {
            out.conflicts
                .push(format!("trace {trace_id}: sessions {}", v.join(", ")));
        }
        if let Some(v) = &a.user_conflict {
            out.conflicts
                .push(format!("trace {trace_id}: users {}", v.join(", ")));
        }
        let ids: foldhash::HashSet<SpanId> = spans.iter().map(|s| s.span_id).collect();
        let root = spans
            .iter()
            .filter(|s| s.parent_span_id.is_none_or(|p| !ids.contains(&p)))
            .min_by_key(|s| s.start)
            .or_else(|| spans.iter().min_by_key(|s| s.start));
        let first_call = out.calls.len();
        let mut without_usage = 0;
        let mut duplicates = Vec::new();
        for (i, s) in spans.iter().enumerate() {
            match a.verdicts[i] {
                Some(Verdict::Counts) => out.calls.push(LlmCall {
                    trace_id,
                    span_id: s.span_id,
                    root_name: root.map(|r| r.name.clone()).unwrap_or_default(),
                    service: root
                        .and_then(|r| r.service_name.clone())
                        .or_else(|| s.service_name.clone()),
                    start: s.start,
                    span_type: s.span_type,
                    provider: s.provider.clone(),
                    request_model: s.request_model.clone(),
                    response_model: s.response_model.clone(),
                    session_id: a.session[i].map(String::from),
                    user_id: a.user[i].map(String::from),
                    usage: s.usage,
                    recorded_cost_usd: s.recorded_cost_usd,
                    response_id: s.response_id.clone(),
                    previous_response_id: s.previous_response_id.clone(),
                    service_tier: s.service_tier.clone(),
                    attrs: s
                        .attrs
                        .iter()
                        .enumerate()
                        .map(|(k, v)| {
                            v.clone()
                                .or_else(|| root.and_then(|r| r.attrs.get(k).cloned().flatten()))
                        })
                        .collect(),
                }),
                Some(Verdict::HasUsageBelow) => out.set_aside_nested += 1,
                Some(Verdict::DuplicateOf(k)) => {
                    out.duplicate_pairs.push((spans[k].span_id, s.span_id));
                    duplicates.push((k, i));
                }
                _ => {
                    if s.span_type.is_model_call() {
                        without_usage += 1;
                    }
                }
            }
        }
        if without_usage > 0 {
            out.without_usage_by_trace.push((trace_id, without_usage));
        }
        // The call that counts takes what only its duplicate recorded (one
        // instrumentation may name the response model or id, the other not).
        for (kept, dup) in duplicates {
            let d = &spans[dup];
            if let Some(c) = out.calls[first_call..]
                .iter_mut()
                .find(|c| c.span_id == spans[kept].span_id)
            {
                c.response_model = c.response_model.take().or_else(|| d.response_model.clone());
                c.response_id = c.response_id.take().or_else(|| d.response_id.clone());
                c.previous_response_id = c
                    .previous_response_id
                    .take()
                    .or_else(|| d.previous_response_id.clone());
                c.provider = c.provider.take().or_else(|| d.provider.clone());
                c.service_tier = c.service_tier.take().or_else(|| d.service_tier.clone());
                // And each count only the duplicate has (a cache-write or 1-hour count
                // one instrumentation records and the other not): the call's richest
                // reading, field by field. Both are already inclusive.
                let mut counts = c.usage.counts();
                for (mine, theirs) in counts.iter_mut().zip(d.usage.counts()) {
                    *mine = mine.or(theirs);
                }
                c.usage = Usage::from_counts(counts);
            }
        }
    }
    out
}

/// A count's column (`Usage::COLUMNS`), or nulls in a table written before the count
/// had a column: the count is missing there.
pub fn count_column(schema: &Schema, name: &str) -> Expr {
    if schema.contains(name) {
        col(name)
    } else {
        lit(NULL).cast(DataType::Int64).alias(name)
    }
}

/// Every span of the store as reports read it; `traces` limits it to some traces.
pub fn load_rows(
    store: &Store,
    traces: Option<&HashSet<TraceId>>,
) -> Result<Vec<SpanRow>, StoreError> {
    load_rows_with(store, traces, &[])
}

/// Like `load_rows`, also reading the named attributes of every span.
pub fn load_rows_with<S: std::hash::BuildHasher + Sync>(
    store: &Store,
    traces: Option<&HashSet<TraceId, S>>,
    attr_keys: &[String],
) -> Result<Vec<SpanRow>, StoreError> {
    let lf = match traces {
        Some(set) => store.scan_spans_near(&set.iter().copied().collect::<Vec<_>>())?,
        None => store.scan_spans()?,
    };
    let Some(mut lf) = lf else {
        return Ok(Vec::new());
    };
    let schema = lf.collect_schema()?;
    let counts = Usage::COLUMNS.map(|c| count_column(&schema, c));
    let mut wanted = vec![
        col("trace_id"),
        col("span_id"),
        col("parent_span_id"),
        col("name"),
        col("scope_name"),
        col("service_name"),
        col("start_time_unix_nano"),
        col("end_time_unix_nano"),
        col("span_type"),
        col("provider"),
        col("request_model"),
        col("response_model"),
        col("session_id"),
        col("user_id"),
        col("recorded_cost_usd"),
        col("response_id"),
        col("previous_response_id"),
        col("service_tier"),
        // The raw attributes are the bulk of the store: read only when asked for.
        if attr_keys.is_empty() {
            lit(NULL).cast(DataType::String).alias("attributes")
        } else {
            col("attributes")
        },
    ];
    wanted.extend(counts);
    let df = lf.select(wanted).collect()?;
    let s = |n: &str| -> PolarsResult<StringChunked> { Ok(df.column(n)?.str()?.clone()) };
    let i = |n: &str| -> PolarsResult<Int64Chunked> { Ok(df.column(n)?.i64()?.clone()) };
    let (trace, span, parent, name, scope, service) = (
        s("trace_id")?,
        s("span_id")?,
        s("parent_span_id")?,
        s("name")?,
        s("scope_name")?,
        s("service_name")?,
    );
    let (start, end) = (i("start_time_unix_nano")?, i("end_time_unix_nano")?);
    let (ty, provider, req, resp, session, user) = (
        s("span_type")?,
        s("provider")?,
        s("request_model")?,
        s("response_model")?,
        s("session_id")?,
        s("user_id")?,
    );
    let tokens: Vec<Int64Chunked> = Usage::COLUMNS
        .iter()
        .map(|c| i(c))
        .collect::<PolarsResult<_>>()?;
    let cost = df.column("recorded_cost_usd")?.f64()?.clone();
    let (rid, prev, tier) = (
        s("response_id")?,
        s("previous_response_id")?,
        s("service_tier")?,
    );
    let attributes = s("attributes")?;
    let own = |c: &StringChunked, k: usize| c.get(k).map(str::to_string);
    // Rows are built on every core; `collect` keeps their order.
    use rayon::prelude::*;
    let rows = (0..df.height())
        .into_par_iter()
        .with_min_len(4096)
        .filter_map(|k| {
            // The store writes only ids it read as valid; anything else is not a span of it.
            let Some(Ok(t)) = trace.get(k).map(TraceId::parse) else {
                return None;
            };
            if traces.is_some_and(|set| !set.contains(&t)) {
                return None;
            }
            let Some(Ok(span_id)) = span.get(k).map(SpanId::parse) else {
                return None;
            };
            Some(SpanRow {
                trace_id: t,
                span_id,
                parent_span_id: parent
                    .get(k)
                    .and_then(|p| SpanId::parse_parent(p).ok().flatten()),
                name: name.get(k).unwrap_or_default().to_string(),
                scope_name: scope.get(k).unwrap_or_default().to_string(),
                service_name: own(&service, k),
                start: start.get(k).unwrap_or(0),
                end: end.get(k).unwrap_or(0),
                span_type: SpanType::parse(ty.get(k).unwrap_or("other")),
                provider: own(&provider, k),
                request_model: own(&req, k),
                response_model: own(&resp, k),
                session_id: own(&session, k),
                user_id: own(&user, k),
                usage: Usage::from_counts(std::array::from_fn(|f| tokens[f].get(k))),
                recorded_cost_usd: cost.get(k),
                response_id: own(&rid, k),
                previous_response_id: own(&prev, k),
                service_tier: own(&tier, k),
                attrs: if attr_keys.is_empty() {
                    Vec::new()
                } else {
                    pick_attrs(attributes.get(k).unwrap_or("{}"), attr_keys)
                },
            })
        });
    Ok(rows.collect())
}

/// The named attributes of a span's stored attribute JSON, as text.
fn pick_attrs(json: &str, keys: &[String]) -> Vec<Option<String>> {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(json) else {
        return vec![None; keys.len()];
    };
    keys.iter()
        .map(|k| {
            m.get(k).and_then(|v| match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            })
        })
        .collect()
}

/// A span and its normalized view, as reports read it.
pub fn row_from_normalized(
    s: &crate::ingest::raw::RawSpan,
    n: crate::semconv::model::Normalized,
    attr_keys: &[String],
) -> SpanRow {
    let a = crate::semconv::attrs::Attrs(&s.attributes);
    SpanRow {
        trace_id: s.trace_id,
        span_id: s.span_id,
        parent_span_id: s.parent_span_id,
        name: s.name.clone(),
        scope_name: s.scope.name.clone(),
        service_name: s.resource.service_name().map(str::to_string),
        start: s.start_time_unix_nano,
        end: s.end_time_unix_nano,
        span_type: n.span_type,
        provider: n.provider,
        request_model: n.request_model,
        response_model: n.response_model,
        session_id: n.session_id,
        user_id: n.user_id,
        usage: n.usage,
        recorded_cost_usd: n.recorded_cost_usd,
        response_id: n.response_id,
        previous_response_id: n.previous_response_id,
        service_tier: n.service_tier,
        attrs: attr_keys
            .iter()
            .map(|k| {
                a.get(k)
                    .and_then(crate::semconv::attrs::as_json)
                    .map(|v| match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(span: u8, scope: &str, usage: Usage) -> SpanRow {
        SpanRow {
            trace_id: TraceId([7; 16]),
            span_id: SpanId([span; 8]),
            parent_span_id: None,
            name: "chat".into(),
            scope_name: scope.into(),
            service_name: None,
            start: 1_000,
            end: 2_000,
            span_type: SpanType::Llm,
            provider: Some("anthropic".into()),
            request_model: Some("claude-sonnet-4-5".into()),
            response_model: None,
            session_id: None,
            user_id: None,
            usage,
            recorded_cost_usd: None,
            response_id: None,
            previous_response_id: None,
            service_tier: None,
            attrs: vec![],
        }
    }

    /// OpenInference next to the anthropic SDK's own tracing: one call, two spans; the
    /// SDK's has the cache-write count, OpenInference's not.
    #[test]
    fn a_duplicate_fills_the_counts_the_kept_span_lacks() {
        let base = Usage {
            input: Some(5000),
            output: Some(10),
            ..Default::default()
        };
        let richer = Usage {
            cache_write: Some(4000),
            cache_write_1h: Some(1000),
            ..base
        };
        let calls = calls_from_rows(&[
            row(1, "openinference.instrumentation.anthropic", base),
            row(2, "com.anthropic.sdk.python", richer),
        ]);
        assert_eq!(calls.calls.len(), 1, "one call, counted once");
        assert_eq!(calls.calls[0].usage, richer);
        assert_eq!(calls.duplicate_pairs.len(), 1);
    }
}
