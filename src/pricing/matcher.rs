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
    /// Why the entry is not the serving provider's own price, when it is not: the call
    /// is priced at another provider's (the model vendor's) list price, and reports
    /// count it apart.
    pub fallback: Option<String>,
}

pub struct Matcher {
    /// Every entry that answers to a name, exact or with its routing removed, highest
    /// precedence first.
    by_name: foldhash::HashMap<String, Vec<usize>>,
    /// Each entry's provider, as `canonical_provider` spells it.
    families: Vec<String>,
    /// The first segment of LiteLLM-style ids (`azure/`, `groq/`, `vertex_ai/`) that
    /// names the provider of its entries, and that provider.
    route_family: HashMap<String, String>,
    /// The reverse: each provider's id prefixes.
    family_routes: HashMap<String, Vec<String>>,
    patterns: GlobSet,
    pattern_owner: Vec<usize>,
}

/// Providers that make models: `openai/gpt-oss-120b` on Groq or `anthropic/claude-…` on
/// OpenRouter name the model's maker, not where it ran, so these prefixes never decide
/// the serving provider (`azure/`, `vertex_ai/`, `groq/` do).
const MODEL_VENDORS: [&str; 6] = [
    "openai",
    "anthropic",
    "gcp.gemini",
    "mistral_ai",
    "deepseek",
    "x_ai",
];

/// Whether a model id is one only Bedrock uses: `anthropic.claude-…`, a cross-region
/// profile `us.anthropic.claude-…`, or behind a `bedrock/` route.
fn is_bedrock_id(model: &str) -> bool {
    model.starts_with("bedrock/")
        || model.starts_with("bedrock_converse/")
        || VENDORS.iter().any(|v| model.starts_with(v))
        || region_of(model).is_some()
}

/// The cross-region inference profile a Bedrock model id names (`us.`), if any.
fn region_of(model: &str) -> Option<&'static str> {
    let m = model.rsplit('/').next().unwrap_or(model);
    REGIONS.iter().copied().find(|r| {
        m.strip_prefix(r)
            .is_some_and(|rest| VENDORS.iter().any(|v| rest.starts_with(v)))
    })
}

fn strip_route_prefixes(name: &str) -> &str {
    let mut n = name;
    while let Some(rest) = ROUTE_PREFIXES.iter().find_map(|p| n.strip_prefix(p)) {
        n = rest;
    }
    n
}

/// The name with route, region and vendor prefixes and version suffixes removed, each
/// removal described.
fn strip_routing(name: &str) -> (String, Vec<String>) {
    let mut steps = Vec::new();
    let n = stripped(name, Some(&mut steps));
    (n, steps)
}

/// `strip_routing`'s name alone: indexing thousands of entries need not describe it.
fn stripped(name: &str, mut steps: Option<&mut Vec<String>>) -> String {
    let mut n = name.to_string();
    let mut note = |s: &dyn Fn() -> String| {
        if let Some(steps) = steps.as_deref_mut() {
            steps.push(s());
        }
    };
    loop {
        let before = n.clone();
        for p in ROUTE_PREFIXES {
            if let Some(rest) = n.strip_prefix(p) {
                note(&|| format!("removed the prefix {p:?}"));
                n = rest.to_string();
            }
        }
        for p in REGIONS {
            if let Some(rest) = n.strip_prefix(p)
                && VENDORS.iter().any(|v| rest.starts_with(v))
            {
                note(&|| format!("removed the Bedrock region {p:?}"));
                n = rest.to_string();
            }
        }
        for p in VENDORS {
            if let Some(rest) = n.strip_prefix(p) {
                note(&|| format!("removed the Bedrock vendor {p:?}"));
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
        note(&|| format!("removed the version suffix {:?}", &n[i..]));
        n.truncate(i);
    }
    if let Some(i) = n.rfind(':')
        && n[i + 1..].bytes().all(|b| b.is_ascii_digit())
        && i + 1 < n.len()
    {
        note(&|| format!("removed the version suffix {:?}", &n[i..]));
        n.truncate(i);
    }
    // Vertex AI writes snapshots as `claude-3-7-sonnet@20250219`.
    if let Some(i) = n.find('@') {
        note(&|| "read the Vertex AI snapshot \"@\" as \"-\"".to_string());
        n.replace_range(i..i + 1, "-");
    }
    n
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
        let mut by_name: foldhash::HashMap<String, Vec<usize>> =
            foldhash::HashMap::with_capacity_and_hasher(2 * entries.len(), Default::default());
        let mut builder = GlobSetBuilder::new();
        let mut pattern_owner = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for name in std::iter::once(&e.id).chain(&e.aliases) {
                let lower = name.to_ascii_lowercase();
                let bare = stripped(&lower, None);
                for n in [lower, bare] {
                    let owners = by_name.entry(n).or_default();
                    if !owners.contains(&i) {
                        owners.push(i);
                    }
                }
            }
            for p in &e.patterns {
                if let Ok(g) = Glob::new(&p.to_ascii_lowercase()) {
                    builder.add(g);
                    pattern_owner.push(i);
                }
            }
        }
        let patterns = builder.build().unwrap_or_else(|_| GlobSet::empty());
        let families: Vec<String> = entries
            .iter()
            .map(|e| crate::semconv::canonical_provider(&e.provider))
            .collect();
        let mut route_family = HashMap::new();
        let mut family_routes: HashMap<String, Vec<String>> = HashMap::new();
        for (e, f) in entries.iter().zip(&families) {
            let Some((first, _)) = e.id.split_once('/') else {
                continue;
            };
            let first = first.to_ascii_lowercase();
            if (crate::semconv::canonical_provider(&first) == *f || first == *f)
                && !MODEL_VENDORS.contains(&f.as_str())
                && !route_family.contains_key(&first)
            {
                route_family.insert(first.clone(), f.clone());
                family_routes.entry(f.clone()).or_default().push(first);
            }
        }
        Matcher {
            by_name,
            families,
            route_family,
            family_routes,
            patterns,
            pattern_owner,
        }
    }

    /// The provider that served a call: a Bedrock model id says Bedrock whatever the
    /// span's provider key says (instrumentations name the vendor there); then the
    /// span's provider (its endpoint, when known, already decided it); then a
    /// LiteLLM-style route (`azure/gpt-4o`). A route comes last because a host's model
    /// ids often start with the maker's name (`meta/llama-…` on Vertex AI).
    pub fn serving_provider(&self, model: &str, provider: Option<&str>) -> Option<String> {
        let m = model.trim().to_ascii_lowercase();
        if is_bedrock_id(&m) {
            return Some("aws.bedrock".into());
        }
        if let Some(p) = provider {
            return Some(crate::semconv::canonical_provider(p));
        }
        let (first, _) = m.split_once('/')?;
        self.route_family.get(first).cloned()
    }

    /// The entry for a call of `model` recorded with `provider`: the serving provider's
    /// own entry under any of the names the model goes by, else the first entry by the
    /// name rules, marked as a fallback when the serving provider is known and differs.
    pub fn resolve(&self, model: &str, provider: Option<&str>) -> Option<Resolution> {
        let serving = self.serving_provider(model, provider);
        if let Some(p) = serving.as_deref()
            && let Some(mut r) = self.resolve_among(model, Some(p))
        {
            if let Some(region) = region_of(&model.to_ascii_lowercase())
                && !strip_route_prefixes(&r.matched).starts_with(region)
            {
                r.fallback = Some(format!(
                    "no aws.bedrock entry for the {region} inference profile; priced at the model's in-region Bedrock price"
                ));
            }
            return Some(r);
        }
        let mut r = self.resolve_among(model, None)?;
        if let Some(p) = serving
            && !self.serves(r.entry, &p)
        {
            r.fallback = Some(format!(
                "no {p} entry; priced at {}'s list price",
                self.families[r.entry]
            ));
        }
        Some(r)
    }

    /// Whether entry `i` is `family`'s price. An entry that names no provider (a user's
    /// own price) is the price wherever the model is served.
    fn serves(&self, i: usize, family: &str) -> bool {
        self.families[i].is_empty() || self.families[i] == family
    }

    /// The name rules, over entries of `family` only when it is given.
    fn resolve_among(&self, model: &str, family: Option<&str>) -> Option<Resolution> {
        let lower = model.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return None;
        }
        let found = |name: &str, steps: Vec<String>| {
            let owners = self.by_name.get(name)?;
            let entry = match family {
                Some(f) => *owners.iter().find(|&&i| self.serves(i, f))?,
                None => owners[0],
            };
            let mut steps = steps;
            if let Some(f) = family {
                steps.push(format!("took the entry of the serving provider {f:?}"));
            }
            Some(Resolution {
                entry,
                matched: name.to_string(),
                steps,
                fallback: None,
            })
        };
        let mut steps = Vec::new();
        if lower != model {
            steps.push("compared case-insensitively".to_string());
        }
        if let Some(r) = found(&lower, steps.clone()) {
            return Some(r);
        }
        // `bedrock/us.anthropic.claude-…` is the profile's own entry before it is the
        // model's.
        let bare = strip_route_prefixes(&lower);
        if bare != lower {
            let mut s = steps.clone();
            s.push(format!("removed the route prefix of {lower:?}"));
            if let Some(r) = found(bare, s) {
                return Some(r);
            }
        }
        // A provider's own listing of the model: `groq/llama-3.3-70b-versatile`,
        // `azure/gpt-4o`, `fireworks_ai/accounts/fireworks/models/…`.
        for route in family
            .and_then(|f| self.family_routes.get(f))
            .into_iter()
            .flatten()
        {
            let mut s = steps.clone();
            s.push(format!(
                "added the prefix {route:?}/ of the serving provider"
            ));
            for name in [&lower, bare] {
                if let Some(r) = found(&format!("{route}/{name}"), s.clone()) {
                    return Some(r);
                }
            }
        }
        // A fine-tune, `ft:BASE:org:name:id`, is billed at the fine-tuned rates of its
        // base model (`ft:BASE`), never at the base model's own.
        if let Some(rest) = bare.strip_prefix("ft:")
            && let Some((base, _)) = rest.split_once(':')
        {
            let mut s = steps.clone();
            s.push(format!("read the fine-tune of {base:?} as \"ft:{base}\""));
            for name in std::iter::once(format!("ft:{base}"))
                .chain(strip_date(base).map(|b| format!("ft:{b}")))
            {
                if let Some(r) = found(&name, s.clone()) {
                    return Some(r);
                }
            }
            return None;
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
        let hit = self
            .patterns
            .matches(&lower)
            .into_iter()
            .filter(|&h| family.is_none_or(|f| self.serves(self.pattern_owner[h], f)))
            .min()?;
        let entry = self.pattern_owner[hit];
        steps.push("matched a pattern of the entry".to_string());
        Some(Resolution {
            entry,
            matched: lower,
            steps,
            fallback: None,
        })
    }
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

    /// The shipped table, and where a call of `model` with `provider` is priced:
    /// (entry id, the entry's provider, whether it is a fallback).
    fn priced(model: &str, provider: Option<&str>) -> (String, String, bool) {
        let p = crate::pricing::Pricing::shipped();
        let (r, e) = p.resolve(model, provider).unwrap();
        (e.id.clone(), e.provider.clone(), r.fallback.is_some())
    }

    #[test]
    fn a_bedrock_profile_is_priced_at_bedrock_s_price_for_it() {
        let (id, provider, fallback) = priced("us.anthropic.claude-opus-4-7", None);
        assert_eq!(
            (id.as_str(), provider.as_str(), fallback),
            ("us.anthropic.claude-opus-4-7", "aws.bedrock", false)
        );
        // A span that names the vendor as its system does not move a Bedrock id.
        assert_eq!(
            priced("us.anthropic.claude-opus-4-7", Some("anthropic")).0,
            id
        );
        assert_eq!(priced("bedrock/us.anthropic.claude-opus-4-7", None).0, id);
    }

    #[test]
    fn a_bedrock_model_id_is_bedrock_s_even_where_the_vendor_has_one() {
        let (id, provider, fallback) = priced("anthropic.claude-mythos-preview", None);
        assert_eq!(
            (id.as_str(), provider.as_str(), fallback),
            ("anthropic.claude-mythos-preview", "aws.bedrock", false)
        );
    }

    #[test]
    fn the_span_s_provider_picks_its_entry_for_a_plain_name() {
        assert_eq!(
            priced("claude-opus-4-7", Some("anthropic")),
            ("claude-opus-4-7".into(), "anthropic".into(), false)
        );
        assert_eq!(
            priced("claude-opus-4-7", Some("aws_bedrock")),
            (
                "anthropic.claude-opus-4-7".into(),
                "aws.bedrock".into(),
                false
            )
        );
        // No provider said: the vendor's list price, not a fallback.
        assert_eq!(
            priced("claude-opus-4-7", None),
            ("claude-opus-4-7".into(), "anthropic".into(), false)
        );
    }

    #[test]
    fn a_provider_without_an_entry_is_a_fallback_at_the_vendor_s_price() {
        assert_eq!(
            priced("gpt-4o", Some("openrouter")),
            ("gpt-4o".into(), "openai".into(), true)
        );
        // Azure lists its own.
        assert_eq!(
            priced("gpt-4o", Some("azure")),
            ("azure/gpt-4o".into(), "azure.ai.openai".into(), false)
        );
        // A profile Bedrock's table lacks: the in-region entry, said to be a fallback.
        let (id, provider, fallback) = priced("ca.anthropic.claude-opus-4-7", None);
        assert_eq!(
            (id.as_str(), provider.as_str(), fallback),
            ("anthropic.claude-opus-4-7", "aws.bedrock", true)
        );
    }

    #[test]
    fn serving_provider_rules() {
        let pricing = crate::pricing::Pricing::shipped();
        let m = Matcher::new(pricing.entries());
        for (model, provider, want) in [
            (
                "us.anthropic.claude-opus-4-7",
                Some("anthropic"),
                Some("aws.bedrock"),
            ),
            (
                "global.anthropic.claude-haiku-4-5-20251001-v1:0",
                None,
                Some("aws.bedrock"),
            ),
            ("meta.llama3-70b-instruct-v1:0", None, Some("aws.bedrock")),
            ("bedrock/claude-sonnet-4-5", None, Some("aws.bedrock")),
            ("gpt-4o", Some("Azure"), Some("azure.ai.openai")),
            ("gpt-4o", None, None),
            ("us.gpt-4o", None, None),
            ("azure/gpt-4o", None, Some("azure.ai.openai")),
            ("azure/gpt-4o", Some("azure"), Some("azure.ai.openai")),
            ("vertex_ai/claude-opus-4-7", None, Some("gcp.vertex_ai")),
            ("groq/openai/gpt-oss-120b", None, Some("groq")),
            (
                "meta-llama/llama-3.3-70b",
                Some("together"),
                Some("together_ai"),
            ),
        ] {
            assert_eq!(
                m.serving_provider(model, provider).as_deref(),
                want,
                "{model} {provider:?}"
            );
        }
    }

    #[test]
    fn fine_tunes_and_provider_listings() {
        // A fine-tune at the fine-tuned rates of its base, never the base's own.
        assert_eq!(
            priced("ft:gpt-4o-mini-2024-07-18:acme::AbC123", Some("openai")),
            ("ft:gpt-4o-mini-2024-07-18".into(), "openai".into(), false)
        );
        let p = crate::pricing::Pricing::shipped();
        assert!(p.resolve("ft:no-such-base:acme::x", None).is_none());
        // A host's own listing from the bare name the host's SDK records.
        assert_eq!(
            priced("openai/gpt-oss-120b", Some("groq")).0,
            "groq/openai/gpt-oss-120b"
        );
        assert_eq!(
            priced("accounts/fireworks/models/deepseek-v3", Some("fireworks")).0,
            "fireworks_ai/accounts/fireworks/models/deepseek-v3"
        );
        assert_eq!(
            priced("gemini-2.5-pro", Some("vertex_ai")),
            (
                "vertex_ai/gemini-2.5-pro".into(),
                "gcp.vertex_ai".into(),
                false
            )
        );
        assert_eq!(priced("gemini-2.5-pro", Some("gemini")).1, "gemini");
    }
}
