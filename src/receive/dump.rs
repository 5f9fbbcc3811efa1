//! `record --output`: the spool written out as OTLP JSON lines, one request per line as
//! the Collector's file exporter writes them, so that `traces import` and other tools
//! read the file. Langfuse ingestion batches are not OTLP: they go to a file of their
//! own beside it, as JSON lines of batches, which `traces import` reads too.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Where the Langfuse batches of a dump at `out` go.
pub fn langfuse_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".langfuse.jsonl");
    out.with_file_name(name)
}

/// Appends every frame of `files` to `otlp` (OTLP requests) or `langfuse` (ingestion
/// batches), one line each. Returns the lines written to each.
pub fn write_lines(
    files: &[PathBuf],
    otlp: &mut dyn Write,
    langfuse: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<(u64, u64)> {
    let (mut n_otlp, mut n_langfuse) = (0, 0);
    for f in files {
        let mut r = BufReader::new(std::fs::File::open(f)?);
        let mut len = [0u8; 4];
        let mut frame = Vec::new();
        loop {
            match r.read_exact(&mut len) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
            frame.clear();
            (&mut r)
                .take(u64::from(u32::from_be_bytes(len)))
                .read_to_end(&mut frame)?;
            if frame.first() == Some(&b'{') {
                let line = minified(&frame);
                if is_langfuse_batch(&line) {
                    langfuse(&line)?;
                    n_langfuse += 1;
                    continue;
                }
                otlp.write_all(&line)?;
            } else if let Ok(req) = ExportTraceServiceRequest::decode(&frame[..]) {
                serde_json::to_writer(&mut *otlp, &req)?;
            } else {
                let req = ExportLogsServiceRequest::decode(&frame[..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                serde_json::to_writer(&mut *otlp, &req)?;
            }
            otlp.write_all(b"\n")?;
            n_otlp += 1;
        }
    }
    Ok((n_otlp, n_langfuse))
}

fn is_langfuse_batch(json: &[u8]) -> bool {
    serde_json::from_slice::<std::collections::HashMap<String, serde::de::IgnoredAny>>(json)
        .is_ok_and(|m| m.contains_key("batch"))
}

/// JSON without the whitespace between its tokens (strings untouched): one line, with
/// every number kept as written.
fn minified(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !b.is_ascii_whitespace() {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minifying_keeps_strings_and_numbers_as_written() {
        let pretty = b"{\n  \"a b\": \"x \\\" y\\n\",\n  \"n\": 12345678901234567890123\n}";
        assert_eq!(
            minified(pretty),
            b"{\"a b\":\"x \\\" y\\n\",\"n\":12345678901234567890123}".to_vec()
        );
    }
}
