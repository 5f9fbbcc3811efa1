//! The manifest: which segments make up the store. Segments not named here (left by a
//! crash between writing a segment and committing it) are not part of the store, and
//! the next import removes them.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    pub id: u64,
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

    pub fn next_id(&self) -> u64 {
        self.segments.iter().map(|s| s.id).max().unwrap_or(0) + 1
    }
}
