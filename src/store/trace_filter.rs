//! A Bloom filter of the trace ids in one traces table, kept in that table's Parquet
//! footer (key `traces.trace_filter`). It answers "may this segment hold trace T?" from
//! the footer alone: an import of new traces into a large store, or `show` of one
//! trace, reads no table whose filter says no. Ids are random-looking but not always
//! (UUIDv7 ids share their time prefix, tests count up), so bits come from a mix of the
//! whole id, never from its bytes.
//!
//! The format is fixed, since a later release reads the filters an earlier one wrote:
//! `1;<k>;<base64 of the bit array, 64-bit words little-endian>`. Probe `i` (0 to k-1)
//! of an id is bit `mix(h ^ (i+1)·0x9e3779b97f4a7c15) mod m` (wrapping product), where
//! `h = mix(lo ^ mix(hi))`, `lo` and `hi` the id's two halves read little-endian, `mix`
//! splitmix64's finalizer and `m` the number of bits. Each probe is mixed on its own:
//! probes in an arithmetic progression (double hashing) pass 100 times too many ids
//! in the small tables of small imports. A value this release cannot read counts as no
//! filter: the table is read whole instead.

use crate::ingest::ids::TraceId;
use base64::Engine;

/// The footer key of the filter.
pub const KEY: &str = "traces.trace_filter";

/// Bits per id and probes per lookup: about 1% false positives, 1.25 bytes an id.
const BITS_PER_ID: usize = 10;
const PROBES: u32 = 7;

#[derive(Debug, Clone, PartialEq)]
pub struct TraceFilter {
    words: Vec<u64>,
    probes: u32,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

fn hash(id: &TraceId) -> u64 {
    let half = |r: std::ops::Range<usize>| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&id.0[r]);
        u64::from_le_bytes(b)
    };
    mix(half(0..8) ^ mix(half(8..16)))
}

impl TraceFilter {
    pub fn of<'a>(ids: impl ExactSizeIterator<Item = &'a TraceId>) -> TraceFilter {
        let words = (ids.len() * BITS_PER_ID).div_ceil(64).max(1);
        let mut f = TraceFilter {
            words: vec![0; words],
            probes: PROBES,
        };
        for id in ids {
            for bit in f.bits(id) {
                f.words[bit / 64] |= 1 << (bit % 64);
            }
        }
        f
    }

    fn bits(&self, id: &TraceId) -> impl Iterator<Item = usize> + use<> {
        let m = (self.words.len() * 64) as u64;
        let h = hash(id);
        (1..=u64::from(self.probes)).map(move |i| (mix(h ^ i.wrapping_mul(GOLDEN)) % m) as usize)
    }

    /// False only when `id` is not among the ids the filter was made of.
    pub fn may_contain(&self, id: &TraceId) -> bool {
        self.bits(id)
            .all(|bit| self.words[bit / 64] & (1 << (bit % 64)) != 0)
    }

    pub fn encode(&self) -> String {
        let bytes: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        format!(
            "1;{};{}",
            self.probes,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// The filter a footer value describes; `None` for anything else.
    pub fn decode(value: &str) -> Option<TraceFilter> {
        let mut parts = value.splitn(3, ';');
        if parts.next()? != "1" {
            return None;
        }
        let probes: u32 = parts.next()?.parse().ok()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(parts.next()?)
            .ok()?;
        if !(1..=64).contains(&probes) || bytes.is_empty() || bytes.len() % 8 != 0 {
            return None;
        }
        let words = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        Some(TraceFilter { words, probes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64, salt: u64) -> TraceId {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&n.to_be_bytes());
        b[8..].copy_from_slice(&salt.to_be_bytes());
        TraceId(b)
    }

    #[test]
    fn every_member_passes_and_few_others_do() {
        // Ids that count up, as tests and some SDKs make them: the worst case for bits
        // taken from the id's bytes.
        let members: Vec<TraceId> = (0..20_000).map(|n| id(n, 7)).collect();
        let f = TraceFilter::decode(&TraceFilter::of(members.iter()).encode()).unwrap();
        assert!(members.iter().all(|t| f.may_contain(t)));
        let others = (20_000..120_000)
            .filter(|&n| f.may_contain(&id(n, 7)))
            .count();
        // At 10 bits an id and 7 probes a Bloom filter passes 0.82% of non-members.
        assert!(others < 1_500, "{others} of 100000 non-members passed");
        assert!(
            others > 300,
            "{others}: the filter is fuller than its bits say"
        );
    }

    #[test]
    fn the_format_is_the_documented_one() {
        // One id in 64 bits: each of its 7 bits computed from the formula in the docs.
        let t = id(1, 2);
        let f = TraceFilter::of([t].iter());
        let lo = u64::from_le_bytes(t.0[..8].try_into().unwrap());
        let hi = u64::from_le_bytes(t.0[8..].try_into().unwrap());
        let h = mix(lo ^ mix(hi));
        let mut word = 0u64;
        for i in 1..=7u64 {
            word |= 1 << (mix(h ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % 64);
        }
        let expected = format!(
            "1;7;{}",
            base64::engine::general_purpose::STANDARD.encode(word.to_le_bytes())
        );
        assert_eq!(f.encode(), expected);
        // splitmix64's first output from seed 0, as published: its finalizer on the
        // golden-ratio increment.
        assert_eq!(mix(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn values_of_another_kind_are_no_filter() {
        for v in [
            "",
            "2;7;AAAAAAAAAAA=",
            "1;0;AAAAAAAAAAA=",
            "1;7;AAAA",
            "1;7;!!",
            "1;x;",
        ] {
            assert_eq!(TraceFilter::decode(v), None, "{v}");
        }
    }

    #[test]
    fn a_small_tables_filter_passes_what_its_bits_say() {
        // The table of a small import: two ids in 64 bits. Probes in an arithmetic
        // progression passed 1,968 of a million counted ids here; independent probes
        // pass about (bits set / 64)^7 of them.
        let ids = [
            "0af7651916cd43dd8448eb211c80319c",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        ]
        .map(|t| TraceId::parse(t).unwrap());
        let f = TraceFilter::of(ids.iter());
        let set = f.words[0].count_ones();
        assert!((8..=14).contains(&set), "{set} bits set");
        let expected = (f64::from(set) / 64.0).powi(7) * 1e6;
        let passed = (1u64..1_000_000)
            .filter(|n| f.may_contain(&id(*n, 0)))
            .count();
        assert!(
            (passed as f64) < 3.0 * expected + 10.0,
            "{passed} passed, {expected:.0} expected"
        );
    }
}
