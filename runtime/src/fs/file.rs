//! `File` and `OpenOptions`: a std file driven from the blocking pool, with one buffer.
//!
//! ## The buffer
//! A `File` owns one buffer, which at any time holds either bytes read ahead (`Mode::Read`:
//! `bytes[pos..]` are the next bytes of the file, already read from the OS) or bytes
//! written but not yet handed to the OS (`Mode::Write`: all of `bytes`). The OS file
//! position is therefore *ahead* of the caller's by the unread bytes, or *behind* it by the
//! pending ones; every operation that needs the two to agree settles that first:
//! - a write after a read first seeks the OS back over the unread bytes and drops them;
//! - a read, seek, `set_len`, `sync_*` after a write first writes the pending bytes;
//! - a seek relative to the current position subtracts the unread bytes.
//!
//! ## Pool trips
//! A read that finds the buffer empty fetches up to 64 KiB (or the caller's buffer size,
//! if larger, up to 2 MiB) in one trip; writes gather in the buffer and go out in one trip
//! when it fills or on `flush`. So a loop of small reads or writes costs one trip per
//! buffer. At most one operation is in flight; while it is, the buffer travels with it
//! (`State::Busy`), so no lock is needed.
//!
//! ## Writes are never lost
//! A write that `poll_write` accepted lands in the file even if the `File` is then dropped
//! without `flush`: the drop hands the pending bytes to the pool. Each trip that writes
//! carries a guard that, if the pool drops the call without running it (runtime shutdown),
//! writes the bytes on the dropping thread instead. A failed write is reported by the next
//! `write` or `flush` (or `poll_read`/`seek` moving past it: see `last_write_err`).

use super::{join, with_path};
use crate::scheduler;
use crate::task::Task;
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// The usual buffer size: a read fetches this much, writes gather until this much.
const BUF_SIZE: usize = 64 * 1024;

/// The largest read one trip makes for a large caller buffer.
const MAX_READ: usize = 2 * 1024 * 1024;

/// An open file (`std::fs::File`, asyncio's `to_thread` around one, AnyIO's `AsyncFile`).
///
/// Reads and writes are buffered (see the module docs of `arbor::fs`): call
/// [`flush`](File::flush) before expecting another reader to see written bytes; dropping a
/// `File` unflushed still writes them, in the background. `File` implements
/// `futures_io::{AsyncRead, AsyncWrite, AsyncSeek}` and has the inherent async methods
/// below.
///
/// ```
/// use arbor_runtime::fs::File;
/// use std::io::SeekFrom;
///
/// arbor_runtime::run(async {
///     let path = std::env::temp_dir().join(format!("arbor-file-doc-{}", std::process::id()));
///     let mut file = File::create(&path).await?;
///     for i in 0..1000 {
///         file.write_all(format!("{i}\n").as_bytes()).await?; // gathered: a few pool trips
///     }
///     file.flush().await?;
///
///     let mut file = File::open(&path).await?;
///     let mut line = [0u8; 2];
///     file.read_exact(&mut line).await?;
///     assert_eq!(&line, b"0\n");
///     file.seek(SeekFrom::Start(4)).await?;
///     file.read_exact(&mut line).await?;
///     assert_eq!(&line, b"2\n");
///     arbor_runtime::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    /// The runtime whose blocking pool runs this file's operations.
    handle: scheduler::Handle,
    state: State,
    /// The error of a write that failed in the background, for the next `write`/`flush`.
    last_write_err: Option<io::Error>,
    /// Whether the trip in flight is a seek that `AsyncSeek::poll_seek` started.
    seek_started: bool,
}

enum State {
    Idle(Buf),
    Busy(Task<(Op, Buf)>),
}

/// The buffer (see the module docs).
#[derive(Default)]
struct Buf {
    bytes: Vec<u8>,
    /// In `Mode::Read`, the first unread byte.
    pos: usize,
    mode: Mode,
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    #[default]
    Empty,
    Read,
    Write,
}

impl Buf {
    fn unread(&self) -> usize {
        match self.mode {
            Mode::Read => self.bytes.len() - self.pos,
            _ => 0,
        }
    }

    fn pending(&self) -> bool {
        self.mode == Mode::Write && !self.bytes.is_empty()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.pos = 0;
        self.mode = Mode::Empty;
    }
}

/// What a trip to the pool did.
enum Op {
    Read(io::Result<()>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

/// The bytes of one write trip: written by the trip, or, if the pool drops the call
/// unrun (shutdown), by its drop.
struct PendingWrite {
    std: Arc<std::fs::File>,
    buf: Option<Buf>,
}

impl PendingWrite {
    fn run(mut self) -> (Op, Buf) {
        let mut buf = self.buf.take().expect("run once");
        let result = (&*self.std).write_all(&buf.bytes);
        buf.clear();
        (Op::Write(result), buf)
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            // The pool dropped the call without running it: write here, so the bytes a
            // caller was told were accepted still land.
            let _ = (&*self.std).write_all(&buf.bytes);
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("busy", &matches!(self.state, State::Busy(_)))
            .finish_non_exhaustive()
    }
}

impl File {
    /// Opens a file for reading (`std::fs::File::open`).
    ///
    /// # Errors
    /// As `std::fs::File::open`, with the path in the message.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating or truncating it (`std::fs::File::create`).
    ///
    /// # Errors
    /// As `std::fs::File::create`, with the path in the message.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Options for opening a file (`std::fs::File::options`).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. The file's position is where the `File` starts.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(std: std::fs::File) -> File {
        let handle = crate::context::with_handle(|h| h.cloned())
            .unwrap_or_else(|| crate::runtime::panic_no_runtime("arbor::fs::File::from_std"));
        File::new(std, handle)
    }

    fn new(std: std::fs::File, handle: scheduler::Handle) -> File {
        File {
            std: Arc::new(std),
            handle,
            state: State::Idle(Buf::default()),
            last_write_err: None,
            seek_started: false,
        }
    }

    /// Reads into `buf`; `Ok(0)` at the end of the file (or for an empty `buf`).
    ///
    /// # Errors
    /// As `std::io::Read::read`.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_inner(cx, buf)).await
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    /// `UnexpectedEof` if the file ends first; otherwise as `read`.
    pub async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    /// Reads to the end of the file, appending to `out`; returns the bytes read.
    ///
    /// # Errors
    /// As `read`.
    pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let start = out.len();
        let mut chunk = vec![0; BUF_SIZE];
        loop {
            match self.read(&mut chunk).await? {
                0 => return Ok(out.len() - start),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads to the end of the file as UTF-8, appending to `out`.
    ///
    /// # Errors
    /// `InvalidData` if the bytes are not UTF-8 (then `out` is unchanged); otherwise as `read`.
    pub async fn read_to_string(&mut self, out: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        let n = self.read_to_end(&mut bytes).await?;
        let text =
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        out.push_str(&text);
        Ok(n)
    }

    /// Writes some of `buf` (into the buffer; see the type's docs); returns how much.
    ///
    /// # Errors
    /// A background write that failed since the last `write`/`flush`.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_inner(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// As `write`; `WriteZero` if nothing can be written.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Waits until every written byte has been handed to the OS (then `std::fs::read` sees
    /// them); reports a write that failed.
    ///
    /// # Errors
    /// The error of a write since the last `flush`.
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Moves the position (`std::io::Seek::seek`); returns the new position from the start.
    ///
    /// # Errors
    /// As `std::io::Seek::seek` (a negative position is `InvalidInput`), or a pending
    /// write's error.
    pub async fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let mut started = false;
        poll_fn(|cx| self.poll_seek_inner(cx, pos, &mut started)).await
    }

    /// Flushes, then asks the OS to put data and metadata on the disk (`sync_all`).
    ///
    /// # Errors
    /// As `std::fs::File::sync_all`, or a pending write's error.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.flush().await?;
        let std = self.std.clone();
        self.blocking(move || std.sync_all()).await
    }

    /// Flushes, then asks the OS to put the data on the disk (`sync_data`).
    ///
    /// # Errors
    /// As `std::fs::File::sync_data`, or a pending write's error.
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.flush().await?;
        let std = self.std.clone();
        self.blocking(move || std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes (`set_len`); the position is unchanged.
    ///
    /// # Errors
    /// As `std::fs::File::set_len`, or a pending write's error.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        // Settle the position first: pending writes out, read-ahead given back.
        self.seek(SeekFrom::Current(0)).await?;
        let std = self.std.clone();
        self.blocking(move || std.set_len(size)).await
    }

    /// The file's metadata (`std::fs::File::metadata`); the size does not count bytes
    /// still in the buffer.
    ///
    /// # Errors
    /// As `std::fs::File::metadata`.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        self.blocking(move || std.metadata()).await
    }

    /// Sets the file's permissions (`std::fs::File::set_permissions`).
    ///
    /// # Errors
    /// As `std::fs::File::set_permissions`.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        self.blocking(move || std.set_permissions(perm)).await
    }

    /// The std file, after flushing and giving back read-ahead (its position is the
    /// caller's).
    ///
    /// # Errors
    /// A pending write's error; or `Other` if a clone of the file is still in use by an
    /// operation (none is after this call's own flush).
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        self.seek(SeekFrom::Current(0)).await?;
        let std = self.std.clone();
        drop(self);
        Arc::try_unwrap(std).map_err(|_| io::Error::other("the file is still in use"))
    }

    /// Runs `f` on this file's runtime's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        join(self.handle.blocking_spawner().spawn(f).await)
    }

    /// Starts a write trip for the buffer's pending bytes.
    fn start_write(&mut self, buf: Buf) {
        let pending = PendingWrite {
            std: self.std.clone(),
            buf: Some(buf),
        };
        self.state = State::Busy(self.handle.blocking_spawner().spawn(move || pending.run()));
    }

    /// Starts a seek trip.
    fn start_seek(&mut self, mut buf: Buf, pos: SeekFrom) {
        let std = self.std.clone();
        buf.clear();
        self.state = State::Busy(
            self.handle
                .blocking_spawner()
                .spawn(move || (Op::Seek((&*std).seek(pos)), buf)),
        );
    }

    /// Waits for the trip in flight, if any; returns what it did (`None` if none was).
    /// A write's error is kept for the next `write`/`flush`.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Option<Op>> {
        let State::Busy(task) = &mut self.state else {
            return Poll::Ready(None);
        };
        let (op, buf) = match ready!(Pin::new(task).poll(cx)) {
            Ok(done) => done,
            Err(err) => match err.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                // The pool dropped the trip (shutdown); the buffer went with it.
                Err(_) => (
                    Op::Write(Err(io::Error::other(
                        "the arbor runtime shut down during a file operation",
                    ))),
                    Buf::default(),
                ),
            },
        };
        self.state = State::Idle(buf);
        if let Op::Write(Err(e)) = op {
            self.last_write_err = Some(e);
            return Poll::Ready(Some(Op::Write(Ok(()))));
        }
        Poll::Ready(Some(op))
    }

    fn idle_buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(buf) => buf,
            State::Busy(_) => unreachable!("checked idle"),
        }
    }

    fn take_buf(&mut self) -> Buf {
        std::mem::take(self.idle_buf())
    }

    fn poll_read_inner(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if let Some(Op::Read(result)) = ready!(self.poll_idle(cx)) {
                result?;
                let buf = self.idle_buf();
                if buf.unread() == 0 {
                    buf.clear();
                    return Poll::Ready(Ok(0)); // end of file
                }
            }
            let buf = self.idle_buf();
            if buf.unread() > 0 {
                let n = dst.len().min(buf.unread());
                dst[..n].copy_from_slice(&buf.bytes[buf.pos..buf.pos + n]);
                buf.pos += n;
                return Poll::Ready(Ok(n));
            }
            if buf.pending() {
                let buf = self.take_buf();
                self.start_write(buf);
                continue;
            }
            // Empty: fetch a buffer's worth (more for a large caller buffer).
            let want = dst.len().clamp(BUF_SIZE, MAX_READ);
            let mut buf = self.take_buf();
            let std = self.std.clone();
            self.state = State::Busy(self.handle.blocking_spawner().spawn(move || {
                buf.bytes.clear();
                buf.bytes.resize(want, 0);
                buf.pos = 0;
                let result = loop {
                    match (&*std).read(&mut buf.bytes) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                match result {
                    Ok(n) => {
                        buf.bytes.truncate(n);
                        buf.mode = Mode::Read;
                        (Op::Read(Ok(())), buf)
                    }
                    Err(e) => {
                        buf.clear();
                        (Op::Read(Err(e)), buf)
                    }
                }
            }));
        }
    }

    fn poll_write_inner(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.poll_idle(cx));
            if let Some(e) = self.last_write_err.take() {
                return Poll::Ready(Err(e));
            }
            if src.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let buf = self.idle_buf();
            if buf.unread() > 0 {
                // The OS is ahead by the read-ahead: step back over it, then write.
                let back = -(buf.unread() as i64);
                let buf = self.take_buf();
                self.start_seek(buf, SeekFrom::Current(back));
                continue;
            }
            if buf.mode == Mode::Read {
                buf.clear();
            }
            if buf.bytes.len() < BUF_SIZE {
                let n = src.len().min(BUF_SIZE - buf.bytes.len());
                buf.bytes.extend_from_slice(&src[..n]);
                buf.mode = Mode::Write;
                if buf.bytes.len() == BUF_SIZE {
                    // Full: send it now, so the next write overlaps with it.
                    let buf = self.take_buf();
                    self.start_write(buf);
                }
                return Poll::Ready(Ok(n));
            }
            let buf = self.take_buf();
            self.start_write(buf);
        }
    }

    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx));
            if let Some(e) = self.last_write_err.take() {
                return Poll::Ready(Err(e));
            }
            if !self.idle_buf().pending() {
                return Poll::Ready(Ok(()));
            }
            let buf = self.take_buf();
            self.start_write(buf);
        }
    }

    /// `started`: whether this seek's own trip is the one in flight.
    fn poll_seek_inner(
        &mut self,
        cx: &mut Context<'_>,
        pos: SeekFrom,
        started: &mut bool,
    ) -> Poll<io::Result<u64>> {
        loop {
            let done = ready!(self.poll_idle(cx));
            if *started {
                if let Some(Op::Seek(result)) = done {
                    *started = false;
                    return Poll::Ready(result);
                }
            }
            if let Some(e) = self.last_write_err.take() {
                return Poll::Ready(Err(e));
            }
            let buf = self.idle_buf();
            if buf.pending() {
                let buf = self.take_buf();
                self.start_write(buf);
                continue;
            }
            let pos = match pos {
                // Relative to the caller's position, which is behind the OS's by the
                // read-ahead.
                SeekFrom::Current(n) => SeekFrom::Current(n - buf.unread() as i64),
                other => other,
            };
            let buf = self.take_buf();
            self.start_seek(buf, pos);
            *started = true;
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // Bytes accepted but not yet handed to the OS still land: one last write trip (a
        // trip in flight finishes on its own; its task is detached).
        if let State::Idle(buf) = &mut self.state
            && buf.pending()
        {
            let buf = std::mem::take(buf);
            let pending = PendingWrite {
                std: self.std.clone(),
                buf: Some(buf),
            };
            drop(
                self.handle
                    .blocking_spawner()
                    .spawn(move || drop(pending.run())),
            );
        }
    }
}

impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_inner(cx, buf)
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_inner(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_inner(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_inner(cx)
    }
}

impl futures_io::AsyncSeek for File {
    /// Seeks to `pos`. As `futures_io` asks, call it again with the same `pos` until it
    /// is ready; a seek abandoned half-way may still move the position.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        // A seek of ours in flight is one whose trip left the state `Busy` with an
        // `Op::Seek`; between polls we cannot tell it from another's, so track it here.
        let mut started = this.seek_started;
        let poll = this.poll_seek_inner(cx, pos, &mut started);
        this.seek_started = started;
        poll
    }
}

/// Options for opening a [`File`] (`std::fs::OpenOptions`): the same methods, and an
/// async [`open`](OpenOptions::open).
///
/// ```
/// use arbor_runtime::fs::OpenOptions;
///
/// arbor_runtime::run(async {
///     let path = std::env::temp_dir().join(format!("arbor-options-doc-{}", std::process::id()));
///     let mut log = OpenOptions::new().create(true).append(true).open(&path).await?;
///     log.write_all(b"line\n").await?;
///     log.flush().await?;
///     arbor_runtime::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    std: std::fs::OpenOptions,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// All options off (`std::fs::OpenOptions::new`).
    pub fn new() -> OpenOptions {
        OpenOptions {
            std: std::fs::OpenOptions::new(),
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.std.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.std.write(write);
        self
    }

    /// Open for appending: every write goes to the end.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.std.append(append);
        self
    }

    /// Truncate the file to 0 bytes when opening it.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.std.truncate(truncate);
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.std.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.std.create_new(create_new);
        self
    }

    /// The permission bits a created file gets (before the umask; Unix).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.std, mode);
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    /// As `std::fs::OpenOptions::open`, with the path in the message; "no runtime" outside
    /// a runtime.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let handle = crate::context::with_handle(|h| h.cloned())
            .ok_or_else(|| crate::io::no_runtime("arbor::fs::OpenOptions::open"))?;
        let (options, path) = (self.std.clone(), path.as_ref().to_owned());
        let std = join(
            handle
                .blocking_spawner()
                .spawn(move || {
                    options
                        .open(&path)
                        .map_err(|e| with_path(e, "open", &path, None))
                })
                .await,
        )?;
        Ok(File::new(std, handle))
    }
}
