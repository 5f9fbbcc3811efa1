//! Several stores read as one (`--store A --store B`, a glob, `TRACES_STORE=A:B`). The
//! second engine is one store into which the same dumps were imported in the same order:
//! every report of the union must equal its report. Hand counts cover a trace split
//! across stores and the same dump in two stores.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{catalyst_halves, testdata, text, traces_command};

fn with_stores(stores: &[&Path], args: &[&str]) -> Output {
    let mut cmd = traces_command();
    for s in stores {
        cmd.arg("--store").arg(s);
    }
    cmd.args(args).output().unwrap()
}

fn ok_json(stores: &[&Path], args: &[&str]) -> Value {
    let out = with_stores(stores, args);
    assert!(
        out.status.success(),
        "{args:?} over {stores:?}: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn import(store: &Path, inputs: &[PathBuf]) {
    let mut args = vec!["import".to_string()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = with_stores(&[store], &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn write(dir: &Path, name: &str, doc: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

/// Three CI runs' stores: the first and second both hold the OpenInference dump (the
/// same dump imported twice), the catalyst traces have half their spans in each, the
/// third holds a dump of its own. Reports over them equal one store of every import.
#[test]
fn the_union_of_stores_reports_as_one_store_of_the_same_imports() {
    let dir = tempfile::tempdir().unwrap();
    let (firsts, seconds) = catalyst_halves(dir.path());
    let oi = testdata("llm/oi");
    let runs: Vec<Vec<PathBuf>> = vec![
        [vec![oi.clone()], firsts].concat(),
        [seconds, vec![oi, testdata("llm/langgraph-oi")]].concat(),
        vec![testdata("llm/anthropic-oi")],
    ];
    let one = dir.path().join("one");
    let stores: Vec<PathBuf> = (0..runs.len())
        .map(|i| dir.path().join(format!("runs/{i}/.traces")))
        .collect();
    for (store, inputs) in stores.iter().zip(&runs) {
        import(store, inputs);
        import(&one, inputs);
    }
    let union: Vec<&Path> = stores.iter().map(PathBuf::as_path).collect();
    let glob = dir.path().join("runs/*/.traces");

    let mut reports: Vec<Vec<&str>> = ["session", "model", "user", "trace"]
        .iter()
        .map(|by| vec!["cost", "--by", by, "--format", "json"])
        .collect();
    reports.extend([
        // Raw attributes: every call derived from the spans, none from a calls table.
        vec![
            "cost",
            "--by",
            "attr:openinference.span.kind",
            "--format",
            "json",
        ],
        vec!["list", "--format", "json"],
        vec!["sessions", "--format", "json"],
        vec!["users", "--format", "json"],
    ]);
    for args in &reports {
        let expected = ok_json(&[&one], args);
        assert_eq!(ok_json(&union, args), expected, "{args:?}");
        assert_eq!(ok_json(&[&glob], args), expected, "{args:?} through a glob");
    }

    // The naive sum of the stores' own reports counts the shared dump twice.
    let total = |stores: &[&Path]| {
        ok_json(stores, &["cost", "--format", "json"])["total"]["calls"]
            .as_u64()
            .unwrap()
    };
    let each: u64 = union.iter().map(|s| total(&[s])).sum();
    assert!(each > total(&union), "{each} vs {}", total(&union));
    assert_eq!(total(&union), total(&[&one]));

    let listed = ok_json(&[&one], &["list", "--format", "json"]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trace_id"].as_str().unwrap())
        .collect();
    assert!(ids.len() > 10, "{listed}");
    for id in ids {
        let args = ["show", id, "--format", "json"];
        assert_eq!(ok_json(&union, &args), ok_json(&[&one], &args), "show {id}");
    }

    let budget = dir.path().join("budget.toml");
    std::fs::write(
        &budget,
        "[[rule]]\nname = \"per trace\"\nscope = \"trace\"\nmax_cost_usd = 0.001\nmax_duration_ms = 50\nmax_errors = 0\n\n\
         [[rule]]\nname = \"per session\"\nscope = \"session\"\np95_total_tokens = 3000\n",
    )
    .unwrap();
    let budget = budget.display().to_string();
    let check = ["check", "--budget", &budget, "--format", "json"];
    let (a, b) = (with_stores(&union, &check), with_stores(&[&one], &check));
    assert_eq!(a.status.code(), b.status.code(), "{}", text(&a.stderr));
    assert_eq!(b.status.code(), Some(1), "{}", text(&b.stdout));
    assert_eq!(text(&a.stdout), text(&b.stdout));
}

const T: &str = "0af7651916cd43dd8448eb211c80319c";
const U: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const V: &str = "5b8efff798038103d269b633813fc60c";

/// (trace, span, parent, name, gen_ai operation, input, output, session)
type Span<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a str,
    i64,
    i64,
    Option<&'a str>,
);

fn dump(dir: &Path, name: &str, spans: &[Span]) -> PathBuf {
    let spans: Vec<Value> = spans
        .iter()
        .enumerate()
        .map(|(i, (t, s, p, n, op, input, output, session))| {
            let start = 1_700_000_000_000_000_000i64 + i as i64 * 1_000_000;
            let mut attrs = vec![
                json!({"key": "gen_ai.operation.name", "value": {"stringValue": op}}),
                json!({"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}}),
                json!({"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}}),
                json!({"key": "gen_ai.usage.output_tokens", "value": {"intValue": output.to_string()}}),
            ];
            if let Some(s) = session {
                attrs.push(json!({"key": "session.id", "value": {"stringValue": s}}));
            }
            let mut v = json!({
                "traceId": t, "spanId": s, "name": n, "kind": 1,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + 500_000).to_string(),
                "attributes": attrs,
            });
            if let Some(p) = p {
                v["parentSpanId"] = json!(p);
            }
            v
        })
        .collect();
    let doc = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ci"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
    }]});
    write(dir, name, &doc)
}

/// (session or null, calls, input, output) per row of `cost --by session`.
fn by_session(stores: &[&Path]) -> Vec<(Value, u64, i64, i64)> {
    let doc = ok_json(stores, &["cost", "--by", "session", "--format", "json"]);
    let mut rows: Vec<(Value, u64, i64, i64)> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["session_id"].clone(),
                r["calls"].as_u64().unwrap(),
                r["input_tokens"].as_i64().unwrap(),
                r["output_tokens"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.0.as_str().map(String::from));
    rows
}

/// An agent span carrying the sum of its calls is in one run's store, its model call in
/// another's. Alone, each store counts what it sees: the agent's 150/15 (its call is not
/// there), the call's 100/10 without the session the agent names. Together the call
/// counts once, 100/10, in the agent's session: not 250/25 over two calls.
#[test]
fn a_trace_split_across_stores_is_attributed_over_all_its_spans() {
    let dir = tempfile::tempdir().unwrap();
    let agent = dump(
        dir.path(),
        "agent.json",
        &[(
            T,
            "00000000000000a1",
            None,
            "agent",
            "invoke_agent",
            150,
            15,
            Some("s-split"),
        )],
    );
    let calls = dump(
        dir.path(),
        "calls.json",
        &[
            (
                T,
                "00000000000000b1",
                Some("00000000000000a1"),
                "chat",
                "chat",
                100,
                10,
                None,
            ),
            (U, "00000000000000c1", None, "chat", "chat", 7, 3, None),
        ],
    );
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    import(&a, &[agent]);
    import(&b, &[calls]);
    let s = |v: &str| Value::String(v.into());
    assert_eq!(by_session(&[&a]), vec![(s("s-split"), 1, 150, 15)]);
    assert_eq!(by_session(&[&b]), vec![(Value::Null, 2, 107, 13)]);
    assert_eq!(
        by_session(&[&a, &b]),
        vec![(Value::Null, 1, 7, 3), (s("s-split"), 1, 100, 10)]
    );
    // The other order names the same spans: the same attribution.
    assert_eq!(by_session(&[&b, &a]), by_session(&[&a, &b]));

    let listed = ok_json(
        &[&a, &b],
        &["list", "--format", "json", "--sort", "trace_id"],
    );
    let rows: Vec<(&str, &str, u64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["trace_id"].as_str().unwrap(),
                r["root_name"].as_str().unwrap(),
                r["spans"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, vec![(T, "agent", 2), (U, "chat", 1)]);

    let shown = ok_json(&[&a, &b], &["show", &T[..8], "--format", "json"]);
    assert_eq!(shown["session_id"], "s-split");
    assert_eq!(shown["totals"]["calls"], 1);
    assert_eq!(shown["totals"]["input_tokens"], 100);
    assert_eq!(shown["totals"]["output_tokens"], 10);
    assert_eq!(shown["spans"].as_array().unwrap().len(), 2);
    let counted: Vec<(&str, &str)> = shown["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["counted"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counted,
        vec![("agent", "counted_below"), ("chat", "counts")]
    );
}

/// One dump imported by two runs: every span is in both stores and counts once. By
/// hand from the dump: trace V 40 in / 4 out and 60 / 6 (one call each, two calls),
/// trace U 9 / 1; a third store adds trace U's second call, 5 / 2.
#[test]
fn the_same_dump_in_two_stores_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dump(
        dir.path(),
        "run.json",
        &[
            (
                V,
                "00000000000000d1",
                None,
                "chat",
                "chat",
                40,
                4,
                Some("s1"),
            ),
            (
                V,
                "00000000000000d2",
                None,
                "chat",
                "chat",
                60,
                6,
                Some("s1"),
            ),
            (
                U,
                "00000000000000e1",
                None,
                "chat",
                "chat",
                9,
                1,
                Some("s2"),
            ),
        ],
    );
    let more = dump(
        dir.path(),
        "more.json",
        &[(
            U,
            "00000000000000e2",
            None,
            "chat",
            "chat",
            5,
            2,
            Some("s2"),
        )],
    );
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    import(&a, std::slice::from_ref(&shared));
    import(&b, std::slice::from_ref(&shared));
    import(&c, &[shared, more]);
    let s = |v: &str| Value::String(v.into());
    assert_eq!(
        by_session(&[&a, &b]),
        vec![(s("s1"), 2, 100, 10), (s("s2"), 1, 9, 1)]
    );
    assert_eq!(
        by_session(&[&a, &b, &c]),
        vec![(s("s1"), 2, 100, 10), (s("s2"), 2, 14, 3)]
    );
    let total = ok_json(&[&a, &b, &c], &["cost", "--format", "json"])["total"].clone();
    assert_eq!(
        (
            &total["calls"],
            &total["input_tokens"],
            &total["output_tokens"]
        ),
        (&json!(4), &json!(114), &json!(13))
    );
    let listed = ok_json(
        &[&a, &b],
        &["list", "--format", "json", "--sort", "trace_id"],
    );
    let spans: Vec<u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["spans"].as_u64().unwrap())
        .collect();
    assert_eq!(spans, vec![1, 2], "{listed}");
}

/// Two stores that hold one span id with other content (a dump edited between two
/// runs): the first store named wins, as the first import of an id wins in one store,
/// and `cost` says so.
#[test]
fn a_span_two_stores_hold_differently_counts_as_the_first_store_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let span = |input| [(V, "00000000000000d1", None, "chat", "chat", input, 4, None)];
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    import(&a, &[dump(dir.path(), "a.json", &span(40))]);
    import(&b, &[dump(dir.path(), "b.json", &span(41))]);
    for (stores, input) in [([a.as_path(), &b], 40), ([b.as_path(), &a], 41)] {
        let out = with_stores(&stores, &["cost", "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["total"]["calls"], 1);
        assert_eq!(doc["total"]["input_tokens"], input);
        let err = text(&out.stderr);
        assert!(err.contains("1 of them with other content"), "{err}");
    }
}

fn manifest(store: &Path) -> String {
    std::fs::read_to_string(store.join("manifest.json")).unwrap()
}

/// A glob names the stores it matches, `TRACES_STORE` several as PATH does; a glob that
/// matches none, a directory that is not a store, and a write into several are errors
/// (exit 2) that change nothing.
#[test]
fn globs_the_environment_and_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dump(
        dir.path(),
        "d.json",
        &[(V, "00000000000000d1", None, "chat", "chat", 40, 4, None)],
    );
    let e = dump(
        dir.path(),
        "e.json",
        &[(U, "00000000000000e1", None, "chat", "chat", 9, 1, None)],
    );
    let (a, b) = (
        dir.path().join("ci/1/.traces"),
        dir.path().join("ci/2/.traces"),
    );
    import(&a, std::slice::from_ref(&d));
    import(&b, std::slice::from_ref(&e));
    // A directory the glob matches that is not a store is not one of its stores.
    std::fs::create_dir_all(dir.path().join("ci/3/.traces")).unwrap();
    let calls = |stores: &[&Path]| {
        ok_json(stores, &["cost", "--format", "json"])["total"]["input_tokens"].clone()
    };
    assert_eq!(calls(&[&dir.path().join("ci/*/.traces")]), json!(49));
    assert_eq!(calls(&[&dir.path().join("ci/[12]/.traces")]), json!(49));
    assert_eq!(calls(&[&dir.path().join("ci/1/.tra?es")]), json!(40));
    let env = format!("{}:{}", a.display(), b.display());
    let out = traces_command()
        .env("TRACES_STORE", &env)
        .args(["cost", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["total"]["input_tokens"], 49);

    let nothing = dir.path().join("nowhere/*/.traces");
    let out = with_stores(&[&nothing], &["cost"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{:?} matches no store",
            nothing.display().to_string()
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let missing = dir.path().join("ci/9/.traces");
    let out = with_stores(&[&a, &missing], &["list"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("no store at {}", missing.display())),
        "{err}"
    );

    let before = (manifest(&a), manifest(&b));
    let ci = dir.path().join("ci/*/.traces");
    let f = dump(
        dir.path(),
        "f.json",
        &[(T, "00000000000000f1", None, "chat", "chat", 1, 1, None)],
    );
    let f = f.display().to_string();
    for (stores, args) in [
        (vec![a.as_path(), b.as_path()], vec!["import", f.as_str()]),
        (vec![ci.as_path()], vec!["import", f.as_str()]),
        (
            vec![a.as_path(), b.as_path()],
            vec!["store", "verify", "--repair", "--yes"],
        ),
        (vec![a.as_path(), b.as_path()], vec!["store", "compact"]),
    ] {
        let out = with_stores(&stores, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("writes into one store") && err.contains(&a.display().to_string()),
            "{err}"
        );
    }
    assert_eq!((manifest(&a), manifest(&b)), before);

    // Reading the stores one by one, `store verify` answers for each.
    let out = with_stores(&[&a, &b], &["store", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&a.display().to_string()) && said.contains(&b.display().to_string()),
        "{said}"
    );
}
