//! A frame's columns read by position, a chunk at a time, from the Arrow arrays behind
//! them. Reports that walk every row of a table read it this way: polars' own iterators
//! go through a boxed iterator per value, which cost a store report a fifth of its time.

use polars::prelude::*;
pub use polars_arrow::array::{
    Array, BinaryViewArray, BooleanArray, PrimitiveArray, Utf8ViewArray,
};

/// `df`'s columns chunked alike (rechunked if they were not), and their chunk count.
pub fn aligned(df: &mut DataFrame) -> usize {
    df.align_chunks();
    df.columns().first().map_or(0, |c| c.n_chunks())
}

/// The chunks `k` of one aligned frame's columns.
pub struct Chunk<'a> {
    df: &'a DataFrame,
    k: usize,
}

impl<'a> Chunk<'a> {
    pub fn new(df: &'a DataFrame, k: usize) -> Self {
        Chunk { df, k }
    }

    fn nth<T: 'a>(&self, mut chunks: impl Iterator<Item = &'a T>) -> PolarsResult<&'a T> {
        chunks
            .nth(self.k)
            .ok_or_else(|| polars_err!(ComputeError: "a table's columns are not chunked alike"))
    }

    pub fn text(&self, name: &str) -> PolarsResult<&'a Utf8ViewArray> {
        self.nth(self.df.column(name)?.str()?.downcast_iter())
    }

    pub fn binary(&self, name: &str) -> PolarsResult<&'a BinaryViewArray> {
        self.nth(self.df.column(name)?.binary()?.downcast_iter())
    }

    pub fn int(&self, name: &str) -> PolarsResult<&'a PrimitiveArray<i64>> {
        self.nth(self.df.column(name)?.i64()?.downcast_iter())
    }

    pub fn float(&self, name: &str) -> PolarsResult<&'a PrimitiveArray<f64>> {
        self.nth(self.df.column(name)?.f64()?.downcast_iter())
    }

    pub fn flag(&self, name: &str) -> PolarsResult<&'a BooleanArray> {
        self.nth(self.df.column(name)?.bool()?.downcast_iter())
    }
}

/// Row `i` of a numeric array, `None` where it is null.
pub fn value<T: polars_arrow::types::NativeType>(a: &PrimitiveArray<T>, i: usize) -> Option<T> {
    a.is_valid(i).then(|| a.value(i))
}

/// Row `i` of a boolean array, `None` where it is null.
pub fn flag(a: &BooleanArray, i: usize) -> Option<bool> {
    a.is_valid(i).then(|| a.value(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_every_chunk_is_read_with_its_nulls() {
        let a = df!(
            "n" => [Some(1i64), None, Some(3)],
            "s" => [Some("a"), Some("b"), None],
            "f" => [Some(true), None, Some(false)],
        )
        .unwrap();
        let b = df!(
            "n" => [Some(4i64)],
            "s" => [None::<&str>],
            "f" => [Some(true)],
        )
        .unwrap();
        let read = |df: &mut DataFrame, chunks: usize| {
            assert_eq!(aligned(df), chunks);
            let mut got = Vec::new();
            for k in 0..chunks {
                let c = Chunk::new(df, k);
                let (n, s, f) = (
                    c.int("n").unwrap(),
                    c.text("s").unwrap(),
                    c.flag("f").unwrap(),
                );
                for i in 0..n.len() {
                    got.push((value(n, i), s.get(i).map(String::from), flag(f, i)));
                }
            }
            got
        };
        let want = vec![
            (Some(1), Some("a".to_string()), Some(true)),
            (None, Some("b".to_string()), None),
            (Some(3), None, Some(false)),
            (Some(4), None, Some(true)),
        ];
        let mut df = a.vstack(&b).unwrap();
        assert_eq!(read(&mut df, 2), want);
        // A column of one chunk beside two: chunked alike first.
        df.replace(
            "f",
            Column::new("f".into(), [Some(true), None, Some(false), Some(true)]),
        )
        .unwrap();
        assert_eq!(read(&mut df, 1), want);
        assert!(Chunk::new(&df, 9).int("n").is_err());
    }
}
