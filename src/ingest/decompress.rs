//! Compression, recognised by magic bytes rather than file names.

use std::io::{self, BufRead, BufReader, Read};

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

/// Wraps a reader so that it yields decompressed bytes, whatever it held.
pub fn decompressed<'a>(
    mut r: Box<dyn BufRead + 'a>,
) -> io::Result<(Compression, Box<dyn BufRead + 'a>)> {
    let c = Compression::sniff(r.fill_buf()?);
    Ok(match c {
        Compression::None => (c, r),
        // Multi-member: `cat a.gz b.gz` is a valid gzip stream, and rotated logs are
        // often concatenated that way.
        Compression::Gzip => (
            c,
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::bufread::MultiGzDecoder::new(r),
            )),
        ),
        Compression::Zstd => (
            c,
            Box::new(BufReader::with_capacity(
                1 << 20,
                zstd::stream::read::Decoder::with_buffer(r)?,
            )),
        ),
    })
}

/// Decompresses one in-memory zstd frame (the Collector's per-message compression).
pub fn zstd_bytes(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(bytes)?.read_to_end(&mut out)?;
    Ok(out)
}
