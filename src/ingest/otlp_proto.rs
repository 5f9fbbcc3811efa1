//! OTLP protobuf: one `ExportTraceServiceRequest` or `ExportLogsServiceRequest` (an
//! OTLP/HTTP body), and the Collector file exporter's `proto` output: each message
//! preceded by its length as a 4-byte big-endian integer, and zstd-compressed on its
//! own when the exporter's (legacy) compression is on.

use super::ids::{SpanId, TraceId};
use super::raw::{
    AnyValue, Event, KeyValue, Link, RawLog, RawSpan, Record, Resource, Scope, SpanKind, StatusCode,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pb;
use prost::Message;
use std::sync::Arc;

/// Decodes one message, traces or logs: the two share their first field number, so the
/// bytes are tried as traces first and as logs when they do not fit.
pub fn decode_message(bytes: &[u8], out: &mut dyn FnMut(Record)) -> Result<(), String> {
    let trace_err = match ExportTraceServiceRequest::decode(bytes) {
        Ok(req) => match convert_traces(req) {
            Ok(records) => {
                records.into_iter().for_each(&mut *out);
                return Ok(());
            }
            Err(e) => e,
        },
        Err(e) => e.to_string(),
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

fn trace_id(b: &[u8], what: &str) -> Result<TraceId, String> {
    TraceId::from_bytes(b)
        .ok_or_else(|| format!("{what}: trace id has {} bytes, expected 16", b.len()))
}

fn span_id(b: &[u8], what: &str) -> Result<SpanId, String> {
    SpanId::from_bytes(b)
        .ok_or_else(|| format!("{what}: span id has {} bytes, expected 8", b.len()))
}

/// A fixed64 time past what i64 holds (year 2262) is held to the limit; import warns.
fn nanos(v: u64) -> i64 {
    super::timestamp::saturate(i128::from(v))
}

fn convert_traces(req: ExportTraceServiceRequest) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for rs in req.resource_spans {
        let res = resource(rs.resource);
        for ss in rs.scope_spans {
            let sc = scope(ss.scope);
            for s in ss.spans {
                let what = format!("span {:?}", s.name);
                let status = s.status.unwrap_or_default();
                out.push(Record::Span(RawSpan {
                    trace_id: trace_id(&s.trace_id, &what)?,
                    span_id: span_id(&s.span_id, &what)?,
                    parent_span_id: match s.parent_span_id.len() {
                        0 => None,
                        _ => Some(span_id(&s.parent_span_id, &what)?).filter(|p| !p.is_zero()),
                    },
                    trace_state: s.trace_state,
                    kind: SpanKind::from_otlp(s.kind as i64)
                        .ok_or_else(|| format!("{what}: unknown span kind {}", s.kind))?,
                    start_time_unix_nano: nanos(s.start_time_unix_nano),
                    end_time_unix_nano: nanos(s.end_time_unix_nano),
                    status_code: StatusCode::from_otlp(status.code as i64)
                        .ok_or_else(|| format!("{what}: unknown status code {}", status.code))?,
                    status_message: status.message,
                    flags: s.flags,
                    attributes: attributes(s.attributes),
                    events: s
                        .events
                        .into_iter()
                        .map(|e| {
                            Ok(Event {
                                time_unix_nano: nanos(e.time_unix_nano),
                                name: e.name,
                                attributes: attributes(e.attributes),
                            })
                        })
                        .collect::<Result<_, String>>()?,
                    links: s
                        .links
                        .into_iter()
                        .map(|l| {
                            Ok(Link {
                                trace_id: trace_id(&l.trace_id, &what)?,
                                span_id: span_id(&l.span_id, &what)?,
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

fn convert_logs(req: ExportLogsServiceRequest) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for rl in req.resource_logs {
        let res = resource(rl.resource);
        for sl in rl.scope_logs {
            let sc = scope(sl.scope);
            for l in sl.log_records {
                let what = "log record";
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
