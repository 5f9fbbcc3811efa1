//! The store laid out by UTC day: each file holds the rows of its folder's day only, the
//! marker rows of a trace are in every day of its spans, and a store of format 1 (an
//! earlier release's, `testdata/store-v1`) is migrated to the same reports.

use polars::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::{imports, parquet_files, testdata, text, traces_in};

const PRICES: &str = "testdata/sql/prices.toml";

fn run(store: &Path, args: &[&str]) -> String {
    let mut all = vec!["--pricing", PRICES];
    all.extend_from_slice(args);
    let out = traces_in(store, &all);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The UTC day of a time in ns, by chrono's calendar.
fn day(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .format("%Y-%m-%d")
        .to_string()
}

/// The day each span of the dumps starts on, by span id, read from the JSON itself.
fn span_days(dumps: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for d in dumps {
        let doc: Value = serde_json::from_slice(&std::fs::read(testdata(d)).unwrap()).unwrap();
        for rs in doc["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    let start: i64 = s["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    out.insert(s["spanId"].as_str().unwrap().to_string(), day(start));
                }
            }
        }
    }
    out
}

fn read(file: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(file).unwrap())
        .finish()
        .unwrap()
}

fn texts(df: &DataFrame, c: &str) -> Vec<String> {
    df.column(c)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The `day=` folder a file is in.
fn folder_day(file: &Path) -> String {
    let dir = file
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    dir.strip_prefix("day=").unwrap().to_string()
}

/// The files of `key` (`spans_file`...) the manifest names.
fn named(store: &Path, key: &str) -> Vec<PathBuf> {
    imports(store)
        .iter()
        .flatten()
        .filter_map(|s| s[key].as_str().map(|f| store.join(f)))
        .collect()
}

/// Every spans file holds the spans of its folder's day, and all of them are there.
fn assert_spans_by_day(store: &Path, want: &BTreeMap<String, String>) {
    let mut got = BTreeMap::new();
    for f in named(store, "spans_file") {
        let df = read(&f);
        let starts = df.column("start_time_unix_nano").unwrap().i64().unwrap();
        for (id, start) in texts(&df, "span_id")
            .into_iter()
            .zip(starts.into_no_null_iter())
        {
            assert_eq!(day(start), folder_day(&f), "{id} in {}", f.display());
            assert!(got.insert(id, folder_day(&f)).is_none(), "a span twice");
        }
    }
    assert_eq!(&got, want);
}

/// Per day: the calls' span ids and the marker rows' (trace, calls without usage).
type CallsByDay = BTreeMap<String, (BTreeSet<String>, BTreeSet<(String, i64)>)>;

fn calls_by_day(files: &[PathBuf]) -> CallsByDay {
    let mut out = CallsByDay::new();
    for f in files {
        let df = read(f);
        let traces = df.column("trace_id").unwrap().binary().unwrap();
        let spans = df.column("span_id").unwrap().binary().unwrap();
        let without = df.column("calls_without_usage").unwrap().i64().unwrap();
        let starts = df.column("start_time_unix_nano").unwrap().i64().unwrap();
        let entry = out.entry(folder_day(f)).or_default();
        for i in 0..df.height() {
            match (spans.get(i), without.get(i)) {
                (Some(s), None) => {
                    assert_eq!(day(starts.get(i).unwrap()), folder_day(f));
                    entry.0.insert(hex(s));
                }
                (None, Some(w)) => {
                    entry.1.insert((hex(traces.get(i).unwrap()), w));
                }
                other => panic!("a row that is neither a call nor a marker: {other:?}"),
            }
        }
    }
    out
}

fn set<const N: usize>(v: [&str; N]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const A: &str = "da7a000000000000000000000000000a";
const B: &str = "da7a000000000000000000000000000b";
const C: &str = "da7a000000000000000000000000000c";

fn marks<const N: usize>(v: [(&str, i64); N]) -> BTreeSet<(String, i64)> {
    v.iter().map(|(t, w)| (t.to_string(), *w)).collect()
}

fn cost_by_day(store: &Path, dumps: &[&str]) -> (Value, Value) {
    let from_store: Value =
        serde_json::from_str(&run(store, &["cost", "--by", "day", "--format", "json"])).unwrap();
    let mut args = vec!["cost", "--by", "day", "--format", "json"];
    let paths: Vec<String> = dumps
        .iter()
        .map(|d| testdata(d).display().to_string())
        .collect();
    args.extend(paths.iter().map(String::as_str));
    let from_dumps: Value = serde_json::from_str(&run(Path::new("/nonexistent"), &args)).unwrap();
    (from_store, from_dumps)
}

/// (day, input, output, cost) of each row of a `cost --by day` report.
fn days_of(report: &Value) -> Vec<(String, u64, u64, String)> {
    let mut v: Vec<_> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["day"].as_str().unwrap().to_string(),
                r["input_tokens"].as_u64().unwrap(),
                r["output_tokens"].as_u64().unwrap(),
                r["cost_usd"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn each_file_holds_its_days_rows_and_a_late_call_on_another_day_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let first = "layout/first.json";
    let second = "layout/second.json";
    run(&store, &["import", testdata(first).to_str().unwrap()]);

    let m: Value =
        serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format_version"], 2);
    let import = &imports(&store)[..];
    assert_eq!(import.len(), 1, "one import, in segments by day");
    let days: Vec<&str> = import[0]
        .iter()
        .map(|s| s["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2025-03-09", "2025-03-10", "2025-03-12"]);
    for s in &import[0] {
        for key in ["spans_file", "logs_file", "calls_file", "traces_file"] {
            if let Some(f) = s[key].as_str() {
                assert_eq!(
                    folder_day(&store.join(f)),
                    s["day"].as_str().unwrap(),
                    "{f}"
                );
            }
        }
    }
    assert_spans_by_day(&store, &span_days(&[first]));

    // Each log record in the day of its time, or of when it was observed without one.
    let logs: BTreeMap<String, Vec<String>> = parquet_files(&store.join("logs"))
        .iter()
        .map(|f| (folder_day(f), texts(&read(f), "body")))
        .collect();
    assert_eq!(logs["2025-03-10"], [r#""c had no usage""#]);
    assert_eq!(logs["2025-03-12"], [r#""b started""#]);
    assert_eq!(logs.len(), 2);

    // Calls by their start's day; each trace marked in every day of its spans, the
    // count of its calls without usage once.
    let calls = calls_by_day(&parquet_files(&store.join("calls")));
    let want: CallsByDay = [
        (
            "2025-03-09".to_string(),
            (set(["a000000000000002"]), marks([(A, 0), (C, 1)])),
        ),
        (
            "2025-03-10".to_string(),
            (set(["a000000000000003"]), marks([(A, 0), (C, 0)])),
        ),
        (
            "2025-03-12".to_string(),
            (set(["b000000000000001"]), marks([(B, 0)])),
        ),
    ]
    .into();
    assert_eq!(calls, want);
    let out = traces_in(
        &store,
        &[
            "--pricing",
            PRICES,
            "cost",
            "--by",
            "day",
            "--format",
            "json",
        ],
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("1 LLM span(s) recorded no token usage"),
        "{err}"
    );

    // By hand: fixture-dated at $1 in and $2 out per million tokens.
    let (from_store, from_dump) = cost_by_day(&store, &[first]);
    let by_hand = vec![
        ("2025-03-09".to_string(), 100, 10, "0.00012".to_string()),
        ("2025-03-10".to_string(), 200, 20, "0.00024".to_string()),
        ("2025-03-12".to_string(), 300, 30, "0.00036".to_string()),
    ];
    assert_eq!(days_of(&from_store), by_hand);
    assert_eq!(from_store, from_dump);

    // A late call of trace A on 2025-03-11: the second import recomputes A, whose calls
    // on 2025-03-09 and 03-10 go in segments of its own that hold no span.
    run(&store, &["import", testdata(second).to_str().unwrap()]);
    let second_import = imports(&store)[1].clone();
    let own: Vec<(&str, bool)> = second_import
        .iter()
        .map(|s| (s["day"].as_str().unwrap(), s["spans_file"].is_string()))
        .collect();
    assert_eq!(
        own,
        [
            ("2025-03-11", true),
            ("2025-03-09", false),
            ("2025-03-10", false)
        ]
    );
    let second_calls: Vec<PathBuf> = second_import
        .iter()
        .map(|s| store.join(s["calls_file"].as_str().unwrap()))
        .collect();
    let want: CallsByDay = [
        (
            "2025-03-09".to_string(),
            (set(["a000000000000002"]), marks([(A, 0)])),
        ),
        (
            "2025-03-10".to_string(),
            (set(["a000000000000003"]), marks([(A, 0)])),
        ),
        (
            "2025-03-11".to_string(),
            (set(["a000000000000004"]), marks([(A, 0)])),
        ),
    ]
    .into();
    assert_eq!(calls_by_day(&second_calls), want);
    assert_spans_by_day(&store, &span_days(&[first, second]));
    let (from_store, from_dumps) = cost_by_day(&store, &[first, second]);
    let mut by_hand = by_hand;
    by_hand.insert(
        2,
        ("2025-03-11".to_string(), 400, 40, "0.00048".to_string()),
    );
    assert_eq!(days_of(&from_store), by_hand);
    assert_eq!(from_store, from_dumps);
    let sessions = run(&store, &["cost", "--by", "session", "--format", "json"]);
    let sessions: Value = serde_json::from_str(&sessions).unwrap();
    assert_eq!(sessions["rows"][0]["session_id"], "night-shift");
    assert_eq!(sessions["rows"][0]["input_tokens"], 700);

    // Compacted into one import: the same days, the same reports.
    let before: Vec<String> = reports(&store);
    run(&store, &["store", "compact"]);
    assert_eq!(imports(&store).len(), 1);
    assert_spans_by_day(&store, &span_days(&[first, second]));
    assert!(reports(&store) == before, "compaction changed a report");
    run(&store, &["import", testdata(first).to_str().unwrap()]);
    let merged = calls_by_day(&named(&store, "calls_file"));
    assert_eq!(merged["2025-03-09"].1, marks([(A, 0), (C, 1)]));
    assert_eq!(merged["2025-03-11"].1, marks([(A, 0)]));
}

/// The reports a user reads, as text, to compare a store before and after a change.
fn reports(store: &Path) -> Vec<String> {
    let mut out: Vec<String> = [
        &["cost", "--by", "trace", "--format", "json"][..],
        &[
            "cost", "--by", "session", "--by", "model", "--format", "json",
        ],
        &["cost", "--by", "day", "--format", "json"],
        &["list", "--format", "json"],
        &["sessions", "--format", "json"],
    ]
    .iter()
    .map(|a| run(store, a))
    .collect();
    let list: Value = serde_json::from_str(&out[3]).unwrap();
    for t in list.as_array().unwrap().iter().take(6) {
        let id = t["trace_id"].as_str().unwrap();
        out.push(run(store, &["show", id, "--format", "json"]));
    }
    out
}

#[test]
fn a_store_of_an_earlier_release_migrates_to_the_same_reports() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    copy_dir(&testdata("store-v1"), &old);
    let m: Value =
        serde_json::from_slice(&std::fs::read(old.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format_version"], 1);
    let sources: Vec<Vec<String>> = m["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    // Read as it is (a read-only copy need not be migrated), then migrated.
    let before = reports(&old);
    let said = run(&old, &["store", "migrate"]);
    assert!(
        said.contains("5 import(s) of an earlier release laid out by UTC day"),
        "{said}"
    );
    let m: Value =
        serde_json::from_slice(&std::fs::read(old.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format_version"], 2);
    assert!(
        m["segments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["day"].is_string())
    );
    assert_eq!(imports(&old).len(), 5, "each import stays one");
    for table in ["spans", "logs", "calls", "traces"] {
        let flat = std::fs::read_dir(old.join(table))
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .count();
        assert_eq!(flat, 0, "{table}: a file of the old layout is left");
    }
    assert!(reports(&old) == before, "migration changed a report");
    let verify = run(&old, &["store", "verify"]);
    assert!(verify.contains("every file reads whole"), "{verify}");
    assert!(!verify.contains("does not name"), "{verify}");
    let again = run(&old, &["store", "migrate"]);
    assert!(again.contains("already laid out by day"), "{again}");

    // As a store made by this release of the same imports.
    let fresh = dir.path().join("fresh");
    for files in &sources {
        let mut args = vec!["import"];
        let paths: Vec<String> = files
            .iter()
            .map(|f| crate::common::root().join(f).display().to_string())
            .collect();
        args.extend(paths.iter().map(String::as_str));
        run(&fresh, &args);
    }
    assert!(
        reports(&fresh) == before,
        "not as the same imports by this release"
    );
    assert_spans_by_day(&old, &store_span_days(&fresh));

    // The next import migrates a store of format 1 on its own, and says so.
    let other = dir.path().join("other");
    copy_dir(&testdata("store-v1"), &other);
    let said = run(
        &other,
        &["import", testdata("layout/first.json").to_str().unwrap()],
    );
    assert!(said.contains("laid out by UTC day"), "{said}");
    run(
        &fresh,
        &["import", testdata("layout/first.json").to_str().unwrap()],
    );
    assert!(reports(&other) == reports(&fresh));
}

/// The day folder of each span of a store laid out by day.
fn store_span_days(store: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in parquet_files(&store.join("spans")) {
        for id in texts(&read(&f), "span_id") {
            out.insert(id, folder_day(&f));
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
