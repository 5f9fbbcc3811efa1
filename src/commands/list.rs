//! `traces list`: one row per trace. Options: `--since`, `--until`, `--service`,
//! `--limit`, `--sort`, `--format`.

use crate::cli::ListArgs;
use anyhow::Result;
use chrono::{DateTime, SecondsFormat};
use traces::analysis::trace_list::{SortKey, TraceFilter, list_traces, sort_traces};
use traces::render::{Cell, OutputFormat, Table, to_stdout};
use traces::store::Store;

pub fn run(store: &Store, args: &ListArgs) -> Result<()> {
    let (since, until) = super::time_bounds(args.since.as_deref(), args.until.as_deref())?;
    let filter = TraceFilter {
        since,
        until,
        service: args.service.clone(),
    };
    let (descending, key) = super::sort_spec(&args.sort);
    let key: SortKey = key.parse().map_err(super::UsageError)?;
    let format: OutputFormat = args.format.parse().map_err(super::UsageError)?;

    let mut rows = list_traces(store, &filter)?;
    sort_traces(&mut rows, key, descending);
    if let Some(n) = args.limit {
        rows.truncate(n);
    }
    let mut table = Table::new(&[
        "trace_id",
        "root_name",
        "start_time",
        "duration_ms",
        "spans",
        "service",
        "errors",
    ]);
    for r in rows {
        table.rows.push(vec![
            Cell::Text(r.trace_id),
            Cell::Text(r.root_name),
            Cell::Text(rfc3339(r.start_unix_nano)),
            Cell::Fixed(r.duration_ns as f64 / 1e6, 3),
            Cell::Int(r.spans as i64),
            r.service.map_or(Cell::Null, Cell::Text),
            Cell::Int(r.errors as i64),
        ]);
    }
    to_stdout(format, &table)?;
    Ok(())
}

fn rfc3339(ns: i64) -> String {
    DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Millis, true)
}
