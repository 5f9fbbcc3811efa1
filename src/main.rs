mod cli;
mod commands;

// Decoding allocates a string per attribute value; glibc's allocator spent a fifth of
// the time of a report in malloc and free, mimalloc much less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use std::process::ExitCode;
use traces::analysis::time_bound::TimeBoundError;
use traces::ingest::IngestError;
use traces::pricing::table::PricingError;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let store = traces::store::Store::at(&cli.store);
    let result = match &cli.command {
        cli::Command::Import(a) => commands::import::run(&store, a),
        cli::Command::List(a) => commands::list::run(&store, a),
        cli::Command::Cost(a) => commands::cost::run(&store, &cli.pricing, a),
        cli::Command::Pricing(c) => commands::pricing::run(&cli.pricing, c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`traces list | head`) is not a failure.
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 for input the user can fix (invalid data, missing file, bad option value), 1 for
/// everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(ie) = e.downcast_ref::<IngestError>() {
        return match ie {
            IngestError::Invalid(_) | IngestError::UnknownFormat(_) | IngestError::NotFound(_) => 2,
            IngestError::Io { .. } => 1,
        };
    }
    if e.downcast_ref::<TimeBoundError>().is_some() || e.downcast_ref::<PricingError>().is_some() {
        return 2;
    }
    // Option values that clap accepted but that did not parse (sort keys, formats).
    if e.downcast_ref::<commands::UsageError>().is_some() {
        return 2;
    }
    1
}
