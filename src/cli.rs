//! Every command-line definition, and nothing else.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "traces",
    version,
    about = "Offline analysis of LLM application traces and their cost"
)]
pub struct Cli {
    /// Store directory (created by the first import).
    #[arg(long, global = true, env = "TRACES_STORE", default_value = ".traces")]
    pub store: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read trace dumps (files, directories or - for stdin) into the store.
    Import(ImportArgs),
    /// One row per trace in the store.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files, directories (read recursively, in sorted order) or - for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Input format; detected from the content when auto.
    #[arg(long, default_value = "auto", value_parser = ["auto", "json", "jsonl", "proto", "proto-framed", "parquet"])]
    pub format: String,

    /// Import the valid records and list every invalid one, instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only traces starting at or after: RFC 3339, a date, or a duration back from now (24h, 7d).
    #[arg(long)]
    pub since: Option<String>,

    /// Only traces starting before: same forms as --since.
    #[arg(long)]
    pub until: Option<String>,

    /// Only traces whose root span belongs to this service.
    #[arg(long)]
    pub service: Option<String>,

    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,

    /// Sort key: start, duration, spans, errors, name, service, trace_id; prefix with - for descending.
    #[arg(long, default_value = "-start", allow_hyphen_values = true)]
    pub sort: String,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "markdown"])]
    pub format: String,
}
