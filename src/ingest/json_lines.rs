//! One JSON record per line, decoded in parallel blocks: lines are independent, so every
//! core can parse while the order of records is kept.

use super::error::{IngestError, Invalid, Location};
use super::raw::Decoded;
use super::record::RecordSeed;
use super::spare::Spare;
use rayon::prelude::*;
use serde::de::DeserializeSeed;
use std::io::{BufRead, Read};

const BLOCK: u64 = 8 << 20;

/// Decodes every line, passes each record through `prepare` on the same core, and hands
/// the results to `sink` in input order.
pub fn decode<T: Send>(
    r: Box<dyn BufRead + '_>,
    file: &str,
    skip_invalid: bool,
    skip_attribute: Option<super::otlp_json::SkipAttribute>,
    prepare: &(dyn Fn(Decoded) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<Vec<Invalid>, IngestError> {
    let opts = (skip_invalid, skip_attribute);
    decode_in_blocks(BLOCK, r, file, opts, prepare, sink)
}

fn decode_in_blocks<T: Send>(
    block_size: u64,
    mut r: Box<dyn BufRead + '_>,
    file: &str,
    (skip_invalid, skip_attribute): (bool, Option<super::otlp_json::SkipAttribute>),
    prepare: &(dyn Fn(Decoded) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<Vec<Invalid>, IngestError> {
    let mut skipped = Vec::new();
    let mut next_line = 1u64;
    let (mut block, mut next_block) = (Vec::new(), Vec::new());
    read_block(&mut r, &mut block, block_size, file, next_line)?;
    let mut decoded: Vec<Result<Vec<T>, Invalid>> = Vec::new();
    let spare = Spare::default();
    // Three stages overlap: while the cores decode one block, this thread hands on the
    // results of the block before and reads the block after.
    while !block.is_empty() || !decoded.is_empty() {
        let lines = split_lines(&block, &mut next_line);
        let reading_from = next_line;
        let (this_block, read) = std::thread::scope(|scope| {
            let decoding = scope.spawn(|| {
                lines
                    .par_iter()
                    .map(|&(no, line)| {
                        super::otlp_json::skipping_attributes(skip_attribute, || {
                            decode_line(line, no, file)
                        })
                        .map(|records| {
                            let mut out = spare.take();
                            out.extend(records.into_iter().map(prepare));
                            out
                        })
                    })
                    .collect::<Vec<_>>()
            });
            let handed = hand_on(
                std::mem::take(&mut decoded),
                &spare,
                skip_invalid,
                &mut skipped,
                sink,
            );
            let read = handed.and_then(|()| {
                if block.is_empty() {
                    next_block.clear();
                    Ok(())
                } else {
                    read_block(&mut r, &mut next_block, block_size, file, reading_from)
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

/// Reads about `size` bytes and then to the end of that line.
fn read_block(
    r: &mut Box<dyn BufRead + '_>,
    buf: &mut Vec<u8>,
    size: u64,
    file: &str,
    line: u64,
) -> Result<(), IngestError> {
    buf.clear();
    let read_err = |e: std::io::Error| {
        IngestError::invalid(
            file,
            Location::Line { line, column: 0 },
            format!("cannot read: {e}"),
        )
    };
    r.by_ref().take(size).read_to_end(buf).map_err(read_err)?;
    if !buf.is_empty() && buf.last() != Some(&b'\n') {
        r.read_until(b'\n', buf).map_err(read_err)?;
    }
    Ok(())
}

/// The non-blank lines of a block with their numbers, counting on from `next_line`.
fn split_lines<'a>(buf: &'a [u8], next_line: &mut u64) -> Vec<(u64, &'a [u8])> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut line_no = *next_line;
    if buf.is_empty() {
        return lines;
    }
    for end in memchr::memchr_iter(b'\n', buf).chain(std::iter::once(buf.len())) {
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
    *next_line = line_no - 1;
    lines
}

/// Hands a block's records on in order, and their vectors back to `spare`; an invalid
/// line stops there unless skipped.
pub(super) fn hand_on<T>(
    decoded: Vec<Result<Vec<T>, Invalid>>,
    spare: &Spare<T>,
    skip_invalid: bool,
    skipped: &mut Vec<Invalid>,
    sink: &mut dyn FnMut(T),
) -> Result<(), IngestError> {
    for d in decoded {
        match d {
            Ok(mut records) => {
                records.drain(..).for_each(&mut *sink);
                spare.give(records);
            }
            Err(inv) if skip_invalid => skipped.push(inv),
            Err(inv) => return Err(IngestError::Invalid(inv)),
        }
    }
    Ok(())
}

/// Decodes one line into its records, or says where in the line it went wrong.
/// sonic-rs scans the line with SIMD; should it fail, serde_json decodes the line again:
/// it has the last word on what is valid, and its errors give the exact column.
pub fn decode_line(line: &[u8], line_no: u64, file: &str) -> Result<Vec<Decoded>, Invalid> {
    // sonic-rs skips an unread value by recursion, without a limit: a line nested
    // thousands deep would overflow the stack. serde_json refuses it past its limit.
    if !nests_deeper_than(line, MAX_DEPTH)
        && let Ok(records) = fast_decode(line)
    {
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

/// serde_json's nesting limit: past it, a line is not valid for either parser.
const MAX_DEPTH: usize = 128;

/// Whether arrays and objects in `json` nest deeper than `limit`. Strings are jumped
/// over with memchr, so the scan costs little next to the parse: brackets inside them
/// do not count.
pub fn nests_deeper_than(json: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &json[i..]) {
                        None => return false,
                        Some(k) if json[i + k] == b'\\' => i += k + 2,
                        Some(k) => {
                            i += k + 1;
                            break;
                        }
                    }
                    if i >= json.len() {
                        return false;
                    }
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

fn fast_decode(line: &[u8]) -> Result<Vec<Decoded>, sonic_rs::Error> {
    records(&mut sonic_rs::Deserializer::from_slice(line), |d| d.end())
}

fn exact_decode(line: &[u8]) -> Result<Vec<Decoded>, serde_json::Error> {
    records(&mut serde_json::Deserializer::from_slice(line), |d| d.end())
}

/// The records of one JSON value, which must be all `de` holds (`end` checks).
fn records<'de, D, E>(de: &mut D, end: fn(&mut D) -> Result<(), E>) -> Result<Vec<Decoded>, E>
where
    for<'a> &'a mut D: serde::Deserializer<'de, Error = E>,
{
    let mut out = Vec::new();
    let mut push = |r: Decoded| out.push(r);
    let mut sink: &mut dyn FnMut(Decoded) = &mut push;
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

    /// Blocks of a few lines each: every line keeps its number across blocks, records
    /// keep their order, and a bad line stops the input or is skipped.
    #[test]
    fn lines_are_numbered_and_ordered_across_blocks() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/otel");
        let text = std::fs::read_to_string(dir.join("collector-traces-only.jsonl")).unwrap();
        let good: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut input = String::new();
        for i in 0..12 {
            input.push_str(good[i % good.len()]);
            input.push('\n');
            if i == 3 {
                input.push('\n');
            }
        }
        let bad_at = 10; // after 9 good lines and one blank one
        let mut with_bad: Vec<&str> = input.lines().collect();
        with_bad.insert(bad_at - 1, "{\"resourceSpans\": [");
        let with_bad = with_bad.join("\n");
        let run = |text: &str, block: u64, skip: bool| {
            let mut out = Vec::new();
            let r: Box<dyn BufRead> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
            let result =
                decode_in_blocks(block, r, "f", (skip, None), &|r| r, &mut |r| out.push(r));
            (result, out)
        };
        let (whole, expected) = run(&input, 1 << 30, false);
        assert!(whole.unwrap().is_empty());
        assert!(expected.len() > 12, "{}", expected.len());
        for block in [1, 100, 700] {
            let (r, got) = run(&input, block, false);
            assert!(r.unwrap().is_empty());
            assert_eq!(got, expected, "block {block}");
            match run(&with_bad, block, false).0 {
                Err(IngestError::Invalid(inv)) => {
                    assert!(
                        matches!(inv.location, Location::Line { line, .. } if line == bad_at as u64),
                        "{inv:?}"
                    )
                }
                other => panic!("block {block}: {other:?}"),
            }
            let (r, got) = run(&with_bad, block, true);
            let skipped = r.unwrap();
            assert_eq!(skipped.len(), 1);
            assert!(
                matches!(skipped[0].location, Location::Line { line, .. } if line == bad_at as u64)
            );
            assert_eq!(got, expected, "block {block}");
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
                // any-agent's 128-bit ids are read as raw text, which only serde_json
                // gives: those lines take the exact parser, as `decode_line` does.
                (Err(e), Ok(_)) if e.to_string().contains("newtype struct") => {}
                (a, b) => panic!("{file}: sonic-rs {:?}, serde_json {:?}", a.err(), b.err()),
            }
        }
        assert!(
            agreed > 50 && records > 300,
            "{agreed} lines, {records} records"
        );
    }

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(!nests_deeper_than(br#"{"a":[{"b":"[[[[[[["}]}"#, 3));
        assert!(nests_deeper_than(br#"{"a":[{"b":[1]}]}"#, 3));
        assert!(!nests_deeper_than(br#"{"a":"\"[[[[\\"}"#, 1));
        assert!(!nests_deeper_than(br#"{"a":"unterminated [[[["#, 1));
        let deep = format!(
            "{{\"resourceSpans\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(nests_deeper_than(deep.as_bytes(), MAX_DEPTH));
        assert!(decode_line(deep.as_bytes(), 1, "deep.jsonl").is_err());
        // Deep in a field no one reads, which sonic-rs would skip by recursion.
        let ignored = format!(
            "{{\"unknownField\":{}{},\"resourceSpans\":[]}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = decode_line(ignored.as_bytes(), 1, "deep.jsonl").unwrap_err();
        assert!(e.message.contains("recursion limit"), "{}", e.message);
    }
}
