//! Decoded spans through the dialect normalizer and the attribution of calls, as a cost
//! report from a dump runs them: hostile attribute values (huge, negative, fractional
//! counts; wrong types) give warnings or missing values, never a panic or a wrapped sum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::analysis::calls::{calls_of, row_from_normalized};
use traces::analysis::partition::TracePartitions;
use traces::ingest::{DecodeOptions, Record, decode_reader};
use traces::semconv::normalize;

fuzz_target!(|data: &[u8]| {
    let mut rows = TracePartitions::new(1 << 20);
    let _ = decode_reader("fuzz", Box::new(data), &DecodeOptions::default(), &mut |r| {
        if let Record::Span(s) = r {
            let n = normalize(&s);
            let _ = rows.push(row_from_normalized(&s, n, &[]));
        }
    });
    let _ = calls_of(rows, &mut |_| {});
});
