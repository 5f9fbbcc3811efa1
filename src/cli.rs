//! Every command-line definition, and nothing else.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use traces::render::OutputFormat;

const QUICK_START: &str = "\
Quick start:
  traces import dump.json          read a trace dump (OTLP JSON or protobuf, Collector
                                   files, Phoenix, CloudWatch...) into ./.traces
  traces cost --by model           tokens and cost per model (or session, user, trace, day)
  traces cost dump.json --by trace the same straight from a dump, without importing it";

#[derive(Debug, Parser)]
#[command(
    name = "traces",
    version,
    about = "Offline analysis of LLM application traces and their cost",
    after_help = QUICK_START,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Store directory (created by the first import). Repeatable, and a quoted glob
    /// ('runs/*/.traces') names every store it matches: reports read them as one store,
    /// each span counted once however many hold it. TRACES_STORE holds one or several,
    /// separated by ':' as PATH is. Commands that write (import, record, check -- CMD,
    /// store verify --repair) take one store.
    #[arg(
        long,
        global = true,
        env = "TRACES_STORE",
        default_value = ".traces",
        value_delimiter = ':'
    )]
    pub store: Vec<PathBuf>,

    /// Pricing file (TOML in the shipped format, or LiteLLM's JSON) over the shipped
    /// tables; repeatable, the first taking precedence.
    #[arg(
        long = "pricing",
        global = true,
        env = "TRACES_PRICING",
        value_delimiter = ','
    )]
    pub pricing: Vec<PathBuf>,

    /// When to colour the output: auto colours a terminal only, and honours NO_COLOR
    /// and CLICOLOR_FORCE.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print no warnings (errors still print).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Warnings in full: every value refused, not the first few.
    #[arg(long, short, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What a report of calls keeps and how it ends: shared by `cost`, `sessions`, `users`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Show the first N rows and fold the rest into one row.
    #[arg(long)]
    pub top: Option<usize>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Fail (exit 1) when a call's model has no price.
    #[arg(long)]
    pub strict: bool,
}

/// How a report is written: shared by every command that prints one.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format: a table for people, or every column, exact, for machines.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    #[command(flatten)]
    pub table: TableArgs,
}

/// How a table for people is drawn: every command that prints one, whatever its formats.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// The width a table may take (default: the terminal's, or 100 when not a terminal).
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,

    /// Show every column of a table, however wide.
    #[arg(long)]
    pub wide: bool,

    /// Show dollar amounts in a table with every digit, not rounded.
    #[arg(long)]
    pub exact: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read trace dumps (files, directories or - for stdin) into the store.
    #[command(after_help = "\
Examples:
  traces import dump.json
  traces import collector-output/ exports/*.jsonl.gz
  otelcol-export | traces import -
  traces import --skip-invalid broken.jsonl")]
    Import(ImportArgs),
    /// One row per trace in the store.
    #[command(after_help = "\
Examples:
  traces list --limit 20
  traces list --since 24h --sort -duration
  traces list --service checkout --format csv > traces.csv")]
    List(ListArgs),
    /// Token usage and cost, in total or per trace, session, user, model, day…
    #[command(after_help = "\
Examples:
  traces cost
  traces cost --by model
  traces cost --by session --top 10
  traces cost --by day --by model --since 7d
  traces cost dump.json --by trace --format json
  traces cost --model 'claude-*' --where deployment.environment=prod")]
    Cost(CostArgs),
    /// One trace: its span tree with tokens and cost rolled up, and its conversation.
    #[command(after_help = "\
Examples:
  traces show 4bf92f35
  traces show 4bf92f3577b34da6a3ce929d0e0e4736 --conversation
  traces show 4bf9 --timeline
  traces show 4bf9 dump.json --format json
  traces show --session sess-42")]
    Show(ShowArgs),
    /// One row per session: its users, traces, first and last call, calls, tokens and cost.
    #[command(after_help = "\
Examples:
  traces sessions
  traces sessions --since 7d --top 20
  traces sessions --user alice --sort -last_time
  traces sessions dump.json --format json")]
    Sessions(SessionsArgs),
    /// One row per user: sessions, traces, first and last call, calls, tokens and cost.
    #[command(after_help = "\
Examples:
  traces users
  traces users --since 30d --sort -calls
  traces users --model 'gpt-4o*' --format csv > users.csv
  traces users dump.json --format json")]
    Users(UsersArgs),
    /// Check token and cost budgets (a TOML file of rules): exit 1 when a fail rule is
    /// exceeded, for CI.
    #[command(after_help = "\
Examples:
  traces check --budget budget.toml
  traces check --budget budget.toml test-traces.jsonl
  traces check --budget budget.toml --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  traces check --budget budget.toml --format json > check.json
  traces check --budget budget.toml test-traces.jsonl --format junit --output check.xml
  traces check --budget budget.toml test-traces.jsonl --format github
  traces check --baseline main-traces.jsonl --max-increase 10% pr-traces.jsonl
  traces check --budget budget.toml -- pytest tests/agent

Exit status: 0 when every fail rule holds (warn rules never fail), 1 when any is
exceeded, 2 on an invalid budget file or input.")]
    Check(CheckArgs),
    /// One self-contained HTML page: totals, cost over time, cost by model, session and
    /// user, the costliest traces with their trees and conversations, the pricing used.
    #[command(after_help = "\
Examples:
  traces report --html report.html
  traces report --html week.html --since 7d --traces 20
  traces report --html run.html test-traces.jsonl")]
    Report(HtmlReportArgs),
    /// Receive the traces an app exports (OTLP/HTTP, OTLP/gRPC, Langfuse) on a local
    /// port, while a command runs or until stopped, and import them.
    #[command(after_help = "\
Examples:
  traces record -- python app.py
  traces record --protocol grpc -- npm test
  traces record --output run.jsonl -- pytest tests/agent
  traces record --listen 127.0.0.1:4318      # a sidecar: serve until SIGINT/SIGTERM

The command's environment points the OpenTelemetry and Langfuse SDKs here
(OTEL_EXPORTER_OTLP_ENDPOINT, LANGFUSE_HOST, ...; see the README). Exit status: the
command's, or 1 if the import fails.")]
    Record(RecordArgs),
    /// Compare two sets of traces, per test case (or --by): calls, tokens and cost in
    /// each, the largest change of cost first. A report; it never fails.
    #[command(after_help = "\
Examples:
  traces diff main-traces.jsonl pr-traces.jsonl
  traces diff .traces-main pr-traces/ --by model
  traces diff main.jsonl pr.jsonl --format markdown >> \"$GITHUB_STEP_SUMMARY\"")]
    Diff(DiffArgs),
    /// The pricing table: list it, or see which entry a model name resolves to.
    #[command(subcommand)]
    Pricing(PricingCommand),
    /// The store itself: check that every file it names reads whole and repair it, merge
    /// small imports, lay a store of an earlier release out by day.
    #[command(subcommand)]
    Store(StoreCommand),
    /// A completion script for your shell, to source or install.
    #[command(after_help = "\
Examples:
  traces completions bash > ~/.local/share/bash-completion/completions/traces
  traces completions zsh > \"${fpath[1]}/_traces\"
  traces completions fish > ~/.config/fish/completions/traces.fish")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// The manual page, in roff.
    #[command(after_help = "\
Examples:
  traces man > ~/.local/share/man/man1/traces.1
  traces man | man -l -")]
    Man,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Dumps to read directly instead of the store (files, directories, or - for stdin).
    pub paths: Vec<PathBuf>,

    /// Group by trace, session, user, model, provider, service, day, hour, name (root
    /// span name) or attr:KEY; repeat for nested groups.
    #[arg(long = "by")]
    pub by: Vec<String>,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Sort by a column (a group field or a metric); -COLUMN for descending.
    #[arg(long, default_value = "-cost_usd", allow_hyphen_values = true)]
    pub sort: String,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// Which calls a report covers: shared by every command that reports on calls.
#[derive(Debug, Args)]
pub struct FilterArgs {
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
}

/// `traces sessions` and `traces users`: one row per session, or per user.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Dumps to read directly instead of the store (files, directories, or - for stdin).
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Sort by a column (session_id, user_id, sessions, first_time, last_time or a
    /// metric); -COLUMN for descending.
    #[arg(long, default_value = "-cost_usd", allow_hyphen_values = true)]
    pub sort: String,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// The same options as `traces sessions`.
pub type UsersArgs = SessionsArgs;

/// `traces check`: the budget, where the calls come from, how the report is written.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Dumps to check directly instead of the store (files, directories, or - for stdin).
    pub paths: Vec<PathBuf>,

    /// The budget: a TOML file of [[rule]] tables (see the README).
    #[arg(long, value_name = "FILE", required_unless_present = "baseline")]
    pub budget: Option<PathBuf>,

    /// Compare with a baseline: a store directory, or dumps (repeatable). Fails when a
    /// member's calls, total tokens or cost grew by more than allowed.
    #[arg(long, value_name = "BASE")]
    pub baseline: Vec<PathBuf>,

    /// The most a member's calls, total tokens or cost may grow over the baseline, in
    /// percent (default 10% when no --max-increase-usd is given).
    #[arg(long, value_name = "PCT", requires = "baseline")]
    pub max_increase: Option<String>,

    /// The most a member's cost may grow over the baseline, in dollars.
    #[arg(long, value_name = "USD", requires = "baseline")]
    pub max_increase_usd: Option<rust_decimal::Decimal>,

    /// The members the baseline is compared by: name (root span name: one test case),
    /// trace, session, user, model, or attr:KEY.
    #[arg(long = "by", value_name = "DIM", default_value = "name")]
    pub by: String,

    /// List at most N offenders per limit in a table (JSON lists every one).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,

    /// Report format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Write the report to FILE (whole or not at all) instead of stdout, which then
    /// gets the one-line summary.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub table: TableArgs,

    #[command(flatten)]
    pub receiver: ReceiverArgs,

    /// Record this command's traces first (as `traces record -- CMD` does, into the
    /// store), then check what it sent; the exit status is the command's failure
    /// first, else the check's.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// `traces check`'s formats: the reports' four, and two that CI systems read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A table for people, then the one-line summary.
    #[value(alias = "text")]
    Table,
    /// Every rule, limit and offender, exact, with the projections.
    Json,
    /// The table's rows, exact.
    Csv,
    /// The summary in bold, then the table (for $GITHUB_STEP_SUMMARY or a PR comment).
    #[value(alias = "md")]
    Markdown,
    /// JUnit XML: a test case per rule and member, a failure per offender.
    Junit,
    /// GitHub Actions annotations: ::error for failures, ::warning for warnings.
    Github,
}

/// `traces diff BASE HEAD`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base: a store directory, or a dump (file or directory).
    pub base: PathBuf,

    /// The head: a store directory, or a dump (file or directory).
    pub head: PathBuf,

    /// The members compared: name (root span name: one test case), trace, session,
    /// user, model, or attr:KEY.
    #[arg(long = "by", value_name = "DIM", default_value = "name")]
    pub by: String,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Read every file the manifest names (footer, row count, id columns) and say what
    /// is wrong and how to repair it; exit 1 when anything is.
    #[command(after_help = "\
Examples:
  traces store verify
  traces store verify --repair
  traces --store /ci/.traces store verify --repair --yes")]
    Verify {
        /// Drop from the manifest what it can no longer trust (after a confirmation):
        /// a damaged segment's spans, a damaged derived table; a manifest that cannot
        /// be read is rebuilt from the segment files.
        #[arg(long)]
        repair: bool,
        /// Repair without asking (for scripts; with --repair).
        #[arg(long, requires = "repair")]
        yes: bool,
    },
    /// Merge runs of small imports into few, each day's spans in one file with each
    /// trace's together; every report reads the same before and after. A store of an
    /// earlier release is laid out by day on the way.
    #[command(after_help = "\
Examples:
  traces store compact
  traces --store /ci/.traces store compact --target-spans 1000000 --target-mb 1000")]
    Compact {
        /// Spans a merged segment holds at most (its rows are sorted in memory: about
        /// 3.4 KB a span at its peak).
        #[arg(long, default_value_t = traces::store::compact::TARGET_SPANS, value_parser = clap::value_parser!(u64).range(1..))]
        target_spans: u64,
        /// MB of spans and logs, uncompressed, a merged segment holds at most, however
        /// few spans (sorting them takes about 3.5 times this at the peak).
        #[arg(long, default_value_t = traces::store::compact::TARGET_MB, value_parser = clap::value_parser!(u64).range(1..))]
        target_mb: u64,
    },
    /// Lay a store of an earlier release out by UTC day (`spans/day=2025-01-31/…`),
    /// the layout engines prune by date; the next import does it too. Every report
    /// reads the same before and after.
    #[command(after_help = "\
Examples:
  traces store migrate
  traces --store /ci/.traces store migrate")]
    Migrate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// Every priced model with its prices in force today.
    #[command(after_help = "\
Examples:
  traces pricing list
  traces pricing list --format csv | grep claude")]
    List {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Keep a LiteLLM price file (model_prices_and_context_window.json, downloaded by
    /// you) as the price table of later runs, over the shipped one: prices stay current
    /// without a new release and without network access.
    #[command(after_help = "\
Examples:
  traces pricing update model_prices_and_context_window.json")]
    Update {
        /// The LiteLLM JSON file.
        file: PathBuf,
    },
    /// The price table in force (shipped, updated and --pricing files) as data, for
    /// engines that price a store's calls table in SQL (sql/*.sql): one row per model,
    /// price period, service tier and long-context bracket, rates exact.
    #[command(after_help = "\
Examples:
  traces pricing export --format parquet -o prices.parquet
  traces pricing export --format csv | grep claude")]
    Export {
        /// parquet (rates as DECIMAL(25,24)), csv or json (rates as exact decimal text).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The file to write; standard output when absent.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Which entry a model name resolves to, and why.
    #[command(after_help = "\
Examples:
  traces pricing match gpt-4o-2024-08-06
  traces pricing match claude-sonnet-4-5 --provider aws_bedrock")]
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

    /// How many times its compressed size a gzip or zstd input may inflate to before it
    /// is refused as a decompression bomb (real dumps: 10 to 50).
    #[arg(long, value_name = "RATIO", default_value_t = traces::ingest::decompress::MAX_INFLATION,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_inflation: u64,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub receiver: ReceiverArgs,

    /// Write what is received to this file as OTLP JSON lines, as the Collector's file
    /// exporter does, instead of importing it.
    #[arg(long, value_name = "DUMP")]
    pub output: Option<PathBuf>,

    /// Without a command: how often what was received is imported.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub commit_every: std::time::Duration,

    /// The command to run, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// How the receiver listens and what the command it runs is told: shared by `record`
/// and `check -- CMD`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Receiver")]
pub struct ReceiverArgs {
    /// Address to listen on (default 127.0.0.1:0, a free port, with a command;
    /// 127.0.0.1:4318 without). Port 0 picks a free port, printed on stderr.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// The OTLP protocol the command's exporters are told to use.
    #[arg(long, value_enum, default_value_t = RecordProtocol::Http)]
    pub protocol: RecordProtocol,

    /// After the command exits, how long to wait for late exports at most (500ms, 2s,
    /// 1m); ends as soon as no export has come for a moment.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub grace: std::time::Duration,

    /// Require `Authorization: Bearer TOKEN` (or TOKEN as the Langfuse secret key).
    #[arg(long, env = "TRACES_RECORD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// The largest request body, as sent and once inflated (bytes, or with K, M, G).
    #[arg(long, default_value = "64M", value_parser = parse_size)]
    pub max_body: u64,

    /// A variable for the command, over the ones record sets; repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordProtocol {
    /// OTLP/HTTP with protobuf bodies.
    Http,
    Grpc,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n
        .parse()
        .map_err(|_| format!("expected a duration such as 500ms, 2s or 1m, got {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use ms, s, m or h")),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (n, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    n.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("expected a size in bytes such as 65536, 512K or 64M, got {s:?}"))
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

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A trace id, or a prefix of at least 4 hex digits that only one trace has.
    #[arg(required_unless_present = "session")]
    pub id: Option<String>,

    /// Dumps to read the trace from instead of the store (files, directories, or -).
    pub paths: Vec<PathBuf>,

    /// Every trace of this session instead of one trace: each with its part of the
    /// conversation, then the session's totals.
    #[arg(long, value_name = "SID")]
    pub session: Option<String>,

    /// A waterfall of the spans' times instead of the tree.
    #[arg(long)]
    pub timeline: bool,

    /// The whole conversation, every message once, instead of the tree.
    #[arg(long)]
    pub conversation: bool,

    /// Lines as long as they are: no name shortened, no text folded.
    #[arg(long)]
    pub full: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// `traces report`: the page's file, what it covers, and how many traces it details.
#[derive(Debug, Args)]
pub struct HtmlReportArgs {
    /// Dumps to read directly instead of the store (files, directories, or - for stdin).
    pub paths: Vec<PathBuf>,

    /// The HTML file to write (written aside and renamed over it).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// How many of the costliest traces carry their span tree and conversation.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub traces: usize,
}
