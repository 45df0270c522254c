use std::collections::BTreeMap;

use crate::arbitrary::{Arbitrary, Result, Unstructured};
use crate::fs::File;
use crate::sync::Mutex;
use crate::{Model, Resource};

/// An append-only log's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogOp {
    /// Append the record `entry-N` as one line (N < 4, so threads often write the same record).
    Append(u8),
    /// Read every line; returns `Some(lines)`.
    Read,
}

impl<'a> Arbitrary<'a> for LogOp {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // Appends are what race; reads are one op in four.
        let pick = u8::arbitrary(u)?;
        Ok(if pick % 4 == 3 {
            LogOp::Read
        } else {
            LogOp::Append(u8::arbitrary(u)? % 4)
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (2, Some(2))
    }
}

fn line(n: u8) -> String {
    format!("entry-{n}")
}

/// The log's specification: the records in the order they were appended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogModel(Vec<u8>);

impl Model for LogModel {
    type Op = LogOp;
    type Output = Option<Vec<String>>;

    fn step(&mut self, op: &LogOp) -> Option<Vec<String>> {
        match op {
            LogOp::Append(n) => {
                self.0.push(*n);
                None
            }
            LogOp::Read => Some(self.0.iter().map(|&n| line(n)).collect()),
        }
    }
}

/// The file part both logs share: a fresh temporary file, removed when the log drops, and what was
/// appended (plain bookkeeping outside the resource's own synchronisation, for the invariant).
#[derive(Debug)]
struct LogFile {
    file: File,
    appended: std::sync::Mutex<Vec<u8>>,
    _temp: tempfile::TempPath,
}

impl LogFile {
    fn new() -> Self {
        let temp = tempfile::NamedTempFile::new()
            .expect("create a temporary file for the log")
            .into_temp_path();
        LogFile {
            file: File::append(&temp).expect("open the log for appending"),
            appended: std::sync::Mutex::new(Vec::new()),
            _temp: temp,
        }
    }

    fn read(&self) -> Vec<String> {
        let text = self.file.read_to_string().expect("read the log");
        text.lines().map(str::to_string).collect()
    }

    fn note(&self, n: u8) {
        self.appended.lock().unwrap_or_else(|e| e.into_inner()).push(n);
    }

    /// Every line is exactly one whole record, and every appended record is there once.
    fn invariant(&self) -> std::result::Result<(), String> {
        let text = std::fs::read_to_string(self.file.path()).map_err(|e| format!("cannot read the log: {e}"))?;
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for &n in self.appended.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            *expected.entry(line(n)).or_default() += 1;
        }
        let mut found: BTreeMap<String, usize> = BTreeMap::new();
        for l in text.lines() {
            if !expected.contains_key(l) {
                return Err(format!("the log has a torn line {l:?} (the whole file: {text:?})"));
            }
            *found.entry(l.to_string()).or_default() += 1;
        }
        if found != expected {
            return Err(format!("the log holds {found:?}, but {expected:?} was appended"));
        }
        Ok(())
    }
}

/// BUGGY: writes each record in two pieces (the text, then the line end's part) without a lock,
/// so two writers tear each other's lines.
#[derive(Debug)]
pub struct TornLog(LogFile);

impl Resource for TornLog {
    type Op = LogOp;
    type Output = Option<Vec<String>>;
    type Model = LogModel;

    fn new() -> Self {
        TornLog(LogFile::new())
    }

    fn apply(&self, op: &LogOp) -> Option<Vec<String>> {
        match op {
            LogOp::Append(n) => {
                self.0.note(*n);
                self.0.file.write_all(b"entry-").expect("write to the log");
                self.0
                    .file
                    .write_all(format!("{n}\n").as_bytes())
                    .expect("write to the log");
                None
            }
            LogOp::Read => Some(self.0.read()),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.0.invariant()
    }
}

/// Correct: the same two writes, under one lock.
#[derive(Debug)]
pub struct LockedLog {
    log: LogFile,
    lock: Mutex<()>,
}

impl Resource for LockedLog {
    type Op = LogOp;
    type Output = Option<Vec<String>>;
    type Model = LogModel;

    fn new() -> Self {
        LockedLog {
            log: LogFile::new(),
            lock: Mutex::new(()),
        }
    }

    fn apply(&self, op: &LogOp) -> Option<Vec<String>> {
        let _held = self.lock.lock().unwrap();
        match op {
            LogOp::Append(n) => {
                self.log.note(*n);
                self.log.file.write_all(b"entry-").expect("write to the log");
                self.log
                    .file
                    .write_all(format!("{n}\n").as_bytes())
                    .expect("write to the log");
                None
            }
            LogOp::Read => Some(self.log.read()),
        }
    }

    fn invariant(&self) -> std::result::Result<(), String> {
        self.log.invariant()
    }
}
