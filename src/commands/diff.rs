//! `traces diff BASE HEAD`: the baseline gate's comparison as a report, per root span
//! name or `--by` dimension, every member of either side, the largest change of cost
//! first. Options: `--by`, `--format`; `--pricing` (global).

use super::UsageError;
use crate::cli::DiffArgs;
use anyhow::Result;
use rust_decimal::Decimal;
use std::path::PathBuf;
use traces::analysis::budget::{self, MemberDiff};
use traces::analysis::cost_report::{Dim, Metrics};
use traces::analysis::store_set::StoreSet;
use traces::pricing::Pricing;
use traces::render::{Cell, Column, Kind, Table, to_stdout};
use traces::semconv::RefusedValues;
use traces::store::Store;

pub fn run(pricing_files: &[PathBuf], args: &DiffArgs) -> Result<()> {
    let dim: Dim = args.by.parse().map_err(UsageError)?;
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = Pricing::load(&paths)?;
    let (base_paths, head_paths) = ([args.base.clone()], [args.head.clone()]);
    let (base_store, head_store) = (
        StoreSet::one(Store::at(&args.base)),
        StoreSet::one(Store::at(&args.head)),
    );
    let base = super::check::source_at(&base_paths, &base_store);
    let head = super::check::source_at(&head_paths, &head_store);
    let refused = RefusedValues::keeping(super::say::problems_shown());
    let reports = budget::reports_by(base, head, &pricing, &dim, &refused);
    super::say::warn_lines(&refused.warnings());
    let (b, h) = reports.map_err(super::ask::source_error)?;
    let diffs = budget::diff(&b, &h);
    if diffs.is_empty() {
        super::say::warn(format_args!(
            "no calls in {} nor in {}",
            args.base.display(),
            args.head.display()
        ));
    }
    to_stdout(
        args.output.format,
        &super::say::view(&args.output),
        &table(&diffs, &dim),
    )?;
    Ok(())
}

/// `new`, `vanished`, `changed` or `same` (in calls, tokens and cost).
fn status(d: &MemberDiff) -> &'static str {
    match (d.base, d.head) {
        (None, _) => "new",
        (_, None) => "vanished",
        (Some(b), Some(h)) => {
            if (b.calls, b.total_tokens(), b.cost_usd) == (h.calls, h.total_tokens(), h.cost_usd) {
                "same"
            } else {
                "changed"
            }
        }
    }
}

fn table(diffs: &[MemberDiff], by: &Dim) -> Table<'static> {
    let mut t = Table::new(vec![
        Column::key(&by.field(), &by.label()),
        Column::new("status", "Status", Kind::Text, Column::KEEP),
        Column::new("base_calls", "Calls before", Kind::Count, 30),
        Column::new("head_calls", "Calls", Kind::Count, 40),
        Column::new("base_total_tokens", "Tokens before", Kind::Count, 50),
        Column::new("head_total_tokens", "Tokens", Kind::Count, 60),
        Column::new("total_tokens_change", "Tokens +/-", Kind::Count, 70),
        Column::new("base_cost_usd", "Cost before", Kind::Money, Column::KEEP),
        Column::new("head_cost_usd", "Cost", Kind::Money, Column::KEEP),
        Column::new("cost_change_usd", "Cost +/-", Kind::Money, Column::KEEP),
        Column::new("cost_change_pct", "Cost +/- %", Kind::Text, 80),
    ]);
    let zero = Metrics::default();
    for d in diffs {
        let (b, h) = (d.base.unwrap_or(&zero), d.head.unwrap_or(&zero));
        let side = |m: Option<&Metrics>, f: fn(&Metrics) -> Cell| m.map_or(Cell::Null, f);
        let change = d.cost_change();
        let pct = (!b.cost_usd.is_zero() && d.base.is_some()).then(|| {
            let p = (change * Decimal::ONE_HUNDRED / b.cost_usd).round_dp(2);
            Cell::Exact(p.normalize().to_string())
        });
        t.rows.push(vec![
            Cell::Text(d.member.clone()),
            Cell::Text(status(d).into()),
            side(d.base, |m| Cell::Int(m.calls as i64)),
            side(d.head, |m| Cell::Int(m.calls as i64)),
            side(d.base, |m| Cell::Int(m.total_tokens())),
            side(d.head, |m| Cell::Int(m.total_tokens())),
            Cell::Int(h.total_tokens().saturating_sub(b.total_tokens())),
            side(d.base, |m| Cell::Exact(m.cost_usd.normalize().to_string())),
            side(d.head, |m| Cell::Exact(m.cost_usd.normalize().to_string())),
            Cell::Exact(change.normalize().to_string()),
            pct.unwrap_or(Cell::Null),
        ]);
    }
    t
}
