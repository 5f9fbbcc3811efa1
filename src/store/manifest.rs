//! The manifest: which segments make up the store. Segments not named here (left by a
//! crash between writing a segment and committing it) are not part of the store, and
//! the next import removes them.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

/// 2: segments by UTC day (`Segment::day`), the segments of one import grouped by
/// `Segment::import`. A release that reads 1 only would take each day of an import for
/// an import of its own and count a trace's calls from one day of it, so it is refused.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    pub id: u64,
    /// The UTC day (`YYYY-MM-DD`) of every row of its files (see `layout`); absent in a
    /// segment of format 1, whose files hold any days and sit beside each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// The import these rows came from, shared by the segments of its days (the
    /// segments of one import are consecutive): a trace's calls count from the newest
    /// import that touched it. Absent: the segment is an import of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<u64>,
    /// Relative to the store root; absent when the import added no spans.
    pub spans_file: Option<String>,
    pub logs_file: Option<String>,
    /// The counted model calls of every trace this import touched (see
    /// `analysis::calls_view`); absent in stores written before it existed, or when the
    /// import stopped between committing spans and writing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_file: Option<String>,
    /// One row per trace of the spans file (see `trace_index`); absent in stores
    /// written before it existed, whose traces are then found by reading the spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces_file: Option<String>,
    pub spans: u64,
    pub logs: u64,
    /// RFC 3339, UTC.
    pub imported_at: String,
    pub sources: Vec<String>,
}

impl Segment {
    pub fn import_id(&self) -> u64 {
        self.import.unwrap_or(self.id)
    }

    /// The files it names, relative to the store root.
    pub fn files(&self) -> impl Iterator<Item = &String> {
        [
            &self.spans_file,
            &self.logs_file,
            &self.calls_file,
            &self.traces_file,
        ]
        .into_iter()
        .flatten()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid store manifest: {source}")]
    Corrupt {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path} was written by a newer version of traces (format {found}, this one reads {FORMAT_VERSION})"
    )]
    TooNew { path: String, found: u32 },
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let p = path.display().to_string();
        let text = match fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Manifest {
                    format_version: FORMAT_VERSION,
                    segments: Vec::new(),
                });
            }
            Err(source) => return Err(ManifestError::Io { path: p, source }),
        };
        let m: Manifest =
            serde_json::from_slice(&text).map_err(|source| ManifestError::Corrupt {
                path: p.clone(),
                source,
            })?;
        if m.format_version > FORMAT_VERSION {
            return Err(ManifestError::TooNew {
                path: p,
                found: m.format_version,
            });
        }
        Ok(m)
    }

    /// Replaces the manifest atomically: a reader sees the old one or the new one.
    pub fn save(&self, path: &Path, tmp_dir: &Path) -> std::io::Result<()> {
        let tmp = tmp_dir.join(format!("manifest.{}.json", std::process::id()));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            super::sync_dir(dir)?;
        }
        Ok(())
    }

    /// The segments of each import, oldest first: consecutive segments of one import.
    pub fn imports(&self) -> Vec<&[Segment]> {
        self.segments
            .chunk_by(|a, b| a.import_id() == b.import_id())
            .collect()
    }

    /// Whether a segment keeps the layout of format 1, all days in one file.
    pub fn has_flat_segments(&self) -> bool {
        self.segments.iter().any(|s| s.day.is_none())
    }

    pub fn next_id(&self) -> u64 {
        self.segments.iter().map(|s| s.id).max().unwrap_or(0) + 1
    }
}
