//! `read_dir`: a directory's entries as a `Stream`, fetched in batches on the blocking pool.

use super::{asyncify, join, with_path};
use crate::task::Task;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// Entries fetched per trip to the blocking pool.
const BATCH: usize = 128;

/// Opens a directory for listing (`std::fs::read_dir`, `os.scandir`).
///
/// # Errors
/// As `std::fs::read_dir` (`NotFound`, `NotADirectory`, `PermissionDenied`), with the path.
///
/// ```
/// use arbor_runtime::fs;
///
/// arbor_runtime::run(async {
///     let mut names = Vec::new();
///     let mut dir = fs::read_dir(env!("CARGO_MANIFEST_DIR")).await?;
///     while let Some(entry) = dir.next_entry().await? {
///         names.push(entry.file_name());
///     }
///     assert!(names.iter().any(|n| n == "Cargo.toml"));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify("arbor::fs::read_dir", move || {
        std::fs::read_dir(&path).map_err(|e| with_path(e, "read directory", &path, None))
    })
    .await?;
    Ok(ReadDir {
        ready: VecDeque::new(),
        state: State::Idle(Some(std)),
    })
}

/// A directory's entries (`std::fs::ReadDir`): [`next_entry`](ReadDir::next_entry), or
/// the `Stream` of `io::Result<DirEntry>`. Entries come in batches of 128 per pool trip,
/// in the order the OS lists them; `.` and `..` are left out.
#[derive(Debug)]
pub struct ReadDir {
    /// Fetched entries not yet handed out.
    ready: VecDeque<io::Result<DirEntry>>,
    state: State,
}

#[derive(Debug)]
enum State {
    /// The std iterator, between batches; `None` once it is exhausted.
    Idle(Option<std::fs::ReadDir>),
    /// A batch being fetched; it gives the iterator back unless it ran out.
    Busy(Task<io::Result<Batch>>),
}

/// One batch: its entries, and the iterator if more may follow.
type Batch = (VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>);

impl ReadDir {
    /// The next entry, `Ok(None)` at the end.
    ///
    /// # Errors
    /// An error reading the directory (the listing may go on after it).
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await.transpose()
    }

    /// Polls for the next entry; `Ready(None)` at the end.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<DirEntry>>> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Poll::Ready(Some(entry));
            }
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(None),
                State::Idle(std) => {
                    let mut std = std.take().expect("matched Some");
                    let Some(handle) = crate::context::with_handle(|h| h.cloned()) else {
                        self.state = State::Idle(Some(std));
                        let err = crate::io::no_runtime("arbor::fs::ReadDir::next_entry");
                        return Poll::Ready(Some(Err(err)));
                    };
                    self.state = State::Busy(handle.blocking_spawner().spawn(move || {
                        let mut batch = VecDeque::with_capacity(BATCH);
                        for _ in 0..BATCH {
                            match std.next() {
                                Some(entry) => batch.push_back(entry.map(DirEntry::new)),
                                None => return Ok((batch, None)),
                            }
                        }
                        Ok((batch, Some(std)))
                    }));
                }
                State::Busy(task) => {
                    let result = join(ready!(Pin::new(task).poll(cx)));
                    match result {
                        Ok((batch, std)) => {
                            self.ready = batch;
                            self.state = State::Idle(std);
                        }
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
        }
    }
}

impl futures_core::Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx)
    }
}

/// One entry of a [`ReadDir`] (`std::fs::DirEntry`). Its name and path are at hand; its
/// metadata and file type are fetched on the blocking pool.
#[derive(Debug, Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        DirEntry { std: Arc::new(std) }
    }

    /// The entry's full path: the directory's path joined with its name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a final symlink (`DirEntry::metadata`).
    ///
    /// # Errors
    /// As `std::fs::DirEntry::metadata`, with the path.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify("arbor::fs::DirEntry::metadata", move || {
            std.metadata()
                .map_err(|e| with_path(e, "read metadata of", &std.path(), None))
        })
        .await
    }

    /// The entry's file type, not following a symlink (`DirEntry::file_type`); on most
    /// systems this needs no extra syscall, but it may.
    ///
    /// # Errors
    /// As `std::fs::DirEntry::file_type`, with the path.
    pub async fn file_type(&self) -> io::Result<FileType> {
        let std = self.std.clone();
        asyncify("arbor::fs::DirEntry::file_type", move || {
            std.file_type()
                .map_err(|e| with_path(e, "read the file type of", &std.path(), None))
        })
        .await
    }
}
