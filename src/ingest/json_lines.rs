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
/// sonic-rs scans the line with SIMD; should it fail, serde_json decodes the line again:
/// it has the last word on what is valid, and its errors give the exact column.
pub fn decode_line(line: &[u8], line_no: u64, file: &str) -> Result<Vec<Record>, Invalid> {
    if let Ok(records) = fast_decode(line) {
        return Ok(records);
    }
    exact_decode(line).map_err(|e| Invalid {
        file: file.to_string(),
        location: Location::Line {
            line: line_no,
            column: e.column() as u64,
        },
        message: json_message(&e),
    })
}

fn fast_decode(line: &[u8]) -> Result<Vec<Record>, sonic_rs::Error> {
    records(&mut sonic_rs::Deserializer::from_slice(line), |d| d.end())
}

fn exact_decode(line: &[u8]) -> Result<Vec<Record>, serde_json::Error> {
    records(&mut serde_json::Deserializer::from_slice(line), |d| d.end())
}

/// The records of one JSON value, which must be all `de` holds (`end` checks).
fn records<'de, D, E>(de: &mut D, end: fn(&mut D) -> Result<(), E>) -> Result<Vec<Record>, E>
where
    for<'a> &'a mut D: serde::Deserializer<'de, Error = E>,
{
    let mut out = Vec::new();
    let mut push = |r: Record| out.push(r);
    let mut sink: &mut dyn FnMut(Record) = &mut push;
    RecordSeed { sink: &mut sink }.deserialize(&mut *de)?;
    end(de)?;
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                lines_of(&path, out);
            } else {
                let name = path.display().to_string();
                let mut bytes = std::fs::read(&path).unwrap();
                if name.ends_with(".gz") {
                    let mut plain = Vec::new();
                    let mut gz = flate2::read::MultiGzDecoder::new(bytes.as_slice());
                    if std::io::Read::read_to_end(&mut gz, &mut plain).is_err() {
                        continue;
                    }
                    bytes = plain;
                }
                if name.ends_with(".json") {
                    // A whole document is one record (an OTLP request, an export).
                    out.push((name, bytes));
                } else if name.contains(".jsonl") {
                    for line in bytes.split(|b| *b == b'\n') {
                        if !line.iter().all(u8::is_ascii_whitespace) {
                            out.push((name.clone(), line.to_vec()));
                        }
                    }
                }
            }
        }
    }

    /// Both parsers read every line of every dump shipped in testdata to the same
    /// records, and reject the same lines.
    #[test]
    fn the_fast_parser_reads_what_the_exact_one_reads() {
        let mut lines = Vec::new();
        lines_of(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"),
            &mut lines,
        );
        let (mut agreed, mut records) = (0, 0);
        for (file, line) in &lines {
            match (fast_decode(line), exact_decode(line)) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{file}");
                    agreed += 1;
                    records += a.len();
                }
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{file}: sonic-rs {:?}, serde_json {:?}", a.err(), b.err()),
            }
        }
        assert!(
            agreed > 50 && records > 300,
            "{agreed} lines, {records} records"
        );
    }
}
