//! Errors of the ingest layer, each saying which file and where in it.

use std::fmt;
use std::path::PathBuf;

/// A position in an input, as precise as its format allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// JSON: 1-based line and column.
    Line { line: u64, column: u64 },
    /// Binary formats: offset of the message that failed, in decompressed bytes.
    Byte(u64),
    /// The file as a whole.
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { line, column } if *column > 0 => {
                write!(f, "line {line}, column {column}")
            }
            Location::Line { line, .. } => write!(f, "line {line}"),
            Location::Byte(b) => write!(f, "byte {b}"),
            Location::File => f.write_str("whole file"),
        }
    }
}

/// One record that could not be read: what `--skip-invalid` lists, and what a strict
/// import stops at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub file: String,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.location, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Invalid(Invalid),
    /// No known format starts with these bytes.
    #[error("{0}")]
    UnknownFormat(Invalid),
    // `error`, not `source`: the message says it, and a chain must not say it twice.
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("no such file or directory: {0}")]
    NotFound(PathBuf),
}

impl IngestError {
    /// An input this user may not read: theirs to fix (permissions), not a fault.
    pub fn is_denied(&self) -> bool {
        matches!(self, IngestError::Io { error, .. } if error.kind() == std::io::ErrorKind::PermissionDenied)
    }

    pub fn invalid(file: &str, location: Location, message: impl Into<String>) -> Self {
        IngestError::Invalid(Invalid {
            file: file.to_string(),
            location,
            message: message.into(),
        })
    }
}
