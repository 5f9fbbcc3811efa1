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
