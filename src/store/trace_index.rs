//! The traces table of a segment: one row per trace with spans in it, written by the
//! import beside its spans file and committed with it. `list` reads these tables
//! instead of every span; `show`, the import's duplicate check and its calls table read
//! only the rows of the spans files that hold the traces they ask for, so their cost
//! follows the traces asked, not the size of the store.
//!
//! A trace's row in one segment says which rows of that segment's spans file hold its
//! spans (`first_row..=last_row`), its times, counts and the segment's best guess at its
//! root. The root a segment sees is final when it has no parent id; a span whose parent
//! is only missing from what the import knew may stop being a root when a later import
//! brings the parent, and then the reader works it out from the spans.

use super::arrays::PrimitiveArray;
use super::segment::SegmentWriter;
use super::trace_filter::{self, TraceFilter};
use crate::ingest::ids::{SpanId, TraceId};
use polars::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// Spans read back at a time while a traces table is built.
const CHUNK: usize = 256 * 1024;

/// Where one trace's spans are in one segment's spans file: every one of them lies in
/// `first_row..=last_row`, among other traces' spans unless the file is sorted by trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRows {
    pub trace_id: TraceId,
    pub first_row: u64,
    pub last_row: u64,
}

/// A row of a traces table, whole or only where its trace's spans are.
pub trait Located {
    fn located(&self) -> TraceRows;
}

impl Located for TraceRows {
    fn located(&self) -> TraceRows {
        *self
    }
}

impl Located for SegmentTrace {
    fn located(&self) -> TraceRows {
        TraceRows {
            trace_id: self.trace_id,
            first_row: self.first_row,
            last_row: self.last_row,
        }
    }
}

/// One trace in one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentTrace {
    pub trace_id: TraceId,
    pub first_row: u64,
    pub last_row: u64,
    pub start: i64,
    /// The latest end (a span without an end counts as ending at its start).
    pub end: i64,
    pub spans: u64,
    pub errors: u64,
    pub root: RootGuess,
}

/// The root of a trace as one segment sees it: its earliest span without a known
/// parent, else (a cycle, bad ids) its earliest span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RootGuess {
    pub start: i64,
    /// Shared: a store's roots have a few names and services among many traces.
    pub name: Arc<str>,
    pub service: Option<Arc<str>>,
    /// The span has no parent id: a root whatever other segments hold.
    pub certain: bool,
}

/// A trace's row, summed up from its spans in the order they are read (ties of start
/// keep the first, so the same spans in the same order give the same root).
#[derive(Debug, Clone)]
pub struct TraceAcc {
    pub first_row: u64,
    pub last_row: u64,
    pub start: i64,
    pub end: i64,
    pub spans: u64,
    pub errors: u64,
    root: Option<RootGuess>,
    first: Option<RootGuess>,
}

/// One span, as much of it as its trace's row needs.
#[derive(Debug, Clone, Copy)]
pub struct SpanFacts<'a> {
    pub row: u64,
    pub start: i64,
    /// The start when the span has no end.
    pub end: i64,
    pub error: bool,
    pub name: &'a str,
    pub service: Option<&'a str>,
    pub has_parent: bool,
    /// Its parent is among the trace's spans known.
    pub parent_known: bool,
}

impl TraceAcc {
    pub fn new(s: &SpanFacts) -> TraceAcc {
        TraceAcc {
            first_row: s.row,
            last_row: s.row,
            start: s.start,
            end: s.end,
            spans: 0,
            errors: 0,
            root: None,
            first: None,
        }
    }

    pub fn add(&mut self, s: &SpanFacts) {
        self.first_row = self.first_row.min(s.row);
        self.last_row = self.last_row.max(s.row);
        self.start = self.start.min(s.start);
        self.end = self.end.max(s.end);
        self.spans = self.spans.saturating_add(1);
        self.errors = self.errors.saturating_add(u64::from(s.error));
        let guess = |certain| RootGuess {
            start: s.start,
            name: Arc::from(s.name),
            service: s.service.map(Arc::from),
            certain,
        };
        if !s.parent_known && self.root.as_ref().is_none_or(|r| s.start < r.start) {
            self.root = Some(guess(!s.has_parent));
        }
        if self.first.as_ref().is_none_or(|r| s.start < r.start) {
            self.first = Some(guess(false));
        }
    }

    /// The earliest span without a known parent, else the earliest span.
    pub fn root(self) -> RootGuess {
        self.root.or(self.first).unwrap_or_default()
    }
}

/// The light columns of spans a traces table is made of.
const READ: [&str; 7] = [
    "trace_id",
    "parent_span_id",
    "name",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "status_code",
    "service_name",
];

/// Reads the spans file just written and summarizes each trace in it, in trace id
/// order. `parent_known` says whether a parent span is in the trace as far as the import
/// knows (its own spans and the stored spans of the traces it touched).
pub fn summarize(
    spans_file: &Path,
    parent_known: &dyn Fn(TraceId, SpanId) -> bool,
) -> PolarsResult<Vec<SegmentTrace>> {
    let mut reader = ParquetReader::new(std::fs::File::open(spans_file)?);
    let metadata = reader.get_metadata()?.clone();
    let rows = metadata.num_rows;
    let mut accs: foldhash::HashMap<TraceId, TraceAcc> = Default::default();
    let mut offset = 0usize;
    while offset < rows {
        let mut reader = ParquetReader::new(std::fs::File::open(spans_file)?)
            .with_columns(Some(READ.iter().map(|c| c.to_string()).collect()))
            .with_slice(Some((offset, CHUNK)));
        reader.set_metadata(metadata.clone());
        let df = reader.finish()?;
        let text = |n: &str| -> PolarsResult<StringChunked> { Ok(df.column(n)?.str()?.clone()) };
        let (trace, parent, name, status, service) = (
            text("trace_id")?,
            text("parent_span_id")?,
            text("name")?,
            text("status_code")?,
            text("service_name")?,
        );
        let start = df.column("start_time_unix_nano")?.i64()?.clone();
        let end = df.column("end_time_unix_nano")?.i64()?.clone();
        for i in 0..df.height() {
            let row = (offset + i) as u64;
            // The store writes only ids it read as valid.
            let Some(Ok(t)) = trace.get(i).map(TraceId::parse) else {
                continue;
            };
            let s = start.get(i).unwrap_or(0);
            let parent = parent
                .get(i)
                .and_then(|p| SpanId::parse_parent(p).ok().flatten());
            let facts = SpanFacts {
                row,
                start: s,
                end: end.get(i).unwrap_or(s),
                error: status.get(i) == Some("error"),
                name: name.get(i).unwrap_or(""),
                service: service.get(i),
                has_parent: parent.is_some(),
                parent_known: parent.is_some_and(|p| parent_known(t, p)),
            };
            accs.entry(t)
                .or_insert_with(|| TraceAcc::new(&facts))
                .add(&facts);
        }
        offset += CHUNK;
    }
    let mut out: Vec<SegmentTrace> = accs
        .into_iter()
        .map(|(trace_id, a)| SegmentTrace {
            trace_id,
            first_row: a.first_row,
            last_row: a.last_row,
            start: a.start,
            end: a.end,
            spans: a.spans,
            errors: a.errors,
            root: a.root(),
        })
        .collect();
    out.sort_unstable_by_key(|t| t.trace_id);
    Ok(out)
}

const COLUMNS: [&str; 11] = [
    "trace_id",
    "first_row",
    "last_row",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "spans",
    "errors",
    "root_name",
    "root_service",
    "root_start",
    "root_certain",
];

fn frame(traces: &[SegmentTrace]) -> PolarsResult<DataFrame> {
    let n = traces.len();
    let ids: Vec<String> = traces.iter().map(|t| t.trace_id.to_string()).collect();
    let int = |f: &dyn Fn(&SegmentTrace) -> i64| -> Vec<i64> { traces.iter().map(f).collect() };
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    DataFrame::new(
        n,
        vec![
            Column::new("trace_id".into(), ids),
            Column::new("first_row".into(), int(&|t| as_i64(t.first_row))),
            Column::new("last_row".into(), int(&|t| as_i64(t.last_row))),
            Column::new("start_time_unix_nano".into(), int(&|t| t.start)),
            Column::new("end_time_unix_nano".into(), int(&|t| t.end)),
            Column::new("spans".into(), int(&|t| as_i64(t.spans))),
            Column::new("errors".into(), int(&|t| as_i64(t.errors))),
            Column::new(
                "root_name".into(),
                traces.iter().map(|t| &*t.root.name).collect::<Vec<_>>(),
            ),
            Column::new(
                "root_service".into(),
                traces
                    .iter()
                    .map(|t| t.root.service.as_deref())
                    .collect::<Vec<_>>(),
            ),
            Column::new("root_start".into(), int(&|t| t.root.start)),
            Column::new(
                "root_certain".into(),
                traces.iter().map(|t| t.root.certain).collect::<Vec<_>>(),
            ),
        ],
    )
}

/// Writes a traces table under `tmp` and moves it to `dest`.
pub fn write(traces: &[SegmentTrace], tmp: &Path, dest: &Path) -> Result<(), String> {
    let filter = TraceFilter::of(traces.iter().map(|t| &t.trace_id));
    let mut w = SegmentWriter::create(tmp.to_path_buf())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?
        .with_footer(trace_filter::KEY, filter.encode());
    for part in traces.chunks(ROWS_PER_GROUP) {
        let df = frame(part).map_err(|e| e.to_string())?;
        w.write(&df).map_err(|e| e.to_string())?;
    }
    w.finish(dest).map_err(|e| e.0)?;
    Ok(())
}

/// Rows per row group of a traces table: a lookup by id reads one group, found by the
/// groups' min and max ids (the table is sorted by id).
const ROWS_PER_GROUP: usize = 16 * 1024;

/// The columns of a traces table, read whole or only the rows whose trace id starts with
/// `prefix` (lowercase hex).
fn scan(file: &Path, prefix: Option<&str>, columns: &[&str]) -> PolarsResult<DataFrame> {
    // Every id that starts with p sorts in [p, p + "g"), hex digits being below "g": a
    // range the row groups' statistics can rule out, unlike a prefix test.
    let among = prefix.map(|p| {
        col("trace_id")
            .gt_eq(lit(p))
            .and(col("trace_id").lt(lit(format!("{p}g"))))
    });
    scan_where(file, among, columns)
}

fn scan_where(file: &Path, among: Option<Expr>, columns: &[&str]) -> PolarsResult<DataFrame> {
    let mut lf = LazyFrame::scan_parquet(
        PlRefPath::new(file.to_string_lossy().as_ref()),
        Default::default(),
    )?;
    if let Some(e) = among {
        lf = lf.filter(e);
    }
    lf.select(columns.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()
}

/// The trace filter in a traces table's footer; `None` for a table written before
/// tables had one.
pub fn read_filter(file: &Path) -> PolarsResult<Option<TraceFilter>> {
    let mut reader = ParquetReader::new(std::fs::File::open(file)?);
    let metadata = reader.get_metadata()?;
    Ok(metadata
        .key_value_metadata()
        .iter()
        .flatten()
        .find(|kv| kv.key == trace_filter::KEY)
        .and_then(|kv| kv.value.as_deref())
        .and_then(TraceFilter::decode))
}

/// Where the traces of a traces table are (its rows whose id starts with `prefix`, if
/// given), sorted by trace id: 32 bytes a trace, which an import holds for every trace
/// of the store.
pub fn read_ranges(file: &Path, prefix: Option<&str>) -> PolarsResult<Vec<TraceRows>> {
    ranges_from(&scan(file, prefix, &RANGE_COLUMNS)?)
}

/// The rows of `ids` in a traces table, sorted by trace id; an id it does not hold has
/// none. Only the row groups whose id range holds one of them are read.
pub fn read_ranges_of(file: &Path, ids: &[TraceId]) -> PolarsResult<Vec<TraceRows>> {
    let among = ids
        .iter()
        .map(|t| col("trace_id").eq(lit(t.to_string())))
        .reduce(|a, b| a.or(b));
    let Some(among) = among else {
        return Ok(Vec::new());
    };
    ranges_from(&scan_where(file, Some(among), &RANGE_COLUMNS)?)
}

const RANGE_COLUMNS: [&str; 3] = ["trace_id", "first_row", "last_row"];

fn ranges_from(df: &DataFrame) -> PolarsResult<Vec<TraceRows>> {
    let row = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
    let mut out: Vec<TraceRows> = df
        .column("trace_id")?
        .str()?
        .iter()
        .zip(df.column("first_row")?.i64()?.iter())
        .zip(df.column("last_row")?.i64()?.iter())
        .filter_map(|((id, first), last)| {
            Some(TraceRows {
                trace_id: TraceId::parse(id?).ok()?,
                first_row: row(first),
                last_row: row(last),
            })
        })
        .collect();
    // Written sorted; a lookup by binary search must not trust that blindly.
    if !out.is_sorted_by_key(|t| t.trace_id) {
        out.sort_unstable_by_key(|t| t.trace_id);
    }
    Ok(out)
}

/// The rows of a traces table (those whose id starts with `prefix`, if given), in its
/// order.
pub fn read(file: &Path, prefix: Option<&str>) -> PolarsResult<Vec<SegmentTrace>> {
    use super::arrays::{Chunk, aligned, flag, value};
    let mut df = scan(file, prefix, &COLUMNS)?;
    let mut shared: foldhash::HashMap<&str, Arc<str>> = Default::default();
    let mut out = Vec::with_capacity(df.height());
    let count = |v: i64| v.max(0) as u64;
    // Each row read by position (see `store::arrays`); a row without a valid id is
    // skipped.
    for k in 0..aligned(&mut df) {
        let c = Chunk::new(&df, k);
        let (ids, names, services) = (
            c.text("trace_id")?,
            c.text("root_name")?,
            c.text("root_service")?,
        );
        // `first_row` to `errors`, in the order `COLUMNS` names them.
        let int = |j: usize| c.int(COLUMNS[j]);
        let (first, last, start, end) = (int(1)?, int(2)?, int(3)?, int(4)?);
        let (spans, errors, root_start) = (int(5)?, int(6)?, c.int("root_start")?);
        let certain = c.flag("root_certain")?;
        for i in 0..ids.len() {
            let Some(Ok(trace_id)) = ids.get(i).map(TraceId::parse) else {
                continue;
            };
            let int = |a: &PrimitiveArray<i64>| value(a, i).unwrap_or(0);
            out.push(SegmentTrace {
                trace_id,
                first_row: count(int(first)),
                last_row: count(int(last)),
                start: int(start),
                end: int(end),
                spans: count(int(spans)),
                errors: count(int(errors)),
                root: RootGuess {
                    start: int(root_start),
                    name: share(&mut shared, names.get(i).unwrap_or("")),
                    service: services.get(i).map(|s| share(&mut shared, s)),
                    certain: flag(certain, i).unwrap_or(false),
                },
            });
        }
    }
    Ok(out)
}

/// One `Arc` per distinct text of a table: its roots repeat a few names.
fn share<'a>(shared: &mut foldhash::HashMap<&'a str, Arc<str>>, s: &'a str) -> Arc<str> {
    shared.entry(s).or_insert_with(|| Arc::from(s)).clone()
}
