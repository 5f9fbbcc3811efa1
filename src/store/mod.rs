//! The local store: immutable Parquet segments plus a manifest that names them. An
//! import writes one segment per UTC day of its rows (spans, log records, and later its
//! calls, each in its day's folder: see `layout`) and then commits them at once by
//! replacing the manifest; a crash at any point leaves the previous state readable.
//! Imports take an exclusive lock, so two at once run one after the other.

pub mod arrays;
pub mod columns;
pub mod compact;
pub mod encode;
pub mod layout;
pub mod manifest;
mod segment;
pub mod trace_filter;
pub mod trace_index;
pub mod verify;

use crate::ingest::ids::{SpanId, TraceId};
use crate::ingest::raw::RawSpan;
use crate::ingest::raw::Record;
use columns::{LogColumns, PreparedSpan, SpanColumns};
use manifest::{Manifest, ManifestError, Segment};
use polars::prelude::*;
use rayon::prelude::*;
use segment::{DayWriters, SegmentWriter, StoreIoError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trace_filter::TraceFilter;
use trace_index::{Located, SegmentTrace, TraceRows};

/// Sets of ids, looked up once or more per span: foldhash costs a fraction of SipHash.
type FastSet<T> = foldhash::HashSet<T>;
type FastMap<K, V> = foldhash::HashMap<K, V>;

/// The spans an import has met, stored or its own, with their content hashes (0 where
/// it is not known yet, or was never stored).
type SeenSpans = FastMap<(TraceId, SpanId), u64>;

/// Rows of a spans file apart by at most this many are read in one slice: they are in
/// the same row group or the next.
const SLICE_GAP: u64 = ROW_GROUP as u64;

/// A segment's spans file and the rows of its traces table, sorted by trace id.
#[derive(Debug, Clone)]
pub struct Indexed<T> {
    pub id: u64,
    pub spans_file: PathBuf,
    pub traces: Arc<[T]>,
}

/// A segment's traces, whole: what `list` shows.
pub type IndexedSegment = Indexed<SegmentTrace>;

/// A segment's traces and where their spans are, nothing more.
pub type SpanRanges = Indexed<TraceRows>;

impl<T: Located> Indexed<T> {
    /// The row of `trace`, if this segment holds spans of it.
    pub fn find(&self, trace: &TraceId) -> Option<&T> {
        self.traces
            .binary_search_by_key(trace, |t| t.located().trace_id)
            .ok()
            .map(|i| &self.traces[i])
    }
}

/// What this process has read of each traces table, by file: a traces table never
/// changes once committed, so a process that imports again (`record`), or asks again
/// after an import, reads only what it has not seen. The file's length and time guard
/// against a table written anew under the same name.
#[derive(Debug, Default)]
struct TableCache {
    tables: std::sync::Mutex<FastMap<PathBuf, Known>>,
}

#[derive(Debug, Clone, Default)]
struct Known {
    stamp: FileStamp,
    /// The footer's trace filter, once read (`Some(None)`: the table has none).
    filter: Option<Option<Arc<TraceFilter>>>,
    ranges: Option<Arc<[TraceRows]>>,
}

type FileStamp = (u64, Option<std::time::SystemTime>);

/// What a caller reads of one traces table.
type ReadTable<'a, T> = dyn FnMut(&Path) -> Result<Arc<[T]>, StoreError> + 'a;

/// What a segment's traces table tells at least cost of whether it holds a trace.
#[derive(Debug, Clone)]
enum Holds {
    /// Its footer's filter: no false "no", about 1% false "maybe".
    Maybe(Arc<TraceFilter>),
    /// Every trace it holds (a table written before tables had filters).
    Exactly(Arc<[TraceRows]>),
}

impl Holds {
    fn may_hold(&self, trace: &TraceId) -> bool {
        match self {
            Holds::Maybe(f) => f.may_contain(trace),
            Holds::Exactly(rows) => rows.binary_search_by_key(trace, |t| t.trace_id).is_ok(),
        }
    }
}

/// Looked up by more traces than this, a traces table is read whole.
const FEW_TRACES: usize = 4096;

/// Read by a filter on their ids, at most this many traces: more are cheaper read whole.
const FEW_CANDIDATES: usize = 64;

/// The rows of `all` (sorted by trace) of the traces in `wanted` (sorted, unique).
fn rows_of(all: &[TraceRows], wanted: &[TraceId]) -> Arc<[TraceRows]> {
    wanted
        .iter()
        .filter_map(|t| {
            all.binary_search_by_key(t, |r| r.trace_id)
                .ok()
                .map(|i| all[i])
        })
        .collect()
}

/// The store's folders: one per table, and `tmp/` for files not yet committed.
const DIRS: [&str; 5] = ["spans", "logs", "calls", "traces", "tmp"];

/// Rows per Parquet row group: large enough for good compression, small enough that an
/// import of any size holds only this many rows in memory.
const ROW_GROUP: usize = 16 * 1024;

/// A row group also ends at about this many bytes of attributes, events and bodies: an
/// import holds a few row groups at once (spans decoded, encoded, queued, being
/// compressed), and 16k spans that each carry a whole conversation are a GB. 16k spans
/// of the benchmark's agents are 16 MB, so it changes nothing for them.
const ROW_GROUP_BYTES: usize = 16 << 20;

/// Whether rows not written yet fill a row group, by count or by bytes.
fn fills_row_group(rows: usize, bytes: usize) -> bool {
    rows >= ROW_GROUP || bytes >= ROW_GROUP_BYTES
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    // `error`, not `source`: the message says it, and a chain must not say it twice.
    #[error("store {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error(
        "store {path} cannot be written by this user ({error}): reports read it as it is, but an import or a repair writes; nothing was changed"
    )]
    NotWritable { path: String, error: std::io::Error },
    #[error("store: {0}")]
    Write(String),
    #[error("store: cannot read segments: {0}")]
    Read(#[from] PolarsError),
}

impl From<StoreIoError> for StoreError {
    fn from(e: StoreIoError) -> Self {
        StoreError::Write(e.0)
    }
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    tables: Arc<TableCache>,
}

impl Store {
    pub fn at(root: impl Into<PathBuf>) -> Store {
        Store {
            root: root.into(),
            tables: Arc::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether an import has made this store.
    pub fn exists(&self) -> bool {
        self.manifest_path().is_file()
    }

    fn manifest_path(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    fn io(&self, e: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.root.display().to_string(),
            error: e,
        }
    }

    /// An error of a first write: a store that is read-only here says so.
    fn write_error(&self, e: std::io::Error) -> StoreError {
        match e.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                StoreError::NotWritable {
                    path: self.root.display().to_string(),
                    error: e,
                }
            }
            _ => self.io(e),
        }
    }

    pub fn manifest(&self) -> Result<Manifest, StoreError> {
        Ok(Manifest::load(&self.manifest_path())?)
    }

    fn files(&self, manifest: &Manifest, logs: bool) -> Vec<PathBuf> {
        manifest
            .segments
            .iter()
            .filter_map(|s| {
                if logs {
                    s.logs_file.as_ref()
                } else {
                    s.spans_file.as_ref()
                }
            })
            .map(|f| self.root.join(f))
            .collect()
    }

    /// The calls tables of each import (one per day), newest import first, when every
    /// segment that added spans has one; `None` otherwise (the calls must then be
    /// derived from the spans).
    pub fn calls_files(&self) -> Result<Option<Vec<Vec<PathBuf>>>, StoreError> {
        let m = self.manifest()?;
        let mut out = Vec::new();
        for import in m.imports().into_iter().rev() {
            let mut files = Vec::new();
            for s in import {
                match (&s.spans_file, &s.calls_file) {
                    (_, Some(c)) => files.push(self.root.join(c)),
                    (None, None) => {}
                    (Some(_), None) => return Ok(None),
                }
            }
            if !files.is_empty() {
                out.push(files);
            }
        }
        Ok(Some(out))
    }

    /// Starts import `import`'s calls tables: written aside, under the import lock, and
    /// named in the manifest by `CallsTableWriter::attach`.
    pub fn begin_calls(&self, import: u64) -> Result<CallsTableWriter<'_>, StoreError> {
        fs::create_dir_all(self.root.join("calls")).map_err(|e| self.io(e))?;
        let lock = self.lock()?;
        Ok(CallsTableWriter {
            store: self,
            import,
            _lock: lock,
            writer: Some(DayWriters::spawn(self.root.join("tmp"), "calls", import)),
            pending: BTreeMap::new(),
        })
    }

    /// Moves a finished file to `rel` (relative to the root), making its day's folder;
    /// the folders to sync before the manifest names it are added to `dirs`. False when
    /// the file had no row.
    fn place(
        &self,
        w: SegmentWriter,
        rel: &str,
        dirs: &mut BTreeSet<PathBuf>,
    ) -> Result<bool, StoreError> {
        let dest = self.root.join(rel);
        if let Some(dir) = dest.parent() {
            self.day_dir(dir)?;
            dirs.insert(dir.to_path_buf());
            if let Some(table) = dir.parent() {
                dirs.insert(table.to_path_buf());
            }
        }
        Ok(w.finish(&dest)?)
    }

    /// Writes the traces table of the spans file `spans_rel` as `traces_rel`; a parent
    /// is known when `known` says so (see `trace_index::summarize`).
    fn write_traces_table(
        &self,
        spans_rel: &str,
        traces_rel: &str,
        known: &dyn Fn(TraceId, SpanId) -> bool,
        dirs: &mut BTreeSet<PathBuf>,
    ) -> Result<(), StoreError> {
        let traces = trace_index::summarize(&self.root.join(spans_rel), known)?;
        let dest = self.root.join(traces_rel);
        if let Some(dir) = dest.parent() {
            self.day_dir(dir)?;
            dirs.extend([dir.to_path_buf(), self.root.join("traces")]);
        }
        let tmp = self.root.join("tmp").join(traces_rel.replace('/', "-"));
        trace_index::write(&traces, &tmp, &dest)
            .map_err(|e| StoreError::Write(format!("cannot write the traces table: {e}")))
    }

    /// Makes a day's folder in a table's. Not `create_dir_all`: a store removed while
    /// an import runs must fail it, not be made again.
    fn day_dir(&self, dir: &Path) -> Result<(), StoreError> {
        match fs::create_dir(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(self.io(e)),
            _ => Ok(()),
        }
    }

    fn sync_dirs(&self, dirs: &BTreeSet<PathBuf>) -> Result<(), StoreError> {
        // Deepest first: a day's folder is synced before the entry naming it.
        for d in dirs.iter().rev() {
            sync_dir(d).map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    /// The lock of a command that may rewrite the store, once every folder it writes in
    /// is there (a store copied without its empty `tmp/` lacks one).
    fn lock_for_writing(&self) -> Result<fs::File, StoreError> {
        for d in DIRS {
            fs::create_dir_all(self.root.join(d)).map_err(|e| self.write_error(e))?;
        }
        self.lock()
    }

    fn lock(&self) -> Result<fs::File, StoreError> {
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join("lock"))
            .map_err(|e| self.write_error(e))?;
        lock.lock().map_err(|e| self.io(e))?;
        Ok(lock)
    }

    fn scan(&self, files: Vec<PathBuf>) -> Result<Option<LazyFrame>, StoreError> {
        if files.is_empty() {
            return Ok(None);
        }
        let paths: Vec<PlRefPath> = files
            .iter()
            .map(|p| PlRefPath::new(p.to_string_lossy().as_ref()))
            .collect();
        // The newest segment has every column an older one may lack (a column added by
        // a later release); the scan takes its schema and reads what a file lacks as
        // null, rather than taking the oldest file's and dropping the newer columns.
        let newest = paths.last().cloned();
        let schema = match newest {
            Some(p) => Some(LazyFrame::scan_parquet(p, Default::default())?.collect_schema()?),
            None => None,
        };
        let args = ScanArgsParquet {
            allow_missing_columns: true,
            schema,
            ..Default::default()
        };
        Ok(Some(LazyFrame::scan_parquet_files(paths.into(), args)?))
    }

    /// All spans in the store, lazily; `None` when the store holds none.
    pub fn scan_spans(&self) -> Result<Option<LazyFrame>, StoreError> {
        let m = self.manifest()?;
        self.scan(self.files(&m, false))
    }

    /// The traces table of every segment with spans, in import order; `None` when one
    /// has none (a segment written by an earlier release). With `prefix`, only the
    /// traces whose id starts with it (lowercase hex).
    pub fn trace_tables(
        &self,
        prefix: Option<&str>,
    ) -> Result<Option<Vec<IndexedSegment>>, StoreError> {
        self.indexed(&self.manifest()?, &mut |file| {
            Ok(trace_index::read(file, prefix)?.into())
        })
    }

    /// Like `trace_tables`, only where each trace's spans are.
    pub fn span_ranges(&self, prefix: Option<&str>) -> Result<Option<Vec<SpanRanges>>, StoreError> {
        let m = self.manifest()?;
        // A whole id is asked of the footers' filters first.
        if let Some(p) = prefix
            && p.len() == 32
            && let Ok(id) = TraceId::parse(p)
        {
            return self.locate_in(&m, &[id]);
        }
        match prefix {
            Some(_) => self.indexed(&m, &mut |file| {
                Ok(trace_index::read_ranges(file, prefix)?.into())
            }),
            None => self.span_ranges_of(&m),
        }
    }

    /// Every trace's span ranges in the segments of `m`.
    fn span_ranges_of(&self, m: &Manifest) -> Result<Option<Vec<SpanRanges>>, StoreError> {
        self.indexed(m, &mut |file| self.ranges_known(file))
    }

    /// Where the spans of the traces in `wanted` are, segment by segment: each segment
    /// gives its rows of them only, read from the least of its traces table that says
    /// (its footer's filter, then only the row groups that can hold them). `None` when
    /// a segment has no traces table.
    pub fn locate(&self, wanted: &[TraceId]) -> Result<Option<Vec<SpanRanges>>, StoreError> {
        self.locate_in(&self.manifest()?, wanted)
    }

    fn locate_in(
        &self,
        m: &Manifest,
        wanted: &[TraceId],
    ) -> Result<Option<Vec<SpanRanges>>, StoreError> {
        let mut wanted = wanted.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        self.indexed(m, &mut |file| {
            if wanted.len() > FEW_TRACES {
                return Ok(rows_of(&self.ranges_known(file)?, &wanted));
            }
            match self.holds(file)? {
                Holds::Exactly(all) => Ok(rows_of(&all, &wanted)),
                Holds::Maybe(filter) => {
                    let maybe: Vec<TraceId> = wanted
                        .iter()
                        .filter(|t| filter.may_contain(t))
                        .copied()
                        .collect();
                    Ok(match maybe.len() {
                        0 => Arc::from([]),
                        n if n > FEW_CANDIDATES => rows_of(&self.ranges_known(file)?, &maybe),
                        _ => trace_index::read_ranges_of(file, &maybe)?.into(),
                    })
                }
            }
        })
    }

    /// The segments' traces tables, each as it can be asked whether it holds a trace;
    /// `None` when a segment has none.
    fn holds_of(&self, m: &Manifest) -> Result<Option<Vec<Holds>>, StoreError> {
        let mut out = Vec::new();
        for s in &m.segments {
            match (&s.spans_file, &s.traces_file) {
                (None, _) => {}
                (Some(_), None) => return Ok(None),
                (Some(_), Some(traces)) => out.push(self.holds(&self.root.join(traces))?),
            }
        }
        Ok(Some(out))
    }

    fn holds(&self, file: &Path) -> Result<Holds, StoreError> {
        let filter = self.known(file, &mut |k| {
            if k.filter.is_none() {
                k.filter = Some(trace_index::read_filter(file)?.map(Arc::new));
            }
            Ok(k.filter.clone().flatten())
        })?;
        Ok(match filter {
            Some(f) => Holds::Maybe(f),
            None => Holds::Exactly(self.ranges_known(file)?),
        })
    }

    fn ranges_known(&self, file: &Path) -> Result<Arc<[TraceRows]>, StoreError> {
        self.known(file, &mut |k| {
            if k.ranges.is_none() {
                k.ranges = Some(trace_index::read_ranges(file, None)?.into());
            }
            Ok(k.ranges.clone().unwrap_or_default())
        })
    }

    /// Runs `f` on what this process knows of the traces table `file`, forgotten first
    /// when the file is not the one it was.
    fn known<R>(
        &self,
        file: &Path,
        f: &mut dyn FnMut(&mut Known) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let now = fs::metadata(file)
            .map(|meta| (meta.len(), meta.modified().ok()))
            .map_err(|error| StoreError::Io {
                path: file.display().to_string(),
                error,
            })?;
        let mut tables = self
            .tables
            .tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let known = tables.entry(file.to_path_buf()).or_default();
        if known.stamp != now {
            *known = Known {
                stamp: now,
                ..Known::default()
            };
        }
        f(known)
    }

    /// Each segment with spans and what `read` gives of its traces table; `None` when one
    /// has no traces table.
    fn indexed<T>(
        &self,
        m: &Manifest,
        read: &mut ReadTable<T>,
    ) -> Result<Option<Vec<Indexed<T>>>, StoreError> {
        let mut out = Vec::new();
        for s in &m.segments {
            match (&s.spans_file, &s.traces_file) {
                (None, _) => {}
                (Some(_), None) => return Ok(None),
                (Some(spans), Some(traces)) => out.push(Indexed {
                    id: s.id,
                    spans_file: self.root.join(spans),
                    traces: read(&self.root.join(traces))?,
                }),
            }
        }
        // Tables a compaction replaced are not asked for again.
        let live: FastSet<PathBuf> = m
            .segments
            .iter()
            .filter_map(|s| s.traces_file.as_ref().map(|t| self.root.join(t)))
            .collect();
        self.tables
            .tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|file, _| live.contains(file));
        Ok(Some(out))
    }

    /// The store's spans in the rows that hold the traces of `wanted`, and perhaps some
    /// others near them: every span of those traces is in it, so a caller filters by
    /// trace. `None` when no span of them is stored.
    pub fn scan_spans_near(&self, wanted: &[TraceId]) -> Result<Option<LazyFrame>, StoreError> {
        let m = self.manifest()?;
        match self.locate_in(&m, wanted)? {
            Some(index) => spans_near(&index, &|_| true),
            None => self.scan(self.files(&m, false)),
        }
    }

    /// All log records in the store, lazily; `None` when the store holds none.
    pub fn scan_logs(&self) -> Result<Option<LazyFrame>, StoreError> {
        let m = self.manifest()?;
        self.scan(self.files(&m, true))
    }

    /// Starts an import: takes the lock (waiting for another import to finish), removes
    /// what a crashed import left behind, and loads the identities already stored.
    pub fn begin_import(&self) -> Result<Import, StoreError> {
        let lock = self.lock_for_writing()?;
        let mut manifest = self.manifest()?;
        self.remove_uncommitted(&manifest)?;
        // A store of format 1 is laid out by day first (which writes every traces
        // table), so that the import adds to one layout only.
        let migrated = if manifest.has_flat_segments() {
            Some(compact::migrate_locked(self, &mut manifest)?)
        } else {
            self.index_old_segments(&mut manifest)?;
            None
        };
        let mut seen_spans = SeenSpans::default();
        // With traces tables, only the traces this import touches have their stored
        // span ids read (as it meets them); without, every stored id is read up front.
        let indexed = manifest
            .segments
            .iter()
            .all(|s| s.spans_file.is_none() || s.traces_file.is_some());
        if !indexed && let Some(lf) = self.scan(self.files(&manifest, false))? {
            insert_span_ids(lf, &|_| true, &mut seen_spans)?;
        }
        let stored = StoredTraces::new(self, &manifest, &seen_spans)?;
        let mut seen_logs = FastSet::default();
        if let Some(lf) = self.scan(self.files(&manifest, true))? {
            let df = lf.select([col("log_id")]).collect()?;
            for id in df.column("log_id")?.str()?.iter().flatten() {
                if let Ok(v) = u128::from_str_radix(id, 16) {
                    seen_logs.insert(v);
                }
            }
        }
        let id = manifest.next_id();
        let tmp = self.root.join("tmp");
        Ok(Import {
            store: self.clone(),
            _lock: lock,
            manifest,
            id,
            seen_spans,
            unsettled: Vec::new(),
            seen_logs,
            spans: BTreeMap::new(),
            spans_by_day: BTreeMap::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            logs: BTreeMap::new(),
            logs_by_day: BTreeMap::new(),
            span_writer: Some(DayWriters::spawn(tmp.clone(), "spans", id)),
            log_writer: Some(DayWriters::spawn(tmp, "logs", id)),
            stored,
            maybe_stored: FastSet::default(),
            existing_traces: FastSet::default(),
            loaded: FastSet::default(),
            deferred: Vec::new(),
            source: Arc::from(""),
            stats: ImportStats::default(),
            traces: FastSet::default(),
            new_traces: FastSet::default(),
            parents_wanted: Vec::new(),
            log_spans_wanted: Vec::new(),
            failed: None,
            on_span: None,
            migrated,
        })
    }

    /// Writes the traces table of every segment without one (written by an earlier
    /// release, or whose table a repair dropped), and names them in the manifest: a
    /// one-time read of those segments' ids, after which no command reads them whole
    /// again. A parent is known when its segment holds it; one from another segment is
    /// found by the readers, which check such roots.
    fn index_old_segments(&self, manifest: &mut Manifest) -> Result<(), StoreError> {
        let mut dirs = BTreeSet::new();
        for seg in &mut manifest.segments {
            let (Some(spans), None) = (&seg.spans_file, &seg.traces_file) else {
                continue;
            };
            let file = self.root.join(spans);
            let mut ids = SeenSpans::default();
            if let Some(lf) = self.scan(vec![file.clone()])? {
                insert_span_ids(lf, &|_| true, &mut ids)?;
            }
            let rel = layout::file("traces", seg.day.as_deref(), seg.id);
            self.write_traces_table(spans, &rel, &|t, p| ids.contains_key(&(t, p)), &mut dirs)?;
            seg.traces_file = Some(rel);
        }
        if !dirs.is_empty() {
            self.sync_dirs(&dirs)?;
            manifest
                .save(&self.manifest_path(), &self.root.join("tmp"))
                .map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    fn remove_uncommitted(&self, manifest: &Manifest) -> Result<(), StoreError> {
        let committed: HashSet<PathBuf> = self
            .files(manifest, false)
            .into_iter()
            .chain(self.files(manifest, true))
            .chain(manifest.segments.iter().flat_map(|s| {
                [&s.calls_file, &s.traces_file]
                    .into_iter()
                    .flatten()
                    .map(|f| self.root.join(f))
            }))
            .collect();
        for d in DIRS {
            let dir = self.root.join(d);
            for entry in fs::read_dir(&dir).map_err(|e| self.io(e))? {
                let path = entry.map_err(|e| self.io(e))?.path();
                if path.is_dir() && d != "tmp" {
                    // A day's folder: its files, then the folder once nothing is left.
                    for entry in fs::read_dir(&path).map_err(|e| self.io(e))? {
                        let file = entry.map_err(|e| self.io(e))?.path();
                        if file.is_file() && !committed.contains(&file) {
                            fs::remove_file(&file).map_err(|e| self.io(e))?;
                        }
                    }
                    // Fails while another file is in it, which is then kept.
                    let _ = fs::remove_dir(&path);
                } else if path.is_file() && !committed.contains(&path) {
                    fs::remove_file(&path).map_err(|e| self.io(e))?;
                }
            }
        }
        Ok(())
    }
}

/// Adds the (trace, span) ids of the spans of `lf` whose trace `keep` keeps, with their
/// content hashes where the store kept them.
fn insert_span_ids(
    mut lf: LazyFrame,
    keep: &dyn Fn(&TraceId) -> bool,
    into: &mut SeenSpans,
) -> Result<(), StoreError> {
    let hashed = lf.collect_schema()?.contains("content_hash");
    let hash = if hashed {
        col("content_hash")
    } else {
        lit(NULL).cast(DataType::Int64).alias("content_hash")
    };
    let df = lf
        .select([col("trace_id"), col("span_id"), hash])
        .collect()?;
    let (t, s) = (df.column("trace_id")?.str()?, df.column("span_id")?.str()?);
    let h = df.column("content_hash")?.i64()?;
    for ((t, s), h) in t.iter().zip(s.iter()).zip(h.iter()) {
        // The store writes only ids it read as valid; anything else is not a span of it.
        if let (Some(t), Some(s)) = (t, s)
            && let (Ok(t), Ok(s)) = (TraceId::parse(t), SpanId::parse(s))
            && keep(&t)
        {
            into.entry((t, s)).or_insert(h.unwrap_or(0) as u64);
        }
    }
    Ok(())
}

/// Slices of the spans files that hold the traces `wanted` keeps, as one frame (see
/// `Store::scan_spans_near`).
pub fn spans_near<T: Located>(
    index: &[Indexed<T>],
    wanted: &dyn Fn(&TraceId) -> bool,
) -> Result<Option<LazyFrame>, StoreError> {
    let Some(newest) = index.last() else {
        return Ok(None);
    };
    let path = |p: &Path| PlRefPath::new(p.to_string_lossy().as_ref());
    // As in `Store::scan`: the newest file's schema, a missing column read as null.
    let args = ScanArgsParquet {
        allow_missing_columns: true,
        schema: Some(
            LazyFrame::scan_parquet(path(&newest.spans_file), Default::default())?
                .collect_schema()?,
        ),
        ..Default::default()
    };
    let mut frames = Vec::new();
    for seg in index {
        let mut ranges: Vec<(u64, u64)> = seg
            .traces
            .iter()
            .map(Located::located)
            .filter(|t| wanted(&t.trace_id))
            .map(|t| (t.first_row, t.last_row))
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(SLICE_GAP) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        for (a, b) in merged {
            let offset = i64::try_from(a).unwrap_or(i64::MAX);
            let len =
                IdxSize::try_from(b.saturating_sub(a).saturating_add(1)).unwrap_or(IdxSize::MAX);
            frames.push(
                LazyFrame::scan_parquet(path(&seg.spans_file), args.clone())?.slice(offset, len),
            );
        }
    }
    if frames.is_empty() {
        return Ok(None);
    }
    Ok(Some(concat(frames, UnionArgs::default())?))
}

/// An import's calls tables being written, one per day. Dropped without `attach`, it
/// leaves nothing.
pub struct CallsTableWriter<'a> {
    store: &'a Store,
    import: u64,
    _lock: fs::File,
    /// Taken by `attach`.
    writer: Option<DayWriters>,
    /// Each day's rows not written yet, and how many.
    pending: BTreeMap<i32, (Vec<DataFrame>, usize)>,
}

impl CallsTableWriter<'_> {
    /// Row groups of a bounded size are decoded in parallel when read.
    const ROWS_PER_GROUP: usize = 65_536;

    /// Appends rows, the day of each in `days`; they are written a full row group of
    /// a day at a time.
    pub fn write(&mut self, df: DataFrame, days: &[i32]) -> Result<(), StoreError> {
        for (day, rows) in by_day(df, days)? {
            let (frames, n) = self.pending.entry(day).or_default();
            *n += rows.height();
            frames.push(rows);
            while *n >= Self::ROWS_PER_GROUP {
                let all = take_pending(frames)?;
                if let Some(w) = self.writer.as_mut() {
                    w.write(day, all.slice(0, Self::ROWS_PER_GROUP));
                }
                let rest = all.slice(Self::ROWS_PER_GROUP as i64, usize::MAX);
                *n = rest.height();
                frames.push(rest);
            }
        }
        Ok(())
    }

    /// Finishes the tables and names them in the manifest: each in its day's segment
    /// of the import, or in a segment of its own for a day the import stored no span
    /// of (a trace it touched has calls on a day of an earlier import's spans).
    pub fn attach(mut self) -> Result<(), StoreError> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(());
        };
        for (day, (mut frames, _)) in std::mem::take(&mut self.pending) {
            let rest = take_pending(&mut frames)?;
            if rest.height() > 0 {
                writer.write(day, rest);
            }
        }
        let store = self.store;
        let writers = writer
            .finish()
            .map_err(|e| StoreError::Write(format!("cannot write calls: {e}")))?;
        let mut manifest = store.manifest()?;
        let Some(last) = manifest
            .segments
            .iter()
            .rposition(|s| s.import_id() == self.import)
        else {
            // The import is gone (a repair dropped it): its calls are not wanted.
            return Ok(());
        };
        let mut dirs = BTreeSet::new();
        let mut added = Vec::new();
        let mut next_id = manifest.next_id();
        for (day, w) in writers {
            let day = layout::day_text(day);
            let entry = manifest.segments.iter().position(|s| {
                s.import_id() == self.import && s.day.as_deref() == Some(day.as_str())
            });
            let id = entry.map_or(next_id, |i| manifest.segments[i].id);
            let rel = layout::file("calls", Some(&day), id);
            if !store.place(w, &rel, &mut dirs)? {
                continue;
            }
            match entry {
                Some(i) => manifest.segments[i].calls_file = Some(rel),
                None => {
                    let sibling = &manifest.segments[last];
                    added.push(Segment {
                        id,
                        day: Some(day),
                        import: Some(self.import),
                        spans_file: None,
                        logs_file: None,
                        calls_file: Some(rel),
                        traces_file: None,
                        spans: 0,
                        logs: 0,
                        imported_at: sibling.imported_at.clone(),
                        sources: Vec::new(),
                    });
                    next_id += 1;
                }
            }
        }
        if dirs.is_empty() {
            return Ok(());
        }
        store.sync_dirs(&dirs)?;
        // After the import's last segment: the segments of one import stay together.
        manifest.segments.splice(last + 1..last + 1, added);
        manifest
            .save(&store.manifest_path(), &store.root.join("tmp"))
            .map_err(|e| store.io(e))
    }
}

/// The rows of `df` of each day, `days` giving each row's; in order within a day.
fn by_day(df: DataFrame, days: &[i32]) -> PolarsResult<Vec<(i32, DataFrame)>> {
    let Some(&first) = days.first() else {
        return Ok(Vec::new());
    };
    if days.iter().all(|&d| d == first) {
        return Ok(vec![(first, df)]);
    }
    let mut rows: BTreeMap<i32, Vec<IdxSize>> = BTreeMap::new();
    for (i, &d) in days.iter().enumerate() {
        rows.entry(d).or_default().push(i as IdxSize);
    }
    rows.into_iter()
        .map(|(d, idx)| Ok((d, df.take(&IdxCa::from_vec("".into(), idx))?)))
        .collect()
}

/// Pending rows as one frame of one chunk: each chunk would be a row group.
fn take_pending(frames: &mut Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut frames = std::mem::take(frames).into_iter();
    let Some(mut all) = frames.next() else {
        return Ok(DataFrame::empty());
    };
    for f in frames {
        all.vstack_mut_owned(f)?;
    }
    all.rechunk_mut_par();
    Ok(all)
}

/// Rows encoded and not written yet.
trait Buffered {
    fn rows(&self) -> usize;
    fn bytes(&self) -> usize;
    fn take(&mut self) -> PolarsResult<DataFrame>;

    fn full(&self) -> bool {
        fills_row_group(self.rows(), self.bytes())
    }
}

impl Buffered for SpanColumns {
    fn rows(&self) -> usize {
        self.len()
    }
    fn bytes(&self) -> usize {
        SpanColumns::bytes(self)
    }
    fn take(&mut self) -> PolarsResult<DataFrame> {
        SpanColumns::take(self)
    }
}

impl Buffered for LogColumns {
    fn rows(&self) -> usize {
        self.len()
    }
    fn bytes(&self) -> usize {
        LogColumns::bytes(self)
    }
    fn take(&mut self) -> PolarsResult<DataFrame> {
        LogColumns::take(self)
    }
}

/// Writes each day's rows that fill a row group; with `all`, or when the days hold two
/// row groups together (rows spread over many days), every day's, so that an import
/// holds a bounded number of rows and bytes whatever its days. `written` counts each
/// day's rows.
fn write_days<B: Buffered>(
    days: &mut BTreeMap<i32, B>,
    written: &mut BTreeMap<i32, u64>,
    writer: Option<&mut DayWriters>,
    all: bool,
) -> PolarsResult<()> {
    let Some(w) = writer else {
        return Ok(());
    };
    let held: usize = days.values().map(Buffered::rows).sum();
    let held_bytes: usize = days.values().map(Buffered::bytes).sum();
    let all = all || held >= 2 * ROW_GROUP || held_bytes >= 2 * ROW_GROUP_BYTES;
    for (day, rows) in days.iter_mut() {
        if rows.rows() > 0 && (all || rows.full()) {
            *written.entry(*day).or_default() += rows.rows() as u64;
            w.write(*day, rows.take()?);
        }
    }
    Ok(())
}

/// Counts of one import, for its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    pub spans_read: u64,
    pub spans_new: u64,
    pub spans_duplicate: u64,
    /// Of `spans_duplicate`, those whose content differs from the span kept.
    pub spans_conflicting: u64,
    /// The first of them, as (trace, span).
    pub first_conflict: Option<(TraceId, SpanId)>,
    pub logs_read: u64,
    pub logs_new: u64,
    pub logs_duplicate: u64,
    /// Distinct traces among the spans read.
    pub traces: u64,
    /// Traces that had no span in the store before.
    pub new_traces: u64,
    /// New spans whose parent is neither in the store nor in this import.
    pub orphan_spans: u64,
    /// New log records that name no span.
    pub logs_without_span: u64,
    /// New log records whose span is not in the store (it may arrive in a later import).
    pub logs_span_missing: u64,
    pub segment: Option<u64>,
    /// Every trace the import read a span of.
    pub trace_ids: Vec<TraceId>,
    /// Those of `trace_ids` that already had spans in the store.
    pub existing_trace_ids: Vec<TraceId>,
    /// What moving a store of format 1 to the layout by day did before the import.
    pub migrated: Option<compact::Compaction>,
}

/// Sees every span an import adds, normalized, with whether its trace already had
/// spans in the store: what follows an import needs them without reading them back.
pub type SpanHook = Box<dyn FnMut(&RawSpan, crate::semconv::model::Normalized, bool) + Send>;

/// The traces a store held when an import began, asked about once per trace it meets.
struct StoredTraces {
    /// How each segment's traces table answers, when every segment has one.
    tables: Option<Vec<Holds>>,
    /// Every stored trace, in one set: for a store without traces tables, or of so
    /// many segments that asking each would cost more than the set.
    all: Option<FastSet<TraceId>>,
}

/// Segments an import asks one by one about each trace it meets.
const ASKED_SEGMENTS: usize = 64;

impl StoredTraces {
    fn new(store: &Store, m: &Manifest, seen_spans: &SeenSpans) -> Result<Self, StoreError> {
        let segments = m.segments.iter().filter(|s| s.spans_file.is_some()).count();
        if segments > ASKED_SEGMENTS
            && let Some(index) = store.span_ranges_of(m)?
        {
            let all = index
                .iter()
                .flat_map(|s| s.traces.iter().map(|t| t.trace_id))
                .collect();
            let tables = index
                .into_iter()
                .map(|s| Holds::Exactly(s.traces))
                .collect();
            return Ok(StoredTraces {
                tables: Some(tables),
                all: Some(all),
            });
        }
        Ok(match store.holds_of(m)? {
            Some(tables) => StoredTraces {
                tables: Some(tables),
                all: None,
            },
            None => StoredTraces {
                tables: None,
                all: Some(seen_spans.keys().map(|(t, _)| *t).collect()),
            },
        })
    }

    /// False only for a trace the store holds no span of.
    fn may_contain(&self, trace: &TraceId) -> bool {
        match (&self.all, &self.tables) {
            (Some(all), _) => all.contains(trace),
            (None, Some(tables)) => tables.iter().any(|h| h.may_hold(trace)),
            (None, None) => false,
        }
    }

    /// Whether `may_contain` is exact.
    fn exact(&self) -> bool {
        self.all.is_some()
    }
}

/// One import in progress. Dropped without `commit`, it leaves the store as it was.
pub struct Import {
    store: Store,
    _lock: fs::File,
    manifest: Manifest,
    id: u64,
    seen_spans: SeenSpans,
    /// Repeats of a span whose own hash was not known when they came (it was still to
    /// be written), with theirs: compared at commit.
    unsettled: Vec<((TraceId, SpanId), u64)>,
    seen_logs: FastSet<u128>,
    /// Each day's spans not written yet (a day's files hold only its rows).
    spans: BTreeMap<i32, SpanColumns>,
    /// Spans stored, by day.
    spans_by_day: BTreeMap<i32, u64>,
    pending: Vec<(RawSpan, Arc<str>)>,
    /// `RawSpan::approx_bytes` of `pending`.
    pending_bytes: usize,
    logs: BTreeMap<i32, LogColumns>,
    logs_by_day: BTreeMap<i32, u64>,
    span_writer: Option<DayWriters>,
    log_writer: Option<DayWriters>,
    stored: StoredTraces,
    /// The traces met so far that the store may hold spans of: their spans wait until
    /// the store is asked (a batch at a time).
    maybe_stored: FastSet<TraceId>,
    /// The traces the store is known to hold spans of.
    existing_traces: FastSet<TraceId>,
    /// Stored traces whose span ids are in `seen_spans`.
    loaded: FastSet<TraceId>,
    /// Spans of stored traces not loaded yet, checked a batch at a time.
    deferred: Vec<(RawSpan, Arc<str>)>,
    source: Arc<str>,
    stats: ImportStats,
    traces: FastSet<TraceId>,
    new_traces: FastSet<TraceId>,
    parents_wanted: Vec<(TraceId, SpanId)>,
    log_spans_wanted: Vec<(TraceId, SpanId)>,
    failed: Option<StoreError>,
    on_span: Option<SpanHook>,
    /// What moving a store of format 1 to the layout by day did, first.
    migrated: Option<compact::Compaction>,
}

impl Import {
    /// Hands every span this import adds to `hook` as it is written.
    pub fn on_span(&mut self, hook: SpanHook) {
        self.on_span = Some(hook);
    }

    /// Names the input the next records come from (kept in the `source` column).
    pub fn set_source(&mut self, name: &str) {
        self.source = Arc::from(name);
    }

    pub fn push(&mut self, r: Record) {
        if self.failed.is_some() {
            return;
        }
        match r {
            Record::Span(s) => {
                self.stats.spans_read += 1;
                if self.traces.insert(s.trace_id) && self.stored.may_contain(&s.trace_id) {
                    self.maybe_stored.insert(s.trace_id);
                    if self.stored.exact() {
                        self.existing_traces.insert(s.trace_id);
                    }
                }
                if self.stored.tables.is_some()
                    && !self.loaded.contains(&s.trace_id)
                    && self.maybe_stored.contains(&s.trace_id)
                {
                    self.deferred.push((s, self.source.clone()));
                    if self.deferred.len() >= ROW_GROUP {
                        self.resolve_deferred();
                    }
                    return;
                }
                let source = self.source.clone();
                self.admit(s, source);
            }
            Record::Log(l) => {
                self.stats.logs_read += 1;
                let (body, attributes) = LogColumns::encode(&l);
                let id = columns::log_id(&l, &body, &attributes);
                if !self.seen_logs.insert(id) {
                    self.stats.logs_duplicate += 1;
                    return;
                }
                self.stats.logs_new += 1;
                match (l.trace_id, l.span_id) {
                    (Some(t), Some(s)) => self.log_spans_wanted.push((t, s)),
                    _ => self.stats.logs_without_span += 1,
                }
                let day = layout::log_day(l.time_unix_nano, l.observed_time_unix_nano);
                let logs = self.logs.entry(day).or_default();
                logs.push(&l, id, &body, &attributes, &self.source);
                if logs.full() {
                    self.flush_logs(false);
                }
            }
        }
    }

    /// Adds a span unless its id is already stored or imported; a repeat that says
    /// something else than the span kept is counted as a conflict.
    fn admit(&mut self, s: RawSpan, source: Arc<str>) {
        let key = (s.trace_id, s.span_id);
        if let Some(&kept) = self.seen_spans.get(&key) {
            self.stats.spans_duplicate += 1;
            let hash = columns::span_content_hash(&s);
            match kept {
                0 => self.unsettled.push((key, hash)),
                k => self.conflict(key, k, hash),
            }
            return;
        }
        self.seen_spans.insert(key, 0);
        self.stats.spans_new += 1;
        self.new_traces.insert(s.trace_id);
        if let Some(p) = s.parent_span_id {
            self.parents_wanted.push((s.trace_id, p));
        }
        self.pending_bytes += s.approx_bytes();
        self.pending.push((s, source));
        if fills_row_group(self.pending.len(), self.pending_bytes) {
            self.flush_spans(false);
        }
    }

    fn conflict(&mut self, key: (TraceId, SpanId), kept: u64, repeat: u64) {
        if kept != repeat {
            self.stats.spans_conflicting += 1;
            self.stats.first_conflict.get_or_insert(key);
        }
    }

    /// Reads the stored span ids of the deferred spans' traces, then admits the spans.
    fn resolve_deferred(&mut self) {
        let deferred = std::mem::take(&mut self.deferred);
        let wanted: FastSet<TraceId> = deferred.iter().map(|(s, _)| s.trace_id).collect();
        if let Err(e) = self.load_stored(&wanted) {
            self.failed = Some(e);
            return;
        }
        for (s, source) in deferred {
            self.admit(s, source);
        }
    }

    /// Puts the stored span ids of `traces` into `seen_spans`, and those the store holds
    /// into `existing_traces`.
    fn load_stored(&mut self, traces: &FastSet<TraceId>) -> Result<(), StoreError> {
        let wanted: Vec<TraceId> = traces
            .iter()
            .filter(|t| !self.loaded.contains(t) && self.stored.may_contain(t))
            .copied()
            .collect();
        if self.stored.tables.is_none() || wanted.is_empty() {
            return Ok(());
        }
        let Some(index) = self.store.locate_in(&self.manifest, &wanted)? else {
            return Ok(());
        };
        let held: FastSet<TraceId> = index
            .iter()
            .flat_map(|s| s.traces.iter().map(|t| t.trace_id))
            .collect();
        if let Some(lf) = spans_near(&index, &|t| held.contains(t))? {
            insert_span_ids(lf, &|t| held.contains(t), &mut self.seen_spans)?;
        }
        self.existing_traces.extend(held);
        self.loaded.extend(wanted);
        Ok(())
    }

    /// Encodes the pending spans into their days' columns and writes each day that has
    /// a row group's worth; with `all`, or when the days together hold two, every day.
    fn flush_spans(&mut self, all: bool) {
        // Encoding and normalizing are per span and independent: done on every core.
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let prepared: Vec<PreparedSpan> = pending
            .par_iter()
            .map(|(s, _)| PreparedSpan::new(s))
            .collect();
        for ((s, source), p) in pending.iter().zip(prepared) {
            let day = layout::day_of(s.start_time_unix_nano);
            let (normalized, hash) = self.spans.entry(day).or_default().push(s, p, source);
            self.seen_spans.insert((s.trace_id, s.span_id), hash);
            if let Some(hook) = &mut self.on_span {
                hook(s, normalized, self.existing_traces.contains(&s.trace_id));
            }
        }
        // The spans' memory was allocated by the decoding threads, which free it faster
        // than this thread can (mimalloc frees across threads through atomic lists).
        rayon::spawn(move || drop(pending));
        let (spans, counts) = (&mut self.spans, &mut self.spans_by_day);
        if let Err(e) = write_days(spans, counts, self.span_writer.as_mut(), all) {
            self.failed = Some(StoreError::Write(format!("cannot write spans: {e}")));
        }
    }

    fn flush_logs(&mut self, all: bool) {
        let (logs, counts) = (&mut self.logs, &mut self.logs_by_day);
        if let Err(e) = write_days(logs, counts, self.log_writer.as_mut(), all) {
            self.failed = Some(StoreError::Write(format!("cannot write log records: {e}")));
        }
    }

    /// Makes the import visible: finishes the segment files, moves them into place and
    /// names them in the manifest, in that order.
    pub fn commit(mut self, sources: Vec<String>) -> Result<ImportStats, StoreError> {
        if !self.deferred.is_empty() {
            self.resolve_deferred();
        }
        // A log record's span may be stored in a trace no span of this import touched.
        let log_traces: FastSet<TraceId> = self.log_spans_wanted.iter().map(|(t, _)| *t).collect();
        if let Err(e) = self.load_stored(&log_traces) {
            self.failed = Some(e);
        }
        self.flush_spans(true);
        self.flush_logs(true);
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        for (key, hash) in std::mem::take(&mut self.unsettled) {
            // Still 0: the span kept was stored without a hash, and cannot be compared.
            match self.seen_spans.get(&key).copied().unwrap_or(0) {
                0 => {}
                kept => self.conflict(key, kept, hash),
            }
        }
        let mut stats = std::mem::take(&mut self.stats);
        stats.migrated = self.migrated.take();
        stats.traces = self.traces.len() as u64;
        stats.trace_ids = self.traces.iter().copied().collect();
        // In order: the calls table's marker rows follow it, and the same imports must
        // write the same files (a hash set's order differs from run to run).
        stats.trace_ids.sort_unstable();
        stats.existing_trace_ids = self
            .existing_traces
            .iter()
            .filter(|t| self.traces.contains(t))
            .copied()
            .collect();
        stats.new_traces = self
            .new_traces
            .iter()
            .filter(|t| !self.existing_traces.contains(t))
            .count() as u64;
        stats.orphan_spans = self
            .parents_wanted
            .iter()
            .filter(|k| !self.seen_spans.contains_key(k))
            .count() as u64;
        stats.logs_span_missing = self
            .log_spans_wanted
            .iter()
            .filter(|k| !self.seen_spans.contains_key(k))
            .count() as u64;
        if stats.spans_new == 0 && stats.logs_new == 0 {
            return Ok(stats);
        }
        let root = self.store.root.clone();
        let finish = |w: Option<DayWriters>, what: &str| match w {
            Some(w) => w
                .finish()
                .map_err(|e| StoreError::Write(format!("cannot write {what}: {e}"))),
            None => Ok(BTreeMap::new()),
        };
        let mut span_files = finish(self.span_writer.take(), "spans")?;
        let mut log_files = finish(self.log_writer.take(), "log records")?;
        let days: BTreeSet<i32> = span_files.keys().chain(log_files.keys()).copied().collect();
        let imported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut dirs = BTreeSet::new();
        let mut segments = Vec::with_capacity(days.len());
        for (n, day) in days.into_iter().enumerate() {
            let id = self.id + n as u64;
            let day_text = layout::day_text(day);
            let rel = |table: &str| layout::file(table, Some(&day_text), id);
            let (spans_rel, logs_rel, traces_rel) = (rel("spans"), rel("logs"), rel("traces"));
            let wrote_spans = match span_files.remove(&day) {
                Some(w) => self.store.place(w, &spans_rel, &mut dirs)?,
                None => false,
            };
            if wrote_spans {
                let seen = &self.seen_spans;
                self.store.write_traces_table(
                    &spans_rel,
                    &traces_rel,
                    &|t, p| seen.contains_key(&(t, p)),
                    &mut dirs,
                )?;
            }
            let wrote_logs = match log_files.remove(&day) {
                Some(w) => self.store.place(w, &logs_rel, &mut dirs)?,
                None => false,
            };
            segments.push(Segment {
                id,
                day: Some(day_text.clone()),
                import: Some(self.id),
                spans_file: wrote_spans.then(|| spans_rel.clone()),
                logs_file: wrote_logs.then_some(logs_rel),
                calls_file: None,
                traces_file: wrote_spans.then_some(traces_rel),
                spans: self.spans_by_day.get(&day).copied().unwrap_or(0),
                logs: self.logs_by_day.get(&day).copied().unwrap_or(0),
                imported_at: imported_at.clone(),
                // Named once, by the import's first segment.
                sources: if n == 0 { sources.clone() } else { Vec::new() },
            });
        }
        self.store.sync_dirs(&dirs)?;
        self.manifest.format_version = manifest::FORMAT_VERSION;
        self.manifest.segments.extend(segments);
        self.manifest
            .save(&self.store.manifest_path(), &root.join("tmp"))
            .map_err(|e| self.store.io(e))?;
        stats.segment = Some(self.id);
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{DecodeOptions, Input, decode_all};

    #[test]
    fn spans_stored_without_a_content_hash_are_known_but_not_comparable() {
        let (t, sp) = ("ab".repeat(16), "cd".repeat(8));
        let df = df!("trace_id" => [t.as_str()], "span_id" => [sp.as_str()]).unwrap();
        let mut seen = SeenSpans::default();
        insert_span_ids(df.lazy(), &|_| true, &mut seen).unwrap();
        let key = (TraceId::parse(&t).unwrap(), SpanId::parse(&sp).unwrap());
        assert_eq!(seen.get(&key), Some(&0));

        let df =
            df!("trace_id" => [t.as_str()], "span_id" => [sp.as_str()], "content_hash" => [-5i64])
                .unwrap();
        let mut seen = SeenSpans::default();
        insert_span_ids(df.lazy(), &|_| true, &mut seen).unwrap();
        assert_eq!(seen.get(&key), Some(&(-5i64 as u64)));
    }

    /// A Parquet file's rows per row group, and its rows.
    fn row_groups(path: &Path) -> (Vec<usize>, DataFrame) {
        let mut reader = ParquetReader::new(fs::File::open(path).unwrap());
        let groups = reader
            .get_metadata()
            .unwrap()
            .row_groups
            .iter()
            .map(|g| g.num_rows())
            .collect();
        (groups, reader.finish().unwrap())
    }

    /// Spans that each carry a MB of conversation end their row groups by bytes, far
    /// short of `ROW_GROUP` rows, and none is lost or repeated on the way.
    #[test]
    fn heavy_spans_end_row_groups_by_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("store"));
        let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/otel/collector.jsonl");
        let (records, _) = decode_all(&Input::File(dump), &DecodeOptions::default()).unwrap();
        let Some(Record::Span(first)) = records.into_iter().find(|r| matches!(r, Record::Span(_)))
        else {
            panic!("the dump has spans")
        };
        let n = 40u64;
        let mib = "m".repeat(1 << 20);
        let mut import = store.begin_import().unwrap();
        for i in 0..n {
            let mut s = first.clone();
            s.span_id = SpanId((i + 1).to_be_bytes());
            s.attributes = vec![crate::ingest::raw::KeyValue::new(
                "gen_ai.input.messages",
                crate::ingest::raw::AnyValue::String(format!("{mib}{i}")),
            )];
            import.push(Record::Span(s));
        }
        let stats = import.commit(vec![]).unwrap();
        assert_eq!(stats.spans_new, n);
        let m = store.manifest().unwrap();
        let file = m
            .segments
            .iter()
            .find_map(|s| s.spans_file.clone())
            .unwrap();
        let (groups, df) = row_groups(&store.root().join(file));
        // 40 MB in groups of at most 16 MB and the span that crossed it.
        let per_group = ROW_GROUP_BYTES / (1 << 20) + 1;
        assert!(groups.len() >= 3, "{groups:?}");
        assert!(groups.iter().all(|&g| g <= per_group), "{groups:?}");
        assert_eq!(groups.iter().sum::<usize>() as u64, n);
        let mut ids: Vec<String> = df
            .column("span_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|id| id.unwrap().to_string())
            .collect();
        ids.sort();
        let expected: Vec<String> = (1..=n).map(|i| format!("{i:016x}")).collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn approximate_sizes_count_keys_and_text() {
        use crate::ingest::raw::{AnyValue, KeyValue, approx_bytes};
        let attrs = vec![
            KeyValue::new("abc", AnyValue::String("hello".into())),
            KeyValue::new("n", AnyValue::Int(3)),
            KeyValue::new(
                "list",
                AnyValue::Array(vec![
                    AnyValue::String("xy".into()),
                    AnyValue::Bytes(vec![0; 10]),
                ]),
            ),
            KeyValue::new(
                "kv",
                AnyValue::KvList(vec![KeyValue::new("k", AnyValue::Bool(true))]),
            ),
        ];
        // 3 + 5, 1 + 8, 4 + 2 + 10, 2 + (1 + 8)
        assert_eq!(approx_bytes(&attrs), 8 + 9 + 16 + 11);
    }

    #[test]
    fn calls_tables_are_written_in_whole_row_groups_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("store"));
        let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/otel/collector.jsonl");
        let (records, _) = decode_all(&Input::File(dump), &DecodeOptions::default()).unwrap();
        let mut import = store.begin_import().unwrap();
        records.into_iter().for_each(|r| import.push(r));
        let segment = import.commit(vec![]).unwrap().segment.unwrap();

        // Pieces of uneven sizes, as sets of traces finish: 150,001 rows in all.
        let sizes = [1usize, 7_000, 65_535, 2, 60_000, 17_463];
        let mut table = store.begin_calls(segment).unwrap();
        let mut next = 0i64;
        for n in sizes {
            let rows: Vec<i64> = (next..next + n as i64).collect();
            next += n as i64;
            // 2024-10-04, a day the import stored no span of.
            table
                .write(
                    DataFrame::new(n, vec![Column::new("row".into(), rows)]).unwrap(),
                    &vec![20_000; n],
                )
                .unwrap();
        }
        table.attach().unwrap();

        let m = store.manifest().unwrap();
        let own = m.segments.last().unwrap();
        assert_eq!(own.day.as_deref(), Some("2024-10-04"));
        assert_eq!((own.import, own.spans_file.as_ref()), (Some(segment), None));
        let file = own.calls_file.as_ref().unwrap();
        assert!(file.starts_with("calls/day=2024-10-04/"), "{file}");
        // The day the import stored spans on has no calls table: reports derive them.
        assert!(store.calls_files().unwrap().is_none());
        let (groups, df) = row_groups(&store.root().join(file));
        assert_eq!(groups, vec![65_536, 65_536, 18_929]);
        let back: Vec<i64> = df
            .column("row")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(back, (0..next).collect::<Vec<_>>());
    }
}
