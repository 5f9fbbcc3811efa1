//! The benchmark's floor: every line of a JSON-lines dump parsed by sonic-rs (SIMD) into
//! a document on every core, and nothing built from it. No reader of the dump can go
//! faster than this on the same machine; `benches/measure.py` prints it beside
//! `traces cost` so the gap to it is visible.
//!
//!     cargo run --profile profiling --example parse_floor -- DUMP.jsonl

use rayon::prelude::*;
use sonic_rs::JsonValueTrait;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse_floor DUMP.jsonl");
        return std::process::ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    // The number of values parsed, so that the work cannot be optimized away.
    let parsed: Result<usize, String> = lines
        .par_iter()
        .enumerate()
        .map(|(i, l)| {
            sonic_rs::from_slice::<sonic_rs::Value>(l)
                .map(|v| usize::from(v.is_object()))
                .map_err(|e| format!("{path}: line {}: {e}", i + 1))
        })
        .sum();
    match parsed {
        Ok(n) => {
            println!("{n} lines of {} bytes parsed", bytes.len());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(2)
        }
    }
}
