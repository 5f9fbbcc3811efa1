//! `traces pricing list` and `traces pricing match MODEL`: the table in force, and how a
//! model name resolves in it.

use super::UsageError;
use crate::cli::{ExportFormat, PricingCommand};
use anyhow::Result;
use std::path::PathBuf;
use traces::pricing::Pricing;
use traces::pricing::table::{PricingError, Rates};
use traces::render::{Cell, Column, Kind, OutputFormat, Table, to_stdout};

fn price(d: Option<rust_decimal::Decimal>) -> Cell {
    d.map_or(Cell::Null, |d| Cell::Exact(d.normalize().to_string()))
}

/// `cache_write_5m` → `Cache write 5m`.
fn rate_label(name: &str) -> String {
    let spaced = name.replace('_', " ").replace("cached input", "cached");
    let mut c = spaced.chars();
    c.next()
        .map(|h| h.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What reports say of the price table they used, under `"pricing"` in JSON.
pub fn source_json(s: &traces::pricing::PriceSource) -> serde_json::Value {
    serde_json::json!({"table": s.table, "as_of": s.as_of.to_string(), "overrides": s.overrides})
}

/// `traces pricing update FILE`: checks the file as a price table, then keeps a copy
/// where later runs read it (written aside and renamed, so a failed copy leaves the
/// previous table in force).
fn update(file: &std::path::Path) -> Result<()> {
    let (name, text) = traces::pricing::read_file(file)?;
    let models = traces::pricing::table::parse_litellm(&text, &name)?;
    if models.is_empty() {
        return Err(PricingError::Invalid {
            file: name,
            message:
                "no model priced per token: expected LiteLLM's model_prices_and_context_window.json"
                    .into(),
        }
        .into());
    }
    let dest = traces::pricing::user_price_file()
        .ok_or_else(|| anyhow::anyhow!("no config directory for this user (is $HOME set?)"))?;
    let dir = dest.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".litellm_prices.json.tmp");
    std::fs::write(&tmp, &text)?;
    std::fs::rename(&tmp, &dest)?;
    println!(
        "{} models priced per token from {name} are now the price table (kept at {}); the shipped prices still fill its gaps. Delete that file to go back to the shipped table.",
        models.len(),
        dest.display()
    );
    Ok(())
}

/// `traces pricing export`: the rows of `pricing::export`, written whole to a file
/// aside and renamed, so a failed export leaves no half table for an engine to read.
fn export(pricing: &Pricing, format: ExportFormat, output: Option<&std::path::Path>) -> Result<()> {
    use std::io::Write;
    use traces::pricing::export;
    let rows = export::rows(pricing)?;
    let mut bytes = Vec::new();
    match format {
        ExportFormat::Parquet => {
            let mut df = export::frame(&rows)?;
            polars::prelude::ParquetWriter::new(&mut bytes).finish(&mut df)?;
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut bytes);
            if let Some(first) = rows.first() {
                w.write_record(export::fields(first).iter().map(|(k, _)| k))?;
            }
            for r in &rows {
                w.write_record(
                    export::fields(r)
                        .iter()
                        .map(|(_, v)| v.as_deref().unwrap_or_default()),
                )?;
            }
            w.flush()?;
        }
        ExportFormat::Json => {
            // Rates as strings: a JSON number is read back as a float by most readers.
            let doc: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    export::fields(r)
                        .into_iter()
                        .map(|(k, v)| (k, v.map_or(serde_json::Value::Null, Into::into)))
                        .collect()
                })
                .collect();
            serde_json::to_writer(&mut bytes, &doc)?;
            bytes.push(b'\n');
        }
    }
    match output {
        None => std::io::stdout().lock().write_all(&bytes)?,
        Some(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let tmp = path.with_file_name(format!(".{name}.tmp"));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, path)?;
        }
    }
    Ok(())
}

pub fn run(pricing_files: &[PathBuf], cmd: &PricingCommand) -> Result<()> {
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = Pricing::load(&paths)?;
    let today = chrono::Utc::now().date_naive();
    match cmd {
        PricingCommand::List { output } => {
            let format = output.format;
            let mut columns = vec![
                Column::key("model", "Model"),
                Column::new("provider", "Provider", Kind::Text, 75),
            ];
            // Input and output matter most; the rarer classes go first when narrow.
            let rate_ranks = [90, 70, 60, 40, 90, 50, 30, 30, 30];
            columns.extend(
                Rates::default()
                    .named()
                    .into_iter()
                    .zip(rate_ranks)
                    .map(|((name, _), rank)| {
                        Column::new(name, &rate_label(name), Kind::Price, rank)
                    }),
            );
            columns.extend([
                Column::new("long_context", "Long context", Kind::Text, 20),
                Column::new("service_tiers", "Tiers", Kind::Text, 20),
                Column::new("since", "Since", Kind::Time, 10),
                Column::new("source", "Source", Kind::Text, 5),
            ]);
            let mut t = Table::new(columns);
            let mut entries: Vec<_> = pricing.entries().iter().collect();
            entries.sort_by(|a, b| (&a.provider, &a.id).cmp(&(&b.provider, &b.id)));
            for e in entries {
                let Some(v) = e.version_at(Some(today)) else {
                    continue;
                };
                let r: &Rates = &v.rates;
                let tiers: Vec<String> = v
                    .tiers
                    .iter()
                    .map(|t| format!("above {}", t.above_input_tokens))
                    .collect();
                let st: Vec<&str> = v.service_tier.keys().map(String::as_str).collect();
                let mut row = vec![Cell::Text(e.id.clone()), Cell::Text(e.provider.clone())];
                row.extend(r.named().map(|(_, rate)| price(rate)));
                row.extend([
                    Cell::Text(tiers.join(", ")),
                    Cell::Text(st.join(", ")),
                    v.since.map_or(Cell::Null, |d| Cell::Text(d.to_string())),
                    Cell::Text(e.source.clone()),
                ]);
                t.rows.push(row);
            }
            t.json_head
                .push(("pricing".into(), source_json(pricing.source())));
            to_stdout(format, &super::say::view(output), &t)?;
            if format == OutputFormat::Table {
                let src = pricing.source();
                println!(
                    "{} models; prices in USD per million tokens, in force today; table: {} as of {}",
                    t.rows.len(),
                    src.table,
                    src.as_of
                );
            }
        }
        PricingCommand::Update { file } => update(file)?,
        PricingCommand::Export { format, output } => export(&pricing, *format, output.as_deref())?,
        PricingCommand::Match { model, provider } => {
            match pricing.resolve(model, provider.as_deref()) {
                None => {
                    println!("{model:?}: no price in the table (add one with --pricing FILE)");
                    return Err(UsageError(format!("no price for {model:?}")).into());
                }
                Some((r, e)) => {
                    println!("{model:?} → {} ({})", e.id, e.provider);
                    if r.steps.is_empty() {
                        println!("  exact name in the table");
                    }
                    for s in &r.steps {
                        println!("  {s}");
                    }
                    println!("  matched {:?}; source: {}", r.matched, e.source);
                    if let Some(f) = &r.fallback {
                        println!("  fallback: {f}; reports count it in fallback_priced_calls");
                    }
                    if let Some(n) = &e.note {
                        println!("  note: {n}");
                    }
                    for v in &e.prices {
                        let since = v
                            .since
                            .map_or("from the start".to_string(), |d| format!("since {d}"));
                        let r = &v.rates;
                        let f = |d: Option<rust_decimal::Decimal>| {
                            d.map_or("-".to_string(), |d| d.normalize().to_string())
                        };
                        println!(
                            "  {since}: input {} cached {} cache write {} output {} reasoning {} (USD per 1M tokens)",
                            f(r.input),
                            f(r.cached_input),
                            f(r.cache_write_5m),
                            f(r.output),
                            f(r.reasoning.or(r.output))
                        );
                        for t in &v.tiers {
                            println!(
                                "    above {} input tokens: input {} output {}",
                                t.above_input_tokens,
                                f(t.rates.input),
                                f(t.rates.output)
                            );
                        }
                        for (name, st) in &v.service_tier {
                            println!(
                                "    service tier {name}: input {} output {}",
                                f(st.input),
                                f(st.output)
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
