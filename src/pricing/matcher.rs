//! From the model name a span recorded to a pricing entry, deterministically and with
//! an explanation: the exact name first, then the name without provider or cloud
//! prefixes, regional and version suffixes, then without a date snapshot, then patterns.

use super::table::ModelPrice;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashMap;

/// Prefixes that say where a model is served or which client called it, not which
/// model it is (`openai/gpt-4o`, `vertex_ai/gemini-2.5-pro`, `models/gemini-2.0-flash`).
const ROUTE_PREFIXES: [&str; 16] = [
    "openai/",
    "azure/",
    "azure_ai/",
    "bedrock/",
    "bedrock_converse/",
    "vertex_ai/",
    "vertex_ai_beta/",
    "models/",
    "anthropic/",
    "gemini/",
    "google/",
    "mistral/",
    "mistralai/",
    "deepseek/",
    "xai/",
    "openrouter/",
];

/// Bedrock cross-region inference profiles: `us.anthropic.claude-…`.
const REGIONS: [&str; 8] = [
    "us.", "eu.", "apac.", "au.", "jp.", "global.", "us-gov.", "ca.",
];
/// Bedrock model ids name the vendor first: `anthropic.claude-…`.
const VENDORS: [&str; 8] = [
    "anthropic.",
    "meta.",
    "mistral.",
    "amazon.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub entry: usize,
    /// The name that was found in the table.
    pub matched: String,
    /// Each rewrite applied to the recorded name, in order.
    pub steps: Vec<String>,
}

pub struct Matcher {
    by_name: HashMap<String, usize>,
    patterns: GlobSet,
    pattern_owner: Vec<usize>,
}

/// The name with route, region and vendor prefixes and version suffixes removed, each
/// removal described.
fn strip_routing(name: &str) -> (String, Vec<String>) {
    let mut n = name.to_string();
    let mut steps = Vec::new();
    loop {
        let before = n.clone();
        for p in ROUTE_PREFIXES {
            if let Some(rest) = n.strip_prefix(p) {
                steps.push(format!("removed the prefix {p:?}"));
                n = rest.to_string();
            }
        }
        for p in REGIONS {
            if let Some(rest) = n.strip_prefix(p)
                && VENDORS.iter().any(|v| rest.starts_with(v))
            {
                steps.push(format!("removed the Bedrock region {p:?}"));
                n = rest.to_string();
            }
        }
        for p in VENDORS {
            if let Some(rest) = n.strip_prefix(p) {
                steps.push(format!("removed the Bedrock vendor {p:?}"));
                n = rest.to_string();
            }
        }
        if n == before {
            break;
        }
    }
    // `…-v1:0`, `…-v2`, `…:0`: Bedrock model versions.
    if let Some(i) = n.rfind("-v")
        && n[i + 2..]
            .split(':')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        steps.push(format!("removed the version suffix {:?}", &n[i..]));
        n.truncate(i);
    }
    if let Some(i) = n.rfind(':')
        && n[i + 1..].bytes().all(|b| b.is_ascii_digit())
        && i + 1 < n.len()
    {
        steps.push(format!("removed the version suffix {:?}", &n[i..]));
        n.truncate(i);
    }
    // Vertex AI writes snapshots as `claude-3-7-sonnet@20250219`.
    if let Some(i) = n.find('@') {
        steps.push("read the Vertex AI snapshot \"@\" as \"-\"".to_string());
        n.replace_range(i..i + 1, "-");
    }
    (n, steps)
}

/// `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, `claude-sonnet-4-5-20250929` →
/// `claude-sonnet-4-5`, `grok-4.20-0309` → `grok-4.20`.
fn strip_date(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('-').collect();
    let is_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > 3
        && is_digits(parts[parts.len() - 3], 4)
        && is_digits(parts[parts.len() - 2], 2)
        && is_digits(parts[parts.len() - 1], 2)
    {
        return Some(parts[..parts.len() - 3].join("-"));
    }
    let last = *parts.last()?;
    if parts.len() > 1 && (is_digits(last, 8) || is_digits(last, 4)) {
        return Some(parts[..parts.len() - 1].join("-"));
    }
    None
}

impl Matcher {
    /// Indexes the entries; where two claim one name, the earlier entry wins, so the
    /// table is ordered from the highest precedence (a user's file) down.
    pub fn new(entries: &[ModelPrice]) -> Matcher {
        let mut by_name = HashMap::new();
        let mut builder = GlobSetBuilder::new();
        let mut pattern_owner = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for name in std::iter::once(&e.id).chain(&e.aliases) {
                let lower = name.to_ascii_lowercase();
                by_name.entry(lower.clone()).or_insert(i);
                by_name.entry(strip_routing(&lower).0).or_insert(i);
            }
            for p in &e.patterns {
                if let Ok(g) = Glob::new(&p.to_ascii_lowercase()) {
                    builder.add(g);
                    pattern_owner.push(i);
                }
            }
        }
        let patterns = builder.build().unwrap_or_else(|_| GlobSet::empty());
        Matcher {
            by_name,
            patterns,
            pattern_owner,
        }
    }

    pub fn resolve(&self, model: &str, provider: Option<&str>) -> Option<Resolution> {
        let lower = model.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return None;
        }
        let found = |name: &str, steps: Vec<String>| {
            self.by_name.get(name).map(|&entry| Resolution {
                entry,
                matched: name.to_string(),
                steps,
            })
        };
        let mut steps = Vec::new();
        if lower != model {
            steps.push("compared case-insensitively".to_string());
        }
        if let Some(r) = found(&lower, steps.clone()) {
            return Some(r);
        }
        // Hosted open models are priced per host: `groq/llama-3.3-70b-versatile`.
        if let Some(p) = provider.and_then(host_prefix) {
            let mut s = steps.clone();
            s.push(format!(
                "added the host prefix {p:?} of the span's provider"
            ));
            if let Some(r) = found(&format!("{p}{lower}"), s) {
                return Some(r);
            }
        }
        let (stripped, more) = strip_routing(&lower);
        steps.extend(more);
        if let Some(r) = found(&stripped, steps.clone()) {
            return Some(r);
        }
        if let Some(base) = strip_date(&stripped) {
            let mut s = steps.clone();
            s.push(format!(
                "removed the snapshot date (the dated model {stripped:?} is not in the table)"
            ));
            if let Some(r) = found(&base, s) {
                return Some(r);
            }
        }
        let hit = self.patterns.matches(&lower).into_iter().min()?;
        let entry = self.pattern_owner[hit];
        steps.push("matched a pattern of the entry".to_string());
        Some(Resolution {
            entry,
            matched: lower,
            steps,
        })
    }
}

fn host_prefix(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "groq" => "groq/",
        "together" | "together_ai" | "togetherai" => "together_ai/",
        "fireworks" | "fireworks_ai" => "fireworks_ai/",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_and_dates() {
        assert_eq!(
            strip_routing("us.anthropic.claude-3-7-sonnet-20250219-v1:0").0,
            "claude-3-7-sonnet-20250219"
        );
        assert_eq!(
            strip_routing("bedrock/anthropic.claude-sonnet-4-20250514-v1:0").0,
            "claude-sonnet-4-20250514"
        );
        assert_eq!(
            strip_routing("vertex_ai/claude-3-7-sonnet@20250219").0,
            "claude-3-7-sonnet-20250219"
        );
        assert_eq!(
            strip_routing("models/gemini-2.0-flash").0,
            "gemini-2.0-flash"
        );
        assert_eq!(strip_routing("openrouter/openai/gpt-4o").0, "gpt-4o");
        assert_eq!(
            strip_date("gpt-4o-mini-2024-07-18").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            strip_date("claude-sonnet-4-5-20250929").as_deref(),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(strip_date("gpt-4o"), None);
        assert_eq!(strip_date("gpt-4.1"), None);
    }
}
