//! Prices: the shipped tables (`pricing/*.toml`, embedded at build time), a user's
//! overrides, model-name matching and the cost of a call.

pub mod cost;
pub mod export;
pub mod matcher;
pub mod shipped;
pub mod table;

use crate::semconv::model::Usage;
use cost::CallCost;
use matcher::{Matcher, Resolution};
use std::path::Path;
use table::{ModelPrice, PricingError};

/// A price file's name as errors give it, and its text.
pub fn read_file(path: &Path) -> Result<(String, String), PricingError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PricingError::Io {
        file: file.clone(),
        source,
    })?;
    Ok((file, text))
}

/// Where the generated tables come from (`pricing/table.toml`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TableSource {
    /// The LiteLLM release the generated tables were made from.
    pub litellm: String,
    /// The day they were taken: calls after it may have newer prices.
    pub as_of: chrono::NaiveDate,
    /// The vendors' own files, which take precedence over resellers' after history.
    pub vendors: Vec<String>,
}

const TABLE_SOURCE: &str = include_str!("../../pricing/table.toml");

impl TableSource {
    pub fn shipped() -> TableSource {
        toml::from_str(TABLE_SOURCE).expect("pricing/table.toml is written by the generator")
    }
}

/// The shipped files in precedence order: hand-kept history, the vendors' own, then the
/// rest by name; with each file's name.
fn shipped_in_order(source: &TableSource) -> Vec<(&'static str, &'static [shipped::StaticModel])> {
    let rank = |name: &str| {
        let stem = name
            .trim_start_matches("pricing/")
            .trim_end_matches(".toml");
        if stem == "history" {
            0
        } else {
            source
                .vendors
                .iter()
                .position(|v| v == stem)
                .map_or(usize::MAX, |i| i + 1)
        }
    };
    let mut files: Vec<_> = shipped::SHIPPED.iter().collect();
    files.sort_by_key(|(name, _, _)| rank(name));
    files
        .into_iter()
        .map(|(name, _, models)| (*name, *models))
        .collect()
}

/// The LiteLLM price file `traces pricing update` keeps: `traces/litellm_prices.json`
/// in the platform's config directory (`$XDG_CONFIG_HOME` or `~/.config` on Linux).
pub fn user_price_file() -> Option<std::path::PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "traces")?;
    Some(dirs.config_dir().join("litellm_prices.json"))
}

/// Where the prices in force come from, for reports to say.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSource {
    /// `LiteLLM 1.110.2 (shipped)`, or the updated file's path.
    pub table: String,
    /// The day the table was taken: calls after it may have newer prices.
    pub as_of: chrono::NaiveDate,
    /// The `--pricing` files over it.
    pub overrides: Vec<String>,
}

pub struct Pricing {
    /// Highest precedence first; an id appears once (its first occurrence).
    entries: Vec<ModelPrice>,
    matcher: Matcher,
    source: PriceSource,
}

impl Pricing {
    /// The shipped tables, under the given override files (TOML in the same format, or
    /// LiteLLM's JSON), the first file taking precedence.
    pub fn load(overrides: &[&Path]) -> Result<Pricing, PricingError> {
        Pricing::load_with(overrides, user_price_file().as_deref())
    }

    /// The shipped tables alone, whatever this user has updated.
    pub fn shipped() -> Pricing {
        Pricing::load_with(&[], None).expect("the shipped tables are checked at build time")
    }

    /// Like `load`, with the updated LiteLLM file (if it exists) at `user_file`: the
    /// override files, then the hand-kept history (dated prices LiteLLM drops), then the
    /// updated file, then the shipped tables.
    pub fn load_with(
        overrides: &[&Path],
        user_file: Option<&Path>,
    ) -> Result<Pricing, PricingError> {
        let mut entries = Vec::new();
        for path in overrides {
            let (file, text) = read_file(path)?;
            let trimmed = text.trim_start();
            entries.extend(if trimmed.starts_with('{') {
                table::parse_litellm(&text, &file)?
            } else {
                table::parse_toml(&text, &file)?
            });
        }
        let shipped_source = TableSource::shipped();
        let mut source = PriceSource {
            table: format!("LiteLLM {} (shipped)", shipped_source.litellm),
            as_of: shipped_source.as_of,
            overrides: overrides.iter().map(|p| p.display().to_string()).collect(),
        };
        let mut shipped = shipped_in_order(&shipped_source).into_iter().peekable();
        while let Some((_, models)) = shipped.next_if(|(name, _)| *name == "pricing/history.toml") {
            entries.extend(models.iter().map(shipped::StaticModel::to_model));
        }
        if let Some(path) = user_file.filter(|p| p.exists()) {
            let (file, text) = read_file(path)?;
            entries.extend(table::parse_litellm(&text, &file)?);
            let modified = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map(|t| chrono::DateTime::<chrono::Utc>::from(t).date_naive());
            source.table = format!("{file} (LiteLLM format, from `traces pricing update`)");
            if let Ok(d) = modified {
                source.as_of = d;
            }
        }
        for (_, models) in shipped {
            entries.extend(models.iter().map(shipped::StaticModel::to_model));
        }
        let mut seen = std::collections::HashSet::new();
        entries.retain(|e| seen.insert(e.id.to_ascii_lowercase()));
        let matcher = Matcher::new(&entries);
        Ok(Pricing {
            entries,
            matcher,
            source,
        })
    }

    pub fn source(&self) -> &PriceSource {
        &self.source
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
