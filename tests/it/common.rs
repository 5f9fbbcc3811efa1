//! What every test file needs: where the shipped data lives and how to run the binary
//! without the caller's environment leaking in.

use std::path::PathBuf;
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// The `traces` binary, blind to the store and pricing a developer may have set.
pub fn traces_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_traces"));
    cmd.env_remove("TRACES_STORE").env_remove("TRACES_PRICING");
    // Nor the price table a developer kept with `traces pricing update`.
    cmd.env("XDG_CONFIG_HOME", root().join("target/no-user-config"));
    cmd
}

/// `traces --store STORE ARGS...`, run to its end.
pub fn traces_in(store: &std::path::Path, args: &[&str]) -> std::process::Output {
    traces_command()
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap()
}

/// The catalyst dumps of `testdata/`, each written to `dir` in two halves (every other
/// span, `a-` and `b-`): traces whose spans arrive in two imports, or two stores.
pub fn catalyst_halves(dir: &std::path::Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut firsts, mut seconds) = (Vec::new(), Vec::new());
    for name in ["traces-001.json", "traces-002.json"] {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(testdata("llm/catalyst").join(name)).unwrap())
                .unwrap();
        for (keep, out) in [(0, &mut firsts), (1, &mut seconds)] {
            let mut half = doc.clone();
            for rs in half["resourceSpans"].as_array_mut().unwrap() {
                for ss in rs["scopeSpans"].as_array_mut().unwrap() {
                    let spans = ss["spans"].as_array().unwrap().clone();
                    ss["spans"] = spans
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == keep)
                        .map(|(_, s)| s)
                        .collect();
                }
            }
            let p = dir.join(format!("{}-{name}", ["a", "b"][keep]));
            std::fs::write(&p, half.to_string()).unwrap();
            out.push(p);
        }
    }
    (firsts, seconds)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The Parquet files under `dir`, in its days' folders too, sorted.
pub fn parquet_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(parquet_files(&p));
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The manifest's segments, grouped by import, oldest first.
pub fn imports(store: &std::path::Path) -> Vec<Vec<serde_json::Value>> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap();
    let mut out: Vec<Vec<serde_json::Value>> = Vec::new();
    let key = |s: &serde_json::Value| s.get("import").unwrap_or(&s["id"]).as_u64().unwrap();
    for s in m["segments"].as_array().unwrap() {
        match out.last_mut() {
            Some(g) if key(&g[0]) == key(s) => g.push(s.clone()),
            _ => out.push(vec![s.clone()]),
        }
    }
    out
}

/// The files (`spans_file`, `calls_file`...) of import `n` (0 the oldest), relative to
/// the store.
pub fn import_files(store: &std::path::Path, n: usize, key: &str) -> Vec<String> {
    imports(store)[n]
        .iter()
        .filter_map(|s| s[key].as_str().map(String::from))
        .collect()
}
