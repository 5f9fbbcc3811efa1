//! The store's traces tables: `list`, `show` and the import's duplicate check read them
//! instead of every span. A trace split over imports, a store written before the tables
//! existed, and a re-import must answer exactly as a store of one import would.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{text, traces_in};

const T: &str = "0af7651916cd43dd8448eb211c80319c";
const U: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const V: &str = "5b8efff798038103d269b633813fc60c";

fn traces(store: &Path, args: &[&str]) -> Output {
    traces_in(store, args)
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// (trace, span, parent, name, start s, end s, error)
type Span<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, i64, i64, bool);

const BASE: i64 = 1_700_000_000;

fn dump(dir: &Path, name: &str, spans: &[Span]) -> PathBuf {
    let spans: Vec<Value> = spans
        .iter()
        .map(|(t, s, p, n, a, b, err)| {
            let mut v = json!({
                "traceId": t, "spanId": s, "name": n, "kind": 1,
                "startTimeUnixNano": ((BASE + a) as i128 * 1_000_000_000).to_string(),
                "endTimeUnixNano": ((BASE + b) as i128 * 1_000_000_000).to_string(),
                "status": {"code": if *err { 2 } else { 0 }},
            });
            if let Some(p) = p {
                v["parentSpanId"] = json!(p);
            }
            v
        })
        .collect();
    let doc = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
    }]});
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    path
}

fn logs(dir: &Path, name: &str, names: &[(&str, &str)]) -> PathBuf {
    let records: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, (t, s))| {
            json!({"timeUnixNano": ((BASE + i as i64) as i128 * 1_000_000_000).to_string(),
                   "traceId": t, "spanId": s, "body": {"stringValue": format!("log {i}")}})
        })
        .collect();
    let doc = json!({"resourceLogs": [{"resource": {}, "scopeLogs": [{"scope": {}, "logRecords": records}]}]});
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    path
}

/// `list --format json`, by trace id: (root name, spans, errors, start s, duration s).
fn listed(store: &Path) -> Vec<(String, String, u64, u64, i64, f64)> {
    let out = traces(store, &["list", "--format", "json", "--sort", "trace_id"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter()
        .map(|r| {
            let start = chrono::DateTime::parse_from_rfc3339(r["start_time"].as_str().unwrap())
                .unwrap()
                .timestamp();
            (
                r["trace_id"].as_str().unwrap().to_string(),
                r["root_name"].as_str().unwrap().to_string(),
                r["spans"].as_u64().unwrap(),
                r["errors"].as_u64().unwrap(),
                start - BASE,
                r["duration_ms"].as_f64().unwrap() / 1000.0,
            )
        })
        .collect()
}

fn manifest(store: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap()
}

/// The traces tables the manifest names, each on disk.
fn tables(store: &Path) -> Vec<String> {
    let names: Vec<String> = manifest(store)["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["traces_file"].as_str().map(String::from))
        .collect();
    assert!(names.iter().all(|t| store.join(t).is_file()), "{names:?}");
    names
}

fn shown_spans(store: &Path, id: &str) -> Vec<String> {
    let out = traces(store, &["show", id, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<String> = v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The first import: T's children without their parent (the root comes later), and U whole.
fn first(dir: &Path) -> PathBuf {
    dump(
        dir,
        "first.json",
        &[
            (
                T,
                "00000000000000c1",
                Some("00000000000000a0"),
                "plan",
                10,
                20,
                false,
            ),
            (
                T,
                "00000000000000c2",
                Some("00000000000000c1"),
                "llm",
                12,
                18,
                false,
            ),
            (U, "00000000000000b0", None, "GET /u", 0, 5, false),
            (
                U,
                "00000000000000b1",
                Some("00000000000000b0"),
                "db",
                1,
                2,
                true,
            ),
        ],
    )
}

/// T's child that failed, in the second import.
const T_TOOL: Span = (
    T,
    "00000000000000c3",
    Some("00000000000000a0"),
    "tool",
    25,
    45,
    true,
);

/// The second import: T's root, one more child of it that failed, and V.
fn second(dir: &Path) -> PathBuf {
    dump(
        dir,
        "second.json",
        &[
            (T, "00000000000000a0", None, "POST /chat", 5, 40, false),
            T_TOOL,
            (V, "00000000000000d0", None, "GET /v", 100, 101, false),
        ],
    )
}

/// What `list` must say once both are imported, counted by hand from the spans above.
fn both_by_hand() -> Vec<(String, String, u64, u64, i64, f64)> {
    vec![
        (T.into(), "POST /chat".into(), 4, 1, 5, 40.0),
        (U.into(), "GET /u".into(), 2, 1, 0, 5.0),
        (V.into(), "GET /v".into(), 1, 0, 100, 1.0),
    ]
}

#[test]
fn a_trace_split_over_imports_lists_and_shows_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = ok(traces(
        &store,
        &["import", first(dir.path()).to_str().unwrap()],
    ));
    assert!(
        out.contains("1 span(s) whose parent is not in the store"),
        "{out}"
    );
    // Before the root arrives, the earliest span without a stored parent stands in.
    assert_eq!(listed(&store)[0], (T.into(), "plan".into(), 2, 0, 10, 10.0));
    let out = ok(traces(
        &store,
        &["import", second(dir.path()).to_str().unwrap()],
    ));
    assert!(out.contains("3 read, 3 new, 0 already stored"), "{out}");
    assert!(out.contains("traces:  2 (1 new)"), "{out}");
    assert!(!out.contains("parent is not in the store"), "{out}");
    assert_eq!(listed(&store), both_by_hand());
    assert_eq!(
        shown_spans(&store, T),
        ["POST /chat", "llm", "plan", "tool"]
    );
    assert_eq!(
        shown_spans(&store, &T[..6]),
        ["POST /chat", "llm", "plan", "tool"]
    );
    // A child whose clock ran early, imported before its root: the earliest span of W
    // is not its root, which only the spans can tell once the root has come.
    const W: &str = "6c8efff798038103d269b633813fc60d";
    let w1 = dump(
        dir.path(),
        "w1.json",
        &[(
            W,
            "00000000000000e1",
            Some("00000000000000e0"),
            "skewed",
            50,
            55,
            false,
        )],
    );
    let w2 = dump(
        dir.path(),
        "w2.json",
        &[(W, "00000000000000e0", None, "GET /w", 51, 60, false)],
    );
    ok(traces(&store, &["import", w1.to_str().unwrap()]));
    ok(traces(&store, &["import", w2.to_str().unwrap()]));
    assert_eq!(
        listed(&store)[3],
        (W.into(), "GET /w".into(), 2, 0, 50, 10.0)
    );
    // The latest two by start, as the default sort has it.
    let out = traces(&store, &["list", "--limit", "2", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["trace_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [V, W]);
    // Every import writes its traces table: four imports, four tables.
    assert_eq!(tables(&store).len(), 4);
}

#[test]
fn a_store_without_traces_tables_answers_the_same_and_gains_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ok(traces(
        &store,
        &["import", first(dir.path()).to_str().unwrap()],
    ));
    // As an earlier release left it: no traces table named, none on disk.
    let path = store.join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for s in manifest["segments"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("traces_file");
    }
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    std::fs::remove_dir_all(store.join("traces")).unwrap();
    assert_eq!(
        listed(&store),
        [
            (T.into(), "plan".into(), 2, 0, 10, 10.0),
            (U.into(), "GET /u".into(), 2, 1, 0, 5.0)
        ]
    );
    assert_eq!(shown_spans(&store, &T[..5]), ["llm", "plan"]);

    let out = ok(traces(
        &store,
        &["import", second(dir.path()).to_str().unwrap()],
    ));
    assert!(out.contains("3 read, 3 new, 0 already stored"), "{out}");
    assert_eq!(listed(&store), both_by_hand());
    assert_eq!(
        shown_spans(&store, T),
        ["POST /chat", "llm", "plan", "tool"]
    );
    let out = ok(traces(
        &store,
        &["import", first(dir.path()).to_str().unwrap()],
    ));
    assert!(out.contains("4 read, 0 new, 4 already stored"), "{out}");
    // The second import indexed the old segment; the third added nothing.
    assert_eq!(tables(&store).len(), 2);
    assert_eq!(listed(&store), both_by_hand());
}

#[test]
fn an_import_into_a_stored_trace_stores_only_its_new_spans() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ok(traces(
        &store,
        &["import", first(dir.path()).to_str().unwrap()],
    ));
    ok(traces(
        &store,
        &["import", second(dir.path()).to_str().unwrap()],
    ));
    // One span of each import again, one new span of T, and log records: two name
    // stored spans of traces this import has no span of, one names no stored span.
    let again = dump(
        dir.path(),
        "again.json",
        &[
            (
                T,
                "00000000000000c2",
                Some("00000000000000c1"),
                "llm",
                12,
                18,
                false,
            ),
            (T, "00000000000000a0", None, "POST /chat", 5, 40, false),
            (
                T,
                "00000000000000c4",
                Some("00000000000000c1"),
                "retry",
                30,
                50,
                false,
            ),
        ],
    );
    let log = logs(
        dir.path(),
        "logs.json",
        &[
            (U, "00000000000000b1"),
            (V, "00000000000000d0"),
            (V, "00000000000000ff"),
        ],
    );
    let out = ok(traces(
        &store,
        &["import", again.to_str().unwrap(), log.to_str().unwrap()],
    ));
    assert!(out.contains("3 read, 1 new, 2 already stored"), "{out}");
    assert!(out.contains("traces:  1 (0 new)"), "{out}");
    assert!(
        out.contains("1 log record(s) name a span that is not in the store"),
        "{out}"
    );
    let mut want = both_by_hand();
    want[0] = (T.into(), "POST /chat".into(), 5, 1, 5, 45.0);
    assert_eq!(listed(&store), want);
    // The same spans imported at once, into a store of one segment, list the same.
    let one = dir.path().join("one");
    ok(traces(
        &one,
        &[
            "import",
            first(dir.path()).to_str().unwrap(),
            second(dir.path()).to_str().unwrap(),
            again.to_str().unwrap(),
        ],
    ));
    assert_eq!(listed(&one), want);
}

/// A store of `first` and `second`, imported one after the other.
fn imports_apart(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    for d in [first(dir), second(dir)] {
        ok(traces(&store, &["import", d.to_str().unwrap()]));
    }
    store
}

/// The traces tables' paths in `store`.
fn table_paths(store: &Path) -> Vec<PathBuf> {
    tables(store).iter().map(|t| store.join(t)).collect()
}

/// Imports into a store of `first` and `second` a dump of a trace `z` it does not hold
/// (root and child), a repeat of one of T's spans and a new span of U, and checks the
/// counts against the spans as written.
fn import_z_and_repeats(dir: &Path, store: &Path, z: &str) {
    let dump_path = dump(
        dir,
        "z.json",
        &[
            (z, "00000000000000e0", None, "GET /z", 200, 210, false),
            (
                z,
                "00000000000000e1",
                Some("00000000000000e0"),
                "llm",
                201,
                209,
                false,
            ),
            T_TOOL,
            (
                U,
                "00000000000000b2",
                Some("00000000000000b0"),
                "cache",
                2,
                3,
                false,
            ),
        ],
    );
    let out = ok(traces(store, &["import", dump_path.to_str().unwrap()]));
    assert!(out.contains("4 read, 3 new, 1 already stored"), "{out}");
    assert!(out.contains("traces:  3 (1 new)"), "{out}");
    let mut want = both_by_hand();
    want[1] = (U.into(), "GET /u".into(), 3, 1, 0, 5.0);
    want.push((z.into(), "GET /z".into(), 2, 0, 200, 10.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(listed(store), want);
    assert_eq!(shown_spans(store, z), ["GET /z", "llm"]);
    assert_eq!(shown_spans(store, U), ["GET /u", "cache", "db"]);
}

#[test]
fn a_trace_a_segments_filter_wrongly_passes_is_stored_as_new() {
    use traces::ingest::ids::TraceId;
    use traces::store::trace_index::read_filter;
    let dir = tempfile::tempdir().unwrap();
    let store = imports_apart(dir.path());
    let filters: Vec<_> = table_paths(&store)
        .iter()
        .map(|p| {
            read_filter(p)
                .unwrap()
                .expect("a traces table written now has a filter")
        })
        .collect();
    assert_eq!(filters.len(), 2);
    for (ids, f) in [(&[T, U][..], &filters[0]), (&[T, V][..], &filters[1])] {
        assert!(
            ids.iter()
                .all(|t| f.may_contain(&TraceId::parse(t).unwrap()))
        );
    }
    // An id the filter of the first import's table passes though that table does not
    // hold it: the import must ask the table itself and find no row of it.
    let z = (1u64..)
        .map(|n| format!("{n:032x}"))
        .find(|z| filters[0].may_contain(&TraceId::parse(z).unwrap()))
        .unwrap();
    assert!(![T, U, V].contains(&z.as_str()));
    import_z_and_repeats(dir.path(), &store, &z);
}

#[test]
fn traces_tables_without_a_filter_are_read_whole() {
    use traces::store::trace_index::read_filter;
    let dir = tempfile::tempdir().unwrap();
    let store = imports_apart(dir.path());
    // As a release before filters wrote them: the same rows, no footer key.
    for path in table_paths(&store) {
        use polars::prelude::{ParquetReader, ParquetWriter, SerReader};
        let mut df = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        assert_eq!(read_filter(&path).unwrap(), None);
    }
    assert_eq!(listed(&store), both_by_hand());
    import_z_and_repeats(dir.path(), &store, "7f000000000000000000000000000001");
}
