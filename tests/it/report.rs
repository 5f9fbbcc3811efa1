//! `traces report --html`: over real-SDK dumps and a store, the page is one document
//! under a CSP that forbids every request and names no remote URL; its totals and its
//! cost by model carry the digits of `traces cost --format json` (parsed here from the
//! JSON's raw number text, never through a float); trace strings carrying script and
//! markup payloads show as text; long messages are cut; no calls means no page and a
//! message saying why.

use crate::common::{root, testdata, text, traces_command, traces_in};
use serde_json::value::RawValue;
use std::collections::HashMap;

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

const SDKS: [&str; 8] = [
    "oi",
    "otel-genai",
    "openllmetry",
    "langfuse",
    "catalyst",
    "langfuse-plus-oi",
    "aisdk4",
    "agents-logfire",
];

fn dump(sdk: &str) -> String {
    root().join("testdata/llm").join(sdk).display().to_string()
}

/// `traces report --html FILE ARGS...` with no store; the page's text.
fn report(dir: &std::path::Path, args: &[&str]) -> String {
    let file = dir.join("r.html");
    let out = traces_command()
        .args(["--store", "/nonexistent", "report", "--html"])
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    std::fs::read_to_string(&file).unwrap()
}

/// A JSON object's members as their raw text: numbers keep every digit.
fn raw_members(json: &str) -> HashMap<String, String> {
    let m: HashMap<String, Box<RawValue>> = serde_json::from_str(json).unwrap();
    m.into_iter()
        .map(|(k, v)| (k, v.get().to_string()))
        .collect()
}

fn cost_json(store: Option<&std::path::Path>, args: &[&str]) -> String {
    let out = match store {
        Some(s) => traces_in(s, &[&["cost", "--format", "json"], args].concat()),
        None => traces_in(
            std::path::Path::new("/nonexistent"),
            &[&["cost", "--format", "json"], args].concat(),
        ),
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The `data-exact` of the element with this id.
fn exact_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[at..];
    let v = &rest[rest.find("data-exact=\"").unwrap() + 12..];
    &v[..v.find('"').unwrap()]
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The rows of a table of groups: key text and the exact cost (its first money cell).
fn group_rows(html: &str, id: &str) -> HashMap<String, String> {
    let at = html
        .find(&format!("<table class=\"sortable\" id=\"{id}\""))
        .unwrap();
    let body = &html[at..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr><td>")
        .skip(1)
        .map(|row| {
            let key = unescape(&row[..row.find("</td>").unwrap()]);
            let v = &row[row.find("data-exact=\"").unwrap() + 12..];
            (key, v[..v.find('"').unwrap()].to_string())
        })
        .collect()
}

/// The chart's numbers (time, model, exact cost) equal `traces cost --by day|hour --by
/// model` for the bucket the page chose.
fn assert_over_time_matches(html: &str, args: &[&str]) {
    let by = if html.contains("Cost over time (per hour") {
        "hour"
    } else {
        "day"
    };
    let at = html.find("id=\"over-time-table\"").unwrap();
    let body = &html[at..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    let shown: HashMap<(String, String), String> = body
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.splitn(3, "</td><td>").collect();
            let v = &row[row.find("data-exact=\"").unwrap() + 12..];
            (
                (
                    cells[0].to_string(),
                    unescape(&cells[1][..cells[1].find("</td>").unwrap()]),
                ),
                v[..v.find('"').unwrap()].to_string(),
            )
        })
        .collect();
    let json = cost_json(None, &[args, &["--by", by, "--by", "model"]].concat());
    let rows: Vec<HashMap<String, Box<RawValue>>> =
        serde_json::from_str(&raw_members(&json)["rows"]).unwrap();
    let expected: HashMap<(String, String), String> = rows
        .iter()
        .map(|r| {
            let t: String = serde_json::from_str(r[by].get()).unwrap();
            let m: Option<String> = serde_json::from_str(r["model"].get()).unwrap();
            (
                (t, m.unwrap_or_else(|| "(none)".into())),
                r["cost_usd"].get().to_string(),
            )
        })
        .collect();
    assert_eq!(shown, expected, "by {by}");
}

fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<html").count(), 1);
    assert_eq!(html.matches("</html>").count(), 1);
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    )));
    let lower = html.to_ascii_lowercase();
    for bad in [
        "src=\"http",
        "href=\"http",
        "src=http",
        "href=http",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(!lower.contains(bad), "{bad} in the page");
    }
    // The one script is the page's own.
    assert_eq!(lower.matches("<script").count(), 1);
}

fn assert_totals_match(html: &str, cost: &str) {
    let doc = raw_members(cost);
    let total = raw_members(&doc["total"]);
    assert_eq!(exact_of(html, "total-cost_usd"), total["cost_usd"]);
    let recorded = exact_of(html, "total-recorded_cost_usd");
    match total["recorded_cost_usd"].as_str() {
        "null" => assert_eq!(recorded, ""),
        r => assert_eq!(recorded, r),
    }
    for k in [
        "calls",
        "traces",
        "input_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "output_tokens",
        "reasoning_tokens",
        "total_tokens",
        "unpriced_calls",
        "fallback_priced_calls",
    ] {
        assert_eq!(exact_of(html, &format!("total-{k}")), total[k], "{k}");
    }
}

fn assert_by_model_matches(html: &str, cost_by_model: &str) {
    let doc = raw_members(cost_by_model);
    let rows: Vec<HashMap<String, Box<RawValue>>> = serde_json::from_str(&doc["rows"]).unwrap();
    let expected: HashMap<String, String> = rows
        .iter()
        .map(|r| {
            let model: Option<String> = serde_json::from_str(r["model"].get()).unwrap();
            (
                model.unwrap_or_else(|| "(none)".into()),
                r["cost_usd"].get().to_string(),
            )
        })
        .collect();
    assert_eq!(group_rows(html, "by-model"), expected);
}

#[test]
fn each_real_sdk_dump_makes_one_closed_page_with_costs_digits() {
    let dir = tempfile::tempdir().unwrap();
    for sdk in SDKS {
        let html = report(dir.path(), &[&dump(sdk)]);
        assert_self_contained(&html);
        assert_totals_match(&html, &cost_json(None, &[&dump(sdk)]));
        assert_by_model_matches(&html, &cost_json(None, &[&dump(sdk), "--by", "model"]));
        assert_over_time_matches(&html, &[&dump(sdk)]);
        assert!(html.contains("<svg"), "{sdk}: no chart");
        assert!(html.contains("<details class=\"trace\""), "{sdk}: no trace");
    }
}

#[test]
fn several_days_of_dumps_chart_by_day_with_costs_digits() {
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<String> = SDKS.iter().map(|s| dump(s)).collect();
    let args: Vec<&str> = all.iter().map(String::as_str).collect();
    let html = report(dir.path(), &args);
    assert!(html.contains("Cost over time (per day"));
    assert_over_time_matches(&html, &args);
    assert_totals_match(&html, &cost_json(None, &args));
}

#[test]
fn a_store_and_filters_give_the_numbers_cost_gives_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let all: Vec<String> = SDKS.iter().map(|s| dump(s)).collect();
    let mut args = vec!["import"];
    args.extend(all.iter().map(String::as_str));
    let out = traces_in(&store, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.path().join("store.html");
    for filter in [vec![], vec!["--model", "gpt-4o*"]] {
        let mut args = vec!["report", "--html", file.to_str().unwrap(), "--traces", "3"];
        args.extend(&filter);
        let out = traces_in(&store, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let html = std::fs::read_to_string(&file).unwrap();
        assert_self_contained(&html);
        assert_totals_match(&html, &cost_json(Some(&store), &filter));
        let by_model = cost_json(Some(&store), &[&filter[..], &["--by", "model"]].concat());
        assert_by_model_matches(&html, &by_model);
        assert_eq!(html.matches("<details class=\"trace\"").count(), 3);
    }
}

#[test]
fn payloads_in_names_attributes_and_messages_show_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = testdata("report/injection.otlp.json");
    let html = report(dir.path(), &[fixture.to_str().unwrap()]);
    assert_self_contained(&html);
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<img",
        "<a ",
        "javascript:alert(4)\"",
        "href=\"javascript",
        "<script>alert",
    ] {
        assert!(!lower.contains(bad), "{bad} unescaped");
    }
    for shown in [
        "&lt;script&gt;alert(1)&lt;/script&gt; agent",
        "chat &quot;&gt;&lt;img src=x onerror=alert(5)&gt;",
        "&lt;script&gt;alert(6)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(7)&gt;",
        "&lt;script&gt;alert(8)&lt;/script&gt; and &quot;&gt;&lt;img src=x onerror=alert(9)&gt; and &lt;/script&gt;",
        "&lt;a href=&quot;javascript:alert(10)&quot;&gt;x&lt;/a&gt; javascript:alert(11)",
        "&lt;/script&gt;&lt;script&gt;alert(12)&lt;/script&gt;",
        "&lt;img src=x onerror=alert(13)&gt;",
        "sess&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;",
    ] {
        assert!(html.contains(shown), "{shown} not shown as text");
    }
    assert_totals_match(&html, &cost_json(None, &[fixture.to_str().unwrap()]));
}

#[test]
fn a_long_message_is_cut_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let long = "word ".repeat(3000);
    let messages =
        serde_json::json!([{"role": "user", "parts": [{"type": "text", "content": long}]}]);
    let dump = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [{
    "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331", "name": "chat", "kind": 3,
    "startTimeUnixNano": "1764842400000000000", "endTimeUnixNano": "1764842401000000000",
    "attributes": [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "4000"}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "1"}},
        {"key": "gen_ai.input.messages", "value": {"stringValue": messages.to_string()}}
    ]}]}]}]});
    let file = dir.path().join("long.json");
    std::fs::write(&file, dump.to_string()).unwrap();
    let html = report(dir.path(), &[file.to_str().unwrap()]);
    assert!(html.contains("more bytes not shown"));
    assert!(html.len() < 15_000 + long.len() / 2, "{}", html.len());
}

#[test]
fn no_calls_writes_no_page_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("none.html");
    let out = traces_command()
        .args(["--store", "/nonexistent", "report", "--html"])
        .arg(&file)
        .args([&dump("oi"), "--model", "no-such-model*"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no calls match --model no-such-model*"),
        "{err}"
    );
    assert!(err.contains("no report written"), "{err}");
    assert!(!file.exists());
}
