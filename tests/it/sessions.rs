//! `traces sessions` and `traces users` on dumps made by the real SDKs, against the fake
//! servers' ledgers (`testdata/expected/llm/<sdk>/truth.json`, read as `ledgers.rs`
//! reads them): per session and per user the calls, tokens, cost, traces, users and
//! sessions summed from the ledger; first and last call within the spans of their
//! traces; the same JSON from the store as from the dumps; tables that fit.

use crate::common::{root, testdata, text, traces_command};
use crate::ledgers::{Expected, expected, litellm_cost};
use crate::output::{fits, snapshot};
use crate::pricing_coverage::litellm;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use traces::ingest::{DecodeOptions, Record, decode_all, expand_inputs};

const SDKS: [&str; 3] = ["oi", "anthropic-sdk", "aisdk4"];

fn run(args: &[&str]) -> std::process::Output {
    traces_command().args(args).output().unwrap()
}

/// `traces <command> DUMP --format json`, straight from the dump.
fn from_dump(command: &str, sdk: &str, extra: &[&str]) -> Value {
    let dump = testdata(&format!("llm/{sdk}")).display().to_string();
    let mut a = vec![
        "--store",
        "/nonexistent-store",
        command,
        &dump,
        "--format",
        "json",
    ];
    a.extend(extra);
    let out = run(&a);
    assert!(out.status.success(), "{sdk}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn import(dir: &std::path::Path, sdks: &[&str]) -> String {
    let store = dir.join("store").display().to_string();
    for sdk in sdks {
        let dump = testdata(&format!("llm/{sdk}")).display().to_string();
        let out = run(&["--store", &store, "import", &dump]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    store
}

/// Sums of a group of the ledger's calls.
#[derive(Debug, Default)]
struct Sums {
    calls: i64,
    tokens: [i64; 6],
    cost: Decimal,
    traces: BTreeSet<String>,
    related: BTreeSet<String>,
}

fn sums(
    want: &[Expected],
    key: fn(&Expected) -> Option<String>,
    related: fn(&Expected) -> Option<String>,
) -> BTreeMap<Option<String>, Sums> {
    let prices = litellm();
    let mut groups: BTreeMap<Option<String>, Sums> = BTreeMap::new();
    for e in want {
        let g = groups.entry(key(e)).or_default();
        g.calls += 1;
        let t = [
            e.input,
            e.cache_read,
            e.cache_write,
            e.output,
            e.reasoning,
            e.input + e.output,
        ];
        for (s, v) in g.tokens.iter_mut().zip(t) {
            *s += v;
        }
        g.cost += litellm_cost(&prices, e);
        g.traces.extend(e.trace_id.clone());
        g.related.extend(related(e));
    }
    groups
}

const TOKENS: [&str; 6] = [
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
];

/// Each trace's first span start and last span end, from the dump.
fn trace_spans(sdk: &str) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for input in expand_inputs(&[root().join("testdata/llm").join(sdk)]).unwrap() {
        for r in decode_all(&input, &DecodeOptions::default()).unwrap().0 {
            if let Record::Span(s) = r {
                let e = out
                    .entry(s.trace_id.to_string())
                    .or_insert((i64::MAX, i64::MIN));
                e.0 = e.0.min(s.start_time_unix_nano);
                e.1 = e.1.max(s.end_time_unix_nano);
            }
        }
    }
    out
}

fn time(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&Utc)
        .timestamp_nanos_opt()
        .unwrap()
}

/// Rows as the ledger says they should be, for `sessions` (related: users) or `users`
/// (related: sessions).
fn check(sdk: &str, command: &str) {
    let want = expected(sdk);
    let (field, groups) = match command {
        "sessions" => (
            "session_id",
            sums(&want, |e| e.session.clone(), |e| e.user.clone()),
        ),
        _ => (
            "user_id",
            sums(&want, |e| e.user.clone(), |e| e.session.clone()),
        ),
    };
    let spans = trace_spans(sdk);
    let doc = from_dump(command, sdk, &[]);
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), groups.len(), "{sdk} {command}: {rows:?}");
    let ms = |ns: i64| ns - ns.rem_euclid(1_000_000);
    for r in rows {
        let k = r[field].as_str().map(String::from);
        let ctx = format!("{sdk} {command} {k:?}");
        let w = groups
            .get(&k)
            .unwrap_or_else(|| panic!("{ctx}: unexpected row"));
        assert_eq!(r["calls"], w.calls, "{ctx}: calls");
        for (name, t) in TOKENS.iter().zip(w.tokens) {
            assert_eq!(r[name], t, "{ctx}: {name}");
        }
        let cost = Decimal::from_str(&r["cost_usd"].to_string()).unwrap();
        assert_eq!(cost.normalize(), w.cost.normalize(), "{ctx}: cost");
        assert_eq!(r["unpriced_calls"], 0, "{ctx}");
        assert_eq!(r["traces"], w.traces.len(), "{ctx}: traces");
        match command {
            "sessions" => {
                let users: BTreeSet<String> = r["user_id"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{ctx}: user_id is not a list"))
                    .iter()
                    .map(|u| u.as_str().unwrap().to_string())
                    .collect();
                assert_eq!(users, w.related, "{ctx}: users");
            }
            _ => assert_eq!(r["sessions"], w.related.len(), "{ctx}: sessions"),
        }
        // First and last call of the row: in order, and within its traces' spans.
        let (first, last) = (time(&r["first_time"]), time(&r["last_time"]));
        assert!(first <= last, "{ctx}: {first} > {last}");
        let starts = w.traces.iter().map(|t| spans[t].0).min().unwrap();
        let ends = w.traces.iter().map(|t| spans[t].1).max().unwrap();
        assert!(ms(starts) <= first && last <= ends, "{ctx}: {r}");
        // A row of one trace has its calls within that trace's spans.
        for t in &w.traces {
            let (s, e) = spans[t];
            if w.traces.len() == 1 {
                assert!(ms(s) <= first && last <= e, "{ctx}: trace {t}");
            }
        }
    }
    // The total: every call once, all traces, and the earliest and latest call.
    let total = &doc["total"];
    assert_eq!(total["calls"], want.len(), "{sdk} {command}: total");
    let traces: BTreeSet<&String> = want.iter().flat_map(|e| e.trace_id.as_ref()).collect();
    assert_eq!(
        total["traces"],
        traces.len(),
        "{sdk} {command}: total traces"
    );
    let first = rows.iter().map(|r| time(&r["first_time"])).min().unwrap();
    let last = rows.iter().map(|r| time(&r["last_time"])).max().unwrap();
    assert_eq!(time(&total["first_time"]), first);
    assert_eq!(time(&total["last_time"]), last);
    if command == "users" {
        let sessions: BTreeSet<&String> = want.iter().flat_map(|e| e.session.as_ref()).collect();
        assert_eq!(total["sessions"], sessions.len(), "{sdk}: sessions in all");
    }
}

#[test]
fn sessions_match_the_ledgers() {
    for sdk in SDKS {
        check(sdk, "sessions");
    }
}

#[test]
fn users_match_the_ledgers() {
    for sdk in SDKS {
        check(sdk, "users");
    }
}

/// The calls tables of an import, the spans of the store (`--where` reads them) and
/// the dumps give the same rows.
#[test]
fn the_store_and_the_dumps_give_the_same_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = import(dir.path(), &SDKS);
    let dumps: Vec<String> = SDKS
        .iter()
        .map(|s| testdata(&format!("llm/{s}")).display().to_string())
        .collect();
    for command in ["sessions", "users"] {
        for extra in [
            &[][..],
            &["--top", "2"],
            &["--model", "gpt-4o*", "--sort", "first_time"],
            &["--user", "user-alice", "--sort", "-last_time"],
        ] {
            let json = |direct: bool, more: &[&str]| -> Value {
                let mut a = vec!["--store", store.as_str(), command, "--format", "json"];
                a.extend(extra);
                a.extend(more);
                if direct {
                    a.extend(dumps.iter().map(String::as_str));
                }
                let out = run(&a);
                assert!(out.status.success(), "{}", text(&out.stderr));
                serde_json::from_slice(&out.stdout).unwrap()
            };
            let stored = json(false, &[]);
            assert!(
                !stored["rows"].as_array().unwrap().is_empty(),
                "{command} {extra:?}"
            );
            assert_eq!(stored, json(true, &[]), "{command} {extra:?}");
            // A --where on an attribute of the OpenInference spans: read from the
            // spans instead of the calls tables.
            let spans = json(false, &["--where", "openinference.span.kind=LLM"]);
            let direct = json(true, &["--where", "openinference.span.kind=LLM"]);
            assert_eq!(spans, direct, "{command} {extra:?} --where");
            assert!(
                !spans["rows"].as_array().unwrap().is_empty(),
                "{command} {extra:?} --where"
            );
            assert!(spans["total"]["calls"].as_i64() < stored["total"]["calls"].as_i64());
        }
    }
}

/// `--top` keeps the costliest rows and folds the rest so that the rows still add up.
#[test]
fn top_folds_the_rest_and_rows_add_up() {
    let doc = from_dump("sessions", "oi", &["--top", "3"]);
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let all = from_dump("sessions", "oi", &[]);
    let n = all["rows"].as_array().unwrap().len();
    assert_eq!(
        rows[3]["session_id"],
        format!("(other: {} sessions)", n - 3)
    );
    let costs: Vec<Decimal> = rows
        .iter()
        .map(|r| Decimal::from_str(&r["cost_usd"].to_string()).unwrap())
        .collect();
    assert!(costs[0] >= costs[1] && costs[1] >= costs[2], "{costs:?}");
    let sum: Decimal = costs.iter().sum();
    let total = Decimal::from_str(&doc["total"]["cost_usd"].to_string()).unwrap();
    assert_eq!(sum, total);
    let calls: i64 = rows.iter().map(|r| r["calls"].as_i64().unwrap()).sum();
    assert_eq!(doc["total"]["calls"], calls);
    assert_eq!(doc["total"], all["total"]);
}

#[test]
fn tables_fit_80_and_100_columns() {
    let dir = tempfile::tempdir().unwrap();
    let store = import(dir.path(), &["oi"]);
    for width in [80, 100] {
        let w = width.to_string();
        for command in ["sessions", "users"] {
            let out = run(&["--store", &store, command, "--width", &w]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let shown = text(&out.stdout);
            fits(&shown, width);
            assert!(shown.contains("TOTAL"), "{shown}");
            assert!(shown.contains("(none)"), "{shown}");
            snapshot(&format!("{command}-{width}"), &shown);
        }
    }
}

#[test]
fn no_store_and_no_match_say_so_as_cost_does() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here").display().to_string();
    for command in ["sessions", "users"] {
        let out = run(&["--store", &missing, command]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(out.stdout.is_empty(), "{command}");
        let err = text(&out.stderr);
        assert!(err.contains(&format!("no store at {missing}")), "{err}");
        assert!(err.contains(&format!("traces {command} DUMP")), "{err}");
    }
    let store = import(dir.path(), &["oi"]);
    for command in ["sessions", "users"] {
        let out = run(&["--store", &store, command, "--model", "claude-*"]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            text(&out.stdout),
            "no calls match --model claude-* in the store\n"
        );
        let out = run(&[
            "--store", &store, command, "--model", "claude-*", "--format", "json",
        ]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["rows"], serde_json::json!([]));
        assert!(text(&out.stderr).contains("no calls match --model claude-*"));
        let out = run(&["--store", &store, command, "--sort", "frist_time"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("did you mean first_time?"));
    }
}
