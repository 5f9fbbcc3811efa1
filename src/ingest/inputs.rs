//! The inputs named on the command line: files, directories (walked recursively, in
//! sorted order) and `-` for standard input.

use super::error::IngestError;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
    /// A file found by walking a directory: one that is not a dump (a README, a script)
    /// is skipped with a warning rather than failing the import.
    DirEntry(PathBuf),
}

impl Input {
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) | Input::DirEntry(p) => p.display().to_string(),
        }
    }

    pub fn open(&self) -> Result<Box<dyn Read>, IngestError> {
        match self {
            Input::Stdin => Ok(Box::new(std::io::stdin())),
            Input::File(p) | Input::DirEntry(p) => fs::File::open(p)
                .map(|f| Box::new(f) as Box<dyn Read>)
                .map_err(|e| io_error(p, e)),
        }
    }
}

fn io_error(path: &Path, e: std::io::Error) -> IngestError {
    if e.kind() == std::io::ErrorKind::NotFound {
        IngestError::NotFound(path.to_path_buf())
    } else {
        IngestError::Io {
            path: path.to_path_buf(),
            error: e,
        }
    }
}

/// Expands directories into their files. Hidden entries (a leading dot) are skipped so
/// that importing `.` does not read the store or a `.git` folder back in.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, IngestError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let meta = fs::metadata(p).map_err(|e| io_error(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(Input::File(p.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> Result<(), IngestError> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| io_error(dir, e))?;
    entries.sort();
    for path in entries {
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        let meta = fs::metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file() {
            out.push(Input::DirEntry(path));
        }
    }
    Ok(())
}
