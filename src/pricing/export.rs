//! The price table in force as flat rows, for engines that price a store's calls table
//! in SQL (`sql/*.sql`): one row per entry × price period × service tier × long-context
//! bracket, each with the rate of every billing class as `rates_for` and `per_class` bill
//! it, so a query picks one row per call with plain comparisons and never layers
//! defaults itself.

use super::Pricing;
use super::cost::{CLASSES, per_class, rates_for};
use super::table::{ModelPrice, PriceVersion};
use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rust_decimal::Decimal;

/// Decimals of a per-token rate: the shipped prices need 18 per million tokens (their
/// float artifacts, `0.042000000000000006`), so 24 per token.
pub const SCALE: u32 = 24;
/// Digits of a per-token rate: a valid rate is at most $1 a token (`MAX_RATE`), so one
/// before the point. Kept this small so that a query multiplying it by a 12-digit token
/// count stays within the 38 digits that Spark, Trino and DuckDB hold exactly.
pub const PRECISION: usize = 25;

/// The rate columns, in the order of `cost::CLASSES`.
pub fn rate_columns() -> [String; 9] {
    CLASSES.map(|c| format!("{c}_usd_per_token"))
}

/// One row of the export.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRow {
    pub price_id: String,
    pub aliases: Vec<String>,
    pub patterns: Vec<String>,
    pub provider: String,
    pub kind: Option<String>,
    /// The first day (UTC) of the period; `None` from the start (the earliest period
    /// also prices calls before its own date, as `version_at` does).
    pub valid_from: Option<NaiveDate>,
    /// The first day after the period; `None` while it lasts.
    pub valid_to: Option<NaiveDate>,
    /// The period's date as the table gives it.
    pub since: Option<NaiveDate>,
    /// `None` for the standard rates, which also price tiers the period does not list.
    pub service_tier: Option<String>,
    /// The prompt sizes the row prices: above this many input tokens (`None`: from 0)…
    pub above_input_tokens: Option<i64>,
    /// …up to and including this many (`None`: no limit).
    pub up_to_input_tokens: Option<i64>,
    /// USD per token of each class of `cost::CLASSES`; `None` when the period has no
    /// input price (its calls are unpriced).
    pub rates: Option<[Decimal; 9]>,
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "model {model:?}: the rate {rate} USD per token needs more than {SCALE} decimals, which the export's DECIMAL({PRECISION},{SCALE}) cannot hold exactly"
    )]
    TooPrecise { model: String, rate: Decimal },
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

fn nanos_of(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
        .unwrap_or(if d.year() < 1970 { i64::MIN } else { i64::MAX })
}

/// The periods of an entry: its versions by date, each with the day it starts (`None`
/// for the first) and the day the next starts.
fn periods(e: &ModelPrice) -> Vec<(&PriceVersion, Option<NaiveDate>, Option<NaiveDate>)> {
    let mut dates: Vec<Option<NaiveDate>> = e.prices.iter().map(|v| v.since).collect();
    dates.sort();
    dates.dedup();
    (0..dates.len())
        .filter_map(|i| {
            // The day that picks the period's version, as a call on it would.
            let day = match dates[i] {
                Some(d) => d,
                None => dates
                    .get(1)
                    .copied()
                    .flatten()
                    .and_then(|d| d.pred_opt())
                    .unwrap_or(NaiveDate::MIN),
            };
            let v = e.version_at(Some(day))?;
            let from = if i == 0 { None } else { dates[i] };
            Some((v, from, dates.get(i + 1).copied().flatten()))
        })
        .collect()
}

/// Every row of the table in force, by price id.
pub fn rows(pricing: &Pricing) -> Result<Vec<PriceRow>, ExportError> {
    let mut entries: Vec<&ModelPrice> = pricing.entries().iter().collect();
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Vec::new();
    for e in entries {
        for (v, from, to) in periods(e) {
            let day = from.or(v.since).unwrap_or(NaiveDate::MIN);
            let mut thresholds: Vec<i64> = v.tiers.iter().map(|t| t.above_input_tokens).collect();
            thresholds.sort_unstable();
            thresholds.dedup();
            let brackets: Vec<(Option<i64>, Option<i64>)> = std::iter::once(None)
                .chain(thresholds.iter().copied().map(Some))
                .zip(thresholds.iter().copied().map(Some).chain([None]))
                .collect();
            let tiers = std::iter::once(None).chain(v.service_tier.keys().map(Some));
            for st in tiers {
                for &(above, up_to) in &brackets {
                    let prompt = above.map_or(0, |t| t.saturating_add(1));
                    let applied = rates_for(e, day, prompt, st.map(String::as_str));
                    let rates = applied
                        .map(|a| per_class(&a.rates).map(|r| per_token(&e.id, r)))
                        .map(|r| r.into_iter().collect::<Result<Vec<_>, _>>())
                        .transpose()?
                        .map(|r| <[Decimal; 9]>::try_from(r).expect("nine classes"));
                    out.push(PriceRow {
                        price_id: e.id.clone(),
                        aliases: e.aliases.clone(),
                        patterns: e.patterns.clone(),
                        provider: e.provider.clone(),
                        kind: e.kind.clone(),
                        valid_from: from,
                        valid_to: to,
                        since: v.since,
                        service_tier: st.cloned(),
                        above_input_tokens: above,
                        up_to_input_tokens: up_to,
                        rates,
                        source: e.source.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A per-million rate as USD per token, exact, refused when the export cannot hold it.
fn per_token(model: &str, per_million: Decimal) -> Result<Decimal, ExportError> {
    let mut d = per_million.normalize();
    let scale = d.scale() + 6;
    let too_precise = || ExportError::TooPrecise {
        model: model.to_string(),
        rate: (per_million / Decimal::from(1_000_000)).normalize(),
    };
    if scale > SCALE || d.set_scale(scale).is_err() {
        return Err(too_precise());
    }
    Ok(d)
}

/// A rate's digits at the export's scale, as a DECIMAL column stores them.
fn mantissa(d: Decimal) -> i128 {
    let mut d = d;
    d.rescale(SCALE);
    d.mantissa()
}

fn date_column(name: &str, v: Vec<Option<NaiveDate>>) -> PolarsResult<Column> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let days: Vec<Option<i32>> = v
        .into_iter()
        .map(|d| d.map(|d| (d - epoch).num_days() as i32))
        .collect();
    Column::new(name.into(), days).cast(&DataType::Date)
}

/// The rows as a frame: the columns the README documents, rates as DECIMAL(25, 24).
pub fn frame(rows: &[PriceRow]) -> Result<DataFrame, ExportError> {
    let text = |f: fn(&PriceRow) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(f).collect()
    };
    let int =
        |f: fn(&PriceRow) -> Option<i64>| -> Vec<Option<i64>> { rows.iter().map(f).collect() };
    let date = |f: fn(&PriceRow) -> Option<NaiveDate>| -> Vec<Option<NaiveDate>> {
        rows.iter().map(f).collect()
    };
    let mut cols = vec![
        Column::new("price_id".into(), text(|r| Some(r.price_id.clone()))),
        Column::new("aliases".into(), text(|r| Some(r.aliases.join(", ")))),
        Column::new("patterns".into(), text(|r| Some(r.patterns.join(", ")))),
        Column::new("provider".into(), text(|r| Some(r.provider.clone()))),
        Column::new("kind".into(), text(|r| r.kind.clone())),
        date_column("valid_from", date(|r| r.valid_from))?,
        date_column("valid_to", date(|r| r.valid_to))?,
        Column::new(
            "valid_from_unix_nano".into(),
            int(|r| r.valid_from.map(nanos_of)),
        ),
        Column::new(
            "valid_to_unix_nano".into(),
            int(|r| r.valid_to.map(nanos_of)),
        ),
        date_column("since", date(|r| r.since))?,
        Column::new("service_tier".into(), text(|r| r.service_tier.clone())),
        Column::new("above_input_tokens".into(), int(|r| r.above_input_tokens)),
        Column::new("up_to_input_tokens".into(), int(|r| r.up_to_input_tokens)),
    ];
    for (i, name) in rate_columns().iter().enumerate() {
        let ca = Int128Chunked::from_iter_options(
            name.as_str().into(),
            rows.iter().map(|r| r.rates.map(|x| mantissa(x[i]))),
        )
        .into_decimal(PRECISION, SCALE as usize)?;
        cols.push(ca.into_series().into_column());
    }
    cols.push(Column::new(
        "source".into(),
        text(|r| Some(r.source.clone())),
    ));
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// The text of a field as CSV and JSON give it: decimals exact, dates `YYYY-MM-DD`.
pub fn fields(r: &PriceRow) -> Vec<(String, Option<String>)> {
    let mut f: Vec<(String, Option<String>)> = vec![
        ("price_id".into(), Some(r.price_id.clone())),
        ("aliases".into(), Some(r.aliases.join(", "))),
        ("patterns".into(), Some(r.patterns.join(", "))),
        ("provider".into(), Some(r.provider.clone())),
        ("kind".into(), r.kind.clone()),
        ("valid_from".into(), r.valid_from.map(|d| d.to_string())),
        ("valid_to".into(), r.valid_to.map(|d| d.to_string())),
        (
            "valid_from_unix_nano".into(),
            r.valid_from.map(|d| nanos_of(d).to_string()),
        ),
        (
            "valid_to_unix_nano".into(),
            r.valid_to.map(|d| nanos_of(d).to_string()),
        ),
        ("since".into(), r.since.map(|d| d.to_string())),
        ("service_tier".into(), r.service_tier.clone()),
        (
            "above_input_tokens".into(),
            r.above_input_tokens.map(|t| t.to_string()),
        ),
        (
            "up_to_input_tokens".into(),
            r.up_to_input_tokens.map(|t| t.to_string()),
        ),
    ];
    for (i, name) in rate_columns().into_iter().enumerate() {
        f.push((name, r.rates.map(|x| x[i].normalize().to_string())));
    }
    f.push(("source".into(), Some(r.source.clone())));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped rate fits DECIMAL(25,24) exactly: the export of the shipped table
    /// succeeds, and each rate read back from its column's digits is the table's rate
    /// divided by a million, compared as decimals.
    #[test]
    fn the_whole_shipped_table_is_held_exactly() {
        let pricing = Pricing::shipped();
        let rows = rows(&pricing).expect("every shipped rate fits the export");
        let df = frame(&rows).unwrap();
        let mut checked = 0;
        for e in pricing.entries() {
            for v in &e.prices {
                for r in std::iter::once(&v.rates)
                    .chain(v.tiers.iter().map(|t| &t.rates))
                    .chain(v.service_tier.values())
                {
                    for (_, rate) in r.named() {
                        let Some(rate) = rate else { continue };
                        let per_token = per_token(&e.id, rate).unwrap();
                        let back = Decimal::from_i128_with_scale(mantissa(per_token), SCALE);
                        assert_eq!(back * Decimal::from(1_000_000), rate, "{}", e.id);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked} rates");
        let col = df.column("input_usd_per_token").unwrap();
        assert_eq!(col.dtype(), &DataType::Decimal(PRECISION, SCALE as usize));
    }

    #[test]
    fn a_rate_past_the_scale_is_refused() {
        let rate: Decimal = "0.0000000000000000001".parse().unwrap();
        assert!(matches!(
            per_token("m", rate),
            Err(ExportError::TooPrecise { .. })
        ));
    }

    /// The fixture's brackets and tiers, as testdata/sql/prices.toml writes them.
    #[test]
    fn periods_tiers_and_brackets_are_rows() {
        let text = std::fs::read_to_string("testdata/sql/prices.toml").unwrap();
        let models = super::super::table::parse_toml(&text, "prices.toml").unwrap();
        let long = models.iter().find(|m| m.id == "fixture-long").unwrap();
        let dated = models.iter().find(|m| m.id == "fixture-dated").unwrap();
        let p = periods(dated);
        let june = NaiveDate::from_ymd_opt(2026, 6, 1);
        assert_eq!(
            p.iter().map(|(_, f, t)| (*f, *t)).collect::<Vec<_>>(),
            [(None, june), (june, None)]
        );
        assert_eq!(periods(long).len(), 1);
    }
}
