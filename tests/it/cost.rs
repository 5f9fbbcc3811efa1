//! `traces cost` and `traces pricing` as a user runs them, on the real-SDK dumps; costs
//! are recomputed here, independently, from the shipped TOML and the ledger's tokens.

use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::str::FromStr;

use crate::common::{import_files, imports, parquet_files, root, text, traces_command};

fn traces(args: &[&str]) -> Output {
    traces_command().args(args).output().unwrap()
}

fn store_with(sdks: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    for sdk in sdks {
        let p = root().join("testdata/llm").join(sdk).display().to_string();
        let out = traces(&["--store", &store, "import", &p]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    (dir, store)
}

fn cost_json(args: &[&str]) -> Value {
    let out = traces(args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap_or_else(|_| panic!("not a decimal: {v}"))
}

/// USD per million tokens of a model, read from the shipped TOML by the test itself.
fn shipped_rates(file: &str, id: &str) -> (Decimal, Decimal, Decimal) {
    let t: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("pricing").join(file)).unwrap())
            .unwrap();
    let m = t["model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_str() == Some(id))
        .unwrap();
    let p = &m["price"][0];
    let d = |k: &str| Decimal::from_str(p[k].as_str().unwrap()).unwrap();
    (d("input"), d("cached_input"), d("output"))
}

fn ledger(sdk: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(root().join(format!("testdata/expected/llm/{sdk}/truth.json"))).unwrap(),
    )
    .unwrap()
}

/// Per session: tokens equal the ledger, and cost equals tokens × the table's prices.
#[test]
fn cost_by_session_matches_the_ledger_and_the_prices() {
    let (_d, store) = store_with(&["oi"]);
    let report = cost_json(&[
        "--store", &store, "cost", "--by", "session", "--format", "json",
    ]);
    assert_eq!(report["group_by"], serde_json::json!(["session"]));
    let (chat_in, chat_cached, chat_out) = shipped_rates("openai.toml", "gpt-4o-mini-2024-07-18");
    let t = ledger("oi");
    let mut want: BTreeMap<Option<String>, (i64, i64, Decimal)> = BTreeMap::new();
    for c in t["calls"].as_array().unwrap() {
        let Some(u) = c["usage"].as_object() else {
            continue;
        };
        let (i, cached, o) = (
            u["input_tokens"].as_i64().unwrap(),
            u["cached_input_tokens"].as_i64().unwrap(),
            u["output_tokens"].as_i64().unwrap(),
        );
        let (rin, rcached, rout) = match c["model"].as_str().unwrap() {
            "gpt-4o-mini-2024-07-18" => (chat_in, chat_cached, chat_out),
            other => {
                let id = other.to_string();
                shipped_rates("openai.toml", &id)
            }
        };
        let cost = (Decimal::from(i - cached) * rin
            + Decimal::from(cached) * rcached
            + Decimal::from(o) * rout)
            / Decimal::from(1_000_000);
        let e = want
            .entry(c["session_id"].as_str().map(String::from))
            .or_default();
        e.0 += i;
        e.1 += o;
        e.2 += cost;
    }
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    for r in rows {
        let key = r["session_id"].as_str().map(String::from);
        let (i, o, cost) = want[&key];
        assert_eq!(r["input_tokens"].as_i64(), Some(i), "{key:?}");
        assert_eq!(r["output_tokens"].as_i64(), Some(o), "{key:?}");
        assert_eq!(dec(&r["cost_usd"]), cost.normalize(), "{key:?}");
        assert_eq!(r["unpriced_calls"], 0);
    }
    let total: Decimal = want.values().map(|v| v.2).sum();
    assert_eq!(dec(&report["total"]["cost_usd"]), total.normalize());
}

/// The rows add up to the total to the last digit, in every format.
#[test]
fn rows_sum_to_the_total_in_every_format() {
    let (_d, store) = store_with(&["oi", "catalyst", "langfuse"]);
    for by in [
        &["--by", "trace"][..],
        &["--by", "user", "--by", "model"],
        &["--by", "day"],
        &["--by", "session", "--top", "3"],
    ] {
        let mut args = vec!["--store", store.as_str(), "cost", "--format", "json"];
        args.extend_from_slice(by);
        let r = cost_json(&args);
        let rows = r["rows"].as_array().unwrap();
        let sum: Decimal = rows.iter().map(|x| dec(&x["cost_usd"])).sum();
        assert_eq!(sum, dec(&r["total"]["cost_usd"]), "{by:?}");
        for k in [
            "calls",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "reasoning_tokens",
            "total_tokens",
        ] {
            let s: i64 = rows.iter().map(|x| x[k].as_i64().unwrap()).sum();
            assert_eq!(Some(s), r["total"][k].as_i64(), "{by:?} {k}");
        }
        // CSV: the last line is the total, and the cost column adds up too.
        let mut csv_args = vec!["--store", store.as_str(), "cost", "--format", "csv"];
        csv_args.extend_from_slice(by);
        let csv = text(&traces(&csv_args).stdout);
        let mut rdr = csv::Reader::from_reader(csv.as_bytes());
        let headers = rdr.headers().unwrap().clone();
        let ci = headers.iter().position(|h| h == "cost_usd").unwrap();
        let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
        let (total, body) = recs.split_last().unwrap();
        let s: Decimal = body
            .iter()
            .map(|r| Decimal::from_str(&r[ci]).unwrap())
            .sum();
        assert_eq!(s, Decimal::from_str(&total[ci]).unwrap(), "{by:?} csv");
    }
    let md = text(
        &traces(&[
            "--store", &store, "cost", "--by", "model", "--format", "markdown",
        ])
        .stdout,
    );
    assert!(md.lines().nth(1).unwrap().contains("---:"), "{md}");
    assert!(md.lines().last().unwrap().contains("**TOTAL**"), "{md}");
    let table = text(&traces(&["--store", &store, "cost", "--by", "model"]).stdout);
    assert!(
        table.contains("TOTAL") && table.contains("51,528"),
        "thousands separators: {table}"
    );
}

/// Reports from the store's calls tables equal reports attributed straight from the
/// dumps, for every SDK's dump at once and every kind of group.
#[test]
fn reading_dumps_directly_equals_reading_the_store() {
    let all = root().join("testdata/llm").display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let out = traces(&["--store", &store, "import", &all]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for by in [
        &["session", "model"][..],
        &["trace"],
        &["user"],
        &["day", "provider"],
        &["hour", "service", "name"],
    ] {
        let mut report = vec!["cost", "--format", "json"];
        for b in by {
            report.extend(["--by", b]);
        }
        let mut from_store = vec!["--store", store.as_str()];
        from_store.extend(&report);
        let mut direct = vec!["--store", "/nonexistent-store"];
        direct.extend(&report);
        direct.push(&all);
        let viewed = cost_json(&from_store);
        assert_eq!(viewed, cost_json(&direct), "--by {by:?}");
        assert!(viewed["total"]["calls"].as_u64().unwrap() > 50, "{viewed}");
    }
}

/// The first release wrote trace ids as hex text in its calls tables: such a store
/// reports from its spans, to the same numbers.
#[test]
fn calls_tables_with_text_ids_are_not_misread() {
    use polars::prelude::*;
    let (_d, store) = store_with(&["catalyst"]);
    let report = |store: &str| {
        cost_json(&[
            "--store", store, "cost", "--by", "trace", "--format", "json",
        ])
    };
    let before = report(&store);
    let files = parquet_files(&Path::new(&store).join("calls"));
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let mut df = ParquetReader::new(std::fs::File::open(file).unwrap())
        .finish()
        .unwrap();
    let hex: Vec<Option<String>> = df
        .column("trace_id")
        .unwrap()
        .binary()
        .unwrap()
        .iter()
        .map(|b| b.map(|b| b.iter().map(|x| format!("{x:02x}")).collect()))
        .collect();
    df.with_column(Column::new("trace_id".into(), hex)).unwrap();
    ParquetWriter::new(std::fs::File::create(file).unwrap())
        .finish(&mut df)
        .unwrap();
    let after = report(&store);
    assert!(before["rows"].as_array().unwrap().len() >= 3, "{before}");
    assert_eq!(before, after);
}

/// Past `TRACES_SPILL_ROWS` rows, a dump's traces are attributed from temporary files a
/// partition at a time; the report is the same to the digit, on every SDK's dump at once
/// (so traces of several producers share the partitions).
#[test]
fn a_dump_spilled_to_partitions_reports_the_same() {
    let all = root().join("testdata/llm").display().to_string();
    let args = [
        "--store",
        "/nonexistent-store",
        "cost",
        "--by",
        "session",
        "--by",
        "model",
        "--format",
        "json",
        &all,
    ];
    let in_memory = cost_json(&args);
    let out = traces_command()
        .args(args)
        .env("TRACES_SPILL_ROWS", "7")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let spilled: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        in_memory["total"]["calls"].as_u64().unwrap() > 50,
        "{in_memory}"
    );
    assert_eq!(in_memory, spilled);

    // An import spilling its rows writes its calls table a partition at a time.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let out = traces_command()
        .args(["--store", &store, "import", &all])
        .env("TRACES_SPILL_ROWS", "7")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // One table per day of the import, as the manifest names them.
    let tables = parquet_files(&dir.path().join("store/calls"));
    let named = import_files(&dir.path().join("store"), 0, "calls_file");
    assert_eq!(imports(&dir.path().join("store")).len(), 1);
    assert_eq!(tables.len(), named.len());
    assert!(named.len() > 1, "{named:?}");
    let mut from_store = args;
    from_store[1] = &store;
    assert_eq!(in_memory, cost_json(&from_store[..from_store.len() - 1]));
}

#[test]
fn double_instrumentation_is_priced_once() {
    let (_d, store) = store_with(&["langfuse-plus-oi"]);
    let r = cost_json(&["--store", &store, "cost", "--format", "json"]);
    let t = ledger("langfuse-plus-oi");
    assert_eq!(r["total"]["input_tokens"], t["totals"]["input_tokens"]);
    assert_eq!(r["total"]["calls"], t["totals"]["calls_with_usage"]);
}

#[test]
fn filters() {
    let (_d, store) = store_with(&["oi"]);
    let one = |extra: &[&str]| {
        let mut a = vec!["--store", store.as_str(), "cost", "--format", "json"];
        a.extend_from_slice(extra);
        cost_json(&a)["total"].clone()
    };
    assert_eq!(one(&["--session", "sess-03-shared"])["calls"], 2);
    assert_eq!(one(&["--user", "user-bob"])["input_tokens"], 2187);
    let ledger = ledger("oi");
    let mini = ledger["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["usage"].is_object() && c["model"].as_str().unwrap().starts_with("gpt-4o-mini")
        })
        .count();
    assert_eq!(one(&["--model", "gpt-4o-mini*"])["calls"], mini);
    assert_eq!(one(&["--model", "claude-*"])["calls"], 0);
    assert_eq!(one(&["--where", "session.id=sess-07-image"])["calls"], 1);
    assert_eq!(one(&["--until", "2000-01-01"])["calls"], 0);
    let by_attr = cost_json(&[
        "--store",
        &store,
        "cost",
        "--by",
        "attr:user.id",
        "--format",
        "json",
    ]);
    assert!(
        by_attr["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["user.id"] == "user-bob")
    );
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

/// A dump with one call per case, made from the OTLP/JSON shape the exporters write.
fn one_call_dump(dir: &Path, calls: &[(&str, i64, i64, i64, i64, &str)]) -> String {
    let spans: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (model, input, cached, output, start_ns, tier))| {
            let mut attrs = vec![
                serde_json::json!({"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}),
                serde_json::json!({"key": "gen_ai.response.model", "value": {"stringValue": model}}),
                serde_json::json!({"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}}),
                serde_json::json!({"key": "gen_ai.usage.cache_read.input_tokens", "value": {"intValue": cached.to_string()}}),
                serde_json::json!({"key": "gen_ai.usage.output_tokens", "value": {"intValue": output.to_string()}}),
            ];
            if !tier.is_empty() {
                attrs.push(serde_json::json!({"key": "openai.response.service_tier", "value": {"stringValue": tier}}));
            }
            serde_json::json!({
                "traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1), "name": "chat",
                "kind": 3, "startTimeUnixNano": start_ns.to_string(), "endTimeUnixNano": (start_ns + 1).to_string(),
                "attributes": attrs
            })
        })
        .collect();
    let doc = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
    write(dir, "calls.json", &doc.to_string())
}

fn total_cost(dump: &str, extra: &[&str]) -> Decimal {
    let mut a = vec!["cost", "--format", "json", dump];
    a.extend_from_slice(extra);
    dec(&cost_json(&a)["total"]["cost_usd"])
}

const D2024_06_01: i64 = 1_717_200_000_000_000_000;
const D2025_06_01: i64 = 1_748_736_000_000_000_000;

#[test]
fn dated_prices_tiers_service_tiers_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let m = Decimal::from(1_000_000);
    let d = |s: &str| Decimal::from_str(s).unwrap();
    // gpt-4o before and after its 2024-10-02 price change.
    let before = one_call_dump(
        dir.path(),
        &[("gpt-4o", 1_000_000, 0, 1_000_000, D2024_06_01, "")],
    );
    assert_eq!(total_cost(&before, &[]), d("20"));
    let after = one_call_dump(
        dir.path(),
        &[("gpt-4o", 1_000_000, 0, 1_000_000, D2025_06_01, "")],
    );
    assert_eq!(total_cost(&after, &[]), d("12.5"));
    // Claude Sonnet 4.5 over 200K input: every token at the long-context rates.
    let long = one_call_dump(
        dir.path(),
        &[(
            "claude-sonnet-4-5-20250929",
            250_000,
            50_000,
            10_000,
            D2025_06_01,
            "",
        )],
    );
    let want = (d("200000") * d("6") + d("50000") * d("0.6") + d("10000") * d("22.5")) / m;
    assert_eq!(total_cost(&long, &[]), want.normalize());
    let short = one_call_dump(
        dir.path(),
        &[(
            "claude-sonnet-4-5-20250929",
            150_000,
            50_000,
            10_000,
            D2025_06_01,
            "",
        )],
    );
    let want = (d("100000") * d("3") + d("50000") * d("0.3") + d("10000") * d("15")) / m;
    assert_eq!(total_cost(&short, &[]), want.normalize());
    // gpt-5 under flex processing.
    let flex = one_call_dump(
        dir.path(),
        &[("gpt-5", 1_000_000, 0, 1_000_000, D2025_06_01, "flex")],
    );
    assert_eq!(total_cost(&flex, &[]), d("5.625"));
    // Cloud and prefixed forms resolve to the same entry.
    for name in [
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "openai/gpt-4o-mini",
        "models/gemini-2.0-flash",
        "vertex_ai/claude-3-7-sonnet@20250219",
        "GPT-4O-MINI",
    ] {
        let out = traces(&["pricing", "match", name]);
        assert!(out.status.success(), "{name}: {}", text(&out.stdout));
    }
    let out = text(&traces(&["pricing", "match", "claude-sonnet-4-5-20250929"]).stdout);
    assert!(out.contains("above 200000"), "{out}");
}

#[test]
fn unpriced_models_are_never_zero_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let dump = one_call_dump(
        dir.path(),
        &[
            ("my-finetune-v7", 1000, 0, 100, D2025_06_01, ""),
            ("gpt-4o-mini", 1000, 0, 100, D2025_06_01, ""),
        ],
    );
    let out = traces(&["cost", "--format", "json", &dump]);
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["total"]["unpriced_calls"], 1);
    assert_eq!(r["unpriced_models"][0]["model"], "my-finetune-v7");
    assert_eq!(r["unpriced_models"][0]["input_tokens"], 1000);
    assert!(
        text(&out.stderr).contains("no price for model \"my-finetune-v7\""),
        "{}",
        text(&out.stderr)
    );
    let strict = traces(&["cost", "--strict", &dump]);
    assert_eq!(strict.status.code(), Some(1));
    // An override file prices it, and a negotiated discount replaces a shipped price.
    let over = write(
        dir.path(),
        "prices.toml",
        "[[model]]\nid = \"my-finetune-v7\"\n[[model.price]]\ninput = \"1\"\noutput = \"2\"\n\n[[model]]\nid = \"gpt-4o-mini\"\n[[model.price]]\ninput = \"0.1\"\noutput = \"0.5\"\n",
    );
    let r = cost_json(&[
        "--pricing",
        &over,
        "cost",
        "--strict",
        "--format",
        "json",
        &dump,
    ]);
    assert_eq!(r["total"]["unpriced_calls"], 0);
    // 1,000 × $1 + 100 × $2 per million, and 1,000 × $0.10 + 100 × $0.50 per million.
    assert_eq!(
        dec(&r["total"]["cost_usd"]),
        Decimal::from_str("0.0012").unwrap() + Decimal::from_str("0.00015").unwrap()
    );
    // LiteLLM's JSON format works as an override too.
    let lite = write(
        dir.path(),
        "lite.json",
        r#"{"my-finetune-v7": {"input_cost_per_token": 2e-06, "output_cost_per_token": 4e-06, "litellm_provider": "openai", "mode": "chat"}}"#,
    );
    let r = cost_json(&["--pricing", &lite, "cost", "--format", "json", &dump]);
    assert_eq!(r["total"]["unpriced_calls"], 0);
    let bad = write(dir.path(), "bad.toml", "[[model]]\nid = 3\n");
    assert_eq!(
        traces(&["--pricing", &bad, "cost", &dump]).status.code(),
        Some(2)
    );
}

#[test]
fn pricing_list_covers_the_providers() {
    let out = traces(&["pricing", "list", "--format", "json"]);
    assert!(out.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.len() >= 100, "{}", rows.len());
    for p in [
        "openai",
        "anthropic",
        "gemini",
        "mistral",
        "deepseek",
        "xai",
        "groq",
        "together_ai",
    ] {
        assert!(rows.iter().any(|r| r["provider"] == p), "{p}");
    }
    for m in [
        "gpt-5",
        "gpt-4.1",
        "gpt-4o",
        "o3",
        "text-embedding-3-small",
        "claude-sonnet-4-5",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "gemini-2.5-pro",
        "gemini-2.0-flash",
        "gemini-1.5-pro",
        "deepseek-chat",
    ] {
        assert!(rows.iter().any(|r| r["model"] == m), "{m}");
    }
}

/// Splits an OTLP/JSON document's spans into two documents: even and odd positions.
/// Reports from the store read the calls tables imports leave. A trace whose spans
/// arrive over two imports is recomputed by the second: the report equals the one from
/// the dumps, and the one derived from the spans when the tables are absent (a store
/// written before they existed).
#[test]
fn calls_tables_follow_traces_split_across_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (firsts, seconds) = crate::common::catalyst_halves(dir.path());
    let shown = |v: Vec<std::path::PathBuf>| -> Vec<String> {
        v.iter().map(|p| p.display().to_string()).collect()
    };
    let (firsts, seconds) = (shown(firsts), shown(seconds));
    let store = dir.path().join("store").display().to_string();
    for batch in [&firsts, &seconds] {
        let mut args = vec!["--store", &store, "import"];
        args.extend(batch.iter().map(String::as_str));
        let out = traces(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let report = [
        "cost", "--by", "session", "--by", "model", "--format", "json",
    ];
    let mut from_store = vec!["--store", &store];
    from_store.extend(report);
    let viewed = cost_json(&from_store);
    let mut from_dumps = vec!["--store", "/nonexistent-store"];
    from_dumps.extend(report);
    from_dumps.extend(firsts.iter().chain(&seconds).map(String::as_str));
    assert_eq!(viewed, cost_json(&from_dumps));
    assert!(viewed["total"]["calls"].as_u64().unwrap() >= 5, "{viewed}");

    let manifest = Path::new(&store).join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let segments = m["segments"].as_array_mut().unwrap();
    assert_eq!(segments.len(), 2);
    for s in segments {
        assert!(s["calls_file"].is_string(), "{s}");
        s.as_object_mut().unwrap().remove("calls_file");
    }
    std::fs::write(&manifest, m.to_string()).unwrap();
    assert_eq!(viewed, cost_json(&from_store));
}

/// The import's summary counts the calls it wrote to its calls table: the same calls and
/// tokens as a report over the store says.
#[test]
fn import_summary_totals_match_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let all = root().join("testdata/llm").display().to_string();
    let out = traces(&["--store", &store, "import", &all]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    let line = summary
        .lines()
        .find(|l| l.starts_with("usage:"))
        .unwrap_or_else(|| panic!("no usage line in {summary}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter_map(|w| w.replace(',', "").parse().ok())
        .collect();
    let total = &cost_json(&["--store", &store, "cost", "--format", "json"])["total"];
    let want: Vec<u64> = ["calls", "input_tokens", "output_tokens"]
        .iter()
        .map(|k| total[k].as_u64().unwrap())
        .collect();
    assert!(want[0] > 50, "{total}");
    assert_eq!(numbers, want, "{line}");
}

/// Bedrock bills its own prices (regional inference profiles 10% over the vendor's,
/// some models far more), and a provider with no entry of its own is priced at the
/// vendor's list price only with a warning and a count of its own. Expected costs are
/// LiteLLM 1.110.2's per-token rates for 1,000 input and 1,000 output tokens.
#[test]
fn the_provider_that_served_a_call_decides_its_price() {
    let dir = tempfile::tempdir().unwrap();
    let span = |i: usize, model: &str, provider: Option<&str>| {
        let mut attrs = vec![
            serde_json::json!({"key": "gen_ai.request.model", "value": {"stringValue": model}}),
            serde_json::json!({"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}}),
            serde_json::json!({"key": "gen_ai.usage.output_tokens", "value": {"intValue": "1000"}}),
        ];
        if let Some(p) = provider {
            attrs.push(serde_json::json!({"key": "gen_ai.system", "value": {"stringValue": p}}));
        }
        serde_json::json!({
            "traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1), "name": "chat",
            "kind": 3, "startTimeUnixNano": D2025_06_01.to_string(), "endTimeUnixNano": (D2025_06_01 + 1).to_string(),
            "attributes": attrs
        })
    };
    let doc = |spans: Vec<Value>| {
        serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]})
            .to_string()
    };
    let cases = [
        // (model, span provider, cost of 1k + 1k tokens)
        ("us.anthropic.claude-opus-4-7", Some("anthropic"), "0.033"),
        ("anthropic.claude-opus-4-7", None, "0.030"),
        (
            "anthropic.claude-mythos-preview",
            Some("aws.bedrock"),
            "0.165",
        ),
        ("claude-mythos-preview", Some("anthropic"), "0.06"),
        ("claude-mythos-preview", Some("aws_bedrock"), "0.165"),
    ];
    for (i, (model, provider, want)) in cases.iter().enumerate() {
        let dump = write(
            dir.path(),
            &format!("c{i}.json"),
            &doc(vec![span(i, model, *provider)]),
        );
        let r = cost_json(&["cost", "--format", "json", &dump]);
        assert_eq!(
            dec(&r["total"]["cost_usd"]),
            Decimal::from_str(want).unwrap(),
            "{model} {provider:?}"
        );
        assert_eq!(r["total"]["fallback_priced_calls"], 0, "{model}");
    }

    // OpenRouter has no entry of its own for gpt-4o: OpenAI's list price, counted apart,
    // named, and --strict fails.
    let dump = write(
        dir.path(),
        "openrouter.json",
        &doc(vec![
            span(0, "gpt-4o", Some("openrouter")),
            span(1, "gpt-4o", Some("openai")),
        ]),
    );
    let store = dir.path().join("store").display().to_string();
    let imported = traces(&["--store", &store, "import", &dump]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    for args in [
        vec![
            "cost",
            "--by",
            "provider",
            "--format",
            "json",
            dump.as_str(),
        ],
        vec![
            "--store", &store, "cost", "--by", "provider", "--format", "json",
        ],
    ] {
        let out = traces(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        // $2.50 and $10 per million, for each of the two calls.
        assert_eq!(
            dec(&r["total"]["cost_usd"]),
            Decimal::from_str("0.025").unwrap()
        );
        assert_eq!(r["total"]["fallback_priced_calls"], 1, "{args:?}");
        let routed = r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["provider"] == "openrouter")
            .unwrap();
        assert_eq!(routed["fallback_priced_calls"], 1);
        assert_eq!(r["fallback_priced"][0]["model"], "gpt-4o");
        let err = text(&out.stderr);
        assert!(
            err.contains("1 call(s) of \"gpt-4o\"") && err.contains("no openrouter entry"),
            "{err}"
        );
    }
    let strict = traces(&["cost", "--strict", &dump]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
}

/// Audio tokens, 1-hour cache writes and image tokens are parts of input or output priced
/// at their own rates where the model has them. Rates are LiteLLM 1.110.2's (USD per
/// million): gpt-4o-audio-preview-2025-06-03 text 2.50 in / 10 out, audio 40 in / 80 out;
/// claude-opus-4-7 input 5, 5-minute write 6.25, 1-hour write 10, output 25.
#[test]
fn audio_and_one_hour_cache_writes_are_priced_at_their_rates() {
    let dir = tempfile::tempdir().unwrap();
    let kv = |k: &str, v: i64| serde_json::json!({"key": k, "value": {"intValue": v.to_string()}});
    let s = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"stringValue": v}});
    let span = |i: usize, attrs: Vec<Value>| {
        serde_json::json!({
            "traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1), "name": "llm",
            "kind": 3, "startTimeUnixNano": D2025_06_01.to_string(), "endTimeUnixNano": (D2025_06_01 + 1).to_string(),
            "attributes": attrs
        })
    };
    let audio = span(
        0,
        vec![
            s("openinference.span.kind", "LLM"),
            s("llm.model_name", "gpt-4o-audio-preview-2025-06-03"),
            s("llm.provider", "openai"),
            kv("llm.token_count.prompt", 1000),
            kv("llm.token_count.prompt_details.audio", 300),
            kv("llm.token_count.completion", 200),
            kv("llm.token_count.completion_details.audio", 150),
        ],
    );
    // Anthropic's raw usage: input excludes the cache; 600 of the 1,000 writes are 1-hour.
    let raw = serde_json::json!({"input_tokens": 100, "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 1000, "output_tokens": 40,
        "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600}});
    let claude = span(
        1,
        vec![
            s("gen_ai.operation.name", "chat"),
            s("gen_ai.request.model", "claude-opus-4-7"),
            s("gen_ai.provider.name", "anthropic"),
            s("gen_ai.usage.raw", &raw.to_string()),
        ],
    );
    let doc = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [audio, claude]}]}]});
    let dump = write(dir.path(), "classes.json", &doc.to_string());
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let m = Decimal::from(1_000_000);
    let audio_cost = (Decimal::from(700) * d("2.5")
        + Decimal::from(300) * d("40")
        + Decimal::from(50) * d("10")
        + Decimal::from(150) * d("80"))
        / m;
    let claude_cost = (Decimal::from(100) * d("5")
        + Decimal::from(400) * d("6.25")
        + Decimal::from(600) * d("10")
        + Decimal::from(40) * d("25"))
        / m;
    let store = dir.path().join("store").display().to_string();
    let imported = traces(&["--store", &store, "import", &dump]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    for args in [
        vec!["cost", "--by", "model", "--format", "json", dump.as_str()],
        vec![
            "--store", &store, "cost", "--by", "model", "--format", "json",
        ],
    ] {
        let r = cost_json(&args);
        let row = |model: &str| {
            r["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["model"] == model)
                .cloned()
                .unwrap()
        };
        assert_eq!(
            dec(&row("gpt-4o-audio-preview-2025-06-03")["cost_usd"]),
            audio_cost,
            "{args:?}"
        );
        let c = row("claude-opus-4-7");
        assert_eq!(dec(&c["cost_usd"]), claude_cost, "{args:?}");
        // Input is made inclusive of the cache writes, never added twice.
        assert_eq!(c["input_tokens"], 1100);
        assert_eq!(c["cache_write_tokens"], 1000);
    }
}

/// A store written before the price classes had their columns: its segments lack them,
/// and reports over it and over newer segments read the missing counts as missing.
#[test]
fn segments_without_the_newer_count_columns_still_report() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let old = one_call_dump(
        dir.path(),
        &[("gpt-4o-mini", 1000, 0, 100, D2025_06_01, "")],
    );
    let out = traces(&["--store", &store, "import", &old]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Rewrite the first segment's span and calls files as an older release wrote them.
    let newer = [
        "cache_write_1h_tokens",
        "audio_input_tokens",
        "audio_output_tokens",
        "image_input_tokens",
    ];
    for sub in ["spans", "calls"] {
        for p in parquet_files(&Path::new(&store).join(sub)) {
            let mut df = ParquetReader::new(std::fs::File::open(&p).unwrap())
                .finish()
                .unwrap();
            for c in newer {
                df = df.drop(c).unwrap();
            }
            ParquetWriter::new(std::fs::File::create(&p).unwrap())
                .finish(&mut df)
                .unwrap();
        }
    }
    let second = dir.path().join("second");
    std::fs::create_dir(&second).unwrap();
    let audio = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [{
        "traceId": format!("{:032x}", 99), "spanId": format!("{:016x}", 99), "name": "llm", "kind": 3,
        "startTimeUnixNano": D2025_06_01.to_string(), "endTimeUnixNano": (D2025_06_01 + 1).to_string(),
        "attributes": [
            {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
            {"key": "llm.model_name", "value": {"stringValue": "gpt-4o-audio-preview-2025-06-03"}},
            {"key": "llm.token_count.prompt", "value": {"intValue": "1000"}},
            {"key": "llm.token_count.prompt_details.audio", "value": {"intValue": "1000"}},
            {"key": "llm.token_count.completion", "value": {"intValue": "0"}}]}]}]}]});
    let new = write(&second, "audio.json", &audio.to_string());
    let out = traces(&["--store", &store, "import", &new]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // gpt-4o-mini: 1,000 × $0.15 + 100 × $0.60 per million; the audio call 1,000 × $40.
    let want = Decimal::from_str("0.00021").unwrap() + Decimal::from_str("0.04").unwrap();
    let from_tables = cost_json(&["--store", &store, "cost", "--format", "json"]);
    assert_eq!(dec(&from_tables["total"]["cost_usd"]), want);
    let manifest = Path::new(&store).join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    for s in m["segments"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("calls_file");
    }
    std::fs::write(&manifest, m.to_string()).unwrap();
    let from_spans = cost_json(&["--store", &store, "cost", "--format", "json"]);
    assert_eq!(dec(&from_spans["total"]["cost_usd"]), want);
}

/// `traces pricing update FILE` keeps a LiteLLM price file as the table of later runs:
/// its prices win over the shipped ones, the shipped ones fill its gaps, and reports say
/// which table they used; calls newer than the table are named once on stderr.
#[test]
fn an_updated_price_file_is_the_table_of_later_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let run = |args: &[&str]| {
        traces_command()
            .env("XDG_CONFIG_HOME", &config)
            .args(args)
            .output()
            .unwrap()
    };
    let prices = write(
        dir.path(),
        "model_prices_and_context_window.json",
        r#"{"acme-large": {"litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 1e-05, "output_cost_per_token": 3e-05},
           "gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 2e-07, "output_cost_per_token": 8e-07}}"#,
    );
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"x": {"input_cost_per_token": -1}}"#,
    );
    let refused = run(&["pricing", "update", &bad]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(!config.join("traces/litellm_prices.json").exists());

    let out = run(&["pricing", "update", &prices]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 models"),
        "{}",
        text(&out.stdout)
    );
    let dump = one_call_dump(
        dir.path(),
        &[
            ("acme-large", 1000, 0, 100, D2025_06_01, ""),
            ("gpt-4o-mini", 1000, 0, 100, D2025_06_01, ""),
            ("gpt-4.1", 1000, 0, 100, D2025_06_01, ""),
        ],
    );
    let out = run(&["cost", "--by", "model", "--format", "json", &dump]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cost = |m: &str| {
        dec(&r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["model"] == m)
            .unwrap()["cost_usd"])
    };
    // 1,000 in and 100 out at the file's rates; gpt-4.1 at the shipped $2 / $8.
    assert_eq!(cost("acme-large"), Decimal::from_str("0.013").unwrap());
    assert_eq!(cost("gpt-4o-mini"), Decimal::from_str("0.00028").unwrap());
    assert_eq!(cost("gpt-4.1"), Decimal::from_str("0.0028").unwrap());
    assert!(
        r["pricing"]["table"]
            .as_str()
            .unwrap()
            .contains("litellm_prices.json"),
        "{}",
        r["pricing"]
    );
    assert!(!text(&out.stderr).contains("newer than the price table"));

    // Without the update, the shipped table, and a call after its date is named.
    let later = one_call_dump(
        dir.path(),
        &[("gpt-4.1", 1000, 0, 100, 1_830_297_600_000_000_000, "")],
    );
    let out = traces(&["cost", "--format", "json", &later]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        r["pricing"]["table"]
            .as_str()
            .unwrap()
            .starts_with("LiteLLM 1.110.2"),
        "{}",
        r["pricing"]
    );
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("newer than the price table").count(),
        1,
        "{err}"
    );
    assert!(err.contains("2028-01-01"), "{err}");
}

/// Two dumps that reuse one trace's span ids, with other numbers: the store keeps the
/// first span read under each id, and a report read straight from the dumps counts the
/// same, saying that spans repeated an id and how many said something else.
#[test]
fn a_span_id_repeated_across_dumps_counts_once_as_the_store_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let span = |id: &str, input: u32| {
        format!(
            r#"{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"{id}","parentSpanId":"1112131415161718","name":"chat","startTimeUnixNano":"1700000000100000000","endTimeUnixNano":"1700000000900000000","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"chat"}}}},{{"key":"gen_ai.request.model","value":{{"stringValue":"gpt-4o-mini"}}}},{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"{input}"}}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"10"}}}}]}}"#
        )
    };
    let root_span = r#"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718","name":"root","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}"#;
    let dump = |spans: &[String]| {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{root_span},{}]}}]}}]}}"#,
            spans.join(",")
        )
    };
    // The first dump's call reused with other numbers, and a call of its own.
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    std::fs::write(&a, dump(&[span("2122232425262728", 1000)])).unwrap();
    std::fs::write(
        &b,
        dump(&[
            span("2122232425262728", 2000),
            span("3132333435363738", 300),
        ]),
    )
    .unwrap();
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let store = dir.path().join("store").display().to_string();
    assert!(
        traces(&["--store", &store, "import", &a, &b])
            .status
            .success()
    );
    let stored = cost_json(&["--store", &store, "cost", "--format", "json"]);
    let out = traces(&[
        "--store",
        "/nonexistent",
        "cost",
        "--format",
        "json",
        &a,
        &b,
    ]);
    let direct: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stored["total"], direct["total"]);
    assert_eq!(direct["total"]["calls"], 2);
    assert_eq!(
        direct["total"]["input_tokens"], 1300,
        "the first span read wins"
    );
    assert!(
        text(&out.stderr).contains(
            "2 span(s) repeat the id of an earlier span of their trace (1 of them with other content)"
        ),
        "{}",
        text(&out.stderr)
    );
}
