//! One JSON record per line, decoded in parallel blocks: lines are independent, so every
//! core can parse while the order of records is kept.

use super::error::{IngestError, Invalid, Location};
use super::raw::Record;
use super::record::RecordSeed;
use rayon::prelude::*;
use serde::de::DeserializeSeed;
use std::io::{BufRead, Read};

const BLOCK: u64 = 8 << 20;

pub fn decode(
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    skip_invalid: bool,
    skip_attribute: Option<super::otlp_json::SkipAttribute>,
    sink: &mut dyn FnMut(Record),
) -> Result<Vec<Invalid>, IngestError> {
    let mut skipped = Vec::new();
    let mut first_line = 1u64;
    let mut buf = Vec::with_capacity(BLOCK as usize + 4096);
    loop {
        buf.clear();
        let read_err = |e: std::io::Error, line| {
            IngestError::invalid(
                file,
                Location::Line { line, column: 0 },
                format!("cannot read: {e}"),
            )
        };
        r.by_ref()
            .take(BLOCK)
            .read_to_end(&mut buf)
            .map_err(|e| read_err(e, first_line))?;
        if buf.is_empty() {
            break;
        }
        if buf.last() != Some(&b'\n') {
            r.read_until(b'\n', &mut buf)
                .map_err(|e| read_err(e, first_line))?;
        }
        let mut lines: Vec<(u64, &[u8])> = Vec::new();
        let mut start = 0;
        let mut line_no = first_line;
        for end in memchr::memchr_iter(b'\n', &buf).chain(std::iter::once(buf.len())) {
            if start > buf.len() {
                break;
            }
            let line = &buf[start..end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                lines.push((line_no, line));
            }
            line_no += 1;
            start = end + 1;
        }
        first_line = line_no - 1;
        let decoded: Vec<Result<Vec<Record>, Invalid>> = lines
            .par_iter()
            .map(|&(no, line)| {
                super::otlp_json::skipping_attributes(skip_attribute, || {
                    decode_line(line, no, file)
                })
            })
            .collect();
        for d in decoded {
            match d {
                Ok(records) => records.into_iter().for_each(&mut *sink),
                Err(inv) if skip_invalid => skipped.push(inv),
                Err(inv) => return Err(IngestError::Invalid(inv)),
            }
        }
    }
    Ok(skipped)
}

/// Decodes one line into its records, or says where in the line it went wrong.
pub fn decode_line(line: &[u8], line_no: u64, file: &str) -> Result<Vec<Record>, Invalid> {
    let mut out = Vec::new();
    let mut push = |r: Record| out.push(r);
    let mut sink: &mut dyn FnMut(Record) = &mut push;
    let mut de = serde_json::Deserializer::from_slice(line);
    let result = RecordSeed { sink: &mut sink }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match result {
        Ok(()) => Ok(out),
        Err(e) => Err(Invalid {
            file: file.to_string(),
            location: Location::Line {
                line: line_no,
                column: e.column() as u64,
            },
            message: json_message(&e),
        }),
    }
}

/// serde_json appends " at line L column C" to its messages; the location is reported
/// on its own, so it is cut here.
pub fn json_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
