//! Every input format, decoded by the library, against the ground truth that the
//! generator computed from the protobuf the OpenTelemetry Python SDK sent.

use serde_json::Value;
use std::collections::BTreeMap;
use traces::ingest::raw::{AnyValue, RawLog, RawSpan, Record, SpanKind, StatusCode, attr};
use traces::ingest::{DecodeOptions, Input, decode_all};

use crate::common::testdata;

fn decode(rel: &str) -> (Vec<RawSpan>, Vec<RawLog>, String) {
    let (records, summary) = decode_all(&Input::File(testdata(rel)), &DecodeOptions::default())
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut spans = Vec::new();
    let mut logs = Vec::new();
    for r in records {
        match r {
            Record::Span(s) => spans.push(s),
            Record::Log(l) => logs.push(l),
        }
    }
    spans.sort_by_key(|s| (s.trace_id, s.span_id));
    (spans, logs, summary.format)
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(testdata("expected/otel.json")).unwrap()).unwrap()
}

/// How closely a format keeps times: the console exporter prints microseconds from a
/// float, Phoenix keeps microseconds.
fn check_against_truth(rel: &str, time_tolerance_ns: i64, otel_kind: bool, full_attributes: bool) {
    let truth = expected();
    let want = truth["spans"].as_array().unwrap();
    let (spans, _, _) = decode(rel);
    assert_eq!(spans.len(), want.len(), "{rel}: span count");
    for (s, w) in spans.iter().zip(want) {
        let ctx = format!("{rel}: span {}", w["name"]);
        assert_eq!(
            s.trace_id.to_string(),
            w["trace_id"].as_str().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            s.span_id.to_string(),
            w["span_id"].as_str().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            s.parent_span_id.map(|p| p.to_string()),
            w["parent_span_id"].as_str().map(String::from),
            "{ctx}"
        );
        assert_eq!(s.name, w["name"].as_str().unwrap(), "{ctx}");
        let start = w["start_time_unix_nano"].as_i64().unwrap();
        let end = w["end_time_unix_nano"].as_i64().unwrap();
        assert!(
            (s.start_time_unix_nano - start).abs() <= time_tolerance_ns,
            "{ctx}: start {} vs {start}",
            s.start_time_unix_nano
        );
        assert!(
            (s.end_time_unix_nano - end).abs() <= time_tolerance_ns,
            "{ctx}: end"
        );
        let status = StatusCode::from_otlp(w["status_code"].as_i64().unwrap()).unwrap();
        assert_eq!(s.status_code, status, "{ctx}");
        assert_eq!(
            s.status_message,
            w["status_message"].as_str().unwrap(),
            "{ctx}"
        );
        if otel_kind {
            assert_eq!(
                s.kind,
                SpanKind::from_otlp(w["kind"].as_i64().unwrap()).unwrap(),
                "{ctx}"
            );
            assert_eq!(
                s.resource.service_name(),
                w["service_name"].as_str(),
                "{ctx}"
            );
            assert_eq!(
                s.events.len() as u64,
                w["event_count"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(
                s.links.len() as u64,
                w["link_count"].as_u64().unwrap(),
                "{ctx}"
            );
        }
        if full_attributes {
            assert_eq!(
                s.attributes.len() as u64,
                w["attribute_count"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(s.scope.name, w["scope_name"].as_str().unwrap(), "{ctx}");
        }
    }
}

#[test]
fn otlp_protobuf_matches_truth() {
    check_against_truth("otel/spans.otlp.pb", 0, true, true);
    check_against_truth("otel/spans.otlp.pb.gz", 0, true, true);
}

#[test]
fn otlp_json_variants_match_truth() {
    for f in [
        "otel/spans.otlp.json",
        "otel/spans.otlp.json.zst",
        "otel/spans.protojson.json",
        "otel/spans.snake.json",
    ] {
        check_against_truth(f, 0, true, true);
    }
}

#[test]
fn collector_file_exporter_outputs_match_truth() {
    for f in [
        "otel/collector.jsonl",
        "otel/collector.jsonl.gz",
        "otel/collector.jsonl.zst",
        "otel/collector-traces-only.jsonl",
        "otel/collector.binpb",
    ] {
        check_against_truth(f, 0, true, true);
    }
}

#[test]
fn console_exporter_output_matches_truth() {
    // Python prints `datetime.fromtimestamp(ns / 1e9)`: microseconds, off by one at most.
    check_against_truth("otel/console.json", 2_000, true, false);
    check_against_truth("otel/console.jsonl", 2_000, true, false);
}

#[test]
fn phoenix_exports_match_truth() {
    check_against_truth("otel/phoenix-spans.jsonl", 1_000_000, false, false);
    check_against_truth("otel/phoenix-spans.parquet", 1_000, false, false);
    let (spans, _, _) = decode("otel/phoenix-spans.parquet");
    let llm = spans.iter().find(|s| s.name.starts_with("chat")).unwrap();
    // Phoenix's nested attributes come back as the flat OpenInference keys.
    assert_eq!(
        attr(&llm.attributes, "gen_ai.request.model"),
        Some(&AnyValue::String("gpt-4o-mini".into()))
    );
    assert_eq!(
        attr(&llm.attributes, "openinference.span.kind"),
        Some(&AnyValue::String("LLM".into()))
    );
}

/// The strongest form of "the same spans": every field, every attribute value.
#[test]
fn hex_base64_snake_and_protobuf_decode_identically() {
    let (pb, _, _) = decode("otel/spans.otlp.pb");
    for f in [
        "otel/spans.otlp.json",
        "otel/spans.protojson.json",
        "otel/spans.snake.json",
        "otel/collector.jsonl",
        "otel/collector.binpb",
    ] {
        let (other, _, _) = decode(f);
        assert_eq!(other, pb, "{f} differs from the protobuf body");
    }
}

#[test]
fn every_attribute_kind_survives() {
    let (spans, _, _) = decode("otel/spans.otlp.json");
    let all: Vec<&AnyValue> = spans
        .iter()
        .flat_map(|s| s.attributes.iter().map(|kv| &kv.value))
        .collect();
    assert!(
        all.iter()
            .any(|v| matches!(v, AnyValue::Int(9_007_199_254_740_993))),
        "int64 beyond 2^53 kept exactly"
    );
    assert!(
        all.iter()
            .any(|v| matches!(v, AnyValue::Double(d) if *d == 1.0)),
        "1.0 stays a double"
    );
    assert!(all.iter().any(|v| matches!(v, AnyValue::Bool(_))));
    assert!(all.iter().any(|v| matches!(v, AnyValue::Array(_))));
    assert!(all.iter().any(|v| matches!(v, AnyValue::KvList(_))));
    assert!(all.iter().any(|v| matches!(v, AnyValue::Empty)));
    let scope_bytes = spans
        .iter()
        .flat_map(|s| s.scope.attributes.iter())
        .any(|kv| matches!(kv.value, AnyValue::Bytes(_)));
    assert!(scope_bytes, "bytes values (scope attributes) kept");
}

#[test]
fn log_records_in_every_encoding() {
    let truth = expected();
    let want = truth["logs"].as_array().unwrap();
    let (_, pb_logs, _) = decode("otel/logs.otlp.pb");
    assert_eq!(pb_logs.len(), want.len());
    for (l, w) in pb_logs.iter().zip(want) {
        assert_eq!(
            l.trace_id.map(|t| t.to_string()),
            w["trace_id"].as_str().map(String::from)
        );
        assert_eq!(
            l.span_id.map(|s| s.to_string()),
            w["span_id"].as_str().map(String::from)
        );
        assert_eq!(l.effective_event_name(), w["event_name"].as_str());
    }
    let choice = pb_logs
        .iter()
        .find(|l| l.effective_event_name() == Some("gen_ai.choice"))
        .unwrap();
    assert!(
        matches!(&choice.body, AnyValue::KvList(kv) if kv.iter().any(|k| k.key == "finish_reason"))
    );
    for f in ["otel/logs.otlp.json", "otel/logs.otlp.json.gz"] {
        assert_eq!(decode(f).1, pb_logs, "{f}");
    }
    // The Collector writes each signal to its own file; a mixed file works too.
    assert_eq!(decode("otel/collector.jsonl").1, pb_logs);
    assert_eq!(decode("otel/collector.binpb").1, pb_logs);
}

#[test]
fn formats_are_detected_and_named() {
    let cases = [
        ("otel/spans.otlp.pb", "OTLP protobuf"),
        ("otel/spans.otlp.pb.gz", "OTLP protobuf (gzip)"),
        ("otel/collector.binpb", "OTLP protobuf, length-prefixed"),
        ("otel/collector.jsonl.zst", "OTLP traces, JSON lines (zstd)"),
        ("otel/spans.otlp.json", "OTLP traces, JSON"),
        ("otel/console.json", "console spans, JSON"),
        ("otel/phoenix-spans.parquet", "Phoenix spans, Parquet"),
        (
            "cloudwatch/raw_otel_langchain_spans.json",
            "CloudWatch, JSON",
        ),
        (
            "sideseat/traces-crewai-head.jsonl.gz",
            "SideSeat export, JSON lines (gzip)",
        ),
    ];
    for (f, want) in cases {
        assert_eq!(decode(f).2, want, "{f}");
    }
}

#[test]
fn vendor_exports_decode() {
    let (spans, logs, _) = decode("cloudwatch/raw_otel_langchain_spans.json");
    assert_eq!((spans.len(), logs.len()), (12, 0));
    assert!(
        spans
            .iter()
            .all(|s| s.end_time_unix_nano > s.start_time_unix_nano)
    );
    let (spans, logs, _) = decode("cloudwatch/raw_otel_langchain_runtime_logs.json");
    assert_eq!((spans.len(), logs.len()), (0, 16));
    assert_eq!(logs.iter().filter(|l| l.span_id.is_some()).count(), 14);
    let (spans, _, _) = decode("sideseat/traces-vercel-head.jsonl.gz");
    assert!(spans.iter().any(|s| s.name == "ai.generateText"));
    assert!(
        spans.iter().any(|s| s.status_code == StatusCode::Error),
        "failed Bedrock calls are recorded as errors"
    );
    let per_trace: BTreeMap<_, usize> = spans.iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s.trace_id).or_default() += 1;
        m
    });
    assert!(per_trace.len() > 1);
}
