//! Whatever the bytes, every decoder answers with records or an error, never a panic.

use proptest::prelude::*;
use traces::ingest::{DecodeOptions, Format, decode_reader};

use crate::common::testdata;

const FORMATS: [Format; 6] = [
    Format::Auto,
    Format::Json,
    Format::Jsonl,
    Format::Proto,
    Format::ProtoFramed,
    Format::Parquet,
];

fn run_all(bytes: &[u8]) {
    for format in FORMATS {
        let opts = DecodeOptions {
            format,
            ..Default::default()
        };
        let mut n = 0usize;
        let _ = decode_reader("prop", Box::new(bytes), &opts, &mut |_| n += 1);
        let opts = DecodeOptions {
            format,
            skip_invalid: true,
            ..Default::default()
        };
        let _ = decode_reader("prop", Box::new(bytes), &opts, &mut |_| n += 1);
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(testdata("otel").join(name)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run_all(&bytes);
    }

    /// Bytes that start like a real format reach deeper into each decoder.
    #[test]
    fn mutated_real_dumps(
        which in 0usize..6,
        cut in 0usize..4096,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
    ) {
        let names = ["spans.otlp.pb", "collector.binpb", "collector.jsonl", "spans.otlp.json", "console.json", "phoenix-spans.parquet"];
        let mut bytes = sample(names[which]);
        for (at, b) in flips {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        bytes.truncate(cut.max(1) * 16);
        run_all(&bytes);
    }
}

#[test]
fn prefix_of_every_length_of_a_protobuf_body() {
    let bytes = sample("spans.otlp.pb");
    for n in 0..bytes.len() {
        run_all(&bytes[..n]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// Parquet pages and footers with flipped bytes, length kept.
    #[test]
    fn corrupted_parquet(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16)) {
        let mut bytes = sample("phoenix-spans.parquet");
        for (at, b) in flips {
            let i = 4 + at % (bytes.len() - 8);
            bytes[i] = b;
        }
        let opts = DecodeOptions { format: Format::Parquet, ..Default::default() };
        let _ = decode_reader("prop", Box::new(&bytes[..]), &opts, &mut |_| {});
    }
}
