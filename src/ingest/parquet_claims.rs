//! The counts and sizes a Parquet file's footer and page headers claim, checked before
//! polars reads the file. polars sizes its buffers by them (a list's length, a page's
//! value count, a page's inflated size), and a claim past what the file could hold (a
//! value count of -3, read as 2^64 - 3) makes it allocate past any memory, which aborts
//! the process instead of failing. Such a file is refused here, with the claim and the
//! byte it is at.
//!
//! Footer and page headers are Thrift's compact protocol. Only the fields that size
//! something are read; everything else is skipped, every length held to the bytes that
//! remain, every nesting to a depth.

use super::decompress::MAX_INFLATION;

const MAGIC: &[u8; 4] = b"PAR1";
/// Values claimed per byte of the file, at most. A definition level takes a bit, and a
/// run of nulls less still, but an export whose every row has its own span id holds
/// far fewer than eight values a byte.
const VALUES_PER_BYTE: u64 = 8;
/// A page may always claim this much once inflated, whatever its compressed size: a
/// page of one repeated value compresses past any ratio, and writers cut pages at 1 MB.
const INFLATED_PAGE_FLOOR: u64 = 64 << 20;
/// Nesting of Thrift structs and containers: the footer's deepest is a few levels.
const MAX_DEPTH: u32 = 32;

/// The byte offset in the file and what is wrong there.
pub type Refusal = (u64, String);

pub fn check(bytes: &[u8]) -> Result<(), Refusal> {
    let len = bytes.len();
    if len < 12 || &bytes[..4] != MAGIC || &bytes[len - 4..] != MAGIC {
        return Err((
            0,
            "it does not start and end with PAR1, as Parquet files do: cut short?".into(),
        ));
    }
    let footer_len = u32::from_le_bytes([
        bytes[len - 8],
        bytes[len - 7],
        bytes[len - 6],
        bytes[len - 5],
    ]) as usize;
    let Some(footer_at) = (len - 8).checked_sub(footer_len).filter(|&at| at >= 4) else {
        return Err((
            (len - 8) as u64,
            format!("the footer claims {footer_len} bytes, more than the file holds"),
        ));
    };
    let limits = Limits {
        values: (len as u64).saturating_mul(VALUES_PER_BYTE),
    };
    let mut footer = Thrift::new(&bytes[..len - 8], footer_at);
    let chunks = file_metadata(&mut footer, &limits)?;
    // Chunks that overlap would have the same pages read again and again.
    let mut walked = 0u64;
    for chunk in &chunks {
        walked = walked.saturating_add(pages(bytes, chunk, &limits)?);
        if walked > len as u64 {
            return Err((
                chunk.start(),
                "column chunks overlap: their pages add up to more than the file".into(),
            ));
        }
    }
    Ok(())
}

struct Limits {
    values: u64,
}

impl Limits {
    fn count(&self, at: u64, what: &str, n: i64) -> Result<(), Refusal> {
        if n < 0 || n as u64 > self.values {
            return Err((
                at,
                format!(
                    "{what} is {n}: a count from 0 to {} in a file this size",
                    self.values
                ),
            ));
        }
        Ok(())
    }
}

/// A column chunk as its footer entry places it.
#[derive(Default)]
struct Chunk {
    /// Where its footer entry is, for a message.
    at: u64,
    num_values: i64,
    compressed_size: i64,
    data_page_offset: i64,
    dictionary_page_offset: Option<i64>,
}

fn file_metadata(t: &mut Thrift, limits: &Limits) -> Result<Vec<Chunk>, Refusal> {
    let mut chunks = Vec::new();
    t.structure(&mut |t, id, ty| match (id, ty) {
        (3, I64) => t.count(limits, "the file's row count").map(drop),
        (4, LIST) => t.list(STRUCT, &mut |t| row_group(t, limits, &mut chunks)),
        _ => t.skip(ty),
    })?;
    Ok(chunks)
}

fn row_group(t: &mut Thrift, limits: &Limits, chunks: &mut Vec<Chunk>) -> Result<(), Refusal> {
    t.structure(&mut |t, id, ty| match (id, ty) {
        (1, LIST) => t.list(STRUCT, &mut |t| {
            let mut chunk = None;
            t.structure(&mut |t, id, ty| match (id, ty) {
                (3, STRUCT) => {
                    chunk = Some(column_meta(t, limits)?);
                    Ok(())
                }
                _ => t.skip(ty),
            })?;
            chunks.extend(chunk);
            Ok(())
        }),
        (3, I64) => t.count(limits, "a row group's row count").map(drop),
        _ => t.skip(ty),
    })
}

fn column_meta(t: &mut Thrift, limits: &Limits) -> Result<Chunk, Refusal> {
    let mut c = Chunk {
        at: t.offset(),
        ..Chunk::default()
    };
    t.structure(&mut |t, id, ty| {
        match (id, ty) {
            (5, I64) => {
                c.num_values = t.count(limits, "a column chunk's value count")?;
            }
            (7, I64) => c.compressed_size = t.int()?,
            (9, I64) => c.data_page_offset = t.int()?,
            (11, I64) => c.dictionary_page_offset = Some(t.int()?),
            _ => t.skip(ty)?,
        }
        Ok(())
    })?;
    Ok(c)
}

impl Chunk {
    /// As polars places a chunk: from its dictionary page when it has one.
    fn start(&self) -> u64 {
        self.dictionary_page_offset
            .unwrap_or(self.data_page_offset)
            .max(0) as u64
    }
}

/// Reads the page headers of a chunk as polars will: until the data pages hold the
/// chunk's values or the chunk ends. Returns the bytes they span.
fn pages(file: &[u8], c: &Chunk, limits: &Limits) -> Result<u64, Refusal> {
    let len = file.len() as u64;
    let fits = |o: i64| o >= 0 && (o as u64) < len;
    if !fits(c.data_page_offset) || c.dictionary_page_offset.is_some_and(|o| !fits(o)) {
        return Err((c.at, "a column chunk starts outside the file".into()));
    }
    let start = c.start();
    let end = match u64::try_from(c.compressed_size) {
        Ok(size) if start.saturating_add(size) <= len => start + size,
        _ => {
            return Err((
                c.at,
                format!(
                    "a column chunk claims {} bytes from byte {}, past the file's end",
                    c.compressed_size, start
                ),
            ));
        }
    };
    let chunk = &file[..end as usize];
    let (mut at, mut seen) = (start, 0i64);
    while seen < c.num_values && at < end {
        let mut t = Thrift::new(chunk, at as usize);
        let page = page_header(&mut t, limits)?;
        let body = t.offset();
        if page.compressed_size > end - body {
            return Err((
                at,
                format!(
                    "a page claims {} bytes, past its column chunk's end",
                    page.compressed_size
                ),
            ));
        }
        let inflated_limit = page
            .compressed_size
            .saturating_mul(MAX_INFLATION)
            .max(INFLATED_PAGE_FLOOR);
        if page.uncompressed_size > inflated_limit {
            return Err((
                at,
                format!(
                    "a page of {} bytes claims {} once inflated, past {MAX_INFLATION} times \
                     its size",
                    page.compressed_size, page.uncompressed_size
                ),
            ));
        }
        if page.levels > page.compressed_size {
            return Err((
                at,
                format!(
                    "a page's levels claim {} of its {} bytes",
                    page.levels, page.compressed_size
                ),
            ));
        }
        seen = seen.saturating_add(page.values);
        at = body + page.compressed_size;
    }
    Ok(at - start)
}

#[derive(Default)]
struct Page {
    uncompressed_size: u64,
    compressed_size: u64,
    /// A data page's values (a dictionary page's count toward none).
    values: i64,
    /// A v2 data page's level bytes, stored before its values uncompressed.
    levels: u64,
}

fn page_header(t: &mut Thrift, limits: &Limits) -> Result<Page, Refusal> {
    let mut p = Page::default();
    let size = |t: &mut Thrift, what: &str| -> Result<u64, Refusal> {
        let at = t.offset();
        let n = t.int()?;
        u64::try_from(n).map_err(|_| (at, format!("{what} is {n}")))
    };
    t.structure(&mut |t, id, ty| {
        match (id, ty) {
            (2, I32) => p.uncompressed_size = size(t, "a page's inflated size")?,
            (3, I32) => p.compressed_size = size(t, "a page's size")?,
            // A v1 data page and a dictionary page: their value counts come first.
            (5 | 7, STRUCT) => {
                let data = id == 5;
                t.structure(&mut |t, id, ty| match (id, ty) {
                    (1, I32) => {
                        let n = t.count(limits, "a page's value count")?;
                        if data {
                            p.values = n;
                        }
                        Ok(())
                    }
                    _ => t.skip(ty),
                })?;
            }
            (8, STRUCT) => t.structure(&mut |t, id, ty| {
                match (id, ty) {
                    (1, I32) => {
                        p.values = t.count(limits, "a page's value count")?;
                    }
                    (2, I32) => t.count(limits, "a page's null count").map(drop)?,
                    (3, I32) => t.count(limits, "a page's row count").map(drop)?,
                    (5 | 6, I32) => {
                        let n = size(t, "a page's level bytes")?;
                        p.levels = p.levels.saturating_add(n);
                    }
                    _ => t.skip(ty)?,
                }
                Ok(())
            })?,
            _ => t.skip(ty)?,
        }
        Ok(())
    })?;
    Ok(p)
}

// Thrift compact protocol type ids.
const I32: u8 = 5;
const I64: u8 = 6;
const LIST: u8 = 9;
const STRUCT: u8 = 12;

type Field<'f, 'a> = dyn FnMut(&mut Thrift<'a>, i16, u8) -> Result<(), Refusal> + 'f;

struct Thrift<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Thrift<'a> {
    /// Reads `buf` from `pos`; offsets in messages are `buf`'s, which starts the file.
    fn new(buf: &'a [u8], pos: usize) -> Self {
        Thrift { buf, pos, depth: 0 }
    }

    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn fail<T>(&self, what: impl Into<String>) -> Result<T, Refusal> {
        Err((self.offset(), what.into()))
    }

    fn byte(&mut self) -> Result<u8, Refusal> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail("a Thrift structure ends before its last field"),
        }
    }

    fn take(&mut self, n: usize) -> Result<(), Refusal> {
        if n > self.remaining() {
            return self.fail(format!(
                "a Thrift value claims {n} bytes, {} remain",
                self.remaining()
            ));
        }
        self.pos += n;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, Refusal> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        self.fail("a Thrift integer runs past ten bytes")
    }

    /// A zigzag-encoded i16, i32 or i64.
    fn int(&mut self) -> Result<i64, Refusal> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A count of values or rows, held to what a file of this size could hold.
    fn count(&mut self, limits: &Limits, what: &str) -> Result<i64, Refusal> {
        let at = self.offset();
        let n = self.int()?;
        limits.count(at, what, n)?;
        Ok(n)
    }

    /// A length, held to the bytes that remain: each element takes one at least.
    fn length(&mut self, n: u64) -> Result<usize, Refusal> {
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => self.fail(format!(
                "a Thrift list or string claims {n} elements, {} bytes remain",
                self.remaining()
            )),
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Refusal>) -> Result<T, Refusal> {
        if self.depth >= MAX_DEPTH {
            return self.fail(format!("Thrift structures nest past {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Calls `field` with each field's id and type; it reads or skips the value.
    fn structure(&mut self, field: &mut Field<'_, 'a>) -> Result<(), Refusal> {
        self.nested(|t| {
            let mut last = 0i64;
            loop {
                let b = t.byte()?;
                if b == 0 {
                    return Ok(());
                }
                let id = match b >> 4 {
                    0 => t.int()?,
                    delta => last + i64::from(delta),
                };
                let Ok(id16) = i16::try_from(id) else {
                    return t.fail(format!("Thrift field id {id} is past 32767"));
                };
                last = id;
                field(t, id16, b & 0x0f)?;
            }
        })
    }

    /// A list of `elem`s, each read by `item`; a list of another type is skipped.
    fn list(
        &mut self,
        elem: u8,
        item: &mut dyn FnMut(&mut Self) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let (n, ty) = self.list_header()?;
        self.nested(|t| {
            for _ in 0..n {
                if ty == elem {
                    item(t)?;
                } else {
                    t.skip_element(ty)?;
                }
            }
            Ok(())
        })
    }

    fn list_header(&mut self) -> Result<(usize, u8), Refusal> {
        let b = self.byte()?;
        let n = match b >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        Ok((self.length(n)?, b & 0x0f))
    }

    /// An element of a list, set or map: a boolean takes a byte there.
    fn skip_element(&mut self, ty: u8) -> Result<(), Refusal> {
        match ty {
            1 | 2 => self.take(1),
            _ => self.skip(ty),
        }
    }

    /// A field's value: a boolean field's value is its type.
    fn skip(&mut self, ty: u8) -> Result<(), Refusal> {
        match ty {
            1 | 2 => Ok(()),
            3 => self.take(1),
            4..=6 => self.varint().map(drop),
            7 => self.take(8),
            8 => {
                let n = self.varint()?;
                let n = self.length(n)?;
                self.take(n)
            }
            9 | 10 => {
                let (n, ty) = self.list_header()?;
                self.nested(|t| (0..n).try_for_each(|_| t.skip_element(ty)))
            }
            11 => {
                let n = self.varint()?;
                let n = self.length(n)?;
                if n == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                self.nested(|t| {
                    (0..n).try_for_each(|_| {
                        t.skip_element(kinds >> 4)?;
                        t.skip_element(kinds & 0x0f)
                    })
                })
            }
            STRUCT => self.structure(&mut |t, _, ty| t.skip(ty)),
            13 => self.take(16),
            _ => self.fail(format!("unknown Thrift type {ty}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn parquet(rows: usize) -> Vec<u8> {
        let mut df = df![
            "span_id" => (0..rows as i64).map(|i| format!("{i:016x}")).collect::<Vec<_>>(),
            "tokens" => (0..rows as i64).map(|i| (i % 3 != 0).then_some(i)).collect::<Vec<_>>(),
        ]
        .unwrap();
        let mut out = Vec::new();
        ParquetWriter::new(&mut out).finish(&mut df).unwrap();
        out
    }

    #[test]
    fn a_file_polars_writes_passes() {
        for rows in [0, 1, 1000, 100_000] {
            let bytes = parquet(rows);
            check(&bytes).unwrap_or_else(|e| panic!("{rows} rows: {e:?}"));
        }
    }

    #[test]
    fn truncated_and_foreign_bytes_are_refused() {
        let bytes = parquet(100);
        for cut in [0, 4, 11, bytes.len() / 2, bytes.len() - 1] {
            assert!(check(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut footer_too_long = bytes.clone();
        let n = footer_too_long.len();
        footer_too_long[n - 8..n - 4].copy_from_slice(&(n as u32).to_le_bytes());
        let (_, why) = check(&footer_too_long).unwrap_err();
        assert!(why.contains("more than the file holds"), "{why}");
    }

    /// A byte string of Thrift's compact protocol, field by field.
    fn field(out: &mut Vec<u8>, delta: u8, ty: u8) {
        out.push(delta << 4 | ty);
    }

    fn zigzag(out: &mut Vec<u8>, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            out.push(z as u8 | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }

    /// What the one page of `file` claims, and the bytes it has.
    #[derive(Clone, Copy)]
    struct Claims {
        values: i64,
        inflated: i64,
        bytes: usize,
        claimed_bytes: i64,
        /// The row group's column count, when not the one chunk it has.
        chunks: Option<u64>,
    }

    const FINE: Claims = Claims {
        values: 5,
        inflated: 64,
        bytes: 40,
        claimed_bytes: 40,
        chunks: None,
    };

    fn varint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// A file of one row group of one column chunk of one v1 data page: the page's
    /// header and bytes, then the footer, every count and size as `c` says.
    fn file(c: Claims) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        let start = f.len() as i64;
        let mut header = Vec::new();
        field(&mut header, 1, I32);
        zigzag(&mut header, 0); // DATA_PAGE
        field(&mut header, 1, I32);
        zigzag(&mut header, c.inflated);
        field(&mut header, 1, I32);
        zigzag(&mut header, c.claimed_bytes);
        field(&mut header, 2, STRUCT); // field 5: the data page header
        field(&mut header, 1, I32);
        zigzag(&mut header, c.values);
        header.extend([0, 0]); // ends the data page header and the page header
        f.extend(&header);
        f.extend(std::iter::repeat_n(7u8, c.bytes));
        let chunk_size = (header.len() + c.bytes) as i64;

        let mut meta = Vec::new();
        field(&mut meta, 3, I64); // field 3: num_rows
        zigzag(&mut meta, c.values.max(0));
        field(&mut meta, 1, LIST); // field 4: row groups
        meta.push(1 << 4 | STRUCT);
        field(&mut meta, 1, LIST); // row group field 1: columns
        meta.push(0xf0 | STRUCT);
        varint(&mut meta, c.chunks.unwrap_or(1));
        field(&mut meta, 3, STRUCT); // column chunk field 3: its metadata
        field(&mut meta, 5, I64); // field 5: num_values
        zigzag(&mut meta, c.values);
        field(&mut meta, 2, I64); // field 7: compressed size
        zigzag(&mut meta, chunk_size);
        field(&mut meta, 2, I64); // field 9: the data page's offset
        zigzag(&mut meta, start);
        meta.extend([0, 0]); // ends the column metadata and the column chunk
        field(&mut meta, 2, I64); // row group field 3: num_rows
        zigzag(&mut meta, c.values.max(0));
        meta.extend([0, 0]); // ends the row group and the file metadata
        f.extend(&meta);
        f.extend((meta.len() as u32).to_le_bytes());
        f.extend(MAGIC);
        f
    }

    #[test]
    fn counts_and_sizes_past_the_file_are_refused() {
        check(&file(FINE)).unwrap();
        let refused = |c: Claims, want: &str| {
            let (_, why) = check(&file(c)).unwrap_err();
            assert!(why.contains(want), "{why}");
        };
        // The fuzzer's find: a value count of -3, which polars reads as 2^64 - 3.
        refused(Claims { values: -3, ..FINE }, "is -3");
        refused(
            Claims {
                values: 1 << 40,
                ..FINE
            },
            "is 1099511627776",
        );
        refused(
            Claims {
                inflated: 1 << 30,
                ..FINE
            },
            "claims 1073741824 once inflated",
        );
        refused(
            Claims {
                claimed_bytes: 41,
                ..FINE
            },
            "past its column chunk's end",
        );
        refused(
            Claims {
                claimed_bytes: -1,
                ..FINE
            },
            "a page's size is -1",
        );
        // A list of 2^31 column chunks, which polars would size a vector by.
        refused(
            Claims {
                chunks: Some(1 << 31),
                ..FINE
            },
            "claims 2147483648 elements",
        );
    }
}
