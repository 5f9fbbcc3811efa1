//! Any bytes as an input file: decompression, the format detector and whichever decoder
//! it picks (OTLP JSON document and lines, protobuf and framed protobuf, console spans,
//! Phoenix, CloudWatch, SideSeat, Langfuse, OTel JS, any-agent). An error or records,
//! never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::ingest::{DecodeOptions, decode_reader};

fuzz_target!(|data: &[u8]| {
    for skip_invalid in [false, true] {
        let opts = DecodeOptions {
            skip_invalid,
            ..Default::default()
        };
        let _ = decode_reader("fuzz", Box::new(data), &opts, &mut |_| {});
    }
});
