//! `traces list`: one row per trace. Options: `--since`, `--until`, `--service`,
//! `--limit`, `--sort`, `--format`.

use crate::cli::ListArgs;
use anyhow::Result;
use traces::analysis::store_set::StoreSet;
use traces::analysis::trace_list::{SortKey, Top, TraceFilter, list_top, sort_traces};
use traces::render::{Cell, Column, Kind, LaterRows, OutputFormat, Table, to_stdout};

pub fn run(stores: &StoreSet, args: &ListArgs) -> Result<()> {
    let (since, until) = super::time_bounds(args.since.as_deref(), args.until.as_deref())?;
    let filter = TraceFilter {
        since,
        until,
        service: args.service.clone(),
    };
    let (descending, key) = super::sort_spec(&args.sort);
    let key: SortKey = key.parse().map_err(super::UsageError)?;
    super::require_store(stores, "list")?;

    let top = args.limit.map(|limit| Top {
        key,
        descending,
        limit,
    });
    let mut rows = list_top(stores, &filter, top)?;
    sort_traces(&mut rows, key, descending, args.limit);
    if rows.is_empty() {
        let mut applied = Vec::new();
        for (flag, v) in [
            ("since", &args.since),
            ("until", &args.until),
            ("service", &args.service),
        ] {
            if let Some(v) = v {
                applied.push(format!("--{flag} {v}"));
            }
        }
        let what = if applied.is_empty() {
            "no traces in the store".to_string()
        } else {
            format!("no traces match {}", applied.join(" "))
        };
        if args.output.format == OutputFormat::Table {
            println!("{what}");
            return Ok(());
        }
        super::say::warn(what);
    }
    let mut table = Table::new(vec![
        Column::key("trace_id", "Trace"),
        Column::new("root_name", "Name", Kind::Text, 85),
        Column::new("start_time", "Start (UTC)", Kind::Time, 70),
        Column::new("duration_ms", "Duration ms", Kind::Count, 75),
        Column::new("spans", "Spans", Kind::Count, 50),
        Column::new("service", "Service", Kind::Text, 40),
        Column::new("errors", "Errors", Kind::Count, 60).alerting(),
    ]);
    table.later = Some(LaterRows::new(rows.len(), |i, cells| {
        let r = &rows[i];
        cells.extend([
            Cell::Text(r.trace_id.clone()),
            Cell::Text(r.root_name.clone()),
            Cell::Text(traces::render::utc_millis(r.start_unix_nano)),
            Cell::Fixed(r.duration_ns as f64 / 1e6, 3),
            Cell::Int(r.spans as i64),
            r.service.clone().map_or(Cell::Null, Cell::Text),
            Cell::Int(r.errors as i64),
        ]);
    }));
    to_stdout(args.output.format, &super::say::view(&args.output), &table)?;
    Ok(())
}
