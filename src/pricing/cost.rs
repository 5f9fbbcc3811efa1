//! The cost of one call, in exact decimal arithmetic: uncached text input at the input
//! price, cache reads, 5-minute and 1-hour cache writes, audio and image input at theirs,
//! output at the output price, reasoning and audio output at their own where they have
//! one. A long-context tier, once the prompt passes its
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
        input_audio: or(over.input_audio, base.input_audio),
        output_audio: or(over.output_audio, base.output_audio),
        input_image: or(over.input_image, base.input_image),
    }
}

/// What a call, or a sum of calls priced alike, is billed for: each count at its rate.
/// Counts are clamped per call so that the parts never exceed their whole: negative
/// counts are 0, and each part of the input (cache reads, cache writes, audio, images)
/// or of the output (reasoning, audio) at most what is left of its whole. A call is then
/// never billed for more tokens than its report shows, and sums of these are what the
/// calls cost one by one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Billable {
    /// Input tokens in no other class: text, not read from or written to the cache.
    pub uncached_input: i64,
    pub cache_read: i64,
    /// Cache writes for 5 minutes, or of unknown duration.
    pub cache_write: i64,
    pub cache_write_1h: i64,
    pub audio_input: i64,
    pub image_input: i64,
    /// Output tokens that are neither reasoning nor audio.
    pub plain_output: i64,
    pub reasoning: i64,
    pub audio_output: i64,
}

/// Takes up to `part` out of `left`: the part, clamped to what is left.
fn take(left: &mut i64, part: Option<i64>) -> i64 {
    let n = part.unwrap_or(0).clamp(0, *left);
    *left -= n;
    n
}

impl Billable {
    pub fn of(usage: &Usage) -> Billable {
        let mut input = usage.input.unwrap_or(0).max(0);
        let cache_read = take(&mut input, usage.cache_read);
        let mut writes = take(&mut input, usage.cache_write);
        let cache_write_1h = take(&mut writes, usage.cache_write_1h);
        let audio_input = take(&mut input, usage.audio_input);
        let image_input = take(&mut input, usage.image_input);
        let mut output = usage.output.unwrap_or(0).max(0);
        let reasoning = take(&mut output, usage.reasoning);
        let audio_output = take(&mut output, usage.audio_output);
        Billable {
            uncached_input: input,
            cache_read,
            cache_write: writes,
            cache_write_1h,
            audio_input,
            image_input,
            plain_output: output,
            reasoning,
            audio_output,
        }
    }

    fn parts(&self) -> [i64; 9] {
        [
            self.uncached_input,
            self.cache_read,
            self.cache_write,
            self.cache_write_1h,
            self.audio_input,
            self.image_input,
            self.plain_output,
            self.reasoning,
            self.audio_output,
        ]
    }

    /// Adds another's counts. Each part is at most its call's input or output, whose
    /// sums a report refuses past i64, so saturating here never shows.
    pub fn add(&mut self, b: &Billable) {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8] = self.parts();
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8] = b.parts();
        *self = Billable {
            uncached_input: a0.saturating_add(b0),
            cache_read: a1.saturating_add(b1),
            cache_write: a2.saturating_add(b2),
            cache_write_1h: a3.saturating_add(b3),
            audio_input: a4.saturating_add(b4),
            image_input: a5.saturating_add(b5),
            plain_output: a6.saturating_add(b6),
            reasoning: a7.saturating_add(b7),
            audio_output: a8.saturating_add(b8),
        };
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
            cache_write_1h: t.rates.cache_write_1h,
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
            cache_write_1h: r.cache_write_1h,
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

/// The classes of `Billable`, in the order of `Billable::parts` and `per_class`.
pub const CLASSES: [&str; 9] = [
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "input_audio",
    "input_image",
    "output",
    "reasoning",
    "output_audio",
];

/// The rate (USD per million tokens) of each class of `Billable`, gaps filled as calls
/// are billed, for `rates` that have an input price (as `rates_for` returns them).
pub fn per_class(rates: &Rates) -> [Decimal; 9] {
    let in_rate = rates.input.unwrap_or(Decimal::ZERO);
    // A write the span does not say is for an hour is billed at the 5-minute rate, the
    // default of every provider that has both.
    let write_rate = rates.cache_write_5m.unwrap_or(in_rate);
    let out_rate = rates.output.unwrap_or(Decimal::ZERO);
    [
        in_rate,
        rates.cached_input.unwrap_or(in_rate),
        write_rate,
        rates.cache_write_1h.unwrap_or(write_rate),
        rates.input_audio.unwrap_or(in_rate),
        rates.input_image.unwrap_or(in_rate),
        out_rate,
        rates.reasoning.unwrap_or(out_rate),
        rates.output_audio.unwrap_or(out_rate),
    ]
}

/// USD for `b` at `rates` (which have an input price, as `rates_for` returns them),
/// exact but not normalized: reports sum many of these and normalize once. `None` only
/// past `Decimal`'s range, which validated prices and i64 counts cannot reach.
pub fn cost_at(rates: &Rates, b: &Billable) -> Option<Decimal> {
    let mut micro_usd = Decimal::ZERO;
    for (n, rate) in b.parts().into_iter().zip(per_class(rates)) {
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
