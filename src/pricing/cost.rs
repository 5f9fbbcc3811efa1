//! The cost of one call, in exact decimal arithmetic: uncached input at the input
//! price, cache reads and writes at theirs, output at the output price, reasoning at its
//! own price only where it has one. A long-context tier, once the prompt passes its
//! threshold, prices the whole call, as providers bill it.

use super::table::{ModelPrice, Rates};
use crate::semconv::model::Usage;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub struct CallCost {
    /// `None` past `Decimal`'s range, which validated prices and i64 counts do not reach;
    /// a report refuses it rather than showing it unpriced.
    pub usd: Option<Decimal>,
    /// The long-context threshold whose rates applied.
    pub tier_above: Option<i64>,
    /// `flex` or `priority` when those rates applied.
    pub service_tier: Option<String>,
}

fn or(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    a.or(b)
}

/// Rates of `over` with the gaps filled from `base`.
fn layered(over: &Rates, base: &Rates) -> Rates {
    Rates {
        input: or(over.input, base.input),
        cached_input: or(over.cached_input, base.cached_input),
        cache_write_5m: or(over.cache_write_5m, base.cache_write_5m),
        cache_write_1h: or(over.cache_write_1h, base.cache_write_1h),
        output: or(over.output, base.output),
        reasoning: or(over.reasoning, base.reasoning),
    }
}

/// What a call, or a sum of calls priced alike, is billed for: each count at its rate.
/// Counts are clamped per call so that the parts never exceed their whole: negative
/// counts are 0, cache reads at most the input, cache writes at most the input left,
/// reasoning at most the output. A call is then never billed for more tokens than its
/// report shows, and sums of these are what the calls cost one by one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Billable {
    pub uncached_input: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    /// Output tokens that are not reasoning.
    pub plain_output: i64,
    pub reasoning: i64,
}

impl Billable {
    pub fn of(usage: &Usage) -> Billable {
        let input = usage.input.unwrap_or(0).max(0);
        let cache_read = usage.cache_read.unwrap_or(0).clamp(0, input);
        let cache_write = usage.cache_write.unwrap_or(0).clamp(0, input - cache_read);
        let output = usage.output.unwrap_or(0).max(0);
        let reasoning = usage.reasoning.unwrap_or(0).clamp(0, output);
        Billable {
            uncached_input: input - cache_read - cache_write,
            cache_read,
            cache_write,
            plain_output: output - reasoning,
            reasoning,
        }
    }

    /// Adds another's counts. Each part is at most its call's input or output, whose
    /// sums a report refuses past i64, so saturating here never shows.
    pub fn add(&mut self, b: &Billable) {
        self.uncached_input = self.uncached_input.saturating_add(b.uncached_input);
        self.cache_read = self.cache_read.saturating_add(b.cache_read);
        self.cache_write = self.cache_write.saturating_add(b.cache_write);
        self.plain_output = self.plain_output.saturating_add(b.plain_output);
        self.reasoning = self.reasoning.saturating_add(b.reasoning);
    }
}

/// The rates a call is billed at, and which tier and service tier chose them.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub rates: Rates,
    pub tier_above: Option<i64>,
    pub service_tier: Option<String>,
}

/// The rates for a call started on `date` whose prompt has `input` tokens; `None` when
/// the entry has no input price then (it cannot be priced).
pub fn rates_for(
    entry: &ModelPrice,
    date: chrono::NaiveDate,
    input: i64,
    service_tier: Option<&str>,
) -> Option<Applied> {
    let version = entry.version_at(Some(date))?;
    let mut rates = version.rates.clone();
    let mut tier_above = None;
    // The highest threshold the prompt passes.
    if let Some(t) = version
        .tiers
        .iter()
        .filter(|t| input > t.above_input_tokens)
        .max_by_key(|t| t.above_input_tokens)
    {
        // A tier's missing cache prices follow the tier's input price, not the base's.
        let own = Rates {
            cached_input: t.rates.cached_input,
            cache_write_5m: t.rates.cache_write_5m,
            ..layered(&t.rates, &rates)
        };
        rates = own;
        tier_above = Some(t.above_input_tokens);
    }
    let mut applied_service_tier = None;
    if let Some(st) = service_tier.map(str::to_ascii_lowercase)
        && let Some(r) = version.service_tier.get(&st)
    {
        rates = Rates {
            cached_input: r.cached_input,
            cache_write_5m: r.cache_write_5m,
            ..layered(r, &rates)
        };
        applied_service_tier = Some(st);
    }
    rates.input?;
    Some(Applied {
        rates,
        tier_above,
        service_tier: applied_service_tier,
    })
}

/// USD for `b` at `rates` (which have an input price, as `rates_for` returns them),
/// exact but not normalized: reports sum many of these and normalize once. `None` only
/// past `Decimal`'s range, which validated prices and i64 counts cannot reach.
pub fn cost_at(rates: &Rates, b: &Billable) -> Option<Decimal> {
    let in_rate = rates.input.unwrap_or(Decimal::ZERO);
    let cached_rate = rates.cached_input.unwrap_or(in_rate);
    // Usage does not say whether a cache write was for 5 minutes or an hour; the
    // 5-minute rate is the default of every provider that has both.
    let write_rate = rates.cache_write_5m.unwrap_or(in_rate);
    let out_rate = rates.output.unwrap_or(Decimal::ZERO);
    let reasoning_rate = rates.reasoning.unwrap_or(out_rate);
    let mut micro_usd = Decimal::ZERO;
    for (n, rate) in [
        (b.uncached_input, in_rate),
        (b.cache_read, cached_rate),
        (b.cache_write, write_rate),
        (b.plain_output, out_rate),
        (b.reasoning, reasoning_rate),
    ] {
        micro_usd = micro_usd.checked_add(Decimal::from(n).checked_mul(rate)?)?;
    }
    // Rates are per million tokens: moving the point is exact and needs no division.
    let mut usd = micro_usd;
    Some(match usd.scale().checked_add(6) {
        Some(s) if usd.set_scale(s).is_ok() => usd,
        _ => micro_usd / Decimal::from(1_000_000),
    })
}

/// The UTC day a call started, which picks the prices in force.
pub fn day_of(start_unix_nano: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_nanos(start_unix_nano).date_naive()
}

/// `None` when the entry has no input price for that date (it cannot be priced).
pub fn call_cost(
    entry: &ModelPrice,
    usage: &Usage,
    start_unix_nano: i64,
    service_tier: Option<&str>,
) -> Option<CallCost> {
    let input = usage.input.unwrap_or(0).max(0);
    let a = rates_for(entry, day_of(start_unix_nano), input, service_tier)?;
    Some(CallCost {
        usd: cost_at(&a.rates, &Billable::of(usage)).map(|d| d.normalize()),
        tier_above: a.tier_above,
        service_tier: a.service_tier,
    })
}
