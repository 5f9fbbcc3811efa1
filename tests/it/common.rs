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

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
