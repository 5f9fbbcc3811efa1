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

pub fn decode_framed(
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    skip_invalid: bool,
    sink: &mut dyn FnMut(Decoded),
) -> Result<Vec<Invalid>, IngestError> {
    let mut offset = 0u64;
    let mut skipped = Vec::new();
    let mut msg = Vec::new();
    loop {
        let at = offset;
        let fail = |m: String| IngestError::invalid(file, Location::Byte(at), m);
        let mut len = [0u8; 4];
        match read_full(&mut r, &mut len) {
            Ok(0) => return Ok(skipped),
            Ok(4) => {}
            Ok(n) => return Err(fail(format!("truncated length prefix ({n} of 4 bytes)"))),
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        }
        let len = u32::from_be_bytes(len) as usize;
        msg.clear();
        let got = (&mut r)
            .take(len as u64)
            .read_to_end(&mut msg)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if got < len {
            // A cut-off last message cannot be recovered, even when skipping.
            return Err(fail(format!("truncated message: {got} of {len} bytes")));
        }
        offset += 4 + len as u64;
        let result = decode_frame(&msg, file, at, sink);
        match result {
            Ok(()) => {}
            Err(inv) if skip_invalid => skipped.push(inv),
            Err(inv) => return Err(IngestError::Invalid(inv)),
        }
    }
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
