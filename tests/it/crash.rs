//! Crash safety and concurrency of the store, as a CI job meets them: an import killed
//! at any moment, imports racing on one store, reports read while they write.

use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{import_files, text, traces_command, traces_in};

/// Trace `t` of the synthetic dumps: a root and three `gpt-4o` calls, with the input
/// tokens `1000 + t` and output tokens `t % 97 + 1` on each call, so any subset of
/// traces has totals a test computes by hand.
fn trace_spans(t: u64) -> Vec<Value> {
    let trace_id = format!("{:032x}", 0x5eed_0000_0000u64 + t);
    let start = 1_795_459_562_000_000_000u64 + t * 1_000_000;
    let root = format!("{:016x}", (t << 8) | 1);
    let mut spans = vec![json!({
        "traceId": trace_id, "spanId": root, "name": "agent run", "kind": 1,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + 900_000).to_string(),
        "attributes": [{"key": "session.id", "value": {"stringValue": format!("s{}", t % 7)}}],
    })];
    for c in 0..3u64 {
        let (input, output) = call_tokens(t);
        spans.push(json!({
            "traceId": trace_id, "spanId": format!("{:016x}", (t << 8) | (c + 2)),
            "parentSpanId": root, "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": (start + c * 200_000).to_string(),
            "endTimeUnixNano": (start + c * 200_000 + 150_000).to_string(),
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": output}},
            ],
        }));
    }
    spans
}

fn call_tokens(t: u64) -> (u64, u64) {
    (1000 + t, t % 97 + 1)
}

/// OTLP/JSON lines holding traces `from..to`, 50 traces per request.
fn dump(path: &Path, traces: std::ops::Range<u64>) {
    let mut out = String::new();
    let ids: Vec<u64> = traces.collect();
    for chunk in ids.chunks(50) {
        let spans: Vec<Value> = chunk.iter().flat_map(|&t| trace_spans(t)).collect();
        let req = json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "crash-test"}}]},
            "scopeSpans": [{"scope": {"name": "crash"}, "spans": spans}],
        }]});
        out.push_str(&req.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// What every report of the store says: the cost by trace and the listed traces. An
/// error from either is a failure of the test.
fn state(store: &Path) -> (Value, Value) {
    let cost = traces_in(store, &["cost", "--by", "trace", "--format", "json"]);
    assert!(cost.status.success(), "cost: {}", text(&cost.stderr));
    let list = traces_in(store, &["list", "--format", "json", "--limit", "1000000"]);
    assert!(list.status.success(), "list: {}", text(&list.stderr));
    (
        serde_json::from_slice(&cost.stdout).unwrap(),
        serde_json::from_slice(&list.stdout).unwrap(),
    )
}

fn import(store: &Path, file: &Path) {
    let out = traces_in(store, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A small xorshift, seeded from the clock and printed, so a failing round can be
/// replayed with `TRACES_KILL_SEED`.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// How many rounds (`TRACES_KILL_ROUNDS`, else `default`), and the seed of their kill
/// times (`TRACES_KILL_SEED`, else the clock's), printed so that a failure replays.
fn kill_plan(default: u64) -> (u64, u64, Rng) {
    let rounds = std::env::var("TRACES_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let seed = std::env::var("TRACES_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    (rounds, seed, Rng(seed))
}

/// Runs `traces ARGS` on `store` and kills it with SIGKILL at a random moment up to 10%
/// past `full`, its whole run's time (so some kills land after its commit); the moment.
fn kill_during(store: &Path, args: &[&str], full: Duration, rng: &mut Rng) -> Duration {
    let mut child = traces_command()
        .arg("--store")
        .arg(store)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 11 / 10));
    std::thread::sleep(at);
    let _ = child.kill();
    let _ = child.wait();
    at
}

fn segments(store: &Path) -> usize {
    let m: Value =
        serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap();
    m["segments"].as_array().unwrap().len()
}

/// `traces store compact` killed with SIGKILL at a random moment (`TRACES_KILL_ROUNDS`,
/// default 8): every report reads as before (a compaction changes no figure, so before
/// and after read alike), `store verify` finds the store whole, and a compaction then
/// completes.
#[test]
fn a_compaction_killed_at_any_moment_leaves_the_store_reading_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine");
    // 24 imports, each touching again 20 traces of the one before.
    for part in 0..24u64 {
        let f = dir.path().join(format!("part-{part}.jsonl"));
        dump(&f, (part * 40)..(part * 40 + 60));
        import(&pristine, &f);
    }
    assert_eq!(state(&pristine).1.as_array().unwrap().len(), 23 * 40 + 60);
    kill_rounds(dir.path(), &pristine, &["store", "compact"], 8, &|s| {
        segments(s) == 1
    });
}

/// Runs `traces ARGS` on copies of `pristine`, killed with SIGKILL at a random moment
/// (`TRACES_KILL_ROUNDS` rounds, else `default`): after each kill the store reads as
/// `pristine`, `store verify` finds it whole, and the command run again completes,
/// leaving a store that `done` accepts and that still reads the same.
fn kill_rounds(
    dir: &Path,
    pristine: &Path,
    args: &[&str],
    default: u64,
    done: &dyn Fn(&Path) -> bool,
) {
    let name = args.join(" ");
    let before = state(pristine);
    let finish = |store: &Path| {
        let out = traces_in(store, args);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    };
    let reference = dir.join("reference");
    copy_dir(pristine, &reference);
    let t0 = Instant::now();
    finish(&reference);
    let full = t0.elapsed();
    assert!(done(&reference), "{name} did not complete");
    assert!(state(&reference) == before, "{name} changed a report");

    let (rounds, seed, mut rng) = kill_plan(default);
    eprintln!("{name} kill test: seed {seed}, {rounds} rounds, a full one takes {full:?}");
    let mut committed = 0;
    for round in 0..rounds {
        let store = dir.join(format!("round-{round}"));
        copy_dir(pristine, &store);
        let at = kill_during(&store, args, full, &mut rng);
        committed += usize::from(done(&store));
        assert!(
            state(&store) == before,
            "round {round} (seed {seed}, killed at {at:?}): a report changed"
        );
        let verify = traces_in(&store, &["store", "verify"]);
        assert!(
            verify.status.success(),
            "round {round}: {}",
            text(&verify.stdout)
        );
        finish(&store);
        assert!(done(&store), "round {round}: {name} after the kill");
        assert!(
            state(&store) == before,
            "round {round}: {name} after the kill"
        );
        std::fs::remove_dir_all(&store).unwrap();
    }
    eprintln!("{name} kill test: {committed} of {rounds} kills came after the commit");
}

/// Layout of a store of format 1 (`testdata/store-v1`): segments by UTC day, no file
/// of the old layout left.
fn laid_out_by_day(store: &Path) -> bool {
    let m: Value =
        serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap();
    let by_day = m["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["day"].is_string());
    let flat = ["spans", "logs", "calls", "traces"].iter().any(|t| {
        std::fs::read_dir(store.join(t))
            .unwrap()
            .flatten()
            .any(|e| e.path().is_file())
    });
    by_day && !flat && m["format_version"] == 2
}

/// `traces store migrate` of a store of an earlier release killed with SIGKILL at a
/// random moment (`TRACES_KILL_ROUNDS`, default 6): the store reads as before, in its
/// old layout or its new one, `store verify` finds it whole, and a migration then
/// completes.
#[test]
fn a_migration_killed_at_any_moment_leaves_the_store_reading_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine");
    copy_dir(&crate::common::testdata("store-v1"), &pristine);
    kill_rounds(
        dir.path(),
        &pristine,
        &["store", "migrate"],
        6,
        &laid_out_by_day,
    );
}

/// `TRACES_KILL_ROUNDS` (default 12; the closing note's run used 100) imports killed
/// with SIGKILL at a random moment of their run: after each, every report runs and
/// equals the store before the import or after it, and the import then completes.
#[test]
fn an_import_killed_at_any_moment_leaves_the_store_before_or_after() {
    let dir = tempfile::tempdir().unwrap();
    let before_dump = dir.path().join("before.jsonl");
    let big = dir.path().join("big.jsonl");
    dump(&before_dump, 0..200);
    // Overlapping the stored traces, so the kill can also land in the re-attribution
    // of traces that already had spans.
    dump(&big, 150..1650);

    let pristine = dir.path().join("pristine");
    import(&pristine, &before_dump);
    let before = state(&pristine);

    let reference = dir.path().join("reference");
    copy_dir(&pristine, &reference);
    let t0 = Instant::now();
    import(&reference, &big);
    let full = t0.elapsed();
    let after = state(&reference);
    assert_ne!(before, after);
    assert_eq!(after.1.as_array().unwrap().len(), 1650);

    let (rounds, seed, mut rng) = kill_plan(12);
    eprintln!("kill test: seed {seed}, {rounds} rounds, a full import takes {full:?}");
    let (mut saw_before, mut saw_after) = (0, 0);
    for round in 0..rounds {
        let store = dir.path().join(format!("round-{round}"));
        copy_dir(&pristine, &store);
        let at = kill_during(&store, &["import", big.to_str().unwrap()], full, &mut rng);
        let now = state(&store);
        if now == before {
            saw_before += 1;
        } else if now == after {
            saw_after += 1;
        } else {
            panic!(
                "round {round} (seed {seed}, killed at {at:?}): a state that is neither before nor after"
            );
        }
        import(&store, &big);
        assert!(
            state(&store) == after,
            "round {round}: the import after the kill"
        );
        std::fs::remove_dir_all(&store).unwrap();
    }
    eprintln!("kill test: {saw_before} rounds left the store before, {saw_after} after");
    if rounds >= 10 {
        assert!(saw_before > 0, "no kill landed before the commit");
    }
}

/// Four imports of overlapping dumps on one store at once, with readers running
/// throughout: every span is stored once, the result equals the same imports one after
/// another, and each reading shows the store after some set of whole imports.
#[test]
fn concurrent_imports_and_readers_see_whole_imports_only() {
    let dir = tempfile::tempdir().unwrap();
    let ranges: Vec<std::ops::Range<u64>> = (0..4u64).map(|i| i * 500..i * 500 + 1000).collect();
    let dumps: Vec<_> = ranges
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let p = dir.path().join(format!("part-{i}.jsonl"));
            dump(&p, r.clone());
            p
        })
        .collect();
    // The input tokens of the store after each set of whole imports, by hand.
    let input_of = |set: u32| -> u64 {
        (0..2500u64)
            .filter(|t| (0..4).any(|i| set & (1 << i) != 0 && ranges[i].contains(t)))
            .map(|t| 3 * call_tokens(t).0)
            .sum()
    };
    let possible: Vec<u64> = (0..16).map(input_of).collect();

    let store = dir.path().join("store");
    let imports: Vec<_> = dumps
        .iter()
        .map(|d| {
            traces_command()
                .arg("--store")
                .arg(&store)
                .args(["import", d.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    let readings = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut readings = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                for cmd in [
                    &["cost", "--format", "json"][..],
                    &["list", "--format", "json"],
                ] {
                    let out = traces_in(&store, cmd);
                    let err = text(&out.stderr);
                    if err.contains("no store at") {
                        continue; // read before the first import made the store
                    }
                    assert!(out.status.success(), "{cmd:?} during the imports: {err}");
                    if cmd[0] == "cost" && !out.stdout.is_empty() {
                        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                        let input = v["total"]["input_tokens"].as_u64().unwrap_or(0);
                        assert!(
                            possible.contains(&input),
                            "a reading of {input} input tokens is no set of whole imports"
                        );
                        readings += 1;
                    }
                }
            }
            readings
        });
        for mut p in imports {
            let out = p.wait().unwrap();
            assert!(out.success(), "a concurrent import failed");
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap()
    });
    eprintln!("{readings} cost readings during the imports");

    let sequential = dir.path().join("sequential");
    for d in &dumps {
        import(&sequential, d);
    }
    let (cost, list) = state(&store);
    assert_eq!((cost.clone(), list), state(&sequential));
    assert_eq!(cost["total"]["input_tokens"].as_u64(), Some(possible[15]));
    let spans: u64 = state(&store)
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["spans"].as_u64().unwrap())
        .sum();
    assert_eq!(spans, 2500 * 4, "every span stored exactly once");
}

/// A full disk, as a file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so the write
/// fails instead of killing): a clear error, exit 1, and the store as it was.
#[test]
fn a_full_disk_fails_the_import_and_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.jsonl");
    let big = dir.path().join("big.jsonl");
    dump(&small, 0..10);
    dump(&big, 10..2010);
    let store = dir.path().join("store");
    import(&store, &small);
    let before = state(&store);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 16; exec \"$0\" --store \"$1\" import \"$2\"")
        .arg(env!("CARGO_BIN_EXE_traces"))
        .arg(&store)
        .arg(&big)
        .env_remove("TRACES_STORE")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nothing of this import was stored"), "{err}");
    assert!(err.contains("File too large"), "{err}");
    assert!(state(&store) == before, "the store changed");
    let leftovers = std::fs::read_dir(store.join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "files left in tmp/");
    import(&store, &big);
}

/// The store directory removed while an import runs (a cleanup job, a CI workspace
/// wiped): the import fails saying so, and recreates nothing.
#[test]
fn a_store_removed_during_an_import_fails_it_and_is_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jsonl");
    dump(&big, 0..4_000);
    let store = dir.path().join("store");
    let child = traces_command()
        .arg("--store")
        .arg(&store)
        .args(["import", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The import has begun once its spans file is open in tmp/.
    let deadline = Instant::now() + Duration::from_secs(60);
    let started = || {
        std::fs::read_dir(store.join("tmp"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    };
    while !started() {
        assert!(Instant::now() < deadline, "the import never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    // Files may appear while it is removed: retry until it is gone.
    while store.exists() {
        let _ = std::fs::remove_dir_all(&store);
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("was removed during the import; nothing was stored and nothing was recreated"),
        "{err}"
    );
    assert!(!store.exists(), "the import recreated the store");
}

/// A store damaged outside `traces`: no command panics, `store verify` names what is
/// wrong (exit 1), `--repair --yes` drops what cannot be trusted, and the store then
/// equals one that never held the lost segment; importing its source again restores it.
#[test]
fn a_damaged_store_is_reported_never_panics_and_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        dir.path().join("first.jsonl"),
        dir.path().join("second.jsonl"),
    );
    dump(&first, 0..40);
    dump(&second, 30..90);
    let fresh = |name: &str, dumps: &[&Path]| {
        let s = dir.path().join(name);
        for d in dumps {
            import(&s, d);
        }
        state(&s)
    };
    let only_first = fresh("only-first", &[&first]);
    let both = fresh("both", &[&first, &second]);

    type Harm<'a> = &'a dyn Fn(&Path);
    let damage: [(&str, Harm); 4] = [
        ("truncated", &|s: &Path| {
            let f = s.join(&import_files(s, 1, "spans_file")[0]);
            let bytes = std::fs::read(&f).unwrap();
            std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
        }),
        ("missing", &|s: &Path| {
            std::fs::remove_file(s.join(&import_files(s, 1, "spans_file")[0])).unwrap()
        }),
        // `store verify` reads every page header for this one: the reader would trust it.
        ("a page that claims -3 values", &|s: &Path| {
            claim_minus_three(&s.join(&import_files(s, 1, "spans_file")[0]))
        }),
        ("hand-edited manifest", &|s: &Path| {
            let m = std::fs::read_to_string(s.join("manifest.json")).unwrap();
            std::fs::write(s.join("manifest.json"), &m[..m.len() - 3]).unwrap();
        }),
    ];
    for (case, harm) in damage {
        let store = dir.path().join(case.replace(' ', "-"));
        import(&store, &first);
        import(&store, &second);
        let second_spans = import_files(&store, 1, "spans_file")[0].clone();
        harm(&store);
        for cmd in [
            &["list"][..],
            &["cost", "--by", "session"],
            &["show", "0000000000000000000000005eed0000"],
            &["sessions"],
            &["users"],
            &["import", first.to_str().unwrap()],
        ] {
            let out = traces_in(&store, cmd);
            let err = text(&out.stderr);
            assert!(!err.contains("panicked"), "{case}: {cmd:?}: {err}");
            assert!(
                out.status.code().is_some(),
                "{case}: {cmd:?} killed by a signal"
            );
        }
        let out = traces_in(&store, &["store", "verify"]);
        let said = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{case}: {said}");
        let named = if case.contains("manifest") {
            "manifest.json"
        } else {
            second_spans.as_str()
        };
        assert!(
            said.contains(named) && said.contains("repair:"),
            "{case}: {said}"
        );
        let out = traces_in(&store, &["store", "verify", "--repair"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{case}: --repair without a terminal or --yes"
        );
        let out = traces_in(&store, &["store", "verify", "--repair", "--yes"]);
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stdout));
        let out = traces_in(&store, &["store", "verify"]);
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stdout));
        if case.contains("manifest") {
            // Every segment file was whole: the rebuilt manifest names them all.
            assert!(state(&store) == both, "{case}: the rebuilt store");
        } else {
            assert!(
                state(&store) == only_first,
                "{case}: the store after the repair"
            );
            import(&store, &second);
            assert!(
                state(&store) == both,
                "{case}: the lost segment imported again"
            );
        }
    }
}

/// The value count of the first data page of a Parquet file polars wrote: where its
/// varint is and how long. Page headers (Thrift compact structs) are walked from the
/// first, by their sizes (fields 2 and 3) and their page kind (field 5 or 8: a data
/// page, whose first field is the count; field 7: a dictionary page).
fn first_data_page_count(bytes: &[u8]) -> (usize, usize) {
    let varint = |at: &mut usize| {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = bytes[*at];
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return v;
            }
        }
    };
    let mut at = 4;
    loop {
        let (mut id, mut size) = (0u8, 0u64);
        loop {
            let b = bytes[at];
            at += 1;
            if b == 0 {
                break;
            }
            id += b >> 4;
            match (id, b & 0x0f) {
                (5 | 8, 12) => {
                    assert_eq!(bytes[at], 0x15, "a data page header starts with its count");
                    let start = at + 1;
                    let mut end = start;
                    varint(&mut end);
                    return (start, end - start);
                }
                // A dictionary page's header: i32 fields, and a bool held in its type.
                (7, 12) => loop {
                    let b = bytes[at];
                    at += 1;
                    match b & 0x0f {
                        _ if b == 0 => break,
                        5 => drop(varint(&mut at)),
                        _ => {}
                    }
                },
                (3, 5) => size = varint(&mut at) >> 1,
                (_, 5) => {
                    varint(&mut at);
                }
                other => panic!("unexpected page header field {other:?}"),
            }
        }
        at += size as usize;
    }
}

/// Makes the first data page of a Parquet file claim -3 values, as a flipped bit could:
/// polars reads that count as 2^64 - 3, and the process ends allocating for it.
fn claim_minus_three(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let (at, len) = first_data_page_count(&bytes);
    // -3 zigzag-encoded is 5: padded with continuation bytes (5 | 0x80, then 0x80s, then
    // a last 0x00) to the length of the count it replaces.
    let minus_three: Vec<u8> = match len {
        1 => vec![0x05],
        _ => [vec![0x85], vec![0x80; len - 2], vec![0x00]].concat(),
    };
    bytes[at..at + len].copy_from_slice(&minus_three);
    std::fs::write(path, &bytes).unwrap();
}
