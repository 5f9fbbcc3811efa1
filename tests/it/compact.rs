//! `traces store compact`: a store of many small imports merged into few segments reads
//! exactly as before, and as a store of one import of the same dumps.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use crate::common::{import_files, imports, testdata, text, traces_in};

/// Trace `t` of a synthetic dump: a root and two `gpt-4o` calls of `100 + t` input and
/// `t % 13 + 1` output tokens each; with `split`, the root and the calls are returned
/// apart, to be imported in two imports.
fn trace(t: u64) -> (Value, Vec<Value>) {
    let trace_id = format!("{:032x}", 0xc0ac_0000_0000u64 + t);
    let start = 1_795_459_562_000_000_000u64 + t * 86_400_000_000_000 / 7;
    let root = format!("{:016x}", (t << 4) | 1);
    let root_span = json!({
        "traceId": trace_id, "spanId": root, "name": "agent", "kind": 1,
        "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 900_000).to_string(),
        "attributes": [{"key": "session.id", "value": {"stringValue": format!("s{}", t % 5)}}],
    });
    let calls = (0..2u64)
        .map(|c| {
            json!({
                "traceId": trace_id, "spanId": format!("{:016x}", (t << 4) | (c + 2)),
                "parentSpanId": root, "name": "chat gpt-4o", "kind": 3,
                "startTimeUnixNano": (start + c * 300_000).to_string(),
                "endTimeUnixNano": (start + c * 300_000 + 200_000).to_string(),
                "attributes": [
                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": (100 + t).to_string()}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": (t % 13 + 1).to_string()}},
                ],
            })
        })
        .collect();
    (root_span, calls)
}

fn write(path: &Path, spans: Vec<Value>) -> PathBuf {
    let doc = json!({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "compact-test"}}]},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
    std::fs::write(path, doc.to_string()).unwrap();
    path.to_path_buf()
}

/// The inputs, in import order: testdata dumps, then 12 small synthetic imports in which
/// traces 0..30 have their root in one import and their calls in a later one, and an
/// import that repeats spans already stored.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = [
        "otel/collector.jsonl",
        "llm/aisdk4/traces-001.pb",
        "llm/anthropic-oi/traces-001.pb",
        "langfuse-exports/crewai-2025-07-11.trace.json",
        "llm/aisdk4/traces-002.pb",
    ]
    .iter()
    .map(|r| testdata(r))
    .collect();
    for part in 0..12u64 {
        let mut spans = Vec::new();
        for t in (part * 5)..(part * 5 + 5) {
            let (root, calls) = trace(t);
            spans.push(root);
            // The calls of the first 30 traces come 3 imports after their root.
            if t >= 30 {
                spans.extend(calls);
            }
        }
        if part >= 3 {
            for t in ((part - 3) * 5)..((part - 3) * 5 + 5) {
                if t < 30 {
                    spans.extend(trace(t).1);
                }
            }
        }
        out.push(write(&dir.join(format!("part-{part}.json")), spans));
    }
    // Traces 0..6 again, whole: every span already stored.
    let again = (0..6).flat_map(|t| {
        let (r, c) = trace(t);
        std::iter::once(r).chain(c)
    });
    out.push(write(&dir.join("again.json"), again.collect()));
    out
}

/// Every report a user reads of the store.
fn reports(store: &Path) -> Vec<String> {
    let mut args: Vec<Vec<String>> = [
        "cost --by trace",
        "cost --by session",
        "cost --by model",
        "cost --by day",
        "cost --by session --by model",
        "list --limit 100000",
        "sessions",
        "users",
    ]
    .iter()
    .map(|a| {
        let mut v: Vec<String> = a.split(' ').map(String::from).collect();
        v.extend(["--format".into(), "json".into()]);
        v
    })
    .collect();
    let list = traces_in(store, &["list", "--format", "json", "--limit", "100000"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    // Every fifth trace: `show` reads a trace's own rows, which the compaction moves.
    for t in list.as_array().unwrap().iter().step_by(5) {
        let id = t["trace_id"].as_str().unwrap().to_string();
        args.push(vec!["show".into(), id, "--format".into(), "json".into()]);
    }
    args.iter()
        .map(|a| {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            let out = traces_in(store, &refs);
            assert!(out.status.success(), "{a:?}: {}", text(&out.stderr));
            text(&out.stdout)
        })
        .collect()
}

fn run(store: &Path, args: &[&str]) -> String {
    let out = traces_in(store, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn a_compacted_store_reads_as_before_and_as_one_import() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path());
    let many = dir.path().join("many");
    for i in &inputs {
        run(&many, &["import", i.to_str().unwrap()]);
    }
    let one = dir.path().join("one");
    let mut args = vec!["import"];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    run(&one, &args);
    let before = reports(&many);
    assert_eq!(
        imports(&many).len(),
        inputs.len() - 1,
        "the repeat adds no segment"
    );

    // The synthetic traces by hand: two calls each of 100 + t in, t % 13 + 1 out.
    let cost: Value = serde_json::from_str(&before[0]).unwrap();
    let synthetic: u64 = cost["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["trace_id"]
                .as_str()
                .unwrap()
                .starts_with("00000000000000000000c0ac")
        })
        .map(|r| r["input_tokens"].as_u64().unwrap())
        .sum();
    assert_eq!(synthetic, (0..60).map(|t| 2 * (100 + t)).sum::<u64>());

    // In pieces of at most 80 spans first, then whole.
    let said = run(&many, &["store", "compact", "--target-spans", "80"]);
    assert!(said.contains("reports read the same"), "{said}");
    let pieces = imports(&many).len();
    assert!(pieces > 1 && pieces < inputs.len() - 1, "{pieces} imports");
    assert!(
        reports(&many) == before,
        "compacted in pieces, the reports changed"
    );
    run(&many, &["store", "compact"]);
    assert_eq!(imports(&many).len(), 1);
    let after = reports(&many);
    assert!(after == before, "compacted, the reports changed");
    assert!(
        after == reports(&one),
        "not as one import of the same dumps"
    );

    // Each merged trace's spans lie together: its rows span no more than its spans.
    for table in import_files(&many, 0, "traces_file") {
        use polars::prelude::*;
        let table = many.join(table);
        let df =
            LazyFrame::scan_parquet(PlRefPath::new(table.to_str().unwrap()), Default::default())
                .unwrap()
                .select([
                    (col("last_row") - col("first_row") + lit(1i64) - col("spans")).alias("gap"),
                ])
                .collect()
                .unwrap();
        let gaps = df.column("gap").unwrap().i64().unwrap();
        assert_eq!(gaps.max(), Some(0), "a trace's rows are apart");
    }
    let verify = run(&many, &["store", "verify"]);
    assert!(verify.contains("every file reads whole"), "{verify}");
    assert!(verify.contains("replaced by a compaction"), "{verify}");
    let again = run(&many, &["store", "compact"]);
    assert!(again.contains("nothing to merge"), "{again}");

    // An import after it: as into the store of one import, and the old files are gone.
    let more = write(&dir.path().join("more.json"), {
        let (r, c) = trace(7);
        let (r2, c2) = trace(99);
        let mut v = vec![r, r2];
        v.extend(c);
        v.extend(c2);
        v
    });
    run(&many, &["import", more.to_str().unwrap()]);
    run(&one, &["import", more.to_str().unwrap()]);
    assert!(reports(&many) == reports(&one));
    let verify = run(&many, &["store", "verify"]);
    assert!(!verify.contains("the manifest does not name"), "{verify}");
}

#[test]
fn a_segment_without_a_calls_table_leaves_the_merged_one_without_and_costs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path());
    let store = dir.path().join("store");
    for i in &inputs[5..9] {
        run(&store, &["import", i.to_str().unwrap()]);
    }
    // As an import stopped between committing its spans and writing its calls tables.
    let path = store.join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let second = imports(&store)[1][0]["import"].clone();
    assert!(second.is_u64());
    for s in m["segments"].as_array_mut().unwrap() {
        if s["import"] == second {
            s.as_object_mut().unwrap().remove("calls_file");
        }
    }
    std::fs::write(&path, m.to_string()).unwrap();
    let before = reports(&store);
    run(&store, &["store", "compact"]);
    let merged = imports(&store);
    assert_eq!(merged.len(), 1);
    assert!(
        merged[0].iter().all(|s| s.get("calls_file").is_none()),
        "{merged:?}"
    );
    assert!(reports(&store) == before);
}

/// Runs are bounded by bytes as well as spans: imports of 3 spans that each carry
/// 100 KB of conversation (about 0.3 MB uncompressed an import) merge three at a time
/// under `--target-mb 1`, all four at once by default, and read the same either way.
#[test]
fn runs_of_heavy_spans_are_bounded_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let whole = dir.path().join("whole");
    let conversation = "c".repeat(100_000);
    for i in 0..4u64 {
        let spans: Vec<Value> = (0..3u64)
            .map(|k| {
                let (_, calls) = trace(i * 3 + k);
                let mut call = calls[0].clone();
                call["attributes"].as_array_mut().unwrap().push(json!(
                    {"key": "gen_ai.input.messages",
                     "value": {"stringValue": format!("{conversation}{i}{k}")}}));
                call
            })
            .collect();
        let dump = write(&dir.path().join(format!("heavy-{i}.json")), spans);
        run(&store, &["import", dump.to_str().unwrap()]);
        run(&whole, &["import", dump.to_str().unwrap()]);
    }
    let before = reports(&store);
    let said = run(&store, &["store", "compact", "--target-mb", "1"]);
    assert!(said.contains("reports read the same"), "{said}");
    let after: Vec<usize> = imports(&store).iter().map(|i| i.len()).collect();
    assert_eq!(imports(&store).len(), 2, "{said}: {after:?}");
    assert!(
        reports(&store) == before,
        "compacted by bytes, the reports changed"
    );
    let again = run(&store, &["store", "compact", "--target-mb", "1"]);
    assert!(again.contains("nothing to merge"), "{again}");
    assert!(again.contains("1 MB or fewer"), "{again}");
    run(&whole, &["store", "compact"]);
    assert_eq!(imports(&whole).len(), 1);
    assert!(reports(&whole) == before);
}
