//! The cost of one call, in exact decimal arithmetic: uncached input at the input
//! price, cache reads and writes at theirs, output at the output price, reasoning at its
//! own price only where it has one. A long-context tier, once the prompt passes its
//! threshold, prices the whole call, as providers bill it.

use super::table::{ModelPrice, Rates};
use crate::semconv::model::Usage;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub struct CallCost {
    pub usd: Decimal,
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

/// `None` when the entry has no input price for that date (it cannot be priced).
pub fn call_cost(
    entry: &ModelPrice,
    usage: &Usage,
    start_unix_nano: i64,
    service_tier: Option<&str>,
) -> Option<CallCost> {
    let date = chrono::DateTime::from_timestamp_nanos(start_unix_nano).date_naive();
    let version = entry.version_at(Some(date))?;
    let input = usage.input.unwrap_or(0).max(0);
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
    let in_rate = rates.input?;
    let cached_rate = rates.cached_input.unwrap_or(in_rate);
    // Usage does not say whether a cache write was for 5 minutes or an hour; the
    // 5-minute rate is the default of every provider that has both.
    let write_rate = rates.cache_write_5m.unwrap_or(in_rate);
    let out_rate = rates.output.unwrap_or(Decimal::ZERO);
    let reasoning_rate = rates.reasoning.unwrap_or(out_rate);
    let cache_read = usage.cache_read.unwrap_or(0).max(0);
    let cache_write = usage.cache_write.unwrap_or(0).max(0);
    let uncached = (input - cache_read - cache_write).max(0);
    let output = usage.output.unwrap_or(0).max(0);
    let reasoning = usage.reasoning.unwrap_or(0).clamp(0, output);
    let d = Decimal::from;
    let micro_usd = d(uncached) * in_rate
        + d(cache_read) * cached_rate
        + d(cache_write) * write_rate
        + d(output - reasoning) * out_rate
        + d(reasoning) * reasoning_rate;
    Some(CallCost {
        usd: (micro_usd / Decimal::from(1_000_000)).normalize(),
        tier_above,
        service_tier: applied_service_tier,
    })
}
