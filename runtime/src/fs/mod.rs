//! Files (asyncio's `to_thread` around `open`, Trio's `trio.Path`, AnyIO's `open_file`).
//!
//! Operating systems offer no readiness for regular files, so every operation here runs on
//! the runtime's blocking pool, off the workers. The free functions mirror `std::fs` with
//! the same argument and result types; [`File`] buffers, so that a loop of small reads or
//! writes costs one pool trip per buffer (64 KiB), not per call.
//!
//! | Python | arbor |
//! |---|---|
//! | `await asyncio.to_thread(Path(p).read_bytes)` | `arbor::fs::read(p).await?` |
//! | `await trio.Path(p).write_text(s)` | `arbor::fs::write(p, s).await?` |
//! | `async with await anyio.open_file(p) as f: await f.read()` | `let mut f = File::open(p).await?; f.read_to_end(&mut v).await?` |
//! | `os.scandir(p)` | `let mut dir = read_dir(p).await?; while let Some(e) = dir.next_entry().await? { .. }` |
//!
//! Errors are `std::io::Error`s with the `std` kind (`NotFound`, `PermissionDenied`, ...),
//! and their message names the path (and the operation): `failed to open
//! `/etc/shadow`: Permission denied (os error 13)`. The OS error is the error's
//! [`source`](std::error::Error::source). Called outside a runtime, they fail with the
//! "no runtime" error instead of panicking.
//!
//! ```
//! use arbor_runtime::fs;
//!
//! arbor_runtime::run(async {
//!     let dir = std::env::temp_dir().join(format!("arbor-fs-doc-{}", std::process::id()));
//!     fs::create_dir_all(&dir).await?;
//!     let path = dir.join("hello.txt");
//!     fs::write(&path, "hello").await?;
//!     assert_eq!(fs::read_to_string(&path).await?, "hello");
//!     let err = fs::read(dir.join("missing")).await.unwrap_err();
//!     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
//!     assert!(err.to_string().contains("missing"));
//!     fs::remove_dir_all(&dir).await
//! })
//! .unwrap();
//! ```

mod file;
mod read_dir;

pub use file::{File, OpenOptions};
pub use read_dir::{DirEntry, ReadDir, read_dir};

use crate::context;
use std::error::Error as StdError;
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs `f` on the current runtime's blocking pool. `what` names the caller in the "no
/// runtime" error.
pub(crate) async fn asyncify<F, T>(what: &'static str, f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let handle = context::with_handle(|h| h.cloned()).ok_or_else(|| crate::io::no_runtime(what))?;
    let task = handle.blocking_spawner().spawn(f);
    join(task.await)
}

/// The result of a blocking call: a panic resumes in the caller; a call the runtime's
/// shutdown cancelled is an error.
pub(crate) fn join<T>(result: Result<io::Result<T>, crate::JoinError>) -> io::Result<T> {
    match result {
        Ok(result) => result,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(_) => Err(io::Error::other(
                "the arbor runtime shut down before the file operation ran",
            )),
        },
    }
}

/// An OS error with the operation and path(s) it concerned. Kept as the inner error of an
/// `io::Error` of the same kind; the OS error is its source.
struct PathError {
    op: &'static str,
    path: PathBuf,
    to: Option<PathBuf>,
    source: io::Error,
}

impl fmt::Debug for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PathError")
            .field("op", &self.op)
            .field("path", &self.path)
            .field("to", &self.to)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to {} `{}`", self.op, self.path.display())?;
        if let Some(to) = &self.to {
            write!(f, " to `{}`", to.display())?;
        }
        write!(f, ": {}", self.source)
    }
}

impl StdError for PathError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// `e`, with its message naming `op` and `path` (and `to`, for two-path operations).
pub(crate) fn with_path(
    e: io::Error,
    op: &'static str,
    path: &Path,
    to: Option<&Path>,
) -> io::Error {
    let kind = e.kind();
    io::Error::new(
        kind,
        PathError {
            op,
            path: path.to_owned(),
            to: to.map(Path::to_owned),
            source: e,
        },
    )
}

/// Runs the one-path std function `f` on the blocking pool, naming `op` and the path in
/// its error.
async fn on_path<T, F>(what: &'static str, op: &'static str, path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_owned();
    asyncify(what, move || {
        f(&path).map_err(|e| with_path(e, op, &path, None))
    })
    .await
}

/// Runs the two-path std function `f` on the blocking pool, naming both paths in its error.
async fn on_paths<T, F>(
    what: &'static str,
    op: &'static str,
    from: &Path,
    to: &Path,
    f: F,
) -> io::Result<T>
where
    F: FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (from, to) = (from.to_owned(), to.to_owned());
    asyncify(what, move || {
        f(&from, &to).map_err(|e| with_path(e, op, &from, Some(&to)))
    })
    .await
}

/// Reads a whole file (`std::fs::read`).
///
/// # Errors
/// As `std::fs::read`, with the path in the message; "no runtime" outside a runtime.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path("arbor::fs::read", "read", path.as_ref(), |p| {
        std::fs::read(p)
    })
    .await
}

/// Reads a whole file as UTF-8 (`std::fs::read_to_string`).
///
/// # Errors
/// As `std::fs::read_to_string` (`InvalidData` for bad UTF-8), with the path.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path("arbor::fs::read_to_string", "read", path.as_ref(), |p| {
        std::fs::read_to_string(p)
    })
    .await
}

/// Writes `contents` as the whole file, creating or truncating it (`std::fs::write`).
///
/// # Errors
/// As `std::fs::write`, with the path.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_path("arbor::fs::write", "write", path.as_ref(), move |p| {
        std::fs::write(p, contents)
    })
    .await
}

/// Copies a file's contents and permissions; returns the bytes copied (`std::fs::copy`).
///
/// # Errors
/// As `std::fs::copy`, naming both paths.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_paths(
        "arbor::fs::copy",
        "copy",
        from.as_ref(),
        to.as_ref(),
        |f, t| std::fs::copy(f, t),
    )
    .await
}

/// Renames a file or directory, replacing `to` if it exists (`std::fs::rename`).
///
/// # Errors
/// As `std::fs::rename`, naming both paths.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "arbor::fs::rename",
        "rename",
        from.as_ref(),
        to.as_ref(),
        |f, t| std::fs::rename(f, t),
    )
    .await
}

/// Makes a hard link `link` to `original` (`std::fs::hard_link`).
///
/// # Errors
/// As `std::fs::hard_link`, naming both paths.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "arbor::fs::hard_link",
        "link",
        original.as_ref(),
        link.as_ref(),
        |o, l| std::fs::hard_link(o, l),
    )
    .await
}

/// Removes a file (`std::fs::remove_file`).
///
/// # Errors
/// As `std::fs::remove_file`, with the path.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "arbor::fs::remove_file",
        "remove file",
        path.as_ref(),
        |p| std::fs::remove_file(p),
    )
    .await
}

/// Removes an empty directory (`std::fs::remove_dir`).
///
/// # Errors
/// As `std::fs::remove_dir`, with the path.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "arbor::fs::remove_dir",
        "remove directory",
        path.as_ref(),
        |p| std::fs::remove_dir(p),
    )
    .await
}

/// Removes a directory and everything in it (`std::fs::remove_dir_all`).
///
/// # Errors
/// As `std::fs::remove_dir_all`, with the path.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "arbor::fs::remove_dir_all",
        "remove directory",
        path.as_ref(),
        |p| std::fs::remove_dir_all(p),
    )
    .await
}

/// Makes a directory (`std::fs::create_dir`).
///
/// # Errors
/// As `std::fs::create_dir` (`AlreadyExists`, a missing parent), with the path.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "arbor::fs::create_dir",
        "create directory",
        path.as_ref(),
        |p| std::fs::create_dir(p),
    )
    .await
}

/// Makes a directory and any missing parents (`std::fs::create_dir_all`).
///
/// # Errors
/// As `std::fs::create_dir_all`, with the path.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(
        "arbor::fs::create_dir_all",
        "create directory",
        path.as_ref(),
        |p| std::fs::create_dir_all(p),
    )
    .await
}

/// A path's metadata, following symlinks (`std::fs::metadata`).
///
/// # Errors
/// As `std::fs::metadata`, with the path.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(
        "arbor::fs::metadata",
        "read metadata of",
        path.as_ref(),
        |p| std::fs::metadata(p),
    )
    .await
}

/// A path's metadata, not following a final symlink (`std::fs::symlink_metadata`).
///
/// # Errors
/// As `std::fs::symlink_metadata`, with the path.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(
        "arbor::fs::symlink_metadata",
        "read metadata of",
        path.as_ref(),
        |p| std::fs::symlink_metadata(p),
    )
    .await
}

/// Whether `path` exists; `Err` when that cannot be told (`std::fs::exists`).
///
/// # Errors
/// As `std::fs::exists` (a permission error on a parent), with the path.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path("arbor::fs::try_exists", "check", path.as_ref(), |p| {
        std::fs::exists(p)
    })
    .await
}

/// The canonical, absolute form of a path (`std::fs::canonicalize`).
///
/// # Errors
/// As `std::fs::canonicalize`, with the path.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(
        "arbor::fs::canonicalize",
        "canonicalize",
        path.as_ref(),
        |p| std::fs::canonicalize(p),
    )
    .await
}

/// The target of a symlink (`std::fs::read_link`).
///
/// # Errors
/// As `std::fs::read_link`, with the path.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("arbor::fs::read_link", "read link", path.as_ref(), |p| {
        std::fs::read_link(p)
    })
    .await
}

/// Sets a path's permissions (`std::fs::set_permissions`).
///
/// # Errors
/// As `std::fs::set_permissions`, with the path.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    on_path(
        "arbor::fs::set_permissions",
        "set permissions of",
        path.as_ref(),
        move |p| std::fs::set_permissions(p, perm),
    )
    .await
}

/// Makes a symlink `link` pointing at `original` (`std::os::unix::fs::symlink`).
///
/// # Errors
/// As `std::os::unix::fs::symlink`, naming both paths.
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "arbor::fs::symlink",
        "symlink",
        original.as_ref(),
        link.as_ref(),
        |o, l| std::os::unix::fs::symlink(o, l),
    )
    .await
}
