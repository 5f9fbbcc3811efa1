//! Any text as a pricing file, in the shipped TOML shape and as LiteLLM's JSON: an
//! error naming file, line and key, or prices, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::pricing::table::{parse_litellm, parse_toml};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_toml(text, "fuzz.toml");
        let _ = parse_litellm(text, "fuzz.json");
    }
});
