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
            Input::File(p) | Input::DirEntry(p) => {
                let file = fs::File::open(p).map_err(|e| io_error(p, e))?;
                let meta = file.metadata().map_err(|e| io_error(p, e))?;
                Ok(if meta.is_file() {
                    Box::new(WholeFile {
                        file,
                        expected: meta.len(),
                        read: 0,
                    })
                } else {
                    // A FIFO or a device has no length to hold it to.
                    Box::new(file)
                })
            }
        }
    }
}

/// A regular file read to its end. Fewer bytes than it had when it was opened means it
/// was cut while being read (a collector rotating it, a copy overwriting it): what was
/// read is not the dump, and would import as a shorter one without a word, since a cut
/// at a line's end leaves valid JSON lines. So it is an error. A file that grows (still
/// being written) is read as far as it goes.
struct WholeFile {
    file: fs::File,
    expected: u64,
    read: u64,
}

impl Read for WholeFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        if n == 0 && !buf.is_empty() && self.read < self.expected {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the file shrank while it was read: {} bytes when it was opened, {} at its end; nothing of it is imported",
                    self.expected, self.read
                ),
            ));
        }
        Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_cut_while_it_is_read_is_an_error_and_one_that_grows_is_read_on() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dump.jsonl");
        fs::write(&p, vec![b'x'; 10_000]).unwrap();
        let mut r = Input::File(p.clone()).open().unwrap();
        let mut head = vec![0u8; 4_000];
        r.read_exact(&mut head).unwrap();
        let f = fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(6_000).unwrap();
        let mut rest = Vec::new();
        let e = r.read_to_end(&mut rest).unwrap_err();
        assert_eq!(rest.len(), 2_000);
        assert!(
            e.to_string()
                .contains("10000 bytes when it was opened, 6000 at its end"),
            "{e}"
        );

        let mut r = Input::File(p.clone()).open().unwrap();
        r.read_exact(&mut head).unwrap();
        let mut f = fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"yy").unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(rest.len(), 2_002);
    }
}
