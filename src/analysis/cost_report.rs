//! Usage and cost per group of calls (trace, session, user, model, …), priced at report
//! time with exact decimals so that the rows add up to the total to the last digit.

use super::calls::LlmCall;
use crate::ingest::ids::TraceId;
use crate::pricing::Pricing;
use crate::pricing::cost::call_cost;
use crate::pricing::table::ModelPrice;
use crate::semconv::model::Usage;
use chrono::DateTime;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Trace,
    Session,
    User,
    Model,
    Provider,
    Service,
    Day,
    Hour,
    Name,
    /// An attribute of the call's span, else of its trace's root span.
    Attr(String),
}

impl std::str::FromStr for Dim {
    type Err = String;
    fn from_str(s: &str) -> Result<Dim, String> {
        Ok(match s {
            "trace" => Dim::Trace,
            "session" => Dim::Session,
            "user" => Dim::User,
            "model" => Dim::Model,
            "provider" => Dim::Provider,
            "service" => Dim::Service,
            "day" => Dim::Day,
            "hour" => Dim::Hour,
            "name" => Dim::Name,
            _ => match s.strip_prefix("attr:") {
                Some(k) if !k.is_empty() => Dim::Attr(k.to_string()),
                _ => {
                    return Err(crate::suggest::unknown(
                        "cannot group by",
                        s,
                        &[
                            "trace", "session", "user", "model", "provider", "service", "day",
                            "hour", "name", "attr:KEY",
                        ],
                    ));
                }
            },
        })
    }
}

impl Dim {
    /// What a table for people calls this dimension's column.
    pub fn label(&self) -> String {
        match self {
            Dim::Attr(k) => k.clone(),
            d => {
                let f = d.field();
                let f = f.strip_suffix("_id").unwrap_or(&f);
                let mut c = f.chars();
                c.next()
                    .map(|h| h.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        }
    }

    /// The name of the row field that holds this dimension's value.
    pub fn field(&self) -> String {
        match self {
            Dim::Trace => "trace_id".into(),
            Dim::Session => "session_id".into(),
            Dim::User => "user_id".into(),
            Dim::Model => "model".into(),
            Dim::Provider => "provider".into(),
            Dim::Service => "service".into(),
            Dim::Day => "day".into(),
            Dim::Hour => "hour".into(),
            Dim::Name => "name".into(),
            Dim::Attr(k) => k.clone(),
        }
    }
}

/// Sums of one group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub traces: u64,
    pub calls: u64,
    pub input_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_usd: Decimal,
    /// The producers' own costs, summed exactly: each float as the decimal it prints
    /// as, so that the sum does not depend on the order calls are added in.
    pub recorded_cost_usd: Option<Decimal>,
    pub unpriced_calls: u64,
    /// Calls priced at the model vendor's list price because their serving provider has
    /// no entry of its own (`PriceMatch::fallback`).
    pub fallback_priced_calls: u64,
    /// The start of the group's first and last call (Unix nanoseconds).
    pub first_start: Option<i64>,
    pub last_start: Option<i64>,
    /// The first field whose sum passed what it can hold: such a group has no figure
    /// to show, and the report is refused (`check_sums`) rather than wrapped.
    pub overflow: Option<&'static str>,
}

/// A report whose sums cannot be held: only impossible counts in the input get there.
#[derive(Debug, thiserror::Error)]
#[error(
    "{field} of {group} exceeds what a report can hold (2^63 - 1 tokens, or ~7.9e28 dollars): the input has impossible usage numbers; narrow the report (--since, --trace) to find them"
)]
pub struct SumOverflow {
    pub field: &'static str,
    pub group: String,
}

/// Why a report from the calls tables could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
    #[error(transparent)]
    Overflow(#[from] SumOverflow),
}

fn add_checked(sum: &mut i64, v: i64, field: &'static str, overflow: &mut Option<&'static str>) {
    match sum.checked_add(v) {
        Some(s) => *sum = s,
        None => {
            overflow.get_or_insert(field);
        }
    }
}

impl Metrics {
    pub fn total_tokens(&self) -> i64 {
        // `add_tokens` refuses a group whose total would not fit.
        self.input_tokens.saturating_add(self.output_tokens)
    }

    fn add_tokens(&mut self, t: [i64; 5]) {
        let o = &mut self.overflow;
        add_checked(&mut self.input_tokens, t[0], "input_tokens", o);
        add_checked(&mut self.cache_read_tokens, t[1], "cache_read_tokens", o);
        add_checked(&mut self.cache_write_tokens, t[2], "cache_write_tokens", o);
        add_checked(&mut self.output_tokens, t[3], "output_tokens", o);
        add_checked(&mut self.reasoning_tokens, t[4], "reasoning_tokens", o);
        if self.input_tokens.checked_add(self.output_tokens).is_none() {
            o.get_or_insert("total_tokens");
        }
    }

    /// Adds dollars, noting rather than panicking when the sum passes `Decimal`'s range.
    pub fn add_cost(&mut self, usd: Decimal) {
        match self.cost_usd.checked_add(usd) {
            Some(s) => self.cost_usd = s,
            None => {
                self.overflow.get_or_insert("cost_usd");
            }
        }
    }

    /// Counts one call and its tokens (not its cost).
    pub fn add_call(&mut self, usage: &Usage, recorded_cost_usd: Option<f64>) {
        self.calls += 1;
        self.add_tokens([
            usage.input.unwrap_or(0),
            usage.cache_read.unwrap_or(0),
            usage.cache_write.unwrap_or(0),
            usage.output.unwrap_or(0),
            usage.reasoning.unwrap_or(0),
        ]);
        if let Some(r) = recorded_cost_usd.and_then(recorded_decimal) {
            self.add_recorded(r);
        }
    }

    /// Counts a call's start in the group's first and last.
    pub fn add_start(&mut self, start: i64) {
        self.first_start = Some(self.first_start.map_or(start, |f| f.min(start)));
        self.last_start = Some(self.last_start.map_or(start, |l| l.max(start)));
    }

    fn add_recorded(&mut self, r: Decimal) {
        match self.recorded_cost_usd.unwrap_or_default().checked_add(r) {
            Some(s) => self.recorded_cost_usd = Some(s),
            None => {
                self.overflow.get_or_insert("recorded_cost_usd");
            }
        }
    }

    /// Adds another group's sums, all but its trace count (traces do not add up).
    pub fn absorb(&mut self, o: &Metrics) {
        self.calls += o.calls;
        self.add_tokens([
            o.input_tokens,
            o.cache_read_tokens,
            o.cache_write_tokens,
            o.output_tokens,
            o.reasoning_tokens,
        ]);
        self.add_cost(o.cost_usd);
        self.unpriced_calls += o.unpriced_calls;
        self.fallback_priced_calls += o.fallback_priced_calls;
        if let Some(r) = o.recorded_cost_usd {
            self.add_recorded(r);
        }
        for s in [o.first_start, o.last_start].into_iter().flatten() {
            self.add_start(s);
        }
        if let Some(f) = o.overflow {
            self.overflow.get_or_insert(f);
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Acc {
    m: Metrics,
    traces: foldhash::HashSet<TraceId>,
}

impl Acc {
    fn add(&mut self, c: &LlmCall, cost: Option<Decimal>, fallback: bool) {
        self.traces.insert(c.trace_id);
        let m = &mut self.m;
        m.add_call(&c.usage, c.recorded_cost_usd);
        m.add_start(c.start);
        match cost {
            Some(d) => m.add_cost(d),
            None => m.unpriced_calls += 1,
        }
        m.fallback_priced_calls += u64::from(fallback && cost.is_some());
    }

    fn merge(&mut self, other: &Acc) {
        self.traces.extend(other.traces.iter().copied());
        self.m.absorb(&other.m);
    }

    fn done(mut self) -> Metrics {
        self.m.traces = self.traces.len() as u64;
        self.m
    }
}

impl CostReport {
    /// The report, or which sum could not be held. Rows are checked before the total,
    /// so the error names the narrowest group.
    pub fn check_sums(self) -> Result<CostReport, SumOverflow> {
        let fields: Vec<String> = self.group_by.iter().map(Dim::field).collect();
        for (key, m) in &self.rows {
            if let Some(field) = m.overflow
                && !fields.is_empty()
            {
                let group = fields
                    .iter()
                    .zip(key)
                    .map(|(f, k)| format!("{f} {}", k.as_deref().unwrap_or("(none)")))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(SumOverflow {
                    field,
                    group: format!("the group {group}"),
                });
            }
        }
        match self.total.overflow {
            Some(field) => Err(SumOverflow {
                field,
                group: "the total".into(),
            }),
            None => Ok(self),
        }
    }
}

/// A model that no price matched: never $0, always named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unpriced {
    pub model: String,
    pub calls: u64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

#[derive(Debug, Clone, Default)]
pub struct CostReport {
    pub group_by: Vec<Dim>,
    /// Group keys (one per dimension; `None` where the calls did not say) and sums, in
    /// no set order until `sort` orders them.
    pub rows: Vec<(Vec<Option<String>>, Metrics)>,
    pub total: Metrics,
    pub unpriced_models: Vec<Unpriced>,
    pub fallback_priced: Vec<Fallback>,
    /// The start of the newest call counted (Unix nanoseconds), to say when calls are
    /// newer than the price table.
    pub newest_call: Option<i64>,
    /// Models whose calls' recorded cost differs from the computed one by more than
    /// rounding.
    pub recorded_mismatches: Vec<RecordedMismatch>,
}

/// Calls of one model that carry a recorded cost, against what they cost computed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedMismatch {
    pub model: String,
    pub calls: u64,
    pub recorded_usd: Decimal,
    pub computed_usd: Decimal,
}

/// A recorded cost as the decimal its float prints as (`0.0001869`, not the binary
/// fraction nearest to it).
pub fn recorded_decimal(f: f64) -> Option<Decimal> {
    f.to_string().parse().ok()
}

/// The recorded and the computed cost of priced calls that carry one, summed by model.
#[derive(Default)]
pub struct RecordedVsComputed(BTreeMap<String, (u64, Decimal, Decimal)>);

impl RecordedVsComputed {
    pub fn add(&mut self, model: Option<&str>, calls: u64, recorded: Decimal, computed: Decimal) {
        let e = self
            .0
            .entry(model.unwrap_or("(no model recorded)").to_string())
            .or_default();
        e.0 += calls;
        e.1 = e.1.checked_add(recorded).unwrap_or(e.1);
        e.2 = e.2.checked_add(computed).unwrap_or(e.2);
    }

    pub fn absorb(&mut self, other: RecordedVsComputed) {
        for (m, (calls, r, c)) in other.0 {
            self.add(Some(&m), calls, r, c);
        }
    }

    /// The models whose sums differ by more than rounding: a recorded cost is a float,
    /// often rounded to 6 decimals a call, so up to $0.000001 a call plus a part in a
    /// million is rounding; a different price or token count is more.
    pub fn mismatches(self) -> Vec<RecordedMismatch> {
        let per_call = Decimal::new(1, 6);
        self.0
            .into_iter()
            .filter(|(_, (calls, recorded, computed))| {
                let allowed = per_call * Decimal::from(*calls)
                    + per_call * computed.abs().max(recorded.abs());
                (*recorded - *computed).abs() > allowed
            })
            .map(|(model, (calls, recorded, computed))| RecordedMismatch {
                model,
                calls,
                recorded_usd: recorded.normalize(),
                computed_usd: computed.normalize(),
            })
            .collect()
    }
}

/// Which calls a report covers.
#[derive(Debug, Default)]
pub struct CallFilter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub model: Option<globset::GlobMatcher>,
    pub service: Option<String>,
    pub session: Option<String>,
    pub user: Option<String>,
    pub trace: Option<String>,
    /// (index into the calls' `attrs`, value): attribute equalities.
    pub where_attrs: Vec<(usize, String)>,
}

impl CallFilter {
    pub fn keeps(&self, c: &LlmCall) -> bool {
        self.since.is_none_or(|s| c.start >= s)
            && self.until.is_none_or(|u| c.start < u)
            && self.model.as_ref().is_none_or(|g| {
                c.model()
                    .is_some_and(|m| g.is_match(m.to_ascii_lowercase()))
            })
            && self
                .service
                .as_ref()
                .is_none_or(|s| c.service.as_deref() == Some(s))
            && self
                .session
                .as_ref()
                .is_none_or(|s| c.session_id.as_deref() == Some(s))
            && self
                .user
                .as_ref()
                .is_none_or(|s| c.user_id.as_deref() == Some(s))
            && self
                .trace
                .as_ref()
                .is_none_or(|t| TraceId::parse(t).is_ok_and(|id| id == c.trace_id))
            && self
                .where_attrs
                .iter()
                .all(|(i, v)| c.attrs.get(*i).and_then(|x| x.as_deref()) == Some(v.as_str()))
    }
}

/// The key of a `day` or `hour` group for a call started at `start_unix_nano`.
pub fn time_key(d: &Dim, start_unix_nano: i64) -> String {
    let time = DateTime::from_timestamp_nanos(start_unix_nano);
    match d {
        Dim::Hour => time.format("%Y-%m-%dT%H:00Z").to_string(),
        _ => time.format("%Y-%m-%d").to_string(),
    }
}

fn key_of(d: &Dim, c: &LlmCall, attr_index: &dyn Fn(&str) -> usize) -> Option<String> {
    match d {
        Dim::Trace => Some(c.trace_id.to_string()),
        Dim::Session => c.session_id.clone(),
        Dim::User => c.user_id.clone(),
        Dim::Model => c.model().map(String::from),
        Dim::Provider => c.provider.clone(),
        Dim::Service => c.service.clone(),
        Dim::Day | Dim::Hour => Some(time_key(d, c.start)),
        Dim::Name => Some(c.root_name.clone()),
        Dim::Attr(k) => c.attrs.get(attr_index(k)).cloned().flatten(),
    }
}

/// The entry a call is priced at, and why it is not its serving provider's own when it
/// is not (`Resolution::fallback`).
#[derive(Debug, Clone)]
pub struct PriceMatch<'a> {
    pub entry: &'a ModelPrice,
    pub fallback: Option<std::sync::Arc<str>>,
}

/// A provider a model was matched with, and what it matched.
type ProviderPrice<'a> = (Option<String>, Option<PriceMatch<'a>>);

/// Price entries already matched, by model then provider: matching runs a chain of
/// name rules, and a report has millions of calls but few models.
pub struct PriceCache<'a> {
    pricing: &'a Pricing,
    matched: HashMap<String, Vec<ProviderPrice<'a>>>,
}

impl<'a> PriceCache<'a> {
    pub fn new(pricing: &'a Pricing) -> Self {
        PriceCache {
            pricing,
            matched: HashMap::new(),
        }
    }

    pub fn entry(&mut self, model: &str, provider: Option<&str>) -> Option<PriceMatch<'a>> {
        let pricing = self.pricing;
        let known = match self.matched.get_mut(model) {
            Some(k) => k,
            None => self.matched.entry(model.to_string()).or_default(),
        };
        if let Some((_, e)) = known.iter().find(|(p, _)| p.as_deref() == provider) {
            return e.clone();
        }
        let e = pricing
            .resolve(model, provider)
            .map(|(r, entry)| PriceMatch {
                entry,
                fallback: r.fallback.map(std::sync::Arc::from),
            });
        known.push((provider.map(String::from), e.clone()));
        e
    }
}

/// Calls priced at another provider's list price than the one that served them, by
/// model and reason: counted apart and named, like unpriced ones.
#[derive(Default)]
pub struct FallbackPriced(BTreeMap<(String, String), u64>);

/// One model's calls priced at a fallback.
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    pub model: String,
    pub reason: String,
    pub calls: u64,
}

impl FallbackPriced {
    pub fn add(&mut self, model: &str, reason: &str, calls: u64) {
        *self
            .0
            .entry((model.to_string(), reason.to_string()))
            .or_default() += calls;
    }

    pub fn absorb(&mut self, other: FallbackPriced) {
        for ((m, r), n) in other.0 {
            self.add(&m, &r, n);
        }
    }

    pub fn into_vec(self) -> Vec<Fallback> {
        self.0
            .into_iter()
            .map(|((model, reason), calls)| Fallback {
                model,
                reason,
                calls,
            })
            .collect()
    }
}

/// Calls no price matched, by model: never $0, always named.
#[derive(Default)]
pub struct UnpricedModels(BTreeMap<String, Unpriced>);

impl UnpricedModels {
    pub fn add(&mut self, model: Option<&str>, calls: u64, input_tokens: i64, output_tokens: i64) {
        let name = model.unwrap_or("(no model recorded)");
        let u = match self.0.get_mut(name) {
            Some(u) => u,
            None => self.0.entry(name.to_string()).or_insert(Unpriced {
                model: name.to_string(),
                ..Default::default()
            }),
        };
        u.calls += calls;
        // A part of the report's total, which `check_sums` refuses past i64.
        u.input_tokens = u.input_tokens.saturating_add(input_tokens);
        u.output_tokens = u.output_tokens.saturating_add(output_tokens);
    }

    pub fn absorb(&mut self, other: UnpricedModels) {
        for u in other.0.into_values() {
            self.add(Some(&u.model), u.calls, u.input_tokens, u.output_tokens);
        }
    }

    pub fn into_vec(self) -> Vec<Unpriced> {
        self.0.into_values().collect()
    }
}

/// Groups and prices calls as they come, so a report over any number of calls holds
/// only its groups. `attr_keys` names the attributes loaded into each call's `attrs`,
/// in order.
pub struct ReportBuilder<'a> {
    group_by: Vec<Dim>,
    filter: &'a CallFilter,
    attr_keys: &'a [String],
    groups: foldhash::HashMap<Vec<Option<String>>, Acc>,
    total: Acc,
    unpriced: UnpricedModels,
    fallbacks: FallbackPriced,
    prices: PriceCache<'a>,
    newest: Option<i64>,
    recorded: RecordedVsComputed,
}

impl<'a> ReportBuilder<'a> {
    pub fn new(
        pricing: &'a Pricing,
        group_by: Vec<Dim>,
        filter: &'a CallFilter,
        attr_keys: &'a [String],
    ) -> Self {
        ReportBuilder {
            group_by,
            filter,
            attr_keys,
            groups: Default::default(),
            total: Acc::default(),
            unpriced: UnpricedModels::default(),
            fallbacks: FallbackPriced::default(),
            prices: PriceCache::new(pricing),
            newest: None,
            recorded: RecordedVsComputed::default(),
        }
    }

    pub fn add(&mut self, c: &LlmCall) {
        if !self.filter.keeps(c) {
            return;
        }
        self.newest = self.newest.max(Some(c.start));
        let matched = c
            .model()
            .and_then(|m| self.prices.entry(m, c.provider.as_deref()));
        let cost = matched
            .as_ref()
            .and_then(|p| call_cost(p.entry, &c.usage, c.start, c.service_tier.as_deref()))
            .map(|cc| cc.usd);
        let fallback = match (&matched, &cost, c.model()) {
            (
                Some(PriceMatch {
                    fallback: Some(r), ..
                }),
                Some(_),
                Some(model),
            ) => {
                self.fallbacks.add(model, r, 1);
                true
            }
            _ => false,
        };
        if cost == Some(None) {
            self.total.m.overflow.get_or_insert("cost_usd");
        }
        let cost = cost.map(Option::unwrap_or_default);
        if let (Some(r), Some(usd)) = (c.recorded_cost_usd.and_then(recorded_decimal), cost) {
            self.recorded.add(c.model(), 1, r, usd);
        }
        if cost.is_none() {
            self.unpriced.add(
                c.model(),
                1,
                c.usage.input.unwrap_or(0),
                c.usage.output.unwrap_or(0),
            );
        }
        let keys = self.attr_keys;
        let attr_index = |k: &str| keys.iter().position(|x| x == k).unwrap_or(usize::MAX);
        let key: Vec<Option<String>> = self
            .group_by
            .iter()
            .map(|d| key_of(d, c, &attr_index))
            .collect();
        self.groups.entry(key).or_default().add(c, cost, fallback);
        self.total.add(c, cost, fallback);
    }

    pub fn finish(self) -> Result<CostReport, SumOverflow> {
        let rows: Vec<_> = self
            .groups
            .into_iter()
            .map(|(k, a)| (k, a.done()))
            .collect();
        CostReport {
            group_by: self.group_by,
            rows,
            total: self.total.done(),
            unpriced_models: self.unpriced.into_vec(),
            fallback_priced: self.fallbacks.into_vec(),
            newest_call: self.newest,
            recorded_mismatches: self.recorded.mismatches(),
        }
        .check_sums()
    }
}

/// The columns a report can be sorted by.
pub const METRIC_COLUMNS: [&str; 12] = [
    "traces",
    "calls",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_usd",
    "recorded_cost_usd",
    "unpriced_calls",
    "fallback_priced_calls",
];

/// A metric (one of `METRIC_COLUMNS`) of a group, as a number to sort by; `None` for
/// another name.
pub fn metric_value(m: &Metrics, column: &str) -> Option<Decimal> {
    Some(match column {
        "traces" => m.traces.into(),
        "calls" => m.calls.into(),
        "input_tokens" => m.input_tokens.into(),
        "cache_read_tokens" => m.cache_read_tokens.into(),
        "cache_write_tokens" => m.cache_write_tokens.into(),
        "output_tokens" => m.output_tokens.into(),
        "reasoning_tokens" => m.reasoning_tokens.into(),
        "total_tokens" => m.total_tokens().into(),
        "cost_usd" => m.cost_usd,
        "recorded_cost_usd" => m.recorded_cost_usd.unwrap_or_default(),
        "unpriced_calls" => m.unpriced_calls.into(),
        "fallback_priced_calls" => m.fallback_priced_calls.into(),
        _ => return None,
    })
}

/// Puts `v[from[k]]` at `k` for every `k`, in place, a cycle of the permutation at a
/// time; `from` is used up.
fn permute<T>(v: &mut [T], from: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..v.len() {
        let mut at = start;
        while from[at] != DONE {
            let next = std::mem::replace(&mut from[at], DONE);
            if next == start {
                break;
            }
            v.swap(at, next);
            at = next;
        }
    }
}

/// The first 16 bytes of `s`, zero-padded, as a number: where two differ they order as
/// the texts do (a text that ends first pads with the lowest byte).
fn prefix(s: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

/// A decimal with its float, ordered as the decimal. Floats apart by more than their
/// rounding order the decimals as they do; only closer ones are compared exactly.
struct SortKey(f64, Decimal);

impl SortKey {
    fn of(d: Decimal) -> SortKey {
        use rust_decimal::prelude::ToPrimitive;
        SortKey(d.to_f64().unwrap_or(0.0), d)
    }

    fn cmp(&self, o: &SortKey) -> std::cmp::Ordering {
        // A float from a decimal is off by a few units in its last place (a part in
        // 10^15 or so): a gap of a part in 10^9 is the decimals' own.
        let (a, b) = (self.0, o.0);
        if (a - b).abs() > 1e-9 * a.abs().max(b.abs())
            && let Some(order) = a.partial_cmp(&b)
        {
            return order;
        }
        self.1.cmp(&o.1)
    }
}

impl CostReport {
    /// Sorts by a metric or a dimension field; ties by the group key, so the order is
    /// always the same.
    pub fn sort(&mut self, column: &str, descending: bool) -> Result<(), String> {
        let dim = self.group_by.iter().position(|d| d.field() == column);
        if dim.is_none() && !METRIC_COLUMNS.contains(&column) {
            let fields: Vec<String> = self.group_by.iter().map(Dim::field).collect();
            let mut names: Vec<&str> = fields.iter().map(String::as_str).collect();
            names.extend(METRIC_COLUMNS);
            return Err(crate::suggest::unknown("cannot sort by", column, &names));
        }
        // What a comparison reads of each row is kept in a small array sorted on its own,
        // then the rows are put in its order where they are: moved at every step of the
        // sort, or into new vectors, 200,000 rows of 200 bytes and more cost more than
        // the comparisons. The metric is compared as a float first (exact decimals
        // rescale to compare). Rows mostly tie on it (the 200,000 traces of the benchmark
        // have 2,994 costs), so the key's first bytes are kept too: its text is read only
        // when they tie as well.
        let mut order: Vec<(SortKey, Option<u128>, usize)> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, (key, m))| {
                let metric = SortKey::of(metric_value(m, column).unwrap_or_default());
                (
                    metric,
                    key.first().and_then(|k| k.as_deref()).map(prefix),
                    i,
                )
            })
            .collect();
        let rows = &self.rows;
        // Ties are broken by the group key, unique to a row: the order is total.
        order.sort_unstable_by(|(a, pa, i), (b, pb, j)| {
            let (ka, kb) = (&rows[*i].0, &rows[*j].0);
            let o = match dim {
                Some(d) => ka[d].cmp(&kb[d]),
                None => a.cmp(b),
            };
            let o = if descending { o.reverse() } else { o };
            o.then_with(|| pa.cmp(pb)).then_with(|| ka.cmp(kb))
        });
        let mut from: Vec<usize> = order.into_iter().map(|(_, _, i)| i).collect();
        permute(&mut self.rows, &mut from);
        Ok(())
    }

    /// Keeps the first `n` rows and folds the rest into one `(other)` row, so that the
    /// rows still add up to the total.
    pub fn top(&mut self, n: usize) {
        if self.rows.len() <= n {
            return;
        }
        let rest: Vec<_> = self.rows.drain(n..).collect();
        let mut acc = Acc::default();
        for (_, m) in &rest {
            acc.merge(&Acc {
                m: m.clone(),
                traces: Default::default(),
            });
        }
        let mut m = acc.m;
        // Trace counts do not add across groups (a trace may span several); the
        // folded row counts the groups' traces as reported, an upper bound.
        m.traces = rest.iter().map(|(_, m)| m.traces).sum();
        let mut key = vec![None; self.group_by.len()];
        if let Some(first) = key.first_mut() {
            *first = Some(format!("(other: {} groups)", rest.len()));
        }
        self.rows.push((key, m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..=28)
            .prop_map(|(m, scale)| Decimal::from_i128_with_scale(m.into(), scale))
    }

    proptest! {
        /// Ordered as the decimals are, also where their floats are equal or nearly:
        /// costs a few units apart in the 28th decimal, or equal at different scales.
        #[test]
        fn sort_keys_order_as_their_decimals(
            a in decimal(),
            far in decimal(),
            tiny in -1000i64..1000,
            rescale in 0u32..10,
        ) {
            let near = a.checked_add(Decimal::new(tiny, 28)).unwrap_or(a);
            let mut same = a;
            // The same value written with more digits.
            if same.scale() + rescale <= 28 && same.mantissa().checked_mul(10i128.pow(rescale)).is_some_and(|m| m.unsigned_abs() < 1u128 << 96) {
                same = Decimal::from_i128_with_scale(a.mantissa() * 10i128.pow(rescale), a.scale() + rescale);
            }
            for b in [far, near, same, -a, Decimal::ZERO] {
                prop_assert_eq!(SortKey::of(a).cmp(&SortKey::of(b)), a.cmp(&b), "{} vs {}", a, b);
                prop_assert_eq!(SortKey::of(b).cmp(&SortKey::of(a)), b.cmp(&a), "{} vs {}", b, a);
            }
        }
    }

    proptest! {
        #[test]
        fn rows_are_put_in_the_order_asked(order in Just((0..300usize).collect::<Vec<_>>()).prop_shuffle(), n in 0usize..300) {
            let mut from: Vec<usize> = order.into_iter().filter(|&i| i < n).collect();
            let want: Vec<String> = from.iter().map(|i| format!("row {i}")).collect();
            let mut v: Vec<String> = (0..n).map(|i| format!("row {i}")).collect();
            permute(&mut v, &mut from);
            prop_assert_eq!(v, want);
        }
    }

    #[test]
    fn rows_sort_by_cost_then_by_key() {
        let row = |key: &str, cost: Decimal| {
            (
                vec![Some(key.to_string())],
                Metrics {
                    cost_usd: cost,
                    ..Default::default()
                },
            )
        };
        let tiny = Decimal::new(1, 28);
        let c = Decimal::new(3, 1);
        let mut r = CostReport {
            group_by: vec![Dim::Session],
            rows: vec![
                row("b", c),
                row("a", c + tiny),
                row("c", Decimal::new(30, 2)),
                row("d", Decimal::new(-1, 0)),
                row("e", c - tiny),
            ],
            total: Metrics::default(),
            unpriced_models: Vec::new(),
            fallback_priced: Vec::new(),
            newest_call: None,
            recorded_mismatches: Vec::new(),
        };
        let mut sorted = |column: &str, descending: bool| -> Vec<String> {
            r.sort(column, descending).unwrap();
            r.rows.iter().map(|(k, _)| k[0].clone().unwrap()).collect()
        };
        // 0.3 and 0.30 are equal: their keys decide.
        assert_eq!(sorted("cost_usd", true), ["a", "b", "c", "e", "d"]);
        assert_eq!(sorted("session_id", false), ["a", "b", "c", "d", "e"]);
    }
}
