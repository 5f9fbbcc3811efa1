//! The formats that are not OTLP: Langfuse ingestion batches (the real SDK 2.x, see
//! `ledgers.rs` for its call-by-call ledger check) and exports, OTel JS span arrays,
//! any-agent traces, and OTLP metrics requests mixed into a dump. Expected numbers are
//! summed here from the files' own JSON by a simpler rule than the importer's, or taken
//! from the fake server's ledger.

use crate::common::{root, testdata, text, traces_command};
use rust_decimal::Decimal;
use serde_json::Value;
use std::process::Output;
use std::str::FromStr;

fn run(args: &[&str]) -> Output {
    traces_command()
        .args(["--store", "/nonexistent-store"])
        .args(args)
        .output()
        .unwrap()
}

fn report(args: &[&str]) -> Value {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn total(r: &Value, field: &str) -> i64 {
    r["total"][field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {r}"))
}

fn json_file(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(testdata(rel)).unwrap()).unwrap()
}

/// A count written as a number or as its text (Langfuse keeps attributes as text).
fn count(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

/// What the model calls of an export used, by a rule simpler than the importer's: each
/// GENERATION's own provider count (`gen_ai.usage.*` or OpenInference's
/// `llm.token_count.*` in the span's original attributes), or, for spans the Langfuse SDK
/// itself sent, Langfuse's `usageDetails`. Agent and chain spans and Langfuse's
/// tokenizer estimates are not calls.
fn export_usage(doc: &Value) -> (usize, i64, i64) {
    let (mut calls, mut input, mut output) = (0, 0, 0);
    for o in doc["observations"].as_array().unwrap() {
        if o["type"] != "GENERATION" {
            continue;
        }
        let meta: Value = match &o["metadata"] {
            Value::String(s) => serde_json::from_str(s).unwrap(),
            v => v.clone(),
        };
        let a = &meta["attributes"];
        let pair = if meta["scope"]["name"] == "langfuse-sdk" {
            (
                count(&o["usageDetails"]["input"]),
                count(&o["usageDetails"]["output"]),
            )
        } else if a.get("gen_ai.usage.input_tokens").is_some() {
            (
                count(&a["gen_ai.usage.input_tokens"]),
                count(&a["gen_ai.usage.output_tokens"]),
            )
        } else {
            (
                count(&a["llm.token_count.prompt"]),
                count(&a["llm.token_count.completion"]),
            )
        };
        if let (Some(i), Some(out)) = pair {
            calls += 1;
            input += i;
            output += out;
        }
    }
    (calls, input, output)
}

#[test]
fn langfuse_exports_count_each_call_once_from_what_the_instrumentation_recorded() {
    let dir = testdata("langfuse-exports");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 7);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let doc: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let (calls, input, output) = export_usage(&doc);
        assert!(calls > 0, "{name}");
        let r = report(&[
            "cost",
            "--by",
            "trace",
            "--format",
            "json",
            f.to_str().unwrap(),
        ]);
        let rows = r["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{name}: one trace");
        // A 32-hex Langfuse trace id is the trace id itself.
        assert_eq!(rows[0]["trace_id"], doc["trace"]["id"], "{name}");
        assert_eq!(
            (
                total(&r, "calls") as usize,
                total(&r, "input_tokens"),
                total(&r, "output_tokens")
            ),
            (calls, input, output),
            "{name}: [calls, input, output]"
        );
        assert_eq!(total(&r, "unpriced_calls"), 0, "{name}");
    }
}

#[test]
fn a_langfuse_export_keeps_its_tree_and_conversation() {
    // Microsoft Agent Framework: an agent span Langfuse gave a tokenizer estimate
    // (44 in, 180 out), over two chat calls that carry the provider's counts.
    let f = testdata("langfuse-exports/microsoft-agent-2025-12-17.trace.json");
    let doc = json_file("langfuse-exports/microsoft-agent-2025-12-17.trace.json");
    let id = doc["trace"]["id"].as_str().unwrap();
    let out = run(&["show", id, "--format", "json", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let show: Value = serde_json::from_slice(&out.stdout).unwrap();
    let spans = show["spans"].as_array().unwrap();
    assert_eq!(spans.len(), doc["observations"].as_array().unwrap().len());
    let agent = spans
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("invoke_agent"))
        .unwrap();
    assert!(agent["parent_span_id"].is_null(), "the agent is the root");
    let children = spans
        .iter()
        .filter(|s| s["parent_span_id"] == agent["span_id"])
        .count();
    assert_eq!(children, 3, "two chat calls and a tool under the agent");
    assert_eq!(show["totals"]["input_tokens"], 77 + 216);
}

#[test]
fn any_agent_traces_keep_their_128_bit_ids_and_recorded_costs() {
    for name in ["OPENAI_trace.json", "LANGCHAIN_trace.json"] {
        let rel = format!("any-agent/{name}");
        let raw = std::fs::read_to_string(testdata(&rel)).unwrap();
        // The first `"trace_id": <digits>` of the file, read as the digits they are.
        let at = raw.find("\"trace_id\": ").unwrap() + "\"trace_id\": ".len();
        let digits: String = raw[at..].chars().take_while(char::is_ascii_digit).collect();
        let want_id = format!("{:032x}", u128::from_str(&digits).unwrap());
        let doc = json_file(&rel);
        let mut input = 0;
        let mut output = 0;
        let mut recorded = Decimal::ZERO;
        let mut calls = 0;
        for s in doc["spans"].as_array().unwrap() {
            let a = &s["attributes"];
            if let Some(i) = a["gen_ai.usage.input_tokens"].as_i64() {
                calls += 1;
                input += i;
                output += a["gen_ai.usage.output_tokens"].as_i64().unwrap();
                for k in ["gen_ai.usage.input_cost", "gen_ai.usage.output_cost"] {
                    recorded += Decimal::from_scientific(&a[k].to_string())
                        .or_else(|_| Decimal::from_str(&a[k].to_string()))
                        .unwrap();
                }
            }
        }
        let r = report(&[
            "cost",
            "--by",
            "trace",
            "--format",
            "json",
            testdata(&rel).to_str().unwrap(),
        ]);
        assert_eq!(r["rows"][0]["trace_id"], want_id.as_str(), "{name}");
        assert_eq!(
            [
                total(&r, "calls"),
                total(&r, "input_tokens"),
                total(&r, "output_tokens")
            ],
            [calls, input, output],
            "{name}"
        );
        let got = Decimal::from_str(&r["total"]["recorded_cost_usd"].to_string()).unwrap();
        assert!(
            (got - recorded).abs() < Decimal::new(1, 15),
            "{name}: recorded {got}, the file's costs sum to {recorded}"
        );
    }
}

#[test]
fn otel_js_span_arrays_read_as_their_spans() {
    let rel = "otel-js/all-spans.json";
    let doc = json_file(rel);
    let spans = doc.as_array().unwrap();
    // The producer gave every span its own trace: each is counted where it stands.
    let (mut input, mut output) = (0, 0);
    for s in spans {
        let a = &s["attributes"];
        input += [
            "ai.usage.promptTokens",
            "ai.usage.inputTokens",
            "ai.usage.tokens",
        ]
        .iter()
        .filter_map(|k| a[*k].as_i64())
        .sum::<i64>();
        output += ["ai.usage.completionTokens", "ai.usage.outputTokens"]
            .iter()
            .filter_map(|k| a[*k].as_i64())
            .sum::<i64>();
    }
    let r = report(&[
        "cost",
        "--by",
        "trace",
        "--format",
        "json",
        testdata(rel).to_str().unwrap(),
    ]);
    assert_eq!(r["rows"].as_array().unwrap().len(), spans.len());
    assert_eq!(
        [total(&r, "input_tokens"), total(&r, "output_tokens")],
        [input, output]
    );
    let first = &spans[0];
    let id = first["spanContext"]["traceId"].as_str().unwrap();
    let out = run(&[
        "show",
        id,
        "--format",
        "json",
        testdata(rel).to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let show: Value = serde_json::from_slice(&out.stdout).unwrap();
    // [1770131992, 242000000] to [1770131994, 21415667]: 1,779.415667 ms.
    let d = show["duration_ms"].as_f64().unwrap();
    assert!((d - 1779.415667).abs() < 1e-6, "{d}");
}

/// The Langfuse SDK 2.x dump and its ledger.
fn lf2() -> String {
    root()
        .join("testdata/llm/langfuse2/ingestion.jsonl")
        .display()
        .to_string()
}

fn lf2_truth() -> Value {
    json_file("expected/llm/langfuse2/truth.json")
}

#[test]
fn langfuse_ids_name_their_traces_in_trace_filters_and_show() {
    let truth = lf2_truth();
    let calls = truth["calls"].as_array().unwrap();
    // A custom, non-hex Langfuse id.
    let custom: Vec<&Value> = calls
        .iter()
        .filter(|c| c["langfuse_trace_id"] == "checkout-run-42")
        .collect();
    assert_eq!(custom.len(), 1);
    let r = report(&[
        "cost",
        "--trace",
        "checkout-run-42",
        "--format",
        "json",
        &lf2(),
    ]);
    assert_eq!(
        total(&r, "input_tokens"),
        custom[0]["usage"]["input_tokens"]
    );
    assert_eq!(
        total(&r, "output_tokens"),
        custom[0]["usage"]["output_tokens"]
    );
    // A UUID, as Langfuse writes it, names the trace of its 32 hex digits.
    let hex = "0a8f3c527d1e4b6a9c2f5e4d3b2a1c01";
    let uuid = "0a8f3c52-7d1e-4b6a-9c2f-5e4d3b2a1c01";
    let want: i64 = calls
        .iter()
        .filter(|c| c["trace_id"] == hex)
        .map(|c| c["usage"]["input_tokens"].as_i64().unwrap())
        .sum();
    let r = report(&["cost", "--trace", uuid, "--format", "json", &lf2()]);
    assert_eq!(total(&r, "input_tokens"), want);
    let show = report(&["show", uuid, "--format", "json", &lf2()]);
    assert_eq!(show["trace_id"], hex);
}

#[test]
fn langfuse_sdk_traces_keep_their_tree_and_conversation() {
    // The 3-turn `langfuse.openai` conversation: the app sent a system prompt and three
    // user turns, the fake server answered three times; each message shows once.
    let truth = lf2_truth();
    let a = "0a8f3c527d1e4b6a9c2f5e4d3b2a1c01";
    let answered = truth["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["trace_id"] == a)
        .count();
    assert_eq!(answered, 3);
    let show = report(&["show", a, "--format", "json", &lf2()]);
    let roles: Vec<&str> = show["conversation"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| e["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "user",
            "assistant",
            "user",
            "assistant"
        ]
    );
    // The system prompt, once, above the turns.
    assert_eq!(
        show["conversation"]["system"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(show["session_id"], "sess-a-conversation");
    // `@observe` nesting: the chat call inside `summarize`, both under the trace's root.
    let b = "1b9e4d638e2f4c7b8d3a6f5e4c3b2d02";
    let show = report(&["show", b, "--format", "json", &lf2()]);
    let spans = show["spans"].as_array().unwrap();
    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let root = spans
        .iter()
        .find(|s| s["parent_span_id"].is_null())
        .unwrap();
    assert_eq!(root["name"], "lf2_b_observe_nesting");
    assert_eq!(by_name("summarize")["parent_span_id"], root["span_id"]);
    assert_eq!(
        by_name("retrieve_context")["parent_span_id"],
        root["span_id"]
    );
    let llm: Vec<&Value> = spans.iter().filter(|s| s["span_type"] == "llm").collect();
    assert_eq!(llm.len(), 1);
    assert_eq!(llm[0]["parent_span_id"], by_name("summarize")["span_id"]);
}

#[test]
fn a_langfuse_import_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("st");
    for new in ["26 new", "0 new"] {
        let out = traces_command()
            .args(["--store", store.to_str().unwrap(), "import", &lf2()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains(new), "{}", text(&out.stdout));
    }
}

#[test]
fn metrics_requests_beside_traces_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let metrics: Value = json_file("otlp-examples/metrics.json");
    let mut dump = serde_json::to_string(&metrics).unwrap();
    dump.push('\n');
    dump.push_str(&std::fs::read_to_string(testdata("otel/collector-traces-only.jsonl")).unwrap());
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, dump).unwrap();
    let out = traces_command()
        .args(["--store", dir.path().join("st").to_str().unwrap(), "import"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 metrics request(s) skipped: traces reads traces and logs"),
        "{}",
        text(&out.stderr)
    );
    let spans = json_file("expected/otel.json")["spans"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        text(&out.stdout).contains(&format!("{spans} new")),
        "{}",
        text(&out.stdout)
    );
}

fn batch_file(dir: &std::path::Path, lines: &[Value]) -> String {
    let path = dir.join("batches.jsonl");
    let body: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&path, body.join("\n")).unwrap();
    path.display().to_string()
}

#[test]
fn broken_langfuse_input_is_named_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let create = serde_json::json!({"batch": [
        {"id": "e1", "timestamp": "2025-01-01T00:00:00Z", "type": "trace-create", "body": {"id": "t1", "name": "t"}},
        {"id": "e2", "timestamp": "2025-01-01T00:00:01Z", "type": "generation-create",
         "body": {"id": "g1", "traceId": "t1", "startTime": "2025-01-01T00:00:01Z", "model": "gpt-4o",
                  "usage": {"input": 10, "output": 2}}}]});
    // A wrong type: the line, the event and the field are named; exit 2.
    let bad_type = serde_json::json!({"batch": [
        {"id": "e3", "type": "generation-create", "body": {"id": "g2", "traceId": "t1", "usage": [1, 2]}}]});
    let f = batch_file(dir.path(), &[create.clone(), bad_type]);
    let out = run(&["cost", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("g2: `usage` must be an object, found an array"),
        "{err}"
    );
    // An update whose observation was never created: refused, or skipped on request.
    let orphan_update = serde_json::json!({"batch": [
        {"id": "e4", "timestamp": "2025-01-01T00:00:03Z", "type": "span-update", "body": {"id": "s9", "endTime": "2025-01-01T00:00:03Z"}}]});
    let f = batch_file(dir.path(), &[create.clone(), orphan_update]);
    let store = dir.path().join("st");
    let import = |extra: &[&str]| {
        traces_command()
            .args(["--store", store.to_str().unwrap(), "import"])
            .args(extra)
            .arg(&f)
            .output()
            .unwrap()
    };
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("observation s9: only update events, no create"),
        "{}",
        text(&out.stderr)
    );
    let out = import(&["--skip-invalid"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Both spans are new: the refused import wrote nothing.
    assert!(text(&out.stdout).contains("2 new"), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("1 invalid record(s) skipped"),
        "{}",
        text(&out.stderr)
    );
    // Observations whose trace never appears import under a placeholder, with a warning.
    let no_trace = serde_json::json!({"batch": [
        {"id": "e5", "timestamp": "2025-01-01T00:00:01Z", "type": "generation-create",
         "body": {"id": "g5", "traceId": "lost", "startTime": "2025-01-01T00:00:01Z", "model": "gpt-4o",
                  "usage": {"input": 7, "output": 1}}}]});
    let f = batch_file(dir.path(), &[no_trace]);
    let out = traces_command()
        .args([
            "--store",
            dir.path().join("st2").to_str().unwrap(),
            "import",
            &f,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 Langfuse trace(s) appear only in their observations"),
        "{}",
        text(&out.stderr)
    );
    let r = report(&["cost", "--format", "json", &f]);
    assert_eq!(
        [total(&r, "input_tokens"), total(&r, "output_tokens")],
        [7, 1]
    );
}

#[test]
fn langfuse_api_pages_read_as_the_export_they_hold() {
    // The export's trace as `GET /api/public/traces` pages it, and its observations as
    // `GET /api/public/observations` does, one page per line: the same calls.
    let rel = "langfuse-exports/google-adk-2025-08-28.trace.json";
    let doc = json_file(rel);
    let mut trace = doc["trace"].clone();
    trace.as_object_mut().unwrap().remove("observations");
    let pages = [
        serde_json::json!({"data": [trace], "meta": {"page": 1, "totalItems": 1}}),
        serde_json::json!({"data": doc["observations"], "meta": {"page": 1}}),
    ];
    let dir = tempfile::tempdir().unwrap();
    let f = batch_file(dir.path(), &pages);
    let (calls, input, output) = export_usage(&doc);
    let r = report(&["cost", "--by", "session", "--format", "json", &f]);
    assert_eq!(
        [
            total(&r, "calls"),
            total(&r, "input_tokens"),
            total(&r, "output_tokens")
        ],
        [calls as i64, input, output]
    );
    assert_eq!(r["rows"][0]["session_id"], doc["trace"]["sessionId"]);
}
