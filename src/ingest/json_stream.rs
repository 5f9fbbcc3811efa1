//! JSON values one after another, read as a stream: a single OTLP document of any size,
//! console spans pretty-printed back to back, or an array of records. Records reach the
//! sink while the document is still being read.

use super::error::{IngestError, Invalid, Location};
use super::json_lines::json_message;
use super::raw::Decoded;
use super::record::RecordSeed;
use serde::de::DeserializeSeed;
use std::io::BufRead;

pub fn decode(
    r: Box<dyn BufRead + '_>,
    file: &str,
    skip_invalid: bool,
    sink: &mut dyn FnMut(Decoded),
) -> Result<Vec<Invalid>, IngestError> {
    // serde_json reads a stream a byte at a time: a concrete buffered reader makes each
    // of those reads a copy from memory rather than a call through the trait object.
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, r));
    let mut sink: &mut dyn FnMut(Decoded) = sink;
    loop {
        // `end` only looks past whitespace: Ok means nothing but whitespace is left.
        if de.end().is_ok() {
            return Ok(Vec::new());
        }
        if let Err(e) = (RecordSeed { sink: &mut sink }).deserialize(&mut de) {
            let inv = Invalid {
                file: file.to_string(),
                location: Location::Line {
                    line: e.line() as u64,
                    column: e.column() as u64,
                },
                message: json_message(&e),
            };
            // A stream cannot be resynchronised after a syntax error: what was read
            // before it is kept, the rest of the input is skipped.
            return if skip_invalid {
                Ok(vec![inv])
            } else {
                Err(IngestError::Invalid(inv))
            };
        }
    }
}
