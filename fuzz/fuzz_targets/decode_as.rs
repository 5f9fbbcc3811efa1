//! Any bytes read as the format the first byte names, as `--format` forces it: each
//! decoder meets input its detector would have turned away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::ingest::{DecodeOptions, Format, decode_reader};

const FORMATS: [Format; 5] = [
    Format::Json,
    Format::Jsonl,
    Format::Proto,
    Format::ProtoFramed,
    Format::Parquet,
];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let opts = DecodeOptions {
        format: FORMATS[*first as usize % FORMATS.len()],
        skip_invalid: first & 0x80 != 0,
        ..Default::default()
    };
    let _ = decode_reader("fuzz", Box::new(rest), &opts, &mut |_| {});
});
