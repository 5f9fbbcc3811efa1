//! Output people read: tables that fit the width they are given, the messages of empty
//! and missing stores, suggestions for mistyped values, colour only where wanted, and
//! the shell completions and manual page.
//!
//! The table snapshots live in `tests/snapshots/`; after a deliberate change to how
//! tables look, `UPDATE_SNAPSHOTS=1 cargo test output` rewrites them for review.

use crate::common::{root, testdata, text, traces_command};
use std::process::Output;
use unicode_width::UnicodeWidthStr;

fn run(args: &[&str]) -> Output {
    traces_command().args(args).output().unwrap()
}

fn store() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    let dump = testdata("llm/oi").display().to_string();
    let out = run(&["--store", &store, "import", &dump]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (dir, store)
}

pub(crate) fn snapshot(name: &str, got: &str) {
    let path = root().join("tests/snapshots").join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{}: missing; UPDATE_SNAPSHOTS=1 writes it", path.display()));
    assert_eq!(got, want, "{name} (UPDATE_SNAPSHOTS=1 rewrites it)");
}

/// Every line of a table at most `width` columns wide, and the table's own lines
/// (borders included) exactly as wide as one another.
pub(crate) fn fits(out: &str, width: usize) {
    let table: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '└', '├']))
        .collect();
    assert!(!table.is_empty(), "{out}");
    let w = table[0].width();
    assert!(w <= width, "{w} > {width}:\n{out}");
    for l in &table {
        assert_eq!(l.width(), w, "ragged line {l:?}:\n{out}");
    }
}

#[test]
fn cost_and_list_tables_fit_80_100_and_160_columns() {
    let (_d, store) = store();
    for width in [80, 100, 160] {
        let w = width.to_string();
        for (name, args) in [
            ("cost-by-model", &["cost", "--by", "model"][..]),
            (
                "cost-by-session-user",
                &["cost", "--by", "session", "--by", "user"],
            ),
            ("cost-by-trace", &["cost", "--by", "trace"]),
            ("list", &["list"]),
        ] {
            let mut a = vec!["--store", store.as_str()];
            a.extend(args);
            a.extend(["--width", &w]);
            let out = run(&a);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let shown = text(&out.stdout);
            fits(&shown, width);
            snapshot(&format!("{name}-{width}"), &shown);
        }
    }
}

#[test]
fn pricing_list_fits_and_rounds_nothing_it_does_not_say() {
    for width in [80, 100, 160] {
        let w = width.to_string();
        let out = run(&["pricing", "list", "--width", &w]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let shown = text(&out.stdout);
        fits(&shown, width);
        let lines: Vec<&str> = shown.lines().collect();
        let head = lines[..6].join("\n");
        let tail = lines[lines.len() - 3..].join("\n");
        snapshot(
            &format!("pricing-list-{width}"),
            &format!("{head}\n…\n{tail}\n"),
        );
    }
}

/// What a narrow table leaves out it names, and the exact forms keep every column.
#[test]
fn a_narrow_table_names_what_it_left_out_and_machines_get_everything() {
    let (_d, store) = store();
    let out = run(&[
        "--store", &store, "cost", "--by", "session", "--width", "60",
    ]);
    let shown = text(&out.stdout);
    fits(&shown, 60);
    assert!(shown.contains("Not shown, to fit 60 columns:"), "{shown}");
    assert!(shown.contains("--wide shows every column"), "{shown}");
    let wide = text(&run(&["--store", &store, "cost", "--by", "session", "--wide"]).stdout);
    for h in [
        "Traces",
        "Calls",
        "Input",
        "Cached",
        "Output",
        "Reasoning",
        "Total",
        "Cost",
    ] {
        assert!(wide.contains(h), "{h}: {wide}");
    }
    let csv = text(
        &run(&[
            "--store", &store, "cost", "--by", "session", "--format", "csv", "--width", "20",
        ])
        .stdout,
    );
    assert!(
        csv.starts_with("session_id,traces,calls,input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,reasoning_tokens,total_tokens,cost_usd,recorded_cost_usd,unpriced_calls,fallback_priced_calls\n"),
        "{csv}"
    );
}

/// The rounded dollars of a table are the exact amounts of the JSON, rounded; `--exact`
/// shows them digit for digit.
#[test]
fn table_dollars_are_the_exact_amounts_rounded() {
    let (_d, store) = store();
    let json: serde_json::Value = serde_json::from_slice(
        &run(&[
            "--store", &store, "cost", "--by", "model", "--format", "json",
        ])
        .stdout,
    )
    .unwrap();
    let table = text(&run(&["--store", &store, "cost", "--by", "model"]).stdout);
    let exact = text(&run(&["--store", &store, "cost", "--by", "model", "--exact"]).stdout);
    let decimals: u32 = table
        .lines()
        .find_map(|l| l.strip_prefix("Dollars rounded to "))
        .and_then(|l| l.split(' ').next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no rounding note: {table}"));
    for r in json["rows"].as_array().unwrap() {
        let model = r["model"].as_str().unwrap();
        let cost: rust_decimal::Decimal = r["cost_usd"].to_string().parse().unwrap();
        let rounded = cost.round_dp_with_strategy(
            decimals,
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        );
        let line = table.lines().find(|l| l.contains(model)).unwrap();
        assert!(
            line.contains(&format!("${rounded:.prec$}", prec = decimals as usize)),
            "{line} vs {cost}"
        );
        let line = exact.lines().find(|l| l.contains(model)).unwrap();
        assert!(
            line.contains(&format!("${}", cost.normalize())),
            "{line} vs {cost}"
        );
        // Two significant digits at least: no amount that is not zero looks like zero.
        assert!(rounded.mantissa().unsigned_abs() >= 10, "{rounded}");
    }
    assert!(!exact.contains("Dollars rounded"), "{exact}");
}

#[test]
fn no_store_says_what_to_do_and_no_match_says_which_filters() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here").display().to_string();
    for cmd in [
        &["cost"][..],
        &["list"],
        &["cost", "--by", "model", "--format", "json"],
    ] {
        let mut a = vec!["--store", missing.as_str()];
        a.extend(cmd);
        let out = run(&a);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(out.stdout.is_empty(), "{cmd:?}");
        assert!(
            text(&out.stderr).contains(&format!("no store at {missing}")),
            "{cmd:?}"
        );
    }
    let (_d, store) = store();
    let out = run(&[
        "--store",
        &store,
        "cost",
        "--model",
        "claude-*",
        "--since",
        "2020-01-01",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "no calls match --since 2020-01-01 --model claude-* in the store\n"
    );
    // Machines still get a document, with nothing in it, and the reason on stderr.
    let out = run(&[
        "--store", &store, "cost", "--model", "claude-*", "--format", "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["rows"], serde_json::json!([]));
    assert!(text(&out.stderr).contains("no calls match --model claude-*"));
    let out = run(&["--store", &store, "list", "--service", "nope"]);
    assert_eq!(text(&out.stdout), "no traces match --service nope\n");
}

#[test]
fn mistyped_values_get_a_suggestion() {
    let (_d, store) = store();
    for (args, hint) in [
        (&["cost", "--by", "sesion"][..], "did you mean session?"),
        (
            &["cost", "--by", "model", "--sort", "-cost_uds"],
            "did you mean cost_usd?",
        ),
        (&["list", "--sort", "duraton"], "did you mean duration?"),
        (&["cost", "--format", "jsno"], "json"),
    ] {
        let mut a = vec!["--store", store.as_str()];
        a.extend(args);
        let out = run(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(hint),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn no_arguments_print_a_quick_start() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let help = text(&out.stderr);
    assert!(help.contains("Usage: traces"), "{help}");
    assert!(help.contains("Quick start:"), "{help}");
    for step in [
        "traces import dump.json",
        "traces cost --by model",
        "traces cost dump.json",
    ] {
        assert!(help.contains(step), "{step}: {help}");
    }
    for cmd in ["import", "list", "cost", "completions", "man"] {
        let out = run(&[cmd, "--help"]);
        assert!(text(&out.stdout).contains("Examples:"), "{cmd}");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (_d, store) = store();
    let esc = |o: &Output| o.stdout.contains(&0x1b);
    let base = ["--store", store.as_str(), "cost", "--by", "model"];
    assert!(!esc(&run(&base)), "a pipe gets no colour");
    let mut always = base.to_vec();
    always.extend(["--color", "always"]);
    assert!(esc(&run(&always)));
    let forced = traces_command()
        .args(base)
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(esc(&forced));
    let both = traces_command()
        .args(base)
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!esc(&both), "NO_COLOR wins over CLICOLOR_FORCE");
    let mut never = always.clone();
    never.extend(["--color", "never"]);
    let never = traces_command()
        .args(&never)
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!esc(&never));
}

#[test]
fn quiet_silences_warnings_only() {
    let dump = testdata("llm/oi").display().to_string();
    let loud = run(&["--store", "/nonexistent", "cost", &dump]);
    assert!(
        text(&loud.stderr).contains("warning:"),
        "{}",
        text(&loud.stderr)
    );
    let quiet = run(&["--store", "/nonexistent", "--quiet", "cost", &dump]);
    assert!(quiet.status.success());
    assert_eq!(text(&quiet.stderr), "");
    assert_eq!(quiet.stdout, loud.stdout);
    let failing = run(&["--store", "/nonexistent", "--quiet", "cost"]);
    assert!(text(&failing.stderr).contains("error: no store"));
}

#[test]
fn completions_and_the_manual_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["completions", "bash"]);
    assert!(out.status.success());
    let script = dir.path().join("traces.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&out.stdout).contains("pricing"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 500, "{shell}");
    }
    let man = text(&run(&["man"]).stdout);
    assert!(
        man.starts_with(".ie") || man.contains(".TH traces 1"),
        "{man}"
    );
    assert!(man.contains("Offline analysis of LLM application traces"));
}
