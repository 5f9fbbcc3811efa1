//! Dialects, round two: dumps made by the real Anthropic, Gemini, LiteLLM, Agents SDK,
//! LangGraph and Vercel AI SDK clients and their instrumentations against local fake
//! providers (`testdata/generate/{anthropic,gemini,litellm,agents,aisdk}/`), checked call
//! by call and per trace, session, user and model against the fake server's ledger
//! (`testdata/expected/llm/<sdk>/truth.json`): tokens of every kind, and cost priced
//! here from LiteLLM's own per-token prices. Where an SDK records something other than
//! what the server sent, the expectation says so and follows the dump (the generators'
//! READMEs document each defect).

use crate::common::{root, text, traces_command};
use crate::pricing_coverage::{Entry, litellm, per_token};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use traces::analysis::calls::LlmCall;

/// One call as the report should count it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Expected {
    pub(crate) request_no: i64,
    pub(crate) trace_id: Option<String>,
    pub(crate) session: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) model: String,
    /// LiteLLM's key for the model's price.
    pub(crate) price_key: String,
    pub(crate) input: i64,
    pub(crate) cache_read: i64,
    pub(crate) cache_write: i64,
    /// The part of `cache_write` the span says was written for an hour.
    pub(crate) cache_write_1h: i64,
    pub(crate) output: i64,
    pub(crate) reasoning: i64,
}

/// What an SDK's dump records differently from the wire, by request number.
#[derive(Default)]
struct Defects {
    /// Only the total cache write is recorded: the 1-hour part is priced as 5-minute.
    no_1h_split: bool,
    /// No reasoning count is recorded for these requests.
    no_reasoning: &'static [i64],
    /// No cache-read count is recorded for these requests.
    no_cache_read: &'static [i64],
    /// The streamed output adds `message_start`'s provisional count (4) to the final one.
    stream_output_plus: (&'static [i64], i64),
    /// The session id is scrubbed away (Logfire's default): these calls have none.
    session_scrubbed: bool,
    /// The configured model name is recorded, not the dated one the server answered.
    configured_model: &'static [(i64, &'static str)],
    /// The requested model name is recorded for these requests (`ALL`: every one).
    requested_model: &'static [i64],
    /// These calls' spans left the app's trace for one of their own (its id is in the
    /// truth's `known_sdk_defects`, read off the dump), and with it the trace's session.
    own_trace: &'static [i64],
    /// Requests that name no user get this one: the owner of the proxy key.
    key_owner: Option<&'static str>,
}

const ALL: &[i64] = &[0];

fn defects(sdk: &str) -> Defects {
    match sdk {
        // testdata/generate/anthropic/README.md: OpenInference and the official GenAI
        // instrumentation record the cache write as one count.
        "anthropic-oi" | "anthropic-otel-genai" => Defects {
            no_1h_split: true,
            ..Default::default()
        },
        // Traceloop sums output over the stream's events, message_start's 4 included,
        // and records no thinking count.
        "anthropic-traceloop" => Defects {
            no_1h_split: true,
            no_reasoning: &[12, 13],
            stream_output_plus: (&[5, 9, 13], 4),
            ..Default::default()
        },
        "anthropic-logfire" | "gemini-logfire" => Defects {
            session_scrubbed: true,
            ..Default::default()
        },
        // testdata/generate/agents/README.md: OpenInference's Agents instrumentation
        // reads only input and output of a Chat Completions generation; the SDK records
        // the configured model name for it.
        "agents-oi" => Defects {
            no_reasoning: &[4],
            no_cache_read: &[3],
            configured_model: &[(3, "gpt-4o-mini"), (4, "gpt-4o-mini")],
            ..Default::default()
        },
        "agents-logfire" => Defects {
            configured_model: &[(3, "gpt-4o-mini"), (4, "gpt-4o-mini")],
            ..Default::default()
        },
        // testdata/generate/aisdk/README.md: @ai-sdk/otel's default options record no
        // reasoning count.
        "aisdk7" => Defects {
            no_reasoning: &[4, 8],
            ..Default::default()
        },
        // testdata/generate/litellm/README.md: the SDK logs a sync stream's success on a
        // worker thread without the caller's context, and names the requested model.
        "litellm" => Defects {
            requested_model: &[5, 13],
            own_trace: &[5, 13],
            ..Default::default()
        },
        // The proxy names the router's model group as the response model.
        "litellm-proxy" => Defects {
            requested_model: ALL,
            key_owner: Some("default_user_id"),
            ..Default::default()
        },
        _ => Defects::default(),
    }
}

fn truth(sdk: &str) -> Value {
    let p = root().join(format!("testdata/expected/llm/{sdk}/truth.json"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn price_key(provider: &str, model: &str) -> String {
    match (provider, model) {
        ("gemini", _) => format!("gemini/{model}"),
        // LiteLLM lists this model only on Bedrock (at Anthropic's price).
        (_, "claude-3-5-sonnet-20241022") => "anthropic.claude-3-5-sonnet-20241022-v2:0".into(),
        _ => model.to_string(),
    }
}

/// The ledger's calls that have usage, as the report should count them.
pub(crate) fn expected(sdk: &str) -> Vec<Expected> {
    let t = truth(sdk);
    let d = defects(sdk);
    let n = |v: &Value, k: &str| v[k].as_i64().unwrap_or(0);
    let recorded_trace = |k: i64| {
        t["known_sdk_defects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["request_no"] == k && x["field"] == "trace_id")
            .and_then(|x| x["recorded"].as_str())
            .map(String::from)
            .unwrap_or_else(|| panic!("{sdk}: request {k}: no recorded trace id"))
    };
    t["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["usage"].is_object())
        .map(|c| {
            let u = &c["usage"];
            // Calls the app made without a server (Langfuse's manual generations) are
            // numbered apart, negative here.
            let k = c["request_no"]
                .as_i64()
                .or_else(|| c["manual_no"].as_i64().map(|n| -n))
                .unwrap();
            let model = c["model"].as_str().unwrap().to_string();
            let mut e = Expected {
                request_no: k,
                trace_id: c["trace_id"].as_str().map(String::from),
                session: c["session_id"].as_str().map(String::from),
                user: c["user_id"].as_str().map(String::from),
                price_key: price_key(c["provider"].as_str().unwrap_or("openai"), &model),
                model,
                input: n(u, "input_tokens"),
                cache_read: n(u, "cached_input_tokens"),
                cache_write: n(u, "cache_write_tokens"),
                cache_write_1h: n(u, "cache_write_1h_tokens"),
                output: n(u, "output_tokens"),
                reasoning: n(u, "reasoning_tokens"),
            };
            if d.no_1h_split {
                e.cache_write_1h = 0;
            }
            if d.no_reasoning.contains(&k) {
                e.reasoning = 0;
            }
            if d.no_cache_read.contains(&k) {
                e.cache_read = 0;
            }
            if d.stream_output_plus.0.contains(&k) {
                e.output += d.stream_output_plus.1;
            }
            if d.session_scrubbed {
                e.session = None;
            }
            if let Some((_, m)) = d.configured_model.iter().find(|(r, _)| *r == k) {
                e.model = m.to_string();
            }
            if d.requested_model == ALL || d.requested_model.contains(&k) {
                e.model = c["requested_model"].as_str().unwrap().to_string();
                e.price_key = price_key(c["provider"].as_str().unwrap_or("openai"), &e.model);
            }
            if e.user.is_none() {
                e.user = d.key_owner.map(String::from);
            }
            if d.own_trace.contains(&k) {
                e.trace_id = Some(recorded_trace(k));
                e.session = None;
            }
            e
        })
        .collect()
}

/// LiteLLM's arithmetic for one call: uncached input, cache reads, 5-minute and 1-hour
/// writes and output, each at its own per-token price.
pub(crate) fn litellm_cost(prices: &BTreeMap<String, Entry>, e: &Expected) -> Decimal {
    let p = prices
        .get(&e.price_key)
        .unwrap_or_else(|| panic!("no LiteLLM price for {}", e.price_key));
    let rate = |k: &str| per_token(p, k);
    let input = rate("input_cost_per_token").unwrap();
    let output = rate("output_cost_per_token").unwrap();
    let read = rate("cache_read_input_token_cost").unwrap_or(input);
    let write_5m = rate("cache_creation_input_token_cost").unwrap_or(input);
    let write_1h = rate("cache_creation_input_token_cost_above_1hr").unwrap_or(write_5m);
    let reasoning = rate("output_cost_per_reasoning_token").unwrap_or(output);
    let d = Decimal::from;
    d(e.input - e.cache_read - e.cache_write) * input
        + d(e.cache_read) * read
        + d(e.cache_write - e.cache_write_1h) * write_5m
        + d(e.cache_write_1h) * write_1h
        + d(e.output - e.reasoning) * output
        + d(e.reasoning) * reasoning
}

/// Every call counted once, with the ledger's numbers, ids, session, user and model.
fn check_calls(sdk: &str) {
    let want = expected(sdk);
    let (_dir, calls, _) = crate::dialects::imported(sdk);
    let calls = calls.calls;
    let mut by_input: HashMap<i64, Vec<&LlmCall>> = HashMap::new();
    for c in &calls {
        by_input
            .entry(c.usage.input.unwrap_or(-1))
            .or_default()
            .push(c);
    }
    for e in &want {
        let ctx = format!("{sdk}: request {}", e.request_no);
        let found = by_input
            .get(&e.input)
            .unwrap_or_else(|| panic!("{ctx}: no counted call with input {}", e.input));
        assert_eq!(found.len(), 1, "{ctx}: counted {} times", found.len());
        let c = found[0];
        let u = c.usage;
        let got = [
            u.cache_read.unwrap_or(0),
            u.cache_write.unwrap_or(0),
            u.cache_write_1h.unwrap_or(0),
            u.output.unwrap_or(0),
            u.reasoning.unwrap_or(0),
        ];
        let wanted = [
            e.cache_read,
            e.cache_write,
            e.cache_write_1h,
            e.output,
            e.reasoning,
        ];
        assert_eq!(
            got, wanted,
            "{ctx}: [cache read, cache write, of it 1h, output, reasoning]"
        );
        if let Some(t) = &e.trace_id {
            assert_eq!(&c.trace_id.to_string(), t, "{ctx}: trace");
        }
        assert_eq!(c.session_id, e.session, "{ctx}: session");
        assert_eq!(c.user_id, e.user, "{ctx}: user");
        assert_eq!(c.model(), Some(e.model.as_str()), "{ctx}: model");
    }
    assert_eq!(calls.len(), want.len(), "{sdk}: counted calls");
}

/// `traces cost DUMP --by <dim>` per group: tokens summed from the ledger and cost priced
/// here, to the last digit.
fn check_reports(sdk: &str) {
    let want = expected(sdk);
    let prices = litellm();
    let dump = root().join("testdata/llm").join(sdk);
    type Key = fn(&Expected) -> Option<String>;
    let dims: [(&str, &str, Key); 4] = [
        ("trace", "trace_id", |e| e.trace_id.clone()),
        ("session", "session_id", |e| e.session.clone()),
        ("user", "user_id", |e| e.user.clone()),
        ("model", "model", |e| Some(e.model.clone())),
    ];
    for (dim, field, key) in dims {
        if dim == "trace" && want.iter().any(|e| e.trace_id.is_none()) {
            continue;
        }
        let out = traces_command()
            .args(["--store", "/nonexistent-store", "cost", "--format", "json"])
            .args(["--by", dim])
            .arg(&dump)
            .output()
            .unwrap();
        assert!(out.status.success(), "{sdk}: {}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut groups: BTreeMap<Option<String>, [Decimal; 6]> = BTreeMap::new();
        for e in &want {
            let g = groups.entry(key(e)).or_default();
            let add = [
                Decimal::from(e.input),
                Decimal::from(e.cache_read),
                Decimal::from(e.cache_write),
                Decimal::from(e.output),
                Decimal::from(e.reasoning),
                litellm_cost(&prices, e),
            ];
            for (s, a) in g.iter_mut().zip(add) {
                *s += a;
            }
        }
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows.len(), groups.len(), "{sdk} --by {dim}: {rows:?}");
        for r in rows {
            let k = r[field].as_str().map(String::from);
            let w = groups
                .get(&k)
                .unwrap_or_else(|| panic!("{sdk} --by {dim}: unexpected group {k:?}"));
            let num = |f: &str| Decimal::from_str(&r[f].to_string()).unwrap();
            let got = [
                num("input_tokens"),
                num("cache_read_tokens"),
                num("cache_write_tokens"),
                num("output_tokens"),
                num("reasoning_tokens"),
                num("cost_usd"),
            ];
            assert_eq!(
                got.map(|d| d.normalize()),
                w.map(|d| d.normalize()),
                "{sdk} --by {dim} {k:?}: [input, cache read, cache write, output, reasoning, cost]"
            );
            assert_eq!(r["unpriced_calls"], 0, "{sdk} --by {dim} {k:?}");
        }
    }
}

macro_rules! ledger_tests {
    ($($name:ident => $sdk:literal,)*) => {$(
        #[test]
        fn $name() {
            check_calls($sdk);
            check_reports($sdk);
        }
    )*};
}

ledger_tests! {
    anthropic_openinference => "anthropic-oi",
    anthropic_traceloop => "anthropic-traceloop",
    anthropic_logfire => "anthropic-logfire",
    anthropic_official_genai => "anthropic-otel-genai",
    anthropic_sdk_own_tracing => "anthropic-sdk",
    anthropic_openinference_beside_the_sdk_own_tracing => "anthropic-oi-plus-sdk",
    gemini_openinference => "gemini-oi",
    gemini_official_genai => "gemini-otel-genai",
    gemini_logfire => "gemini-logfire",
    gemini_traceloop_thoughts_recovered_from_the_total => "gemini-traceloop",
    openai_agents_openinference => "agents-oi",
    openai_agents_logfire => "agents-logfire",
    langgraph_openinference => "langgraph-oi",
    vercel_ai_sdk_4 => "aisdk4",
    vercel_ai_sdk_7 => "aisdk7",
    vercel_ai_sdk_7_with_usage_details => "aisdk7-full",
    litellm_sdk => "litellm",
    litellm_proxy => "litellm-proxy",
    langfuse_sdk_2_ingestion_batches => "langfuse2",
}

/// LiteLLM records its own cost of every call: `traces` shows it beside the computed
/// one, and says so when the two differ by more than rounding (here: a price file that
/// prices gpt-4o-mini at twice LiteLLM's rates), from the dump and from the store alike.
#[test]
fn a_recorded_cost_that_differs_from_the_computed_one_is_reported() {
    let dump = root().join("testdata/llm/litellm");
    let want = expected("litellm");
    let prices = litellm();
    let cost = |args: &[&str], store: &str, direct: bool| -> (Value, String) {
        let mut cmd = traces_command();
        cmd.args(["--store", store]).args(args);
        cmd.args(["cost", "--by", "model", "--format", "json"]);
        if direct {
            cmd.arg(&dump);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        (
            serde_json::from_slice(&out.stdout).unwrap(),
            text(&out.stderr),
        )
    };
    let (agreeing, stderr) = cost(&[], "/nonexistent-store", true);
    assert_eq!(agreeing["recorded_cost_mismatch"], serde_json::json!([]));
    assert!(!stderr.contains("recorded a cost"), "{stderr}");
    // Every priced call carries LiteLLM's cost, and it is the ledger's price.
    for r in agreeing["rows"].as_array().unwrap() {
        assert_eq!(
            r["recorded_cost_usd"].as_f64().map(|f| (f * 1e9).round()),
            r["cost_usd"].as_f64().map(|f| (f * 1e9).round()),
            "{r}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let doubled = dir.path().join("doubled.toml");
    std::fs::write(
        &doubled,
        "[[model]]\nid = \"gpt-4o-mini-2024-07-18\"\nprovider = \"openai\"\n[[model.price]]\ninput = \"0.30\"\ncached_input = \"0.15\"\noutput = \"1.20\"\n",
    )
    .unwrap();
    let store = dir.path().join("store").display().to_string();
    let imported = traces_command()
        .args(["--store", &store, "import"])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(imported.status.success());
    let pricing = ["--pricing", doubled.to_str().unwrap()];
    let dated: Vec<&Expected> = want
        .iter()
        .filter(|e| e.model == "gpt-4o-mini-2024-07-18")
        .collect();
    let recorded: Decimal = dated.iter().map(|e| litellm_cost(&prices, e)).sum();
    for (direct, at) in [(true, "/nonexistent-store"), (false, store.as_str())] {
        let (report, stderr) = cost(&pricing, at, direct);
        let m = report["recorded_cost_mismatch"].as_array().unwrap();
        assert_eq!(m.len(), 1, "{report}");
        assert_eq!(m[0]["model"], "gpt-4o-mini-2024-07-18");
        assert_eq!(m[0]["calls"], dated.len());
        let computed = Decimal::from_str(&m[0]["computed_usd"].to_string()).unwrap();
        assert_eq!(computed, recorded * Decimal::from(2), "direct: {direct}");
        let r = m[0]["recorded_usd"].as_f64().unwrap();
        assert!(
            (r - recorded.to_string().parse::<f64>().unwrap()).abs() < 1e-12,
            "{r} vs {recorded}"
        );
        assert!(
            stderr.contains(&format!(
                "{} call(s) of \"gpt-4o-mini-2024-07-18\" recorded a cost",
                dated.len()
            )),
            "{stderr}"
        );
    }
}

/// A 1-hour cache write priced at the 5-minute rate costs less: the split the SDK's own
/// tracing records is what makes the difference, and it is priced.
#[test]
fn the_one_hour_split_changes_the_price() {
    let prices = litellm();
    let with_split: Decimal = expected("anthropic-sdk")
        .iter()
        .map(|e| litellm_cost(&prices, e))
        .sum();
    let without: Decimal = expected("anthropic-oi")
        .iter()
        .map(|e| litellm_cost(&prices, e))
        .sum();
    assert!(with_split > without, "{with_split} vs {without}");
}
