//! Files whose reads and writes are scheduling points, so that threads sharing a file interleave
//! under a check the way they can on a real machine.
//!
//! The reads and writes themselves are real: a resource under test keeps its data in a real file.
//! [`File`] implements [`std::io::Write`] and [`std::io::Read`] for `File` and for `&File`, as std's
//! does, so `write!` and `writeln!` work on a shared `&File`, and they tear as they do in real code:
//! std formats `writeln!(f, "entry-{n}")` as several writes (`"entry-"`, the number, the line end),
//! each one a point where another thread's write can land between them.
//!
//! std's `Write::write` may write less than it was given and return the count; real files do it on
//! a full disk or an interrupted call. With [`Checker::short_writes`](crate::Checker::short_writes)
//! every `write` of two bytes or more is a choice point whose surprise writes only the first half,
//! so code that ignores the count is caught; `write_all` and `writeln!` loop until everything is
//! written, and pass.
//!
//! ```
//! use std::io::Write;
//! use crosscheck::fs::OpenOptions;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("journal");
//! let file = OpenOptions::new().create(true).append(true).open(&path)?;
//! writeln!(&file, "entry-{}", 1)?; // three writes, each a scheduling point under a check
//! (&file).flush()?;
//! file.sync_all()?;
//! assert_eq!(std::fs::read_to_string(&path)?, "entry-1\n");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::runtime::{self, EventKind, ObjectKind};
use crate::scheduler::ChoiceKind;

/// A file. `&File` reads and writes, so threads can share one.
///
/// Open one with [`File::open`], [`File::create`], [`File::append`] or [`OpenOptions`].
#[derive(Debug)]
pub struct File {
    id: Option<usize>,
    path: PathBuf,
    inner: std::fs::File,
}

impl File {
    /// Opens `path` for appending (and reading), creating it if needed. Every write goes to the end.
    #[track_caller]
    pub fn append(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).read(true).open(path)
    }

    /// Opens `path` for reading, as [`std::fs::File::open`].
    #[track_caller]
    pub fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Opens `path` for writing, creating it or truncating it, as [`std::fs::File::create`].
    #[track_caller]
    pub fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().write(true).create(true).truncate(true).open(path)
    }

    /// Options to open a file with, as [`std::fs::File::options`].
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Writes all of `bytes` at once, after a scheduling point: one system call's worth of
    /// atomicity (never short, never split by another thread's write). The [`Write`] trait's
    /// `write_all` is std's loop over `write` instead, which a short write splits.
    pub fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        runtime::switch();
        (&self.inner).write_all(bytes)?;
        self.record(|obj| EventKind::FileWrite {
            obj,
            bytes: bytes.to_vec(),
        });
        Ok(())
    }

    /// Reads the whole file from its start, whatever the position, after a scheduling point.
    ///
    /// This shadows [`Read::read_to_string`] in method calls; call that one as
    /// `Read::read_to_string(&mut &file, &mut text)`.
    pub fn read_to_string(&self) -> io::Result<String> {
        runtime::switch();
        let text = std::fs::read_to_string(&self.path)?;
        self.record(|obj| EventKind::FileRead { obj, len: text.len() });
        Ok(text)
    }

    /// Flushes what the OS holds for this file to the device, after a scheduling point, as
    /// [`std::fs::File::sync_all`].
    pub fn sync_all(&self) -> io::Result<()> {
        runtime::switch();
        self.inner.sync_all()?;
        self.record(|obj| EventKind::FileSync { obj });
        Ok(())
    }

    /// As [`File::sync_all`], without the metadata ([`std::fs::File::sync_data`]).
    pub fn sync_data(&self) -> io::Result<()> {
        runtime::switch();
        self.inner.sync_data()?;
        self.record(|obj| EventKind::FileSync { obj });
        Ok(())
    }

    /// Truncates or extends the file to `size` bytes, after a scheduling point.
    pub fn set_len(&self, size: u64) -> io::Result<()> {
        runtime::switch();
        self.inner.set_len(size)?;
        self.record(|obj| EventKind::FileSetLen { obj, len: size });
        Ok(())
    }

    /// The file's metadata (its length, ...), after a scheduling point.
    pub fn metadata(&self) -> io::Result<std::fs::Metadata> {
        runtime::switch();
        let metadata = self.inner.metadata()?;
        self.record(|obj| EventKind::FileStat {
            obj,
            len: metadata.len(),
        });
        Ok(metadata)
    }

    /// The path this file was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One `write`: a scheduling point, then, when short writes are on, a choice point whose
    /// surprise writes the first half of `buf`.
    fn write_some(&self, buf: &[u8]) -> io::Result<usize> {
        runtime::switch();
        let short = buf.len() >= 2 && runtime::choose(ChoiceKind::ShortWrite, 2) == 1;
        let asked = if short { buf.len().div_ceil(2) } else { buf.len() };
        let written = (&self.inner).write(&buf[..asked])?;
        let bytes = buf[..written].to_vec();
        if written < buf.len() {
            self.record(|obj| EventKind::FileWroteShort {
                obj,
                bytes,
                of: buf.len(),
            });
        } else {
            self.record(|obj| EventKind::FileWrite { obj, bytes });
        }
        Ok(written)
    }

    fn read_some(&self, buf: &mut [u8]) -> io::Result<usize> {
        runtime::switch();
        let n = (&self.inner).read(buf)?;
        self.record(|obj| EventKind::FileRead { obj, len: n });
        Ok(n)
    }

    fn record(&self, event: impl FnOnce(usize) -> EventKind) {
        if let Some(obj) = self.id {
            runtime::record(event(obj));
        }
    }
}

impl Write for &File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_some(buf)
    }

    /// Nothing to do, as for std's `File`: it keeps no buffer of its own (see [`File::sync_all`]).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_some(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for &File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf)
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf)
    }
}

/// How to open a [`File`]: std's [`std::fs::OpenOptions`], opening a crosscheck file.
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Every option off, as [`std::fs::OpenOptions::new`].
    pub fn new() -> Self {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file (implies writing).
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.0.append(append);
        self
    }

    /// Empty the file when it is opened (needs writing).
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs writing or appending).
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.0.create(create);
        self
    }

    /// Create the file, failing if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.0.create_new(create_new);
        self
    }

    /// Opens `path` with these options. Reports name the file by where it was opened
    /// (`file#0 (src/journal.rs:12)`). Opening is not a scheduling point: no other thread can see a
    /// file handle before it exists.
    #[track_caller]
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let inner = self.0.open(path.as_ref())?;
        Ok(File {
            // Named by where it was opened: its path may be a fresh temporary one every execution.
            id: runtime::new_sited::<()>(ObjectKind::File),
            path: path.as_ref().to_path_buf(),
            inner,
        })
    }
}
