//! Any text as a budget file: an error naming the line, rule and key, or rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::analysis::budget::parse;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let now = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default();
        let _ = parse(text, "fuzz.toml", now);
    }
});
