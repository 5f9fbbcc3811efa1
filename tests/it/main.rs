//! The integration tests, as one binary: each linked test binary carries all of polars,
//! so one binary instead of five saves minutes of linking and gigabytes of disk.

mod check;
mod common;
mod compact;
mod cost;
mod crash;
mod decoder_props;
mod dialects;
mod diff;
mod formats;
mod hostile_numbers;
mod import;
mod ingest_formats;
mod layout;
mod ledgers;
mod multistore;
mod output;
mod permissions;
mod pricing_coverage;
mod record;
mod report;
mod sessions;
mod show;
mod store_index;
