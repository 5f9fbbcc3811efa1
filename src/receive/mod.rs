//! The receiver behind `traces record`: OTLP/HTTP, OTLP/gRPC, Langfuse ingestion and
//! SideSeat's path on one port. A body is checked with the import's own decoders,
//! written to the spool and fsynced before it is answered; commits import the spool.

pub mod dump;
pub mod env;
pub mod grpc;
pub mod http;
pub mod spool;

use crate::ingest::{Decoded, Record, decode_body};
use spool::{MAX_FRAME, Spool, SpoolError};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a receiver accepts and from whom.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest body, as sent and once inflated.
    pub max_body: u64,
    /// Required as `Authorization: Bearer T` (or as a Langfuse secret key) when set.
    pub token: Option<String>,
}

/// Counts for the summary: what was received, refused and skipped.
#[derive(Debug, Default)]
pub struct Tally {
    pub requests: AtomicU64,
    pub spans: AtomicU64,
    pub logs: AtomicU64,
    pub langfuse_events: AtomicU64,
    pub refused: AtomicU64,
    pub metrics_skipped: AtomicU64,
}

/// Why a request was not taken, and so what it is answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 400, or gRPC INVALID_ARGUMENT.
    Invalid(String),
    /// 413, or RESOURCE_EXHAUSTED.
    TooLarge(String),
    /// 415 (content type or encoding), or UNIMPLEMENTED.
    Unsupported(String),
    /// 401, or UNAUTHENTICATED.
    Unauthorized,
    /// 503, or UNAVAILABLE: the spool could not be written; the exporter retries.
    Unavailable(String),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Invalid(m)
            | Refusal::TooLarge(m)
            | Refusal::Unsupported(m)
            | Refusal::Unavailable(m) => m.clone(),
            Refusal::Unauthorized => "missing or wrong bearer token".into(),
        }
    }
}

/// One Langfuse event's outcome, as Langfuse's 207 answer lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventResult {
    pub id: String,
    pub status: u16,
    pub message: Option<String>,
}

pub struct Receiver {
    spool: Spool,
    pub limits: Limits,
    pub tally: Tally,
    in_flight: AtomicU64,
    last_done: Mutex<Instant>,
    /// Bodies being inflated and decoded at once: each may take `max_body` twice, so
    /// memory stays bounded whatever the number of clients.
    permits: tokio::sync::Semaphore,
}

/// Marks a request in flight for as long as it lives.
pub struct InFlight<'a>(&'a Receiver);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *self.0.last_done.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Receiver {
    pub fn new(spool: Spool, limits: Limits) -> Receiver {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Receiver {
            spool,
            limits: Limits {
                max_body: limits.max_body.min(MAX_FRAME),
                ..limits
            },
            tally: Tally::default(),
            in_flight: AtomicU64::new(0),
            last_done: Mutex::new(Instant::now()),
            permits: tokio::sync::Semaphore::new(workers),
        }
    }

    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    pub fn begin(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Whether no request is in flight and none ended within `quiet`.
    pub fn idle_for(&self, quiet: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
            && self
                .last_done
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed()
                >= quiet
    }

    /// Runs `f` on a blocking thread once a decoding permit is free.
    pub async fn decode_slot<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        f: impl FnOnce(&Receiver) -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Refusal::Unavailable("the receiver is shutting down".into()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me))
            .await
            .map_err(|e| Refusal::Unavailable(format!("the request's worker failed: {e}")))
    }

    pub fn check_token(&self, bearer: Option<&str>) -> Result<(), Refusal> {
        match &self.limits.token {
            Some(t) if bearer != Some(t.as_str()) => Err(Refusal::Unauthorized),
            _ => Ok(()),
        }
    }

    /// Inflates a body as its `Content-Encoding` says, never past `max_body`.
    pub fn inflate(&self, body: Vec<u8>, encoding: Option<&str>) -> Result<Vec<u8>, Refusal> {
        let max = self.limits.max_body;
        let enc = encoding.map(|e| e.trim().to_ascii_lowercase());
        let reader: Box<dyn Read + '_> = match enc.as_deref() {
            None | Some("") | Some("identity") => return Ok(body),
            Some("gzip") | Some("x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(&body[..])),
            Some("zstd") => Box::new(
                zstd::stream::read::Decoder::new(&body[..])
                    .map_err(|e| Refusal::Invalid(format!("bad zstd body: {e}")))?,
            ),
            Some(other) => {
                return Err(Refusal::Unsupported(format!(
                    "content encoding {other:?} is not supported: send gzip, zstd or none"
                )));
            }
        };
        let mut out = Vec::new();
        reader
            .take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| Refusal::Invalid(format!("cannot inflate the body: {e}")))?;
        if out.len() as u64 > max {
            return Err(Refusal::TooLarge(format!(
                "the body inflates past the limit of {max} bytes"
            )));
        }
        Ok(out)
    }

    /// Checks one OTLP request body (protobuf, or JSON starting with `{`) and makes it
    /// durable: answered only once it is in the spool.
    pub fn accept_otlp(&self, body: &[u8], what: &str) -> Result<(), Refusal> {
        let body = trim_json_start(body);
        let decoded = decode_body(body, what).map_err(|e| Refusal::Invalid(e.to_string()))?;
        let (mut spans, mut logs, mut other) = (0u64, 0u64, 0u64);
        for d in &decoded {
            match d {
                Decoded::Record(Record::Span(_)) => spans += 1,
                Decoded::Record(Record::Log(_)) => logs += 1,
                Decoded::Langfuse(_) => other += 1,
                Decoded::Unread(_) => {
                    self.tally.metrics_skipped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if spans + logs + other > 0 {
            self.spool.append(body).map_err(unavailable)?;
        }
        self.tally.spans.fetch_add(spans, Ordering::Relaxed);
        self.tally.logs.fetch_add(logs, Ordering::Relaxed);
        self.tally
            .langfuse_events
            .fetch_add(other, Ordering::Relaxed);
        Ok(())
    }

    /// A Langfuse ingestion batch: each event checked alone, the good ones spooled as
    /// one batch, and every event's outcome returned for the 207 answer.
    pub fn accept_langfuse(&self, body: &[u8]) -> Result<Vec<EventResult>, Refusal> {
        let doc: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| Refusal::Invalid(format!("not JSON: {e}")))?;
        let Some(events) = doc.get("batch").and_then(|b| b.as_array()) else {
            return Err(Refusal::Invalid(
                "expected an object with a \"batch\" array of ingestion events".into(),
            ));
        };
        let mut results = Vec::with_capacity(events.len());
        let mut good = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let id = event
                .get("id")
                .and_then(|v| v.as_str())
                .map_or_else(|| format!("#{i}"), str::to_string);
            let one = serde_json::to_vec(event).unwrap_or_default();
            match decode_body(&one, "ingestion event") {
                Ok(d) if d.iter().any(|d| matches!(d, Decoded::Langfuse(_))) => {
                    good.push(event);
                    results.push(EventResult {
                        id,
                        status: 201,
                        message: None,
                    });
                }
                Ok(_) => results.push(EventResult {
                    id,
                    status: 400,
                    message: Some("not a Langfuse ingestion event".into()),
                }),
                Err(e) => results.push(EventResult {
                    id,
                    status: 400,
                    message: Some(e.message),
                }),
            }
        }
        if !good.is_empty() {
            let batch = serde_json::to_vec(&serde_json::json!({ "batch": good }))
                .map_err(|e| Refusal::Invalid(e.to_string()))?;
            self.spool.append(&batch).map_err(unavailable)?;
        }
        let refused = results.iter().filter(|r| r.status != 201).count() as u64;
        self.tally
            .langfuse_events
            .fetch_add(good.len() as u64, Ordering::Relaxed);
        self.tally.refused.fetch_add(refused, Ordering::Relaxed);
        Ok(results)
    }

    /// Counts a refused request.
    pub fn refused(&self, r: Refusal) -> Refusal {
        self.tally.refused.fetch_add(1, Ordering::Relaxed);
        r
    }
}

fn unavailable(e: SpoolError) -> Refusal {
    Refusal::Unavailable(format!("cannot write the spool: {e}"))
}

/// A JSON body frames as JSON only when `{` is its first byte.
fn trim_json_start(body: &[u8]) -> &[u8] {
    let b = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    if b.get(start) == Some(&b'{') {
        &b[start..]
    } else {
        body
    }
}
