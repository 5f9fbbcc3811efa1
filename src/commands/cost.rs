//! `traces cost [DUMP...]`: usage and cost, in total or grouped (`--by`, repeatable),
//! from the store or straight from dumps. Options: the filters `--since`, `--until`,
//! `--model`, `--service`, `--session`, `--user`, `--trace`, `--where`; `--sort`, `--top`,
//! `--format`, `--strict`; `--pricing` (global).

use super::UsageError;
use crate::cli::{CostArgs, OutputArgs};
use anyhow::Result;
use serde_json::{Value, json};
use std::path::PathBuf;
use traces::analysis::calls::Calls;
use traces::analysis::cost_report::{CostReport, Dim, METRIC_COLUMNS, Metrics};
use traces::analysis::source::{Source, cost_report};
use traces::analysis::store_set::StoreSet;
use traces::pricing::Pricing;
use traces::render::{Cell, Column, Kind, LaterRows, OutputFormat, Table, group_digits, to_stdout};
use traces::semconv::RefusedValues;

/// The strict mode's failure: a report with calls that have no price, or only another
/// provider's.
#[derive(Debug, thiserror::Error)]
#[error(
    "{unpriced} call(s) have no price and {fallback} are priced at another provider's price (--strict)"
)]
pub struct Unpriced {
    pub unpriced: u64,
    pub fallback: u64,
}

pub fn run(stores: &StoreSet, pricing_files: &[PathBuf], args: &CostArgs) -> Result<()> {
    let group_by: Vec<Dim> = args
        .by
        .iter()
        .map(|b| b.parse())
        .collect::<Result<_, String>>()
        .map_err(UsageError)?;
    let (filter, attr_keys) = super::ask::filter(&args.filter, &group_by)?;
    if args.paths.is_empty() {
        super::require_store(stores, "cost")?;
    }
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = Pricing::load(&paths)?;
    let refused = RefusedValues::keeping(super::say::problems_shown());
    let answer = cost_report(
        Source::of(stores, &args.paths),
        &pricing,
        group_by,
        &filter,
        &attr_keys,
        &refused,
    );
    super::say::warn_lines(&refused.warnings());
    let (mut report, calls) = answer.map_err(super::ask::source_error)?;
    let (descending, column) = super::sort_spec(&args.sort);
    report.sort(column, descending).map_err(UsageError)?;
    if let Some(n) = args.report.top {
        report.top(n);
    }
    let mut table = to_table(&report, &args.by);
    table.json_head.push((
        "pricing".into(),
        super::pricing::source_json(pricing.source()),
    ));
    print(
        &table,
        report.total.calls == 0,
        &super::ask::no_calls(&args.filter, &args.paths),
        &args.report.output,
    )?;
    warn_after(&report, &calls, pricing.source(), args.report.strict)
}

/// The table, or when no call counted, why: instead of the table for people, beside an
/// empty document for machines.
pub(super) fn print(table: &Table, empty: bool, why: &str, output: &OutputArgs) -> Result<()> {
    let format = output.format;
    if empty {
        if format == OutputFormat::Table {
            println!("{why}");
            return Ok(());
        }
        super::say::warn(why);
    }
    to_stdout(format, &super::say::view(output), table)?;
    Ok(())
}

/// The warnings after a report: unpriced and fallback-priced models, recorded costs
/// that disagree, stale prices; and `--strict`'s failure.
pub(super) fn warn_after(
    report: &CostReport,
    calls: &Calls,
    source: &traces::pricing::PriceSource,
    strict: bool,
) -> Result<()> {
    report_unpriced(report, calls);
    report_stale(report, source);
    if strict && report.total.unpriced_calls + report.total.fallback_priced_calls > 0 {
        return Err(Unpriced {
            unpriced: report.total.unpriced_calls,
            fallback: report.total.fallback_priced_calls,
        }
        .into());
    }
    Ok(())
}

pub(super) fn metric_cells(m: &Metrics) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(METRIC_COLUMNS.len());
    push_metric_cells(m, &mut cells);
    cells
}

pub(super) fn push_metric_cells(m: &Metrics, cells: &mut Vec<Cell>) {
    cells.extend([
        Cell::Int(m.traces as i64),
        Cell::Int(m.calls as i64),
        Cell::Int(m.input_tokens),
        Cell::Int(m.cache_read_tokens),
        Cell::Int(m.cache_write_tokens),
        Cell::Int(m.output_tokens),
        Cell::Int(m.reasoning_tokens),
        Cell::Int(m.total_tokens()),
        Cell::Exact(decimal_text(m.cost_usd)),
        // Every digit the float has: rounding it here would make it disagree with an
        // exact computed cost that it equals.
        m.recorded_cost_usd
            .map_or(Cell::Null, |r| Cell::Exact(decimal_text(r))),
        Cell::Int(m.unpriced_calls as i64),
        Cell::Int(m.fallback_priced_calls as i64),
    ]);
}

/// `METRIC_COLUMNS` for people: what each is called, and the order a narrow terminal
/// gives them up in (the lowest rank first; cost never).
pub(super) fn metric_columns() -> Vec<Column> {
    let count = |label: &'static str, rank: u8| (label, Kind::Count, rank);
    let labels = [
        count("Traces", 20),
        count("Calls", 90),
        count("Input", 80),
        count("Cached", 60),
        count("Cache write", 40),
        count("Output", 80),
        count("Reasoning", 35),
        count("Total", 45),
        ("Cost", Kind::Money, Column::KEEP),
        ("Recorded", Kind::Money, 50),
        count("Unpriced", 95),
        count("Fallback", 15),
    ];
    METRIC_COLUMNS
        .iter()
        .zip(labels)
        .map(|(name, (label, kind, rank))| {
            let c = Column::new(name, label, kind, rank);
            if matches!(*name, "unpriced_calls" | "fallback_priced_calls") {
                c.alerting()
            } else {
                c
            }
        })
        .collect()
}

/// A plain decimal with at least one decimal place (`0.0`, `1.5`, `0.000153`).
pub(super) fn decimal_text(d: rust_decimal::Decimal) -> String {
    let s = d.normalize().to_string();
    if s.contains('.') { s } else { format!("{s}.0") }
}

pub fn to_table<'a>(r: &'a CostReport, by: &[String]) -> Table<'a> {
    let mut columns: Vec<Column> = r
        .group_by
        .iter()
        .map(|d| Column::key(&d.field(), &d.label()))
        .collect();
    columns.extend(metric_columns());
    let mut t = Table::new(columns);
    t.later = Some(LaterRows::new(r.rows.len(), |i, row| {
        let (key, m) = &r.rows[i];
        row.extend(key.iter().map(|k| k.clone().map_or(Cell::Null, Cell::Text)));
        push_metric_cells(m, row);
    }));
    let mut total: Vec<Cell> = r
        .group_by
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if i == 0 {
                Cell::Text("TOTAL".into())
            } else {
                Cell::Null
            }
        })
        .collect();
    total.extend(metric_cells(&r.total));
    t.total = Some(total);
    t.json_head.push(("group_by".into(), json!(by)));
    t.json_tail = json_tail(r);
    t
}

/// What a report's JSON says after its total: the models without a price, those priced
/// at another provider's, and recorded costs that disagree with the computed ones.
pub(super) fn json_tail(r: &CostReport) -> Vec<(String, Value)> {
    let mut tail = Vec::new();
    let unpriced: Vec<Value> = r
        .unpriced_models
        .iter()
        .map(|u| json!({"model": u.model, "calls": u.calls, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens}))
        .collect();
    tail.push(("unpriced_models".into(), Value::Array(unpriced)));
    let fallback: Vec<Value> = r
        .fallback_priced
        .iter()
        .map(|f| json!({"model": f.model, "calls": f.calls, "reason": f.reason}))
        .collect();
    tail.push(("fallback_priced".into(), Value::Array(fallback)));
    let mismatches: Vec<Value> = r
        .recorded_mismatches
        .iter()
        .map(|m| {
            // A diagnostic: to the precision of a float, as the recorded cost was.
            let f = |d: rust_decimal::Decimal| d.to_string().parse::<f64>().unwrap_or(f64::NAN);
            json!({"model": m.model, "calls": m.calls, "recorded_usd": f(m.recorded_usd), "computed_usd": f(m.computed_usd)})
        })
        .collect();
    tail.push(("recorded_cost_mismatch".into(), Value::Array(mismatches)));
    tail
}

/// Once, when the report's calls are newer than the price table: prices may have changed.
fn report_stale(r: &CostReport, source: &traces::pricing::PriceSource) {
    let Some(newest) = r.newest_call else { return };
    let day = chrono::DateTime::from_timestamp_nanos(newest).date_naive();
    if day > source.as_of {
        super::say::warn(format_args!(
            "calls up to {day} are newer than the price table ({} as of {}); prices may have changed since (`traces pricing update FILE` takes a newer LiteLLM price file)",
            source.table, source.as_of
        ));
    }
}

fn report_unpriced(r: &CostReport, calls: &Calls) {
    for f in &r.fallback_priced {
        super::say::warn(format_args!(
            "{} call(s) of {:?} priced at another provider's price: {} (give the serving provider's price with --pricing FILE)",
            f.calls, f.model, f.reason
        ));
    }
    for u in &r.unpriced_models {
        super::say::warn(format_args!(
            "no price for model {:?}: {} call(s), {} input and {} output tokens not in cost_usd (add it with --pricing FILE)",
            u.model,
            u.calls,
            group_digits(&u.input_tokens.to_string()),
            group_digits(&u.output_tokens.to_string())
        ));
    }
    for m in &r.recorded_mismatches {
        super::say::warn(format_args!(
            "{} call(s) of {:?} recorded a cost of ${:.6} but cost ${} at the price table's rates: the producer priced them otherwise, or recorded other tokens than it priced",
            m.calls, m.model, m.recorded_usd, m.computed_usd
        ));
    }
    if calls.repeated_span_ids > 0 {
        super::say::warn(format_args!(
            "{} span(s) repeat the id of an earlier span of their trace ({} of them with other content): the first is counted, as an import keeps it",
            calls.repeated_span_ids, calls.repeated_span_ids_differing
        ));
    }
    if calls.without_usage() > 0 {
        super::say::warn(format_args!(
            "{} LLM span(s) recorded no token usage and are not counted",
            calls.without_usage()
        ));
    }
}
