//! One row per trace: root span, start, duration, span count, service, errors.

use super::store_set::StoreSet;
use crate::ingest::ids::TraceId;
use crate::store::trace_index::{RootGuess, SpanFacts, TraceAcc};
use crate::store::{IndexedSegment, Store, StoreError, spans_near};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    pub trace_id: String,
    pub root_name: String,
    pub service: Option<String>,
    pub start_unix_nano: i64,
    pub duration_ns: i64,
    pub spans: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Default)]
pub struct TraceFilter {
    /// Traces that start at or after this instant (Unix ns).
    pub since: Option<i64>,
    /// Traces that start before this instant (Unix ns).
    pub until: Option<i64>,
    /// Traces whose root span belongs to this service.
    pub service: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Start,
    Duration,
    Spans,
    Errors,
    Name,
    Service,
    TraceId,
}

impl std::str::FromStr for SortKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "start" | "start_time" => SortKey::Start,
            "duration" | "duration_ms" => SortKey::Duration,
            "spans" => SortKey::Spans,
            "errors" => SortKey::Errors,
            "name" | "root_name" => SortKey::Name,
            "service" => SortKey::Service,
            "trace" | "trace_id" => SortKey::TraceId,
            _ => {
                return Err(crate::suggest::unknown(
                    "cannot sort by",
                    s,
                    &[
                        "start", "duration", "spans", "errors", "name", "service", "trace_id",
                    ],
                ));
            }
        })
    }
}

/// The rows a `list` shows: the first `limit` in the order of `key`.
#[derive(Debug, Clone, Copy)]
pub struct Top {
    pub key: SortKey,
    pub descending: bool,
    pub limit: usize,
}

/// What a sort compares of a row, the trace id last (`T`: the id as text or bytes,
/// which sort alike since ids are written as lowercase hex).
struct SortView<'a, T: Ord> {
    start: i64,
    duration: i64,
    spans: u64,
    errors: u64,
    name: &'a str,
    service: Option<&'a str>,
    trace_id: T,
}

fn compare<T: Ord>(
    key: SortKey,
    descending: bool,
    a: &SortView<T>,
    b: &SortView<T>,
) -> std::cmp::Ordering {
    let o = match key {
        SortKey::Start => a.start.cmp(&b.start),
        SortKey::Duration => a.duration.cmp(&b.duration),
        SortKey::Spans => a.spans.cmp(&b.spans),
        SortKey::Errors => a.errors.cmp(&b.errors),
        SortKey::Name => a.name.cmp(b.name),
        SortKey::Service => a.service.cmp(&b.service),
        SortKey::TraceId => std::cmp::Ordering::Equal,
    };
    let o = if descending { o.reverse() } else { o };
    o.then_with(|| a.trace_id.cmp(&b.trace_id))
}

impl TraceRow {
    fn view(&self) -> SortView<'_, &str> {
        SortView {
            start: self.start_unix_nano,
            duration: self.duration_ns,
            spans: self.spans,
            errors: self.errors,
            name: &self.root_name,
            service: self.service.as_deref(),
            trace_id: &self.trace_id,
        }
    }
}

impl TraceFilter {
    fn keeps(&self, start: i64, service: Option<&str>) -> bool {
        self.since.is_none_or(|s| start >= s)
            && self.until.is_none_or(|u| start < u)
            && self
                .service
                .as_ref()
                .is_none_or(|s| service == Some(s.as_str()))
    }
}

/// One span, as much of it as a trace's row needs.
#[derive(Debug, Clone, Copy)]
pub struct SpanTimes<'a> {
    pub trace: &'a str,
    pub span: Option<&'a str>,
    pub parent: Option<&'a str>,
    pub name: &'a str,
    pub start: i64,
    /// The start when the span has no end.
    pub end: i64,
    pub error: bool,
    pub service: Option<&'a str>,
}

/// The root of a trace is its span without a parent in the trace (its parent is absent
/// or was never exported); with several, the earliest; with none (a cycle or bad ids),
/// the earliest span. Of several stores, a trace only one holds is that store's row; a
/// trace several hold is worked out from the union of its spans, each span once.
pub fn list_traces(stores: &StoreSet, filter: &TraceFilter) -> Result<Vec<TraceRow>, StoreError> {
    list_top(stores, filter, None)
}

/// Like `list_traces`; with `top`, perhaps only the rows that can be among its first (a
/// caller still sorts and truncates): a store's rows are made only for those.
pub fn list_top(
    stores: &StoreSet,
    filter: &TraceFilter,
    top: Option<Top>,
) -> Result<Vec<TraceRow>, StoreError> {
    let shared = stores.shared_traces()?;
    // A store's first rows may be traces another store shares, which are left out of
    // its rows below: then each store gives all of them.
    let top = top.filter(|_| shared.is_empty());
    let mut rows = Vec::new();
    for store in stores.stores() {
        let of_store = store_rows(store, filter, top)?;
        if shared.is_empty() {
            rows.extend(of_store);
        } else {
            rows.extend(
                of_store
                    .into_iter()
                    .filter(|r| TraceId::parse(&r.trace_id).is_ok_and(|t| !shared.contains(&t))),
            );
        }
    }
    if !shared.is_empty() {
        rows.extend(shared_rows(stores, &shared)?);
    }
    Ok(rows
        .into_iter()
        .filter(|r| filter.keeps(r.start_unix_nano, r.service.as_deref()))
        .collect())
}

/// Every trace of one store; from its traces tables, with `top`, only those that `filter`
/// keeps and can be among the first.
fn store_rows(
    store: &Store,
    filter: &TraceFilter,
    top: Option<Top>,
) -> Result<Vec<TraceRow>, StoreError> {
    Ok(match store.trace_tables(None)? {
        Some(index) => from_index(&index, filter, top)?,
        None => match store.scan_spans()? {
            Some(lf) => from_spans(lf)?,
            None => Vec::new(),
        },
    })
}

/// The rows of traces that several stores hold, from the spans of every store in the
/// order named, the first span of an id kept (as one store into which they were all
/// imported keeps it).
fn shared_rows(
    stores: &StoreSet,
    shared: &foldhash::HashSet<TraceId>,
) -> Result<Vec<TraceRow>, StoreError> {
    let mut frames = Vec::new();
    for store in stores.stores() {
        if let Some(lf) = store.scan_spans_near(&shared.iter().copied().collect::<Vec<_>>())? {
            frames.push(times_frame(lf)?);
        }
    }
    let mut seen: foldhash::HashSet<(&str, &str)> = Default::default();
    let mut spans = Vec::new();
    for df in &frames {
        // The slices hold other traces' spans too, some of them only in part.
        spans.extend(span_times(df)?.into_iter().filter(|s| {
            TraceId::parse(s.trace).is_ok_and(|t| shared.contains(&t))
                && s.span.is_none_or(|id| seen.insert((s.trace, id)))
        }));
    }
    Ok(trace_rows(&spans))
}

/// The rows from the segments' traces tables. A trace in several segments takes the
/// earliest root any of them saw; when that root was only a span whose parent was
/// missing then, the trace is worked out from its spans (the parent may have come since).
/// A trace in one segment is that segment's row as it stands: only the few in several
/// are merged, so a store's traces are neither hashed nor copied to be listed.
fn from_index(
    index: &[IndexedSegment],
    filter: &TraceFilter,
    top: Option<Top>,
) -> Result<Vec<TraceRow>, StoreError> {
    struct Merged<'a> {
        start: i64,
        end: i64,
        spans: u64,
        errors: u64,
        root: &'a RootGuess,
    }
    let several = in_several(index);
    let mut merged: foldhash::HashMap<TraceId, Merged> = Default::default();
    let traces = || index.iter().flat_map(|s| s.traces.iter());
    for t in traces().filter(|t| several.contains(&t.trace_id)) {
        let m = merged.entry(t.trace_id).or_insert(Merged {
            start: t.start,
            end: t.end,
            spans: 0,
            errors: 0,
            root: &t.root,
        });
        m.start = m.start.min(t.start);
        m.end = m.end.max(t.end);
        m.spans = m.spans.saturating_add(t.spans);
        m.errors = m.errors.saturating_add(t.errors);
        // Segments in import order, the first of equal starts kept: as a scan of the
        // spans in the same order would choose.
        if t.root.start < m.root.start {
            m.root = &t.root;
        }
    }
    let unsure: foldhash::HashSet<TraceId> = merged
        .iter()
        .filter(|(_, m)| !m.root.certain)
        .map(|(t, _)| *t)
        .collect();
    let alone = traces()
        .filter(|t| several.is_empty() || !several.contains(&t.trace_id))
        .map(|t| view(t.trace_id, t.start, t.end, t.spans, t.errors, &t.root));
    let sure = merged
        .iter()
        .filter(|(_, m)| m.root.certain)
        .map(|(t, m)| view(*t, m.start, m.end, m.spans, m.errors, m.root));
    let views = alone.chain(sure);
    let row = |v: SortView<TraceId>| TraceRow {
        trace_id: v.trace_id.to_string(),
        root_name: v.name.to_string(),
        service: v.service.map(str::to_string),
        start_unix_nano: v.start,
        duration_ns: v.duration,
        spans: v.spans,
        errors: v.errors,
    };
    // Only the first rows are made: a row's texts cost more than the row.
    let mut rows: Vec<TraceRow> = match top {
        Some(top) => first_n(
            views.filter(|v| filter.keeps(v.start, v.service)),
            top.limit,
            |a, b| compare(top.key, top.descending, a, b),
        )
        .into_iter()
        .map(row)
        .collect(),
        None => views.map(row).collect(),
    };
    if !unsure.is_empty()
        && let Some(lf) = spans_near(index, &|t| unsure.contains(t))?
    {
        // The slices hold other traces' spans too, some of them only in part.
        rows.extend(
            from_spans(lf)?
                .into_iter()
                .filter(|r| TraceId::parse(&r.trace_id).is_ok_and(|t| unsure.contains(&t))),
        );
    }
    Ok(rows)
}

fn view(
    trace_id: TraceId,
    start: i64,
    end: i64,
    spans: u64,
    errors: u64,
    root: &RootGuess,
) -> SortView<'_, TraceId> {
    SortView {
        start,
        duration: end.saturating_sub(start).max(0),
        spans,
        errors,
        name: &root.name,
        service: root.service.as_deref(),
        trace_id,
    }
}

/// The traces that more than one segment holds (or one twice). Each traces table is
/// written sorted by id, so a stable sort of their ids one after another only merges
/// runs; a table that is not sorted costs a real sort, never a wrong answer.
fn in_several(index: &[IndexedSegment]) -> foldhash::HashSet<TraceId> {
    let mut ids: Vec<TraceId> = index
        .iter()
        .flat_map(|s| s.traces.iter().map(|t| t.trace_id))
        .collect();
    ids.sort();
    ids.windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect()
}

/// The first `n` of `items` in `order`, in no particular order: at most `2n` are held
/// at once, however many there are.
fn first_n<T>(
    items: impl Iterator<Item = T>,
    n: usize,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    let room = n.saturating_mul(2).max(64);
    let mut kept: Vec<T> = Vec::with_capacity(room.min(1 << 16));
    let keep_first = |kept: &mut Vec<T>| {
        if kept.len() > n {
            kept.select_nth_unstable_by(n - 1, &order);
            kept.truncate(n);
        }
    };
    for item in items {
        if kept.len() == room {
            keep_first(&mut kept);
        }
        kept.push(item);
    }
    keep_first(&mut kept);
    kept
}

/// The rows of the traces of these spans, worked out from every span.
fn from_spans(lf: LazyFrame) -> Result<Vec<TraceRow>, StoreError> {
    let df = times_frame(lf)?;
    Ok(trace_rows(&span_times(&df)?))
}

/// What `span_times` reads of stored spans.
fn times_frame(lf: LazyFrame) -> Result<DataFrame, StoreError> {
    Ok(lf
        .select([
            col("trace_id"),
            col("span_id"),
            col("parent_span_id"),
            col("name"),
            col("start_time_unix_nano"),
            col("end_time_unix_nano"),
            col("status_code"),
            col("service_name"),
        ])
        .collect()?)
}

fn span_times(df: &DataFrame) -> Result<Vec<SpanTimes<'_>>, StoreError> {
    let trace = df.column("trace_id")?.str()?;
    let span = df.column("span_id")?.str()?;
    let parent = df.column("parent_span_id")?.str()?;
    let name = df.column("name")?.str()?;
    let start = df.column("start_time_unix_nano")?.i64()?;
    let end = df.column("end_time_unix_nano")?.i64()?;
    let status = df.column("status_code")?.str()?;
    let service = df.column("service_name")?.str()?;
    let spans: Vec<SpanTimes> = (0..df.height())
        .filter_map(|i| {
            let s = start.get(i).unwrap_or(0);
            Some(SpanTimes {
                trace: trace.get(i)?,
                span: span.get(i),
                parent: parent.get(i),
                name: name.get(i).unwrap_or(""),
                start: s,
                end: end.get(i).unwrap_or(s),
                error: status.get(i) == Some("error"),
                service: service.get(i),
            })
        })
        .collect();
    Ok(spans)
}

/// One row per trace of `spans`, in no particular order: the store's spans, or a dump's.
pub fn trace_rows(spans: &[SpanTimes]) -> Vec<TraceRow> {
    let ids: HashSet<(&str, &str)> = spans
        .iter()
        .filter_map(|s| Some((s.trace, s.span?)))
        .collect();
    let mut accs: HashMap<&str, TraceAcc> = HashMap::new();
    for sp in spans {
        let t = sp.trace;
        let facts = SpanFacts {
            row: 0,
            start: sp.start,
            end: sp.end,
            error: sp.error,
            name: sp.name,
            service: sp.service,
            has_parent: sp.parent.is_some(),
            parent_known: sp.parent.is_some_and(|p| ids.contains(&(t, p))),
        };
        accs.entry(t)
            .or_insert_with(|| TraceAcc::new(&facts))
            .add(&facts);
    }
    accs.into_iter()
        .map(|(t, a)| {
            let (start, end, spans, errors) = (a.start, a.end, a.spans, a.errors);
            let root = a.root();
            TraceRow {
                trace_id: t.to_string(),
                root_name: root.name.to_string(),
                service: root.service.as_deref().map(str::to_string),
                start_unix_nano: start,
                // End before start is the dump's own contradiction: no negative duration.
                duration_ns: end.saturating_sub(start).max(0),
                spans,
                errors,
            }
        })
        .collect()
}

/// Sorts in place and keeps the first `limit` rows; ties are broken by trace id so the
/// order is always the same. Only the rows kept are sorted in full.
pub fn sort_traces(rows: &mut Vec<TraceRow>, key: SortKey, descending: bool, limit: Option<usize>) {
    let order = |a: &TraceRow, b: &TraceRow| compare(key, descending, &a.view(), &b.view());
    if let Some(n) = limit
        && n < rows.len()
    {
        if n == 0 {
            rows.clear();
            return;
        }
        rows.select_nth_unstable_by(n - 1, order);
        rows.truncate(n);
    }
    rows.sort_unstable_by(order);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ids::SpanId;
    use crate::ingest::raw::{RawSpan, Record, Resource, Scope, SpanKind, StatusCode};
    use crate::store::trace_index::SegmentTrace;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// (trace 0..6, span 1..8, parent: 0 none, 1..8 a span of the trace, 9 never
    /// exported; start 0..5 (ties on purpose), length, error, import 0..3)
    type Gen = (u8, u8, u8, i64, i64, bool, u8);

    fn span(g: &Gen) -> RawSpan {
        let (t, s, p, start, len, err, _) = *g;
        RawSpan {
            trace_id: TraceId([t + 1; 16]),
            span_id: SpanId([s; 8]),
            parent_span_id: (p > 0).then_some(SpanId([p; 8])),
            trace_state: String::new(),
            name: format!("s{s}"),
            kind: SpanKind::Internal,
            start_time_unix_nano: start,
            end_time_unix_nano: start + len,
            status_code: if err {
                StatusCode::Error
            } else {
                StatusCode::Unset
            },
            status_message: String::new(),
            flags: 0,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            resource: Arc::new(Resource::default()),
            scope: Arc::new(Scope::default()),
        }
    }

    fn sorted(mut rows: Vec<TraceRow>) -> Vec<TraceRow> {
        sort_traces(&mut rows, SortKey::TraceId, false, None);
        rows
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// The rows merged from the segments' traces tables are the rows worked out
        /// from every stored span at once, however the spans were split into imports
        /// (children before parents, repeats, ties of start).
        #[test]
        fn traces_tables_merge_to_the_rows_of_all_spans(
            spans in proptest::collection::vec(
                (0u8..6, 1u8..8, 0u8..10, 0i64..5, 0i64..4, any::<bool>(), 0u8..3),
                1..30,
            ),
            asked in (0usize..7, any::<bool>(), 0usize..4, any::<bool>()),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::at(dir.path().join("store"));
            for import_no in 0..3u8 {
                let mut import = store.begin_import().unwrap();
                for g in spans.iter().filter(|g| g.6 == import_no) {
                    import.push(Record::Span(span(g)));
                }
                import.commit(vec![]).unwrap();
            }
            let index = store.trace_tables(None).unwrap().unwrap();
            let all = from_spans(store.scan_spans().unwrap().unwrap()).unwrap();
            let none = TraceFilter::default();
            prop_assert_eq!(
                sorted(from_index(&index, &none, None).unwrap()),
                sorted(all.clone())
            );
            // The first rows made alone are the first of all rows, in the order asked,
            // with a filter or none.
            let key = [
                SortKey::Start, SortKey::Duration, SortKey::Spans, SortKey::Errors,
                SortKey::Name, SortKey::Service, SortKey::TraceId,
            ][asked.0];
            let (descending, limit) = (asked.1, asked.2);
            let filter = TraceFilter { since: asked.3.then_some(2), ..TraceFilter::default() };
            let first = |rows: Vec<TraceRow>| {
                let mut rows: Vec<TraceRow> = rows
                    .into_iter()
                    .filter(|r| filter.keeps(r.start_unix_nano, r.service.as_deref()))
                    .collect();
                sort_traces(&mut rows, key, descending, Some(limit));
                rows
            };
            let top = Top { key, descending, limit };
            prop_assert_eq!(
                first(from_index(&index, &filter, Some(top)).unwrap()),
                first(all)
            );
        }

        /// The first `n` kept are the first `n` of a full sort, however many items
        /// pass through and however often the held ones are cut back.
        #[test]
        fn first_n_keeps_the_first_of_a_full_sort(
            items in proptest::collection::vec(0u16..300, 0..2000),
            n in 0usize..150,
        ) {
            let mut kept = first_n(items.iter().copied(), n, |a, b| b.cmp(a));
            kept.sort_unstable_by(|a, b| b.cmp(a));
            let mut all = items.clone();
            all.sort_unstable_by(|a, b| b.cmp(a));
            all.truncate(n);
            prop_assert_eq!(kept, all);
        }
    }

    fn segment(id: u64, ids: &[u8]) -> IndexedSegment {
        let traces: Vec<SegmentTrace> = ids
            .iter()
            .map(|b| SegmentTrace {
                trace_id: TraceId([*b; 16]),
                first_row: 0,
                last_row: 0,
                start: 0,
                end: 0,
                spans: 1,
                errors: 0,
                root: RootGuess::default(),
            })
            .collect();
        IndexedSegment {
            id,
            spans_file: Default::default(),
            traces: traces.into(),
        }
    }

    /// Traces in two tables, or twice in one, are found whether the tables are sorted
    /// as they are written or not.
    #[test]
    fn traces_in_several_tables_are_found_sorted_or_not() {
        let ids = |v: &[u8]| -> foldhash::HashSet<TraceId> {
            v.iter().map(|b| TraceId([*b; 16])).collect()
        };
        assert_eq!(in_several(&[segment(1, &[1, 2, 3])]), ids(&[]));
        assert_eq!(in_several(&[segment(1, &[3, 1, 3])]), ids(&[3]));
        assert_eq!(in_several(&[segment(1, &[3, 1, 2])]), ids(&[]));
        assert_eq!(
            in_several(&[
                segment(1, &[1, 4, 7]),
                segment(2, &[2, 4, 9]),
                segment(3, &[9])
            ]),
            ids(&[4, 9])
        );
        assert_eq!(
            in_several(&[segment(1, &[7, 4, 1]), segment(2, &[9, 1])]),
            ids(&[1])
        );
    }
}
