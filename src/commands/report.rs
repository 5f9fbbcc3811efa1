//! `traces report --html FILE [DUMP...]`: one self-contained HTML page of the calls the
//! filters keep (the filters of `traces cost`), with `--traces N` of the costliest
//! traces detailed as `traces show` builds them; `--pricing` (global).

use crate::cli::HtmlReportArgs;
use anyhow::Result;
use std::path::PathBuf;
use traces::analysis::report::{ReportDataError, build};
use traces::analysis::source::Source;
use traces::analysis::store_set::StoreSet;
use traces::pricing::Pricing;
use traces::render::html::{PageInfo, page};
use traces::semconv::RefusedValues;

/// A report of no call: the page would say nothing, so none is written.
#[derive(Debug, thiserror::Error)]
#[error("{0}: no report written")]
pub struct NothingToReport(pub String);

pub fn run(stores: &StoreSet, pricing_files: &[PathBuf], args: &HtmlReportArgs) -> Result<()> {
    let (filter, attr_keys) = super::ask::filter(&args.filter, &[])?;
    if args.paths.is_empty() {
        super::require_store(stores, "report")?;
    }
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = Pricing::load(&paths)?;
    let refused = RefusedValues::keeping(super::say::problems_shown());
    let source = Source::of(stores, &args.paths);
    let answer = build(source, &pricing, &filter, &attr_keys, &refused, args.traces);
    super::say::warn_lines(&refused.warnings());
    let data = answer.map_err(|e| match e {
        ReportDataError::Source(e) => super::ask::source_error(e),
        ReportDataError::Show(e) => e.into(),
    })?;
    if data.total.total.calls == 0 {
        return Err(NothingToReport(super::ask::no_calls(&args.filter, &args.paths)).into());
    }
    let info = PageInfo {
        source: if args.paths.is_empty() {
            let s = if stores.stores().len() > 1 { "s" } else { "" };
            format!("store{s} {}", stores.roots())
        } else {
            let names: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
            format!("dumps {}", names.join(", "))
        },
        filters: filters(&args.filter),
        generated: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let html = page(&data, &info);
    super::check::write_whole(&args.html, html.as_bytes())?;
    super::cost::warn_after(&data.total, &data.calls, pricing.source(), false)?;
    super::say::note(format_args!(
        "wrote {} ({} KB): {} calls, {} traces, {} detailed",
        args.html.display(),
        html.len().div_ceil(1024),
        data.total.total.calls,
        data.traces,
        data.top.len()
    ));
    Ok(())
}

fn filters(f: &crate::cli::FilterArgs) -> Vec<String> {
    let mut out = Vec::new();
    for (name, v) in [
        ("since", &f.since),
        ("until", &f.until),
        ("model", &f.model),
        ("service", &f.service),
        ("session", &f.session),
        ("user", &f.user),
        ("trace", &f.trace),
    ] {
        if let Some(v) = v {
            out.push(format!("--{name} {v}"));
        }
    }
    out.extend(f.where_.iter().map(|w| format!("--where {w}")));
    out
}
