//! `traces check --budget FILE`: budgets over the real-SDK dumps of `testdata/llm`, with
//! limits set just above and just below values summed from the fake servers' ledgers
//! (`ledgers.rs`: `expected`, `litellm_cost`), never from the program's own output; exit
//! codes; warn rules; percentiles against a hand computation; unpriced models; invalid
//! budget files naming file, line and key; the same verdicts from the store as from dumps.

use crate::common::{testdata, text, traces_command};
use crate::ledgers::{Expected, expected, litellm_cost};
use crate::pricing_coverage::litellm;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

fn dump(sdk: &str) -> String {
    testdata(&format!("llm/{sdk}")).display().to_string()
}

/// `traces check --budget <budget> <args>` with the budget written to a file of `dir`.
fn check_in(dir: &Path, budget: &str, args: &[&str]) -> Run {
    let file = dir.join("budget.toml");
    std::fs::write(&file, budget).unwrap();
    let out = traces_command()
        .args(["--store", "/nonexistent-store", "check", "--budget"])
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

fn check(budget: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    check_in(dir.path(), budget, args)
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Sums of the ledger's calls of one member.
#[derive(Debug, Default, Clone)]
struct Sums {
    calls: i64,
    input: i64,
    cache_read: i64,
    total_tokens: i64,
    cost: Decimal,
}

fn ledger_members(sdk: &str, key: fn(&Expected) -> Option<String>) -> BTreeMap<String, Sums> {
    let prices = litellm();
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    for e in expected(sdk) {
        let Some(k) = key(&e) else { continue };
        let s = out.entry(k).or_default();
        s.calls += 1;
        s.input += e.input;
        s.cache_read += e.cache_read;
        s.total_tokens += e.input + e.output;
        s.cost += litellm_cost(&prices, &e);
    }
    out
}

fn by_trace(e: &Expected) -> Option<String> {
    e.trace_id.clone()
}

/// The member with the largest value, and the value.
fn largest<T: Ord + Copy>(m: &BTreeMap<String, Sums>, f: fn(&Sums) -> T) -> (String, T) {
    m.iter()
        .map(|(k, s)| (k.clone(), f(s)))
        .max_by_key(|(k, v)| (*v, std::cmp::Reverse(k.clone())))
        .unwrap()
}

/// The first limit of the first rule of a JSON report.
fn limit(doc: &Value) -> &Value {
    &doc["rules"][0]["limits"][0]
}

#[test]
fn a_cost_limit_holds_at_the_largest_trace_and_fails_just_below_it() {
    for sdk in ["oi", "anthropic-sdk"] {
        let traces = ledger_members(sdk, by_trace);
        let (worst, cost) = largest(&traces, |s| s.cost);
        let budget = |max: Decimal| {
            format!(
                "[[rule]]\nname = \"cost per test case\"\nscope = \"trace\"\nmax_cost_usd = {max}\n"
            )
        };
        let held = check(&budget(cost), &[&dump(sdk), "--format", "json"]);
        assert_eq!(held.code, 0, "{sdk}: {}{}", held.stdout, held.stderr);
        let doc = held.json();
        assert_eq!(doc["status"], "ok");
        assert_eq!(limit(&doc)["checked"], traces.len());
        assert_eq!(limit(&doc)["worst"]["member"], worst.as_str());
        assert_eq!(dec(&limit(&doc)["worst"]["value"]), cost);
        assert_eq!(dec(&limit(&doc)["worst"]["margin"]), Decimal::ZERO);

        let below = cost - Decimal::new(1, 12);
        let failed = check(&budget(below), &[&dump(sdk), "--format", "json"]);
        assert_eq!(failed.code, 1, "{sdk}: {}{}", failed.stdout, failed.stderr);
        let doc = failed.json();
        assert_eq!(doc["status"], "fail");
        let offenders = limit(&doc)["offenders"].as_array().unwrap();
        let want: Vec<&String> = traces
            .iter()
            .filter(|(_, s)| s.cost > below)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(offenders.len(), want.len(), "{sdk}: {offenders:?}");
        assert_eq!(offenders[0]["member"], worst.as_str());
        assert_eq!(dec(&offenders[0]["value"]), cost);
        assert_eq!(dec(&offenders[0]["margin"]), Decimal::new(-1, 12));
        assert!(
            failed.stderr.contains("budget exceeded"),
            "{}",
            failed.stderr
        );
    }
}

#[test]
fn the_issues_toml_shape_works_as_written_and_the_text_report_names_the_offender() {
    let traces = ledger_members("oi", by_trace);
    let (worst, tokens) = largest(&traces, |s| s.total_tokens);
    let budget = |max: i64| {
        format!(
            r#"[[rule]]
name = "cost per test case"
scope = "trace"              # trace | session | user | model | name | attr:KEY | day | week | month | total
max_cost_usd = 0.05
max_total_tokens = {max}
level = "fail"               # or "warn"
[rule.filter]                # optional
model = "gpt-4*"
"#
        )
    };
    let held = check(&budget(tokens), &[&dump("oi"), "--width", "200"]);
    assert_eq!(held.code, 0, "{}{}", held.stdout, held.stderr);
    assert!(
        held.stdout.contains("ok: 1 rule(s): 0 exceeded"),
        "{}",
        held.stdout
    );
    let failed = check(
        &budget(tokens - 1),
        &[&dump("oi"), "--width", "200", "--wide"],
    );
    assert_eq!(failed.code, 1, "{}{}", failed.stdout, failed.stderr);
    let line = failed
        .stdout
        .lines()
        .find(|l| l.contains("FAIL") && l.contains(&worst))
        .unwrap_or_else(|| panic!("no line names {worst}:\n{}", failed.stdout));
    let grouped = traces::render::group_digits(&tokens.to_string());
    assert!(line.contains(&grouped), "{line}");
    assert!(line.contains("max_total_tokens"), "{line}");
    assert!(
        failed.stdout.contains("FAILED: 1 rule(s): 1 exceeded"),
        "{}",
        failed.stdout
    );

    // A model filter that keeps no call leaves no member to exceed anything.
    let none = budget(tokens - 1).replace("gpt-4*", "claude-*");
    let r = check(&none, &[&dump("oi"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["rules"][0]["members"], 0);
}

#[test]
fn warn_rules_never_fail() {
    let traces = ledger_members("oi", by_trace);
    let (_, cost) = largest(&traces, |s| s.cost);
    let budget = format!(
        "[[rule]]\nscope = \"trace\"\nlevel = \"warn\"\nmax_cost_usd = {}\n",
        cost - Decimal::new(1, 12)
    );
    let r = check(&budget, &[&dump("oi"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = r.json();
    assert_eq!(doc["status"], "warn");
    assert_eq!(doc["rules"][0]["status"], "warn");
    assert!(!limit(&doc)["offenders"].as_array().unwrap().is_empty());
    // With a fail rule beside it that is exceeded, the run fails.
    let both = format!("{budget}\n[[rule]]\nscope = \"total\"\nmax_calls = 1\n");
    assert_eq!(check(&both, &[&dump("oi")]).code, 1);
}

/// Linear interpolation between closest ranks, computed here apart from the program.
fn hand_percentile(mut v: Vec<Decimal>, p: i64) -> Decimal {
    v.sort();
    let h = Decimal::from(v.len() as i64 - 1) * Decimal::from(p) / Decimal::from(100);
    let lo = h.floor();
    let i: usize = lo.to_string().parse().unwrap();
    let next = *v.get(i + 1).unwrap_or(&v[i]);
    v[i] + (h - lo) * (next - v[i])
}

#[test]
fn percentiles_over_traces_match_a_hand_computation() {
    let traces = ledger_members("oi", by_trace);
    let costs: Vec<Decimal> = traces.values().map(|s| s.cost).collect();
    let tokens: Vec<Decimal> = traces.values().map(|s| s.total_tokens.into()).collect();
    for (key, values) in [("cost_usd", &costs), ("total_tokens", &tokens)] {
        for p in [50, 90, 95, 99] {
            let want = hand_percentile(values.clone(), p);
            let budget = format!(
                "[[rule]]\nscope = \"trace\"\np{p}_{key} = {}\n",
                want.round_dp(0).max(Decimal::ONE) * Decimal::from(1000)
            );
            let r = check(&budget, &[&dump("oi"), "--format", "json"]);
            assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
            let got = dec(&limit(&r.json())["worst"]["value"]);
            assert_eq!(got, want, "p{p} of {key}");
        }
    }
    // Just above the p95 of cost holds, just below fails.
    let p95 = hand_percentile(costs, 95);
    let rule = |max: Decimal| format!("[[rule]]\nscope = \"trace\"\np95_cost_usd = {max}\n");
    assert_eq!(
        check(&rule(p95 + Decimal::new(1, 15)), &[&dump("oi")]).code,
        0
    );
    let r = check(
        &rule(p95 - Decimal::new(1, 15)),
        &[&dump("oi"), "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        limit(&r.json())["offenders"][0]["member"],
        "p95 of 10 traces"
    );
}

#[test]
fn calls_cache_hit_ratio_and_period_scopes() {
    let sdk = "anthropic-sdk";
    let sessions = ledger_members(sdk, |e| e.session.clone());
    let (busiest, calls) = largest(&sessions, |s| s.calls);
    let rule = |n: i64| format!("[[rule]]\nscope = \"session\"\nmax_calls = {n}\n");
    assert_eq!(check(&rule(calls), &[&dump(sdk)]).code, 0);
    let r = check(&rule(calls - 1), &[&dump(sdk), "--format", "json"]);
    assert_eq!(r.code, 1);
    assert_eq!(limit(&r.json())["offenders"][0]["member"], busiest.as_str());

    // The session with the lowest share of input read from the cache.
    let (low, ratio) = sessions
        .iter()
        .filter(|(_, s)| s.input > 0)
        .map(|(k, s)| {
            (
                k.clone(),
                Decimal::from(s.cache_read) / Decimal::from(s.input),
            )
        })
        .min_by_key(|(k, r)| (*r, k.clone()))
        .unwrap();
    let rule =
        |min: Decimal| format!("[[rule]]\nscope = \"session\"\nmin_cache_hit_ratio = {min}\n");
    let r = check(&rule(ratio.round_dp(12)), &[&dump(sdk), "--format", "json"]);
    let doc = r.json();
    assert_eq!(limit(&doc)["worst"]["member"], low.as_str(), "{doc}");
    assert_eq!(
        dec(&limit(&doc)["worst"]["value"]).round_dp(12),
        ratio.round_dp(12)
    );
    let r = check(
        &rule((ratio + Decimal::new(1, 9)).min(Decimal::ONE)),
        &[&dump(sdk), "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(limit(&r.json())["offenders"][0]["member"], low.as_str());

    // All of the ledger in one member for `total`, and in its calendar week for `week`.
    let total: Decimal = ledger_members(sdk, by_trace).values().map(|s| s.cost).sum();
    for scope in ["total", "week", "month"] {
        let rule = |max: Decimal| format!("[[rule]]\nscope = \"{scope}\"\nmax_cost_usd = {max}\n");
        let r = check(&rule(total), &[&dump(sdk), "--format", "json"]);
        assert_eq!(r.code, 0, "{scope}: {}", r.stdout);
        assert_eq!(dec(&limit(&r.json())["worst"]["value"]), total, "{scope}");
        assert_eq!(
            check(&rule(total - Decimal::new(1, 12)), &[&dump(sdk)]).code,
            1,
            "{scope}"
        );
    }
}

/// A dump of one call of a model no price table has.
fn unpriced_dump(dir: &Path) -> String {
    let span = serde_json::json!({
        "traceId": format!("{:032x}", 7), "spanId": format!("{:016x}", 7), "name": "chat",
        "kind": 3, "startTimeUnixNano": "1748736000000000000", "endTimeUnixNano": "1748736000000000001",
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.response.model", "value": {"stringValue": "in-house-model-7"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}},
        ]
    });
    let doc = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}]});
    let p = dir.join("unpriced.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    p.display().to_string()
}

#[test]
fn a_cost_rule_fails_a_member_with_unpriced_calls_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let d = unpriced_dump(dir.path());
    let rule = "[[rule]]\nscope = \"trace\"\nmax_cost_usd = 100\n";
    let r = check_in(dir.path(), rule, &[&d, "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let doc = r.json();
    let o = &limit(&doc)["offenders"][0];
    assert_eq!(
        o["unpriced_models"],
        serde_json::json!(["in-house-model-7"])
    );
    let r = check_in(dir.path(), rule, &[&d]);
    assert!(r.stdout.contains("in-house-model-7"), "{}", r.stdout);
    let allowed = format!("{rule}allow_unpriced = true\n");
    assert_eq!(check_in(dir.path(), &allowed, &[&d]).code, 0);
    // Token limits need no price.
    let tokens = "[[rule]]\nscope = \"trace\"\nmax_total_tokens = 110\n";
    assert_eq!(check_in(dir.path(), tokens, &[&d]).code, 0);
    let tokens = "[[rule]]\nscope = \"trace\"\nmax_total_tokens = 109\n";
    assert_eq!(check_in(dir.path(), tokens, &[&d]).code, 1);
}

#[test]
fn invalid_budget_files_exit_2_naming_file_line_rule_and_key() {
    let cases: [(&str, &str, usize, &str); 14] = [
        (
            "[[rule]]\nscope = \"trace\"\nmax_cost = 1\n",
            "unknown key",
            3,
            "max_cost",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_cost_usd = \"a lot\"\n",
            "expected a number",
            3,
            "max_cost_usd",
        ),
        (
            "[[rule]]\nscope = \"trace\"\n\nmax_total_tokens = 1.5\n",
            "expected an integer",
            4,
            "max_total_tokens",
        ),
        (
            "[[rule]]\nname = \"n\"\nscope = \"trace\"\nmax_cost_usd = -0.01\n",
            "negative",
            4,
            "max_cost_usd",
        ),
        (
            "[[rule]]\nname = \"nothing\"\nscope = \"trace\"\n",
            "at least one limit",
            1,
            "rule 1 (\"nothing\")",
        ),
        (
            "[[rule]]\nscope = \"tracee\"\nmax_calls = 1\n",
            "did you mean trace",
            2,
            "scope",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_calls = 1\nlevel = \"error\"\n",
            "\"fail\" or \"warn\"",
            4,
            "level",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_calls = 1\n[rule.filter]\nmodle = \"x\"\n",
            "unknown filter",
            5,
            "filter.modle",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_calls = 1\n[[rule]]\nname = \"second\"\nscope = \"day\"\nmax_calls = true\n",
            "rule 2 (\"second\")",
            7,
            "max_calls",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_calls = 1\n[rules]\n",
            "unknown key",
            4,
            "rules",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_calls = \n",
            "invalid TOML",
            3,
            "",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_errors = 1.5\n",
            "expected an integer",
            3,
            "max_errors",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmin_cache_hit_ratio = 1.5\n",
            "between 0 and 1",
            3,
            "min_cache_hit_ratio",
        ),
        (
            "[[rule]]\nscope = \"trace\"\nmax_calls = 1\n[rule.filter]\nsince = \"yesterday\"\n",
            "invalid time",
            5,
            "filter.since",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("budget.toml").display().to_string();
    for (budget, says, line, key) in cases {
        let r = check_in(dir.path(), budget, &[&dump("oi")]);
        assert_eq!(r.code, 2, "{budget}: {}", r.stderr);
        let at = format!("{file}:{line}:");
        assert!(
            r.stderr.contains(&at),
            "{budget}: wanted {at} in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(says),
            "{budget}: wanted {says:?} in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(key),
            "{budget}: wanted {key:?} in {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    let missing = traces_command()
        .args(["check", "--budget", "/nonexistent/budget.toml", &dump("oi")])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
}

#[test]
fn the_store_and_the_dumps_give_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store").display().to_string();
    for sdk in ["oi", "anthropic-sdk"] {
        let out = traces_command()
            .args(["--store", &store, "import", &dump(sdk)])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let per_model = ledger_members("anthropic-sdk", |e| Some(e.model.clone()));
    let (_, most) = largest(&per_model, |s| s.calls);
    let budget = "\
[[rule]]
name = \"per trace\"
scope = \"trace\"
max_cost_usd = 0.001
max_total_tokens = 2000
p90_total_tokens = 3000

[[rule]]
scope = \"model\"
max_calls = MOST
level = \"warn\"
[rule.filter]
model = \"claude-*\"

[[rule]]
scope = \"session\"
min_cache_hit_ratio = 0.2

[[rule]]
scope = \"name\"
max_output_tokens = 100
[rule.filter]
name = \"*\"

[[rule]]
scope = \"attr:session.id\"
max_calls = 2
[rule.filter]
where = { \"session.id\" = \"sess-09-responses-tools\" }
"
    .replace("MOST", &most.to_string());
    let file = dir.path().join("b.toml");
    std::fs::write(&file, budget).unwrap();
    let run = |args: &[&str]| {
        let out = traces_command()
            .args(["--store", &store, "check", "--budget"])
            .arg(&file)
            .args(["--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let from_store = run(&[]);
    let from_dumps = run(&[&dump("oi"), &dump("anthropic-sdk")]);
    assert_eq!(from_store, from_dumps);
    let rules = from_store["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 5);
    assert_eq!(rules[4]["members"], 1);
    assert_eq!(rules[4]["status"], "fail");
    let traces =
        ledger_members("oi", by_trace).len() + ledger_members("anthropic-sdk", by_trace).len();
    assert_eq!(rules[0]["members"], traces);
    assert_eq!(rules[1]["status"], "ok");
    assert_eq!(rules[1]["members"], per_model.len());
    assert_eq!(rules[1]["limits"][0]["worst"]["value"], most);
}

#[test]
fn attribute_scopes_and_filters() {
    let sessions = ledger_members("oi", |e| e.session.clone());
    let (busiest, calls) = largest(&sessions, |s| s.calls);
    let rule = |n: i64, filter: &str| {
        format!("[[rule]]\nscope = \"attr:session.id\"\nmax_calls = {n}\n{filter}")
    };
    let r = check(&rule(calls, ""), &[&dump("oi"), "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["rules"][0]["members"], sessions.len());
    let r = check(&rule(calls - 1, ""), &[&dump("oi"), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(limit(&r.json())["offenders"][0]["member"], busiest.as_str());
    // Only the calls whose attribute has the value.
    let only = format!("[rule.filter]\nwhere = {{ \"session.id\" = \"{busiest}\" }}\n");
    let r = check(&rule(calls, &only), &[&dump("oi"), "--format", "json"]);
    assert_eq!(r.json()["rules"][0]["members"], 1, "{}", r.stdout);
}

#[test]
fn the_markdown_report_is_a_table_under_a_summary() {
    let traces = ledger_members("oi", by_trace);
    let (worst, cost) = largest(&traces, |s| s.cost);
    let budget = format!(
        "[[rule]]\nscope = \"trace\"\nmax_cost_usd = {}\n",
        cost - Decimal::new(1, 12)
    );
    let r = check(&budget, &[&dump("oi"), "--format", "markdown"]);
    assert_eq!(r.code, 1);
    let mut lines = r.stdout.lines();
    assert!(
        lines.next().unwrap().starts_with("**traces check: FAILED"),
        "{}",
        r.stdout
    );
    assert_eq!(lines.next(), Some(""));
    assert!(
        lines.next().unwrap().starts_with("| status | rule |"),
        "{}",
        r.stdout
    );
    let row = r.stdout.lines().find(|l| l.contains(&worst)).unwrap();
    assert!(row.starts_with("| FAIL |"), "{row}");
    assert!(row.contains(&cost.to_string()), "{row}");
}

/// A dump of one call per test case, each its own trace whose root span is the case.
pub fn cases_dump(dir: &Path, file: &str, cases: &[(&str, i64, i64)]) -> String {
    let calls: Vec<(&str, i64, i64, i64)> = cases
        .iter()
        .map(|(name, input, output)| (*name, 1_748_736_000, *input, *output))
        .collect();
    calls_dump(dir, file, &calls)
}

/// A dump of one call per (root span name, start in Unix seconds, input, output), each
/// its own trace.
fn calls_dump(dir: &Path, file: &str, calls: &[(&str, i64, i64, i64)]) -> String {
    let spans: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, at, input, output))| {
            serde_json::json!({
                "traceId": format!("{:032x}", i + 1), "spanId": format!("{:016x}", i + 1), "name": name,
                "kind": 3, "startTimeUnixNano": (at * 1_000_000_000).to_string(),
                "endTimeUnixNano": (at * 1_000_000_000 + 1).to_string(),
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4o-mini-2024-07-18"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": input.to_string()}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": output.to_string()}},
                ]
            })
        })
        .collect();
    let doc = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
    let p = dir.join(file);
    std::fs::write(&p, doc.to_string()).unwrap();
    p.display().to_string()
}

fn gate(base: &str, head: &str, extra: &[&str]) -> Run {
    let out = traces_command()
        .args([
            "--store",
            "/nonexistent-store",
            "check",
            "--baseline",
            base,
            head,
        ])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

#[test]
fn the_baseline_gate_catches_a_20_percent_increase_and_passes_a_5_percent_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = cases_dump(
        dir.path(),
        "base.json",
        &[
            ("test_a", 1000, 100),
            ("test_b", 2000, 200),
            ("test_gone", 500, 50),
        ],
    );
    let up20 = cases_dump(
        dir.path(),
        "up20.json",
        &[
            ("test_a", 1200, 120),
            ("test_b", 2000, 200),
            ("test_new", 10, 1),
        ],
    );
    let up5 = cases_dump(
        dir.path(),
        "up5.json",
        &[("test_a", 1050, 105), ("test_b", 2000, 200)],
    );

    let r = gate(&base, &up20, &["--max-increase", "10%", "--format", "json"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let doc = r.json();
    let b = &doc["baseline"];
    assert_eq!(b["status"], "fail");
    let failed: Vec<(&str, &str)> = b["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| (c["member"].as_str().unwrap(), c["metric"].as_str().unwrap()))
        .collect();
    assert_eq!(failed.len(), 2, "{b}");
    assert!(failed.contains(&("test_a", "total_tokens")), "{failed:?}");
    assert!(failed.contains(&("test_a", "cost_usd")), "{failed:?}");
    let tokens = b["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["member"] == "test_a" && c["metric"] == "total_tokens")
        .unwrap();
    assert_eq!(
        (tokens["base"].as_i64(), tokens["head"].as_i64()),
        (Some(1100), Some(1320))
    );
    assert_eq!(dec(&tokens["allowed"]), Decimal::from(1210));
    assert_eq!(b["new"][0]["member"], "test_new");
    assert_eq!(b["vanished"][0]["member"], "test_gone");

    let r = gate(&base, &up5, &["--max-increase", "10%"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("vanished"), "{}", r.stdout);
    // 5% is more than 4.9%.
    assert_eq!(gate(&base, &up5, &["--max-increase", "4.9%"]).code, 1);

    // In dollars: 200 more input and 20 more output tokens at LiteLLM's prices.
    let prices = litellm();
    let p = &prices["gpt-4o-mini-2024-07-18"];
    let rate = |k: &str| crate::pricing_coverage::per_token(p, k).unwrap();
    let more = Decimal::from(200) * rate("input_cost_per_token")
        + Decimal::from(20) * rate("output_cost_per_token");
    let usd = |d: Decimal| gate(&base, &up20, &["--max-increase-usd", &d.to_string()]).code;
    assert_eq!(usd(more), 0);
    assert_eq!(usd(more - Decimal::new(1, 12)), 1);

    // A store as the baseline gives the same comparison.
    let store = dir.path().join("base-store").display().to_string();
    let out = traces_command()
        .args(["--store", &store, "import", &base])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r2 = gate(
        &store,
        &up20,
        &["--max-increase", "10%", "--format", "json"],
    );
    assert_eq!(r2.json()["baseline"], doc["baseline"]);
}

/// `xmllint --schema` over a JUnit report: the schema the CI reporters read.
fn validate_junit(dir: &Path, xml: &str) {
    let file = dir.join("check.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = crate::common::root().join("tests/data/junit-10.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils) is needed to validate JUnit reports");
    assert!(out.status.success(), "{}\n{xml}", text(&out.stderr));
}

/// The value of attribute `name` of the first element `tag` of `xml`.
fn xml_attr(xml: &str, tag: &str, name: &str) -> String {
    let at = xml
        .find(&format!("<{tag} "))
        .unwrap_or_else(|| panic!("no <{tag}>: {xml}"));
    let rest = &xml[at..];
    let key = format!(" {name}=\"");
    let from = rest.find(&key).unwrap() + key.len();
    rest[from..from + rest[from..].find('"').unwrap()].to_string()
}

#[test]
fn the_junit_report_validates_and_counts_a_case_per_member_and_a_failure_per_offender() {
    let dir = tempfile::tempdir().unwrap();
    let traces = ledger_members("oi", by_trace);
    let mut tokens: Vec<i64> = traces.values().map(|s| s.total_tokens).collect();
    tokens.sort();
    // At the smallest value: every trace above it offends.
    let limit = tokens[0];
    let offenders = traces.values().filter(|s| s.total_tokens > limit).count();
    assert!(offenders > 0 && offenders < traces.len());
    let (_, worst_cost) = largest(&traces, |s| s.cost);
    let warn_limit = worst_cost - Decimal::new(1, 12);
    let warned = traces.values().filter(|s| s.cost > warn_limit).count();
    let budget = format!(
        "[[rule]]\nname = \"tokens\"\nscope = \"trace\"\nmax_total_tokens = {limit}\n\n\
         [[rule]]\nname = \"cost\"\nscope = \"trace\"\nlevel = \"warn\"\nmax_cost_usd = {}\n\n\
         [[rule]]\nname = \"p95\"\nscope = \"trace\"\np95_total_tokens = 1\n",
        warn_limit
    );
    let r = check_in(dir.path(), &budget, &[&dump("oi"), "--format", "junit"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    validate_junit(dir.path(), &r.stdout);
    let n = traces.len();
    // A case per trace in each of the two member rules, one for the percentile.
    assert_eq!(
        xml_attr(&r.stdout, "testsuites", "tests"),
        (2 * n + 1).to_string()
    );
    // The percentile of total tokens is over 1: it fails too; the warn rule never does.
    assert_eq!(
        xml_attr(&r.stdout, "testsuites", "failures"),
        (offenders + 1).to_string()
    );
    assert_eq!(r.stdout.matches("<failure ").count(), offenders + 1);
    assert_eq!(xml_attr(&r.stdout, "testsuite", "name"), "tokens");
    assert_eq!(xml_attr(&r.stdout, "testsuite", "tests"), n.to_string());
    assert_eq!(
        xml_attr(&r.stdout, "testsuite", "failures"),
        offenders.to_string()
    );
    // Each warning is a note on a passing case.
    assert_eq!(
        r.stdout.matches("warning: max_cost_usd").count(),
        warned,
        "{}",
        r.stdout
    );
    let failure = xml_attr(&r.stdout, "failure", "message");
    assert!(
        failure.starts_with(&format!("max_total_tokens: limit {limit}, actual ")),
        "{failure}"
    );

    // The baseline gate as a suite of its own, valid too.
    let base = cases_dump(
        dir.path(),
        "base.json",
        &[("test_a", 1000, 100), ("gone", 1, 1)],
    );
    let head = cases_dump(
        dir.path(),
        "head.json",
        &[("test_a", 1200, 120), ("new", 1, 1)],
    );
    let r = gate(&base, &head, &["--format", "junit"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    validate_junit(dir.path(), &r.stdout);
    // test_a, new and gone; test_a's tokens and cost grew by 20% (its calls did not).
    assert_eq!(xml_attr(&r.stdout, "testsuites", "tests"), "3");
    assert_eq!(xml_attr(&r.stdout, "testsuites", "failures"), "1");
    assert_eq!(r.stdout.matches("<failure ").count(), 2);
}

/// A dump of one call whose root span has `name`.
fn named_dump(dir: &Path, name: &str, input: i64) -> String {
    cases_dump(dir, "named.json", &[(name, input, 0)])
}

/// A workflow command as GitHub's runner reads it: `::name k=v,k=v::message`, the
/// property values and the message unescaped.
fn parse_command(line: &str) -> (String, Vec<(String, String)>, String) {
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let rest = line.strip_prefix("::").unwrap_or_else(|| panic!("{line}"));
    let (head, message) = rest.split_once("::").unwrap_or_else(|| panic!("{line}"));
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or_else(|| panic!("{line}"));
            (k.to_string(), unescape(v))
        })
        .collect();
    (name.to_string(), props, unescape(message))
}

#[test]
fn github_annotations_parse_and_escape_a_hostile_name() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "50% done: a, b\nc";
    let d = named_dump(dir.path(), hostile, 100);
    let budget = "[[rule]]\nname = \"per case: 100%, strict\"\nscope = \"name\"\nmax_input_tokens = 99\n\n\
                  [[rule]]\nname = \"soft\"\nscope = \"name\"\nlevel = \"warn\"\nmax_calls = 0\n";
    let r = check_in(dir.path(), budget, &[&d, "--format", "github"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let commands: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 2, "{}", r.stdout);
    // No raw line break, colon-colon or comma reaches the runner from the data.
    let (name, props, message) = parse_command(commands[0]);
    assert_eq!(name, "error");
    assert_eq!(
        props,
        vec![(
            "title".into(),
            "traces check: per case: 100%, strict".into()
        )]
    );
    assert_eq!(
        message,
        format!("name {hostile}: max_input_tokens: limit 99, actual 100, margin -1")
    );
    assert!(
        commands[0].contains("50%25 done: a, b%0Ac"),
        "{}",
        commands[0]
    );
    assert!(commands[0].contains("title=traces check%3A per case%3A 100%25%2C strict::"));
    let (name, _, message) = parse_command(commands[1]);
    assert_eq!(name, "warning");
    assert_eq!(
        message,
        format!("name {hostile}: max_calls: limit 0, actual 1, margin -1")
    );
    // Then the summary, as plain text.
    assert!(
        r.stdout.trim_end().ends_with("1 warning(s), 0 held"),
        "{}",
        r.stdout
    );
}

#[test]
fn output_writes_the_report_to_a_file_and_the_summary_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let d = named_dump(dir.path(), "case", 100);
    let file = dir.path().join("out").join("check.json");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let budget = "[[rule]]\nscope = \"name\"\nmax_input_tokens = 99\n";
    let r = check_in(
        dir.path(),
        budget,
        &[&d, "--format", "json", "--output", file.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "FAILED: 1 rule(s): 1 exceeded (1 offender(s)), 0 warning(s), 0 held\n"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(limit(&doc)["offenders"][0]["value"], 100);
    // Nothing is left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("out")).unwrap().collect();
    assert_eq!(left.len(), 1);

    // A table goes there too, without colour, and a directory that is not there is an
    // error, with no file made.
    let file = dir.path().join("out").join("check.txt");
    let r = check_in(
        dir.path(),
        budget,
        &[&d, "--color", "always", "--output", file.to_str().unwrap()],
    );
    assert_eq!(r.code, 1);
    let table = std::fs::read_to_string(&file).unwrap();
    assert!(
        table.contains("max_input_tokens") && !table.contains('\u{1b}'),
        "{table}"
    );
    assert!(!table.contains("FAILED"), "{table}");
    let missing = dir.path().join("nowhere").join("check.xml");
    let r = check_in(
        dir.path(),
        budget,
        &[
            &d,
            "--format",
            "junit",
            "--output",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
    assert!(!missing.exists());
}

/// Three test cases, hand-timed (ms after a start instant), with error statuses:
/// case_a (session s1): root 0-500, its call 100-300 (error), a tool 200-700 (error):
///   700 ms from the first start to the last end, 2 errors;
/// case_b (s1): root 1000-1250, its call 1010-1200: 250 ms, no error;
/// case_c (s2): root 2000-2100 (error), its call 2010-2090: 100 ms, 1 error.
fn timed_dump(dir: &Path) -> String {
    const T0: i64 = 1_748_736_000_000_000_000;
    let ms = |m: i64| (T0 + m * 1_000_000).to_string();
    let span = |trace: u32,
                id: u32,
                parent: Option<u32>,
                name: &str,
                (a, b): (i64, i64),
                error: bool,
                call: Option<&str>| {
        let mut attrs = vec![];
        if let Some(session) = call {
            attrs = vec![
                serde_json::json!({"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}),
                serde_json::json!({"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4o-mini-2024-07-18"}}),
                serde_json::json!({"key": "gen_ai.usage.input_tokens", "value": {"intValue": "10"}}),
                serde_json::json!({"key": "gen_ai.usage.output_tokens", "value": {"intValue": "1"}}),
                serde_json::json!({"key": "session.id", "value": {"stringValue": session}}),
            ];
        }
        let mut s = serde_json::json!({
            "traceId": format!("{trace:032x}"), "spanId": format!("{id:016x}"), "name": name,
            "kind": 1, "startTimeUnixNano": ms(a), "endTimeUnixNano": ms(b),
            "status": {"code": if error { 2 } else { 0 }},
            "attributes": attrs,
        });
        if let Some(p) = parent {
            s["parentSpanId"] = format!("{p:016x}").into();
        }
        s
    };
    let spans = vec![
        span(1, 1, None, "case_a", (0, 500), false, None),
        span(1, 2, Some(1), "chat", (100, 300), true, Some("s1")),
        span(1, 3, Some(1), "tool", (200, 700), true, None),
        span(2, 4, None, "case_b", (1000, 1250), false, None),
        span(2, 5, Some(4), "chat", (1010, 1200), false, Some("s1")),
        span(3, 6, None, "case_c", (2000, 2100), true, None),
        span(3, 7, Some(6), "chat", (2010, 2090), false, Some("s2")),
    ];
    let doc = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
    let p = dir.join("timed.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    p.display().to_string()
}

#[test]
fn durations_and_errors_are_of_the_members_traces() {
    let dir = tempfile::tempdir().unwrap();
    let d = timed_dump(dir.path());
    let trace = |n: u32| format!("{n:032x}");
    let budget = "[[rule]]\nscope = \"trace\"\nmax_duration_ms = 699\nmax_errors = 1\n\n\
                  [[rule]]\nscope = \"session\"\nmax_duration_ms = 949\nmax_errors = 2\n\n\
                  [[rule]]\nscope = \"trace\"\np50_duration_ms = 250\n";
    let store = dir.path().join("store").display().to_string();
    let out = traces_command()
        .args(["--store", &store, "import", &d])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_dump = check_in(dir.path(), budget, &[&d, "--format", "json"]);
    let file = dir.path().join("budget.toml");
    let out = traces_command()
        .args(["--store", &store, "check", "--format", "json", "--budget"])
        .arg(&file)
        .output()
        .unwrap();
    let from_store: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_dump.json(), from_store);
    assert_eq!(
        from_dump.code, 1,
        "{}{}",
        from_dump.stdout, from_dump.stderr
    );
    let doc = from_dump.json();
    let offenders = |rule: usize, lim: usize| -> Vec<(String, Decimal)> {
        doc["rules"][rule]["limits"][lim]["offenders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["member"].as_str().unwrap().to_string(), dec(&o["value"])))
            .collect()
    };
    assert_eq!(offenders(0, 0), vec![(trace(1), Decimal::from(700))]);
    assert_eq!(offenders(0, 1), vec![(trace(1), Decimal::from(2))]);
    // s1 is case_a and case_b: 700 + 250 ms, 2 + 0 errors (at its limit, held).
    assert_eq!(
        offenders(1, 0),
        vec![("s1".to_string(), Decimal::from(950))]
    );
    assert!(offenders(1, 1).is_empty());
    let worst = &doc["rules"][1]["limits"][1]["worst"];
    assert_eq!(
        (worst["member"].as_str(), dec(&worst["value"])),
        (Some("s1"), Decimal::from(2))
    );
    // The median of 100, 250 and 700 ms, at its limit.
    assert!(offenders(2, 0).is_empty());
    assert_eq!(
        dec(&doc["rules"][2]["limits"][0]["worst"]["value"]),
        Decimal::from(250)
    );
}

#[test]
fn a_period_forecasts_the_day_its_limit_is_crossed_at_its_rate_so_far() {
    let dir = tempfile::tempdir().unwrap();
    const DAY: i64 = 86_400;
    // Monday 2025-06-02 00:00 UTC starts ISO week 2025-W23.
    let monday = 1_748_822_400;
    let d = calls_dump(
        dir.path(),
        "calls.json",
        &[
            ("case", monday - DAY / 2, 450, 50), // Sunday noon, the week before (and June's first)
            ("case", monday, 900, 100),
            ("case", monday + 2 * DAY, 1800, 200), // Wednesday 00:00: the newest call
        ],
    );
    let prices = litellm();
    let p = &prices["gpt-4o-mini-2024-07-18"];
    let week_cost = Decimal::from(2700)
        * crate::pricing_coverage::per_token(p, "input_cost_per_token").unwrap()
        + Decimal::from(300)
            * crate::pricing_coverage::per_token(p, "output_cost_per_token").unwrap();
    // 3,000 tokens in the week's first 2 days: 1,500 a day reach 7,000 after 4⅔ days,
    // Friday 16:00; three times the week's cost is reached after 6 days, Sunday 00:00;
    // four times it only after 8, past the week's end, where 3.5 times it is reached.
    // June: 3,500 tokens in 3 days reach 30,000 after 25 5/7 days, on Thursday the 26th.
    let budget = format!(
        "[[rule]]\nname = \"tokens\"\nscope = \"week\"\nmax_total_tokens = 7000\n\n\
         [[rule]]\nname = \"spend\"\nscope = \"week\"\nmax_cost_usd = {}\n\n\
         [[rule]]\nname = \"calm\"\nscope = \"week\"\nmax_cost_usd = {}\n\n\
         [[rule]]\nname = \"june\"\nscope = \"month\"\nmax_total_tokens = 30000\n",
        week_cost * Decimal::from(3),
        week_cost * Decimal::from(4),
    );
    let r = check_in(dir.path(), &budget, &[&d, "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let doc = r.json();
    let projection = |rule: usize| doc["rules"][rule]["limits"][0]["projection"].clone();
    let tokens = projection(0);
    assert_eq!(tokens["period"], "2025-W23");
    assert_eq!(tokens["start"], "2025-06-02T00:00:00.000Z");
    assert_eq!(tokens["end"], "2025-06-09T00:00:00.000Z");
    assert_eq!(tokens["now"], "2025-06-04T00:00:00.000Z");
    assert_eq!(dec(&tokens["value"]), Decimal::from(3000));
    assert_eq!(dec(&tokens["projected"]), Decimal::from(10500));
    assert_eq!(tokens["crosses_at"], "2025-06-06T16:00:00.000Z");
    assert_eq!(projection(1)["crosses_at"], "2025-06-08T00:00:00.000Z");
    assert_eq!(projection(2)["crosses_at"], Value::Null);
    assert_eq!(
        dec(&projection(2)["projected"]),
        week_cost * Decimal::new(35, 1)
    );
    assert_eq!(projection(3)["period"], "2025-06");

    let r = check_in(dir.path(), &budget, &[&d]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let warnings: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(
        warnings,
        vec![
            "warning: week 2025-W23: 3,000 of 7,000 total_tokens, crossing on Friday at this rate",
            &format!(
                "warning: week 2025-W23: ${} of ${}, crossing on Sunday at this rate",
                week_cost.normalize(),
                (week_cost * Decimal::from(3)).normalize()
            ),
            "warning: month 2025-06: 3,500 of 30,000 total_tokens, crossing on Thursday 2025-06-26 at this rate",
        ]
    );
    let r = check_in(dir.path(), &budget, &[&d, "--format", "github"]);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("::warning "))
            .count(),
        3
    );
    // In JUnit, a note on the period's passing case.
    let r = check_in(dir.path(), &budget, &[&d, "--format", "junit"]);
    validate_junit(dir.path(), &r.stdout);
    assert_eq!(xml_attr(&r.stdout, "testsuites", "failures"), "0");
    assert!(
        r.stdout
            .contains("<system-out>warning: week 2025-W23: 3,000 of 7,000"),
        "{}",
        r.stdout
    );
}
