//! `traces check --budget FILE [DUMP...]`: every rule of a budget checked over the store
//! or the dumps; a table (or JSON, CSV, Markdown) of each limit with its worst members,
//! then a one-line summary; or JUnit XML or GitHub annotations for CI, to stdout or a
//! file (`--output`). Exit 1 when a `fail` rule is exceeded. Options: `--top`,
//! `--format`, `--output`; `--pricing` (global).

use super::UsageError;
use crate::cli::{CheckArgs, CheckFormat};
use anyhow::{Context, Result};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use traces::analysis::budget::{
    self, Budget, Comparison, Finding, Gate, Level, LimitCheck, Metric, Stat, Verdict,
};
use traces::analysis::cost_report::Dim;
use traces::analysis::source::Source;
use traces::analysis::store_set::StoreSet;
use traces::pricing::Pricing;
use traces::render::github::{self, Annotation, Level as AnnotationLevel};
use traces::render::junit::{self, Case, Suite};
use traces::render::{
    Cell, Column, Kind, OutputFormat, Table, exact_number, group_digits, renderer, utc_millis,
};
use traces::semconv::RefusedValues;
use traces::store::Store;

/// A budget with a `fail` rule exceeded: exit 1.
#[derive(Debug, thiserror::Error)]
#[error("budget exceeded: {0}")]
pub struct Exceeded(pub String);

pub fn run(stores: &StoreSet, pricing_files: &[PathBuf], args: &CheckArgs) -> Result<()> {
    check(stores, pricing_files, args, &args.paths)
}

/// `check ... -- CMD`: records the command's traces (into the store, as `traces record`
/// does), then checks what this run sent, and only that. The command's failure comes
/// first: its status when it failed, whatever the check says (which is still printed).
pub fn run_with_command(store: &Store, pricing_files: &[PathBuf], args: &CheckArgs) -> Result<u8> {
    let spool = tempfile::tempdir().context("cannot make a temporary directory")?;
    let dump = spool.path().join("run.jsonl");
    let code = super::record::record_run(store, &args.receiver, &dump, &args.command)?;
    let langfuse = traces::receive::dump::langfuse_path(&dump);
    let run: Vec<PathBuf> = [dump, langfuse]
        .into_iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .collect();
    if run.is_empty() {
        // A check of nothing would pass: an exporter pointed elsewhere must not.
        super::say::error(format_args!(
            "{} sent no traces: nothing was checked (do its SDKs export over OTLP or to Langfuse? see `traces record --help`)",
            args.command[0].to_string_lossy()
        ));
        return Ok(if code != 0 { code } else { 1 });
    }
    super::import::import(
        store,
        pricing_files,
        &crate::cli::ImportArgs {
            paths: run.clone(),
            format: "auto".into(),
            skip_invalid: true,
            max_inflation: traces::ingest::decompress::MAX_INFLATION,
        },
        super::import::Summary::Stderr,
    )?;
    let checked = check(&StoreSet::one(store.clone()), pricing_files, args, &run);
    match (code, checked) {
        (0, Ok(())) => Ok(0),
        (0, Err(e)) => Err(e),
        (c, Ok(())) => Ok(c),
        (c, Err(e)) => {
            if e.downcast_ref::<Exceeded>().is_none() {
                super::say::error(format_args!("{e:#}"));
            }
            Ok(c)
        }
    }
}

fn check(
    stores: &StoreSet,
    pricing_files: &[PathBuf],
    args: &CheckArgs,
    dumps: &[PathBuf],
) -> Result<()> {
    let budget = match &args.budget {
        Some(file) => budget::load(file, chrono::Utc::now())?,
        None => Budget {
            file: String::new(),
            rules: Vec::new(),
        },
    };
    let gate = gate(args)?;
    if dumps.is_empty() {
        super::require_store(stores, "check")?;
    }
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = Pricing::load(&paths)?;
    let refused = RefusedValues::keeping(super::say::problems_shown());
    let head = Source::of(stores, dumps);
    let answer = budget::check(&budget, head, &pricing, &refused);
    super::say::warn_lines(&refused.warnings());
    let verdicts = answer.map_err(super::ask::source_error)?;
    let comparison = match &gate {
        Some((dim, gate)) => Some(compare(args, head, &pricing, dim, gate)?),
        None => None,
    };
    let summary = summary(&verdicts, comparison.as_ref());
    let mut table = table(&verdicts, args.top);
    if let Some(c) = &comparison {
        baseline_rows(&mut table, c, &args.by, args.top);
    }
    let mut view = super::say::table_view(&args.table);
    if args.output.is_some() {
        // A file is not the terminal that stdout may be.
        view.color = false;
        view.width = args.table.width.unwrap_or(100);
    }
    let forecasts = forecasts(&verdicts);
    let mut report: Vec<u8> = Vec::new();
    match args.format {
        CheckFormat::Json => {
            let mut doc = serde_json::to_value(doc(&budget.file, &verdicts))?;
            if let Some(c) = &comparison {
                doc["baseline"] = baseline_json(c, &args.by);
                if !c.held() {
                    doc["status"] = "fail".into();
                }
            }
            serde_json::to_writer_pretty(&mut report, &doc)?;
            writeln!(report)?;
        }
        CheckFormat::Markdown => {
            writeln!(report, "**traces check: {}**\n", summary.line)?;
            renderer(OutputFormat::Markdown, &view).render(&table, &mut report)?;
            for f in &forecasts {
                writeln!(report, "\n> warning: {}", f.line)?;
            }
        }
        CheckFormat::Junit => junit::write(
            "traces check",
            &junit_suites(&verdicts, comparison.as_ref(), &args.by, &forecasts),
            &mut report,
        )?,
        CheckFormat::Github => github::write(
            &annotations(&verdicts, comparison.as_ref(), &args.by, &forecasts),
            &mut report,
        )?,
        CheckFormat::Table => {
            renderer(OutputFormat::Table, &view).render(&table, &mut report)?;
            for f in &forecasts {
                writeln!(report, "warning: {}", f.line)?;
            }
        }
        CheckFormat::Csv => renderer(OutputFormat::Csv, &view).render(&table, &mut report)?,
    }
    let mut out = std::io::stdout().lock();
    match &args.output {
        Some(file) => {
            write_whole(file, &report)?;
            writeln!(out, "{}", summary.line)?;
        }
        None => {
            out.write_all(&report)?;
            if matches!(args.format, CheckFormat::Table | CheckFormat::Github) {
                writeln!(out, "{}", summary.line)?;
            }
        }
    }
    out.flush()?;
    if summary.failed.is_empty() {
        Ok(())
    } else {
        Err(Exceeded(summary.failed.join(", ")).into())
    }
}

/// Writes `bytes` to a file beside `file` and renames it over `file`: a reader (a CI
/// step publishing the report) never sees half a report, even when the run is killed.
pub(super) fn write_whole(file: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let context = || format!("cannot write {}", file.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(context)?;
    tmp.write_all(bytes).with_context(context)?;
    tmp.persist(file)
        .map_err(|e| e.error)
        .with_context(context)?;
    Ok(())
}

/// `max_cost_usd: limit 0.05, actual 0.0612, margin -0.0112`, and the models whose
/// cost is unknown.
fn offense(c: &LimitCheck, f: &Finding) -> String {
    let m = c.limit.metric;
    let mut s = format!(
        "{}: limit {}, actual {}, margin {}",
        c.limit.key,
        value_text(m, c.limit.value),
        value_text(m, f.value),
        value_text(m, c.limit.margin(f.value))
    );
    if !f.unpriced_models.is_empty() {
        s.push_str(&format!(
            ", cost unknown: no price for {}",
            f.unpriced_models.join(", ")
        ));
    }
    s
}

/// A warning that a period is heading past a limit.
struct Forecast {
    rule: usize,
    title: String,
    period: String,
    line: String,
}

/// `week 2026-W48: $31.20 of $40.00, crossing on Friday at this rate`: for each period
/// limit whose latest period, at its rate so far, crosses its limit before it ends.
fn forecasts(verdicts: &[Verdict]) -> Vec<Forecast> {
    let mut out = Vec::new();
    for v in verdicts {
        for c in &v.checks {
            let Some(p) = &c.projection else { continue };
            let Some(at) = p.crosses_at else { continue };
            let at = chrono::DateTime::from_timestamp_nanos(at);
            let when = match v.rule.scope {
                budget::Scope::Day => at.format("at %H:%M UTC").to_string(),
                budget::Scope::Week => at.format("on %A").to_string(),
                _ => at.format("on %A %Y-%m-%d").to_string(),
            };
            let amount = |d: Decimal| match c.limit.metric {
                Metric::CostUsd => money(d),
                m => group_digits(&value_text(m, d)),
            };
            let unit = match c.limit.metric {
                Metric::CostUsd => String::new(),
                _ => format!(" {}", c.limit.key.trim_start_matches("max_")),
            };
            out.push(Forecast {
                rule: v.rule.index,
                title: rule_title(v),
                period: p.period.clone(),
                line: format!(
                    "{} {}: {} of {}{unit}, crossing {when} at this rate",
                    v.rule.scope.name(),
                    p.period,
                    amount(p.value),
                    amount(c.limit.value)
                ),
            });
        }
    }
    out
}

/// Dollars with at least two decimals, and every one they have.
fn money(d: Decimal) -> String {
    let n = d.normalize();
    if n.scale() < 2 {
        format!("${n:.2}")
    } else {
        format!("${n}")
    }
}

/// `trace 4bf9…`, or for a percentile `p95 of 12 traces`, which names its scope.
fn member_label(v: &Verdict, c: &LimitCheck, f: &Finding) -> String {
    match c.limit.stat {
        Stat::Each => format!("{} {}", v.rule.scope.name(), f.member),
        Stat::Percentile(_) => f.member.clone(),
    }
}

fn rule_title(v: &Verdict) -> String {
    v.rule
        .name
        .clone()
        .unwrap_or_else(|| format!("rule {}", v.rule.index))
}

/// A suite per rule: a case per member (when the rule limits each member) with a
/// failure per limit of a fail rule it exceeds, a case per percentile limit; warnings
/// are notes on passing cases. Then a suite of the baseline's members, if any.
fn junit_suites(
    verdicts: &[Verdict],
    baseline: Option<&Comparison>,
    by: &str,
    forecasts: &[Forecast],
) -> Vec<Suite> {
    let mut suites = Vec::new();
    for v in verdicts {
        let title = rule_title(v);
        let scope = v.rule.scope.name();
        let note = |c: &LimitCheck, f: &Finding, case: &mut Case| {
            let text = offense(c, f);
            match v.rule.level {
                Level::Fail => case.failures.push((
                    text.clone(),
                    format!("{}: {}: {text}", v.rule.label(), member_label(v, c, f)),
                )),
                Level::Warn => case.system_out.push(format!("warning: {text}")),
            }
        };
        let mut cases = Vec::new();
        if v.checks.iter().any(|c| c.limit.stat == Stat::Each) {
            let mut by_member: BTreeMap<&str, Vec<(&LimitCheck, &Finding)>> = BTreeMap::new();
            for c in v.checks.iter().filter(|c| c.limit.stat == Stat::Each) {
                for f in &c.offenders {
                    by_member.entry(&f.member).or_default().push((c, f));
                }
            }
            for m in &v.member_keys {
                let mut case = Case {
                    classname: title.clone(),
                    name: format!("{scope} {m}"),
                    ..Default::default()
                };
                for (c, f) in by_member.get(m.as_str()).into_iter().flatten() {
                    note(c, f, &mut case);
                }
                for f in forecasts {
                    if f.rule == v.rule.index && f.period == *m {
                        case.system_out.push(format!("warning: {}", f.line));
                    }
                }
                cases.push(case);
            }
        }
        for c in v.checks.iter().filter(|c| c.limit.stat != Stat::Each) {
            let mut case = Case {
                classname: title.clone(),
                name: c.worst.as_ref().map_or_else(
                    || format!("{} (no members)", c.limit.key),
                    |f| format!("{} {}", c.limit.key, f.member),
                ),
                ..Default::default()
            };
            for f in &c.offenders {
                note(c, f, &mut case);
            }
            cases.push(case);
        }
        suites.push(Suite { name: title, cases });
    }
    if let Some(c) = baseline {
        let classname = format!("baseline by {by}");
        let mut cases: Vec<Case> = Vec::new();
        for ch in &c.changes {
            let name = format!("{by} {}", ch.member);
            if cases.last().is_none_or(|x| x.name != name) {
                cases.push(Case {
                    classname: classname.clone(),
                    name,
                    ..Default::default()
                });
            }
            if ch.exceeded
                && let Some(case) = cases.last_mut()
            {
                let text = change_text(ch);
                case.failures.push((text.clone(), text));
            }
        }
        for (status, list) in [("new", &c.new), ("vanished", &c.vanished)] {
            for (member, cost) in list {
                cases.push(Case {
                    classname: classname.clone(),
                    name: format!("{by} {member}"),
                    system_out: vec![format!(
                        "{status} member: cost_usd {}",
                        value_text(Metric::CostUsd, *cost)
                    )],
                    ..Default::default()
                });
            }
        }
        suites.push(Suite {
            name: "baseline".into(),
            cases,
        });
    }
    suites
}

/// `cost_usd 0.01 -> 0.013, allowed 0.011 (+10%)`.
fn change_text(ch: &budget::Change) -> String {
    let m = if ch.metric == "cost_usd" {
        Metric::CostUsd
    } else {
        Metric::Calls
    };
    format!(
        "{} {} -> {}, allowed {} ({})",
        ch.metric,
        value_text(m, ch.base),
        value_text(m, ch.head),
        value_text(m, ch.allowed),
        ch.limit
    )
}

/// An `::error` per offender of a fail rule and per change over the baseline's
/// allowance, a `::warning` per offender of a warn rule.
fn annotations(
    verdicts: &[Verdict],
    baseline: Option<&Comparison>,
    by: &str,
    forecasts: &[Forecast],
) -> Vec<Annotation> {
    let mut out = Vec::new();
    for v in verdicts {
        let level = match v.rule.level {
            Level::Fail => AnnotationLevel::Error,
            Level::Warn => AnnotationLevel::Warning,
        };
        for c in &v.checks {
            for f in &c.offenders {
                out.push(Annotation {
                    level,
                    title: format!("traces check: {}", rule_title(v)),
                    message: format!("{}: {}", member_label(v, c, f), offense(c, f)),
                });
            }
        }
    }
    for ch in baseline
        .iter()
        .flat_map(|c| &c.changes)
        .filter(|ch| ch.exceeded)
    {
        out.push(Annotation {
            level: AnnotationLevel::Error,
            title: "traces check: baseline".into(),
            message: format!("{by} {}: {}", ch.member, change_text(ch)),
        });
    }
    for f in forecasts {
        out.push(Annotation {
            level: AnnotationLevel::Warning,
            title: format!("traces check: {} (forecast)", f.title),
            message: f.line.clone(),
        });
    }
    // Errors first, as the text report puts failures first.
    out.sort_by_key(|a| a.level != AnnotationLevel::Error);
    out
}

/// The baseline gate's dimension and allowances, when a baseline is given.
fn gate(args: &CheckArgs) -> Result<Option<(Dim, Gate)>> {
    if args.baseline.is_empty() {
        return Ok(None);
    }
    let dim: Dim = args.by.parse().map_err(UsageError)?;
    let max_increase_pct = args
        .max_increase
        .as_deref()
        .map(budget::parse_percent)
        .transpose()
        .map_err(UsageError)?;
    if args.max_increase_usd.is_some_and(|d| d.is_sign_negative()) {
        return Err(UsageError("--max-increase-usd cannot be negative".into()).into());
    }
    Ok(Some((
        dim,
        Gate {
            max_increase_pct,
            max_increase_usd: args.max_increase_usd,
        },
    )))
}

/// A store when `paths` is one directory holding one, else the paths as dumps; `store`
/// is where the caller keeps the store of `paths[0]`.
pub fn source_at<'a>(paths: &'a [PathBuf], store: &'a StoreSet) -> Source<'a> {
    if paths.len() == 1 && store.missing().is_none() {
        Source::Stores(store)
    } else {
        Source::Dumps(paths)
    }
}

/// The checked calls against the baseline's, grouped by `dim`.
fn compare(
    args: &CheckArgs,
    head: Source,
    pricing: &Pricing,
    dim: &Dim,
    gate: &Gate,
) -> Result<Comparison> {
    let base_store = StoreSet::one(Store::at(&args.baseline[0]));
    let base = source_at(&args.baseline, &base_store);
    let refused = RefusedValues::keeping(super::say::problems_shown());
    let reports = budget::reports_by(base, head, pricing, dim, &refused);
    super::say::warn_lines(&refused.warnings());
    let (b, h) = reports.map_err(super::ask::source_error)?;
    Ok(budget::compare(&b, &h, gate))
}

fn baseline_rows(t: &mut Table, c: &Comparison, by: &str, top: usize) {
    let text = |s: &str| Cell::Text(s.to_string());
    let metric_of = |m: &str| {
        if m == "cost_usd" {
            Metric::CostUsd
        } else {
            Metric::Calls
        }
    };
    let mut fails = Vec::new();
    let mut rest = Vec::new();
    for ch in &c.changes {
        let m = metric_of(ch.metric);
        let row = vec![
            text(if ch.exceeded { "FAIL" } else { "ok" }),
            text("baseline"),
            text(by),
            text(&format!("{} {}", ch.metric, ch.limit)),
            text(&ch.member),
            Cell::Exact(value_text(m, ch.head)),
            Cell::Exact(value_text(m, ch.allowed)),
            Cell::Exact(value_text(m, ch.allowed - ch.head)),
        ];
        if ch.exceeded {
            fails.push(row);
        } else {
            rest.push(row);
        }
    }
    let shown = fails.len().min(top);
    let more = fails.len() - shown;
    let mut rows: Vec<Vec<Cell>> = fails.into_iter().take(shown).collect();
    if more > 0 {
        let mut r = vec![Cell::Null; 8];
        r[0] = text("FAIL");
        r[1] = text("baseline");
        r[4] = Cell::Text(format!("(and {more} more)"));
        rows.push(r);
    }
    // Of the changes that held, the closest to its allowance.
    rows.extend(rest.into_iter().take(1));
    for (status, list) in [("new", &c.new), ("vanished", &c.vanished)] {
        for (member, cost) in list {
            rows.push(vec![
                text(status),
                text("baseline"),
                text(by),
                text("cost_usd"),
                text(member),
                Cell::Exact(value_text(Metric::CostUsd, *cost)),
                Cell::Null,
                Cell::Null,
            ]);
        }
    }
    let width = t.columns.len();
    for mut r in rows {
        r.resize(width, Cell::Null);
        // The baseline's failures go with the budget's, before warnings.
        if matches!(&r[0], Cell::Text(s) if s == "FAIL") {
            let at = t
                .rows
                .iter()
                .position(|x| !matches!(&x[0], Cell::Text(s) if s == "FAIL"))
                .unwrap_or(t.rows.len());
            t.rows.insert(at, r);
        } else {
            t.rows.push(r);
        }
    }
}

#[derive(Serialize)]
struct ChangeDoc<'a> {
    member: &'a str,
    metric: &'a str,
    limit: &'a str,
    #[serde(serialize_with = "exact_number")]
    base: Decimal,
    #[serde(serialize_with = "exact_number")]
    head: Decimal,
    #[serde(serialize_with = "exact_number")]
    allowed: Decimal,
    status: &'static str,
}

#[derive(Serialize)]
struct MemberDoc<'a> {
    member: &'a str,
    #[serde(serialize_with = "exact_number")]
    cost_usd: Decimal,
}

fn baseline_json(c: &Comparison, by: &str) -> serde_json::Value {
    let changes: Vec<ChangeDoc> = c
        .changes
        .iter()
        .map(|ch| ChangeDoc {
            member: &ch.member,
            metric: ch.metric,
            limit: &ch.limit,
            base: ch.base,
            head: ch.head,
            allowed: ch.allowed,
            status: if ch.exceeded { "fail" } else { "ok" },
        })
        .collect();
    fn members(l: &[(String, Decimal)]) -> Vec<MemberDoc<'_>> {
        l.iter()
            .map(|(m, c)| MemberDoc {
                member: m,
                cost_usd: *c,
            })
            .collect()
    }
    serde_json::json!({
        "by": by,
        "status": if c.held() { "ok" } else { "fail" },
        "changes": changes,
        "new": members(&c.new),
        "vanished": members(&c.vanished),
    })
}

struct Summary {
    line: String,
    /// The labels of the fail rules exceeded.
    failed: Vec<String>,
}

fn summary(verdicts: &[Verdict], baseline: Option<&Comparison>) -> Summary {
    let mut failed: Vec<String> = verdicts
        .iter()
        .filter(|v| v.rule.level == Level::Fail && !v.held())
        .map(|v| v.rule.label())
        .collect();
    let warned = verdicts
        .iter()
        .filter(|v| v.rule.level == Level::Warn && !v.held())
        .count();
    let held = verdicts.iter().filter(|v| v.held()).count();
    let offenders: usize = verdicts
        .iter()
        .filter(|v| v.rule.level == Level::Fail)
        .flat_map(|v| &v.checks)
        .map(|c| c.offenders.len())
        .sum();
    let mut baseline_note = String::new();
    if let Some(c) = baseline {
        let grown = c.changes.iter().filter(|ch| ch.exceeded).count();
        if grown > 0 {
            failed.push(format!("{grown} change(s) over the baseline"));
        }
        baseline_note = format!(
            "; baseline: {grown} change(s) over the allowance, {} new, {} vanished",
            c.new.len(),
            c.vanished.len()
        );
    }
    let head = if failed.is_empty() { "ok" } else { "FAILED" };
    let exceeded = verdicts
        .iter()
        .filter(|v| v.rule.level == Level::Fail && !v.held())
        .count();
    let rules = format!(
        "{} rule(s): {exceeded} exceeded ({offenders} offender(s)), {warned} warning(s), {held} held",
        verdicts.len(),
    );
    let line = match (verdicts.is_empty(), baseline_note.strip_prefix("; ")) {
        (true, Some(note)) => format!("{head}: {note}"),
        _ => format!("{head}: {rules}{baseline_note}"),
    };
    Summary { line, failed }
}

fn status(v: &Verdict, c: &LimitCheck) -> &'static str {
    match (c.held(), v.rule.level) {
        (true, _) => "ok",
        (false, Level::Fail) => "FAIL",
        (false, Level::Warn) => "warn",
    }
}

/// A value as a table shows it: ratios to four places, the rest exact.
fn value_text(metric: Metric, d: Decimal) -> String {
    let d = if metric == Metric::CacheHitRatio {
        d.round_dp(4)
    } else {
        d
    };
    let s = d.normalize().to_string();
    if metric == Metric::CostUsd && !s.contains('.') {
        format!("{s}.0")
    } else {
        s
    }
}

/// One row per limit that held (its worst member), one per offender of a limit that did
/// not (at most `top`, the rest counted in one row): failures first, then warnings.
fn table(verdicts: &[Verdict], top: usize) -> Table<'static> {
    let mut t = Table::new(vec![
        Column::key("status", "Status"),
        Column::key("rule", "Rule"),
        Column::new("scope", "Scope", Kind::Text, 60),
        Column::key("limit", "Limit"),
        Column::key("member", "Member"),
        Column::new("value", "Value", Kind::Text, Column::KEEP),
        Column::new("limit_value", "Limit value", Kind::Text, Column::KEEP),
        Column::new("margin", "Margin", Kind::Text, 80),
        Column::new(
            "unpriced_models",
            "Unpriced models",
            Kind::Text,
            Column::KEEP,
        )
        .alerting(),
    ]);
    let mut rows: Vec<(u8, Vec<Cell>)> = Vec::new();
    for v in verdicts {
        for c in &v.checks {
            let st = status(v, c);
            let order = match st {
                "FAIL" => 0,
                "warn" => 1,
                _ => 2,
            };
            let metric = c.limit.metric;
            let row = |f: Option<&Finding>| -> Vec<Cell> {
                let text = |s: String| Cell::Text(s);
                vec![
                    text(st.into()),
                    text(
                        v.rule
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("rule {}", v.rule.index)),
                    ),
                    text(v.rule.scope.name()),
                    text(c.limit.key.clone()),
                    f.map_or(text("(no members)".into()), |f| text(f.member.clone())),
                    f.map_or(Cell::Null, |f| Cell::Exact(value_text(metric, f.value))),
                    Cell::Exact(value_text(metric, c.limit.value)),
                    f.map_or(Cell::Null, |f| {
                        Cell::Exact(value_text(metric, c.limit.margin(f.value)))
                    }),
                    match f {
                        Some(f) if !f.unpriced_models.is_empty() => {
                            Cell::List(f.unpriced_models.clone())
                        }
                        _ => Cell::Null,
                    },
                ]
            };
            if c.held() {
                rows.push((order, row(c.worst.as_ref())));
                continue;
            }
            for f in c.offenders.iter().take(top) {
                rows.push((order, row(Some(f))));
            }
            if c.offenders.len() > top {
                let mut r = row(None);
                r[4] = Cell::Text(format!("(and {} more)", c.offenders.len() - top));
                r[6] = Cell::Null;
                rows.push((order, r));
            }
        }
    }
    rows.sort_by_key(|(o, _)| *o);
    t.rows = rows.into_iter().map(|(_, r)| r).collect();
    // The unpriced models only when there are any: the column is kept whatever the width.
    if t.rows.iter().all(|r| r.last() == Some(&Cell::Null)) {
        t.columns.pop();
        t.rows.iter_mut().for_each(|r| {
            r.pop();
        });
    }
    t
}

#[derive(Serialize)]
struct Doc<'a> {
    budget: &'a str,
    status: &'static str,
    rules: Vec<RuleDoc>,
}

#[derive(Serialize)]
struct RuleDoc {
    index: usize,
    name: Option<String>,
    line: usize,
    scope: String,
    level: &'static str,
    status: &'static str,
    members: usize,
    limits: Vec<LimitDoc>,
}

#[derive(Serialize)]
struct LimitDoc {
    key: String,
    #[serde(serialize_with = "exact_number")]
    limit: Decimal,
    status: &'static str,
    checked: usize,
    offenders: Vec<FindingDoc>,
    worst: Option<FindingDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projection: Option<ProjectionDoc>,
}

#[derive(Serialize)]
struct ProjectionDoc {
    period: String,
    start: String,
    end: String,
    /// The newest call of the period: where the rate is measured to.
    now: String,
    #[serde(serialize_with = "exact_number")]
    value: Decimal,
    #[serde(serialize_with = "exact_number")]
    projected: Decimal,
    crosses_at: Option<String>,
}

#[derive(Serialize)]
struct FindingDoc {
    member: String,
    #[serde(serialize_with = "exact_number")]
    value: Decimal,
    #[serde(serialize_with = "exact_number")]
    margin: Decimal,
    unpriced_models: Vec<String>,
}

fn finding(c: &LimitCheck, f: &Finding) -> FindingDoc {
    FindingDoc {
        member: f.member.clone(),
        value: f.value,
        margin: c.limit.margin(f.value),
        unpriced_models: f.unpriced_models.clone(),
    }
}

fn json_status(v: &Verdict) -> &'static str {
    match (v.held(), v.rule.level) {
        (true, _) => "ok",
        (false, Level::Fail) => "fail",
        (false, Level::Warn) => "warn",
    }
}

fn doc<'a>(file: &'a str, verdicts: &[Verdict]) -> Doc<'a> {
    let rules: Vec<RuleDoc> = verdicts
        .iter()
        .map(|v| RuleDoc {
            index: v.rule.index,
            name: v.rule.name.clone(),
            line: v.rule.line,
            scope: v.rule.scope.name(),
            level: match v.rule.level {
                Level::Fail => "fail",
                Level::Warn => "warn",
            },
            status: json_status(v),
            members: v.members,
            limits: v
                .checks
                .iter()
                .map(|c| LimitDoc {
                    key: c.limit.key.clone(),
                    limit: c.limit.value,
                    status: match status(v, c) {
                        "FAIL" => "fail",
                        s => s,
                    },
                    checked: c.checked,
                    offenders: c.offenders.iter().map(|f| finding(c, f)).collect(),
                    worst: c.worst.as_ref().map(|f| finding(c, f)),
                    projection: c.projection.as_ref().map(|p| ProjectionDoc {
                        period: p.period.clone(),
                        start: utc_millis(p.start),
                        end: utc_millis(p.end),
                        now: utc_millis(p.now),
                        value: p.value,
                        projected: p.projected,
                        crosses_at: p.crosses_at.map(utc_millis),
                    }),
                })
                .collect(),
        })
        .collect();
    let status = if rules.iter().any(|r| r.status == "fail") {
        "fail"
    } else if rules.iter().any(|r| r.status == "warn") {
        "warn"
    } else {
        "ok"
    };
    Doc {
        budget: file,
        status,
        rules,
    }
}
