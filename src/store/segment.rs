//! One Parquet file being written in row groups, invisible until it is finished: it is
//! written under `tmp/`, synced, and only then renamed into place.

use polars::io::parquet::write::{BatchedWriter, KeyValueMetadata};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

pub struct SegmentWriter {
    tmp_path: PathBuf,
    /// A second handle on the file, to sync it once the Parquet writer is done with it.
    sync_handle: File,
    file: Option<File>,
    writer: Option<BatchedWriter<BufWriter<File>>>,
    footer: Option<KeyValueMetadata>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreIoError(pub String);

impl SegmentWriter {
    pub fn create(tmp_path: PathBuf) -> std::io::Result<Self> {
        let file = File::create(&tmp_path)?;
        let sync_handle = file.try_clone()?;
        Ok(SegmentWriter {
            tmp_path,
            sync_handle,
            file: Some(file),
            writer: None,
            footer: None,
        })
    }

    /// Puts `key`'s `value` in the file's footer.
    pub fn with_footer(mut self, key: &str, value: String) -> Self {
        self.footer = Some(KeyValueMetadata::from_static(vec![(
            key.to_string(),
            value,
        )]));
        self
    }

    pub fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        if df.height() == 0 {
            return Ok(());
        }
        if let Some(file) = self.file.take() {
            // Level 1: a store 4% larger than at the default level 3, and an import of
            // 2 GB about a second faster (compression ran on the import's critical path).
            // Buffered: the writer sends each field of a page header on its own, and a
            // 20k-trace import made 56,000 one-byte writes. Its `finish` flushes the
            // buffer and reports what that failed to write.
            let w = ParquetWriter::new(BufWriter::with_capacity(1 << 20, file))
                .with_compression(ParquetCompression::Zstd(
                    polars::polars_utils::compression::ZstdLevel::try_new(1).ok(),
                ))
                .with_statistics(StatisticsOptions::full())
                .with_key_value_metadata(self.footer.take())
                .batched(df.schema())?;
            self.writer = Some(w);
        }
        if let Some(w) = &mut self.writer {
            w.write_batch(df)?;
        }
        Ok(())
    }

    /// Finishes the file and moves it to `dest`. Nothing is moved when no row was written.
    pub fn finish(mut self, dest: &Path) -> Result<bool, StoreIoError> {
        let Some(w) = self.writer.take() else {
            return Ok(false);
        };
        w.finish()
            .map_err(|e| StoreIoError(format!("cannot write {}: {e}", self.tmp_path.display())))?;
        drop(w);
        let io = |e: std::io::Error| StoreIoError(format!("cannot write {}: {e}", dest.display()));
        self.sync_handle.sync_all().map_err(io)?;
        std::fs::rename(&self.tmp_path, dest).map_err(io)?;
        Ok(true)
    }
}

impl Drop for SegmentWriter {
    fn drop(&mut self) {
        // After a successful finish the file was renamed away and this removes nothing;
        // after a failure it removes the partial file.
        let _ = std::fs::remove_file(&self.tmp_path);
    }
}

/// A table's files of one import, one per UTC day, written on a thread of their own:
/// compressing and writing one row group overlaps with decoding and preparing the next.
pub struct DayWriters {
    tx: Option<SyncSender<(i32, DataFrame)>>,
    thread: Option<JoinHandle<Written>>,
}

/// Each day's file, and the first error met.
type Written = (BTreeMap<i32, SegmentWriter>, PolarsResult<()>);

impl DayWriters {
    /// Day `d`'s rows go to `tmp/{table}-{id}-{d}.parquet` until they are finished.
    pub fn spawn(tmp: PathBuf, table: &'static str, id: u64) -> Self {
        // One row group queued while one is written: memory stays at two of them.
        let (tx, rx) = sync_channel::<(i32, DataFrame)>(1);
        let thread = std::thread::spawn(move || {
            let mut writers: BTreeMap<i32, SegmentWriter> = BTreeMap::new();
            let mut result = Ok(());
            for (day, df) in rx {
                if result.is_err() {
                    continue;
                }
                let w = match writers.entry(day) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        match SegmentWriter::create(
                            tmp.join(format!("{table}-{id:06}-{day}.parquet")),
                        ) {
                            Ok(w) => e.insert(w),
                            Err(err) => {
                                result = Err(err.into());
                                continue;
                            }
                        }
                    }
                };
                result = w.write(&df);
            }
            (writers, result)
        });
        DayWriters {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Queues day `day`'s rows; a write error is reported by `finish`.
    pub fn write(&mut self, day: i32, df: DataFrame) {
        if let Some(tx) = &self.tx {
            // Fails only when the thread has ended, which `finish` reports.
            let _ = tx.send((day, df));
        }
    }

    /// Waits for every queued row group to be written; each day's file is then
    /// finished by its returned writer.
    pub fn finish(mut self) -> Result<BTreeMap<i32, SegmentWriter>, String> {
        self.tx = None;
        let (writers, result) = self
            .thread
            .take()
            .ok_or_else(|| "the writer thread is gone".to_string())?
            .join()
            .map_err(|_| "the writer thread stopped".to_string())?;
        result.map_err(|e| e.to_string())?;
        Ok(writers)
    }
}

impl Drop for DayWriters {
    fn drop(&mut self) {
        // An import dropped without commit: the thread ends and its writers remove
        // their partial files before the process can go on.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
