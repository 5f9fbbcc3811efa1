//! `traces store verify`: what a store damaged outside `traces` (a truncated or missing
//! segment file, a hand-edited manifest) no longer holds, and the repair that makes every
//! command trust it again.

use polars::prelude::*;
use std::fs;
use std::path::Path;

use super::manifest::{FORMAT_VERSION, Manifest, ManifestError, Segment};
use super::{Store, StoreError, layout};

/// One thing wrong with the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Relative to the store root.
    pub file: String,
    pub what: String,
    pub repair: Repair,
}

/// What `--repair` does about a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The segment's spans (or logs) cannot be trusted: it leaves the manifest, and
    /// with it the spans it held. Re-importing its sources brings them back.
    DropSegment { id: u64, spans: u64, logs: u64 },
    /// A derived table (calls, traces) is damaged: it is forgotten, reports derive it
    /// from the spans, and the next import writes it again.
    DropTable { id: u64 },
    /// The manifest cannot be read: a new one is made from the readable segment files.
    RebuildManifest,
}

#[derive(Debug, Default)]
pub struct Verification {
    pub segments: usize,
    pub spans: u64,
    pub logs: u64,
    pub problems: Vec<Problem>,
    /// Files no manifest entry names (left by an interrupted import): never read, and
    /// removed by the next import. Not a problem.
    pub uncommitted: Vec<String>,
}

/// Reads every file the manifest names: its footer and page headers, its row count
/// against the manifest's, and its id columns.
pub fn verify(store: &Store) -> Result<Verification, StoreError> {
    let mut v = Verification::default();
    let manifest = match store.manifest() {
        Ok(m) => m,
        // A manifest of a newer release is not damage: that error stands as it is.
        Err(StoreError::Manifest(e @ ManifestError::Corrupt { .. })) => {
            v.problems.push(Problem {
                file: "manifest.json".into(),
                what: e.to_string(),
                repair: Repair::RebuildManifest,
            });
            return Ok(v);
        }
        Err(e) => return Err(e),
    };
    let mut named = std::collections::HashSet::new();
    for s in &manifest.segments {
        v.segments += 1;
        let drop_segment = Repair::DropSegment {
            id: s.id,
            spans: s.spans,
            logs: s.logs,
        };
        let tables = [
            (&s.spans_file, Some(s.spans), "span_id", drop_segment),
            (&s.logs_file, Some(s.logs), "log_id", drop_segment),
            (
                &s.calls_file,
                None,
                "trace_id",
                Repair::DropTable { id: s.id },
            ),
            (
                &s.traces_file,
                None,
                "trace_id",
                Repair::DropTable { id: s.id },
            ),
        ];
        let mut trusted = true;
        for (file, rows, id_column, repair) in tables {
            let Some(file) = file else { continue };
            named.insert(file.clone());
            if let Err(what) = check_file(&store.root.join(file), rows, id_column) {
                trusted &= !matches!(repair, Repair::DropSegment { .. });
                v.problems.push(Problem {
                    file: file.clone(),
                    what,
                    repair,
                });
            }
        }
        if trusted {
            v.spans = v.spans.saturating_add(s.spans);
            v.logs = v.logs.saturating_add(s.logs);
        }
    }
    for d in ["spans", "logs", "calls", "traces"] {
        for rel in table_files(store, d) {
            let rel = format!("{d}/{rel}");
            if !named.contains(&rel) {
                v.uncommitted.push(rel);
            }
        }
    }
    v.uncommitted.sort();
    Ok(v)
}

/// The rows of a segment file, or why it cannot be trusted: unreadable, or not the
/// `rows` the manifest says.
fn check_file(path: &Path, rows: Option<u64>, id_column: &str) -> Result<u64, String> {
    let bytes = match fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("missing".into()),
        Err(e) => return Err(format!("cannot read: {e}")),
        Ok(bytes) => bytes,
    };
    // Damage polars would trust (a page's value count gone negative) makes it allocate
    // past any memory and end the process: the one command meant for damage must name it.
    crate::ingest::parquet_claims::check(&bytes)
        .map_err(|(at, why)| format!("not a readable Parquet file: byte {at}: {why}"))?;
    // The id column from the bytes already read, not the file again.
    let df = ParquetReader::new(std::io::Cursor::new(bytes))
        .with_columns(Some(vec![id_column.to_string()]))
        .finish()
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let height = df.height() as u64;
    match rows {
        Some(rows) if height != rows => {
            Err(format!("holds {height} rows, the manifest says {rows}"))
        }
        _ => Ok(height),
    }
}

/// Applies the repairs of `problems`, under the import lock, replacing the manifest
/// atomically. Returns the manifest now in force.
pub fn repair(store: &Store, problems: &[Problem]) -> Result<Manifest, StoreError> {
    let _lock = store.lock()?;
    let mut manifest = if problems.iter().any(|p| p.repair == Repair::RebuildManifest) {
        rebuild(store)
    } else {
        store.manifest()?
    };
    for p in problems {
        match p.repair {
            Repair::DropSegment { id, .. } => {
                manifest.segments.retain(|s| s.id != id);
                // A calls table attributes whole traces, spans of the dropped segment
                // included: none can be trusted now, reports derive calls from spans.
                for s in &mut manifest.segments {
                    s.calls_file = None;
                }
            }
            Repair::DropTable { id } => {
                if let Some(s) = manifest.segments.iter_mut().find(|s| s.id == id) {
                    if s.calls_file.as_deref() == Some(&p.file) {
                        s.calls_file = None;
                    }
                    if s.traces_file.as_deref() == Some(&p.file) {
                        s.traces_file = None;
                    }
                }
            }
            Repair::RebuildManifest => {}
        }
    }
    manifest
        .save(&store.manifest_path(), &store.root.join("tmp"))
        .map_err(|e| store.io(e))?;
    Ok(manifest)
}

/// The files of a table's folder, relative to it: those beside each other (format 1)
/// and those in its days' folders.
fn table_files(store: &Store, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(store.root.join(table)) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            for f in fs::read_dir(e.path()).into_iter().flatten().flatten() {
                out.push(format!("{name}/{}", f.file_name().to_string_lossy()));
            }
        } else {
            out.push(name);
        }
    }
    out
}

/// A manifest of the segment files that read whole, in id order: their sources and
/// import times are lost with the old manifest, and each segment is an import of its
/// own (the calls tables, which need to know, are left out).
fn rebuild(store: &Store) -> Manifest {
    let mut found: Vec<(u64, Option<String>)> = table_files(store, "spans")
        .iter()
        .filter_map(|rel| layout::parse_file(rel))
        .map(|(day, id)| (id, day))
        .collect();
    found.sort_unstable();
    let rows = |rel: &str, id_column: &str| check_file(&store.root.join(rel), None, id_column).ok();
    let segments = found
        .into_iter()
        .filter_map(|(id, day)| {
            let spans_file = layout::file("spans", day.as_deref(), id);
            let spans = rows(&spans_file, "span_id")?;
            let logs_file = layout::file("logs", day.as_deref(), id);
            let logs = rows(&logs_file, "log_id");
            // Derived tables are left out: the next import writes the traces table, and
            // reports derive calls from the spans.
            Some(Segment {
                id,
                day,
                import: None,
                spans_file: Some(spans_file),
                logs: logs.unwrap_or(0),
                logs_file: logs.map(|_| logs_file),
                calls_file: None,
                traces_file: None,
                spans,
                imported_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                sources: vec!["(unknown: manifest rebuilt by traces store verify --repair)".into()],
            })
        })
        .collect();
    Manifest {
        format_version: FORMAT_VERSION,
        segments,
    }
}
