//! Prices: the shipped tables (`pricing/*.toml`, embedded at build time), a user's
//! overrides, model-name matching and the cost of a call.

pub mod cost;
pub mod matcher;
pub mod table;

use crate::semconv::model::Usage;
use cost::CallCost;
use matcher::{Matcher, Resolution};
use std::path::Path;
use table::{ModelPrice, PricingError};

/// The shipped tables, hand-kept history first: an entry there takes precedence over
/// the generated entry of the same id.
const SHIPPED: [(&str, &str); 9] = [
    (
        "pricing/history.toml",
        include_str!("../../pricing/history.toml"),
    ),
    (
        "pricing/openai.toml",
        include_str!("../../pricing/openai.toml"),
    ),
    (
        "pricing/anthropic.toml",
        include_str!("../../pricing/anthropic.toml"),
    ),
    (
        "pricing/gemini.toml",
        include_str!("../../pricing/gemini.toml"),
    ),
    (
        "pricing/mistral.toml",
        include_str!("../../pricing/mistral.toml"),
    ),
    (
        "pricing/deepseek.toml",
        include_str!("../../pricing/deepseek.toml"),
    ),
    ("pricing/xai.toml", include_str!("../../pricing/xai.toml")),
    (
        "pricing/open-models.toml",
        include_str!("../../pricing/open-models.toml"),
    ),
    (
        "pricing/bedrock.toml",
        include_str!("../../pricing/bedrock.toml"),
    ),
];

pub struct Pricing {
    /// Highest precedence first; an id appears once (its first occurrence).
    entries: Vec<ModelPrice>,
    matcher: Matcher,
}

impl Pricing {
    /// The shipped tables, under the given override files (TOML in the same format, or
    /// LiteLLM's JSON), the first file taking precedence.
    pub fn load(overrides: &[&Path]) -> Result<Pricing, PricingError> {
        let mut entries = Vec::new();
        for path in overrides {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| PricingError::Io {
                file: file.clone(),
                source,
            })?;
            let trimmed = text.trim_start();
            entries.extend(if trimmed.starts_with('{') {
                table::parse_litellm(&text, &file)?
            } else {
                table::parse_toml(&text, &file)?
            });
        }
        for (file, text) in SHIPPED {
            entries.extend(table::parse_toml(text, file)?);
        }
        let mut seen = std::collections::HashSet::new();
        entries.retain(|e| seen.insert(e.id.to_ascii_lowercase()));
        let matcher = Matcher::new(&entries);
        Ok(Pricing { entries, matcher })
    }

    pub fn entries(&self) -> &[ModelPrice] {
        &self.entries
    }

    pub fn resolve(
        &self,
        model: &str,
        provider: Option<&str>,
    ) -> Option<(Resolution, &ModelPrice)> {
        let r = self.matcher.resolve(model, provider)?;
        let e = &self.entries[r.entry];
        Some((r, e))
    }

    /// The cost of a call, or `None` when its model has no price.
    pub fn cost(
        &self,
        model: &str,
        provider: Option<&str>,
        usage: &Usage,
        start_unix_nano: i64,
        service_tier: Option<&str>,
    ) -> Option<(CallCost, &ModelPrice)> {
        let (_, e) = self.resolve(model, provider)?;
        Some((cost::call_cost(e, usage, start_unix_nano, service_tier)?, e))
    }
}
