//! `crosscheck::fs` as a user meets it: a journal that appends records to a shared file through
//! `std::io::Write`. `writeln!` on a shared `&File` is several writes, so two unlocked writers tear
//! each other's lines; a writer that ignores `write`'s count loses the rest of its record once
//! `Checker::short_writes` lets a write be short; `write_all` under a lock passes every schedule,
//! short writes included. Reads go through `OpenOptions` and `std::io::Read`.

use std::io::{Read, Write};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use crosscheck::fs::{File, OpenOptions};
use crosscheck::resources::{LogModel, LogOp};
use crosscheck::sync::Mutex;
use crosscheck::{Checker, FailureKind, Resource, Scenario, Scheduler};

/// How a journal appends one record.
pub trait Append: Send + Sync + 'static {
    fn append(file: &File, lock: &Mutex<()>, record: &str);
}

/// A journal in a fresh temporary file: `Append(n)` adds the line `entry-n`, `Read` returns every
/// line (read under the lock through a handle of its own).
pub struct Journal<A> {
    file: File,
    lock: Mutex<()>,
    appended: AtomicUsize,
    _temp: tempfile::TempPath,
    append: PhantomData<A>,
}

impl<A: Append> Resource for Journal<A> {
    type Op = LogOp;
    type Output = Option<Vec<String>>;
    type Model = LogModel;

    fn new() -> Self {
        let temp = temp_path();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&temp)
            .expect("open the journal");
        Journal {
            file,
            lock: Mutex::new(()),
            appended: AtomicUsize::new(0),
            _temp: temp,
            append: PhantomData,
        }
    }

    fn apply(&self, op: &LogOp) -> Option<Vec<String>> {
        match op {
            LogOp::Append(n) => {
                self.appended.fetch_add(1, Ordering::SeqCst);
                A::append(&self.file, &self.lock, &format!("entry-{n}"));
                None
            }
            LogOp::Read => {
                let _held = self.lock.lock().unwrap();
                let mut text = String::new();
                File::open(self.file.path())
                    // `File::read_to_string(&self)` (the whole file) shadows the trait's method.
                    .and_then(|mut f| Read::read_to_string(&mut f, &mut text))
                    .expect("read the journal");
                Some(text.lines().map(str::to_string).collect())
            }
        }
    }

    /// One whole record a line, one line an append.
    fn invariant(&self) -> Result<(), String> {
        let text = std::fs::read_to_string(self.file.path()).map_err(|e| e.to_string())?;
        if let Some(torn) = text
            .lines()
            .find(|l| !matches!(l.as_bytes(), [b'e', b'n', b't', b'r', b'y', b'-', b'0'..=b'3']))
        {
            return Err(format!(
                "the journal has a torn line {torn:?} (the whole file: {text:?})"
            ));
        }
        let (lines, appended) = (text.lines().count(), self.appended.load(Ordering::SeqCst));
        if lines != appended || !text.ends_with('\n') && !text.is_empty() {
            return Err(format!("{appended} records appended, but the journal holds {text:?}"));
        }
        Ok(())
    }
}

/// BUGGY: `writeln!` without the lock. std writes the record and the line end separately.
pub struct Writeln;
impl Append for Writeln {
    fn append(mut file: &File, _lock: &Mutex<()>, record: &str) {
        writeln!(file, "{record}").expect("write the record");
    }
}

/// BUGGY: one `write` under the lock, its count ignored (fine until a write is short).
pub struct IgnoresCount;
impl Append for IgnoresCount {
    fn append(mut file: &File, lock: &Mutex<()>, record: &str) {
        let _held = lock.lock().unwrap();
        let _ = file.write(format!("{record}\n").as_bytes()).expect("write the record");
    }
}

/// Correct: `write_all` (std's loop over `write`) under the lock.
pub struct WriteAllLocked;
impl Append for WriteAllLocked {
    fn append(mut file: &File, lock: &Mutex<()>, record: &str) {
        let _held = lock.lock().unwrap();
        Write::write_all(&mut file, format!("{record}\n").as_bytes()).expect("write the record");
        file.flush().expect("flush");
    }
}

/// A fresh temporary file's path, removed when dropped.
fn temp_path() -> tempfile::TempPath {
    tempfile::NamedTempFile::new()
        .expect("a temporary file")
        .into_temp_path()
}

/// Every operation of a scenario: its threads', its init part's and its post part's.
fn every_op(s: &Scenario<LogOp>) -> Vec<LogOp> {
    s.threads
        .iter()
        .flatten()
        .chain(&s.init)
        .chain(&s.post)
        .cloned()
        .collect()
}

fn appends(ops: &[LogOp]) -> usize {
    ops.iter().filter(|op| matches!(op, LogOp::Append(_))).count()
}

#[test]
fn unlocked_writeln_tears_lines_and_is_shrunk_to_two_appends_and_one_preemption() {
    for seed in 0..3 {
        let f = Checker::<Journal<Writeln>>::new()
            .seed(seed)
            .run()
            .expect_err("two writers tear a line");
        let (s, ops) = (f.scenario(), every_op(f.scenario()));
        assert_eq!(s.threads.len(), 2, "{f}");
        assert_eq!(appends(&ops), 2, "{f}");
        assert_eq!(ops.len(), 2, "the invariant sees the torn line without a Read:\n{f}");
        assert_eq!(f.preemptions(), 1, "{f}");
        let text = f.to_string();
        assert!(text.contains("torn line"), "{text}");
        assert!(
            text.contains("writes \"\\n\" to file"),
            "the line end is a write of its own:\n{text}"
        );
    }
}

#[test]
fn ignoring_write_s_count_is_caught_by_one_short_write_alone() {
    for seed in 0..3 {
        let f = Checker::<Journal<IgnoresCount>>::new()
            .seed(seed)
            .short_writes(true)
            .run()
            .expect_err("a short write loses the rest of the record");
        let ops = every_op(f.scenario());
        assert_eq!(ops.len(), 1, "one append and the invariant show it:\n{f}");
        assert_eq!(f.preemptions(), 0, "the short write alone is enough:\n{f}");
        let text = f.to_string();
        assert!(text.contains("was short: 4 of 8 bytes (\"entr\")"), "{text}");
        assert!(text.contains("short writes on"), "the header says the setting:\n{text}");
        assert!(!text.contains("++"), "no empty table of threads:\n{text}");

        // The token carries the setting: it replays on a checker that does not set it.
        let token = f.token().expect("a token").to_string();
        let again = Checker::<Journal<IgnoresCount>>::new()
            .scheduler(Scheduler::Replay(token))
            .run()
            .expect_err("the replay fails the same way");
        assert_eq!(again.kind(), f.kind());
        assert!(again.to_string().contains("was short: 4 of 8 bytes"), "{again}");
    }
}

#[test]
fn without_short_writes_ignoring_the_count_goes_unseen() {
    Checker::<Journal<IgnoresCount>>::new()
        .iterations(2_000)
        .run()
        .unwrap_or_else(|f| panic!("writes are whole unless short writes are on:\n{f}"));
}

#[test]
fn write_all_under_a_lock_passes_20_000_schedules_with_short_writes() {
    let report = Checker::<Journal<WriteAllLocked>>::new()
        .short_writes(true)
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.schedules(), 20_000);
}

#[test]
fn every_backend_runs_the_journal() {
    let small = Scenario {
        threads: vec![vec![LogOp::Append(1)], vec![LogOp::Append(2), LogOp::Read]],
        ..Scenario::default()
    };
    for scheduler in [
        Scheduler::Dfs { max_iterations: None },
        Scheduler::Loom {
            preemption_bound: Some(2),
        },
    ] {
        Checker::<Journal<WriteAllLocked>>::new()
            .scenario(small.clone())
            .short_writes(true)
            .scheduler(scheduler.clone())
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?}:\n{f}"));
    }
    Checker::<Journal<WriteAllLocked>>::new()
        .iterations(300)
        .scheduler(Scheduler::Stress)
        .run()
        .unwrap_or_else(|f| panic!("stress:\n{f}"));
    let f = Checker::<Journal<Writeln>>::new()
        .scenario(Scenario {
            threads: vec![vec![LogOp::Append(1)], vec![LogOp::Append(2)]],
            ..Scenario::default()
        })
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .run()
        .expect_err("loom interleaves the pieces of writeln! too");
    assert!(matches!(f.kind(), FailureKind::InvariantViolated { .. }), "{f}");
}

#[test]
fn outside_a_check_the_files_are_std_s() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let mut created = File::create(&path).unwrap();
    write!(created, "abc").unwrap();
    created.write_all(b"def").unwrap();
    created.sync_all().unwrap();
    created.sync_data().unwrap();
    assert_eq!(created.metadata().unwrap().len(), 6);
    created.set_len(4).unwrap();
    let mut text = String::new();
    Read::read_to_string(&mut File::open(&path).unwrap(), &mut text).unwrap();
    assert_eq!(text, "abcd");
    assert!(OpenOptions::new().write(true).create_new(true).open(&path).is_err());
    let appended = File::options().append(true).open(&path).unwrap();
    writeln!(&appended, "!").unwrap();
    assert_eq!(File::append(&path).unwrap().read_to_string().unwrap(), "abcd!\n");
}

/// Every file operation, once, and an invariant that fails so the report shows them.
pub struct EveryOperation(File, #[allow(dead_code)] tempfile::TempPath); // the path lives as long as the file

impl Resource for EveryOperation {
    type Op = LogOp;
    type Output = Option<Vec<String>>;
    type Model = LogModel;

    fn new() -> Self {
        let temp = temp_path();
        EveryOperation(File::options().read(true).write(true).open(&temp).unwrap(), temp)
    }

    fn apply(&self, op: &LogOp) -> Option<Vec<String>> {
        let file = &self.0;
        file.write_all(b"entry-1\n").unwrap();
        let len = file.metadata().unwrap().len();
        file.set_len(len - 1).unwrap();
        file.sync_all().unwrap();
        let mut text = String::new();
        Read::read_to_string(&mut File::open(file.path()).unwrap(), &mut text).unwrap();
        match op {
            LogOp::Append(_) => None,
            LogOp::Read => Some(vec![text]),
        }
    }

    fn invariant(&self) -> Result<(), String> {
        Err("shown on purpose".into())
    }
}

#[test]
fn every_file_operation_is_in_the_interleaving() {
    let f = Checker::<EveryOperation>::new()
        .scenario(Scenario {
            threads: vec![vec![LogOp::Append(1)]],
            ..Scenario::default()
        })
        .run()
        .expect_err("the invariant fails on purpose");
    let text = f.to_string();
    for line in [
        "writes \"entry-1\\n\" to file#0",
        "reads the metadata of file#0",
        "(8 bytes)",
        "sets file#0",
        "to 7 bytes",
        "syncs file#0",
        "reads 7 bytes of file#1",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
}
