//! The shipped tables as build.rs compiled them: entries built without parsing, so a
//! report over a few calls does not first read thousands of prices.

use super::table::{ModelPrice, PriceVersion, Rates, Tier};
// The generated table builds its prices with `Decimal::from_parts`.
use rust_decimal::Decimal;

pub struct StaticPrice {
    pub since: Option<(i32, u32, u32)>,
    pub rates: Rates,
    pub tiers: &'static [Tier],
    pub service_tier: &'static [(&'static str, Rates)],
}

pub struct StaticModel {
    pub id: &'static str,
    pub provider: &'static str,
    pub aliases: &'static [&'static str],
    pub patterns: &'static [&'static str],
    pub kind: Option<&'static str>,
    pub source: &'static str,
    pub litellm: Option<&'static str>,
    pub note: Option<&'static str>,
    pub prices: &'static [StaticPrice],
}

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

impl StaticModel {
    pub fn to_model(&self) -> ModelPrice {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        ModelPrice {
            id: self.id.into(),
            provider: self.provider.into(),
            aliases: strings(self.aliases),
            patterns: strings(self.patterns),
            kind: self.kind.map(String::from),
            source: self.source.into(),
            litellm: self.litellm.map(String::from),
            note: self.note.map(String::from),
            prices: self
                .prices
                .iter()
                .map(|p| PriceVersion {
                    since: p
                        .since
                        .and_then(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d)),
                    rates: p.rates.clone(),
                    tiers: p.tiers.to_vec(),
                    service_tier: p
                        .service_tier
                        .iter()
                        .map(|(k, r)| (k.to_string(), r.clone()))
                        .collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// build.rs reads the TOML its own way; the run-time parser, with its validation,
    /// must read the same entries from the same text.
    #[test]
    fn the_compiled_table_is_the_toml() {
        let mut n = 0;
        for (file, text, models) in SHIPPED {
            let parsed = super::super::table::parse_toml(text, file).unwrap();
            let compiled: Vec<ModelPrice> = models.iter().map(StaticModel::to_model).collect();
            assert_eq!(parsed, compiled, "{file}");
            n += compiled.len();
        }
        assert!(n > 3000, "{n} entries");
    }
}
