//! Received bodies, durable before they are acknowledged. Each is appended as one frame
//! (4-byte big-endian length, then the body) to the current generation's file in the
//! store's `tmp/received/`: the Collector's length-prefixed protobuf file, which the
//! import reads as it is (its frames may be protobuf or JSON). The frame is fsynced
//! before the request is answered, so an answered request survives a kill; a commit
//! closes the generation and imports it, and only then removes it.
//!
//! Each receiver holds a lock file while it runs. A generation whose owner's lock is
//! free was left by a receiver that died: the next receiver adopts it, cutting a frame
//! cut off by the crash (never answered) from its end.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct SpoolError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn at(path: &Path) -> impl Fn(io::Error) -> SpoolError + '_ {
    move |source| SpoolError {
        path: path.to_path_buf(),
        source,
    }
}

pub struct Spool {
    dir: PathBuf,
    owner: String,
    _lock: File,
    current: Mutex<Current>,
}

#[derive(Default)]
struct Current {
    generation: u64,
    file: Option<File>,
    frames: u64,
    bytes: u64,
}

/// The largest body a frame holds.
pub const MAX_FRAME: u64 = u32::MAX as u64;

impl Spool {
    /// Opens this process's spool under `store_root`, adopting what dead receivers left.
    pub fn open(store_root: &Path) -> Result<Spool, SpoolError> {
        let dir = store_root.join("tmp").join("received");
        fs::create_dir_all(&dir).map_err(at(&dir))?;
        // The pid names the owner; the time tells apart a pid the system reused.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let owner = format!("{}-{nanos}", std::process::id());
        let lock_path = dir.join(format!("{owner}.lock"));
        let lock = File::create(&lock_path).map_err(at(&lock_path))?;
        lock.lock().map_err(at(&lock_path))?;
        let spool = Spool {
            dir,
            owner,
            _lock: lock,
            current: Mutex::new(Current::default()),
        };
        spool.adopt_abandoned()?;
        Ok(spool)
    }

    fn generation_path(&self, generation: u64) -> PathBuf {
        self.dir
            .join(format!("{}-{generation:06}.binpb", self.owner))
    }

    /// Appends one body and makes it durable. Bodies over `MAX_FRAME` are refused by the
    /// receiver before they get here.
    pub fn append(&self, body: &[u8]) -> Result<(), SpoolError> {
        let len = u32::try_from(body.len()).map_err(|_| SpoolError {
            path: self.dir.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "body over 4 GiB"),
        })?;
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if cur.file.is_none() {
            cur.generation += 1;
            let path = self.generation_path(cur.generation);
            let f = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(at(&path))?;
            // The new name must survive a crash too.
            sync_dir(&self.dir)?;
            cur.file = Some(f);
            cur.frames = 0;
            cur.bytes = 0;
        }
        let path = self.generation_path(cur.generation);
        let before = cur.bytes;
        let written = {
            let f = cur.file.as_mut().expect("opened above");
            f.write_all(&len.to_be_bytes())
                .and_then(|()| f.write_all(body))
                .and_then(|()| f.sync_data())
        };
        if let Err(e) = written {
            // A frame half written would make the rest unreadable: cut it off.
            if let Some(f) = cur.file.as_ref() {
                let _ = f.set_len(before);
            }
            return Err(at(&path)(e));
        }
        cur.frames += 1;
        cur.bytes = before + 4 + u64::from(len);
        Ok(())
    }

    /// Closes the current generation and returns every generation of this spool not yet
    /// committed, oldest first: the caller imports them, then calls `committed`.
    pub fn rotate(&self) -> Result<Vec<PathBuf>, SpoolError> {
        // Appends after this go to a later generation, which this commit leaves alone.
        let closed = {
            let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
            cur.file = None;
            cur.generation
        };
        let prefix = format!("{}-", self.owner);
        let mut out: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map_err(at(&self.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_prefix(&prefix)?.strip_suffix(".binpb"))
                    .and_then(|g| g.parse::<u64>().ok())
                    .is_some_and(|g| g <= closed)
            })
            .collect();
        out.sort();
        // An empty generation (a crash between creating and writing) holds nothing.
        out.retain(|p| match fs::metadata(p) {
            Ok(m) if m.len() == 0 => fs::remove_file(p).is_err(),
            _ => true,
        });
        Ok(out)
    }

    /// Removes generations that are now in the store.
    pub fn committed(&self, files: &[PathBuf]) -> Result<(), SpoolError> {
        for f in files {
            fs::remove_file(f).map_err(at(f))?;
        }
        sync_dir(&self.dir)
    }

    /// Takes over the generations of receivers that died, as this one's own.
    fn adopt_abandoned(&self) -> Result<(), SpoolError> {
        let mut adopted = 0u64;
        let entries: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map_err(at(&self.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let mine = format!("{}.lock", self.owner);
        for lock_path in entries.iter().filter(|p| {
            p.extension().is_some_and(|e| e == "lock")
                && p.file_name().is_some_and(|n| n.to_str() != Some(&mine))
        }) {
            let Ok(lock) = File::open(lock_path) else {
                continue;
            };
            // Held: its receiver is alive and owns its files.
            if lock.try_lock().is_err() {
                continue;
            }
            let owner = lock_path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let mut theirs: Vec<&PathBuf> = entries
                .iter()
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "binpb")
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&format!("{owner}-")))
                })
                .collect();
            theirs.sort();
            for f in theirs {
                cut_partial_frame(f)?;
                adopted += 1;
                let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
                cur.generation += 1;
                let to = self.generation_path(cur.generation);
                fs::rename(f, &to).map_err(at(f))?;
            }
            fs::remove_file(lock_path).map_err(at(lock_path))?;
        }
        if adopted > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // Nothing uncommitted left: the lock file has no more use. With generations
        // left, it stays free for the next receiver to find them.
        if self.rotate().is_ok_and(|left| left.is_empty()) {
            let _ = fs::remove_file(self.dir.join(format!("{}.lock", self.owner)));
        }
    }
}

/// Truncates `path` after its last whole frame.
fn cut_partial_frame(path: &Path) -> Result<(), SpoolError> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(at(path))?;
    let size = f.metadata().map_err(at(path))?.len();
    let mut whole = 0u64;
    let mut len = [0u8; 4];
    let mut r = io::BufReader::new(&mut f);
    loop {
        if whole + 4 > size || r.read_exact(&mut len).is_err() {
            break;
        }
        let next = whole + 4 + u64::from(u32::from_be_bytes(len));
        if next > size {
            break;
        }
        if io::copy(&mut (&mut r).take(next - whole - 4), &mut io::sink()).map_err(at(path))?
            != next - whole - 4
        {
            break;
        }
        whole = next;
    }
    drop(r);
    if whole < size {
        f.set_len(whole).map_err(at(path))?;
        f.sync_all().map_err(at(path))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(path: &Path) -> Vec<Vec<u8>> {
        let bytes = fs::read(path).unwrap();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let n = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
            out.push(bytes[i + 4..i + 4 + n].to_vec());
            i += 4 + n;
        }
        out
    }

    #[test]
    fn bodies_come_back_framed_in_order_and_generations_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let s = Spool::open(dir.path()).unwrap();
        s.append(b"one").unwrap();
        s.append(b"two!").unwrap();
        let first = s.rotate().unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(frames(&first[0]), [b"one".to_vec(), b"two!".to_vec()]);
        s.append(b"three").unwrap();
        let both = s.rotate().unwrap();
        assert_eq!(both.len(), 2, "{both:?}");
        s.committed(&both).unwrap();
        assert!(s.rotate().unwrap().is_empty());
    }

    #[test]
    fn a_dead_receivers_generations_are_adopted_without_their_cut_off_frame() {
        let dir = tempfile::tempdir().unwrap();
        let received = dir.path().join("tmp").join("received");
        fs::create_dir_all(&received).unwrap();
        // As a receiver killed mid-append leaves it: a free lock, a whole frame, then
        // a frame cut off.
        File::create(received.join("1-5.lock")).unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&3u32.to_be_bytes());
        bytes.extend_from_slice(b"abc");
        bytes.extend_from_slice(&10u32.to_be_bytes());
        bytes.extend_from_slice(b"cut");
        fs::write(received.join("1-5-000001.binpb"), &bytes).unwrap();
        // A live receiver's files are not taken.
        let live = File::create(received.join("2-5.lock")).unwrap();
        live.lock().unwrap();
        fs::write(received.join("2-5-000001.binpb"), b"\0\0\0\x01x").unwrap();

        let s = Spool::open(dir.path()).unwrap();
        let mine = s.rotate().unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(frames(&mine[0]), [b"abc".to_vec()]);
        assert!(!received.join("1-5.lock").exists());
        assert!(received.join("2-5-000001.binpb").exists());
    }
}
