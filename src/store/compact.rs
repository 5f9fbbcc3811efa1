//! `traces store compact`: many small imports (a CI job importing a dump per run) merged
//! into few. A store of a thousand imports opens a thousand files per report; merged,
//! it opens a handful per day, and each trace's spans lie together, which `show` and the
//! import's duplicate check read a row range of. `traces store migrate` is the same
//! rewrite, one import at a time, of the imports of a store of format 1.
//!
//! Reports are unchanged by it: spans and logs are moved, not rewritten (imports never
//! share a span, since an import stores only ids not stored yet), and a merged calls
//! table keeps, for each trace and day, the rows of the newest import that attributed
//! it, as a reader of the separate tables would. It commits as an import does: files
//! written under `tmp/` and renamed into place, then the manifest replaced at once; a
//! crash before that leaves the store as it was.

use super::layout;
use super::manifest::{FORMAT_VERSION, Manifest, Segment};
use super::segment::SegmentWriter;
use super::{ROW_GROUP, SeenSpans, Store, StoreError, insert_span_ids};
use crate::ingest::ids::TraceId;
use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Spans a merged segment holds at most, by default: its rows are sorted in memory,
/// which took 470 MB for 140,000 spans of the benchmark's dump (about 3.4 KB a span).
pub const TARGET_SPANS: u64 = 131_072;

/// MB (2^20 bytes) the spans and logs of a run of imports take uncompressed (as their
/// files' footers say) at most, by default, whatever `target_spans` allows: spans that
/// carry whole conversations are 50 KB each, not 1 KB, and 131,072 of them would be
/// sorted in 7 GB. The benchmark's 140,000 spans are 140 MB, so its runs are bounded by
/// spans as before.
pub const TARGET_MB: u64 = 160;

/// Rows per row group of a calls table, as an import writes them.
const CALLS_ROWS_PER_GROUP: usize = 65_536;

/// The day of each row while the rows are sorted and split by it; never stored.
const DAY: &str = "__day";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compaction {
    pub imports_before: usize,
    pub imports_after: usize,
    pub segments_before: usize,
    pub segments_after: usize,
    /// Imports merged into others (members of runs of two or more).
    pub merged: usize,
    /// Imports of format 1 (every day in one file) rewritten by day.
    pub migrated: usize,
    pub spans: u64,
    /// Files the manifest named before and no longer does: left in place for a report
    /// that may still be reading them, and removed by the next import or compaction.
    pub replaced_files: usize,
    /// Files of format 1 the manifest named before, removed at once: beside the days'
    /// folders they keep an engine from reading the store by day (a report that had
    /// loaded the old manifest fails to open them, and is run again).
    pub removed_files: usize,
}

/// Merges each run of consecutive imports whose spans add up to at most
/// `target_spans`, and whose spans and logs to at most `target_mb` uncompressed, into
/// one import, whose segments are its days; an import of format 1 is rewritten by day
/// even alone.
pub fn compact(store: &Store, target_spans: u64, target_mb: u64) -> Result<Compaction, StoreError> {
    let _lock = store.lock_for_writing()?;
    let mut manifest = store.manifest()?;
    store.remove_uncommitted(&manifest)?;
    store.index_old_segments(&mut manifest)?;
    let sizes = manifest
        .imports()
        .iter()
        .map(|import| uncompressed_bytes(store, import))
        .collect::<Result<Vec<_>, _>>()?;
    let target_bytes = target_mb.saturating_mul(1 << 20);
    let runs = plan(&manifest, (target_spans, target_bytes), &sizes);
    rewrite(store, &mut manifest, runs)
}

/// What the spans and logs of an import's segments take uncompressed, from the row
/// groups their files' footers describe.
fn uncompressed_bytes(store: &Store, import: &[Segment]) -> Result<u64, StoreError> {
    let mut bytes = 0u64;
    for file in import
        .iter()
        .flat_map(|s| [&s.spans_file, &s.logs_file])
        .flatten()
    {
        let f = std::fs::File::open(store.root.join(file)).map_err(|e| store.io(e))?;
        let mut reader = ParquetReader::new(f);
        let file_bytes = reader.get_metadata()?.row_groups.iter();
        bytes = file_bytes
            .map(|g| g.total_byte_size() as u64)
            .fold(bytes, u64::saturating_add);
    }
    Ok(bytes)
}

/// `traces store migrate`: every import of format 1 rewritten by day, each on its own.
pub fn migrate(store: &Store) -> Result<Compaction, StoreError> {
    let _lock = store.lock_for_writing()?;
    let mut manifest = store.manifest()?;
    store.remove_uncommitted(&manifest)?;
    migrate_locked(store, &mut manifest)
}

/// As `migrate`, under a lock the caller holds, with the manifest it loaded (which is
/// then the new one).
pub(super) fn migrate_locked(
    store: &Store,
    manifest: &mut Manifest,
) -> Result<Compaction, StoreError> {
    let runs = (0..manifest.imports().len()).map(|i| vec![i]).collect();
    rewrite(store, manifest, runs)
}

/// Replaces each run (indexes into `manifest.imports()`) of two or more imports, or of
/// one of format 1, by the segments of one import, and commits the manifest.
fn rewrite(
    store: &Store,
    manifest: &mut Manifest,
    runs: Vec<Vec<usize>>,
) -> Result<Compaction, StoreError> {
    let imports: Vec<Vec<Segment>> = manifest.imports().iter().map(|g| g.to_vec()).collect();
    let mut out = Compaction {
        imports_before: imports.len(),
        segments_before: manifest.segments.len(),
        spans: manifest.segments.iter().map(|s| s.spans).sum(),
        ..Default::default()
    };
    let flat = |i: usize| imports[i].iter().any(|s| s.day.is_none());
    let rewritten = |run: &[usize]| run.len() > 1 || run.iter().any(|&i| flat(i));
    if !runs.iter().any(|r| rewritten(r)) {
        out.imports_after = out.imports_before;
        out.segments_after = out.segments_before;
        return Ok(out);
    }
    let mut next_id = manifest.next_id();
    let mut segments = Vec::with_capacity(manifest.segments.len());
    let mut dirs = BTreeSet::new();
    let mut flat_files = Vec::new();
    for run in runs {
        if !rewritten(&run) {
            segments.extend(run.iter().flat_map(|&i| imports[i].iter().cloned()));
            continue;
        }
        if run.len() > 1 {
            out.merged += run.len();
        }
        out.migrated += run.iter().filter(|&&i| flat(i)).count();
        let members: Vec<&[Segment]> = run.iter().map(|&i| imports[i].as_slice()).collect();
        for s in members.iter().flat_map(|m| m.iter()) {
            match s.day {
                Some(_) => out.replaced_files += s.files().count(),
                None => flat_files.extend(s.files().map(|f| store.root.join(f))),
            }
        }
        segments.extend(merge(store, &members, &mut next_id, &mut dirs)?);
    }
    store.sync_dirs(&dirs)?;
    manifest.format_version = FORMAT_VERSION;
    manifest.segments = segments;
    manifest
        .save(&store.manifest_path(), &store.root.join("tmp"))
        .map_err(|e| store.io(e))?;
    for f in flat_files {
        match std::fs::remove_file(&f) {
            Ok(()) => out.removed_files += 1,
            // Left for the next import, which removes what the manifest does not name.
            Err(_) => out.replaced_files += 1,
        }
    }
    out.imports_after = manifest.imports().len();
    out.segments_after = manifest.segments.len();
    Ok(out)
}

/// Runs of consecutive imports (indexes into `manifest.imports()`), each to become one,
/// of at most `target_spans` spans and `target_bytes` of the imports' `sizes`. Order is
/// kept: which import came later decides whose calls table wins a trace.
fn plan(
    manifest: &Manifest,
    (target_spans, target_bytes): (u64, u64),
    sizes: &[u64],
) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let (mut spans, mut bytes) = (0u64, 0u64);
    for (i, import) in manifest.imports().iter().enumerate() {
        let n = import.iter().fold(0u64, |a, s| a.saturating_add(s.spans));
        let size = sizes.get(i).copied().unwrap_or(0);
        match runs.last_mut() {
            Some(run)
                if spans.saturating_add(n) <= target_spans
                    && bytes.saturating_add(size) <= target_bytes =>
            {
                run.push(i);
                spans = spans.saturating_add(n);
                bytes = bytes.saturating_add(size);
            }
            _ => {
                runs.push(vec![i]);
                (spans, bytes) = (n, size);
            }
        }
    }
    runs
}

/// The day of each row's time in ns in column `c`.
fn days_of(df: &DataFrame, c: &str) -> PolarsResult<Vec<i32>> {
    Ok(df
        .column(c)?
        .i64()?
        .iter()
        .map(|t| layout::day_of(t.unwrap_or(0)))
        .collect())
}

/// `df` with each row's day (`DAY`), sorted by day and then `by`.
fn sorted_by_day(mut df: DataFrame, days: Vec<i32>, by: &[&str]) -> PolarsResult<DataFrame> {
    df.with_column(Column::new(DAY.into(), days))?;
    let mut keys = vec![DAY];
    keys.extend_from_slice(by);
    df.lazy()
        .sort(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
}

/// Writes the segments, one per day, of one import holding every row of the imports
/// `members` (oldest first), with ids from `next_id`.
fn merge(
    store: &Store,
    members: &[&[Segment]],
    next_id: &mut u64,
    dirs: &mut BTreeSet<PathBuf>,
) -> Result<Vec<Segment>, StoreError> {
    let root = &store.root;
    let segs: Vec<&Segment> = members.iter().flat_map(|m| m.iter()).collect();
    let files = |pick: fn(&Segment) -> &Option<String>| -> Vec<PathBuf> {
        segs.iter()
            .filter_map(|s| pick(s).as_ref().map(|f| root.join(f)))
            .collect()
    };
    let write_err = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Write(format!("cannot write the compacted {what}: {e}"))
    };

    // Spans by day, each day's sorted by trace so that each trace's rows lie together.
    let spans = match store.scan(files(|s| &s.spans_file))? {
        Some(lf) => {
            let df = lf.collect()?;
            let days = days_of(&df, "start_time_unix_nano")?;
            Some(sorted_by_day(
                df,
                days,
                &["trace_id", "start_time_unix_nano", "span_id"],
            )?)
        }
        None => None,
    };
    let logs = match store.scan(files(|s| &s.logs_file))? {
        Some(lf) => {
            let df = lf.collect()?;
            let (time, observed) = (
                df.column("time_unix_nano")?.i64()?,
                df.column("observed_time_unix_nano")?.i64()?,
            );
            let days = time
                .iter()
                .zip(observed.iter())
                .map(|(t, o)| layout::log_day(t.unwrap_or(0), o.unwrap_or(0)))
                .collect();
            Some(sorted_by_day(df, days, &[])?)
        }
        None => None,
    };
    // An import without a calls table (stopped before writing it) leaves the merged
    // one without one too: reports then derive its calls from the spans.
    let with_calls = segs.iter().any(|s| s.spans_file.is_some())
        && segs
            .iter()
            .all(|s| s.spans_file.is_none() || s.calls_file.is_some());
    let calls = if with_calls {
        newest_calls(root, members, spans.as_ref())?
    } else {
        None
    };

    let tables = [
        ("spans", spans.as_ref()),
        ("logs", logs.as_ref()),
        ("calls", calls.as_ref()),
    ];
    let mut by_day: BTreeMap<i32, [Option<DataFrame>; 3]> = BTreeMap::new();
    for (t, (_, df)) in tables.iter().enumerate() {
        if let Some(df) = df {
            for (day, rows) in day_runs(df)? {
                by_day.entry(day).or_default()[t] = Some(rows);
            }
        }
    }
    let mut ids = SeenSpans::default();
    if let Some(df) = &spans {
        insert_span_ids(df.clone().lazy(), &|_| true, &mut ids)?;
    }
    let newest = segs.last().copied().unwrap_or(segs[0]);
    let import = *next_id;
    let mut out = Vec::with_capacity(by_day.len());
    for (n, (day, [spans, logs, calls])) in by_day.into_iter().enumerate() {
        let id = *next_id;
        *next_id += 1;
        let day = layout::day_text(day);
        let rel = |table: &str| layout::file(table, Some(&day), id);
        // A table's file and rows for the day, if it has any.
        let mut place = |df: Option<DataFrame>, table: &str, rows: usize| {
            let Some(df) = df else {
                return Ok((None, 0));
            };
            let w = write_rows(store, &df, rows, table, id).map_err(|e| write_err(table, &e))?;
            Ok::<_, StoreError>(match store.place(w, &rel(table), dirs)? {
                true => (Some(rel(table)), df.height() as u64),
                false => (None, 0),
            })
        };
        let (spans_file, span_rows) = place(spans, "spans", ROW_GROUP)?;
        let (logs_file, log_rows) = place(logs, "logs", ROW_GROUP)?;
        let (calls_file, _) = place(calls, "calls", CALLS_ROWS_PER_GROUP)?;
        let mut traces_file = None;
        if let Some(f) = &spans_file {
            let traces_rel = rel("traces");
            store.write_traces_table(f, &traces_rel, &|t, p| ids.contains_key(&(t, p)), dirs)?;
            traces_file = Some(traces_rel);
        }
        out.push(Segment {
            id,
            day: Some(day.clone()),
            import: Some(import),
            spans_file,
            logs_file,
            calls_file,
            traces_file,
            spans: span_rows,
            logs: log_rows,
            imported_at: newest.imported_at.clone(),
            sources: if n == 0 {
                segs.iter().flat_map(|s| s.sources.clone()).collect()
            } else {
                Vec::new()
            },
        });
    }
    Ok(out)
}

/// The consecutive rows of each day of `df`, sorted by its `DAY` column, without it.
fn day_runs(df: &DataFrame) -> PolarsResult<Vec<(i32, DataFrame)>> {
    let days = df.column(DAY)?.i32()?;
    let mut out = Vec::new();
    let mut start = 0usize;
    let values: Vec<i32> = days.into_no_null_iter().collect();
    for run in values.chunk_by(|a, b| a == b) {
        let rows = df.slice(start as i64, run.len()).drop(DAY)?;
        out.push((run[0], rows));
        start += run.len();
    }
    Ok(out)
}

/// The rows of the calls tables of `members` (oldest first) that a reader of them
/// would use: for each trace and day, those of the newest import that attributed it.
/// By day, then calls before the marker rows, each trace's together, as an import
/// writes a table.
fn newest_calls(
    root: &Path,
    members: &[&[Segment]],
    spans: Option<&DataFrame>,
) -> Result<Option<DataFrame>, StoreError> {
    let n = members.len();
    let mut trace_days = None;
    let mut frames = Vec::new();
    for (i, member) in members.iter().enumerate() {
        // 0 for the newest import.
        let age = (n - 1 - i) as u32;
        for s in member.iter() {
            let Some(f) = &s.calls_file else { continue };
            let lf = LazyFrame::scan_parquet(
                PlRefPath::new(root.join(f).to_string_lossy().as_ref()),
                Default::default(),
            )?
            .with_column(lit(age).alias("__age"));
            let frame = match s.day.as_deref().and_then(layout::parse_day) {
                Some(day) => lf.with_column(lit(day).alias(DAY)).collect()?,
                None => {
                    let days = match &mut trace_days {
                        Some(d) => d,
                        None => trace_days.insert(days_of_traces(spans)?),
                    };
                    flat_calls_by_day(lf.collect()?, days)?
                }
            };
            frames.push(frame.lazy());
        }
    }
    if frames.is_empty() {
        return Ok(None);
    }
    let args = UnionArgs {
        diagonal: true,
        ..Default::default()
    };
    let newest = col("__age").eq(col("__age").min().over([col("trace_id"), col(DAY)])?);
    let df = concat(frames, args)?
        .filter(newest)
        .with_column(col("calls_without_usage").is_not_null().alias("__marker"))
        .sort(
            [DAY, "__marker", "trace_id"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .drop(cols(["__age", "__marker"]))
        .collect()?;
    Ok((df.height() > 0).then_some(df))
}

/// The days each trace has spans in, among `spans` (with their `DAY`).
fn days_of_traces(spans: Option<&DataFrame>) -> PolarsResult<TraceDays> {
    let mut days = TraceDays::default();
    let Some(df) = spans else {
        return Ok(days);
    };
    let traces = df.column("trace_id")?.str()?;
    let day = df.column(DAY)?.i32()?;
    for (t, d) in traces.iter().zip(day.iter()) {
        if let (Some(t), Some(d)) = (t.and_then(|t| TraceId::parse(t).ok()), d) {
            days.entry(t).or_default().insert(d);
        }
    }
    Ok(days)
}

type TraceDays = foldhash::HashMap<TraceId, BTreeSet<i32>>;

/// A calls table of format 1, which names no day, by day: a call's is its start's, and
/// a trace's marker row goes in each day its spans (among those merged) or its calls
/// are in, so that a reader of any day knows the import touched it. The count of its
/// calls without usage stays on the first copy only.
fn flat_calls_by_day(df: DataFrame, trace_days: &TraceDays) -> PolarsResult<DataFrame> {
    let marker = df.column("calls_without_usage")?.is_not_null();
    let calls = df.filter(&!&marker)?;
    let markers = df.filter(&marker)?;
    let call_days = days_of(&calls, "start_time_unix_nano")?;
    let mut days = trace_days.clone();
    let call_traces = calls.column("trace_id")?.binary()?;
    for (t, d) in call_traces.iter().zip(&call_days) {
        if let Some(t) = t.and_then(TraceId::from_bytes) {
            days.entry(t).or_default().insert(*d);
        }
    }
    let fallback = days.values().flatten().min().copied().unwrap_or(0);
    let without = markers.column("calls_without_usage")?.i64()?;
    let (mut rows, mut marker_days, mut counts) = (Vec::new(), Vec::new(), Vec::new());
    let marker_traces = markers.column("trace_id")?.binary()?;
    for (i, (t, w)) in marker_traces.iter().zip(without.iter()).enumerate() {
        let known = t.and_then(TraceId::from_bytes).and_then(|t| days.get(&t));
        // Marker rows hold a count: never null.
        for (d, w) in layout::marker_days(known, fallback, w.unwrap_or(0)) {
            rows.push(i as IdxSize);
            marker_days.push(d);
            counts.push(w);
        }
    }
    let mut markers = markers.take(&IdxCa::from_vec("".into(), rows))?;
    markers.with_column(Column::new("calls_without_usage".into(), counts))?;
    markers.with_column(Column::new(DAY.into(), marker_days))?;
    let mut calls = calls;
    calls.with_column(Column::new(DAY.into(), call_days))?;
    calls.vstack_mut_owned(markers)?;
    Ok(calls)
}

/// Writes `df` in row groups of `rows` as `tmp/{table}-{id}.parquet`, for the caller
/// to place.
fn write_rows(
    store: &Store,
    df: &DataFrame,
    rows: usize,
    table: &str,
    id: u64,
) -> Result<SegmentWriter, String> {
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
    Ok(w)
}
