//! Files whose writes are scheduling points, so that two threads writing one file interleave under
//! a check the way they can on a real machine.
//!
//! The writes themselves are real: a resource under test can keep its data in a real file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::runtime::{self, EventKind, ObjectKind};

/// A file opened for appending (or reading); `&File` writes, so threads can share one.
#[derive(Debug)]
pub struct File {
    id: Option<usize>,
    path: PathBuf,
    inner: std::fs::File,
}

impl File {
    /// Opens `path` for appending, creating it if needed. Every `write_all` goes to the end.
    pub fn append(path: impl AsRef<Path>) -> io::Result<File> {
        let inner = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path.as_ref())?;
        Ok(File {
            id: runtime::new_object(runtime::ObjectInfo::new(ObjectKind::File)),
            path: path.as_ref().to_path_buf(),
            inner,
        })
    }

    /// Writes all of `bytes` with one system call's worth of atomicity, after a scheduling point.
    pub fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        runtime::switch();
        (&self.inner).write_all(bytes)?;
        if let Some(obj) = self.id {
            runtime::record(EventKind::FileWrite {
                obj,
                bytes: bytes.to_vec(),
            });
        }
        Ok(())
    }

    /// Reads the whole file, after a scheduling point.
    pub fn read_to_string(&self) -> io::Result<String> {
        runtime::switch();
        let text = std::fs::read_to_string(&self.path)?;
        if let Some(obj) = self.id {
            runtime::record(EventKind::FileRead { obj, len: text.len() });
        }
        Ok(text)
    }

    /// The path this file was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
