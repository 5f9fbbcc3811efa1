//! One call of every model LiteLLM prices per token, from the JSON the shipped tables
//! were generated from (`testdata/pricing/litellm-prices.json.gz`), priced by `traces
//! cost` and checked against LiteLLM's own per-token arithmetic, done here: first with
//! the name and provider a LiteLLM user's span records, then with the provider known
//! only from the endpoint the call went to.

use crate::common::{text, traces_command};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;

/// One LiteLLM entry: its fields as the JSON text wrote them.
pub type Entry = BTreeMap<String, Box<RawValue>>;

pub fn litellm() -> BTreeMap<String, Entry> {
    let gz = std::fs::read(crate::common::testdata("pricing/litellm-prices.json.gz")).unwrap();
    let mut body = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut body)
        .unwrap();
    #[derive(serde::Deserialize)]
    struct File {
        models: BTreeMap<String, Entry>,
    }
    serde_json::from_str::<File>(&body).unwrap().models
}

fn provider_of(e: &Entry) -> String {
    serde_json::from_str(e["litellm_provider"].get()).unwrap()
}

/// USD per token exactly as the JSON text writes it (`2.5e-06` is 0.0000025), read as
/// text: a double would round it.
pub fn per_token(e: &Entry, key: &str) -> Option<Decimal> {
    let t = e.get(key)?.get();
    Some(
        Decimal::from_scientific(t)
            .or_else(|_| Decimal::from_str(t))
            .unwrap(),
    )
}

/// What a span of a call served by LiteLLM's `provider` says in `gen_ai.system`.
fn span_provider(provider: &str) -> &str {
    if provider.starts_with("vertex_ai") {
        return "vertex_ai";
    }
    match provider {
        "bedrock_converse" => "bedrock",
        "text-completion-openai" => "openai",
        "azure_text" => "azure",
        "fireworks_ai-embedding-models" => "fireworks_ai",
        "cohere_chat" => "cohere",
        p => p,
    }
}

/// The endpoint a provider's SDK calls, and the route prefix LiteLLM keys carry for it
/// (absent from the model id that SDK records).
fn endpoint(provider: &str) -> Option<(&'static str, &'static str)> {
    Some(match span_provider(provider) {
        "openai" => ("https://api.openai.com/v1", ""),
        "anthropic" => ("api.anthropic.com", ""),
        "gemini" => ("generativelanguage.googleapis.com", "gemini/"),
        "mistral" => ("api.mistral.ai", "mistral/"),
        "deepseek" => ("api.deepseek.com", "deepseek/"),
        "xai" => ("api.x.ai", "xai/"),
        "groq" => ("api.groq.com", "groq/"),
        "together_ai" => ("api.together.xyz", "together_ai/"),
        "fireworks_ai" => ("api.fireworks.ai", "fireworks_ai/"),
        "openrouter" => ("openrouter.ai", "openrouter/"),
        "deepinfra" => ("api.deepinfra.com", "deepinfra/"),
        "bedrock" => ("bedrock-runtime.us-east-1.amazonaws.com", ""),
        "vertex_ai" => ("us-central1-aiplatform.googleapis.com", "vertex_ai/"),
        "azure" => (
            "https://acme.openai.azure.com/openai/deployments/x",
            "azure/",
        ),
        _ => return None,
    })
}

const INPUT: i64 = 1_000;
const CACHED: i64 = 400;
const OUTPUT: i64 = 300;

/// 1,000 input tokens of which 400 cache reads, 300 output: at LiteLLM's rates, a cache
/// read at the input rate where it has none.
fn expected(e: &Entry) -> Decimal {
    let input = per_token(e, "input_cost_per_token").unwrap_or_default();
    let cached = per_token(e, "cache_read_input_token_cost").unwrap_or(input);
    let output = per_token(e, "output_cost_per_token").unwrap_or_default();
    Decimal::from(INPUT - CACHED) * input
        + Decimal::from(CACHED) * cached
        + Decimal::from(OUTPUT) * output
}

fn span(i: usize, model: &str, attrs: Vec<Value>) -> Value {
    let mut all = vec![
        json!({"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}),
        json!({"key": "gen_ai.request.model", "value": {"stringValue": model}}),
        json!({"key": "gen_ai.usage.input_tokens", "value": {"intValue": INPUT.to_string()}}),
        json!({"key": "gen_ai.usage.cache_read.input_tokens", "value": {"intValue": CACHED.to_string()}}),
        json!({"key": "gen_ai.usage.output_tokens", "value": {"intValue": OUTPUT.to_string()}}),
    ];
    all.extend(attrs);
    json!({
        "traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1), "name": "chat",
        // 2026-11-30: today's prices.
        "kind": 3, "startTimeUnixNano": "1764460800000000000", "endTimeUnixNano": "1764460800000000001",
        "attributes": all,
    })
}

/// Entries whose shipped price differs from LiteLLM's on purpose: the first column of
/// `pricing/LITELLM_DIFF.md`'s table of differences, each with its reason there.
fn explained() -> Vec<String> {
    let md =
        std::fs::read_to_string(crate::common::root().join("pricing/LITELLM_DIFF.md")).unwrap();
    let section = md
        .split("## Shipped models whose prices differ")
        .nth(1)
        .unwrap();
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| model"))
        .filter_map(|l| l.split('|').nth(2).map(|k| k.trim().to_string()))
        .collect()
}

/// Prices every case's span and returns, per LiteLLM provider, (calls, priced exactly),
/// with the misses listed.
fn run(cases: &[(String, String, Value)]) -> (BTreeMap<String, (u64, u64)>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let spans: Vec<Value> = cases.iter().map(|(_, _, s)| s.clone()).collect();
    let doc = json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
    let path = dir.path().join("all.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = traces_command()
        .args(["cost", "--by", "trace", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Costs are read as the text written: a double would round them.
    #[derive(serde::Deserialize)]
    struct Row {
        trace_id: String,
        cost_usd: Box<serde_json::value::RawValue>,
        unpriced_calls: u64,
        fallback_priced_calls: u64,
    }
    #[derive(serde::Deserialize)]
    struct Report {
        rows: Vec<Row>,
    }
    let r: Report = serde_json::from_slice(&out.stdout).unwrap();
    let rows: BTreeMap<String, Row> = r
        .rows
        .into_iter()
        .map(|row| (row.trace_id.clone(), row))
        .collect();
    let data = litellm();
    let mut share: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut misses = Vec::new();
    for (i, (key, provider, _)) in cases.iter().enumerate() {
        let row = &rows[&format!("{:032x}", i + 1)];
        let want = expected(&data[key]);
        let got = Decimal::from_str(row.cost_usd.get()).unwrap();
        let exact = got == want && row.unpriced_calls == 0 && row.fallback_priced_calls == 0;
        let s = share.entry(provider.clone()).or_default();
        s.0 += 1;
        if exact {
            s.1 += 1;
        } else {
            misses.push(format!(
                "{key} ({provider}): {got} vs LiteLLM's {want}, unpriced {}, fallback {}",
                row.unpriced_calls, row.fallback_priced_calls
            ));
        }
    }
    (share, misses)
}

/// Prices the cases, prints the share priced exactly per provider, and fails on a miss.
fn all_exact(what: &str, cases: &[(String, String, Value)]) {
    let (share, misses) = run(cases);
    report(what, &share, &misses);
    assert!(
        misses.is_empty(),
        "{} of {} missed:\n{}",
        misses.len(),
        cases.len(),
        misses.join("\n")
    );
}

fn report(what: &str, share: &BTreeMap<String, (u64, u64)>, misses: &[String]) {
    let (all, exact) = share.values().fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1));
    println!("{what}: {exact} of {all} priced exactly");
    for (p, (n, e)) in share {
        println!("  {p}: {e}/{n}");
    }
    for m in misses.iter().take(40) {
        println!("  miss: {m}");
    }
}

#[test]
fn every_litellm_price_is_charged_exactly_as_litellm_would() {
    let data = litellm();
    assert!(data.len() > 3500, "{} entries", data.len());
    let explained = explained();
    let cases: Vec<(String, String, Value)> = data
        .iter()
        .filter(|(k, _)| !explained.contains(k))
        .enumerate()
        .map(|(i, (key, e))| {
            let provider = provider_of(e);
            let attrs = vec![
                json!({"key": "gen_ai.system", "value": {"stringValue": span_provider(&provider)}}),
            ];
            (key.clone(), provider, span(i, key, attrs))
        })
        .collect();
    all_exact("by name and gen_ai.system", &cases);
}

#[test]
fn the_endpoint_alone_says_which_provider_to_charge() {
    let data = litellm();
    let explained = explained();
    let bare: Vec<(String, String, String, &str)> = data
        .iter()
        .filter(|(k, _)| !explained.contains(k))
        .filter_map(|(key, e)| {
            let provider = provider_of(e);
            let (host, route) = endpoint(&provider)?;
            let model = key.strip_prefix(route).unwrap_or(key);
            Some((key.clone(), provider, model.to_string(), host))
        })
        .collect();
    // Where LiteLLM lists one model of one endpoint under two keys at two prices
    // (`gemini-exp-1206` and `gemini/gemini-exp-1206`), the endpoint cannot say which;
    // those are left out, and counted.
    let mut prices: BTreeMap<(&str, String), std::collections::BTreeSet<Decimal>> = BTreeMap::new();
    for (key, _, model, host) in &bare {
        prices
            .entry((host, model.to_ascii_lowercase()))
            .or_default()
            .insert(expected(&data[key]));
    }
    let ambiguous = bare
        .iter()
        .filter(|(_, _, m, h)| prices[&(*h, m.to_ascii_lowercase())].len() > 1)
        .count();
    println!("{ambiguous} entries left out: one name at two prices on one endpoint");
    assert!(ambiguous < 20, "{ambiguous}");
    let cases: Vec<(String, String, Value)> = bare
        .into_iter()
        .filter(|(_, _, m, h)| prices[&(*h, m.to_ascii_lowercase())].len() == 1)
        .enumerate()
        .map(|(i, (key, provider, model, host))| {
            let attrs = vec![json!({"key": "server.address", "value": {"stringValue": host}})];
            let s = span(i, &model, attrs);
            (key, provider, s)
        })
        .collect();
    assert!(cases.len() > 1000, "{}", cases.len());
    all_exact("by the endpoint alone", &cases);
}
