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
/// is read, and `sink` gets the results in input order.
pub fn decode_framed<T: Send>(
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    (skip_invalid, skip_attribute): (bool, Option<super::otlp_json::SkipAttribute>),
    prepare: &(dyn Fn(Decoded) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<Vec<Invalid>, IngestError> {
    use rayon::prelude::*;
    let mut skipped = Vec::new();
    let mut offset = 0u64;
    let mut block = read_frames(&mut r, file, &mut offset)?;
    let mut decoded: Vec<Result<Vec<T>, Invalid>> = Vec::new();
    while !block.is_empty() || !decoded.is_empty() {
        let (this_block, next) = std::thread::scope(|scope| {
            let decoding = scope.spawn(|| {
                block
                    .par_iter()
                    .map(|(at, msg)| {
                        let mut out = Vec::new();
                        super::otlp_json::skipping_attributes(skip_attribute, || {
                            decode_frame(msg, file, *at, &mut |d| out.push(prepare(d)))
                        })
                        .map(|()| out)
                    })
                    .collect::<Vec<_>>()
            });
            let handed = super::json_lines::hand_on(
                std::mem::take(&mut decoded),
                skip_invalid,
                &mut skipped,
                sink,
            );
            let next = handed.and_then(|()| {
                if block.is_empty() {
                    Ok(Vec::new())
                } else {
                    read_frames(&mut r, file, &mut offset)
                }
            });
            (decoding.join(), next)
        });
        decoded = this_block.map_err(|_| {
            IngestError::invalid(
                file,
                Location::File,
                "a decoding thread stopped".to_string(),
            )
        })?;
        block = next?;
    }
    Ok(skipped)
}

/// The next frames, about `BLOCK` bytes of them, each with its byte offset.
fn read_frames(
    r: &mut Box<dyn BufRead + '_>,
    file: &str,
    offset: &mut u64,
) -> Result<Vec<(u64, Vec<u8>)>, IngestError> {
    let mut frames = Vec::new();
    let mut bytes = 0usize;
    while bytes < BLOCK {
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
        let mut msg = Vec::new();
        let got = r
            .by_ref()
            .take(len as u64)
            .read_to_end(&mut msg)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if got < len {
            // A cut-off last message cannot be recovered, even when skipping.
            return Err(fail(format!("truncated message: {got} of {len} bytes")));
        }
        *offset += 4 + len as u64;
        bytes += len + 4;
        frames.push((at, msg));
    }
    Ok(frames)
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
