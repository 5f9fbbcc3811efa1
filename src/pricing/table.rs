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
    #[serde(default, with = "opt_decimal")]
    pub input_audio: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub output_audio: Option<Decimal>,
    #[serde(default, with = "opt_decimal")]
    pub input_image: Option<Decimal>,
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
    /// LiteLLM's key for this model, where the id differs from it.
    #[serde(default)]
    pub litellm: Option<String>,
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

/// The dearest rate a price file may give, USD per million tokens ($1 a token, a
/// thousand times the dearest model sold): past it a rate is a typo (a per-token price
/// written as per-million), and within it no i64 count can overflow a cost.
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

impl Rates {
    pub fn named(&self) -> [(&'static str, Option<Decimal>); 9] {
        [
            ("input", self.input),
            ("cached_input", self.cached_input),
            ("cache_write_5m", self.cache_write_5m),
            ("cache_write_1h", self.cache_write_1h),
            ("output", self.output),
            ("reasoning", self.reasoning),
            ("input_audio", self.input_audio),
            ("output_audio", self.output_audio),
            ("input_image", self.input_image),
        ]
    }
}

/// The first rate of `m` that is negative or past `MAX_RATE`: its key and the problem.
fn bad_rate(m: &ModelPrice) -> Option<(&'static str, Decimal, String)> {
    let check = |r: &Rates, at: &str| {
        r.named().into_iter().find_map(|(k, v)| {
            let v = v?;
            let problem = if v.is_sign_negative() && !v.is_zero() {
                "a price cannot be negative".to_string()
            } else if v > MAX_RATE {
                format!(
                    "over {MAX_RATE} USD per million tokens; prices are per million, not per token"
                )
            } else {
                return None;
            };
            Some((k, v, format!("{at}{k} = {v}: {problem}")))
        })
    };
    m.prices.iter().find_map(|p| {
        check(&p.rates, "")
            .or_else(|| p.tiers.iter().find_map(|t| check(&t.rates, "tier: ")))
            .or_else(|| {
                p.service_tier
                    .iter()
                    .find_map(|(name, r)| check(r, &format!("service_tier.{name}: ")))
            })
    })
}

/// The 1-based line where `key` is given `value` in the block of model `id`, for an
/// error to point at; the model's line when the key is not found there.
fn line_of(text: &str, id: &str, key: &str, value: Decimal) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let start = model_line(text, id)?;
    let wanted = value.normalize().to_string();
    let found = lines[start..].iter().position(|l| {
        let t = l.trim_start().trim_start_matches('"');
        t.starts_with(key)
            && l.split_once(['=', ':']).is_some_and(|(_, v)| {
                let v = v.trim().trim_matches(|c| c == '"' || c == ',');
                Decimal::from_scientific(v)
                    .or_else(|_| v.parse::<Decimal>())
                    .is_ok_and(|d| d.normalize().to_string() == wanted)
            })
    });
    Some(start + found.unwrap_or(0) + 1)
}

fn validate(models: &[ModelPrice], text: &str, file: &str) -> Result<(), PricingError> {
    for m in models {
        let message = if m.prices.is_empty() {
            format!("model {:?} has no [[model.price]]", m.id)
        } else if let Some((key, value, problem)) = bad_rate(m) {
            let at = line_of(text, &m.id, key, value)
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            format!("{at}model {:?}: {problem}", m.id)
        } else {
            continue;
        };
        return Err(PricingError::Invalid {
            file: file.to_string(),
            message,
        });
    }
    Ok(())
}

pub fn parse_toml(text: &str, file: &str) -> Result<Vec<ModelPrice>, PricingError> {
    let f: File = toml::from_str(text).map_err(|e| PricingError::Invalid {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    validate(&f.models, text, file)?;
    Ok(f.models)
}

/// The LiteLLM modes whose prices are per token of a call a span records.
const MODES: [&str; 4] = ["chat", "responses", "completion", "embedding"];

/// `line N: ` for the line where a LiteLLM file names model `id`, for an error.
fn json_line(text: &str, id: &str) -> String {
    model_line(text, id)
        .map(|l| format!("line {}: ", l + 1))
        .unwrap_or_default()
}

/// The 0-based line that first names model `id` (`id = "…"` in TOML, `"…": {` in JSON).
fn model_line(text: &str, id: &str) -> Option<usize> {
    let quoted = format!("\"{id}\"");
    text.lines().position(|l| l.contains(&quoted))
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
    // The first value that is there but is no price: the file is refused for it.
    let unreadable = std::cell::RefCell::new(None::<String>);
    let per_million = |e: &serde_json::Value, k: &str| -> Option<Decimal> {
        let n = e.get(k)?;
        let d = match n {
            serde_json::Value::Null => None,
            serde_json::Value::Number(n) => Decimal::from_scientific(&n.to_string())
                .or_else(|_| n.to_string().parse())
                .ok(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if d.is_none() && !n.is_null() {
            unreadable
                .borrow_mut()
                .get_or_insert_with(|| format!("{k} = {n}: not a price (or too large for one)"));
        }
        let d = d?;
        // A rate past Decimal's range is refused by `validate` as absurd.
        Some(
            d.checked_mul(Decimal::from(1_000_000))
                .unwrap_or(Decimal::MAX)
                .normalize(),
        )
    };
    let rates = |e: &serde_json::Value, suffix: &str| Rates {
        input: per_million(e, &format!("input_cost_per_token{suffix}")),
        cached_input: per_million(e, &format!("cache_read_input_token_cost{suffix}")),
        cache_write_5m: per_million(e, &format!("cache_creation_input_token_cost{suffix}")),
        cache_write_1h: per_million(
            e,
            &format!("cache_creation_input_token_cost_above_1hr{suffix}"),
        ),
        output: per_million(e, &format!("output_cost_per_token{suffix}")),
        reasoning: per_million(e, &format!("output_cost_per_reasoning_token{suffix}")),
        input_audio: per_million(e, &format!("input_cost_per_audio_token{suffix}")),
        output_audio: per_million(e, &format!("output_cost_per_audio_token{suffix}")),
        input_image: per_million(e, &format!("input_cost_per_image_token{suffix}")),
    };
    let mut out = Vec::new();
    for (id, e) in obj {
        let mode = e.get("mode").and_then(|m| m.as_str());
        if !e.is_object()
            || e.get("input_cost_per_token").is_none()
            || mode.is_some_and(|m| !MODES.contains(&m))
        {
            // `sample_spec`, models priced per image, second or character, and modes
            // whose calls no span records as tokens (image generation, speech).
            continue;
        }
        let mut version = PriceVersion {
            since: None,
            rates: rates(e, ""),
            tiers: Vec::new(),
            service_tier: BTreeMap::new(),
        };
        for (suffix, above) in [
            ("_above_100k_tokens", 100_000),
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
            litellm: None,
            note: None,
            prices: vec![version],
        });
        if let Some(problem) = unreadable.borrow_mut().take() {
            let line = json_line(text, id);
            return Err(invalid(format!("{line}model {id:?}: {problem}")));
        }
    }
    // LiteLLM's rates are per token: the check and the line are for the text as given.
    for m in &out {
        if let Some((key, value, problem)) = bad_rate(m) {
            let per_token = (value / Decimal::from(1_000_000)).normalize();
            let line = json_line(text, &m.id);
            return Err(invalid(format!(
                "{line}model {:?}: {problem} (the file gives {per_token} a token for {key})",
                m.id
            )));
        }
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
        Ok(Some(v))
    }
}
