//! Several stores read as one (`--store A --store B`, a glob, or `TRACES_STORE=A:B`):
//! the stores of many CI runs merged without a copy. A span is the same span in
//! whichever store holds it, so the union counts it once, and a trace whose spans are
//! split across stores is attributed over all of them. Each store's derived tables
//! (calls, traces) are true of that store alone: they answer for the traces no other
//! store of the set holds, and the traces that several hold are worked out again from
//! their spans.

use crate::ingest::ids::TraceId;
use crate::store::{Store, StoreError};
use polars::prelude::*;
use std::path::PathBuf;

/// Why the stores named could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum StoreSetError {
    #[error("--store {pattern:?}: not a valid glob: {error}")]
    BadGlob { pattern: String, error: String },
    #[error(
        "--store {pattern:?} matches no store (no directory it names holds a manifest.json): import into one first, or point --store (or TRACES_STORE) elsewhere"
    )]
    NoMatch { pattern: String },
    #[error(
        "{command} writes into one store, and --store (or TRACES_STORE) names {}: {}; give one --store",
        .roots.len(), .roots.join(", ")
    )]
    SeveralForWrite {
        command: &'static str,
        roots: Vec<String>,
    },
}

/// The stores a command reads, in the order named: the first holding a span is the one
/// whose copy counts when two stores say different things about it.
#[derive(Debug, Clone)]
pub struct StoreSet {
    stores: Vec<Store>,
}

/// Whether a `--store` value is a pattern rather than a path.
fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl StoreSet {
    pub fn one(store: Store) -> StoreSet {
        StoreSet {
            stores: vec![store],
        }
    }

    /// The stores `values` name: each a directory, or a glob expanded to the stores it
    /// matches (directories with a manifest, in sorted order). A glob matching none is
    /// an error; a directory given as it is may be a store no import has made yet (the
    /// first import makes it; a report says there is none). A store named twice is
    /// read once.
    pub fn resolve(values: &[PathBuf]) -> Result<StoreSet, StoreSetError> {
        let mut stores: Vec<Store> = Vec::new();
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut add = |p: PathBuf| {
            let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if !seen.contains(&key) {
                seen.push(key);
                stores.push(Store::at(p));
            }
        };
        for v in values {
            let text = v.to_string_lossy();
            if !is_glob(&text) {
                add(v.clone());
                continue;
            }
            let bad = |e: String| StoreSetError::BadGlob {
                pattern: text.to_string(),
                error: e,
            };
            let mut found: Vec<PathBuf> = glob::glob(&text)
                .map_err(|e| bad(e.to_string()))?
                .filter_map(Result::ok)
                .filter(|p| Store::at(p).exists())
                .collect();
            if found.is_empty() {
                return Err(StoreSetError::NoMatch {
                    pattern: text.to_string(),
                });
            }
            found.sort();
            found.into_iter().for_each(&mut add);
        }
        Ok(StoreSet { stores })
    }

    pub fn stores(&self) -> &[Store] {
        &self.stores
    }

    /// The one store a command that writes may write to.
    pub fn single(&self, command: &'static str) -> Result<&Store, StoreSetError> {
        match self.stores.as_slice() {
            [one] => Ok(one),
            many => Err(StoreSetError::SeveralForWrite {
                command,
                roots: many
                    .iter()
                    .map(|s| s.root().display().to_string())
                    .collect(),
            }),
        }
    }

    /// The first store named that no import has made.
    pub fn missing(&self) -> Option<&Store> {
        self.stores.iter().find(|s| !s.exists())
    }

    /// The stores' directories, as a message lists them.
    pub fn roots(&self) -> String {
        self.stores
            .iter()
            .map(|s| s.root().display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The stores as an error message names them.
    pub fn place(&self) -> String {
        match self.stores.len() {
            1 => format!("the store at {}", self.roots()),
            _ => format!("the stores at {}", self.roots()),
        }
    }

    /// The traces that more than one store holds spans of: their calls and rows are
    /// worked out from the union of their spans. Empty for one store, without a read.
    pub fn shared_traces(&self) -> Result<foldhash::HashSet<TraceId>, StoreError> {
        let mut shared = foldhash::HashSet::default();
        if self.stores.len() < 2 {
            return Ok(shared);
        }
        let mut first_in: foldhash::HashMap<TraceId, usize> = Default::default();
        for (i, store) in self.stores.iter().enumerate() {
            for t in trace_ids(store)? {
                if *first_in.entry(t).or_insert(i) != i {
                    shared.insert(t);
                }
            }
        }
        Ok(shared)
    }
}

/// Every trace a store holds spans of: from its traces tables, or from the spans of a
/// store written before they existed.
fn trace_ids(store: &Store) -> Result<foldhash::HashSet<TraceId>, StoreError> {
    if let Some(index) = store.span_ranges(None)? {
        return Ok(index
            .iter()
            .flat_map(|s| s.traces.iter().map(|t| t.trace_id))
            .collect());
    }
    let Some(spans) = store.scan_spans()? else {
        return Ok(Default::default());
    };
    let df = spans.select([col("trace_id")]).collect()?;
    Ok(df
        .column("trace_id")?
        .str()?
        .iter()
        .flatten()
        .filter_map(|t| TraceId::parse(t).ok())
        .collect())
}
