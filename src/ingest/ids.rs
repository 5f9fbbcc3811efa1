//! Trace and span identifiers, decoded from every spelling seen in real dumps.

use base64::Engine as _;
use std::fmt;

#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct TraceId(pub [u8; 16]);

#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct SpanId(pub [u8; 8]);

/// Why an id could not be decoded; the caller adds where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {text:?} is not {len} bytes of hex or base64")]
pub struct IdError {
    pub what: &'static str,
    pub text: String,
    pub len: usize,
}

/// Decodes `N` bytes from hex (any case, optional `0x`), standard or URL-safe base64
/// (padded or not: protobuf's JSON mapping, which the OTLP spec forbids for ids but
/// some exporters write anyway), or a decimal integer (OTel Python's `int` ids, as
/// pydantic serializes them).
fn decode_id<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], IdError> {
    let err = || IdError {
        what,
        text: text.chars().take(64).collect(),
        len: N,
    };
    let t = text.trim();
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let mut out = [0u8; N];
    if hex.len() == 2 * N && decode_hex(hex.as_bytes(), &mut out) {
        return Ok(out);
    }
    let padded = N.div_ceil(3) * 4;
    if t.len() == padded || t.len() == (N * 4).div_ceil(3) {
        let t = t.trim_end_matches('=');
        for engine in [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            if let Ok(bytes) = engine.decode(t)
                && bytes.len() == N
            {
                out.copy_from_slice(&bytes);
                return Ok(out);
            }
        }
    }
    if !t.is_empty() && t.len() <= 39 && t.bytes().all(|b| b.is_ascii_digit()) {
        let v: u128 = t.parse().map_err(|_| err())?;
        let bytes = v.to_be_bytes();
        if bytes[..16 - N].iter().all(|&b| b == 0) {
            out.copy_from_slice(&bytes[16 - N..]);
            return Ok(out);
        }
    }
    Err(err())
}

/// Marks a byte that is not a hex digit: above any digit's value.
const INVALID: u8 = 0xff;

/// Each byte's value as a hex digit, or `INVALID`.
const HEX_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Decodes and validates in one pass: every span has two or three ids to decode.
fn decode_hex(hex: &[u8], out: &mut [u8]) -> bool {
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 15);
    }
    // A valid digit is below 16; INVALID sets the high bits.
    bad < 16
}

/// An id as lowercase hex, on the stack: every span's ids are written out when stored.
pub struct Hex {
    buf: [u8; 32],
    len: usize,
}

impl Hex {
    pub fn of(bytes: &[u8]) -> Hex {
        // A table beats `{:02x}` per byte.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 32];
        for (i, b) in bytes.iter().take(16).enumerate() {
            buf[2 * i] = DIGITS[(b >> 4) as usize];
            buf[2 * i + 1] = DIGITS[(b & 15) as usize];
        }
        Hex {
            buf,
            len: 2 * bytes.len().min(16),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str(Hex::of(bytes).as_str())
}

impl TraceId {
    pub fn parse(text: &str) -> Result<Self, IdError> {
        decode_id::<16>(text, "trace id").map(TraceId)
    }
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(TraceId)
    }
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl SpanId {
    pub fn parse(text: &str) -> Result<Self, IdError> {
        decode_id::<8>(text, "span id").map(SpanId)
    }
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(SpanId)
    }
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 8]
    }
    /// A parent id field: empty, all zeros or absent all mean "this span is a root".
    pub fn parse_parent(text: &str) -> Result<Option<Self>, IdError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let id = Self::parse(text)?;
        Ok((!id.is_zero()).then_some(id))
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}
impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_any_other_digit_is_refused() {
        let bytes: [u8; 16] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5);
        let lower = TraceId(bytes).to_string();
        assert_eq!(TraceId::parse(&lower), Ok(TraceId(bytes)));
        assert_eq!(TraceId::parse(&lower.to_uppercase()), Ok(TraceId(bytes)));
        for pos in 0..32 {
            for bad in [b'g', b'G', b'/', b':', b'@', b'`', b' ', 0xc3] {
                let mut t = lower.clone().into_bytes();
                t[pos] = bad;
                let t = String::from_utf8_lossy(&t).into_owned();
                assert!(TraceId::parse(&t).is_err(), "{t:?} was accepted");
            }
        }
    }

    #[test]
    fn hex_and_base64_agree() {
        let hex = TraceId::parse("5B8EFFF798038103D269B633813FC60C").unwrap();
        let b64 = TraceId::parse("W47/95gDgQPSabYzgT/GDA==").unwrap();
        let b64_nopad = TraceId::parse("W47_95gDgQPSabYzgT_GDA").unwrap();
        assert_eq!(hex, b64);
        assert_eq!(hex, b64_nopad);
        assert_eq!(hex.to_string(), "5b8efff798038103d269b633813fc60c");
        let span = SpanId::parse("0xEEE19B7EC3C1B174").unwrap();
        assert_eq!(span, SpanId::parse("7uGbfsPBsXQ=").unwrap());
    }

    #[test]
    fn decimal_ids() {
        let t = TraceId::parse("1").unwrap();
        assert_eq!(t.to_string(), "00000000000000000000000000000001");
        assert!(SpanId::parse("18446744073709551616").is_err());
    }

    #[test]
    fn wrong_lengths_are_errors() {
        assert!(TraceId::parse("abcd").is_err());
        assert!(SpanId::parse("5b8efff798038103d269b633813fc60c").is_err());
        assert!(TraceId::parse("").is_err());
        assert!(TraceId::parse("zz8efff798038103d269b633813fc60c").is_err());
    }

    #[test]
    fn parents() {
        assert_eq!(SpanId::parse_parent("").unwrap(), None);
        assert_eq!(SpanId::parse_parent("0000000000000000").unwrap(), None);
        assert!(SpanId::parse_parent("0000000000000001").unwrap().is_some());
    }
}
