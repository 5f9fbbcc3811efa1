//! Reads protobuf inputs: one whole request, or the Collector's length-prefixed stream.

use super::decompress::{ZSTD_MAGIC, zstd_bytes};
use super::error::{IngestError, Invalid, Location};
use super::json_lines::decode_line;
use super::otlp_proto::decode_message;
use super::raw::Decoded;
use std::io::{BufRead, Read};

pub fn decode_single(
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    sink: &mut dyn FnMut(Decoded),
) -> Result<Vec<Invalid>, IngestError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)
        .map_err(|e| IngestError::invalid(file, Location::File, format!("cannot read: {e}")))?;
    decode_message(&bytes, &mut |r| sink(Decoded::Record(r)))
        .map_err(|m| IngestError::invalid(file, Location::Byte(0), m))?;
    Ok(Vec::new())
}

/// Frames read at a time: decoded on every core while the next are read.
const BLOCK: usize = 8 << 20;

/// Decodes a length-prefixed stream: frames are independent, so a block of them is
/// decoded in parallel (each passed through `prepare` on its core) while the next block
/// is read, and `sink` gets the results in input order. The two blocks' buffers are
/// reused, as the JSON lines' are: a buffer per frame cost its pages' faults each time.
pub fn decode_framed<T: Send>(
    r: Box<dyn BufRead + '_>,
    file: &str,
    opts: (bool, Option<super::otlp_json::SkipAttribute>),
    prepare: &(dyn Fn(Decoded) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<Vec<Invalid>, IngestError> {
    decode_framed_in_blocks(BLOCK, r, file, opts, prepare, sink)
}

fn decode_framed_in_blocks<T: Send>(
    block_size: usize,
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    (skip_invalid, skip_attribute): (bool, Option<super::otlp_json::SkipAttribute>),
    prepare: &(dyn Fn(Decoded) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<Vec<Invalid>, IngestError> {
    use rayon::prelude::*;
    let mut skipped = Vec::new();
    let mut offset = 0u64;
    let (mut block, mut next_block) = (Frames::default(), Frames::default());
    read_frames(&mut r, (file, block_size), &mut offset, &mut block)?;
    let mut decoded: Vec<Result<Vec<T>, Invalid>> = Vec::new();
    let spare = super::spare::Spare::default();
    while !block.frames.is_empty() || !decoded.is_empty() {
        let (this_block, read) = std::thread::scope(|scope| {
            let decoding = scope.spawn(|| {
                block
                    .frames
                    .par_iter()
                    .map(|(at, range)| {
                        let mut out = spare.take();
                        super::otlp_json::skipping_attributes(skip_attribute, || {
                            let msg = &block.bytes[range.clone()];
                            decode_frame(msg, file, *at, &mut |d| out.push(prepare(d)))
                        })
                        .map(|()| out)
                    })
                    .collect::<Vec<_>>()
            });
            let handed = super::json_lines::hand_on(
                std::mem::take(&mut decoded),
                &spare,
                skip_invalid,
                &mut skipped,
                sink,
            );
            let read = handed.and_then(|()| {
                if block.frames.is_empty() {
                    next_block.clear();
                    Ok(())
                } else {
                    read_frames(&mut r, (file, block_size), &mut offset, &mut next_block)
                }
            });
            (decoding.join(), read)
        });
        read?;
        decoded = this_block.map_err(|_| {
            IngestError::invalid(
                file,
                Location::File,
                "a decoding thread stopped".to_string(),
            )
        })?;
        std::mem::swap(&mut block, &mut next_block);
    }
    Ok(skipped)
}

/// A block of frames: their bytes one after the other, and each one's byte offset in
/// the input and place in `bytes`.
#[derive(Default)]
struct Frames {
    bytes: Vec<u8>,
    frames: Vec<(u64, std::ops::Range<usize>)>,
}

impl Frames {
    fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
    }
}

/// The next frames, about `block_size` bytes of them, into `into`.
fn read_frames(
    r: &mut Box<dyn BufRead + '_>,
    (file, block_size): (&str, usize),
    offset: &mut u64,
    into: &mut Frames,
) -> Result<(), IngestError> {
    into.clear();
    // Prefixes count: a block of empty frames is still a block.
    let mut read = 0usize;
    while read < block_size {
        let at = *offset;
        let fail = |m: String| IngestError::invalid(file, Location::Byte(at), m);
        let mut len = [0u8; 4];
        match read_full(r, &mut len) {
            Ok(0) => break,
            Ok(4) => {}
            Ok(n) => return Err(fail(format!("truncated length prefix ({n} of 4 bytes)"))),
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        }
        let len = u32::from_be_bytes(len) as usize;
        // Grown as the bytes arrive, not to what the prefix claims: a corrupt prefix
        // costs no memory it does not fill.
        let start = into.bytes.len();
        let got = r
            .by_ref()
            .take(len as u64)
            .read_to_end(&mut into.bytes)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if got < len {
            // A cut-off last message cannot be recovered, even when skipping.
            return Err(fail(format!("truncated message: {got} of {len} bytes")));
        }
        *offset += 4 + len as u64;
        read += 4 + len;
        into.frames.push((at, start..start + len));
    }
    Ok(())
}

pub(super) fn decode_frame(
    msg: &[u8],
    file: &str,
    at: u64,
    sink: &mut dyn FnMut(Decoded),
) -> Result<(), Invalid> {
    let invalid = |m: String| Invalid {
        file: file.to_string(),
        location: Location::Byte(at),
        message: m,
    };
    let plain;
    let body = if msg.starts_with(&ZSTD_MAGIC) {
        plain = zstd_bytes(msg).map_err(|e| invalid(format!("bad zstd message: {e}")))?;
        &plain[..]
    } else {
        msg
    };
    if body.first() == Some(&b'{') {
        // The Collector frames JSON too when its legacy compression is on.
        let records = decode_line(body, 1, file).map_err(|i| invalid(i.message))?;
        records.into_iter().for_each(sink);
        return Ok(());
    }
    decode_message(body, &mut |r| sink(Decoded::Record(r))).map_err(invalid)
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::Record;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    /// Frame `i` holds `i % 3` spans (none: an empty request), span ids counting up.
    fn stream(frames: usize) -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut ids, mut next) = (Vec::new(), Vec::new(), 1u64);
        for i in 0..frames {
            let spans = (0..i % 3)
                .map(|_| {
                    ids.push(next);
                    next += 1;
                    Span {
                        trace_id: vec![7; 16],
                        span_id: (next - 1).to_be_bytes().to_vec(),
                        name: "chat".into(),
                        ..Default::default()
                    }
                })
                .collect();
            let msg = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec();
            out.extend((msg.len() as u32).to_be_bytes());
            out.extend(msg);
        }
        (out, ids)
    }

    #[test]
    fn frames_come_out_in_order_whatever_the_blocks() {
        let (bytes, want) = stream(200);
        // A block of one frame, of a few, of all: each buffer is refilled in turn.
        for block in [1, 64, 300, 1 << 20] {
            let mut got = Vec::new();
            let skipped = decode_framed_in_blocks(
                block,
                Box::new(&bytes[..]),
                "t",
                (false, None),
                &|d| d,
                &mut |d| {
                    if let Decoded::Record(Record::Span(s)) = d {
                        got.push(u64::from_be_bytes(s.span_id.0));
                    }
                },
            )
            .unwrap();
            assert!(skipped.is_empty());
            assert_eq!(got, want, "blocks of {block} bytes");
        }
    }

    #[test]
    fn a_frame_cut_short_names_its_offset() {
        let (bytes, _) = stream(20);
        let cut = &bytes[..bytes.len() - 3];
        let err =
            decode_framed_in_blocks(64, Box::new(cut), "t", (false, None), &|d| d, &mut |_| {})
                .unwrap_err()
                .to_string();
        let last = {
            // The offset of the last frame: every frame before it, prefix and all.
            let mut at = 0usize;
            let mut last = 0;
            while at + 4 <= cut.len() {
                last = at;
                at += 4 + u32::from_be_bytes(cut[at..at + 4].try_into().unwrap()) as usize;
            }
            last
        };
        assert!(err.contains(&format!("byte {last}")), "{err}");
        assert!(err.contains("truncated message"), "{err}");
    }
}
