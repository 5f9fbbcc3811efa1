//! Compression, recognised by magic bytes rather than file names.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many times its compressed size an input may inflate to, by default. Real dumps
/// compress 10 to 30 times (the benchmark's, a system prompt repeated in every span: 24
/// at gzip -9); a bomb of spaces or zeros goes to deflate's limit of about 1,032, and
/// zstd far past it.
pub const MAX_INFLATION: u64 = 250;

/// Inflated bytes allowed past the ratio: small inputs of repetitive spans compress
/// better than large ones.
const INFLATION_SLACK: u64 = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn sniff(prefix: &[u8]) -> Self {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn label(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }
}

pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Wraps a reader so that it yields decompressed bytes, whatever it held. A compressed
/// input that inflates past `max_inflation` times the bytes read of it (plus a slack)
/// fails with `InvalidData`, naming the ratio: a decompression bomb stops there instead
/// of filling memory or disk.
pub fn decompressed<'a>(
    mut r: Box<dyn BufRead + 'a>,
    max_inflation: u64,
) -> io::Result<(Compression, Box<dyn BufRead + 'a>)> {
    let c = Compression::sniff(r.fill_buf()?);
    if c == Compression::None {
        return Ok((c, r));
    }
    let raw = Arc::new(AtomicU64::new(0));
    let counted = RawCount {
        inner: r,
        read: raw.clone(),
    };
    let inflated: Box<dyn Read + 'a> = match c {
        // Multi-member: `cat a.gz b.gz` is a valid gzip stream, and rotated logs are
        // often concatenated that way.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(counted)?),
        Compression::None => unreachable!("returned above"),
    };
    let bounded = Bounded {
        inner: inflated,
        raw,
        out: 0,
        ratio: max_inflation,
    };
    Ok((c, Box::new(BufReader::with_capacity(1 << 20, bounded))))
}

/// Counts the compressed bytes a decompressor takes.
struct RawCount<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: BufRead> Read for RawCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for RawCount<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.consume(n)
    }
}

/// Fails once the inflated bytes pass the ratio to the compressed bytes read.
struct Bounded<R> {
    inner: R,
    raw: Arc<AtomicU64>,
    out: u64,
    ratio: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out = self.out.saturating_add(n as u64);
        let allowed = self
            .raw
            .load(Ordering::Relaxed)
            .saturating_mul(self.ratio)
            .saturating_add(INFLATION_SLACK);
        if self.out > allowed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "it inflates past {} times its compressed size, a decompression bomb? \
                     (--max-inflation raises the limit)",
                    self.ratio
                ),
            ));
        }
        Ok(n)
    }
}

/// Decompresses one in-memory zstd frame (the Collector's per-message compression),
/// within the default inflation limit.
pub fn zstd_bytes(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let limit = (bytes.len() as u64)
        .saturating_mul(MAX_INFLATION)
        .saturating_add(INFLATION_SLACK);
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(bytes)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it inflates past {MAX_INFLATION} times its compressed size, a decompression bomb?"
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zstd_message_that_inflates_past_the_limit_is_refused() {
        let zeros = vec![0u8; 64 << 20];
        let bomb = zstd::bulk::compress(&zeros, 3).unwrap();
        assert!((bomb.len() as u64) * MAX_INFLATION + INFLATION_SLACK < zeros.len() as u64);
        let err = zstd_bytes(&bomb).unwrap_err();
        assert!(err.to_string().contains("decompression bomb"), "{err}");
        let fine = zstd::bulk::compress(b"{\"resourceSpans\":[]}", 3).unwrap();
        assert_eq!(zstd_bytes(&fine).unwrap(), b"{\"resourceSpans\":[]}");
    }

    #[test]
    fn a_stream_is_refused_once_past_the_ratio_not_before() {
        let data: Vec<u8> = (0..(8u32 << 20)).map(|i| (i % 251) as u8).collect();
        let z = zstd::bulk::compress(&data, 1).unwrap();
        let read = |ratio| {
            let (c, mut r) = decompressed(Box::new(&z[..]), ratio).unwrap();
            assert_eq!(c, Compression::Zstd);
            let mut out = Vec::new();
            r.read_to_end(&mut out).map(|_| out)
        };
        assert_eq!(read(MAX_INFLATION).unwrap(), data);
        // Ratio 1 still has the slack: 8 MiB passes, twice the slack would not.
        assert_eq!(read(1).unwrap(), data);
        let big: Vec<u8> = data.iter().cycle().take(40 << 20).copied().collect();
        let z = zstd::bulk::compress(&big, 1).unwrap();
        let (_, mut r) = decompressed(Box::new(&z[..]), 1).unwrap();
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
