//! `traces import PATH...`: decode every input and add what is new to the store in one
//! atomic step. Options: `--format`, `--skip-invalid`.

use crate::cli::ImportArgs;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use traces::analysis::calls::{load_rows, row_from_normalized};
use traces::analysis::calls_view::{self, Saved};
use traces::analysis::partition::{SpillError, TracePartitions};
use traces::ingest::ids::TraceId;
use traces::ingest::{self, DecodeOptions, InputSummary, Invalid, expand_inputs};
use traces::render::group_digits;
use traces::semconv::RefusedValues;
use traces::store::{ImportStats, Store};

/// Inputs smaller than this finish before a progress bar would help.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// Where the import's summary goes: stdout for `traces import`; stderr where stdout
/// holds another command's report (`check -- CMD`) or the app's own output (`record`).
#[derive(Debug, Clone, Copy)]
pub enum Summary {
    Stdout,
    Stderr,
}

pub fn run(store: &Store, pricing_files: &[PathBuf], args: &ImportArgs) -> Result<()> {
    import(store, pricing_files, args, Summary::Stdout)
}

/// `pricing_files` (the `--pricing` overrides) decide which price entry each call of the
/// calls table names, for engines that price the table without `traces`.
pub fn import(
    store: &Store,
    pricing_files: &[PathBuf],
    args: &ImportArgs,
    to: Summary,
) -> Result<()> {
    let started = Instant::now();
    let paths: Vec<&std::path::Path> = pricing_files.iter().map(PathBuf::as_path).collect();
    let pricing = traces::pricing::Pricing::load(&paths)?;
    let inputs = expand_inputs(&args.paths)?;
    let format: ingest::Format = args.format.parse().map_err(super::UsageError)?;
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            ingest::Input::File(p) | ingest::Input::DirEntry(p) => {
                std::fs::metadata(p).ok().map(|m| m.len())
            }
            ingest::Input::Stdin => None,
        })
        .sum();
    let counter = Arc::new(AtomicU64::new(0));
    let bar = (super::progress_wanted() && total_bytes >= PROGRESS_MIN_BYTES).then(|| {
        let b = ProgressBar::new(total_bytes);
        b.set_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let opts = DecodeOptions {
        format,
        skip_invalid: args.skip_invalid,
        progress: Some(counter.clone()),
        skip_attribute: None,
        max_inflation: args.max_inflation,
    };

    let mut import = store.begin_import()?;
    // The import's own spans, as report rows, for its calls table and summary: kept
    // (spilled past a limit, like a cost report over a dump) rather than read back.
    let rows = Arc::new(Mutex::new(Filed::default()));
    let filer = rows.clone();
    let refused = Arc::new(RefusedValues::keeping(super::say::problems_shown()));
    let refusals = refused.clone();
    let odd = Arc::new(Oddities::default());
    let oddities = odd.clone();
    import.on_span(Box::new(move |span, normalized, trace_existed| {
        refusals.note(span, &normalized);
        oddities.note(span);
        // A trace that already had spans is read back whole from the store instead.
        if trace_existed {
            return;
        }
        if let Ok(mut f) = filer.lock()
            && f.error.is_none()
            && let Err(e) = f.rows.push(row_from_normalized(span, normalized, &[]))
        {
            f.error = Some(e);
        }
    }));
    let mut summaries: Vec<InputSummary> = Vec::new();
    let mut not_dumps: Vec<String> = Vec::new();
    // Decoding (on every core, a block of lines at a time) runs on its own thread, so
    // that this one's serial work, deduplicating and filing spans, overlaps with it.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Decoded>(2);
    let skip_invalid = args.skip_invalid;
    std::thread::scope(|scope| -> Result<()> {
        let (inputs, opts) = (&inputs, &opts);
        scope.spawn(move || {
            for input in inputs {
                let mut batch = Vec::with_capacity(BATCH);
                let mut batch_bytes = 0;
                let result = if is_empty_file(input) {
                    Err(ingest::IngestError::invalid(
                        &input.display_name(),
                        ingest::Location::File,
                        "the file is empty: no spans or log records to import".to_string(),
                    ))
                } else {
                    ingest::decode_input(input, opts, &mut |r| {
                        batch_bytes += r.approx_bytes();
                        batch.push(r);
                        if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
                            batch_bytes = 0;
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            // Fails only once this thread's reader has stopped on an
                            // error; the input ends there anyway.
                            let _ = tx.send(Decoded::Records(full));
                        }
                    })
                };
                let go_on = result
                    .as_ref()
                    .err()
                    .is_none_or(|e| skipped_input(input, e, skip_invalid));
                if tx.send(Decoded::Records(batch)).is_err()
                    || tx.send(Decoded::Finished(result)).is_err()
                    || !go_on
                {
                    return;
                }
            }
        });
        let mut n = 0u64;
        for input in inputs {
            let name = input.display_name();
            import.set_source(&name);
            let result = loop {
                match rx.recv() {
                    Ok(Decoded::Records(records)) => {
                        for r in records {
                            import.push(r);
                            n += 1;
                            if n.is_multiple_of(4096)
                                && let Some(b) = &bar
                            {
                                b.set_position(counter.load(Ordering::Relaxed));
                            }
                        }
                    }
                    Ok(Decoded::Finished(result)) => break result,
                    Err(_) => anyhow::bail!("{name}: the decoding thread stopped"),
                }
            };
            match result {
                Ok(s) => summaries.push(s),
                Err(e) if !skipped_input(input, &e, skip_invalid) => return Err(e.into()),
                // A file that cannot be read at all is one more skipped input.
                Err(ingest::IngestError::UnknownFormat(_))
                    if matches!(input, ingest::Input::DirEntry(_)) =>
                {
                    not_dumps.push(name)
                }
                Err(
                    ingest::IngestError::Invalid(inv) | ingest::IngestError::UnknownFormat(inv),
                ) => summaries.push(InputSummary {
                    name,
                    format: "unreadable".into(),
                    skipped: vec![inv],
                    ..Default::default()
                }),
                Err(ingest::IngestError::Io { error, .. }) => summaries.push(InputSummary {
                    skipped: vec![ingest::Invalid {
                        file: name.clone(),
                        location: ingest::error::Location::File,
                        message: error.to_string(),
                    }],
                    name,
                    format: "unreadable".into(),
                    ..Default::default()
                }),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let sources = summaries.iter().map(|s| s.name.clone()).collect();
    // A full disk or a file size limit fails here, after the inputs were read: say
    // what the user most needs to know, that the store is as it was.
    let stats = import.commit(sources).with_context(|| {
        if store.root().is_dir() {
            "nothing of this import was stored; the store is as it was before it".to_string()
        } else {
            // Removed under the import: there is no "before" to speak of.
            format!(
                "the store directory {} was removed during the import; nothing was stored and nothing was recreated",
                store.root().display()
            )
        }
    })?;
    let saved = import_calls(store, &rows, &stats, &pricing)?;
    if let Some(e) = &saved.table_error {
        // The spans are committed: without this table, reports derive the calls from
        // the spans, slower but the same.
        super::say::warn(format_args!(
            "reports will attribute spans on every run: {e}"
        ));
    }
    for n in &not_dumps {
        super::say::warn(format_args!("{n}: skipped, not a trace dump"));
    }
    print_summary(
        store,
        &summaries,
        &stats,
        &saved,
        started.elapsed().as_secs_f64(),
        total_bytes,
        to,
    );
    super::say::warn_lines(&refused.warnings());
    for w in odd.warnings() {
        super::say::warn(w);
    }
    Ok(())
}

/// A file named on the command line that holds nothing: an error, as an export that
/// wrote nothing is one. (An empty file met in a directory is skipped with a warning.)
fn is_empty_file(input: &ingest::Input) -> bool {
    matches!(input, ingest::Input::File(p) if std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() == 0))
}

/// Spans that are stored as they are but that no producer should write: each kind
/// counted, with the first span's id, for one warning line each.
#[derive(Default)]
struct Oddities {
    kinds: [OddKind; 5],
}

#[derive(Default)]
struct OddKind {
    count: std::sync::atomic::AtomicU64,
    first: std::sync::OnceLock<String>,
}

const ODD_TEXT: [&str; 5] = [
    "end before they start (kept as they are)",
    "have no start time (0)",
    "are their own parent (read as roots)",
    "have no name",
    "have a time after 2262-04-11 or before 1677-09-21, the range of nanoseconds in 64 bits (kept as that limit; a year-9999 \"never\" is one)",
];

impl Oddities {
    fn note(&self, span: &ingest::raw::RawSpan) {
        let odd = [
            span.end_time_unix_nano < span.start_time_unix_nano,
            span.start_time_unix_nano == 0,
            span.parent_span_id == Some(span.span_id),
            span.name.is_empty(),
            [span.start_time_unix_nano, span.end_time_unix_nano]
                .into_iter()
                .chain(span.events.iter().map(|e| e.time_unix_nano))
                .any(ingest::timestamp::at_limit),
        ];
        for (kind, _) in self.kinds.iter().zip(odd).filter(|(_, o)| *o) {
            kind.count.fetch_add(1, Ordering::Relaxed);
            kind.first
                .get_or_init(|| format!("{}/{}", span.trace_id, span.span_id));
        }
    }

    fn warnings(&self) -> Vec<String> {
        self.kinds
            .iter()
            .zip(ODD_TEXT)
            .filter_map(|(k, text)| {
                let n = k.count.load(Ordering::Relaxed);
                (n > 0).then(|| {
                    format!(
                        "{n} span(s) {text}, the first {}",
                        k.first.get().map_or("", String::as_str)
                    )
                })
            })
            .collect()
    }
}

/// Records decoded from the current input, in batches, then how that input ended.
enum Decoded {
    Records(Vec<ingest::raw::Record>),
    Finished(Result<InputSummary, ingest::IngestError>),
}

const BATCH: usize = 4096;
/// A batch is also sent at about this many bytes of attributes and bodies: three
/// batches are in flight, and 4096 spans that each carry a conversation are 240 MB.
const BATCH_BYTES: usize = 4 << 20;

/// Whether an import goes on past an input that failed: a directory's file that is not a
/// dump, or under `--skip-invalid` any input that is not valid or that this user may not
/// read.
fn skipped_input(input: &ingest::Input, e: &ingest::IngestError, skip_invalid: bool) -> bool {
    match e {
        ingest::IngestError::UnknownFormat(_) if matches!(input, ingest::Input::DirEntry(_)) => {
            true
        }
        ingest::IngestError::Invalid(_) | ingest::IngestError::UnknownFormat(_) => skip_invalid,
        e => skip_invalid && e.is_denied(),
    }
}

#[derive(Default)]
struct Filed {
    rows: TracePartitions,
    error: Option<SpillError>,
}

/// The counted calls of every trace the import touched, over all their spans (the new
/// traces' rows as the import filed them, the others' read back from the store), saved
/// as the import's calls table.
fn import_calls(
    store: &Store,
    rows: &Mutex<Filed>,
    stats: &ImportStats,
    pricing: &traces::pricing::Pricing,
) -> Result<Saved> {
    let mut filed = std::mem::take(
        &mut *rows
            .lock()
            .map_err(|_| anyhow::anyhow!("the span filer stopped"))?,
    );
    if let Some(e) = filed.error {
        return Err(e.into());
    }
    if !stats.existing_trace_ids.is_empty() {
        let existing: HashSet<TraceId> = stats.existing_trace_ids.iter().copied().collect();
        for r in load_rows(store, Some(&existing))? {
            filed.rows.push(r)?;
        }
    }
    Ok(calls_view::attribute_and_save(
        store,
        stats.segment,
        &stats.trace_ids,
        filed.rows,
        pricing,
    )?)
}

fn print_summary(
    store: &Store,
    inputs: &[InputSummary],
    s: &ImportStats,
    saved: &Saved,
    secs: f64,
    bytes: u64,
    to: Summary,
) {
    use std::io::Write;
    let mut w: Box<dyn Write> = match to {
        Summary::Stdout => Box::new(std::io::stdout().lock()),
        Summary::Stderr => Box::new(std::io::stderr().lock()),
    };
    let _ = writeln!(
        w,
        "Imported {} input(s) into {}",
        inputs.len(),
        store.root().display()
    );
    if let Some(c) = &s.migrated {
        let _ = super::store::say_migrated(&mut w, store, c);
    }
    for i in inputs {
        let logs = if i.logs > 0 {
            format!(", {} log records", i.logs)
        } else {
            String::new()
        };
        let _ = writeln!(w, "  {}  [{}]  {} spans{logs}", i.name, i.format, i.spans);
    }
    let _ = writeln!(
        w,
        "spans:   {} read, {} new, {} already stored",
        s.spans_read, s.spans_new, s.spans_duplicate
    );
    if s.logs_read > 0 {
        let _ = writeln!(
            w,
            "logs:    {} read, {} new, {} already stored",
            s.logs_read, s.logs_new, s.logs_duplicate
        );
    }
    let _ = writeln!(w, "traces:  {} ({} new)", s.traces, s.new_traces);
    let mb = bytes as f64 / 1e6;
    if secs > 0.0 && mb > 0.0 {
        let _ = writeln!(w, "time:    {secs:.2}s ({:.1} MB/s)", mb / secs);
    } else {
        let _ = writeln!(w, "time:    {secs:.2}s");
    }
    let (calls, totals) = (&saved.calls, &saved.totals);
    if totals.calls > 0 || calls.without_usage() > 0 {
        let _ = writeln!(
            w,
            "usage:   {} model calls with usage in these traces: {} input, {} output tokens",
            totals.calls,
            group_digits(&totals.input_tokens.to_string()),
            group_digits(&totals.output_tokens.to_string()),
        );
        if calls.set_aside_nested > 0 || !calls.duplicate_pairs.is_empty() {
            let _ = writeln!(
                w,
                "         set aside so that no call counts twice: {} span(s) whose usage is also on a descendant, {} duplicate sibling span(s)",
                calls.set_aside_nested,
                calls.duplicate_pairs.len()
            );
        }
    }
    let skipped: Vec<&Invalid> = inputs.iter().flat_map(|i| &i.skipped).collect();
    let mut warnings = Vec::new();
    if !skipped.is_empty() {
        warnings.push(format!("{} invalid record(s) skipped:", skipped.len()));
        warnings.extend(skipped.iter().map(|i| format!("  {i}")));
    }
    if let Some((t, span)) = s.first_conflict {
        warnings.push(format!(
            "{} span(s) repeat the id of a span already stored or read earlier, with other content: the first is kept, the repeat is dropped (first: trace {} span {})",
            s.spans_conflicting, t, span
        ));
    }
    if s.orphan_spans > 0 {
        warnings.push(format!(
            "{} span(s) whose parent is not in the store (orphans)",
            s.orphan_spans
        ));
    }
    if s.logs_without_span > 0 {
        warnings.push(format!(
            "{} log record(s) belong to no span; kept in the store's logs",
            s.logs_without_span
        ));
    }
    if s.logs_span_missing > 0 {
        warnings.push(format!(
            "{} log record(s) name a span that is not in the store (yet); they join it when it is imported",
            s.logs_span_missing
        ));
    }
    for i in inputs {
        warnings.extend(i.notes.iter().map(|n| format!("{}: {n}", i.name)));
    }
    for i in inputs
        .iter()
        .filter(|i| i.spans == 0 && i.logs == 0 && i.skipped.is_empty())
    {
        warnings.push(format!("{}: no spans or log records", i.name));
    }
    for (kept, dup) in &calls.duplicate_pairs {
        warnings.push(format!(
            "spans {kept} and {dup} record the same model call (two instrumentations); counted once"
        ));
    }
    if calls.without_usage() > 0 {
        warnings.push(format!(
            "{} LLM span(s) recorded no token usage (unknown, not zero)",
            calls.without_usage()
        ));
    }
    for c in &calls.conflicts {
        warnings.push(format!(
            "{c} conflict; each call keeps its own span's value"
        ));
    }
    for w in warnings {
        super::say::warn(w);
    }
}
