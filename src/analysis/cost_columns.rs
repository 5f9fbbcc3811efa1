//! The cost report over a calls table, read as columns: polars scans only the columns
//! the report needs, with its filters pushed into the scan, and one pass sums the calls
//! per group and per price class (model, provider, service tier, day, long-context
//! bracket) without copying a value. Only those sums are priced. Tokens are clamped per
//! call first, by the function that bills a call alone, so the sums cost what the calls
//! cost one by one and the report equals the one `ReportBuilder` makes call by call.

use super::calls_view::CallsPart;
use super::cost_report::{
    CallFilter, CostReport, Dim, FallbackPriced, Metrics, PriceCache, RecordedVsComputed,
    ReportError, UnpricedModels, time_key,
};
use crate::ingest::ids::TraceId;
use crate::pricing::Pricing;
use crate::pricing::cost::{Billable, cost_at, day_of, rates_for};
use crate::pricing::table::Rates;
use crate::semconv::model::Usage;
use crate::store::arrays::{self, BinaryViewArray, Chunk, PrimitiveArray, Utf8ViewArray, value};
use polars::prelude::*;
#[cfg(test)]
use rust_decimal::Decimal;
use std::collections::HashMap;

const NANOS_PER_HOUR: i64 = 3_600_000_000_000;
const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

/// The calls-table columns a report needs.
pub fn columns_for(group_by: &[Dim], filter: &CallFilter) -> Vec<&'static str> {
    let mut cols = vec![
        "trace_id",
        "start_time_unix_nano",
        "recorded_cost_usd",
        "provider",
        "request_model",
        "response_model",
        "service_tier",
    ];
    cols.extend(Usage::COLUMNS);
    let mut add = |c: &'static str| {
        if !cols.contains(&c) {
            cols.push(c);
        }
    };
    for d in group_by {
        if let Some(c) = text_column(d) {
            add(c);
        }
    }
    for (c, wanted) in [
        ("session_id", &filter.session),
        ("user_id", &filter.user),
        ("service", &filter.service),
    ] {
        if wanted.is_some() {
            add(c);
        }
    }
    cols
}

/// The text column a dimension groups on, if it is one.
fn text_column(d: &Dim) -> Option<&'static str> {
    Some(match d {
        Dim::Session => "session_id",
        Dim::User => "user_id",
        Dim::Service => "service",
        Dim::Name => "root_name",
        Dim::Provider => "provider",
        _ => return None,
    })
}

/// The filters that are plain comparisons, for the scan; `--model` is a glob, tried
/// in the pass once per model name.
fn keeps(filter: &CallFilter) -> Expr {
    let mut keep = lit(true);
    let start = || col("start_time_unix_nano");
    if let Some(s) = filter.since {
        keep = keep.and(start().gt_eq(lit(s)));
    }
    if let Some(u) = filter.until {
        keep = keep.and(start().lt(lit(u)));
    }
    for (column, value) in [
        ("service", &filter.service),
        ("session_id", &filter.session),
        ("user_id", &filter.user),
    ] {
        if let Some(v) = value {
            keep = keep.and(col(column).eq(lit(v.as_str())));
        }
    }
    if let Some(t) = &filter.trace {
        keep = keep.and(match TraceId::parse(t) {
            Ok(id) => col("trace_id").eq(lit(Scalar::new(
                DataType::Binary,
                AnyValue::BinaryOwned(id.0.to_vec()),
            ))),
            Err(_) => lit(false),
        });
    }
    keep
}

/// The start of the day or hour (`unit`) that contains `t`, all in ns since the epoch.
fn floor_to(t: i64, unit: i64) -> i64 {
    t - t.rem_euclid(unit)
}

/// Every long-context threshold of the pricing table: calls past the same ones are
/// priced at the same tier of any model.
fn thresholds(pricing: &Pricing) -> Vec<i64> {
    let mut t: Vec<i64> = pricing
        .entries()
        .iter()
        .flat_map(|e| e.prices.iter())
        .flat_map(|v| v.tiers.iter().map(|t| t.above_input_tokens))
        .collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// Calls that are priced alike: same entry, same day's prices, same service tier, and
/// past the same long-context thresholds.
struct Class {
    model: Option<String>,
    provider: Option<String>,
    service_tier: Option<String>,
    day: i64,
    /// The prompt size of one of its calls: all pass the same thresholds.
    prompt: i64,
    /// Whether its calls carry a recorded cost, to set it against the computed one.
    recorded: bool,
}

/// Sums of the calls of one group in one price class.
#[derive(Default)]
struct Cell {
    group: u32,
    class: u32,
    /// Calls and tokens; the cost is the billable counts', priced at the end.
    sums: Metrics,
    billable: Billable,
}

/// One value of a group key, borrowed from the columns.
#[derive(Clone, Copy)]
enum Part<'a> {
    Text(Option<&'a str>),
    Trace(TraceId),
    Instant(i64),
}

impl Part<'_> {
    /// Appends an unambiguous encoding, to look the group up without allocating.
    fn encode(&self, buf: &mut Vec<u8>) {
        match self {
            Part::Text(None) => buf.push(0),
            Part::Text(Some(s)) => {
                buf.push(1);
                buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
                buf.extend_from_slice(s.as_bytes());
            }
            Part::Trace(t) => buf.extend_from_slice(&t.0),
            Part::Instant(n) => buf.extend_from_slice(&n.to_le_bytes()),
        }
    }

    fn text(&self, d: &Dim) -> Option<String> {
        match self {
            Part::Text(s) => s.map(String::from),
            Part::Trace(t) => Some(t.to_string()),
            Part::Instant(n) => Some(time_key(d, *n)),
        }
    }
}

/// The calls of one chunk of a frame (its columns' chunks aligned), row by row, each
/// value read by position and borrowed from its array (see `store::arrays`).
struct Rows<'a> {
    at: usize,
    trace: &'a BinaryViewArray,
    request_model: &'a Utf8ViewArray,
    response_model: &'a Utf8ViewArray,
    provider: &'a Utf8ViewArray,
    service_tier: &'a Utf8ViewArray,
    start: &'a PrimitiveArray<i64>,
    /// One per count, in `Usage::COLUMNS` order.
    tokens: Vec<&'a PrimitiveArray<i64>>,
    recorded: &'a PrimitiveArray<f64>,
    /// The text column of each dimension grouped by, if it is one.
    dims: Vec<Option<&'a Utf8ViewArray>>,
}

struct Row<'a> {
    trace: Option<&'a [u8]>,
    request_model: Option<&'a str>,
    response_model: Option<&'a str>,
    provider: Option<&'a str>,
    service_tier: Option<&'a str>,
    start: Option<i64>,
    usage: Usage,
    recorded: Option<f64>,
}

impl<'a> Rows<'a> {
    /// The rows of chunk `k` of `df`, whose columns' chunks are aligned.
    fn chunk(df: &'a DataFrame, group_by: &[Dim], k: usize) -> PolarsResult<Rows<'a>> {
        let c = Chunk::new(df, k);
        let trace = c.binary("trace_id")?;
        Ok(Rows {
            at: 0,
            trace,
            request_model: c.text("request_model")?,
            response_model: c.text("response_model")?,
            provider: c.text("provider")?,
            service_tier: c.text("service_tier")?,
            start: c.int("start_time_unix_nano")?,
            tokens: Usage::COLUMNS
                .iter()
                .map(|n| c.int(n))
                .collect::<PolarsResult<_>>()?,
            recorded: c.float("recorded_cost_usd")?,
            dims: group_by
                .iter()
                .map(|d| text_column(d).map(|n| c.text(n)).transpose())
                .collect::<PolarsResult<_>>()?,
        })
    }

    /// The next row, with the dimensions' text values in `dims` (`None` for those that
    /// are not text columns).
    fn next(&mut self, dims: &mut Vec<Option<&'a str>>) -> Option<Row<'a>> {
        let i = self.at;
        if i >= self.trace.len() {
            return None;
        }
        self.at += 1;
        let counts = std::array::from_fn(|c| value(self.tokens[c], i));
        dims.clear();
        dims.extend(self.dims.iter().map(|d| d.and_then(|d| d.get(i))));
        Some(Row {
            trace: self.trace.get(i),
            request_model: self.request_model.get(i),
            response_model: self.response_model.get(i),
            provider: self.provider.get(i),
            service_tier: self.service_tier.get(i),
            start: value(self.start, i),
            usage: Usage::from_counts(counts),
            recorded: value(self.recorded, i),
        })
    }
}

/// The calls summed per group and price class.
struct Summed {
    /// Each group's key as text, by group number, and the numbers by encoded key.
    keys: Vec<Vec<Option<String>>>,
    group_ids: foldhash::HashMap<Vec<u8>, u32>,
    traces_per_group: Vec<u64>,
    classes: Vec<Class>,
    cells: Vec<Cell>,
    traces: foldhash::HashSet<TraceId>,
    /// The first and the last trace, with their groups: the one trace two halves of a
    /// table may share.
    first: Option<(TraceId, Vec<u32>)>,
    last: Option<(TraceId, Vec<u32>)>,
    /// The start of the newest call summed.
    newest: Option<i64>,
    /// The (group, trace) pairs of the traces whose calls are in several tables.
    split_pairs: foldhash::HashSet<(u32, TraceId)>,
}

/// Traces whose calls may lie apart: in the tables of several days of one import (a
/// trace that crosses midnight). They are counted by (group, trace) pairs.
pub type SplitTraces = foldhash::HashSet<TraceId>;

/// Sums calls a batch of rows at a time. Unless told to keep `every_pair`, it relies
/// on each trace's calls being adjacent, but for the `split` ones, and says so as soon
/// as another trace comes back.
struct Summer<'f> {
    group_by: &'f [Dim],
    filter: &'f CallFilter,
    thresholds: &'f [i64],
    every_pair: bool,
    split: &'f SplitTraces,
    group_ids: KeyIds,
    keys: Vec<Vec<Option<String>>>,
    traces_per_group: Vec<u64>,
    class_ids: KeyIds,
    classes: Vec<Class>,
    cell_ids: foldhash::HashMap<(u32, u32), u32>,
    cells: Vec<Cell>,
    pairs: foldhash::HashSet<(u32, TraceId)>,
    all_traces: foldhash::HashSet<TraceId>,
    model_kept: HashMap<String, bool>,
    // Neighbouring calls mostly share their trace, group and price class: the last of
    // each is compared before any hashing.
    trace: Option<TraceId>,
    trace_groups: Vec<u32>,
    first: Option<(TraceId, Vec<u32>)>,
    last_cell: Option<((u32, u32), u32)>,
    newest: Option<i64>,
}

#[derive(Debug)]
struct TraceCameBack;

/// Numbers encoded keys in the order they are first seen. Neighbouring calls mostly
/// share their keys, so the last key is compared before any hashing.
#[derive(Default)]
struct KeyIds {
    ids: foldhash::HashMap<Vec<u8>, u32>,
    last_key: Vec<u8>,
    last: Option<u32>,
}

impl KeyIds {
    /// The key's number, and whether it was first seen now.
    fn id(&mut self, key: &[u8]) -> (u32, bool) {
        if let Some(id) = self.last
            && key == self.last_key.as_slice()
        {
            return (id, false);
        }
        let next = self.ids.len() as u32;
        let (id, new) = match self.ids.get(key) {
            Some(id) => (*id, false),
            None => {
                self.ids.insert(key.to_vec(), next);
                (next, true)
            }
        };
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.last = Some(id);
        (id, new)
    }
}

impl<'f> Summer<'f> {
    fn new(
        group_by: &'f [Dim],
        filter: &'f CallFilter,
        thresholds: &'f [i64],
        every_pair: bool,
        split: &'f SplitTraces,
    ) -> Self {
        Summer {
            group_by,
            filter,
            thresholds,
            every_pair,
            split,
            group_ids: KeyIds::default(),
            keys: Vec::new(),
            traces_per_group: Vec::new(),
            class_ids: KeyIds::default(),
            classes: Vec::new(),
            cell_ids: Default::default(),
            cells: Vec::new(),
            pairs: Default::default(),
            all_traces: Default::default(),
            model_kept: HashMap::new(),
            trace: None,
            trace_groups: Vec::new(),
            first: None,
            last_cell: None,
            newest: None,
        }
    }

    fn keeps_model(&mut self, model: Option<&str>) -> bool {
        let Some(glob) = &self.filter.model else {
            return true;
        };
        let Some(m) = model else {
            return false;
        };
        if let Some(k) = self.model_kept.get(m) {
            return *k;
        }
        let k = glob.is_match(m.to_ascii_lowercase());
        self.model_kept.insert(m.to_string(), k);
        k
    }

    fn add(&mut self, mut rows: Rows<'_>) -> Result<(), TraceCameBack> {
        let mut buf = Vec::with_capacity(64);
        let mut parts: Vec<Part> = Vec::with_capacity(self.group_by.len());
        let mut dim_texts: Vec<Option<&str>> = Vec::with_capacity(self.group_by.len());
        while let Some(row) = rows.next(&mut dim_texts) {
            let Some(t) = row.trace.and_then(TraceId::from_bytes) else {
                continue;
            };
            let model = row.response_model.or(row.request_model);
            if !self.keeps_model(model) {
                continue;
            }
            let begun = row.start.unwrap_or(0);
            self.newest = self.newest.max(row.start);
            parts.clear();
            for (d, text) in self.group_by.iter().zip(&dim_texts) {
                parts.push(match (d, text_column(d)) {
                    (_, Some(_)) => Part::Text(*text),
                    (Dim::Trace, _) => Part::Trace(t),
                    (Dim::Model, _) => Part::Text(model),
                    (Dim::Hour, _) => Part::Instant(floor_to(begun, NANOS_PER_HOUR)),
                    _ => Part::Instant(floor_to(begun, NANOS_PER_DAY)),
                });
            }
            buf.clear();
            parts.iter().for_each(|p| p.encode(&mut buf));
            let group = self.group_of(&buf, &parts);
            self.count_trace(t, group)?;

            let usage = row.usage;
            let prompt = usage.input.unwrap_or(0).max(0);
            let day = floor_to(begun, NANOS_PER_DAY);
            let bracket = self.thresholds.iter().filter(|t| prompt > **t).count();
            buf.clear();
            for p in [
                Part::Text(model),
                Part::Text(row.provider),
                Part::Text(row.service_tier),
                Part::Instant(day),
                Part::Instant(bracket as i64),
                Part::Instant(i64::from(row.recorded.is_some())),
            ] {
                p.encode(&mut buf);
            }
            let class = self.class_of(&buf, || Class {
                model: model.map(String::from),
                provider: row.provider.map(String::from),
                service_tier: row.service_tier.map(String::from),
                day,
                prompt,
                recorded: row.recorded.is_some(),
            });
            let cell = self.cell_of(group, class);
            let c = &mut self.cells[cell as usize];
            c.sums.add_call(&usage, row.recorded);
            if let Some(s) = row.start {
                c.sums.add_start(s);
            }
            c.billable.add(&Billable::of(&usage));
        }
        Ok(())
    }

    fn group_of(&mut self, key: &[u8], parts: &[Part]) -> u32 {
        let (g, new) = self.group_ids.id(key);
        if new {
            self.keys.push(
                parts
                    .iter()
                    .zip(self.group_by)
                    .map(|(p, d)| p.text(d))
                    .collect(),
            );
            self.traces_per_group.push(0);
        }
        g
    }

    fn count_trace(&mut self, t: TraceId, group: u32) -> Result<(), TraceCameBack> {
        if self.trace != Some(t) {
            if let Some(previous) = self.trace
                && self.first.is_none()
            {
                self.first = Some((previous, self.trace_groups.clone()));
            }
            self.trace = Some(t);
            self.trace_groups.clear();
            if !self.all_traces.insert(t) && !self.every_pair && !self.split.contains(&t) {
                return Err(TraceCameBack);
            }
        }
        if !self.trace_groups.contains(&group) {
            self.trace_groups.push(group);
            let by_pairs = self.every_pair || self.split.contains(&t);
            if !by_pairs || self.pairs.insert((group, t)) {
                self.traces_per_group[group as usize] += 1;
            }
        }
        Ok(())
    }

    fn class_of(&mut self, key: &[u8], class: impl FnOnce() -> Class) -> u32 {
        let (c, new) = self.class_ids.id(key);
        if new {
            self.classes.push(class());
        }
        c
    }

    fn cell_of(&mut self, group: u32, class: u32) -> u32 {
        if let Some((k, c)) = self.last_cell
            && k == (group, class)
        {
            return c;
        }
        let cells = &mut self.cells;
        let c = *self.cell_ids.entry((group, class)).or_insert_with(|| {
            cells.push(Cell {
                group,
                class,
                ..Default::default()
            });
            cells.len() as u32 - 1
        });
        self.last_cell = Some(((group, class), c));
        c
    }

    fn finish(self) -> Summed {
        let last = self.trace.map(|t| (t, self.trace_groups));
        Summed {
            keys: self.keys,
            group_ids: self.group_ids.ids,
            traces_per_group: self.traces_per_group,
            classes: self.classes,
            cells: self.cells,
            traces: self.all_traces,
            first: self.first.or_else(|| last.clone()),
            last,
            newest: self.newest,
            split_pairs: if self.every_pair {
                Default::default()
            } else {
                self.pairs
            },
        }
    }
}

/// Sums the calls of `parts`, collected one at a time so their memory is reused;
/// `None` when a trace comes back and `every_pair` is not kept.
fn sum_parts(
    parts: &[CallsPart],
    group_by: &[Dim],
    filter: &CallFilter,
    thresholds: &[i64],
    every_pair: bool,
    split: &SplitTraces,
) -> PolarsResult<Option<Summed>> {
    let mut summer = Summer::new(group_by, filter, thresholds, every_pair, split);
    // At most a group and a cell a call. Room never written is never faulted in, while
    // vectors grown by doubling are copied to fresh pages again and again (memory
    // freed goes back to the system at once). Past a few million calls they grow as
    // usual: address space is not unbounded either, and a refusal is only a slower sum.
    let calls: u64 = parts.iter().map(|p| p.calls).sum();
    let room = usize::try_from(calls).unwrap_or(usize::MAX).min(1 << 22);
    let _ = summer.cells.try_reserve(room);
    let _ = summer.keys.try_reserve(room);
    let _ = summer.traces_per_group.try_reserve(room);
    for part in parts {
        let mut df = part.frame.clone().filter(keeps(filter)).collect()?;
        for k in 0..arrays::aligned(&mut df) {
            if summer.add(Rows::chunk(&df, group_by, k)?).is_err() {
                return Ok(None);
            }
        }
    }
    Ok(Some(summer.finish()))
}

/// Where to cut `parts` (at least two) into two runs of about as many calls: the part
/// boundary nearest half of them, neither run empty.
fn middle_of(parts: &[CallsPart]) -> usize {
    let all: u128 = parts.iter().map(|p| u128::from(p.calls)).sum();
    let mut before = 0u128;
    let mut best = (u128::MAX, 1);
    for (i, p) in parts.iter().enumerate().take(parts.len() - 1) {
        before += u128::from(p.calls);
        let off = (2 * before).abs_diff(all);
        if off < best.0 {
            best = (off, i + 1);
        }
    }
    best.1
}

/// Sums the first and the second half of the calls on two threads. `None` when a trace
/// comes back, within a half or across them.
fn sum_halves(
    parts: &[CallsPart],
    group_by: &[Dim],
    filter: &CallFilter,
    thresholds: &[i64],
    pricing: &Pricing,
    split: &SplitTraces,
) -> PolarsResult<Option<Priced>> {
    let middle = middle_of(parts);
    let (a, b) = parts.split_at(middle);
    let (a, b) = std::thread::scope(|scope| {
        let first = scope.spawn(|| sum_parts(a, group_by, filter, thresholds, false, split));
        let second = sum_parts(b, group_by, filter, thresholds, false, split);
        (first.join(), second)
    });
    let a = a.map_err(|_| polars_err!(ComputeError: "a summing thread stopped"))?;
    let (Some(a), Some(b)) = (a?, b?) else {
        return Ok(None);
    };
    Ok(price(a, pricing).merge(price(b, pricing), split))
}

/// A table's groups with their priced sums.
struct Priced {
    keys: Vec<Vec<Option<String>>>,
    group_ids: foldhash::HashMap<Vec<u8>, u32>,
    metrics: Vec<Metrics>,
    unpriced: UnpricedModels,
    fallbacks: FallbackPriced,
    traces: foldhash::HashSet<TraceId>,
    first: Option<(TraceId, Vec<u32>)>,
    last: Option<(TraceId, Vec<u32>)>,
    newest: Option<i64>,
    recorded: RecordedVsComputed,
    split_pairs: foldhash::HashSet<(u32, TraceId)>,
}

/// Prices each cell at its class's rates; a class without them is unpriced.
fn price(summed: Summed, pricing: &Pricing) -> Priced {
    let mut prices = PriceCache::new(pricing);
    let rates: Vec<Option<(Rates, Option<std::sync::Arc<str>>)>> = summed
        .classes
        .iter()
        .map(|c| {
            let m = prices.entry(c.model.as_deref()?, c.provider.as_deref())?;
            rates_for(m.entry, day_of(c.day), c.prompt, c.service_tier.as_deref())
                .map(|a| (a.rates, m.fallback))
        })
        .collect();
    let mut fallbacks = FallbackPriced::default();
    let mut metrics: Vec<Metrics> = summed
        .traces_per_group
        .iter()
        .map(|t| Metrics {
            traces: *t,
            ..Default::default()
        })
        .collect();
    let mut unpriced = UnpricedModels::default();
    let mut recorded = RecordedVsComputed::default();
    for mut c in summed.cells {
        let class = &summed.classes[c.class as usize];
        match &rates[c.class as usize] {
            Some((r, fallback)) => {
                match cost_at(r, &c.billable) {
                    Some(usd) => c.sums.cost_usd = usd,
                    None => {
                        c.sums.overflow.get_or_insert("cost_usd");
                    }
                }
                if class.recorded {
                    recorded.add(
                        class.model.as_deref(),
                        c.sums.calls,
                        c.sums.recorded_cost_usd.unwrap_or_default(),
                        c.sums.cost_usd,
                    );
                }
                if let Some(reason) = fallback {
                    c.sums.fallback_priced_calls = c.sums.calls;
                    let model = summed.classes[c.class as usize].model.as_deref();
                    fallbacks.add(model.unwrap_or_default(), reason, c.sums.calls);
                }
            }
            None => {
                c.sums.unpriced_calls = c.sums.calls;
                let model = summed.classes[c.class as usize].model.as_deref();
                unpriced.add(
                    model,
                    c.sums.calls,
                    c.sums.input_tokens,
                    c.sums.output_tokens,
                );
            }
        }
        metrics[c.group as usize].absorb(&c.sums);
    }
    Priced {
        keys: summed.keys,
        group_ids: summed.group_ids,
        metrics,
        unpriced,
        fallbacks,
        traces: summed.traces,
        first: summed.first,
        last: summed.last,
        newest: summed.newest,
        recorded,
        split_pairs: summed.split_pairs,
    }
}

impl Priced {
    /// Adds the groups of the table's next half. Only the trace at the seam and the
    /// `split` ones may be in both: each counts once in each group it has on both
    /// sides. `None` if any other trace is in both.
    fn merge(mut self, other: Priced, split: &SplitTraces) -> Option<Priced> {
        let seam = match (&self.last, &other.first) {
            (Some((a, ga)), Some((b, gb))) if a == b && !split.contains(a) => {
                Some((*a, ga.clone(), gb.clone()))
            }
            _ => None,
        };
        let seam_trace = seam.as_ref().map(|(t, _, _)| *t);
        if other
            .traces
            .iter()
            .any(|t| Some(*t) != seam_trace && !split.contains(t) && self.traces.contains(t))
        {
            return None;
        }
        let (mut keys, mut metrics) = (other.keys, other.metrics);
        self.keys.reserve(keys.len());
        self.metrics.reserve(keys.len());
        // Where each of the other half's groups goes, by its group number.
        let mut moved = vec![0usize; keys.len()];
        for (encoded, theirs) in other.group_ids {
            let theirs = theirs as usize;
            let m = std::mem::take(&mut metrics[theirs]);
            moved[theirs] = match self.group_ids.get(&encoded) {
                Some(&i) => {
                    let mine = &mut self.metrics[i as usize];
                    mine.absorb(&m);
                    mine.traces += m.traces;
                    i as usize
                }
                None => {
                    let i = self.keys.len();
                    self.group_ids.insert(encoded, i as u32);
                    self.keys.push(std::mem::take(&mut keys[theirs]));
                    self.metrics.push(m);
                    i
                }
            };
        }
        if let Some((_, mine, theirs)) = &seam {
            for g in theirs {
                let i = moved[*g as usize];
                if mine.iter().any(|m| *m as usize == i) {
                    self.metrics[i].traces -= 1;
                }
            }
        }
        for (g, t) in other.split_pairs {
            let i = moved[g as usize];
            if !self.split_pairs.insert((i as u32, t)) {
                self.metrics[i].traces -= 1;
            }
        }
        self.unpriced.absorb(other.unpriced);
        self.fallbacks.absorb(other.fallbacks);
        self.recorded.absorb(other.recorded);
        self.traces.extend(other.traces);
        self.newest = self.newest.max(other.newest);
        self.last = other.last.map(|(t, groups)| {
            (
                t,
                groups.iter().map(|g| moved[*g as usize] as u32).collect(),
            )
        });
        Some(self)
    }
}

/// The report over `calls` (a frame of `columns_for`'s columns). The filter's
/// attribute equalities are not known here: reports with those read the spans.
pub fn report(
    calls: &[CallsPart],
    split: &SplitTraces,
    pricing: &Pricing,
    group_by: Vec<Dim>,
    filter: &CallFilter,
) -> Result<CostReport, ReportError> {
    if group_by.iter().any(|d| matches!(d, Dim::Attr(_))) {
        return Err(polars_err!(InvalidOperation: "attributes are not in calls tables").into());
    }
    let thresholds = thresholds(pricing);
    let fast = match calls.len() {
        0 | 1 => sum_parts(calls, &group_by, filter, &thresholds, false, split)?
            .map(|s| price(s, pricing)),
        _ => sum_halves(calls, &group_by, filter, &thresholds, pricing, split)?,
    };
    let priced = match fast {
        Some(p) => p,
        // A trace comes back only in a table not written by an import; the pass starts
        // over and keeps every (group, trace) pair.
        None => price(
            sum_parts(calls, &group_by, filter, &thresholds, true, split)?
                .expect("a pass that keeps every pair does not stop"),
            pricing,
        ),
    };
    let Priced {
        keys,
        mut metrics,
        unpriced,
        fallbacks,
        traces,
        newest,
        recorded,
        ..
    } = priced;
    let total_traces = traces.len() as u64;

    let mut total = Metrics::default();
    for m in &mut metrics {
        m.cost_usd = m.cost_usd.normalize();
        total.absorb(m);
    }
    total.traces = total_traces;
    total.cost_usd = total.cost_usd.normalize();
    let rows: Vec<(Vec<Option<String>>, Metrics)> = keys.into_iter().zip(metrics).collect();
    Ok(CostReport {
        group_by,
        rows,
        total,
        unpriced_models: unpriced.into_vec(),
        fallback_priced: fallbacks.into_vec(),
        newest_call: newest,
        recorded_mismatches: recorded.mismatches(),
    }
    .check_sums()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::calls::{Calls, LlmCall};
    use crate::analysis::calls_view::to_frame;
    use crate::analysis::cost_report::ReportBuilder;
    use crate::ingest::ids::SpanId;
    use crate::semconv::model::SpanType;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    /// Priced with a price change (gpt-4o on 2024-10-02), with a long-context tier
    /// (gemini-2.5-pro past 200k), with service tiers, and not priced at all.
    const MODELS: [Option<&str>; 6] = [
        None,
        Some("gpt-4o"),
        Some("gemini-2.5-pro"),
        Some("claude-sonnet-4-5"),
        Some("GPT-4o-mini"),
        Some("no-such-model"),
    ];
    /// 2024-10-01T00:00:00Z.
    const START: i64 = 1_727_740_800_000_000_000;

    fn tokens() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![
            Just(None),
            (-3i64..50).prop_map(Some),
            (0i64..400_000).prop_map(Some),
        ]
    }

    prop_compose! {
        fn call()(
            trace in 0u8..12,
            span in any::<u8>(),
            session in prop::option::of(0u8..4),
            user in prop::option::of(0u8..3),
            model in 0..MODELS.len(),
            request_only in any::<bool>(),
            provider in prop::option::of(prop::sample::select(vec!["openai", "gemini", "anthropic"])),
            service in prop::option::of(0u8..2),
            tier in prop::option::of(prop::sample::select(vec!["flex", "Priority", "default"])),
            tokens in prop::array::uniform9(tokens()),
            minutes in 0i64..(4 * 24 * 60),
            recorded in prop::option::of(0i64..4096),
        ) -> LlmCall {
            let model = MODELS[model].map(String::from);
            LlmCall {
                trace_id: TraceId([trace; 16]),
                span_id: SpanId([span; 8]),
                root_name: format!("root {}", trace % 3),
                service: service.map(|s| format!("service {s}")),
                start: START + minutes * 60_000_000_000,
                span_type: SpanType::parse("llm"),
                provider: provider.map(String::from),
                request_model: model.clone(),
                response_model: if request_only { None } else { model },
                session_id: session.map(|s| format!("session {s}")),
                user_id: user.map(|u| format!("user {u}")),
                usage: Usage::from_counts(tokens),
                // Sixty-fourths of a dollar add up exactly in any order.
                recorded_cost_usd: recorded.map(|r| r as f64 / 64.0),
                response_id: None,
                previous_response_id: None,
                service_tier: tier.map(String::from),
                attrs: Vec::new(),
            }
        }
    }

    fn dims() -> impl Strategy<Value = Vec<Dim>> {
        let dim = prop::sample::select(vec![
            Dim::Trace,
            Dim::Session,
            Dim::User,
            Dim::Model,
            Dim::Provider,
            Dim::Service,
            Dim::Day,
            Dim::Hour,
            Dim::Name,
        ]);
        prop::collection::vec(dim, 0..3)
    }

    prop_compose! {
        fn filter()(
            since in prop::option::of(0i64..3),
            until in prop::option::of(1i64..4),
            model in prop::option::of(prop::sample::select(vec!["gpt-4o*", "*pro", "no-*"])),
            session in prop::option::of(0u8..4),
            user in prop::option::of(0u8..3),
            service in prop::option::of(0u8..2),
            trace in prop::option::of(0u8..12),
        ) -> CallFilter {
            let day = |d: i64| START + d * NANOS_PER_DAY;
            CallFilter {
                since: since.map(day),
                until: until.map(day),
                model: model.map(|g| globset::Glob::new(g).unwrap().compile_matcher()),
                service: service.map(|s| format!("service {s}")),
                session: session.map(|s| format!("session {s}")),
                user: user.map(|u| format!("user {u}")),
                trace: trace.map(|t| TraceId([t; 16]).to_string().to_uppercase()),
                where_attrs: Vec::new(),
            }
        }
    }

    /// `calls` as a calls table read in parts of `rows`, every other part in two
    /// chunks (as a scan may give them).
    fn table_parts(calls: &[LlmCall], rows: usize) -> Vec<CallsPart> {
        let calls = Calls {
            calls: calls.to_vec(),
            ..Default::default()
        };
        let df = to_frame(&[], &calls).unwrap();
        (0..df.height())
            .step_by(rows)
            .enumerate()
            .map(|(i, o)| {
                let mut p = df.slice(o as i64, rows);
                if i % 2 == 0 && p.height() > 1 {
                    let half = p.height() / 2;
                    let mut first = p.slice(0, half);
                    first.vstack_mut(&p.slice(half as i64, usize::MAX)).unwrap();
                    assert_eq!(first.columns()[0].n_chunks(), 2);
                    p = first;
                }
                CallsPart {
                    calls: p.height() as u64,
                    frame: p.lazy(),
                }
            })
            .collect()
    }

    /// The report from the calls table equals the one made call by call, whatever the
    /// order of the calls and however the table is cut into parts.
    fn same_report(
        calls: Vec<LlmCall>,
        group_by: Vec<Dim>,
        filter: CallFilter,
        part: usize,
        split: &SplitTraces,
    ) {
        let pricing = Pricing::shipped();
        let mut builder = ReportBuilder::new(&pricing, group_by.clone(), &filter, &[]);
        calls.iter().for_each(|c| builder.add(c));
        let expected = builder.finish().unwrap();

        let parts = table_parts(&calls, part);
        let calls = Calls {
            calls,
            ..Default::default()
        };
        let mut got = report(&parts, split, &pricing, group_by, &filter).unwrap();
        let mut expected = expected;
        got.rows.sort_by(|a, b| a.0.cmp(&b.0));
        expected.rows.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got.rows, expected.rows);
        assert_eq!(got.total, expected.total);
        assert_eq!(got.unpriced_models, expected.unpriced_models);
        // First and last against the calls themselves, not only the other path.
        let kept: Vec<i64> = calls
            .calls
            .iter()
            .filter(|c| filter.keeps(c))
            .map(|c| c.start)
            .collect();
        assert_eq!(got.total.first_start, kept.iter().min().copied());
        assert_eq!(got.total.last_start, kept.iter().max().copied());
        for (key, m) in &got.rows {
            assert!(m.first_start <= m.last_start, "{key:?}");
            assert!(m.first_start >= got.total.first_start, "{key:?}");
            assert!(m.last_start <= got.total.last_start, "{key:?}");
        }
    }

    #[test]
    fn the_calls_are_cut_at_the_part_boundary_nearest_their_middle() {
        let parts = |calls: &[u64]| -> Vec<CallsPart> {
            calls
                .iter()
                .map(|&c| CallsPart {
                    frame: DataFrame::empty().lazy(),
                    calls: c,
                })
                .collect()
        };
        // The 200k-trace store's parts: 599,999 calls, 294,270 in the first six and
        // 359,806 in the first seven (the seventh is where half is passed).
        let store = [
            65_536, 65_536, 32_126, 0, 65_536, 65_536, 65_536, 62_593, 0, 0, 65_536, 65_536,
            46_528, 0,
        ];
        assert_eq!(middle_of(&parts(&store)), 6);
        assert_eq!(middle_of(&parts(&[10, 10])), 1);
        // Neither side is left without a part, whatever the counts.
        assert_eq!(middle_of(&parts(&[0, 0, 10])), 1);
        assert_eq!(middle_of(&parts(&[10, 0, 0])), 1);
        assert_eq!(middle_of(&parts(&[1, 1, 1, 100])), 3);
        assert_eq!(middle_of(&parts(&[u64::MAX, u64::MAX, u64::MAX])), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn equals_the_report_made_call_by_call(
            calls in prop::collection::vec(call(), 0..60),
            group_by in dims(),
            filter in filter(),
            part in 1usize..40,
            by_trace in any::<bool>(),
            apart in prop::option::of(0u8..12),
        ) {
            let mut calls = calls;
            // Tables written by an import hold each trace's calls together: the fast
            // path; any other order takes the one that keeps every pair. A trace whose
            // calls are in several days' tables is known to lie apart.
            let mut split = SplitTraces::default();
            if by_trace {
                calls.sort_by_key(|c| c.trace_id);
                if let Some(t) = apart {
                    let t = TraceId([t; 16]);
                    split.insert(t);
                    let (theirs, mut rest): (Vec<_>, Vec<_>) =
                        calls.into_iter().partition(|c| c.trace_id == t);
                    for (i, c) in theirs.into_iter().enumerate() {
                        let at = if i % 2 == 0 { 0 } else { rest.len() };
                        rest.insert(at, c);
                    }
                    calls = rest;
                }
            }
            same_report(calls, group_by, filter, part, &split);
        }
    }

    /// Traces split across the two halves of a table: at the seam they count once,
    /// anywhere else the report is made again in one pass.
    #[test]
    fn traces_in_both_halves_count_once() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut one = |trace: u8, session: u8| {
            let mut c = call().new_tree(&mut runner).unwrap().current();
            c.trace_id = TraceId([trace; 16]);
            c.session_id = Some(format!("session {session}"));
            c
        };
        for order in [[1, 2, 1, 3], [1, 1, 2, 2], [1, 2, 2, 1], [3, 1, 1, 1]] {
            let calls: Vec<LlmCall> = order.iter().map(|t| one(*t, 0)).collect();
            for part in 1..=3 {
                let none = SplitTraces::default();
                same_report(
                    calls.clone(),
                    vec![Dim::Session],
                    CallFilter::default(),
                    part,
                    &none,
                );
                same_report(calls.clone(), vec![], CallFilter::default(), part, &none);
            }
        }
    }

    /// A trace known to lie apart (in two days' tables) is summed in both halves and
    /// counts once per group, without the pass that keeps every pair.
    #[test]
    fn split_traces_count_once_in_each_group_on_the_fast_path() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut one = |trace: u8, session: u8| {
            let mut c = call().new_tree(&mut runner).unwrap().current();
            c.trace_id = TraceId([trace; 16]);
            c.session_id = Some(format!("session {session}"));
            c
        };
        // Trace 1 in both halves and, within the first, apart.
        let calls: Vec<LlmCall> = [(1, 0), (2, 0), (1, 1), (3, 0), (1, 0), (4, 1)]
            .iter()
            .map(|(t, s)| one(*t, *s))
            .collect();
        let split: SplitTraces = [TraceId([1; 16])].into_iter().collect();
        let parts = table_parts(&calls, 1);
        let pricing = Pricing::shipped();
        let filter = CallFilter::default();
        let group_by = [Dim::Session];
        let t = thresholds(&pricing);
        let fast = sum_halves(&parts, &group_by, &filter, &t, &pricing, &split)
            .unwrap()
            .expect("the fast path, not the pass that keeps every pair");
        let traces: std::collections::BTreeMap<String, u64> = fast
            .keys
            .iter()
            .zip(&fast.metrics)
            .map(|(k, m)| (k[0].clone().unwrap(), m.traces))
            .collect();
        // By hand: session 0 holds traces 1, 2, 3; session 1 traces 1 and 4.
        assert_eq!(
            traces,
            [("session 0".to_string(), 3), ("session 1".to_string(), 2)].into()
        );
        assert_eq!(fast.traces.len(), 4);
        // Not told, the same order is no fast path.
        let none = SplitTraces::default();
        assert!(
            sum_halves(&parts, &group_by, &filter, &t, &pricing, &none)
                .unwrap()
                .is_none()
        );
        for part in 1..=3 {
            same_report(
                calls.clone(),
                vec![Dim::Session],
                CallFilter::default(),
                part,
                &split,
            );
        }
    }

    #[test]
    fn tiers_and_clamps_are_priced_per_call() {
        let base = |input, cache_read, output, reasoning| LlmCall {
            trace_id: TraceId([1; 16]),
            span_id: SpanId([1; 8]),
            root_name: "chat".into(),
            service: None,
            start: START,
            span_type: SpanType::parse("llm"),
            provider: Some("gemini".into()),
            request_model: Some("gemini-2.5-pro".into()),
            response_model: None,
            session_id: None,
            user_id: None,
            usage: Usage {
                input: Some(input),
                output: Some(output),
                cache_read: Some(cache_read),
                reasoning: Some(reasoning),
                ..Default::default()
            },
            recorded_cost_usd: None,
            response_id: None,
            previous_response_id: None,
            service_tier: None,
            attrs: Vec::new(),
        };
        // One call past the 200k tier and one below it, a cache read larger than its
        // prompt, reasoning larger than its output: summing first would price them all
        // wrongly.
        let calls = vec![
            base(250_000, 0, 1_000, 0),
            base(150_000, 0, 1_000, 0),
            base(10, 500, 20, 0),
            base(100, 0, 10, 40),
        ];
        let pricing = Pricing::shipped();
        let filter = CallFilter::default();
        let table = to_frame(
            &[],
            &Calls {
                calls: calls.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        let part = CallsPart {
            calls: table.height() as u64,
            frame: table.lazy(),
        };
        let got = report(&[part], &SplitTraces::default(), &pricing, vec![], &filter).unwrap();
        let (_, entry) = pricing.resolve("gemini-2.5-pro", Some("gemini")).unwrap();
        let one_by_one: Decimal = calls
            .iter()
            .map(|c| {
                crate::pricing::cost::call_cost(entry, &c.usage, c.start, None)
                    .unwrap()
                    .usd
                    .unwrap()
            })
            .sum();
        assert_eq!(got.total.cost_usd, one_by_one);
        assert_eq!(got.total.calls, 4);
        // 250k input at $2.50/M, 1k output at $15/M; 150k at $1.25/M, 1k at $10/M;
        // 500 cached of a 10-token prompt: clamped to the 10 the prompt has, at
        // $0.125/M, 20 output at $10/M; 100 input at $1.25/M, 10 output all reasoning
        // (clamped) at the output price.
        let expected = Decimal::new(625_000_000 + 15_000_000 + 187_500_000 + 10_000_000, 9)
            + Decimal::new(1_250 + 200_000, 9)
            + Decimal::new(125_000 + 100_000, 9);
        assert_eq!(got.total.cost_usd, expected);
    }
}
