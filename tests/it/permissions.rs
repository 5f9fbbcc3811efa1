//! A store this user may only read, and inputs this user may not read. Run as root (as
//! CI is), `traces` is run as `nobody` through `setpriv`, since permissions do not bind
//! root; run as anyone else, as that user.

use crate::common::{testdata, text};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A place `nobody` can reach and write: the binary is copied into it, since the
/// checkout may lie under a directory only root can enter.
struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    exe: PathBuf,
    as_root: bool,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        chmod(&root, 0o777);
        let exe = root.join("traces");
        std::fs::copy(env!("CARGO_BIN_EXE_traces"), &exe).unwrap();
        chmod(&exe, 0o755);
        let uid = Command::new("id").arg("-u").output().unwrap();
        let as_root = text(&uid.stdout).trim() == "0";
        Sandbox {
            _dir: dir,
            root,
            exe,
            as_root,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = if self.as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&self.exe);
            c
        } else {
            Command::new(&self.exe)
        };
        cmd.args(args)
            .current_dir(&self.root)
            .env_remove("TRACES_STORE")
            .env_remove("TRACES_PRICING")
            .env("HOME", self.root.join("home"))
            .env("XDG_CONFIG_HOME", self.root.join("no-user-config"))
            .output()
            .unwrap()
    }

    /// A file of `testdata/` copied in, readable by all.
    fn input(&self, dir: &str, rel: &str) -> PathBuf {
        let d = self.root.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        chmod(&d, 0o755);
        let f = d.join(Path::new(rel).file_name().unwrap());
        std::fs::copy(testdata(rel), &f).unwrap();
        chmod(&f, 0o644);
        f
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chmod_tree(p: &Path, dirs: u32, files: u32) {
    for e in std::fs::read_dir(p).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            chmod_tree(&p, dirs, files);
        } else {
            chmod(&p, files);
        }
    }
    chmod(p, dirs);
}

/// Every file under `p` with its bytes.
fn tree(p: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![p.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_read_only_store_answers_every_report_and_refuses_an_import_untouched() {
    let sb = Sandbox::new();
    let dump = sb.input("in", "otel/collector.jsonl");
    let more = sb.input("in", "otel/spans.otlp.json");
    let store = sb.root.join("store");
    let store_arg = store.to_str().unwrap();
    let out = sb.run(&["import", "--store", store_arg, dump.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reports: [&[&str]; 5] = [
        &["cost", "--format", "json"],
        &["list", "--format", "json"],
        &[
            "show",
            "bdd640fb06671ad11c80317fa3b1799d",
            "--format",
            "json",
        ],
        &["sessions", "--format", "json"],
        &["store", "verify"],
    ];
    let answers = |sb: &Sandbox| -> Vec<String> {
        reports
            .iter()
            .map(|args| {
                let mut a = args.to_vec();
                a.extend(["--store", store_arg]);
                let out = sb.run(&a);
                assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
                text(&out.stdout)
            })
            .collect()
    };
    let writable = answers(&sb);

    chmod_tree(&store, 0o555, 0o444);
    let before = tree(&store);
    assert_eq!(answers(&sb), writable, "a read-only store reads the same");
    let out = sb.run(&["import", "--store", store_arg, more.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot be written by this user") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        err.matches("Permission denied").count(),
        1,
        "said once: {err}"
    );
    let out = sb.run(&["store", "verify", "--repair", "--yes", "--store", store_arg]);
    assert!(
        out.status.success(),
        "nothing to repair: {}",
        text(&out.stderr)
    );
    assert!(
        tree(&store) == before,
        "the store is byte for byte as it was"
    );
    chmod_tree(&store, 0o755, 0o644);
}

#[test]
fn an_unreadable_file_in_a_directory_fails_the_import_or_is_skipped_by_skip_invalid() {
    let sb = Sandbox::new();
    sb.input("dumps", "otel/spans.otlp.json");
    let locked = sb.input("dumps", "otel/collector.jsonl");
    chmod(&locked, 0o000);
    let dir = sb.root.join("dumps");
    let store = sb.root.join("store");
    let (d, s) = (dir.to_str().unwrap(), store.to_str().unwrap());

    let out = sb.run(&["import", "--store", s, d]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "cannot read {}: Permission denied",
            locked.display()
        )),
        "{err}"
    );
    let nothing = !store.join("manifest.json").exists();
    assert!(nothing, "nothing was stored");

    let out = sb.run(&["import", "--store", s, "--skip-invalid", d]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "{}: whole file: Permission denied",
            locked.display()
        )),
        "{err}"
    );
    // The readable dump's 8 spans, and nothing of the other.
    assert!(
        text(&out.stdout).contains("8 read, 8 new"),
        "{}",
        text(&out.stdout)
    );
    let out = sb.run(&["list", "--store", s, "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    chmod(&locked, 0o644);
}
