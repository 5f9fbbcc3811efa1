//! Span rows grouped into whole traces without holding them all. Attribution needs every
//! span of a trace, and a dump may interleave traces over its whole length; past a row
//! limit, rows go to parts of a temporary file chosen by a hash of their trace id, so
//! each part holds whole traces and is attributed on its own (a grace hash partition).
//! Memory then stays flat whatever the size of the dump.

use super::calls::SpanRow;
use crate::ingest::ids::TraceId;
use crate::ingest::spare::Spare;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::Write;

/// Parts a spill spreads the rows over: each is read back whole, so a dump of N rows
/// past the limit needs about N / PARTS rows of memory at a time (5,500 rows for the
/// 1.4 million spans of a 2 GB dump).
const PARTS: usize = 256;

/// Bytes of a part kept before they are written out together: the parts' chunks lie
/// interleaved in one file. A file per part cost more to create than the report took
/// (256 new inodes: 90 to 140 ms on ext4, which looks past recently deleted ones).
const CHUNK: usize = 16 << 10;

#[derive(Debug, thiserror::Error)]
#[error("temporary span rows (in {dir}): {message}")]
pub struct SpillError {
    dir: String,
    message: String,
}

impl SpillError {
    fn new(e: impl std::fmt::Display) -> Self {
        SpillError {
            dir: std::env::temp_dir().display().to_string(),
            message: e.to_string(),
        }
    }
}

pub struct TracePartitions {
    rows: Vec<SpanRow>,
    limit: usize,
    chunk: usize,
    spill: Option<Spill>,
}

struct Spill {
    /// Unnamed: gone when closed, however the process ends.
    file: File,
    /// Bytes written to the file so far.
    end: u64,
    /// Each part's rows not yet written, encoded.
    pending: Vec<Vec<u8>>,
    /// Where each part's chunks lie in the file, in the order written.
    chunks: Vec<Vec<(u64, usize)>>,
    /// Rows of each part, to read it back into a vector of the right size.
    rows: Vec<usize>,
    chunk: usize,
    spare_bytes: Spare<u8>,
    spare_rows: Spare<SpanRow>,
}

impl Spill {
    fn write(&mut self, row: &SpanRow) -> Result<(), SpillError> {
        let part = part_of(&row.trace_id);
        let buf = std::mem::take(&mut self.pending[part]);
        self.pending[part] = postcard::to_extend(row, buf).map_err(SpillError::new)?;
        self.rows[part] += 1;
        if self.pending[part].len() >= self.chunk {
            self.write_out(part)?;
        }
        Ok(())
    }

    fn write_out(&mut self, part: usize) -> Result<(), SpillError> {
        let buf = &mut self.pending[part];
        if buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(buf).map_err(SpillError::new)?;
        self.chunks[part].push((self.end, buf.len()));
        self.end += buf.len() as u64;
        buf.clear();
        Ok(())
    }
}

fn part_of(t: &TraceId) -> usize {
    // A fixed seed: the same trace always lands in the same part.
    (foldhash::fast::FixedState::with_seed(0x7ace).hash_one(t) % PARTS as u64) as usize
}

/// Rows kept in memory before spilling, unless `TRACES_SPILL_ROWS` says otherwise: about
/// 10 MB, one store row group.
pub const ROWS_IN_MEMORY: usize = 16_384;

impl Default for TracePartitions {
    fn default() -> Self {
        let limit = std::env::var("TRACES_SPILL_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(ROWS_IN_MEMORY);
        TracePartitions::new(limit)
    }
}

impl TracePartitions {
    /// Keeps up to `limit` rows in memory before spilling to a file.
    pub fn new(limit: usize) -> Self {
        TracePartitions {
            rows: Vec::new(),
            limit,
            chunk: CHUNK,
            spill: None,
        }
    }

    pub fn push(&mut self, row: SpanRow) -> Result<(), SpillError> {
        if let Some(s) = &mut self.spill {
            return s.write(&row);
        }
        self.rows.push(row);
        if self.rows.len() >= self.limit {
            self.start_spill()?;
        }
        Ok(())
    }

    fn start_spill(&mut self) -> Result<(), SpillError> {
        let mut spill = Spill {
            file: tempfile::tempfile().map_err(SpillError::new)?,
            end: 0,
            pending: vec![Vec::new(); PARTS],
            chunks: vec![Vec::new(); PARTS],
            rows: vec![0; PARTS],
            chunk: self.chunk,
            spare_bytes: Spare::default(),
            spare_rows: Spare::default(),
        };
        for row in std::mem::take(&mut self.rows) {
            spill.write(&row)?;
        }
        self.spill = Some(spill);
        Ok(())
    }

    /// Whether rows went to a file.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }

    /// Hands over the rows, a set of whole traces at a time, each set in the order the
    /// rows were pushed: `map` runs on the sets in parallel (as many at once as there
    /// are cores, so memory stays bounded), `reduce` takes the results in order.
    pub fn for_each<R: Send>(
        self,
        map: impl Fn(&[SpanRow]) -> R + Sync,
        mut reduce: impl FnMut(R),
    ) -> Result<(), SpillError> {
        use rayon::prelude::*;
        let Some(mut spill) = self.spill else {
            reduce(map(&self.rows));
            return Ok(());
        };
        for part in 0..PARTS {
            spill.write_out(part)?;
        }
        // The pending buffers' memory, for the rows read back.
        spill.pending = Vec::new();
        let parts: Vec<usize> = (0..PARTS).collect();
        for chunk in parts.chunks(rayon::current_num_threads().max(1)) {
            let results: Vec<Result<R, SpillError>> =
                chunk.par_iter().map(|&i| spill.read(i, &map)).collect();
            for r in results {
                reduce(r?);
            }
        }
        Ok(())
    }
}

impl Spill {
    /// Reads a part back and hands its rows to `map`. Its bytes and rows go back to
    /// `spare_*` for the next part: memory handed back to the system when it is freed
    /// is faulted in and zeroed again, and that was half of the page faults of a report
    /// from a 2 GB dump.
    fn read<R>(&self, part: usize, map: impl FnOnce(&[SpanRow]) -> R) -> Result<R, SpillError> {
        let (mut bytes, mut rows) = (self.spare_bytes.take(), self.spare_rows.take());
        let r = self
            .read_into(part, &mut bytes, &mut rows)
            .map(|()| map(&rows));
        self.spare_bytes.give(bytes);
        self.spare_rows.give(rows);
        r
    }

    fn read_into(
        &self,
        part: usize,
        bytes: &mut Vec<u8>,
        rows: &mut Vec<SpanRow>,
    ) -> Result<(), SpillError> {
        let chunks = &self.chunks[part];
        bytes.resize(chunks.iter().map(|c| c.1).sum(), 0);
        let mut at = 0;
        for &(offset, len) in chunks {
            read_exact_at(&self.file, &mut bytes[at..at + len], offset).map_err(SpillError::new)?;
            at += len;
        }
        // Sized once: grown by doubling, each copy would land in fresh pages.
        rows.reserve(self.rows[part]);
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let (row, r) = postcard::take_from_bytes::<SpanRow>(rest).map_err(SpillError::new)?;
            rows.push(row);
            rest = r;
        }
        Ok(())
    }
}

/// Reads at an offset without moving the file's cursor: parts are read on several cores
/// from the one file at once.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ids::SpanId;

    fn row(trace: u8, span: u8) -> SpanRow {
        SpanRow {
            trace_id: TraceId([trace; 16]),
            span_id: SpanId([span; 8]),
            session_id: Some(format!("s{trace}")),
            ..Default::default()
        }
    }

    fn collect(p: TracePartitions) -> Vec<Vec<(u8, u8, Option<String>)>> {
        let mut sets = Vec::new();
        p.for_each(
            |rows| -> Vec<_> {
                rows.iter()
                    .map(|r| (r.trace_id.0[0], r.span_id.0[0], r.session_id.clone()))
                    .collect()
            },
            |set| sets.push(set),
        )
        .unwrap();
        sets
    }

    #[test]
    fn spilled_rows_come_back_whole_traces_in_order() {
        let input: Vec<(u8, u8)> = (0..2000u32)
            .map(|i| ((i * 7 % 200) as u8, (i / 200) as u8))
            .collect();
        let mut p = TracePartitions::new(100);
        // Parts written out a few rows at a time: each part in many chunks, interleaved.
        p.chunk = 64;
        for &(t, s) in &input {
            p.push(row(t, s)).unwrap();
        }
        assert!(p.spilled());
        let spill = p.spill.as_ref().unwrap();
        assert!(spill.chunks.iter().filter(|c| c.len() > 2).count() > PARTS / 2);
        let sets = collect(p);
        assert_eq!(sets.len(), PARTS);
        let mut seen_in: std::collections::HashMap<u8, usize> = Default::default();
        let mut back = Vec::new();
        for (k, set) in sets.iter().enumerate() {
            for (t, s, session) in set {
                // Every row of a trace is in one set, rows and strings intact.
                assert_eq!(*seen_in.entry(*t).or_insert(k), k, "trace {t} split");
                assert_eq!(session.as_deref(), Some(format!("s{t}").as_str()));
                back.push((*t, *s));
            }
        }
        // Nothing lost or repeated, and each trace's rows keep their order.
        assert_eq!(back.len(), input.len());
        for t in 0..200u8 {
            let want: Vec<u8> = input.iter().filter(|r| r.0 == t).map(|r| r.1).collect();
            let got: Vec<u8> = back.iter().filter(|r| r.0 == t).map(|r| r.1).collect();
            assert_eq!(got, want, "trace {t}");
        }
    }

    #[test]
    fn below_the_limit_nothing_is_written() {
        let mut p = TracePartitions::new(100);
        p.push(row(1, 1)).unwrap();
        assert!(!p.spilled());
        assert_eq!(collect(p), vec![vec![(1, 1, Some("s1".to_string()))]]);
    }
}
