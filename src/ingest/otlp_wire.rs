//! An OTLP `ExportTraceServiceRequest` read straight from its bytes into spans: no
//! message of prost's is built and converted, ids are read in place, and an attribute
//! whose key the decode skips (see `otlp_json::skipping_attributes`) costs neither its
//! key's copy nor its value's. The bytes it accepts, and what it makes of them, are
//! prost's (`otlp_proto`'s tests hold it to that): each field of a known number must
//! come with its wire type, a repeated message appends, a repeated scalar or text
//! replaces, a repeated message field merges, and nesting stops where prost's recursion
//! limit stops it.

use super::ids::{SpanId, TraceId};
use super::otlp_json::SkipAttribute;
use super::raw::{
    AnyValue, Event, KeyValue, Link, RawSpan, Record, Resource, Scope, SpanKind, StatusCode,
};
use prost::encoding::WireType;
use std::sync::Arc;

/// prost's `RECURSION_LIMIT`: how many messages deep a decode may go.
const RECURSION_LIMIT: u32 = 100;

/// Why bytes are no trace request, and where in them.
#[derive(Debug)]
pub struct WireError {
    at: usize,
    message: String,
    /// The fields it lies in, innermost first.
    within: Vec<&'static str>,
}

impl WireError {
    fn within(mut self, field: &'static str) -> Self {
        self.within.push(field);
        self
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut fields = self.within.iter().rev();
        if let Some(first) = fields.next() {
            write!(f, "in {first}")?;
            fields.try_for_each(|field| write!(f, ".{field}"))?;
            write!(f, ": ")?;
        }
        write!(f, "{} (at byte {} of the message)", self.message, self.at)
    }
}

type Result<T> = std::result::Result<T, WireError>;

/// The spans of a trace request, in the order sent.
pub fn decode_traces(bytes: &[u8], skip: Option<SkipAttribute>) -> Result<Vec<Record>> {
    let mut r = Reader {
        rest: bytes,
        origin: bytes.as_ptr() as usize,
        depth: RECURSION_LIMIT,
        key_at: 0,
    };
    let d = Decoder { skip };
    let mut out = Vec::new();
    while let Some((tag, wt)) = r.key()? {
        match tag {
            1 => r.nested(wt, "resource_spans", |m| d.resource_spans(m, &mut out))?,
            _ => r.skip(wt, tag)?,
        }
    }
    Ok(out)
}

/// The bytes of one message not yet read, and how many messages deeper it may nest.
#[derive(Clone, Copy)]
struct Reader<'a> {
    rest: &'a [u8],
    /// Where the whole request starts: errors name their offset from it.
    origin: usize,
    depth: u32,
    /// Where the last field's key began.
    key_at: usize,
}

impl<'a> Reader<'a> {
    /// Where the next unread byte is in the whole request.
    fn offset(&self) -> usize {
        self.rest.as_ptr() as usize - self.origin
    }

    fn fail(&self, message: impl Into<String>) -> WireError {
        WireError {
            at: self.offset(),
            message: message.into(),
            within: Vec::new(),
        }
    }

    fn prost(&self, e: prost::DecodeError) -> WireError {
        self.fail(e.to_string())
    }

    /// The next field's number and wire type, `None` at the message's end.
    fn key(&mut self) -> Result<Option<(u32, WireType)>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let at = *self;
        self.key_at = self.offset();
        prost::encoding::decode_key(&mut self.rest)
            .map(Some)
            .map_err(|e| at.prost(e))
    }

    /// Whether the field just read has the wire type its number calls for; an error
    /// names the place of its key.
    fn expect(&self, got: WireType, want: WireType) -> Result<()> {
        if got == want {
            return Ok(());
        }
        let mut e = self.fail(format!("invalid wire type: {got:?} (expected {want:?})"));
        e.at = self.key_at;
        Err(e)
    }

    fn raw_varint(&mut self) -> Result<u64> {
        let at = *self;
        prost::encoding::decode_varint(&mut self.rest).map_err(|e| at.prost(e))
    }

    fn varint(&mut self, wt: WireType) -> Result<u64> {
        self.expect(wt, WireType::Varint)?;
        self.raw_varint()
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        if n > self.rest.len() as u64 {
            return Err(self.fail("buffer underflow"));
        }
        let (taken, rest) = self.rest.split_at(n as usize);
        self.rest = rest;
        Ok(taken)
    }

    fn fixed64(&mut self, wt: WireType) -> Result<u64> {
        self.expect(wt, WireType::SixtyFourBit)?;
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    fn fixed32(&mut self, wt: WireType) -> Result<u32> {
        self.expect(wt, WireType::ThirtyTwoBit)?;
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    fn bytes(&mut self, wt: WireType) -> Result<&'a [u8]> {
        self.expect(wt, WireType::LengthDelimited)?;
        let n = self.raw_varint()?;
        self.take(n)
    }

    fn string(&mut self, wt: WireType) -> Result<&'a str> {
        let at = *self;
        let b = self.bytes(wt)?;
        std::str::from_utf8(b)
            .map_err(|_| at.fail("invalid string value: data is not UTF-8 encoded"))
    }

    /// A message field: a reader of its bytes, one level deeper.
    fn message(&mut self, wt: WireType) -> Result<Reader<'a>> {
        self.expect(wt, WireType::LengthDelimited)?;
        if self.depth == 0 {
            return Err(self.fail("recursion limit reached"));
        }
        let rest = {
            let n = self.raw_varint()?;
            self.take(n)?
        };
        Ok(Reader {
            rest,
            origin: self.origin,
            depth: self.depth - 1,
            key_at: self.key_at,
        })
    }

    /// A message field read by `read`, errors within it named by the field.
    fn nested<T>(
        &mut self,
        wt: WireType,
        field: &'static str,
        read: impl FnOnce(Reader<'a>) -> Result<T>,
    ) -> Result<T> {
        self.message(wt).and_then(read).map_err(|e| e.within(field))
    }

    /// Skips a field of a number this decode does not read, as prost's `skip_field`.
    fn skip(&mut self, wt: WireType, tag: u32) -> Result<()> {
        if self.depth == 0 {
            return Err(self.fail("recursion limit reached"));
        }
        let n = match wt {
            WireType::Varint => self.raw_varint().map(|_| 0)?,
            WireType::ThirtyTwoBit => 4,
            WireType::SixtyFourBit => 8,
            WireType::LengthDelimited => self.raw_varint()?,
            WireType::StartGroup => loop {
                let Some((inner, inner_wt)) = self.key()? else {
                    // prost reads the next key past the end: no varint there.
                    return Err(self.fail("invalid varint"));
                };
                if inner_wt == WireType::EndGroup {
                    if inner != tag {
                        return Err(self.fail("unexpected end group tag"));
                    }
                    break 0;
                }
                let mut inner_reader = Reader {
                    depth: self.depth - 1,
                    ..*self
                };
                inner_reader.skip(inner_wt, inner)?;
                self.rest = inner_reader.rest;
            },
            WireType::EndGroup => return Err(self.fail("unexpected end group tag")),
        };
        self.take(n).map(|_| ())
    }
}

struct Decoder {
    skip: Option<SkipAttribute>,
}

impl Decoder {
    fn resource_spans(&self, mut r: Reader, out: &mut Vec<Record>) -> Result<()> {
        // The resource may follow its spans on the wire: found first, then the spans.
        let mut resource = Resource::default();
        let mut scopes = Vec::new();
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => r.nested(wt, "resource", |m| self.resource(m, &mut resource))?,
                2 => scopes.push(r.nested(wt, "scope_spans", Ok)?),
                3 => r.string(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        let resource = Arc::new(resource);
        for s in scopes {
            self.scope_spans(s, &resource, out)
                .map_err(|e| e.within("scope_spans"))?;
        }
        Ok(())
    }

    fn resource(&self, mut r: Reader, into: &mut Resource) -> Result<()> {
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => r.nested(wt, "attributes", |m| {
                    self.key_value(m, &mut into.attributes, false)
                })?,
                2 => r.varint(wt).map(|_| ())?,
                3 => r.nested(wt, "entity_refs", entity_ref)?,
                _ => r.skip(wt, tag)?,
            }
        }
        Ok(())
    }

    fn scope_spans(
        &self,
        mut r: Reader,
        resource: &Arc<Resource>,
        out: &mut Vec<Record>,
    ) -> Result<()> {
        let mut scope: Option<Scope> = None;
        let mut spans = Vec::new();
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => r.nested(wt, "scope", |m| {
                    self.scope(m, scope.get_or_insert_with(Scope::default))
                })?,
                2 => spans.push(r.nested(wt, "spans", Ok)?),
                3 => r.string(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        let scope = Arc::new(scope.unwrap_or_default());
        out.reserve(spans.len());
        for s in spans {
            let span = self
                .span(s, resource, &scope)
                .map_err(|e| e.within("spans"))?;
            out.push(Record::Span(span));
        }
        Ok(())
    }

    fn scope(&self, mut r: Reader, into: &mut Scope) -> Result<()> {
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => r.string(wt)?.clone_into(&mut into.name),
                2 => r.string(wt)?.clone_into(&mut into.version),
                3 => r.nested(wt, "attributes", |m| {
                    self.key_value(m, &mut into.attributes, false)
                })?,
                4 => r.varint(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        Ok(())
    }

    fn span(&self, mut r: Reader, resource: &Arc<Resource>, scope: &Arc<Scope>) -> Result<RawSpan> {
        let start = r;
        let (mut trace_id, mut span_id, mut parent): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
        let (mut trace_state, mut name) = ("", "");
        let (mut flags, mut kind, mut start_time, mut end_time) = (0u32, 0i32, 0u64, 0u64);
        let (mut attributes, mut events, mut links) = (Vec::new(), Vec::new(), Vec::new());
        let (mut status_message, mut status_code) = ("", 0i32);
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => trace_id = r.bytes(wt)?,
                2 => span_id = r.bytes(wt)?,
                3 => trace_state = r.string(wt)?,
                4 => parent = r.bytes(wt)?,
                5 => name = r.string(wt)?,
                6 => kind = r.varint(wt)? as i32,
                7 => start_time = r.fixed64(wt)?,
                8 => end_time = r.fixed64(wt)?,
                9 => r.nested(wt, "attributes", |m| {
                    self.key_value(m, &mut attributes, true)
                })?,
                11 => events.push(r.nested(wt, "events", |m| self.event(m))?),
                13 => links.push(r.nested(wt, "links", |m| self.link(m, name))?),
                15 => r.nested(wt, "status", |mut s| {
                    while let Some((tag, wt)) = s.key()? {
                        match tag {
                            2 => status_message = s.string(wt)?,
                            3 => status_code = s.varint(wt)? as i32,
                            _ => s.skip(wt, tag)?,
                        }
                    }
                    Ok(())
                })?,
                16 => flags = r.fixed32(wt)?,
                10 | 12 | 14 => r.varint(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        // Only an error names the span: a text per span would cost more than it.
        let what = |m: String| start.fail(format!("span {name:?}: {m}"));
        Ok(RawSpan {
            trace_id: trace_id_of(trace_id).map_err(what)?,
            span_id: span_id_of(span_id).map_err(what)?,
            parent_span_id: match parent.len() {
                0 => None,
                _ => Some(span_id_of(parent).map_err(what)?).filter(|p| !p.is_zero()),
            },
            trace_state: trace_state.to_owned(),
            name: name.to_owned(),
            kind: SpanKind::from_otlp(kind.into())
                .ok_or_else(|| what(format!("unknown span kind {kind}")))?,
            start_time_unix_nano: nanos(start_time),
            end_time_unix_nano: nanos(end_time),
            status_code: StatusCode::from_otlp(status_code.into())
                .ok_or_else(|| what(format!("unknown status code {status_code}")))?,
            status_message: status_message.to_owned(),
            flags,
            attributes,
            events,
            links,
            resource: resource.clone(),
            scope: scope.clone(),
        })
    }

    fn event(&self, mut r: Reader) -> Result<Event> {
        let mut e = Event::default();
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => e.time_unix_nano = nanos(r.fixed64(wt)?),
                2 => r.string(wt)?.clone_into(&mut e.name),
                3 => r.nested(wt, "attributes", |m| {
                    self.key_value(m, &mut e.attributes, true)
                })?,
                4 => r.varint(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        Ok(e)
    }

    /// A link, named in errors by its span's name as far as read.
    fn link(&self, mut r: Reader, span: &str) -> Result<Link> {
        let start = r;
        let (mut trace_id, mut span_id): (&[u8], &[u8]) = (&[], &[]);
        let (mut trace_state, mut attributes) = ("", Vec::new());
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => trace_id = r.bytes(wt)?,
                2 => span_id = r.bytes(wt)?,
                3 => trace_state = r.string(wt)?,
                4 => r.nested(wt, "attributes", |m| {
                    self.key_value(m, &mut attributes, false)
                })?,
                5 => r.varint(wt).map(|_| ())?,
                6 => r.fixed32(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        let what = |m: String| start.fail(format!("span {span:?}: link: {m}"));
        Ok(Link {
            trace_id: trace_id_of(trace_id).map_err(what)?,
            span_id: span_id_of(span_id).map_err(what)?,
            trace_state: trace_state.to_owned(),
            attributes,
        })
    }

    /// One `KeyValue` onto `out`; with `skimming`, one whose value follows a skipped key
    /// is left out unread (a value before its key is read whole: nothing to skip by).
    fn key_value(&self, mut r: Reader, out: &mut Vec<KeyValue>, skimming: bool) -> Result<()> {
        let skip = self.skip.filter(|_| skimming);
        let (mut key, mut value, mut skipped) = ("", None, false);
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => key = r.string(wt)?,
                2 if skip.is_some_and(|f| f(key)) => {
                    skipped = true;
                    r.skip(wt, tag)?;
                }
                2 => r.nested(wt, "value", |m| {
                    self.any_value(m, value.get_or_insert(AnyValue::Empty))
                })?,
                // `key_strindex`, which only profiles set: checked as OTLP's type checks it.
                3 => r.varint(wt).map(|_| ())?,
                _ => r.skip(wt, tag)?,
            }
        }
        if !skipped {
            out.push(KeyValue {
                key: key.to_owned(),
                value: value.unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// Merges an `AnyValue` into `v`: its oneof's last member wins, and a list that
    /// follows a list of the same kind extends it (prost merges a repeated message).
    fn any_value(&self, mut r: Reader, v: &mut AnyValue) -> Result<()> {
        while let Some((tag, wt)) = r.key()? {
            match tag {
                1 => *v = AnyValue::String(r.string(wt)?.to_owned()),
                2 => *v = AnyValue::Bool(r.varint(wt)? != 0),
                3 => *v = AnyValue::Int(r.varint(wt)? as i64),
                4 => *v = AnyValue::Double(f64::from_bits(r.fixed64(wt)?)),
                5 => {
                    let mut items = match std::mem::take(v) {
                        AnyValue::Array(items) => items,
                        _ => Vec::new(),
                    };
                    r.nested(wt, "array_value", |m| {
                        each(m, "values", |m| {
                            let mut item = AnyValue::Empty;
                            self.any_value(m, &mut item)?;
                            items.push(item);
                            Ok(())
                        })
                    })?;
                    *v = AnyValue::Array(items);
                }
                6 => {
                    let mut items = match std::mem::take(v) {
                        AnyValue::KvList(items) => items,
                        _ => Vec::new(),
                    };
                    r.nested(wt, "kvlist_value", |m| {
                        each(m, "values", |m| self.key_value(m, &mut items, false))
                    })?;
                    *v = AnyValue::KvList(items);
                }
                7 => *v = AnyValue::Bytes(r.bytes(wt)?.to_vec()),
                // An index into a dictionary that OTLP profiles use; traces and logs never
                // carry one, and without the dictionary only the index can be kept.
                8 => *v = AnyValue::Int(i64::from(r.varint(wt)? as i32)),
                _ => r.skip(wt, tag)?,
            }
        }
        Ok(())
    }
}

/// Reads each message of a list's one field (`ArrayValue` and `KeyValueList` have
/// nothing else), named `field` in errors.
fn each(
    mut r: Reader,
    field: &'static str,
    mut read: impl FnMut(Reader) -> Result<()>,
) -> Result<()> {
    while let Some((tag, wt)) = r.key()? {
        match tag {
            1 => r.nested(wt, field, &mut read)?,
            _ => r.skip(wt, tag)?,
        }
    }
    Ok(())
}

/// A resource's `EntityRef`: read to be checked, as prost checks it, and dropped.
fn entity_ref(mut r: Reader) -> Result<()> {
    while let Some((tag, wt)) = r.key()? {
        match tag {
            1..=4 => r.string(wt).map(|_| ())?,
            _ => r.skip(wt, tag)?,
        }
    }
    Ok(())
}

pub(super) fn trace_id_of(b: &[u8]) -> std::result::Result<TraceId, String> {
    TraceId::from_bytes(b).ok_or_else(|| format!("trace id has {} bytes, expected 16", b.len()))
}

pub(super) fn span_id_of(b: &[u8]) -> std::result::Result<SpanId, String> {
    SpanId::from_bytes(b).ok_or_else(|| format!("span id has {} bytes, expected 8", b.len()))
}

/// A fixed64 time past what i64 holds (year 2262) is held to the limit; import warns.
pub(super) fn nanos(v: u64) -> i64 {
    super::timestamp::saturate(i128::from(v))
}
