//! `traces sessions [DUMP...]` and `traces users [DUMP...]`: one row per session (its
//! users) or per user (its sessions), with traces, first and last call, calls, tokens
//! and cost, from the store or straight from dumps. Options: the filters of `traces
//! cost`; `--sort`, `--top`, `--format`, `--strict`; `--pricing` (global).

use super::UsageError;
use crate::cli::SessionsArgs;
use anyhow::Result;
use std::path::PathBuf;
use traces::analysis::cost_report::{METRIC_COLUMNS, Metrics};
use traces::analysis::session_report::{Per, SessionReport};
use traces::analysis::source::{Source, cost_reports};
use traces::analysis::store_set::StoreSet;
use traces::pricing::Pricing;
use traces::render::{Cell, Column, Kind, LaterRows, Table};
use traces::semconv::RefusedValues;

/// The metrics a row shows, after its traces and times.
const METRICS: [&str; 10] = [
    "calls",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cost_usd",
    "recorded_cost_usd",
    "unpriced_calls",
];

pub fn run(
    stores: &StoreSet,
    pricing_files: &[PathBuf],
    args: &SessionsArgs,
    per: Per,
) -> Result<()> {
    let (filter, attr_keys) = super::ask::filter(&args.filter, &[])?;
    let command = match per {
        Per::Session => "sessions",
        Per::User => "users",
    };
    if args.paths.is_empty() {
        super::require_store(stores, command)?;
    }
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = Pricing::load(&paths)?;
    let refused = RefusedValues::keeping(super::say::problems_shown());
    let answer = cost_reports(
        Source::of(stores, &args.paths),
        &pricing,
        per.groupings(),
        &filter,
        &attr_keys,
        &refused,
    );
    super::say::warn_lines(&refused.warnings());
    let (reports, calls) = answer.map_err(super::ask::source_error)?;
    let [by_key, by_pair]: [_; 2] = reports
        .try_into()
        .map_err(|_| anyhow::anyhow!("two reports were asked for"))?;
    let mut report = SessionReport::new(per, by_key, by_pair);
    let (descending, column) = super::sort_spec(&args.sort);
    report.sort(column, descending).map_err(UsageError)?;
    if let Some(n) = args.report.top {
        report.top(n);
    }
    let mut table = to_table(&report);
    table.json_head.push((
        "pricing".into(),
        super::pricing::source_json(pricing.source()),
    ));
    super::cost::print(
        &table,
        report.total.calls == 0,
        &super::ask::no_calls(&args.filter, &args.paths),
        &args.report.output,
    )?;
    super::cost::warn_after(&report.costs, &calls, pricing.source(), args.report.strict)
}

fn time_cell(t: Option<i64>) -> Cell {
    t.map_or(Cell::Null, |ns| Cell::Text(traces::render::utc_millis(ns)))
}

/// The cells of one row after its key and related values.
fn cells(m: &Metrics) -> Vec<Cell> {
    let all = super::cost::metric_cells(m);
    let mut out = vec![
        Cell::Int(m.traces as i64),
        time_cell(m.first_start),
        time_cell(m.last_start),
    ];
    out.extend(METRICS.iter().map(|name| {
        let i = METRIC_COLUMNS
            .iter()
            .position(|c| c == name)
            .expect("METRICS are metric columns");
        all[i].clone()
    }));
    out
}

pub fn to_table(r: &SessionReport) -> Table<'_> {
    let all = super::cost::metric_columns();
    let metric = |name: &str| {
        let i = METRIC_COLUMNS
            .iter()
            .position(|c| *c == name)
            .expect("METRICS are metric columns");
        all[i].clone()
    };
    let mut columns = match r.per {
        Per::Session => vec![
            Column::key("session_id", "Session"),
            Column::new("user_id", "User", Kind::Text, 75),
        ],
        Per::User => vec![
            Column::key("user_id", "User"),
            Column::new("sessions", "Sessions", Kind::Count, 75),
        ],
    };
    columns.extend([
        Column::new("traces", "Traces", Kind::Count, 50),
        Column::new("first_time", "First (UTC)", Kind::Time, 30),
        Column::new("last_time", "Last (UTC)", Kind::Time, 55),
    ]);
    columns.extend(METRICS.iter().map(|n| metric(n)));
    let related = move |values: &[String]| match r.per {
        Per::Session => Cell::List(values.to_vec()),
        Per::User => Cell::Int(values.len() as i64),
    };
    let mut t = Table::new(columns);
    t.later = Some(LaterRows::new(r.rows.len(), move |i, cells_of_row| {
        let row = &r.rows[i];
        cells_of_row.push(row.key.clone().map_or(Cell::Null, Cell::Text));
        cells_of_row.push(related(&row.related));
        cells_of_row.extend(cells(&row.metrics));
    }));
    let mut total = vec![
        Cell::Text("TOTAL".into()),
        match r.per {
            // A session's users are its row's; the total's would be everyone.
            Per::Session => Cell::Null,
            Per::User => related(&r.related),
        },
    ];
    total.extend(cells(&r.total));
    t.total = Some(total);
    let per = match r.per {
        Per::Session => "session",
        Per::User => "user",
    };
    t.json_head.push(("per".into(), serde_json::json!(per)));
    t.json_tail = super::cost::json_tail(&r.costs);
    t
}
