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

    /// Pricing file (TOML in the shipped format, or LiteLLM's JSON) over the shipped
    /// tables; repeatable, the first taking precedence.
    #[arg(
        long = "pricing",
        global = true,
        env = "TRACES_PRICING",
        value_delimiter = ','
    )]
    pub pricing: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read trace dumps (files, directories or - for stdin) into the store.
    Import(ImportArgs),
    /// One row per trace in the store.
    List(ListArgs),
    /// Token usage and cost, in total or per trace, session, user, model, day…
    Cost(CostArgs),
    /// The pricing table: list it, or see which entry a model name resolves to.
    #[command(subcommand)]
    Pricing(PricingCommand),
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Dumps to read directly instead of the store (files, directories, or - for stdin).
    pub paths: Vec<PathBuf>,

    /// Group by trace, session, user, model, provider, service, day, hour, name (root
    /// span name) or attr:KEY; repeat for nested groups.
    #[arg(long = "by")]
    pub by: Vec<String>,

    /// Only calls starting at or after: RFC 3339, a date, or a duration back from now.
    #[arg(long)]
    pub since: Option<String>,

    /// Only calls starting before: same forms as --since.
    #[arg(long)]
    pub until: Option<String>,

    /// Only calls whose model matches this glob (gpt-4o*, claude-*).
    #[arg(long)]
    pub model: Option<String>,

    /// Only calls of traces whose root span belongs to this service.
    #[arg(long)]
    pub service: Option<String>,

    /// Only calls of this session.
    #[arg(long)]
    pub session: Option<String>,

    /// Only calls of this user.
    #[arg(long)]
    pub user: Option<String>,

    /// Only calls of this trace.
    #[arg(long)]
    pub trace: Option<String>,

    /// Only calls whose span (or its trace's root span) has this attribute value; repeatable.
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub where_: Vec<String>,

    /// Sort by a column (a group field or a metric); -COLUMN for descending.
    #[arg(long, default_value = "-cost_usd", allow_hyphen_values = true)]
    pub sort: String,

    /// Show the first N rows and fold the rest into one row.
    #[arg(long)]
    pub top: Option<usize>,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "markdown"])]
    pub format: String,

    /// Fail (exit 1) when a call's model has no price.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// Every priced model with its prices in force today.
    List {
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json", "csv", "markdown"])]
        format: String,
    },
    /// Keep a LiteLLM price file (model_prices_and_context_window.json, downloaded by
    /// you) as the price table of later runs, over the shipped one: prices stay current
    /// without a new release and without network access.
    Update {
        /// The LiteLLM JSON file.
        file: PathBuf,
    },
    /// Which entry a model name resolves to, and why.
    Match {
        /// The model name as a span recorded it.
        model: String,
        /// The provider the span names (helps for models priced per host).
        #[arg(long)]
        provider: Option<String>,
    },
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
