//! `traces store verify [--repair]` and `traces store compact`.

use anyhow::{Result, bail};
use std::io::{BufRead, IsTerminal, Write};
use traces::analysis::store_set::StoreSet;
use traces::store::Store;
use traces::store::compact::Compaction;
use traces::store::verify::{self, Repair};

/// Every store of the set verified in turn: 0 when each is whole, 1 when one is not.
pub fn verify_each(stores: &StoreSet, yes: bool) -> Result<u8> {
    let mut code = 0;
    for store in stores.stores() {
        code = code.max(verify(store, false, yes)?);
    }
    Ok(code)
}

/// 0 when the store is whole (or was repaired), 1 when it is not.
pub fn verify(store: &Store, repair: bool, yes: bool) -> Result<u8> {
    if !store.exists() {
        bail!(super::UsageError(format!(
            "no store at {}: nothing to verify",
            store.root().display()
        )));
    }
    let v = verify::verify(store)?;
    let mut out = std::io::stdout().lock();
    if v.problems.is_empty() {
        writeln!(
            out,
            "{}: {} segment(s), {} span(s), {} log record(s): every file reads whole",
            store.root().display(),
            v.segments,
            v.spans,
            v.logs
        )?;
        if !v.uncommitted.is_empty() {
            writeln!(
                out,
                "{} file(s) the manifest does not name (left by an interrupted import, or replaced by a compaction), never read; the next import or compaction removes them",
                v.uncommitted.len()
            )?;
        }
        return Ok(0);
    }
    writeln!(
        out,
        "{}: {} problem(s)",
        store.root().display(),
        v.problems.len()
    )?;
    for p in &v.problems {
        writeln!(
            out,
            "  {}: {}\n    repair: {}",
            p.file,
            p.what,
            describe(p.repair)
        )?;
    }
    if !repair {
        writeln!(
            out,
            "Every other command may fail or miss data until it is repaired: traces store verify --repair"
        )?;
        return Ok(1);
    }
    if !yes && !confirmed(&v.problems)? {
        writeln!(out, "Nothing was changed.")?;
        return Ok(1);
    }
    let m = verify::repair(store, &v.problems)?;
    let spans: u64 = m.segments.iter().map(|s| s.spans).sum();
    writeln!(
        out,
        "Repaired: the store now holds {} segment(s), {spans} span(s)",
        m.segments.len()
    )?;
    Ok(0)
}

fn describe(r: Repair) -> String {
    match r {
        Repair::DropSegment { id, spans, logs } => format!(
            "drop segment {id} ({spans} span(s), {logs} log record(s)) from the store; import its sources again to bring them back"
        ),
        Repair::DropTable { id } => format!(
            "forget this table of segment {id}: reports derive it from the spans, the next import writes it again"
        ),
        Repair::RebuildManifest => {
            "make a new manifest of the segment files that read whole (their sources are not known)"
                .into()
        }
    }
}

/// Asks on the terminal; without one, `--yes` is needed.
fn confirmed(problems: &[verify::Problem]) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(super::UsageError(
            "--repair changes the store: confirm on a terminal, or give --yes".into()
        ));
    }
    let spans: u64 = problems
        .iter()
        .filter_map(|p| match p.repair {
            Repair::DropSegment { spans, .. } => Some(spans),
            _ => None,
        })
        .sum();
    eprint!("Repair the store (dropping {spans} span(s) it cannot trust)? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Merges small imports; prints what it did.
pub fn compact(store: &Store, target_spans: u64, target_mb: u64) -> Result<()> {
    require(store, "compact")?;
    let c = traces::store::compact::compact(store, target_spans, target_mb)?;
    let mut out = std::io::stdout().lock();
    if c.merged == 0 && c.migrated == 0 {
        writeln!(
            out,
            "{}: {} import(s), {} span(s): nothing to merge (no run of imports adds up to {} spans and {} MB or fewer)",
            store.root().display(),
            c.imports_before,
            c.spans,
            target_spans,
            target_mb
        )?;
        return Ok(());
    }
    if c.merged > 0 {
        writeln!(
            out,
            "{}: {} import(s) merged into {}: {} import(s) now, in {} segment(s) by day, {} span(s); reports read the same",
            store.root().display(),
            c.merged,
            c.merged - (c.imports_before - c.imports_after),
            c.imports_after,
            c.segments_after,
            c.spans
        )?;
    }
    say_migrated(&mut out, store, &c)?;
    say_replaced(&mut out, &c)
}

/// Lays a store of format 1 out by day; prints what it did.
pub fn migrate(store: &Store) -> Result<()> {
    require(store, "migrate")?;
    let c = traces::store::compact::migrate(store)?;
    let mut out = std::io::stdout().lock();
    if c.migrated == 0 {
        writeln!(
            out,
            "{}: already laid out by day ({} import(s), {} segment(s)): nothing to do",
            store.root().display(),
            c.imports_before,
            c.segments_before
        )?;
        return Ok(());
    }
    say_migrated(&mut out, store, &c)?;
    say_replaced(&mut out, &c)
}

fn require(store: &Store, what: &str) -> Result<()> {
    if !store.exists() {
        bail!(super::UsageError(format!(
            "no store at {}: nothing to {what}",
            store.root().display()
        )));
    }
    Ok(())
}

/// The line of a compaction or an import that moved a store of format 1 to days.
pub fn say_migrated(out: &mut dyn Write, store: &Store, c: &Compaction) -> Result<()> {
    if c.migrated > 0 {
        writeln!(
            out,
            "{}: {} import(s) of an earlier release laid out by UTC day: {} segment(s) now, {} span(s), {} file(s) of the old layout removed; reports read the same",
            store.root().display(),
            c.migrated,
            c.segments_after,
            c.spans,
            c.removed_files
        )?;
    }
    Ok(())
}

fn say_replaced(out: &mut dyn Write, c: &Compaction) -> Result<()> {
    if c.replaced_files == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "{} replaced file(s) stay until the next import or compaction removes them (a report running now may still read them)",
        c.replaced_files
    )?;
    Ok(())
}
