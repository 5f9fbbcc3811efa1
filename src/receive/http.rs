//! OTLP/HTTP (`/v1/traces`, `/v1/logs`, and the same under Langfuse's and SideSeat's
//! prefixes) and Langfuse ingestion (`/api/public/ingestion`), answered as the OTLP
//! specification and Langfuse's API do. gRPC requests are routed to `grpc.rs` here too,
//! so that one port serves every protocol.

use super::{Receiver, Refusal};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use std::sync::Arc;

type App = Arc<Receiver>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Signal {
    Traces,
    Logs,
    Metrics,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Proto,
    Json,
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

pub fn router(app: App) -> Router {
    let traces = || any(|s: State<App>, r: Request| otlp(s, r, Signal::Traces));
    let logs = || any(|s: State<App>, r: Request| otlp(s, r, Signal::Logs));
    Router::new()
        .route("/v1/traces", traces())
        .route("/v1/logs", logs())
        .route(
            "/v1/metrics",
            any(|s: State<App>, r: Request| otlp(s, r, Signal::Metrics)),
        )
        .route("/api/public/otel/v1/traces", traces())
        .route("/api/public/otel/v1/logs", logs())
        .route("/otel/{project}/v1/traces", traces())
        .route("/otel/{project}/v1/logs", logs())
        .route("/api/public/ingestion", any(langfuse))
        .merge(super::grpc::router(app.clone()))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not an OTLP or Langfuse path\n") })
        .with_state(app)
}

async fn otlp(State(app): State<App>, req: Request, signal: Signal) -> Response {
    let _in_flight = app.begin();
    let encoding = match media_type(req.headers()).as_deref() {
        Some("application/json") => Encoding::Json,
        _ => Encoding::Proto,
    };
    match receive_otlp(&app, req, signal).await {
        Ok(()) => ok_answer(signal, encoding),
        Err(r) => error_answer(app.refused(r), encoding),
    }
}

async fn receive_otlp(app: &App, req: Request, signal: Signal) -> Result<(), Refusal> {
    app.check_token(bearer(req.headers()).as_deref())?;
    let body = read_body(app, req, &["application/x-protobuf", "application/json"]).await?;
    if signal == Signal::Metrics {
        // Traces keeps traces and logs: a metrics export is answered, not kept.
        app.tally
            .metrics_skipped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(());
    }
    let (body, encoding) = body;
    app.decode_slot(move |app| {
        let body = app.inflate(body, encoding.as_deref())?;
        let what = match signal {
            Signal::Logs => "received logs",
            _ => "received traces",
        };
        app.accept_otlp(&body, what)
    })
    .await?
}

/// Checks method, token, content type and length, and reads the body up to the limit.
/// Returns it with its content encoding.
async fn read_body(
    app: &App,
    req: Request,
    types: &[&str],
) -> Result<(Vec<u8>, Option<String>), Refusal> {
    if req.method() != Method::POST {
        return Err(Refusal::Unsupported(format!(
            "method {} not allowed: POST",
            req.method()
        )));
    }
    let ty = media_type(req.headers());
    if !ty.as_deref().is_some_and(|t| types.contains(&t)) {
        return Err(Refusal::Unsupported(format!(
            "content type {} is not supported: send {}",
            ty.as_deref().unwrap_or("(none)"),
            types.join(" or ")
        )));
    }
    let max = app.limits.max_body;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || Refusal::TooLarge(format!("the body is over the limit of {max} bytes"));
    let drain_cap = max.saturating_mul(4).max(DRAIN_MIN);
    if declared.is_some_and(|n| n > drain_cap) {
        return Err(too_large());
    }
    let encoding = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = req.into_body();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(max) as usize);
    let mut seen = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Refusal::Invalid(format!("cannot read the body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len() as u64);
        if seen <= max {
            bytes.extend_from_slice(&data);
        } else if seen > drain_cap {
            break;
        }
    }
    if seen > max {
        return Err(too_large());
    }
    Ok((bytes, encoding))
}

/// A body over the limit is still read (and dropped) up to four times the limit, or
/// this, so that its client hears 413 instead of a connection reset.
const DRAIN_MIN: u64 = 64 << 20;

async fn langfuse(State(app): State<App>, req: Request) -> Response {
    let _in_flight = app.begin();
    // Langfuse's SDKs send Basic auth with their keys: with a token, the secret key
    // must be it.
    if let Some(t) = &app.limits.token
        && basic_password(req.headers()).as_deref() != Some(t.as_str())
        && bearer(req.headers()).as_deref() != Some(t.as_str())
    {
        return error_answer(app.refused(Refusal::Unauthorized), Encoding::Json);
    }
    let result = async {
        let (body, encoding) = read_body(&app, req, &["application/json"]).await?;
        app.decode_slot(move |app| {
            let body = app.inflate(body, encoding.as_deref())?;
            app.accept_langfuse(&body)
        })
        .await?
    }
    .await;
    match result {
        Ok(results) => {
            let (ok, bad): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.status < 300);
            let doc = serde_json::json!({
                "successes": ok.iter().map(|r| serde_json::json!({"id": r.id, "status": r.status})).collect::<Vec<_>>(),
                "errors": bad.iter().map(|r| serde_json::json!({"id": r.id, "status": r.status, "message": r.message, "error": r.message})).collect::<Vec<_>>(),
            });
            (
                StatusCode::MULTI_STATUS,
                [(header::CONTENT_TYPE, "application/json")],
                doc.to_string(),
            )
                .into_response()
        }
        Err(r) => error_answer(app.refused(r), Encoding::Json),
    }
}

fn ok_answer(signal: Signal, encoding: Encoding) -> Response {
    // Every span received is kept: no partial success to report. Metrics are answered
    // with one, so that an exporter pointed here by mistake says so.
    let (proto, json) = match signal {
        Signal::Traces | Signal::Logs => (
            ExportTraceServiceResponse::default().encode_to_vec(),
            "{}".to_string(),
        ),
        Signal::Metrics => {
            // A metrics answer's partial success has the logs answer's two fields.
            let msg = "traces keeps traces and logs: metrics are not stored";
            (
                ExportLogsServiceResponse {
                    partial_success: Some(ExportLogsPartialSuccess {
                        rejected_log_records: 0,
                        error_message: msg.into(),
                    }),
                }
                .encode_to_vec(),
                serde_json::json!({"partialSuccess": {"errorMessage": msg}}).to_string(),
            )
        }
    };
    match encoding {
        Encoding::Proto => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            proto,
        )
            .into_response(),
        Encoding::Json => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json,
        )
            .into_response(),
    }
}

fn error_answer(r: Refusal, encoding: Encoding) -> Response {
    let (status, code) = match &r {
        Refusal::Invalid(_) => (StatusCode::BAD_REQUEST, 3),
        Refusal::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 8),
        Refusal::Unsupported(m) if m.starts_with("method") => {
            let mut resp = (StatusCode::METHOD_NOT_ALLOWED, m.clone()).into_response();
            resp.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return resp;
        }
        Refusal::Unsupported(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 12),
        Refusal::Unauthorized => (StatusCode::UNAUTHORIZED, 16),
        Refusal::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, 14),
    };
    let message = r.message();
    let (ty, body) = match encoding {
        Encoding::Proto => (
            "application/x-protobuf",
            RpcStatus { code, message }.encode_to_vec(),
        ),
        Encoding::Json => (
            "application/json",
            serde_json::json!({"code": code, "message": message})
                .to_string()
                .into_bytes(),
        ),
    };
    let mut resp = (status, [(header::CONTENT_TYPE, ty)], Body::from(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    resp
}

/// The media type without parameters (`application/json; charset=utf-8` is JSON).
fn media_type(h: &HeaderMap) -> Option<String> {
    let v = h.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next()?.trim().to_ascii_lowercase())
}

fn bearer(h: &HeaderMap) -> Option<String> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
}

fn basic_password(h: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.1.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_drop_their_parameters_and_case() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "Application/JSON; charset=utf-8".parse().unwrap(),
        );
        assert_eq!(media_type(&h).as_deref(), Some("application/json"));
    }

    #[test]
    fn basic_auth_gives_the_secret_key() {
        let mut h = HeaderMap::new();
        // base64("pk-lf-1:sk-lf-2")
        h.insert(
            header::AUTHORIZATION,
            "Basic cGstbGYtMTpzay1sZi0y".parse().unwrap(),
        );
        assert_eq!(basic_password(&h).as_deref(), Some("sk-lf-2"));
        assert_eq!(bearer(&h), None);
    }
}
