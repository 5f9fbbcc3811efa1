//! Which format an input is in, from its first (decompressed) bytes.

use super::decompress::ZSTD_MAGIC;
use std::io::{self, Read};

pub const PREFIX_LEN: usize = 64 * 1024;
/// The longest first line read to decide between JSON lines and one document; a first
/// line longer than this is read as a stream.
pub const FIRST_LINE_MAX: u64 = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Auto,
    /// JSON values one after another: one OTLP document, pretty-printed console spans,
    /// or an array of records.
    Json,
    /// One JSON record per line.
    Jsonl,
    /// One OTLP protobuf request.
    Proto,
    /// Length-prefixed OTLP protobuf requests (the Collector file exporter).
    ProtoFramed,
    /// A Phoenix spans dataframe saved as Parquet.
    Parquet,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => Format::Auto,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "proto" => Format::Proto,
            "proto-framed" => Format::ProtoFramed,
            "parquet" => Format::Parquet,
            _ => return Err(format!("unknown format {s:?}")),
        })
    }
}

/// Reads up to `n` bytes (fewer only at end of input) without losing them: the caller
/// chains them back in front of the reader.
pub fn peek(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Whether the input starts (after whitespace) with a JSON object.
pub fn starts_json_object(prefix: &[u8]) -> bool {
    skip_ws(prefix).first() == Some(&b'{')
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

impl Format {
    /// `complete`: the prefix holds the whole first line (or the whole input).
    pub fn detect(prefix: &[u8], complete: bool) -> Option<Format> {
        if prefix.starts_with(b"PAR1") {
            return Some(Format::Parquet);
        }
        let text = skip_ws(prefix);
        match text.first() {
            None => return Some(Format::Jsonl),
            Some(b'[') => return Some(Format::Json),
            Some(b'{') => {
                // A first line that is a whole JSON value means one record per line; a
                // pretty-printed or single huge document is read as a stream of values.
                let line_end = memchr::memchr(b'\n', text).unwrap_or(text.len());
                let complete_line = (line_end < text.len() || complete)
                    && serde_json::from_slice::<serde::de::IgnoredAny>(&text[..line_end]).is_ok();
                return Some(if complete_line {
                    Format::Jsonl
                } else {
                    Format::Json
                });
            }
            _ => {}
        }
        if prefix.first() == Some(&0x0a) {
            return Some(Format::Proto);
        }
        if prefix.len() >= 5 {
            let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
            let body = &prefix[4..];
            if len > 0 && (body[0] == 0x0a || body[0] == b'{' || body.starts_with(&ZSTD_MAGIC)) {
                return Some(Format::ProtoFramed);
            }
        }
        None
    }

    /// A label for the import summary, naming the producer's shape where the first
    /// bytes show it.
    pub fn describe(self, prefix: &[u8]) -> String {
        let has = |needle: &str| memchr::memmem::find(prefix, needle.as_bytes()).is_some();
        let shape = if has("\"raw_otel_json\"") {
            "CloudWatch"
        } else if has("\"project_id\"") && has("\"data\"") {
            "SideSeat export"
        } else if has("\"resourceSpans\"") || has("\"resource_spans\"") {
            "OTLP traces"
        } else if has("\"resourceLogs\"") || has("\"resource_logs\"") {
            "OTLP logs"
        } else if has("\"batch\"") && has("\"body\"") {
            "Langfuse ingestion batches"
        } else if has("\"observations\"")
            || has("\"traceId\"") && has("\"startTime\"") && has("\"parentObservationId\"")
        {
            "Langfuse traces and observations"
        } else if has("\"spanContext\"") || has("\"_spanContext\"") {
            "OTel JS spans"
        } else if has("\"spans\"") && has("\"trace_id\"") {
            "any-agent trace"
        } else if has("\"resourceMetrics\"") || has("\"resource_metrics\"") {
            "OTLP metrics"
        } else if has("\"context.trace_id\"") || has("\"span_kind\"") {
            "Phoenix spans"
        } else if has("\"SpanKind.") {
            "console spans"
        } else {
            "records"
        };
        match self {
            Format::Auto | Format::Jsonl => format!("{shape}, JSON lines"),
            Format::Json => format!("{shape}, JSON"),
            Format::Proto => "OTLP protobuf".to_string(),
            Format::ProtoFramed => "OTLP protobuf, length-prefixed".to_string(),
            Format::Parquet => "Phoenix spans, Parquet".to_string(),
        }
    }
}

pub fn unrecognized(prefix: &[u8]) -> String {
    let head: Vec<String> = prefix.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "unrecognized format (first bytes: {}): expected OTLP JSON or protobuf, JSON lines, \
         a Phoenix Parquet file, optionally gzip or zstd compressed",
        head.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        assert_eq!(
            Format::detect(b"{\"resourceSpans\":[]}\n{\"a\":1}\n", true),
            Some(Format::Jsonl)
        );
        assert_eq!(
            Format::detect(b"{\"resourceSpans\":[]}", true),
            Some(Format::Jsonl)
        );
        assert_eq!(
            Format::detect(b"{\n  \"resourceSpans\": [\n", true),
            Some(Format::Json)
        );
        // A first line cut off by the bound: one large document, read as a stream.
        assert_eq!(
            Format::detect(b"{\"resourceSpans\": [", false),
            Some(Format::Json)
        );
        assert_eq!(Format::detect(b"  [ {}", true), Some(Format::Json));
        assert_eq!(Format::detect(b"\x0a\x10\x0a", true), Some(Format::Proto));
        assert_eq!(
            Format::detect(b"\x00\x00\x00\x10\x0a\x01", true),
            Some(Format::ProtoFramed)
        );
        assert_eq!(Format::detect(b"PAR1....", true), Some(Format::Parquet));
        assert_eq!(Format::detect(b"\x89PNG\r\n", true), None);
    }
}
