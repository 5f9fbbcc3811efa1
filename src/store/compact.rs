//! `traces store compact`: many small segments (a CI job importing a dump per run) merged
//! into few. A store of a thousand imports opens a thousand files per report; merged,
//! it opens a handful, and each trace's spans lie together, which `show` and the
//! import's duplicate check read a row range of.
//!
//! Reports are unchanged by it: spans and logs are moved, not rewritten (segments never
//! share a span, since an import stores only ids not stored yet), and a merged calls
//! table keeps, for each trace, the rows of the newest table that attributed it, as a
//! reader of the separate tables would. It commits as an import does: files written
//! under `tmp/` and renamed into place, then the manifest replaced at once; a crash
//! before that leaves the store as it was.

use super::manifest::Segment;
use super::segment::SegmentWriter;
use super::{ROW_GROUP, SeenSpans, Store, StoreError, insert_span_ids, sync_dir, trace_index};
use polars::prelude::*;
use std::path::Path;

/// Spans a merged segment holds at most, by default: its rows are sorted in memory,
/// which took 470 MB for 140,000 spans of the benchmark's dump (about 3.4 KB a span).
pub const TARGET_SPANS: u64 = 131_072;

/// Rows per row group of a calls table, as an import writes them.
const CALLS_ROWS_PER_GROUP: usize = 65_536;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compaction {
    pub segments_before: usize,
    pub segments_after: usize,
    /// Segments merged into others (members of runs of two or more).
    pub merged: usize,
    pub spans: u64,
    /// Files the manifest named before and no longer does: left in place for a report
    /// that may still be reading them, and removed by the next import or compaction.
    pub replaced_files: usize,
}

/// Merges each run of consecutive segments whose spans add up to at most `target_spans`
/// into one segment.
pub fn compact(store: &Store, target_spans: u64) -> Result<Compaction, StoreError> {
    let _lock = store.lock()?;
    let mut manifest = store.manifest()?;
    store.remove_uncommitted(&manifest)?;
    store.index_old_segments(&mut manifest)?;
    let before = manifest.segments.len();
    let runs = plan(&manifest.segments, target_spans);
    let mut out = Compaction {
        segments_before: before,
        spans: manifest.segments.iter().map(|s| s.spans).sum(),
        ..Default::default()
    };
    if runs.iter().all(|r| r.len() < 2) {
        out.segments_after = before;
        return Ok(out);
    }
    let mut next_id = manifest.next_id();
    let mut segments = Vec::with_capacity(runs.len());
    for run in runs {
        if run.len() < 2 {
            segments.extend(run.iter().map(|&i| manifest.segments[i].clone()));
            continue;
        }
        let members: Vec<&Segment> = run.iter().map(|&i| &manifest.segments[i]).collect();
        out.merged += members.len();
        out.replaced_files += members
            .iter()
            .map(|s| {
                [&s.spans_file, &s.logs_file, &s.calls_file, &s.traces_file]
                    .iter()
                    .filter(|f| f.is_some())
                    .count()
            })
            .sum::<usize>();
        segments.push(merge(store, &members, next_id)?);
        next_id += 1;
    }
    for d in ["spans", "logs", "calls", "traces"] {
        sync_dir(&store.root.join(d)).map_err(|e| store.io(e))?;
    }
    manifest.segments = segments;
    manifest
        .save(&store.manifest_path(), &store.root.join("tmp"))
        .map_err(|e| store.io(e))?;
    out.segments_after = manifest.segments.len();
    Ok(out)
}

/// Runs of consecutive segments (indexes into `segments`), each to become one segment.
/// Order is kept: which import came later decides whose calls table wins a trace.
fn plan(segments: &[Segment], target_spans: u64) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut spans = 0u64;
    for (i, s) in segments.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if spans.saturating_add(s.spans) <= target_spans => {
                run.push(i);
                spans = spans.saturating_add(s.spans);
            }
            _ => {
                runs.push(vec![i]);
                spans = s.spans;
            }
        }
    }
    runs
}

/// Writes the segment `id` holding every row of `members`.
fn merge(store: &Store, members: &[&Segment], id: u64) -> Result<Segment, StoreError> {
    let root = &store.root;
    let files = |pick: fn(&Segment) -> &Option<String>| -> Vec<std::path::PathBuf> {
        members
            .iter()
            .filter_map(|s| pick(s).as_ref().map(|f| root.join(f)))
            .collect()
    };
    let write_err = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Write(format!("cannot write the compacted {what}: {e}"))
    };

    // Spans sorted by trace, so that each trace's rows lie together.
    let spans_rel = format!("spans/segment-{id:06}.parquet");
    let mut wrote_spans = false;
    let mut traces_rel = None;
    if let Some(lf) = store.scan(files(|s| &s.spans_file))? {
        let df = lf
            .sort(
                ["trace_id", "start_time_unix_nano", "span_id"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .collect()?;
        let mut ids = SeenSpans::default();
        insert_span_ids(df.clone().lazy(), &|_| true, &mut ids)?;
        wrote_spans = write_rows(store, &df, ROW_GROUP, "spans", id, &spans_rel)
            .map_err(|e| write_err("spans", &e))?;
        if wrote_spans {
            let traces =
                trace_index::summarize(&root.join(&spans_rel), &|t, p| ids.contains_key(&(t, p)))?;
            let rel = format!("traces/segment-{id:06}.parquet");
            let tmp = root.join("tmp").join(format!("traces-{id:06}.parquet"));
            trace_index::write(&traces, &tmp, &root.join(&rel))
                .map_err(|e| write_err("traces table", &e))?;
            traces_rel = Some(rel);
        }
    }

    let logs_rel = format!("logs/segment-{id:06}.parquet");
    let mut wrote_logs = false;
    if let Some(lf) = store.scan(files(|s| &s.logs_file))? {
        let df = lf.collect()?;
        wrote_logs = write_rows(store, &df, ROW_GROUP, "logs", id, &logs_rel)
            .map_err(|e| write_err("log records", &e))?;
    }

    // A member without a calls table (an import stopped before writing it) leaves the
    // merged segment without one too: reports then derive its calls from the spans.
    let with_spans = members.iter().filter(|s| s.spans_file.is_some()).count();
    let calls = files(|s| &s.calls_file);
    let mut calls_rel = None;
    if with_spans > 0 && calls.len() == with_spans {
        let rel = format!("calls/segment-{id:06}.parquet");
        if let Some(df) = newest_calls(&calls)? {
            std::fs::create_dir_all(root.join("calls")).map_err(|e| store.io(e))?;
            if write_rows(store, &df, CALLS_ROWS_PER_GROUP, "calls", id, &rel)
                .map_err(|e| write_err("calls table", &e))?
            {
                calls_rel = Some(rel);
            }
        }
    }

    let newest = members.last().copied().unwrap_or(members[0]);
    Ok(Segment {
        id,
        spans_file: wrote_spans.then_some(spans_rel),
        logs_file: wrote_logs.then_some(logs_rel),
        calls_file: calls_rel,
        traces_file: traces_rel,
        spans: members.iter().map(|s| s.spans).sum(),
        logs: members.iter().map(|s| s.logs).sum(),
        imported_at: newest.imported_at.clone(),
        sources: members.iter().flat_map(|s| s.sources.clone()).collect(),
    })
}

/// The rows of the calls tables `files` (oldest first) that a reader of them would use:
/// for each trace, those of the newest table that attributed it. Calls first, each
/// trace's together, then the marker rows, as an import writes a table.
fn newest_calls(files: &[std::path::PathBuf]) -> Result<Option<DataFrame>, StoreError> {
    let n = files.len() as u32;
    let mut frames = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let lf = LazyFrame::scan_parquet(
            PlRefPath::new(f.to_string_lossy().as_ref()),
            Default::default(),
        )?;
        // 0 for the newest table.
        frames.push(lf.with_column(lit(n - 1 - i as u32).alias("__age")));
    }
    let args = UnionArgs {
        diagonal: true,
        ..Default::default()
    };
    let all = concat(frames, args)?;
    let newest = col("__age").eq(col("__age").min().over([col("trace_id")])?);
    let df = all
        .filter(newest)
        .with_column(col("calls_without_usage").is_not_null().alias("__marker"))
        .sort(
            ["__marker", "trace_id"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .drop(cols(["__age", "__marker"]))
        .collect()?;
    Ok((df.height() > 0).then_some(df))
}

/// Writes `df` in row groups of `rows` as `tmp/{table}-{id}.parquet`, then moves it to
/// `rel`. False when there was no row to write.
fn write_rows(
    store: &Store,
    df: &DataFrame,
    rows: usize,
    table: &str,
    id: u64,
    rel: &str,
) -> Result<bool, String> {
    let tmp = store
        .root
        .join("tmp")
        .join(format!("{table}-{id:06}.parquet"));
    let mut w = SegmentWriter::create(tmp).map_err(|e| e.to_string())?;
    let mut offset = 0usize;
    while offset < df.height() {
        let mut part = df.slice(offset as i64, rows);
        part.rechunk_mut_par();
        w.write(&part).map_err(|e| e.to_string())?;
        offset += rows;
    }
    w.finish(&store.root.join(rel) as &Path).map_err(|e| e.0)
}
