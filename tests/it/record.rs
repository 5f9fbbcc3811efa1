//! `traces record` with real clients: the OpenTelemetry Python SDK (OTLP/HTTP and
//! gRPC exporters), the OpenTelemetry JS SDK (protobuf and JSON exporters), OpenInference
//! with the real openai client against the fake OpenAI server, and the langfuse 2.x SDK,
//! each checked against what it sent (its own ledger, or the fake server's). Then what no
//! real client sends: broken, oversized and unauthorized bodies, and a receiver killed
//! after answering.

use crate::common::{root, text, traces_command, traces_in};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The real clients, installed once per run by the script `.ci/run` also calls.
fn clients() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = root().join("target/record-clients");
        let ok = Command::new("bash")
            .arg(root().join("scripts/record-clients.sh"))
            .env("TRACES_RECORD_CLIENTS", &dir)
            .status()
            .expect("bash runs");
        assert!(ok.success(), "scripts/record-clients.sh failed");
        // ES modules resolve packages from where the script is.
        std::fs::copy(
            root().join("tests/record/otel_app.mjs"),
            dir.join("node/otel_app.mjs"),
        )
        .unwrap();
        dir
    })
    .clone()
}

fn python() -> PathBuf {
    clients().join("venv/bin/python")
}

fn app(name: &str) -> String {
    root().join("tests/record").join(name).display().to_string()
}

/// `traces record ARGS -- CMD...`, run to its end.
fn record(store: &Path, args: &[&str], cmd: &[&str]) -> std::process::Output {
    let mut all = vec!["record"];
    all.extend_from_slice(args);
    all.push("--");
    all.extend_from_slice(cmd);
    traces_in(store, &all)
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Per trace: (spans, input tokens, output tokens), from `list` and `cost --by trace`.
fn stored(store: &Path) -> BTreeMap<String, (u64, u64, u64)> {
    let list: Value = serde_json::from_str(&ok(traces_in(
        store,
        &["list", "--format", "json", "--limit", "1000000"],
    )))
    .unwrap();
    let cost: Value = serde_json::from_str(&text(
        &traces_in(store, &["cost", "--by", "trace", "--format", "json"]).stdout,
    ))
    .unwrap();
    let mut tokens = BTreeMap::new();
    for r in cost["rows"].as_array().unwrap() {
        tokens.insert(
            r["trace_id"].as_str().unwrap().to_string(),
            (
                r["input_tokens"].as_u64().unwrap(),
                r["output_tokens"].as_u64().unwrap(),
            ),
        );
    }
    let rows = list.as_array().or_else(|| list["rows"].as_array()).unwrap();
    rows.iter()
        .map(|r| {
            let id = r["trace_id"].as_str().unwrap().to_string();
            let (i, o) = tokens.get(&id).copied().unwrap_or((0, 0));
            (id, (r["spans"].as_u64().unwrap(), i, o))
        })
        .collect()
}

/// An app's own ledger: {trace_id: {spans, input, output}}.
fn ledger(path: &Path) -> BTreeMap<String, (u64, u64, u64)> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, e)| {
            (
                k.clone(),
                (
                    e["spans"].as_u64().unwrap_or(0),
                    e["input"].as_u64().unwrap(),
                    e["output"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn the_python_sdk_over_http_and_grpc_lands_every_span_and_log_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut want = BTreeMap::new();
    for (seed, protocol) in [("1", "http"), ("2", "grpc")] {
        let l = dir.path().join(format!("ledger-{protocol}.json"));
        let py = python();
        let out = ok(record(
            &store,
            &["--protocol", protocol],
            &[
                py.to_str().unwrap(),
                &app("otel_app.py"),
                l.to_str().unwrap(),
                "--seed",
                seed,
                "--traces",
                "3",
                "--calls",
                "2",
                "--logs",
            ],
        ));
        // One log record per trace, as the app logged them.
        assert!(out.contains("9 span(s), 3 log record(s)"), "{out}");
        assert!(out.contains("logs:    3 read, 3 new"), "{out}");
        want.extend(ledger(&l));
    }
    assert_eq!(want.len(), 6);
    assert_eq!(stored(&store), want);
}

#[test]
fn the_js_sdk_protobuf_and_json_exporters_land_every_span() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mjs = clients().join("node/otel_app.mjs");
    let mut want = BTreeMap::new();
    for protocol in ["http/protobuf", "http/json"] {
        let l = dir
            .path()
            .join(format!("ledger-{}.json", protocol.replace('/', "-")));
        let env = format!("OTEL_EXPORTER_OTLP_PROTOCOL={protocol}");
        ok(record(
            &store,
            &["--env", &env],
            &["node", mjs.to_str().unwrap(), l.to_str().unwrap()],
        ));
        want.extend(ledger(&l));
    }
    assert_eq!(want.len(), 6);
    assert_eq!(stored(&store), want);
}

#[test]
fn openinference_openai_calls_cost_what_the_fake_server_answered() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let l = dir.path().join("server-ledger.json");
    let py = python();
    ok(record(
        &store,
        &[],
        &[
            py.to_str().unwrap(),
            &app("oi_openai.py"),
            l.to_str().unwrap(),
        ],
    ));
    let server: Value = serde_json::from_slice(&std::fs::read(&l).unwrap()).unwrap();
    let mut want = BTreeMap::new();
    for e in server.as_array().unwrap() {
        let u = &e["usage"];
        want.insert(
            e["trace_name"].as_str().unwrap().to_string(),
            (
                u["prompt_tokens"].as_u64().unwrap(),
                u["completion_tokens"].as_u64().unwrap(),
            ),
        );
    }
    assert_eq!(want.len(), 3);
    let got: BTreeMap<String, (u64, u64)> = stored(&store)
        .into_iter()
        .map(|(k, (_, i, o))| (k, (i, o)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_langfuse_2_sdk_ingestion_batches_land_as_its_generations() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let l = dir.path().join("ledger.json");
    let py = python();
    let out = ok(record(
        &store,
        &[],
        &[
            py.to_str().unwrap(),
            &app("langfuse2_app.py"),
            l.to_str().unwrap(),
        ],
    ));
    assert!(!out.contains("refused"), "{out}");
    let got: BTreeMap<String, (u64, u64)> = stored(&store)
        .into_iter()
        .map(|(k, (_, i, o))| (k, (i, o)))
        .collect();
    let want: BTreeMap<String, (u64, u64)> = ledger(&l)
        .into_iter()
        .map(|(k, (_, i, o))| (k, (i, o)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn eight_concurrent_exporters_of_ten_thousand_spans_each_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let py = python();
    let script = format!(
        "for i in 1 2 3 4 5 6 7 8; do {} {} {}/l$i.json --seed $i --traces 1000 --calls 9 & done; wait",
        py.display(),
        app("otel_app.py"),
        dir.path().display()
    );
    // The SDK's queue holds 2,048 spans by default and drops the rest when the app
    // makes them faster than one export a batch: this app makes them in a tight loop.
    let out = ok(record(
        &store,
        &["--env", "OTEL_BSP_MAX_QUEUE_SIZE=10000"],
        &["sh", "-c", &script],
    ));
    assert!(out.contains("80,000 span(s)"), "{out}");
    let mut want = BTreeMap::new();
    for i in 1..=8 {
        want.extend(ledger(&dir.path().join(format!("l{i}.json"))));
    }
    assert_eq!(want.len(), 8000);
    let got = stored(&store);
    assert_eq!(got.values().map(|v| v.0).sum::<u64>(), 80_000);
    assert_eq!(got, want);
}

#[test]
fn output_writes_otlp_json_lines_that_import_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("run.jsonl");
    let l = dir.path().join("ledger.json");
    let py = python();
    let never = dir.path().join("no-store");
    ok(record(
        &never,
        &["--output", dump.to_str().unwrap()],
        &[
            py.to_str().unwrap(),
            &app("otel_app.py"),
            l.to_str().unwrap(),
            "--logs",
        ],
    ));
    assert!(!never.exists(), "--output made a store");
    let body = std::fs::read_to_string(&dump).unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l.get("resourceSpans").is_some()));
    assert!(lines.iter().any(|l| l.get("resourceLogs").is_some()));
    let store = dir.path().join("store");
    ok(traces_in(&store, &["import", dump.to_str().unwrap()]));
    assert_eq!(stored(&store), ledger(&l));
}

#[test]
fn the_command_s_exit_status_is_record_s() {
    let dir = tempfile::tempdir().unwrap();
    let out = record(&dir.path().join("s"), &[], &["sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let out = record(&dir.path().join("s"), &[], &["no-such-command-here"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(text(&out.stderr).contains("cannot run no-such-command-here"));
}

/// A receiver serving without a command, and its base URL.
struct Serving {
    child: Child,
    base: String,
}

fn serve(store: &Path, args: &[&str]) -> Serving {
    let mut child = traces_command()
        .arg("--store")
        .arg(store)
        .args(["record", "--listen", "127.0.0.1:0"])
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("receiving on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    // Keep reading, so that the receiver never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    Serving { child, base }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut req = agent().post(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.send(body).unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.body_mut().read_to_vec().unwrap_or_default();
    (status, bytes)
}

const PB: (&str, &str) = ("Content-Type", "application/x-protobuf");
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A request of one trace of `n` spans with `input` tokens on each.
fn request(trace: u8, n: u8, input: i64) -> Vec<u8> {
    request_of(trace, n, input, "gpt-4o-mini")
}

fn request_of(trace: u8, n: u8, input: i64, model: &str) -> Vec<u8> {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![trace; 16],
            span_id: vec![i + 1; 8],
            name: format!("chat {i}"),
            start_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(i),
            end_time_unix_nano: 1_700_000_000_100_000_000,
            attributes: vec![
                KeyValue {
                    key: "gen_ai.request.model".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(model.into())),
                    }),
                    ..Default::default()
                },
                KeyValue {
                    key: "gen_ai.usage.input_tokens".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::IntValue(input)),
                    }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn stop(mut s: Serving) {
    // SIGTERM, as docker or CI stop a sidecar: it commits what it holds, then exits 0.
    let pid = s.child.id() as i32;
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(s.child.wait().unwrap().success());
}

#[test]
fn bad_bodies_get_the_spec_s_status_and_the_receiver_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = serve(&store, &["--max-body", "1M", "--token", "sekrit"]);
    let auth = ("Authorization", "Bearer sekrit");
    let good = request(7, 3, 11);
    let b = &s.base;
    // No token, then the wrong one.
    assert_eq!(post(b, "/v1/traces", &[PB], &good).0, 401);
    assert_eq!(
        post(
            b,
            "/v1/traces",
            &[PB, ("Authorization", "Bearer nope")],
            &good
        )
        .0,
        401
    );
    // Truncated protobuf, random bytes, JSON of the wrong shape, not JSON at all.
    assert_eq!(
        post(b, "/v1/traces", &[PB, auth], &good[..good.len() / 2]).0,
        400
    );
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert_eq!(post(b, "/v1/traces", &[PB, auth], &noise).0, 400);
    let (status, body) = post(b, "/v1/traces", &[JSON, auth], br#"{"resourceSpans": 5}"#);
    assert_eq!(status, 400);
    let err: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(err["code"], 3, "{err}");
    assert_eq!(
        post(b, "/v1/traces", &[JSON, auth], b"{\"resourceSpans\": [").0,
        400
    );
    // Past the limit as sent, and once inflated (a gzip bomb: 64 MiB of zeros).
    assert_eq!(
        post(b, "/v1/traces", &[PB, auth], &vec![0x0a; 2 << 20]).0,
        413
    );
    let bomb = {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 64 << 20]).unwrap();
        gz.finish().unwrap()
    };
    assert!(bomb.len() < 1 << 20);
    assert_eq!(
        post(
            b,
            "/v1/traces",
            &[PB, auth, ("Content-Encoding", "gzip")],
            &bomb
        )
        .0,
        413
    );
    // Other types, encodings and methods.
    assert_eq!(
        post(
            b,
            "/v1/traces",
            &[("Content-Type", "text/plain"), auth],
            b"x"
        )
        .0,
        415
    );
    assert_eq!(
        post(
            b,
            "/v1/traces",
            &[PB, auth, ("Content-Encoding", "br")],
            &good
        )
        .0,
        415
    );
    let get = agent()
        .get(format!("{b}/v1/traces"))
        .header("Authorization", "Bearer sekrit")
        .call()
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
    // A Langfuse batch: one event taken, one refused, each said.
    let batch = serde_json::json!({"batch": [
        {"id": "e1", "type": "trace-create", "timestamp": "2025-01-01T00:00:00Z",
         "body": {"id": "lf-trace-1", "name": "t", "timestamp": "2025-01-01T00:00:00Z"}},
        {"id": "e2", "type": "generation-create", "timestamp": "2025-01-01T00:00:00Z", "body": 5}
    ]});
    let basic = ("Authorization", "Basic cGstbGY6c2Vrcml0"); // pk-lf:sekrit
    let (status, body) = post(
        b,
        "/api/public/ingestion",
        &[JSON, basic],
        batch.to_string().as_bytes(),
    );
    assert_eq!(status, 207);
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(r["successes"][0]["id"], "e1", "{r}");
    assert_eq!(r["errors"][0]["id"], "e2", "{r}");
    // Still serving: a good body, gzipped, and JSON with a charset.
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&good).unwrap();
        e.finish().unwrap()
    };
    let (status, body) = post(
        b,
        "/v1/traces",
        &[PB, auth, ("Content-Encoding", "gzip")],
        &gz,
    );
    assert_eq!(status, 200);
    assert!(body.is_empty(), "an empty ExportTraceServiceResponse");
    let json_body =
        std::fs::read(root().join("testdata/otel/collector-traces-only.jsonl")).unwrap();
    let first = json_body.split(|c| *c == b'\n').next().unwrap();
    assert_eq!(
        post(
            b,
            "/otel/my-project/v1/traces",
            &[("Content-Type", "application/json; charset=utf-8"), auth],
            first
        )
        .0,
        200
    );
    stop(s);
    let got = stored(&store);
    assert_eq!(got.get(&"07".repeat(16)), Some(&(3, 33, 0)), "{got:?}");
}

#[test]
fn a_receiver_killed_after_answering_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut s = serve(&store, &["--commit-every", "1h"]);
    assert_eq!(post(&s.base, "/v1/traces", &[PB], &request(9, 4, 5)).0, 200);
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    // Nothing was committed; the next record finds the spool and imports it.
    assert!(!store.join("manifest.json").exists() || stored(&store).is_empty());
    ok(record(&store, &[], &["true"]));
    assert_eq!(stored(&store).get(&"09".repeat(16)), Some(&(4, 20, 0)));
}

#[test]
fn the_readme_lists_every_variable_record_sets() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (key, _, _) in traces::receive::env::VARIABLES {
        assert!(
            readme.contains(&format!("| `{key}` |")),
            "README.md has no row for {key}"
        );
    }
}

#[test]
fn check_with_a_command_records_it_and_checks_only_what_it_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let py = python();
    let py = py.to_str().unwrap();
    let l0 = dir.path().join("before.json");
    // An earlier run in the store, far over the limit below: not this run's to answer for.
    ok(record(
        &store,
        &[],
        &[py, &app("otel_app.py"), l0.to_str().unwrap(), "--seed", "9"],
    ));
    let budget = dir.path().join("budget.toml");
    let check = |limit: u64, cmd: &str, ledger: &Path| {
        std::fs::write(
            &budget,
            format!(
                "[[rule]]\nname = \"per trace\"\nscope = \"trace\"\nmax_total_tokens = {limit}\n"
            ),
        )
        .unwrap();
        let script = format!(
            "{py} {} {} --seed 1 && exit {cmd}",
            app("otel_app.py"),
            ledger.display()
        );
        traces_in(
            &store,
            &[
                "check",
                "--budget",
                budget.to_str().unwrap(),
                "--format",
                "json",
                "--",
                "sh",
                "-c",
                &script,
            ],
        )
    };
    let l1 = dir.path().join("run1.json");
    let out = check(860, "0", &l1);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The run's dearest trace, by its own ledger: one over a limit one below it.
    let run = ledger(&l1);
    let dearest = run.values().map(|(_, i, o)| i + o).max().unwrap();
    let l2 = dir.path().join("run2.json");
    let out = check(dearest - 1, "0", &l2);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let offenders = &report["rules"][0]["limits"][0]["offenders"];
    let worst = ledger(&l2)
        .into_iter()
        .max_by_key(|(_, (_, i, o))| i + o)
        .unwrap();
    assert_eq!(offenders.as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(offenders[0]["member"], worst.0.as_str(), "{report}");
    assert_eq!(offenders[0]["value"], dearest, "{report}");
    // The command's failure comes first.
    let l3 = dir.path().join("run3.json");
    let out = check(dearest - 1, "3", &l3);
    assert_eq!(out.status.code(), Some(3));
    // Every run was kept in the store, as record keeps it.
    let mut want = ledger(&l0);
    for l in [&l1, &l2, &l3] {
        want.extend(ledger(l));
    }
    assert_eq!(stored(&store), want);
}

#[test]
fn a_sidecar_commits_every_interval_while_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = serve(&store, &["--commit-every", "200ms"]);
    assert_eq!(post(&s.base, "/v1/traces", &[PB], &request(5, 2, 8)).0, 200);
    let t = "05".repeat(16);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Committed while it still serves: another process reads it from the store.
    while !(store.join("manifest.json").exists() && stored(&store).contains_key(&t)) {
        assert!(std::time::Instant::now() < deadline, "never committed");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(stored(&store)[&t], (2, 16, 0));
    assert_eq!(post(&s.base, "/v1/traces", &[PB], &request(6, 1, 3)).0, 200);
    stop(s);
    assert_eq!(stored(&store)[&"06".repeat(16)], (1, 3, 0));
}

/// The price entry each call of the store's calls tables names (what sql/ prices by).
fn price_ids(store: &Path) -> Vec<Option<String>> {
    use polars::prelude::*;
    let mut out = Vec::new();
    for e in std::fs::read_dir(store.join("calls")).unwrap() {
        let p = e.unwrap().path();
        let df = LazyFrame::scan_parquet(PlRefPath::new(p.to_str().unwrap()), Default::default())
            .unwrap()
            .filter(col("calls_without_usage").is_null())
            .select([col("price_id")])
            .collect()
            .unwrap();
        let ids = df.column("price_id").unwrap().str().unwrap().clone();
        out.extend(ids.iter().map(|v| v.map(String::from)));
    }
    out
}

#[test]
fn a_pricing_file_names_the_price_entries_of_what_record_stores() {
    let dir = tempfile::tempdir().unwrap();
    let prices = dir.path().join("house.toml");
    std::fs::write(
        &prices,
        "[[model]]\nid = \"house-model-7\"\nprovider = \"house\"\n[[model.price]]\ninput = \"1\"\noutput = \"2\"\n",
    )
    .unwrap();
    for (name, args) in [
        ("without", vec![]),
        ("with", vec!["--pricing", prices.to_str().unwrap()]),
    ] {
        let store = dir.path().join(name);
        let s = serve(&store, &args);
        let body = request_of(7, 2, 5, "house-model-7");
        assert_eq!(post(&s.base, "/v1/traces", &[PB], &body).0, 200);
        stop(s);
        let want = match name {
            "with" => Some("house-model-7".to_string()),
            _ => None,
        };
        assert_eq!(
            price_ids(&store),
            vec![want.clone(), want],
            "{name} --pricing"
        );
    }
}
