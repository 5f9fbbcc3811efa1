//! Usage numbers from files are hostile: whatever a span says (0, 1, 2^63 - 1, negative,
//! fractional, past 2^63, a cache far larger than its prompt), the normalizer, the
//! attribution and both cost paths give either a report whose counts are never negative
//! and whose cost is within what its tokens can cost, or a refusal; never a wrapped
//! figure, never a panic.

use polars::prelude::IntoLazy;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::sync::Arc;
use traces::analysis::calls::{Calls, calls_from_rows, row_from_normalized};
use traces::analysis::calls_view::{CallsPart, to_frame};
use traces::analysis::cost_columns;
use traces::analysis::cost_report::{CallFilter, CostReport, Dim, Metrics, ReportBuilder};
use traces::ingest::ids::{SpanId, TraceId};
use traces::ingest::raw::{AnyValue, KeyValue, RawSpan, Resource, Scope, SpanKind, StatusCode};
use traces::pricing::Pricing;
use traces::pricing::table::Rates;

const MODELS: [&str; 3] = ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"];
/// 2025-03-01T00:00:00Z.
const START: i64 = 1_740_787_200_000_000_000;

/// Keys of every dialect's counts, each kind of field.
const KEYS: [&str; 10] = [
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.prompt_details.cache_read",
    "ai.usage.inputTokens",
    "ai.usage.outputTokens",
];

fn hostile() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        Just(AnyValue::Int(0)),
        Just(AnyValue::Int(1)),
        Just(AnyValue::Int(i64::MAX)),
        Just(AnyValue::Int(i64::MAX - 1)),
        Just(AnyValue::Int(-1)),
        Just(AnyValue::Int(i64::MIN)),
        (0i64..1_000_000).prop_map(AnyValue::Int),
        (4_611_686_018_427_387_904i64..i64::MAX).prop_map(AnyValue::Int),
        Just(AnyValue::Double(0.5)),
        Just(AnyValue::Double(1e19)),
        Just(AnyValue::Double(9.223_372_036_854_776e18)),
        Just(AnyValue::Double(f64::NAN)),
        Just(AnyValue::Double(-2.0)),
        Just(AnyValue::String("99999999999999999999".into())),
        Just(AnyValue::String("-5".into())),
        Just(AnyValue::String("1e400".into())),
    ]
}

/// Raw usage JSON whose numbers are hostile too.
fn raw_usage() -> impl Strategy<Value = Option<AnyValue>> {
    let n = prop_oneof![
        Just("0".to_string()),
        Just(i64::MAX.to_string()),
        Just("18446744073709551615".to_string()),
        Just("-7".to_string()),
        Just("2.5".to_string()),
        (0i64..100_000).prop_map(|n| n.to_string()),
    ];
    prop::option::of((n.clone(), n.clone(), n.clone(), n).prop_map(|(i, o, c, w)| {
        AnyValue::String(format!(
            r#"{{"input_tokens":{i},"output_tokens":{o},"cache_read_input_tokens":{c},"cache_creation_input_tokens":{w}}}"#
        ))
    }))
}

prop_compose! {
    fn span()(
        trace in 0u8..3,
        span in 1u8..40,
        parent in prop::option::of(1u8..40),
        model in 0..MODELS.len(),
        values in prop::collection::vec((0..KEYS.len(), hostile()), 0..6),
        raw in raw_usage(),
        minutes in 0i64..3000,
    ) -> RawSpan {
        let mut attributes = vec![KeyValue::new(
            "gen_ai.request.model",
            AnyValue::String(MODELS[model].into()),
        )];
        for (k, v) in values {
            attributes.push(KeyValue::new(KEYS[k], v));
        }
        if let Some(r) = raw {
            attributes.push(KeyValue::new("gen_ai.usage.raw", r));
        }
        let start = START + minutes * 60_000_000_000;
        RawSpan {
            trace_id: TraceId([trace; 16]),
            span_id: SpanId([span; 8]),
            parent_span_id: parent.filter(|p| *p != span).map(|p| SpanId([p; 8])),
            trace_state: String::new(),
            name: "chat".into(),
            kind: SpanKind::Client,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 1_000_000,
            status_code: StatusCode::Unset,
            status_message: String::new(),
            flags: 0,
            attributes,
            events: vec![],
            links: vec![],
            resource: Arc::new(Resource::default()),
            scope: Arc::new(Scope::default()),
        }
    }
}

/// The dearest rate of any class the model has on any date, tier or service tier.
fn dearest(pricing: &Pricing, model: &str) -> Decimal {
    let (_, e) = pricing.resolve(model, None).expect("a shipped model");
    let all = |r: &Rates| {
        [
            r.input,
            r.cached_input,
            r.cache_write_5m,
            r.cache_write_1h,
            r.output,
            r.reasoning,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_default()
    };
    e.prices
        .iter()
        .flat_map(|v| {
            std::iter::once(all(&v.rates))
                .chain(v.tiers.iter().map(|t| all(&t.rates)))
                .chain(v.service_tier.values().map(all))
        })
        .max()
        .unwrap_or_default()
}

fn within_bounds(m: &Metrics, dearest: Decimal) {
    for (name, n) in [
        ("input", m.input_tokens),
        ("cache_read", m.cache_read_tokens),
        ("cache_write", m.cache_write_tokens),
        ("output", m.output_tokens),
        ("reasoning", m.reasoning_tokens),
        ("total", m.total_tokens()),
    ] {
        assert!(n >= 0, "{name} is {n}");
    }
    assert!(!m.cost_usd.is_sign_negative() || m.cost_usd.is_zero());
    // Every token billed is one the report shows as input or output.
    let most = Decimal::from(m.input_tokens) * dearest / Decimal::from(1_000_000)
        + Decimal::from(m.output_tokens) * dearest / Decimal::from(1_000_000);
    assert!(
        m.cost_usd <= most,
        "cost {} exceeds {most} for {} input and {} output tokens",
        m.cost_usd,
        m.input_tokens,
        m.output_tokens
    );
}

fn check(report: &CostReport, dearest: Decimal) {
    report
        .rows
        .iter()
        .for_each(|(_, m)| within_bounds(m, dearest));
    within_bounds(&report.total, dearest);
    let calls: u64 = report.rows.iter().map(|(_, m)| m.calls).sum();
    assert_eq!(calls, report.total.calls);
    let cost: Decimal = report.rows.iter().map(|(_, m)| m.cost_usd).sum();
    assert_eq!(cost, report.total.cost_usd);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_report_wraps_or_overcharges(
        spans in prop::collection::vec(span(), 1..14),
        by_model in any::<bool>(),
    ) {
        let pricing = Pricing::shipped();
        let dearest = MODELS.iter().map(|m| dearest(&pricing, m)).max().unwrap();
        let rows: Vec<_> = spans
            .iter()
            .map(|s| row_from_normalized(s, traces::semconv::normalize(s), &[]))
            .collect();
        let calls = calls_from_rows(&rows);
        for c in &calls.calls {
            for v in [c.usage.input, c.usage.output, c.usage.cache_read, c.usage.cache_write, c.usage.reasoning] {
                prop_assert!(v.is_none_or(|n| n >= 0), "a normalized count is negative: {:?}", c.usage);
            }
        }
        let group_by = if by_model { vec![Dim::Model] } else { vec![Dim::Trace] };
        let filter = CallFilter::default();
        let mut builder = ReportBuilder::new(&pricing, group_by.clone(), &filter, &[]);
        calls.calls.iter().for_each(|c| builder.add(c));
        let one_by_one = builder.finish();

        let frame = to_frame(&[], &Calls { calls: calls.calls.clone(), ..Default::default() }).unwrap();
        let part = CallsPart { calls: frame.height() as u64, frame: frame.lazy() };
        let columnar = cost_columns::report(&[part], &Default::default(), &pricing, group_by, &filter);

        // The sums overflow exactly when the exact sums of the counts pass i64.
        let wide = |f: fn(&traces::semconv::model::Usage) -> Option<i64>| -> i128 {
            calls.calls.iter().filter_map(|c| f(&c.usage)).map(i128::from).sum()
        };
        let fits = [
            wide(|u| u.input),
            wide(|u| u.output),
            wide(|u| u.cache_read),
            wide(|u| u.cache_write),
            wide(|u| u.reasoning),
            wide(|u| u.input) + wide(|u| u.output),
        ]
        .iter()
        .all(|s| *s <= i64::MAX as i128);
        match (one_by_one, columnar) {
            (Ok(a), Ok(b)) => {
                prop_assert!(fits, "a total past i64 was shown: {:?}", a.total);
                check(&a, dearest);
                check(&b, dearest);
                prop_assert_eq!(a.total.input_tokens as i128, wide(|u| u.input));
                prop_assert_eq!(a.total.output_tokens as i128, wide(|u| u.output));
                prop_assert_eq!(&a.total, &b.total);
            }
            (Err(_), Err(_)) => prop_assert!(!fits, "refused a report whose sums fit"),
            (a, b) => prop_assert!(false, "the paths disagree: {:?} / {:?}", a.map(|r| r.total), b.map(|r| r.total)),
        }
    }
}

mod as_a_user_runs_it {
    use crate::common::{text, traces_command};
    use serde_json::{Value, json};
    use std::path::Path;

    fn span(id: u8, attrs: Value) -> Value {
        json!({
            "traceId": "0af7651916cd43dd8448eb211c80319c",
            "spanId": format!("{id:016x}"),
            "name": "chat gpt-4o",
            "kind": 3,
            "startTimeUnixNano": "1740787200000000000",
            "endTimeUnixNano": "1740787201000000000",
            "attributes": attrs,
        })
    }

    fn dump(dir: &Path, name: &str, spans: Vec<Value>) -> String {
        let doc = json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]});
        let p = dir.join(name);
        std::fs::write(&p, doc.to_string()).unwrap();
        p.display().to_string()
    }

    fn kv(k: &str, v: Value) -> Value {
        json!({"key": k, "value": v})
    }

    /// Imports `path` into a new store in `dir`: the store, and what the import said.
    fn import(dir: &Path, path: &str) -> (String, std::process::Output) {
        let store = dir.join("store").display().to_string();
        let imported = traces_command()
            .args(["--store", &store, "import", path])
            .output()
            .unwrap();
        assert!(imported.status.success(), "{}", text(&imported.stderr));
        (store, imported)
    }

    /// A gpt-4o call's attributes with these input and output token values.
    fn gpt_4o(input: Value, output: Value) -> Value {
        json!([
            kv("gen_ai.request.model", json!({"stringValue": "gpt-4o"})),
            kv("gen_ai.usage.input_tokens", input),
            kv("gen_ai.usage.output_tokens", output),
        ])
    }

    #[test]
    fn sums_past_i64_are_refused_not_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let huge = || {
            gpt_4o(
                json!({"intValue": "9223372036854775000"}),
                json!({"intValue": "5"}),
            )
        };
        let path = dump(
            dir.path(),
            "two.json",
            vec![span(1, huge()), span(2, huge())],
        );
        let (store, _) = import(dir.path(), &path);
        for args in [
            vec!["cost", path.as_str()],
            vec!["--store", &store, "cost"],
            vec!["--store", &store, "cost", "--by", "session"],
        ] {
            let out = traces_command().args(&args).output().unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                out.stdout.is_empty(),
                "{args:?}: nothing is printed as a figure"
            );
            assert!(
                err.contains("input_tokens") && err.contains("2^63"),
                "{err}"
            );
        }
        // One of them alone is a figure a report can show.
        let one = dump(dir.path(), "one.json", vec![span(1, huge())]);
        let out = traces_command()
            .args(["cost", &one, "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["total"]["input_tokens"], json!(9223372036854775000i64));
    }

    #[test]
    fn impossible_counts_are_missing_with_a_warning_naming_span_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let spans = vec![
            span(
                1,
                gpt_4o(json!({"intValue": "-40"}), json!({"doubleValue": 2.5})),
            ),
            span(
                2,
                gpt_4o(
                    json!({"intValue": "99999999999999999999"}),
                    json!({"intValue": "1000"}),
                ),
            ),
        ];
        let path = dump(dir.path(), "bad.json", spans);
        let (store, imported) = import(dir.path(), &path);
        let from_dump = traces_command()
            .args(["cost", &path, "--format", "json"])
            .output()
            .unwrap();
        for (what, out) in [("import", &imported), ("cost", &from_dump)] {
            let err = text(&out.stderr);
            assert!(
                err.contains("3 problem(s) with usage numbers"),
                "{what}: {err}"
            );
            assert!(
                err.contains("span 0000000000000001")
                    && err.contains("gen_ai.usage.input_tokens = -40")
                    && err.contains("gen_ai.usage.output_tokens = 2.5")
                    && err.contains("span 0000000000000002")
                    && err.contains("99999999999999999999"),
                "{what}: {err}"
            );
        }
        let from_store = traces_command()
            .args(["--store", &store, "cost", "--format", "json"])
            .output()
            .unwrap();
        for out in [&from_dump, &from_store] {
            assert!(out.status.success(), "{}", text(&out.stderr));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            // Span 1 has no usable number at all; span 2 only its output: 1,000 output
            // tokens of gpt-4o at $10/M, nothing of input, nothing negative.
            assert_eq!(v["total"]["calls"], json!(1));
            assert_eq!(v["total"]["input_tokens"], json!(0));
            assert_eq!(v["total"]["output_tokens"], json!(1000));
            assert_eq!(v["total"]["cost_usd"].to_string(), "0.01");
        }
    }

    #[test]
    fn negative_and_absurd_prices_name_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "neg.toml",
                "[[model]]\nid = \"m\"\nprovider = \"p\"\n\n[[model.price]]\ninput = \"1\"\noutput = \"-3\"\n",
                "line 7",
                "output",
            ),
            (
                "tier.toml",
                "[[model]]\nid = \"m\"\n\n[[model.price]]\ninput = \"1\"\n\n[[model.price.tier]]\nabove_input_tokens = 10\ncached_input = \"5000000\"\n",
                "line 9",
                "cached_input",
            ),
            (
                "litellm.json",
                "{\n  \"m\": {\n    \"input_cost_per_token\": 3e-6,\n    \"output_cost_per_token\": 15\n  }\n}\n",
                "line 2",
                "output",
            ),
        ];
        for (name, body, line, key) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            let out = traces_command()
                .args(["--pricing", &p.display().to_string(), "pricing", "list"])
                .output()
                .unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {err}");
            assert!(
                err.contains(name) && err.contains(line) && err.contains(key),
                "{name}: {err}"
            );
        }
    }
}
