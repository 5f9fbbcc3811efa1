//! `traces import` and `traces list` as a user runs them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::common::{import_files, testdata, text, traces_command, traces_in};

fn traces(store: &Path, args: &[&str]) -> Output {
    traces_in(store, args)
}

fn import(store: &Path, paths: &[PathBuf]) -> Output {
    let mut args: Vec<String> = vec!["import".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    traces(store, &refs)
}

/// A fresh store holding these dumps of `testdata/`.
fn store_with(files: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let paths: Vec<PathBuf> = files.iter().map(|f| testdata(f)).collect();
    let out = import(&store, &paths);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (dir, store)
}

fn list_json(store: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["list", "--format", "json"];
    args.extend_from_slice(extra);
    let out = traces(store, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Every file of the store, with its bytes: "unchanged" means exactly this.
fn snapshot(store: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for d in ["", "spans", "logs"] {
        let dir = store.join(d);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_file() && p.file_name().unwrap() != "lock" {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn expected_traces() -> Vec<(String, usize)> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(testdata("expected/otel.json")).unwrap()).unwrap();
    let mut m = std::collections::BTreeMap::new();
    for s in v["spans"].as_array().unwrap() {
        *m.entry(s["trace_id"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    m.into_iter().collect()
}

#[test]
fn import_then_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = import(&store, &[testdata("otel/spans.otlp.json")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("8 read, 8 new, 0 already stored"),
        "{stdout}"
    );
    assert!(stdout.contains("traces:  3 (3 new)"), "{stdout}");
    let rows = list_json(&store, &["--sort", "trace_id"]);
    let got: Vec<(String, usize)> = rows
        .iter()
        .map(|r| {
            (
                r["trace_id"].as_str().unwrap().to_string(),
                r["spans"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(got, expected_traces());
    let root = rows
        .iter()
        .find(|r| r["root_name"] == "POST /chat")
        .expect("root span named");
    assert_eq!(root["service"], "checkout-agent");
    assert!(
        rows.iter().any(|r| r["errors"].as_u64() == Some(1)),
        "the failed payment is counted"
    );
}

#[test]
fn reimport_and_overlapping_dumps_store_each_span_once() {
    let (_dir, store) = store_with(&["otel/collector.jsonl"]);
    let before = snapshot(&store);
    // The same spans again, in three other encodings and compressions.
    let out = import(
        &store,
        &[
            testdata("otel/spans.otlp.pb.gz"),
            testdata("otel/console.json"),
            testdata("otel/collector.jsonl"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("24 read, 0 new, 24 already stored"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        snapshot(&store),
        before,
        "an import with nothing new writes nothing"
    );
    let total: u64 = list_json(&store, &[])
        .iter()
        .map(|r| r["spans"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 8);
}

#[test]
fn directories_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = import(&store, &[testdata("otel"), testdata("generate/llm")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("fake_openai.py: skipped, not a trace dump"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("new, "), "{}", text(&out.stdout));

    let store2 = dir.path().join("store2");
    let mut child = traces_command()
        .args(["--store", store2.to_str().unwrap(), "import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        &std::fs::read(testdata("otel/collector.jsonl.gz")).unwrap(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        text(&out.stdout)
            .contains("<stdin>  [OTLP traces, JSON lines (gzip)]  8 spans, 3 log records"),
        "{}",
        text(&out.stdout)
    );
}

/// Writes `bytes` to a file and imports it into a store that already holds data.
fn import_bad(name: &str, bytes: &[u8]) -> (Output, bool) {
    let (dir, store) = store_with(&["otel/spans.otlp.pb"]);
    let before = snapshot(&store);
    let bad = dir.path().join(name);
    std::fs::write(&bad, bytes).unwrap();
    // A good file beside the bad one: nothing of either may be stored.
    let out = import(&store, &[testdata("otel/logs.otlp.pb"), bad]);
    (out, snapshot(&store) == before)
}

/// The Phoenix export of `testdata/` (written by pyarrow) with its first data page's
/// value count, 8, made -3: polars would read it as 2^64 - 3 and size a buffer by it.
fn negative_page_count() -> Vec<u8> {
    let mut bytes = std::fs::read(testdata("otel/phoenix-spans.parquet")).unwrap();
    // The page header at 157: type DATA_PAGE, its sizes, then (0x2c) its data page
    // header, whose first field (0x15) is the count, zigzag-encoded: 0x10 is 8, 0x05 -3.
    assert_eq!(
        bytes[157..167],
        [0x15, 0x00, 0x15, 0x16, 0x15, 0x1a, 0x2c, 0x15, 0x10, 0x15]
    );
    bytes[165] = 0x05;
    bytes
}

/// `n` bytes of spaces (blank JSON, so only the ratio can refuse it), gzipped: deflate
/// inflates them about 1,000 times.
fn gzip_bomb(n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..n / chunk.len() {
        gz.write_all(&chunk).unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn a_fifo_is_read_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("spans.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(
                &fifo,
                std::fs::read(testdata("otel/spans.otlp.pb")).unwrap(),
            )
        })
    };
    let store = dir.path().join("store");
    let out = import(&store, &[fifo]);
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("8 read, 8 new"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_decompression_bomb_is_refused_unless_the_limit_is_raised() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let bomb = dir.path().join("blank.jsonl.gz");
    std::fs::write(&bomb, gzip_bomb(64 << 20)).unwrap();
    let compressed = std::fs::metadata(&bomb).unwrap().len();
    assert!(
        compressed * 250 + (16 << 20) < 64 << 20,
        "{compressed} bytes is no bomb"
    );
    let b = bomb.to_str().unwrap();
    let out = traces(&store, &["import", b]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--max-inflation"),
        "{}",
        text(&out.stderr)
    );
    // Raised past the bomb's ratio it is read to its end: blank, so nothing to import.
    let out = traces(&store, &["import", "--max-inflation", "5000", b]);
    let err = text(&out.stderr);
    assert!(!err.contains("inflates"), "{err}");
    let out = traces(&store, &["import", "--max-inflation", "0", b]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a limit of 0 is refused by the parser"
    );
    // A real dump, compressed, is far below the limit.
    let out = import(&store, &[testdata("otel/collector.jsonl.gz")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn bad_input_is_rejected_whole_with_its_location() {
    let good = std::fs::read(testdata("otel/collector.jsonl")).unwrap();
    let line = text(&good).lines().next().unwrap().to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.jsonl",
            good[..good.len() / 2].to_vec(),
            "truncated.jsonl: line 2",
        ),
        (
            "random.bin",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "random.bin",
        ),
        (
            "invalid-utf8.jsonl",
            [&good[..40], b"\xff\xfe", &good[42..]].concat(),
            "invalid-utf8.jsonl: line 1",
        ),
        (
            "short-id.jsonl",
            line.replacen("\"spanId\":\"", "\"spanId\":\"ab", 1)
                .into_bytes(),
            "is not 8 bytes",
        ),
        (
            "wrong-type.jsonl",
            line.replacen("\"name\":\"", "\"name\":42,\"x\":\"", 1)
                .into_bytes(),
            "invalid type: integer `42`",
        ),
        (
            "truncated.pb",
            std::fs::read(testdata("otel/spans.otlp.pb")).unwrap()[..1000].to_vec(),
            "truncated.pb: byte 0",
        ),
        (
            "truncated.gz",
            std::fs::read(testdata("otel/collector.jsonl.gz")).unwrap()[..800].to_vec(),
            "truncated.gz",
        ),
        (
            "deep.jsonl",
            format!(
                "{{\"resourceSpans\":[],\"x\":{}{}}}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
            "deep.jsonl: line 1, column 151: recursion limit exceeded",
        ),
        (
            "not-hex.jsonl",
            line.replacen("\"spanId\":\"", "\"spanId\":\"zz", 1)
                .into_bytes(),
            "not-hex.jsonl: line 1",
        ),
        (
            "text-for-number.jsonl",
            line.replacen(
                "\"startTimeUnixNano\":\"",
                "\"startTimeUnixNano\":\"soon",
                1,
            )
            .into_bytes(),
            "text-for-number.jsonl: line 1",
        ),
        (
            "empty.jsonl",
            Vec::new(),
            "empty.jsonl: whole file: the file is empty",
        ),
        ("bomb.gz", gzip_bomb(64 << 20), "inflates past 250 times"),
        (
            "negative-count.parquet",
            negative_page_count(),
            "negative-count.parquet: byte 165: not a readable Parquet file: \
             a page's value count is -3",
        ),
    ];
    for (name, bytes, needle) in cases {
        let (out, unchanged) = import_bad(name, &bytes);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(unchanged, "{name}: the store changed");
        assert!(err.contains(needle), "{name}: {err}");
    }
}

#[test]
fn skip_invalid_keeps_the_valid_records_and_lists_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let good = text(&std::fs::read(testdata("otel/collector-traces-only.jsonl")).unwrap());
    let lines: Vec<&str> = good.lines().collect();
    let mixed = format!(
        "{}\nnot json\n{}\n{{\"hello\":1}}\n{}\n",
        lines[0], lines[1], lines[2]
    );
    let f = dir.path().join("mixed.jsonl");
    std::fs::write(&f, mixed).unwrap();
    let out = traces(&store, &["import", "--skip-invalid", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("2 invalid record(s) skipped"), "{err}");
    assert!(
        err.contains("mixed.jsonl: line 2, column 2: expected ident"),
        "{err}"
    );
    assert!(err.contains("mixed.jsonl: line 4"), "{err}");
    assert!(text(&out.stdout).contains("8 read, 8 new"));
}

#[test]
fn concurrent_imports_keep_both() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let spawn = |f: &str| {
        traces_command()
            .args([
                "--store",
                store.to_str().unwrap(),
                "import",
                testdata(f).to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let a = spawn("otel/spans.otlp.pb");
    let b = spawn("cloudwatch/raw_otel_langchain_spans.json");
    let c = spawn("sideseat/traces-crewai-head.jsonl.gz");
    for mut p in [a, b, c] {
        assert!(p.wait().unwrap().success());
    }
    let total: u64 = list_json(&store, &[])
        .iter()
        .map(|r| r["spans"].as_u64().unwrap())
        .sum();
    let crewai_unique = {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("s");
        assert!(
            import(&s, &[testdata("sideseat/traces-crewai-head.jsonl.gz")])
                .status
                .success()
        );
        list_json(&s, &[])
            .iter()
            .map(|r| r["spans"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(total, 8 + 12 + crewai_unique);
}

#[test]
fn leftovers_of_a_crashed_import_are_ignored_and_removed() {
    let (_dir, store) = store_with(&["otel/spans.otlp.pb"]);
    // Segments renamed into place whose manifest update never happened: in a day's
    // folder of the store, in a day's folder of its own, and beside the days (format 1).
    let committed = store.join(&import_files(&store, 0, "spans_file")[0]);
    let own_day = store.join("spans/day=2031-01-01");
    std::fs::create_dir(&own_day).unwrap();
    let strays = [
        committed.with_file_name("segment-000099.parquet"),
        own_day.join("segment-000098.parquet"),
        store.join("spans/segment-000097.parquet"),
    ];
    for stray in &strays {
        std::fs::copy(&committed, stray).unwrap();
    }
    std::fs::write(store.join("tmp/spans-000100.parquet"), b"partial").unwrap();
    let total: u64 = list_json(&store, &[])
        .iter()
        .map(|r| r["spans"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 8, "uncommitted segments are not read");
    assert!(
        import(
            &store,
            &[testdata("cloudwatch/raw_otel_langchain_spans.json")]
        )
        .status
        .success()
    );
    for stray in &strays {
        assert!(!stray.exists(), "{}", stray.display());
    }
    assert!(!own_day.exists(), "a day's folder left empty is removed");
    assert!(committed.exists());
    assert!(!store.join("tmp/spans-000100.parquet").exists());
}

#[test]
fn logs_are_kept_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = import(&store, &[testdata("otel/logs.otlp.json")]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("1 log record(s) belong to no span"), "{err}");
    assert!(
        err.contains("2 log record(s) name a span that is not in the store (yet)"),
        "{err}"
    );
    let out = import(
        &store,
        &[
            testdata("otel/spans.otlp.pb"),
            testdata("otel/logs.otlp.pb"),
        ],
    );
    assert!(
        text(&out.stdout).contains("logs:    3 read, 0 new, 3 already stored"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn list_filters_sorts_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    assert!(
        import(
            &store,
            &[
                testdata("otel/spans.otlp.pb"),
                testdata("cloudwatch/raw_otel_langchain_spans.json")
            ]
        )
        .status
        .success()
    );
    let all = list_json(&store, &[]);
    assert_eq!(all.len(), 5);
    let starts: Vec<&str> = all
        .iter()
        .map(|r| r["start_time"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(starts, sorted, "newest first by default");
    assert_eq!(list_json(&store, &["--service", "checkout-agent"]).len(), 3);
    assert_eq!(list_json(&store, &["--limit", "2"]).len(), 2);
    assert_eq!(
        list_json(&store, &["--until", "2025-11-19"]).len(),
        2,
        "the CloudWatch run of 2025-11-18"
    );
    assert_eq!(list_json(&store, &["--since", "2025-11-19"]).len(), 3);
    let by_spans = list_json(&store, &["--sort", "-spans"]);
    assert!(by_spans[0]["spans"].as_u64() >= by_spans[1]["spans"].as_u64());
    let csv = traces(&store, &["list", "--format", "csv"]);
    let csv = text(&csv.stdout);
    assert!(
        csv.starts_with("trace_id,root_name,start_time,duration_ms,spans,service,errors\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 6);
    let bad = traces(&store, &["list", "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = traces(&store, &["list", "--sort", "colour"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn missing_input_and_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = import(&store, &[dir.path().join("nope.json")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope.json"));
    // The failed import made no store, and a report says so rather than showing nothing.
    for cmd in [
        &["list"][..],
        &["cost"],
        &["cost", "--by", "model", "--format", "json"],
    ] {
        let out = traces(&store, cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(out.stdout.is_empty(), "{cmd:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("no store at") && err.contains("traces import DUMP"),
            "{cmd:?}: {err}"
        );
        assert_eq!(
            err.contains("traces cost DUMP"),
            cmd[0] == "cost",
            "{cmd:?}: {err}"
        );
    }
}

#[test]
fn semantically_broken_spans_import_with_a_warning_each_and_still_count() {
    let span = |id: &str, parent: Option<&str>, name: &str, input: u64, start: &str, end: &str| {
        let mut s = serde_json::json!({
            "traceId": "ab".repeat(16), "spanId": id.repeat(16), "name": name, "kind": 3,
            "startTimeUnixNano": start, "endTimeUnixNano": end,
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}},
            ],
        });
        if let Some(p) = parent {
            s["parentSpanId"] = p.repeat(16).into();
        }
        s
    };
    let (t, u) = ("1795459562000000000", "1795459562000100000");
    let spans = vec![
        span("1", None, "call", 10, t, u),
        span("2", Some("2"), "own parent", 5, t, u),
        span("3", Some("4"), "cycle a", 2, t, u),
        span("4", Some("3"), "cycle b", 3, t, u),
        span("5", None, "", 1, "0", "0"),
        span("6", None, "backwards", 1, u, t),
    ];
    let doc = serde_json::json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]});
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.json");
    std::fs::write(&f, doc.to_string()).unwrap();
    let store = dir.path().join("store");
    let out = import(&store, &[f]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    for w in [
        "1 span(s) end before they start",
        "1 span(s) have no start time",
        "1 span(s) are their own parent",
        "1 span(s) have no name",
    ] {
        assert!(err.contains(w), "{w}: {err}");
    }
    // Every call differs from its neighbours, so each counts once: 10+5+2+3+1+1.
    let cost = traces(&store, &["cost", "--format", "json"]);
    let v: Value = serde_json::from_slice(&cost.stdout).unwrap();
    assert_eq!(v["total"]["input_tokens"], 22, "{}", text(&cost.stdout));
    assert_eq!(v["total"]["calls"], 6);
}

#[test]
fn a_repeated_span_id_with_other_content_keeps_the_first_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let dump = |name: &str, input: u64| {
        let doc = serde_json::json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [{
            "traceId": "cd".repeat(16), "spanId": "ef".repeat(8), "name": "chat", "kind": 3,
            "startTimeUnixNano": "1795459562000000000", "endTimeUnixNano": "1795459562000100000",
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}},
            ],
        }]}]}]});
        let f = dir.path().join(name);
        std::fs::write(&f, doc.to_string()).unwrap();
        f
    };
    let (first, same, other) = (
        dump("a.json", 100),
        dump("a2.json", 100),
        dump("b.json", 5000),
    );
    let input_tokens = |store: &Path| {
        let out = traces(store, &["cost", "--format", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["total"]["input_tokens"].as_u64().unwrap()
    };
    let conflict = "1 span(s) repeat the id of a span already stored or read earlier, with other content: the first is kept";

    // Against a stored span: the same content is a plain repeat, another is a conflict.
    let store = dir.path().join("one");
    assert!(
        import(&store, std::slice::from_ref(&first))
            .status
            .success()
    );
    let out = import(&store, std::slice::from_ref(&same));
    assert!(
        !text(&out.stderr).contains("with other content"),
        "{}",
        text(&out.stderr)
    );
    let out = import(&store, std::slice::from_ref(&other));
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(conflict), "{err}");
    assert!(
        err.contains(&format!(
            "trace {} span {}",
            "cd".repeat(16),
            "ef".repeat(8)
        )),
        "{err}"
    );
    assert_eq!(input_tokens(&store), 100);

    // Within one import, whichever comes first is kept.
    let store = dir.path().join("two");
    let out = import(&store, &[other.clone(), same, first]);
    let both = conflict.replacen('1', "2", 1);
    assert!(text(&out.stderr).contains(&both), "{}", text(&out.stderr));
    assert_eq!(input_tokens(&store), 5000);
}

#[test]
fn the_same_spans_in_every_lossless_encoding_do_not_conflict_and_a_lossy_one_does() {
    let lossless = [
        "otel/spans.otlp.json",
        "otel/spans.otlp.pb",
        "otel/spans.protojson.json",
        "otel/spans.snake.json",
        "otel/spans.otlp.pb.gz",
        "otel/collector.jsonl",
        "otel/collector.binpb",
        "otel/collector.jsonl.zst",
    ];
    let dir = tempfile::tempdir().unwrap();
    let s2 = dir.path().join("store");
    let paths: Vec<PathBuf> = lossless.iter().map(|f| testdata(f)).collect();
    let out = import(&s2, &paths);
    assert!(
        !text(&out.stderr).contains("other content"),
        "{}",
        text(&out.stderr)
    );
    // The console exporter prints microseconds and no scope: all 8 spans say less.
    let out = import(&s2, &[testdata("otel/console.json")]);
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "8 span(s) repeat the id of a span already stored or read earlier, with other content"
        ),
        "{err}"
    );
}

#[test]
fn times_past_2262_are_held_to_the_limit_with_a_warning_and_never_wrap() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    let dir = tempfile::tempdir().unwrap();
    let span = |id: &str, start: Value, end: Value, input: u64| {
        serde_json::json!({
            "traceId": "9".repeat(32), "spanId": id.repeat(16), "name": "chat", "kind": 3,
            "startTimeUnixNano": start, "endTimeUnixNano": end,
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}},
            ],
        })
    };
    // Year 9999 as decimal text, past u64 as a number, and a start at the limit with an
    // end of 1 (the pair whose difference wrapped).
    let spans = vec![
        span(
            "1",
            "1795459562000000000".into(),
            "253402300799000000000".into(),
            1,
        ),
        span(
            "2",
            "1795459562000000000".into(),
            serde_json::json!(18446744073709551615u64),
            2,
        ),
        span("3", "253402300799000000000".into(), "1".into(), 4),
    ];
    let doc = serde_json::json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]});
    let json = dir.path().join("never.json");
    std::fs::write(&json, doc.to_string()).unwrap();
    // The same in protobuf, where a time is a fixed64 and u64::MAX is well formed.
    let attr = |k: &str, v: any_value::Value| KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    };
    let pb = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![0x88; 16],
                    span_id: vec![0x44; 8],
                    name: "chat".into(),
                    kind: 3,
                    start_time_unix_nano: 1_795_459_562_000_000_000,
                    end_time_unix_nano: u64::MAX,
                    attributes: vec![
                        attr(
                            "gen_ai.request.model",
                            any_value::Value::StringValue("gpt-4o".into()),
                        ),
                        attr("gen_ai.usage.input_tokens", any_value::Value::IntValue(8)),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec();
    let proto = dir.path().join("never.pb");
    std::fs::write(&proto, pb).unwrap();

    let store = dir.path().join("store");
    let out = import(&store, &[json, proto]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("4 span(s) have a time after 2262-04-11"),
        "{err}"
    );
    let cost = traces(&store, &["cost", "--format", "json"]);
    let v: Value = serde_json::from_slice(&cost.stdout).unwrap();
    assert_eq!(v["total"]["input_tokens"], 1 + 2 + 4 + 8);

    // The limit is 2262-04-11T23:47:16.854775807Z: every time shown is at or before it,
    // and no duration is negative.
    let show = traces(&store, &["show", &"9".repeat(32), "--format", "json"]);
    assert!(show.status.success(), "{}", text(&show.stderr));
    let v: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(v["duration_ms"].as_f64().unwrap() >= 0.0);
    for s in v["spans"].as_array().unwrap() {
        assert!(s["duration_ms"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(s["start_offset_ms"].as_f64().unwrap() >= 0.0, "{s}");
    }
    let list = list_json(&store, &[]);
    assert_eq!(list.len(), 2);
    for t in &list {
        assert!(t["duration_ms"].as_f64().unwrap() >= 0.0, "{t}");
    }
}

#[test]
fn a_dump_cut_anywhere_is_refused_whole_in_every_format() {
    let formats = [
        "otel/spans.otlp.json",
        "otel/spans.protojson.json",
        "otel/spans.otlp.pb",
        "otel/spans.otlp.pb.gz",
        "otel/collector.jsonl",
        "otel/collector.binpb",
        "otel/collector.jsonl.gz",
        "otel/collector.jsonl.zst",
        "otel/console.json",
        "otel/console.jsonl",
        "otel/phoenix-spans.jsonl",
        "otel/logs.otlp.pb",
        "langfuse-exports/crewai-2025-07-11.trace.json",
        "otel-js/all-spans.json",
        "any-agent/OPENAI_trace.json",
        "cloudwatch/raw_otel_langchain_spans.json",
        "sideseat/traces-crewai-head.jsonl.gz",
        "llm/aisdk4/traces-001.pb",
    ];
    let (dir, store) = store_with(&["otel/spans.otlp.pb"]);
    let before = snapshot(&store);
    let mut cases = 0;
    for rel in formats {
        let bytes = std::fs::read(testdata(rel)).unwrap();
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        let n = bytes.len();
        // Trailing blanks are not content: cutting them leaves the dump whole.
        let content = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .unwrap()
            + 1;
        for cut in [
            n / 97,
            n / 7,
            n / 3,
            n / 2,
            2 * n / 3,
            9 * n / 10,
            content - 1,
        ] {
            // A cut right after a line's end leaves whole lines, which is a shorter dump
            // and not a cut one: the cut goes one byte into the next line.
            let cut = if cut + 1 < content && bytes[..cut].ends_with(b"\n") {
                cut + 1
            } else {
                cut
            };
            let f = dir.path().join(format!("cut-{cut}-{name}"));
            std::fs::write(&f, &bytes[..cut]).unwrap();
            let out = import(&store, &[testdata("otel/logs.otlp.pb"), f.clone()]);
            let err = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{rel} cut at {cut} of {n}: {err}"
            );
            assert!(
                err.contains(&f.display().to_string()),
                "{rel} at {cut}: {err}"
            );
            assert!(
                ["line ", "byte ", "whole file"]
                    .iter()
                    .any(|w| err.contains(w)),
                "{rel} at {cut}: no location: {err}"
            );
            assert!(
                snapshot(&store) == before,
                "{rel} at {cut}: the store changed"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, formats.len() * 7);
}

#[test]
fn a_100_mb_attribute_value_imports_whole() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    // Letters that do not repeat in short cycles, so no layer can shrink them to a pattern.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let big: String = (0..100_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'a' + (x % 26) as u8) as char
        })
        .collect();
    let doc = serde_json::json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [{
        "traceId": "7".repeat(32), "spanId": "6".repeat(16), "name": "chat", "kind": 3,
        "startTimeUnixNano": "1795459562000000000", "endTimeUnixNano": "1795459562000100000",
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "33"}},
            {"key": "big.prompt", "value": {"stringValue": big}},
        ],
    }]}]}]});
    let f = dir.path().join("big.json");
    std::fs::write(&f, doc.to_string()).unwrap();
    drop(doc);
    let store = dir.path().join("store");
    let out = import(&store, &[f]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cost = traces(&store, &["cost", "--format", "json"]);
    let v: Value = serde_json::from_slice(&cost.stdout).unwrap();
    assert_eq!(v["total"]["input_tokens"], 33);
    let spans = traces::store::Store::at(&store)
        .scan_spans()
        .unwrap()
        .unwrap();
    let df = spans.select([col("attributes")]).collect().unwrap();
    let attrs = df
        .column("attributes")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap();
    let stored: Value = serde_json::from_str(attrs).unwrap();
    assert!(
        stored["big.prompt"].as_str() == Some(big.as_str()),
        "the value came back whole"
    );
}

/// A store is a function of what was imported: the same dumps into two fresh stores
/// write the same Parquet files, byte for byte (each calls table's marker rows once
/// came in the order of a hash set, which differs from run to run).
#[test]
fn the_same_imports_write_the_same_files() {
    let dumps = ["llm", "otel", "langfuse-exports"];
    let (a_dir, a) = store_with(&dumps);
    let (b_dir, b) = store_with(&dumps);
    let (fa, fb) = (
        crate::common::parquet_files(&a),
        crate::common::parquet_files(&b),
    );
    let rel = |files: &[PathBuf], root: &Path| -> Vec<PathBuf> {
        files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().to_path_buf())
            .collect()
    };
    assert_eq!(rel(&fa, &a), rel(&fb, &b));
    assert!(
        fa.iter().any(|f| f.starts_with(a.join("calls"))),
        "calls tables written"
    );
    for (x, y) in fa.iter().zip(&fb) {
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs",
            x.strip_prefix(&a).unwrap().display()
        );
    }
    drop((a_dir, b_dir));
}
