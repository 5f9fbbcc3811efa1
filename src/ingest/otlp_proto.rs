//! OTLP protobuf: one `ExportTraceServiceRequest` or `ExportLogsServiceRequest` (an
//! OTLP/HTTP body), and the Collector file exporter's `proto` output: each message
//! preceded by its length as a 4-byte big-endian integer, and zstd-compressed on its
//! own when the exporter's (legacy) compression is on.

use super::ids::{SpanId, TraceId};
use super::otlp_wire::{nanos, span_id_of, trace_id_of};
use super::raw::{AnyValue, KeyValue, RawLog, Record, Resource, Scope};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pb;
use prost::Message;
use std::sync::Arc;

/// Decodes one message, traces or logs: the two share their first field number, so the
/// bytes are tried as traces first and as logs when they do not fit.
pub fn decode_message(bytes: &[u8], out: &mut dyn FnMut(Record)) -> Result<(), String> {
    let trace_err = match super::otlp_wire::decode_traces(bytes, super::otlp_json::skip_attribute())
    {
        Ok(records) => {
            records.into_iter().for_each(&mut *out);
            return Ok(());
        }
        Err(e) => e,
    };
    match ExportLogsServiceRequest::decode(bytes) {
        Ok(req) if !req.resource_logs.is_empty() => {
            let records = convert_logs(req)?;
            records.into_iter().for_each(out);
            Ok(())
        }
        _ => Err(format!("not an OTLP protobuf request: {trace_err}")),
    }
}

fn value(v: pb::AnyValue) -> AnyValue {
    use pb::any_value::Value as V;
    match v.value {
        None => AnyValue::Empty,
        Some(V::StringValue(s)) => AnyValue::String(s),
        Some(V::BoolValue(b)) => AnyValue::Bool(b),
        Some(V::IntValue(i)) => AnyValue::Int(i),
        Some(V::DoubleValue(d)) => AnyValue::Double(d),
        Some(V::BytesValue(b)) => AnyValue::Bytes(b),
        Some(V::ArrayValue(a)) => AnyValue::Array(a.values.into_iter().map(value).collect()),
        Some(V::KvlistValue(kv)) => AnyValue::KvList(attributes(kv.values)),
        // An index into a dictionary that OTLP profiles use; traces and logs never
        // carry one, and without the dictionary only the index can be kept.
        Some(V::StringValueStrindex(i)) => AnyValue::Int(i as i64),
    }
}

fn attributes(kvs: Vec<pb::KeyValue>) -> Vec<KeyValue> {
    kvs.into_iter()
        .map(|kv| KeyValue {
            key: kv.key,
            value: kv.value.map(value).unwrap_or_default(),
        })
        .collect()
}

fn scope(s: Option<pb::InstrumentationScope>) -> Arc<Scope> {
    Arc::new(s.map_or_else(Scope::default, |s| Scope {
        name: s.name,
        version: s.version,
        attributes: attributes(s.attributes),
    }))
}

fn resource(r: Option<opentelemetry_proto::tonic::resource::v1::Resource>) -> Arc<Resource> {
    Arc::new(Resource {
        attributes: r.map(|r| attributes(r.attributes)).unwrap_or_default(),
    })
}

fn trace_id<W: std::fmt::Display>(b: &[u8], what: impl Fn() -> W) -> Result<TraceId, String> {
    trace_id_of(b).map_err(|m| format!("{}: {m}", what()))
}

fn span_id<W: std::fmt::Display>(b: &[u8], what: impl Fn() -> W) -> Result<SpanId, String> {
    span_id_of(b).map_err(|m| format!("{}: {m}", what()))
}

fn convert_logs(req: ExportLogsServiceRequest) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for rl in req.resource_logs {
        let res = resource(rl.resource);
        for sl in rl.scope_logs {
            let sc = scope(sl.scope);
            for l in sl.log_records {
                let what = || "log record";
                let trace_id = match l.trace_id.len() {
                    0 => None,
                    _ => Some(trace_id(&l.trace_id, what)?).filter(|t| !t.is_zero()),
                };
                let span_id = match l.span_id.len() {
                    0 => None,
                    _ => Some(span_id(&l.span_id, what)?).filter(|s| !s.is_zero()),
                };
                out.push(Record::Log(RawLog {
                    trace_id,
                    span_id,
                    time_unix_nano: nanos(l.time_unix_nano),
                    observed_time_unix_nano: nanos(l.observed_time_unix_nano),
                    severity_number: l.severity_number,
                    severity_text: l.severity_text,
                    event_name: l.event_name,
                    body: l.body.map(value).unwrap_or_default(),
                    attributes: attributes(l.attributes),
                    flags: l.flags,
                    resource: res.clone(),
                    scope: sc.clone(),
                }));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::RawSpan;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::resource::v1 as pb_resource;
    use opentelemetry_proto::tonic::trace::v1 as pb_trace;

    /// The decode this file had before `otlp_wire`, on prost's own types (but for its
    /// skimmed attributes): the oracle the hand-rolled decode is held to.
    mod reference {
        use super::super::*;
        use crate::ingest::raw::{Event, Link, RawSpan, SpanKind, StatusCode};
        use opentelemetry_proto::tonic::resource::v1 as pb_resource;
        use opentelemetry_proto::tonic::trace::v1 as pb_trace;

        // A trace request as OTLP's `ExportTraceServiceRequest`, field for field (so that the
        // same bytes decode or fail alike), but for the spans' and events' attributes: their
        // values are skipped unread when the decode on this thread skips their keys (see
        // `otlp_json::skipping_attributes`), as the message histories a cost never reads.

        #[derive(Clone, PartialEq, prost::Message)]
        struct TraceRequest {
            #[prost(message, repeated, tag = "1")]
            resource_spans: Vec<ResourceSpans>,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        struct ResourceSpans {
            #[prost(message, optional, tag = "1")]
            resource: Option<pb_resource::Resource>,
            #[prost(message, repeated, tag = "2")]
            scope_spans: Vec<ScopeSpans>,
            #[prost(string, tag = "3")]
            schema_url: String,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        struct ScopeSpans {
            #[prost(message, optional, tag = "1")]
            scope: Option<pb::InstrumentationScope>,
            #[prost(message, repeated, tag = "2")]
            spans: Vec<Span>,
            #[prost(string, tag = "3")]
            schema_url: String,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        struct Span {
            #[prost(bytes = "vec", tag = "1")]
            trace_id: Vec<u8>,
            #[prost(bytes = "vec", tag = "2")]
            span_id: Vec<u8>,
            #[prost(string, tag = "3")]
            trace_state: String,
            #[prost(bytes = "vec", tag = "4")]
            parent_span_id: Vec<u8>,
            #[prost(fixed32, tag = "16")]
            flags: u32,
            #[prost(string, tag = "5")]
            name: String,
            #[prost(int32, tag = "6")]
            kind: i32,
            #[prost(fixed64, tag = "7")]
            start_time_unix_nano: u64,
            #[prost(fixed64, tag = "8")]
            end_time_unix_nano: u64,
            #[prost(message, repeated, tag = "9")]
            attributes: Vec<SkimmedKeyValue>,
            #[prost(uint32, tag = "10")]
            dropped_attributes_count: u32,
            #[prost(message, repeated, tag = "11")]
            events: Vec<SpanEvent>,
            #[prost(uint32, tag = "12")]
            dropped_events_count: u32,
            #[prost(message, repeated, tag = "13")]
            links: Vec<pb_trace::span::Link>,
            #[prost(uint32, tag = "14")]
            dropped_links_count: u32,
            #[prost(message, optional, tag = "15")]
            status: Option<pb_trace::Status>,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        struct SpanEvent {
            #[prost(fixed64, tag = "1")]
            time_unix_nano: u64,
            #[prost(string, tag = "2")]
            name: String,
            #[prost(message, repeated, tag = "3")]
            attributes: Vec<SkimmedKeyValue>,
            #[prost(uint32, tag = "4")]
            dropped_attributes_count: u32,
        }

        /// A `KeyValue` whose value is left unread when its key is skipped (the key comes
        /// first in every encoder; a value before its key is read whole).
        #[derive(Clone, PartialEq, Default, Debug)]
        struct SkimmedKeyValue {
            key: String,
            value: Option<pb::AnyValue>,
            skipped: bool,
        }

        impl prost::Message for SkimmedKeyValue {
            fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
                prost::encoding::string::encode(1, &self.key, buf);
                if let Some(v) = &self.value {
                    prost::encoding::message::encode(2, v, buf);
                }
            }

            fn merge_field(
                &mut self,
                tag: u32,
                wire_type: prost::encoding::WireType,
                buf: &mut impl prost::bytes::Buf,
                ctx: prost::encoding::DecodeContext,
            ) -> Result<(), prost::DecodeError> {
                match tag {
                    1 => prost::encoding::string::merge(wire_type, &mut self.key, buf, ctx),
                    2 if crate::ingest::otlp_json::skipped(&self.key) => {
                        self.skipped = true;
                        prost::encoding::skip_field(wire_type, tag, buf, ctx)
                    }
                    2 => prost::encoding::message::merge(
                        wire_type,
                        self.value.get_or_insert_with(Default::default),
                        buf,
                        ctx,
                    ),
                    // `key_strindex`, which only profiles set: checked as OTLP's type checks it.
                    3 => prost::encoding::int32::merge(wire_type, &mut 0, buf, ctx),
                    _ => prost::encoding::skip_field(wire_type, tag, buf, ctx),
                }
            }

            fn encoded_len(&self) -> usize {
                prost::encoding::string::encoded_len(1, &self.key)
                    + self
                        .value
                        .as_ref()
                        .map_or(0, |v| prost::encoding::message::encoded_len(2, v))
            }

            fn clear(&mut self) {
                *self = SkimmedKeyValue::default();
            }
        }

        fn skimmed_attributes(kvs: Vec<SkimmedKeyValue>) -> Vec<KeyValue> {
            kvs.into_iter()
                .filter(|kv| !kv.skipped)
                .map(|kv| KeyValue {
                    key: kv.key,
                    value: kv.value.map(value).unwrap_or_default(),
                })
                .collect()
        }

        fn convert_traces(req: TraceRequest) -> Result<Vec<Record>, String> {
            let mut out = Vec::new();
            for rs in req.resource_spans {
                let res = resource(rs.resource);
                for ss in rs.scope_spans {
                    let sc = scope(ss.scope);
                    for s in ss.spans {
                        // Only an error names the span: a text per span would cost more than it.
                        let name = s.name.as_str();
                        let what = || format!("span {name:?}");
                        let status = s.status.unwrap_or_default();
                        out.push(Record::Span(RawSpan {
                            trace_id: trace_id(&s.trace_id, what)?,
                            span_id: span_id(&s.span_id, what)?,
                            parent_span_id: match s.parent_span_id.len() {
                                0 => None,
                                _ => {
                                    Some(span_id(&s.parent_span_id, what)?).filter(|p| !p.is_zero())
                                }
                            },
                            trace_state: s.trace_state,
                            kind: SpanKind::from_otlp(s.kind as i64).ok_or_else(|| {
                                format!("{}: unknown span kind {}", what(), s.kind)
                            })?,
                            start_time_unix_nano: nanos(s.start_time_unix_nano),
                            end_time_unix_nano: nanos(s.end_time_unix_nano),
                            status_code: StatusCode::from_otlp(status.code as i64).ok_or_else(
                                || format!("{}: unknown status code {}", what(), status.code),
                            )?,
                            status_message: status.message,
                            flags: s.flags,
                            attributes: skimmed_attributes(s.attributes),
                            events: s
                                .events
                                .into_iter()
                                .map(|e| {
                                    Ok(Event {
                                        time_unix_nano: nanos(e.time_unix_nano),
                                        name: e.name,
                                        attributes: skimmed_attributes(e.attributes),
                                    })
                                })
                                .collect::<Result<_, String>>()?,
                            links: s
                                .links
                                .into_iter()
                                .map(|l| {
                                    Ok(Link {
                                        trace_id: trace_id(&l.trace_id, what)?,
                                        span_id: span_id(&l.span_id, what)?,
                                        trace_state: l.trace_state,
                                        attributes: attributes(l.attributes),
                                    })
                                })
                                .collect::<Result<_, String>>()?,
                            name: s.name,
                            resource: res.clone(),
                            scope: sc.clone(),
                        }));
                    }
                }
            }
            Ok(out)
        }

        pub fn decode(bytes: &[u8]) -> Result<Vec<Record>, String> {
            convert_traces(TraceRequest::decode(bytes).map_err(|e| e.to_string())?)
        }
    }

    fn kv(key: &str, v: pb::any_value::Value) -> pb::KeyValue {
        pb::KeyValue {
            key: key.into(),
            value: Some(pb::AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    fn text(key: &str, v: &str) -> pb::KeyValue {
        kv(key, pb::any_value::Value::StringValue(v.into()))
    }

    /// A request as an SDK sends it: a chat call with its messages, usage and an event
    /// that carries content too.
    fn request() -> ExportTraceServiceRequest {
        use pb::any_value::Value as V;
        let span = pb_trace::Span {
            trace_id: vec![7; 16],
            span_id: vec![1; 8],
            name: "chat gpt-4o".into(),
            kind: 3,
            start_time_unix_nano: 1_700_000_000_000_000_000,
            end_time_unix_nano: 1_700_000_001_000_000_000,
            attributes: vec![
                text("gen_ai.request.model", "gpt-4o"),
                text(
                    "gen_ai.input.messages",
                    &"[{\"role\":\"user\"}]".repeat(1000),
                ),
                kv("gen_ai.usage.input_tokens", V::IntValue(1200)),
                text("llm.input_messages.0.message.content", "hello"),
                kv("gen_ai.usage.output_tokens", V::IntValue(34)),
                text("session.id", "s-1"),
            ],
            events: vec![pb_trace::span::Event {
                time_unix_nano: 1_700_000_000_500_000_000,
                name: "gen_ai.content.prompt".into(),
                attributes: vec![text("gen_ai.prompt", "hello"), text("kept", "yes")],
                ..Default::default()
            }],
            status: Some(pb_trace::Status {
                message: String::new(),
                code: 1,
            }),
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![pb_trace::ResourceSpans {
                resource: Some(pb_resource::Resource {
                    attributes: vec![text("service.name", "agent")],
                    ..Default::default()
                }),
                scope_spans: vec![pb_trace::ScopeSpans {
                    scope: Some(pb::InstrumentationScope {
                        name: "openinference".into(),
                        ..Default::default()
                    }),
                    spans: vec![span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn spans(bytes: &[u8], skip: Option<super::super::otlp_json::SkipAttribute>) -> Vec<RawSpan> {
        let mut out = Vec::new();
        super::super::otlp_json::skipping_attributes(skip, || {
            decode_message(bytes, &mut |r| {
                if let Record::Span(s) = r {
                    out.push(s)
                }
            })
        })
        .unwrap();
        out
    }

    #[test]
    fn a_skimmed_decode_is_the_whole_one_less_the_skipped_attributes() {
        let bytes = request().encode_to_vec();
        let whole = spans(&bytes, None);
        let skimmed = spans(&bytes, Some(crate::semconv::content_only));
        assert_eq!(whole.len(), 1);
        // The whole decode keeps every attribute as sent.
        assert_eq!(whole[0].attributes.len(), 6);
        assert_eq!(whole[0].events[0].attributes.len(), 2);
        let mut want = whole[0].clone();
        want.attributes
            .retain(|a| !crate::semconv::content_only(&a.key));
        for e in &mut want.events {
            e.attributes
                .retain(|a| !crate::semconv::content_only(&a.key));
        }
        let keys = |s: &RawSpan| {
            s.attributes
                .iter()
                .map(|a| a.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(&want),
            [
                "gen_ai.request.model",
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.output_tokens",
                "session.id"
            ]
        );
        assert_eq!(skimmed, vec![want]);
    }

    #[test]
    fn a_value_before_its_key_is_read_whole() {
        // field 2 (the value) before field 1 (the key): legal, and nothing to skip by.
        let value = pb::AnyValue {
            value: Some(pb::any_value::Value::StringValue("hi".into())),
        };
        let mut kv_bytes = Vec::new();
        prost::encoding::message::encode(2, &value, &mut kv_bytes);
        prost::encoding::string::encode(1, &"gen_ai.prompt".to_string(), &mut kv_bytes);
        let mut span = Vec::new();
        prost::encoding::bytes::encode(1, &vec![7u8; 16], &mut span);
        prost::encoding::bytes::encode(2, &vec![1u8; 8], &mut span);
        prost::encoding::bytes::encode(9, &kv_bytes, &mut span);
        let mut scope = Vec::new();
        prost::encoding::bytes::encode(2, &span, &mut scope);
        let mut resource = Vec::new();
        prost::encoding::bytes::encode(2, &scope, &mut resource);
        let mut req = Vec::new();
        prost::encoding::bytes::encode(1, &resource, &mut req);
        let got = spans(&req, Some(crate::semconv::content_only));
        assert_eq!(got[0].attributes.len(), 1);
        assert_eq!(got[0].attributes[0].key, "gen_ai.prompt");
        assert_eq!(got[0].attributes[0].value, AnyValue::String("hi".into()));
    }

    #[test]
    fn bytes_that_are_no_trace_request_fail_as_they_did() {
        // A field of the right number and the wrong wire type, deep in a span: the
        // skimming types reject what OTLP's own types reject.
        let mut bytes = request().encode_to_vec();
        assert!(ExportTraceServiceRequest::decode(&bytes[..]).is_ok());
        assert!(reference::decode(&bytes).is_ok());
        let mut span = Vec::new();
        prost::encoding::bytes::encode(10, &vec![1u8, 2], &mut span); // dropped count as bytes
        let mut scope = Vec::new();
        prost::encoding::bytes::encode(2, &span, &mut scope);
        let mut resource = Vec::new();
        prost::encoding::bytes::encode(2, &scope, &mut resource);
        bytes.clear();
        prost::encoding::bytes::encode(1, &resource, &mut bytes);
        assert!(ExportTraceServiceRequest::decode(&bytes[..]).is_err());
        assert!(reference::decode(&bytes).is_err());
        assert!(super::super::otlp_wire::decode_traces(&bytes, None).is_err());
    }

    #[test]
    fn an_error_names_its_fields_and_offset() {
        use prost::encoding::{WireType, encode_key};
        let mut span = Vec::new();
        prost::encoding::bytes::encode(1, &vec![7u8; 16], &mut span);
        prost::encoding::bytes::encode(2, &vec![1u8; 8], &mut span);
        let bad = span.len();
        encode_key(5, WireType::Varint, &mut span); // the name, as a number
        span.push(3);
        let mut scope = Vec::new();
        prost::encoding::bytes::encode(2, &span, &mut scope);
        let mut resource = Vec::new();
        prost::encoding::bytes::encode(2, &scope, &mut resource);
        let mut req = Vec::new();
        prost::encoding::bytes::encode(1, &resource, &mut req);
        let err = decode_message(&req, &mut |_| {}).unwrap_err();
        // Two ids, each after a one-byte key and a one-byte length; and before the span,
        // three such keys and lengths.
        assert_eq!(bad, 2 + 16 + 2 + 8);
        let at = 2 + 2 + 2 + bad;
        assert!(
            err.contains("in resource_spans.scope_spans.spans: invalid wire type")
                && err.ends_with(&format!("(at byte {at} of the message)")),
            "{err}"
        );
    }

    // The hand-rolled decode against prost's, on the same bytes: both accept them with
    // the same spans, or both refuse them.

    use super::super::otlp_json::{SkipAttribute, skipping_attributes};
    use proptest::prelude::*;

    fn same_as_prost(bytes: &[u8]) -> Result<(), String> {
        let skips: [Option<SkipAttribute>; 2] = [None, Some(crate::semconv::content_only)];
        for skip in skips {
            let want = skipping_attributes(skip, || reference::decode(bytes));
            let got = super::super::otlp_wire::decode_traces(bytes, skip);
            match (&want, &got) {
                // Debug: a NaN double is equal to itself there.
                (Ok(w), Ok(g)) if format!("{w:?}") == format!("{g:?}") => {}
                (Err(_), Err(_)) => {}
                _ => {
                    return Err(format!(
                        "skipping: {}\nprost: {want:?}\nours: {got:?}\nbytes: {bytes:?}",
                        skip.is_some()
                    ));
                }
            }
        }
        Ok(())
    }

    const KEYS: [&str; 7] = [
        "gen_ai.prompt",
        "gen_ai.input.messages",
        "gen_ai.usage.input_tokens",
        "session.id",
        "llm.input_messages.0.message.content",
        "",
        "clé",
    ];

    fn any_value() -> impl Strategy<Value = pb::AnyValue> {
        use pb::any_value::Value as V;
        let leaf = prop_oneof![
            Just(None),
            "[a-z\u{e9}]{0,6}".prop_map(|s| Some(V::StringValue(s))),
            any::<bool>().prop_map(|b| Some(V::BoolValue(b))),
            any::<i64>().prop_map(|i| Some(V::IntValue(i))),
            any::<f64>().prop_map(|d| Some(V::DoubleValue(d))),
            prop::collection::vec(any::<u8>(), 0..4).prop_map(|b| Some(V::BytesValue(b))),
            any::<i32>().prop_map(|i| Some(V::StringValueStrindex(i))),
        ]
        .prop_map(|value| pb::AnyValue { value });
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(|values| pb::AnyValue {
                    value: Some(pb::any_value::Value::ArrayValue(pb::ArrayValue { values })),
                }),
                prop::collection::vec(key_value_of(inner), 0..3).prop_map(|values| {
                    pb::AnyValue {
                        value: Some(pb::any_value::Value::KvlistValue(pb::KeyValueList {
                            values,
                        })),
                    }
                }),
            ]
        })
    }

    fn key_value_of(
        value: impl Strategy<Value = pb::AnyValue>,
    ) -> impl Strategy<Value = pb::KeyValue> {
        (prop::sample::select(&KEYS[..]), prop::option::of(value)).prop_map(|(k, value)| {
            pb::KeyValue {
                key: k.to_string(),
                value,
                ..Default::default()
            }
        })
    }

    fn attrs() -> impl Strategy<Value = Vec<pb::KeyValue>> {
        prop::collection::vec(key_value_of(any_value()), 0..4)
    }

    /// Ids mostly of the right length, sometimes not.
    fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            9 => prop::collection::vec(any::<u8>(), len),
            1 => prop::collection::vec(any::<u8>(), 0..len + 2),
        ]
    }

    fn span() -> impl Strategy<Value = pb_trace::Span> {
        let event = (any::<u64>(), "[a-z]{0,4}", attrs()).prop_map(|(t, name, attributes)| {
            pb_trace::span::Event {
                time_unix_nano: t,
                name,
                attributes,
                ..Default::default()
            }
        });
        let link = (id(16), id(8), "[a-z]{0,3}", attrs()).prop_map(|(t, s, ts, attributes)| {
            pb_trace::span::Link {
                trace_id: t,
                span_id: s,
                trace_state: ts,
                attributes,
                ..Default::default()
            }
        });
        (
            (
                id(16),
                id(8),
                prop_oneof![Just(vec![]), id(8)],
                "[a-z ]{0,6}",
            ),
            (0..7i32, any::<u64>(), any::<u64>(), any::<u32>()),
            (
                attrs(),
                prop::collection::vec(event, 0..2),
                prop::collection::vec(link, 0..2),
            ),
            prop::option::of((0..4i32, "[a-z]{0,3}")),
        )
            .prop_map(
                |((t, s, p, name), (kind, start, end, flags), (a, e, l), status)| pb_trace::Span {
                    trace_id: t,
                    span_id: s,
                    parent_span_id: p,
                    name,
                    kind,
                    start_time_unix_nano: start,
                    end_time_unix_nano: end,
                    flags,
                    attributes: a,
                    events: e,
                    links: l,
                    status: status.map(|(code, message)| pb_trace::Status { code, message }),
                    ..Default::default()
                },
            )
    }

    fn trace_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
        let scope = prop::option::of(("[a-z]{0,4}", attrs())).prop_map(|s| {
            s.map(|(name, attributes)| pb::InstrumentationScope {
                name,
                version: "1".into(),
                attributes,
                ..Default::default()
            })
        });
        let scope_spans =
            (scope, prop::collection::vec(span(), 0..3)).prop_map(|(scope, spans)| {
                pb_trace::ScopeSpans {
                    scope,
                    spans,
                    ..Default::default()
                }
            });
        let resource_spans = (
            prop::option::of(attrs()),
            prop::collection::vec(scope_spans, 0..3),
        )
            .prop_map(|(r, scope_spans)| pb_trace::ResourceSpans {
                resource: r.map(|attributes| pb_resource::Resource {
                    attributes,
                    ..Default::default()
                }),
                scope_spans,
                ..Default::default()
            });
        prop::collection::vec(resource_spans, 0..3)
            .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
    }

    /// A message's fields in a shuffled order, nested messages too (a field of bytes that
    /// parses as fields is taken for one), and now and then an unknown field, a group
    /// among them: what another encoder may legally write, and what none would.
    fn shuffled(bytes: &[u8], seed: &mut u64, depth: u32) -> Vec<u8> {
        fn next(seed: &mut u64) -> u64 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        }
        let mut fields: Vec<Vec<u8>> = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let before = rest;
            let Ok((tag, wt)) = prost::encoding::decode_key(&mut rest) else {
                return bytes.to_vec();
            };
            let mut field = Vec::new();
            prost::encoding::encode_key(tag, wt, &mut field);
            match wt {
                prost::encoding::WireType::LengthDelimited => {
                    let Ok(n) = prost::encoding::decode_varint(&mut rest) else {
                        return bytes.to_vec();
                    };
                    if n as usize > rest.len() {
                        return bytes.to_vec();
                    }
                    let (inner, after) = rest.split_at(n as usize);
                    rest = after;
                    let inner = if depth > 0 {
                        shuffled(inner, seed, depth - 1)
                    } else {
                        inner.to_vec()
                    };
                    prost::encoding::encode_varint(inner.len() as u64, &mut field);
                    field.extend(inner);
                }
                _ => {
                    if prost::encoding::skip_field(wt, tag, &mut rest, Default::default()).is_err()
                    {
                        return bytes.to_vec();
                    }
                    let used = before.len() - rest.len();
                    field = before[..used].to_vec();
                }
            }
            fields.push(field);
        }
        for i in (1..fields.len()).rev() {
            fields.swap(i, (next(seed) % (i as u64 + 1)) as usize);
        }
        if next(seed).is_multiple_of(4) {
            let mut unknown = Vec::new();
            let tag = 17 + (next(seed) % 8) as u32;
            match next(seed) % 4 {
                0 => prost::encoding::uint64::encode(tag, &next(seed), &mut unknown),
                1 => prost::encoding::fixed32::encode(tag, &7, &mut unknown),
                2 => prost::encoding::bytes::encode(tag, &vec![1u8, 2, 3], &mut unknown),
                _ => {
                    use prost::encoding::{WireType, encode_key};
                    encode_key(tag, WireType::StartGroup, &mut unknown);
                    prost::encoding::uint32::encode(1, &5, &mut unknown);
                    encode_key(tag, WireType::EndGroup, &mut unknown);
                }
            }
            let at = (next(seed) % (fields.len() as u64 + 1)) as usize;
            fields.insert(at, unknown);
        }
        fields.concat()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn decodes_as_prost_does(req in trace_request()) {
            let bytes = req.encode_to_vec();
            prop_assert!(same_as_prost(&bytes).is_ok(), "{}", same_as_prost(&bytes).unwrap_err());
        }

        #[test]
        fn decodes_as_prost_does_whatever_the_field_order(req in trace_request(), seed in 1u64..) {
            let mut seed = seed;
            let bytes = shuffled(&req.encode_to_vec(), &mut seed, 12);
            prop_assert!(same_as_prost(&bytes).is_ok(), "{}", same_as_prost(&bytes).unwrap_err());
        }

        #[test]
        fn refuses_what_prost_refuses(
            req in trace_request(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..4),
        ) {
            let mut bytes = req.encode_to_vec();
            for (at, b, op) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = b,
                    1 => bytes.truncate(i),
                    2 => bytes.insert(i, b),
                    _ => drop(bytes.remove(i)),
                }
            }
            prop_assert!(same_as_prost(&bytes).is_ok(), "{}", same_as_prost(&bytes).unwrap_err());
        }
    }

    /// Values nested about as deep as prost's recursion limit lets them, in a span's
    /// attributes, a resource's, and an unknown group's: refused past the same depth.
    #[test]
    fn nesting_stops_where_prost_stops_it() {
        let mut saw = (false, false);
        for depth in 30..60 {
            let mut v = pb::AnyValue {
                value: Some(pb::any_value::Value::IntValue(1)),
            };
            for _ in 0..depth {
                v = pb::AnyValue {
                    value: Some(pb::any_value::Value::ArrayValue(pb::ArrayValue {
                        values: vec![v],
                    })),
                };
            }
            let mut req = request();
            req.resource_spans[0].scope_spans[0].spans[0]
                .attributes
                .push(kv("deep", v.value.clone().unwrap()));
            let bytes = req.encode_to_vec();
            same_as_prost(&bytes).unwrap();
            let ok = reference::decode(&bytes).is_ok();
            saw = (saw.0 || ok, saw.1 || !ok);
            let mut req = request();
            req.resource_spans[0]
                .resource
                .as_mut()
                .unwrap()
                .attributes
                .push(kv("deep", v.value.unwrap()));
            same_as_prost(&req.encode_to_vec()).unwrap();
        }
        assert_eq!(
            saw,
            (true, true),
            "the depths tried reach the limit from below"
        );
        for depth in [40, 90, 97, 98, 99, 100, 101] {
            use prost::encoding::{WireType, encode_key};
            let mut group = Vec::new();
            for _ in 0..depth {
                encode_key(20, WireType::StartGroup, &mut group);
            }
            for _ in 0..depth {
                encode_key(20, WireType::EndGroup, &mut group);
            }
            let mut bytes = request().encode_to_vec();
            bytes.extend(&group);
            same_as_prost(&bytes).unwrap();
        }
    }
}
