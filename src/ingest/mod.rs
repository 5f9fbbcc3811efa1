//! Bytes in, spans and log records out. Knows formats and compression, nothing of LLMs,
//! and streams: memory follows the largest record, not the size of the input.

pub mod any_agent;
pub mod cloudwatch;
pub mod console;
pub mod decompress;
pub mod error;
pub mod ids;
pub mod json_value;
pub mod langfuse;
pub mod otel_js;
pub mod otlp_json;
pub mod otlp_proto;
mod otlp_wire;
pub(crate) mod parquet_claims;
pub mod phoenix;
pub mod phoenix_parquet;
pub mod raw;
pub mod record;
pub mod spare;
pub mod timestamp;

mod detect;
mod inputs;
mod json_lines;
mod json_stream;
mod proto_stream;

pub use detect::Format;
pub use error::{IngestError, Invalid, Location};
pub use inputs::{Input, expand_inputs};
pub use raw::{Decoded, Record};

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// `Format::Auto` detects from the first bytes.
    pub format: Format,
    /// Keep going past invalid records, listing them, instead of failing the input.
    pub skip_invalid: bool,
    /// Raw bytes read so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Attributes a reader has no use for (message content, for a cost report): their
    /// values are skipped unread by the OTLP/JSON decoders, the bulk of a dump's bytes.
    pub skip_attribute: Option<otlp_json::SkipAttribute>,
    /// How many times its compressed size an input may inflate to; 0 means
    /// `decompress::MAX_INFLATION`.
    pub max_inflation: u64,
}

/// What one input held.
#[derive(Debug, Clone, Default)]
pub struct InputSummary {
    pub name: String,
    /// Format as detected (or forced), with its compression.
    pub format: String,
    pub spans: u64,
    pub logs: u64,
    pub skipped: Vec<Invalid>,
    /// Recoverable problems and things left unread, for the summary's warnings.
    pub notes: Vec<String>,
}

/// Decodes one input, handing every record to `sink` in input order.
pub fn decode_input(
    input: &Input,
    opts: &DecodeOptions,
    sink: &mut dyn FnMut(Record),
) -> Result<InputSummary, IngestError> {
    decode_reader(&input.display_name(), input.open()?, opts, sink)
}

/// Like `decode_input`, each record first passed through `prepare`. Where records are
/// decoded in parallel (JSON lines), `prepare` runs there too, on every core, on records
/// still in cache; `sink` gets the results in input order.
pub fn decode_input_prepared<T: Send>(
    input: &Input,
    opts: &DecodeOptions,
    prepare: &(dyn Fn(Record) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<InputSummary, IngestError> {
    decode_reader_prepared(&input.display_name(), input.open()?, opts, prepare, sink)
}

/// Decodes bytes from any reader; `name` is how errors and the summary refer to it.
pub fn decode_reader(
    name: &str,
    raw: Box<dyn Read + '_>,
    opts: &DecodeOptions,
    sink: &mut dyn FnMut(Record),
) -> Result<InputSummary, IngestError> {
    decode_reader_prepared(name, raw, opts, &|r| r, sink)
}

fn decode_reader_prepared<T: Send>(
    name: &str,
    raw: Box<dyn Read + '_>,
    opts: &DecodeOptions,
    prepare: &(dyn Fn(Record) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<InputSummary, IngestError> {
    let name = name.to_string();
    let raw: Box<dyn Read + '_> = match &opts.progress {
        Some(counter) => Box::new(Counting {
            inner: raw,
            counter: counter.clone(),
        }),
        None => raw,
    };
    let io_err = |e: std::io::Error| {
        IngestError::invalid(&name, Location::File, format!("cannot read: {e}"))
    };
    let reader: Box<dyn BufRead + '_> = Box::new(BufReader::with_capacity(1 << 20, raw));
    let max_inflation = match opts.max_inflation {
        0 => decompress::MAX_INFLATION,
        n => n,
    };
    let (compression, mut reader) =
        decompress::decompressed(reader, max_inflation).map_err(io_err)?;
    let cannot = |e: std::io::Error| {
        IngestError::invalid(&name, Location::File, format!("cannot decompress: {e}"))
    };
    let mut prefix = detect::peek(&mut reader, detect::PREFIX_LEN).map_err(cannot)?;
    let mut complete =
        prefix.len() < detect::PREFIX_LEN || memchr::memchr(b'\n', &prefix).is_some();
    if !complete && detect::starts_json_object(&prefix) {
        // Collector batches make lines of megabytes: read the whole first line (up to a
        // bound) to tell one record per line from one large document.
        let got = reader
            .by_ref()
            .take(detect::FIRST_LINE_MAX)
            .read_until(b'\n', &mut prefix)
            .map_err(cannot)?;
        complete = (got as u64) < detect::FIRST_LINE_MAX;
    }
    let format = match opts.format {
        Format::Auto => Format::detect(&prefix, complete).ok_or_else(|| {
            IngestError::UnknownFormat(Invalid {
                file: name.clone(),
                location: Location::Byte(0),
                message: detect::unrecognized(&prefix),
            })
        })?,
        f => f,
    };
    let mut summary = InputSummary {
        name: name.clone(),
        ..Default::default()
    };
    summary.format = match compression.label() {
        Some(c) => format!("{} ({c})", format.describe(&prefix)),
        None => format.describe(&prefix),
    };
    // Spans and log records are told apart before `prepare` turns them into `T`; what
    // is not yet a record is held and resolved at the end of the input.
    let prepare_decoded = |d: Decoded| match d {
        Decoded::Record(r @ Record::Span(_)) => Prepared::Span(prepare(r)),
        Decoded::Record(r) => Prepared::Log(prepare(r)),
        other => Prepared::Held(Box::new(other)),
    };
    let held = std::cell::RefCell::new(Held::default());
    let mut counted = |p: Prepared<T>| match p {
        Prepared::Span(t) => {
            summary.spans += 1;
            sink(t)
        }
        Prepared::Log(t) => {
            summary.logs += 1;
            sink(t)
        }
        Prepared::Held(d) => held.borrow_mut().hold(*d),
    };
    let mut counting = |d: Decoded| counted(prepare_decoded(d));
    let reader: Box<dyn BufRead + '_> = Box::new(std::io::Cursor::new(prefix).chain(reader));
    let skipped = match format {
        Format::Auto | Format::Jsonl => json_lines::decode(
            reader,
            &name,
            opts.skip_invalid,
            opts.skip_attribute,
            &prepare_decoded,
            &mut counted,
        )?,
        Format::Json => otlp_json::skipping_attributes(opts.skip_attribute, || {
            json_stream::decode(reader, &name, opts.skip_invalid, &mut counting)
        })?,
        Format::Proto => otlp_json::skipping_attributes(opts.skip_attribute, || {
            proto_stream::decode_single(reader, &name, &mut counting)
        })?,
        Format::ProtoFramed => proto_stream::decode_framed(
            reader,
            &name,
            (opts.skip_invalid, opts.skip_attribute),
            &prepare_decoded,
            &mut counted,
        )?,
        Format::Parquet => {
            phoenix_parquet::decode(reader, &name, opts.skip_invalid, &mut counting)?
        }
    };
    let Held { langfuse, unread } = held.take();
    let assembled = langfuse.assemble(&name, opts.skip_invalid)?;
    for r in assembled.records {
        counted(prepare_decoded(Decoded::Record(r)));
    }
    summary.skipped = skipped;
    summary.skipped.extend(assembled.skipped);
    summary.notes = assembled.notes;
    for (signal, n) in unread {
        summary.notes.push(format!(
            "{n} {signal} request(s) skipped: traces reads traces and logs"
        ));
    }
    Ok(summary)
}

enum Prepared<T> {
    Span(T),
    Log(T),
    Held(Box<Decoded>),
}

/// What an input held that is not a record as read: Langfuse pieces, assembled into
/// spans at its end, and requests of other signals, counted.
#[derive(Default)]
struct Held {
    langfuse: langfuse::Assembler,
    unread: Vec<(&'static str, u64)>,
}

impl Held {
    fn hold(&mut self, d: Decoded) {
        match d {
            Decoded::Record(_) => {}
            Decoded::Langfuse(p) => self.langfuse.add(*p),
            Decoded::Unread(signal) => match self.unread.iter_mut().find(|(s, _)| *s == signal) {
                Some((_, n)) => *n += 1,
                None => self.unread.push((signal, 1)),
            },
        }
    }
}

/// Counts raw (compressed) bytes as they are read.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Decodes one body as a frame of a length-prefixed protobuf file is read: an OTLP
/// protobuf request, or (starting with `{`) one JSON record as a line of a dump holds it.
/// The receiver checks what it is sent with this, so that what it accepts is what the
/// import of its spool reads. Langfuse pieces come unassembled.
pub fn decode_body(body: &[u8], name: &str) -> Result<Vec<Decoded>, Invalid> {
    let mut out = Vec::new();
    proto_stream::decode_frame(body, name, 0, &mut |d| out.push(d))?;
    Ok(out)
}

/// Decodes everything an input holds into memory: for tests, small dumps and reports
/// that read dumps directly.
pub fn decode_all(
    input: &Input,
    opts: &DecodeOptions,
) -> Result<(Vec<Record>, InputSummary), IngestError> {
    let mut records = Vec::new();
    let summary = decode_input(input, opts, &mut |r| records.push(r))?;
    Ok((records, summary))
}
