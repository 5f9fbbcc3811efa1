//! `traces diff BASE HEAD`: the comparison of two hand-made dumps, each change derived
//! from the tokens written into them and LiteLLM's prices, never from the output.

use crate::check::cases_dump;
use crate::common::{text, traces_command};
use crate::pricing_coverage::{litellm, per_token};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

fn diff(args: &[&str]) -> (i32, String, String) {
    let out = traces_command()
        .args(["--store", "/nonexistent-store", "diff"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn dec(v: &Value) -> Option<Decimal> {
    (!v.is_null()).then(|| Decimal::from_str(&v.to_string()).unwrap())
}

#[test]
fn diff_lists_every_member_the_largest_change_of_cost_first_and_never_fails() {
    let dir = tempfile::tempdir().unwrap();
    let base = cases_dump(
        dir.path(),
        "base.json",
        &[("a", 1000, 100), ("b", 2000, 200), ("gone", 500, 50)],
    );
    let head = cases_dump(
        dir.path(),
        "head.json",
        &[("a", 1200, 120), ("b", 2000, 200), ("new", 10, 1)],
    );
    let prices = litellm();
    let p = &prices["gpt-4o-mini-2024-07-18"];
    let cost = |input: i64, output: i64| {
        Decimal::from(input) * per_token(p, "input_cost_per_token").unwrap()
            + Decimal::from(output) * per_token(p, "output_cost_per_token").unwrap()
    };
    // |changes|: gone -cost(500, 50), a +cost(200, 20), new +cost(10, 1), b 0.
    let want = [
        ("gone", "vanished", -cost(500, 50), -550),
        ("a", "changed", cost(200, 20), 220),
        ("new", "new", cost(10, 1), 11),
        ("b", "same", Decimal::ZERO, 0),
    ];
    let (code, out, err) = diff(&[&base, &head, "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, String, Decimal, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                dec(&r["cost_change_usd"]).unwrap(),
                r["total_tokens_change"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, Decimal, i64)> = want
        .iter()
        .map(|(n, s, c, t)| (n.to_string(), s.to_string(), *c, *t))
        .collect();
    assert_eq!(got, want);
    let a = &rows[1];
    assert_eq!(dec(&a["base_cost_usd"]), Some(cost(1000, 100)));
    assert_eq!(dec(&a["head_cost_usd"]), Some(cost(1200, 120)));
    // 220 more tokens of 1100, at one price: 20% more cost.
    assert_eq!(dec(&a["cost_change_pct"]), Some(Decimal::from(20)));
    assert_eq!(rows[0]["head_calls"], Value::Null);

    // By another dimension: every call is of one model.
    let (code, out, _) = diff(&[&base, &head, "--by", "model", "--format", "csv"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("model,status,base_calls,head_calls,"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("gpt-4o-mini-2024-07-18,changed,3,3,3850,3531,-319,"),
        "{out}"
    );

    // A store as the base gives the same report; markdown is a table.
    let store = dir.path().join("store").display().to_string();
    let imported = traces_command()
        .args(["--store", &store, "import", &base])
        .output()
        .unwrap();
    assert!(imported.status.success());
    let (_, from_store, _) = diff(&[&store, &head, "--format", "json"]);
    assert_eq!(from_store, out_json(&base, &head));
    let (_, md, _) = diff(&[&base, &head, "--format", "markdown"]);
    assert!(
        md.lines()
            .nth(2)
            .unwrap()
            .starts_with("| gone | vanished |"),
        "{md}"
    );
    assert_eq!(diff(&[&base, &head, "--by", "sesion"]).0, 2);
}

fn out_json(base: &str, head: &str) -> String {
    diff(&[base, head, "--format", "json"]).1
}
