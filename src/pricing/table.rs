//! The pricing table: models, the names they answer to, and their prices over time, as
//! read from the shipped TOML files, a user's TOML file, or LiteLLM's JSON.

use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

/// USD per million tokens of each kind. A missing cache price falls back to the input
/// price and a missing reasoning price to the output price, as providers bill them.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    #[serde(default, with = "opt_decimal")]
    pub input: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub cached_input: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub cache_write_5m: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub cache_write_1h: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub output: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub reasoning: Option<Decimal>,
}

/// Rates for calls whose prompt is larger than a threshold: applied to the whole call.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub above_input_tokens: i64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// The prices in force from a date on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceVersion {
    /// First day (UTC) these prices apply; absent means from the start.
    #[serde(default)]
    pub since: Option<chrono::NaiveDate>,
    #[serde(flatten)]
    pub rates: Rates,
    #[serde(default, rename = "tier")]
    pub tiers: Vec<Tier>,
    /// OpenAI's `flex` and `priority` processing, by the response's `service_tier`.
    #[serde(default)]
    pub service_tier: BTreeMap<String, Rates>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub id: String,
    #[serde(default)]
    pub provider: String,
    /// Other exact names of this model.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Glob patterns (`*`, `?`) of names of this model.
    #[serde(default)]
    pub patterns: Vec<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub source: String,
    /// Why an entry differs from LiteLLM's, where it does.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(rename = "price")]
    pub prices: Vec<PriceVersion>,
}

impl ModelPrice {
    /// The version in force on `date`: the latest whose `since` is not after it (the
    /// earliest when the date precedes them all).
    pub fn version_at(&self, date: Option<chrono::NaiveDate>) -> Option<&PriceVersion> {
        let mut best: Option<&PriceVersion> = None;
        for v in &self.prices {
            let applies = match (v.since, date) {
                (None, _) => true,
                (Some(s), Some(d)) => s <= d,
                (Some(_), None) => false,
            };
            if applies && best.is_none_or(|b| b.since <= v.since) {
                best = Some(v);
            }
        }
        best.or_else(|| self.prices.iter().min_by_key(|v| v.since))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "model", default)]
    models: Vec<ModelPrice>,
}

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

pub fn parse_toml(text: &str, file: &str) -> Result<Vec<ModelPrice>, PricingError> {
    let f: File = toml::from_str(text).map_err(|e| PricingError::Invalid {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    for m in &f.models {
        if m.prices.is_empty() {
            return Err(PricingError::Invalid {
                file: file.to_string(),
                message: format!("model {:?} has no [[model.price]]", m.id),
            });
        }
    }
    Ok(f.models)
}

/// LiteLLM's `model_prices_and_context_window.json` format: USD per token.
pub fn parse_litellm(text: &str, file: &str) -> Result<Vec<ModelPrice>, PricingError> {
    let invalid = |message: String| PricingError::Invalid {
        file: file.to_string(),
        message,
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("expected an object of models".into()))?;
    let per_million = |e: &serde_json::Value, k: &str| -> Option<Decimal> {
        let n = e.get(k)?;
        let d = match n {
            serde_json::Value::Number(n) => Decimal::from_scientific(&n.to_string())
                .or_else(|_| n.to_string().parse())
                .ok()?,
            serde_json::Value::String(s) => s.parse().ok()?,
            _ => return None,
        };
        Some((d * Decimal::from(1_000_000)).normalize())
    };
    let rates = |e: &serde_json::Value, suffix: &str| Rates {
        input: per_million(e, &format!("input_cost_per_token{suffix}")),
        cached_input: per_million(e, &format!("cache_read_input_token_cost{suffix}")),
        cache_write_5m: per_million(e, &format!("cache_creation_input_token_cost{suffix}")),
        cache_write_1h: if suffix.is_empty() {
            per_million(e, "cache_creation_input_token_cost_above_1hr")
        } else {
            None
        },
        output: per_million(e, &format!("output_cost_per_token{suffix}")),
        reasoning: per_million(e, &format!("output_cost_per_reasoning_token{suffix}")),
    };
    let mut out = Vec::new();
    for (id, e) in obj {
        if !e.is_object() || e.get("input_cost_per_token").is_none() {
            // `sample_spec` and models priced per image, second or character.
            continue;
        }
        let mut version = PriceVersion {
            since: None,
            rates: rates(e, ""),
            tiers: Vec::new(),
            service_tier: BTreeMap::new(),
        };
        for (suffix, above) in [
            ("_above_128k_tokens", 128_000),
            ("_above_200k_tokens", 200_000),
            ("_above_272k_tokens", 272_000),
        ] {
            let r = rates(e, suffix);
            if r != Rates::default() {
                version.tiers.push(Tier {
                    above_input_tokens: above,
                    rates: r,
                });
            }
        }
        for st in ["flex", "priority"] {
            let r = rates(e, &format!("_{st}"));
            if r != Rates::default() {
                version.service_tier.insert(st.to_string(), r);
            }
        }
        out.push(ModelPrice {
            id: id.clone(),
            provider: e
                .get("litellm_provider")
                .and_then(|p| p.as_str())
                .unwrap_or_default()
                .to_string(),
            aliases: Vec::new(),
            patterns: Vec::new(),
            kind: e.get("mode").and_then(|p| p.as_str()).map(String::from),
            source: format!("{file} (LiteLLM format)"),
            note: None,
            prices: vec![version],
        });
    }
    Ok(out)
}

mod opt_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer};

    /// Prices are written as strings (`"2.5"`) so that they stay exact; plain TOML
    /// numbers are accepted too and read through their decimal text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            S(String),
            I(i64),
            F(f64),
        }
        let text = match Option::<Num>::deserialize(d)? {
            None => return Ok(None),
            Some(Num::S(s)) => s,
            Some(Num::I(i)) => i.to_string(),
            Some(Num::F(f)) => f.to_string(),
        };
        let v: Decimal = text
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a price")))?;
        if v.is_sign_negative() {
            return Err(serde::de::Error::custom(format!(
                "{text:?}: a price cannot be negative"
            )));
        }
        Ok(Some(v))
    }
}
