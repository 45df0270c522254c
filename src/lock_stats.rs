//! How contended each lock was over a whole check: what "keep critical sections small" and "use
//! fine-grained locking" look like as numbers.
//!
//! Figures are kept per lock class (creation site and name, see [`crate::lock_order`]), since the
//! lock objects are created anew in every execution. Durations are counted in scheduling steps
//! under the controlled schedulers: a wait of 3 means three scheduling decisions passed while the
//! thread waited. Under `Scheduler::Stress` they are real time, in microseconds (see
//! `runtime::std_order`).

use std::collections::HashMap;
use std::fmt;

use crate::lock_order::LockClass;
use crate::record::ObjectInfo;
use crate::runtime::ExecutionRecord;

/// One lock's contention over every execution of a check, from [`Report::lock_stats`].
///
/// [`Report::lock_stats`]: crate::Report::lock_stats
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockStats {
    name: String,
    acquisitions: u64,
    contended: u64,
    max_waiters: usize,
    longest_wait: u64,
    longest_hold: u64,
    /// Waits and holds are microseconds on real threads, not scheduling steps.
    in_time: bool,
}

impl LockStats {
    /// The lock as reports name it: `mutex "a" (src/bank.rs:14)`, or with its type when it has
    /// no name: `Mutex<i64> (src/map.rs:20)`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Times it was taken (by any kind of acquisition).
    pub fn acquisitions(&self) -> u64 {
        self.acquisitions
    }

    /// Acquisitions that found it taken and had to wait (or time out).
    pub fn contended(&self) -> u64 {
        self.contended
    }

    /// The most threads waiting for it at once.
    pub fn max_waiters(&self) -> usize {
        self.max_waiters
    }

    /// The longest a thread waited for it: in scheduling steps under the controlled schedulers,
    /// in microseconds under `Scheduler::Stress` (see [`LockStats::in_time`]).
    pub fn longest_wait(&self) -> u64 {
        self.longest_wait
    }

    /// The longest a thread held it, in the unit of [`LockStats::longest_wait`].
    pub fn longest_hold(&self) -> u64 {
        self.longest_hold
    }

    /// Whether waits and holds are real time (microseconds, under `Scheduler::Stress`) rather than
    /// scheduling steps.
    pub fn in_time(&self) -> bool {
        self.in_time
    }

    /// The fraction of acquisitions that had to wait (0 when it was never taken).
    pub fn contention(&self) -> f64 {
        if self.acquisitions == 0 {
            0.0
        } else {
            self.contended as f64 / self.acquisitions as f64
        }
    }
}

/// The figures of one check, gathered execution by execution.
#[derive(Default)]
pub(crate) struct Contention {
    ids: HashMap<LockClass, usize>,
    /// Object id -> its class in the last execution that took it, and the class's row: most
    /// executions create the same locks in the same order, and comparing a class costs less than
    /// hashing its creation site.
    last: Vec<Option<(LockClass, usize)>>,
    stats: Vec<LockStats>,
    in_time: bool,
}

impl Contention {
    /// Adds the figures of the execution that just ended.
    pub(crate) fn absorb(&mut self, rec: &ExecutionRecord) {
        for (obj, figures) in rec.locks.figures.iter().enumerate() {
            if figures.acquisitions == 0 && figures.contended == 0 {
                continue;
            }
            let (Some(class), Some(info)) = (LockClass::of(rec, obj), rec.objects.get(obj)) else {
                continue;
            };
            let seen = self.last.get(obj).and_then(Option::as_ref);
            let i = match seen.filter(|(c, _)| *c == class).map(|&(_, i)| i) {
                Some(i) => i,
                None => self.row(&class, info),
            };
            if self.last.len() <= obj {
                self.last.resize(obj + 1, None);
            }
            self.last[obj] = Some((class, i));
            let s = &mut self.stats[i];
            s.acquisitions += figures.acquisitions;
            s.contended += figures.contended;
            s.max_waiters = s.max_waiters.max(figures.max_waiters);
            s.longest_wait = s.longest_wait.max(figures.longest_wait);
            s.longest_hold = s.longest_hold.max(figures.longest_hold);
        }
    }

    /// The row of `class`, a new one the first time the check sees it.
    fn row(&mut self, class: &LockClass, info: &ObjectInfo) -> usize {
        if let Some(&i) = self.ids.get(class) {
            return i;
        }
        let name = match &class.name {
            Some(_) => class.to_string(),
            None => match info.site {
                Some(site) => format!("{} ({}:{})", info.type_text(), site.file(), site.line()),
                None => info.type_text(),
            },
        };
        self.stats.push(LockStats {
            name,
            acquisitions: 0,
            contended: 0,
            max_waiters: 0,
            longest_wait: 0,
            longest_hold: 0,
            in_time: self.in_time,
        });
        self.ids.insert(class.clone(), self.stats.len() - 1);
        self.stats.len() - 1
    }

    /// The figures, in the order the locks were first seen.
    /// Figures in real time: the stress backend's.
    pub(crate) fn in_time() -> Self {
        Contention {
            in_time: true,
            ..Contention::default()
        }
    }

    pub(crate) fn into_stats(self) -> Vec<LockStats> {
        self.stats
    }
}

/// The table `{:#}` of a [`Report`](crate::Report) prints.
pub(crate) struct Table<'a>(pub &'a [LockStats]);

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "  no lock was taken");
        }
        let width = self.0.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
        writeln!(
            f,
            "  {:width$}  {:>8}  {:>8}  {:>7}  {:>7}  {:>9}  {:>9}",
            "lock", "taken", "waited", "share", "waiters", "max wait", "max hold"
        )?;
        for s in self.0 {
            writeln!(
                f,
                "  {:width$}  {:>8}  {:>8}  {:>6.1}%  {:>7}  {:>9}  {:>9}",
                s.name,
                s.acquisitions,
                s.contended,
                100.0 * s.contention(),
                s.max_waiters,
                s.longest_wait,
                s.longest_hold
            )?;
        }
        let unit = if self.0.iter().any(|s| s.in_time) {
            "microseconds, on real threads"
        } else {
            "scheduling steps"
        };
        write!(f, "  (waits and holds in {unit})")
    }
}
