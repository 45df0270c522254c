//! What a check hands back: a [`Report`] when it passed, a [`Failure`] when it found a bug (or
//! could not run), and the text a person reads. `text.rs` renders the text; `parts.rs` turns an
//! execution's record and the checker's evidence into the parts the text is made of.

mod parts;
mod text;

use std::fmt;
use std::time::{Duration, Instant};

use crate::linearizability::Evidence;
use crate::record::short_name;
use crate::scenario::Scenario;
use crate::token::TokenScenario;

pub(crate) use parts::{inconsistent, op_texts, report_parts, Consistency, PartsInput};
pub(crate) use text::{interleaving, OpLine, ReportParts};

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// No sequential order of the operations explains what they returned.
    NotLinearizable {
        /// Which operation could not be placed, and what the model expected instead.
        explanation: String,
        /// The longest prefix the checker could explain, in the order it found (each operation
        /// with the model's state before and after it).
        prefix: Vec<VerdictOp>,
        /// The operations none of which can come next after `prefix`, each with what the model
        /// allows there. Never empty.
        stuck: Vec<VerdictOp>,
    },
    /// [`Resource::invariant`](crate::Resource::invariant) failed after all threads joined.
    InvariantViolated {
        /// The invariant's own message.
        message: String,
    },
    /// Threads waited for each other forever.
    Deadlock {
        /// The wait-for cycle, one line per thread ("T1 holds mutex \"a\" (src/bank.rs:14) and waits
        /// for mutex \"b\" (src/bank.rs:15) ..."), or, for a wait nobody can end (a condition
        /// variable nobody will notify, a join of a thread that never finishes), what each stuck
        /// thread holds and waits for;
        /// or what each blocked thread was doing when the cycle is not known.
        cycle: Vec<String>,
    },
    /// An operation panicked. Later panics (a poisoned lock) are consequences and not reported.
    Panicked {
        /// The thread that panicked first ("T1", or "main" for the init and post parts).
        thread: String,
        /// The operation it was running.
        op: String,
        /// The panic message and location.
        message: String,
    },
    /// No operation completed for `steps` scheduling steps while two or more threads were inside
    /// operations and kept taking and releasing locks: they undo each other's work forever (a
    /// retry loop that never backs off). Threads that back off between attempts
    /// (`crosscheck::thread::sleep` or `yield_now`) are given a fair schedule first, in which a
    /// thread that backed off waits until another completes an operation; only if they still make
    /// no progress is it a livelock (see [`Checker::livelock_steps`](crate::Checker::livelock_steps)).
    Livelock {
        /// How many steps passed without a completed operation.
        steps: usize,
        /// One line per thread inside an operation: the operation, and the locks it keeps taking
        /// and releasing (or holds).
        threads: Vec<String>,
    },
    /// Two or more lock classes were taken in orders that form a cycle (A then B in one place, B
    /// then A in another): a potential deadlock, found from the order of acquisitions even though
    /// no explored schedule deadlocked (lockdep's idea).
    LockOrderInversion {
        /// One line per edge of the cycle: which thread took which lock while holding which, with
        /// the file:line of both acquisitions.
        edges: Vec<String>,
        /// The replay token of a schedule that deadlocks on these locks, when one was found.
        deadlock: Option<String>,
    },
    /// Two accesses to one [`UnsafeCell`](crate::cell::UnsafeCell), at least one a write, that
    /// nothing orders: no lock, no release/acquire pair, no spawn or join between them. Found from
    /// happens-before (vector clocks) under the controlled schedulers, by loom under
    /// `Scheduler::Loom`; the interleaving that ran need not have overlapped them.
    DataRace {
        /// The cell: `cell "slot" (src/queue.rs:12)`.
        cell: String,
        /// The earlier access: `T1 writes it at src/queue.rs:30`.
        first: String,
        /// The later one, not ordered after the first.
        second: String,
    },
    /// An execution took more scheduling steps than allowed: a spin loop or a livelock.
    StepLimitExceeded {
        /// The limit that was reached.
        steps: usize,
    },
    /// The check could not run as configured (0 threads, an unreadable replay token, ...).
    Usage {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The same schedule, run again, did something else: the resource depends on something the
    /// scheduler does not control (std's `HashMap` order, the clock, a random number, a real
    /// thread), so no replay token can be trusted. A usage problem: see
    /// [`Determinism`](crate::Determinism).
    Nondeterministic {
        /// The scheduling step at which the runs first differed (1-based).
        step: usize,
        /// What differed (the events or the threads that could run, naming the object) and what to do.
        message: String,
    },
    /// crosscheck itself failed: a bug in crosscheck, not in the resource.
    Internal {
        /// What happened.
        message: String,
    },
}

/// One operation a [`FailureKind::NotLinearizable`] verdict names, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerdictOp {
    /// Its index in the scenario, counting the init part, then each thread, then the post part
    /// (see [`Scenario::op`]).
    pub index: usize,
    /// The thread that ran it ("T1", or "main" for the init and post parts).
    pub thread: String,
    /// The operation (`Debug`).
    pub op: String,
    /// What it returned (`Debug`; `None` if it did not return).
    pub output: Option<String>,
    /// What the model returns for it at this point of the order (`Debug`).
    pub allowed: String,
    /// The model's state before it (`Debug`).
    pub model_before: String,
    /// The model's state after it (`Debug`).
    pub model_after: String,
}

/// Whose fault a failure is: what a caller needs to decide what to do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// A bug in the resource under test: what crosscheck is for.
    Resource,
    /// The check could not run as configured: fix the settings, the token or the environment.
    Usage,
    /// crosscheck itself failed: a bug in crosscheck, please report it.
    Crosscheck,
}

impl FailureKind {
    /// Whose fault this failure is.
    pub fn fault(&self) -> Fault {
        match self {
            FailureKind::Usage { .. } | FailureKind::Nondeterministic { .. } => Fault::Usage,
            FailureKind::Internal { .. } => Fault::Crosscheck,
            _ => Fault::Resource,
        }
    }

    /// Whether this is a bug in the resource under test (not a usage error, not crosscheck's own).
    pub fn is_bug(&self) -> bool {
        self.fault() == Fault::Resource
    }

    /// Whether two failures are the same bug. A wrong result seen as a non-linearizable history or as
    /// a broken invariant is one bug (a smaller scenario may lose the read that showed it, but not the
    /// invariant); a deadlock, a step limit, or a different panic is another.
    pub(crate) fn same_bug(&self, other: &FailureKind) -> bool {
        use FailureKind::*;
        match (self, other) {
            (NotLinearizable { .. } | InvariantViolated { .. }, NotLinearizable { .. } | InvariantViolated { .. }) => {
                true
            }
            (Deadlock { .. }, Deadlock { .. })
            | (StepLimitExceeded { .. }, StepLimitExceeded { .. })
            | (Livelock { .. }, Livelock { .. })
            | (LockOrderInversion { .. }, LockOrderInversion { .. })
            | (DataRace { .. }, DataRace { .. }) => true,
            (Panicked { message: m, .. }, Panicked { message: n, .. }) => m == n,
            _ => false,
        }
    }

    pub(crate) fn title(&self) -> &'static str {
        match self {
            FailureKind::NotLinearizable { .. } => "not linearizable",
            FailureKind::InvariantViolated { .. } => "invariant violated",
            FailureKind::Deadlock { .. } => "deadlock",
            FailureKind::Panicked { .. } => "panic",
            FailureKind::StepLimitExceeded { .. } => "step limit exceeded",
            FailureKind::Livelock { .. } => "livelock",
            FailureKind::LockOrderInversion { .. } => "lock-order inversion",
            FailureKind::DataRace { .. } => "data race",
            FailureKind::Usage { .. } => "usage error",
            FailureKind::Nondeterministic { .. } => "uncontrolled nondeterminism",
            FailureKind::Internal { .. } => "internal error",
        }
    }
}

/// A failed check: what failed, the scenario and schedule that show it, and the full report as its
/// `Display`.
#[derive(Clone, Debug)]
pub struct Failure<Op>(Box<FailureData<Op>>);

/// A failure's contents, boxed so that `Result<Report, Failure>` stays small.
#[derive(Clone, Debug)]
pub(crate) struct FailureData<Op> {
    pub(crate) kind: FailureKind,
    pub(crate) scenario: Scenario<Op>,
    pub(crate) token: Option<String>,
    pub(crate) preemptions: usize,
    pub(crate) schedules: usize,
    /// What the report is made of; `None` for a usage error, whose text is its message.
    pub(crate) parts: Option<ReportParts>,
    /// The checker's evidence, for an inconsistent history (operation ids of the history that
    /// `parts` was built from).
    pub(crate) evidence: Option<Evidence>,
    /// How the failing execution's scenario is named (bytes or a pinned fingerprint) and the
    /// thread chosen at each decision: what shrinking starts from.
    pub(crate) source: Option<TokenScenario>,
    pub(crate) choices: Vec<crate::scheduler::Choice>,
    /// Choice points of the failing schedule that took a surprise (a spurious wakeup, ...).
    pub(crate) surprises: usize,
    /// Context switches between scenario threads, and scheduling steps, of the failing schedule.
    pub(crate) switches: usize,
    pub(crate) steps: usize,
    /// The test that was running when the failure was found (libtest names each test's thread
    /// after it), so that printing the failure elsewhere gives the same replay command.
    pub(crate) test: Option<String>,
    /// The failing execution drawn for the HTML page (written once, by the check's outer edge).
    pub(crate) page: Option<Box<crate::html::Page>>,
}

impl<Op> FailureData<Op> {
    /// A failure of `kind` on `scenario`, with nothing else known yet.
    pub(crate) fn new(kind: FailureKind, scenario: Scenario<Op>) -> Self {
        FailureData {
            kind,
            scenario,
            token: None,
            preemptions: 0,
            schedules: 0,
            parts: None,
            evidence: None,
            source: None,
            choices: Vec::new(),
            surprises: 0,
            switches: 0,
            steps: 0,
            test: test_name(),
            page: None,
        }
    }
}

impl<Op> Failure<Op> {
    pub(crate) fn new(data: FailureData<Op>) -> Self {
        Failure(Box::new(data))
    }

    /// What went wrong.
    pub fn kind(&self) -> &FailureKind {
        &self.0.kind
    }

    /// The scenario that failed (empty for a usage error).
    pub fn scenario(&self) -> &Scenario<Op> {
        &self.0.scenario
    }

    /// The replay token that reruns exactly this execution with
    /// [`Scheduler::Replay`](crate::Scheduler::Replay); `None` where it cannot be replayed.
    pub fn token(&self) -> Option<&str> {
        self.0.token.as_deref()
    }

    /// The replay token (the old name of [`Failure::token`]: it never returned a schedule alone).
    #[deprecated(since = "0.1.0", note = "use `Failure::token`: it returns the replay token")]
    pub fn schedule(&self) -> Option<&str> {
        self.token()
    }

    /// Preemptions in the reported schedule.
    pub fn preemptions(&self) -> usize {
        self.0.preemptions
    }

    /// How many schedules ran until this failure was found, this one included.
    pub fn schedules(&self) -> usize {
        self.0.schedules
    }

    /// Whose fault the failure is (shorthand for `self.kind().fault()`).
    pub fn fault(&self) -> Fault {
        self.0.kind.fault()
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::new(FailureData::new(
            FailureKind::Usage {
                message: message.into(),
            },
            Scenario::default(),
        ))
    }

    pub(crate) fn data(&self) -> &FailureData<Op> {
        &self.0
    }

    pub(crate) fn data_mut(&mut self) -> &mut FailureData<Op> {
        &mut self.0
    }

    /// Where the failure's HTML page was written, if it was (see `CROSSCHECK_HTML`).
    pub fn page(&self) -> Option<&std::path::Path> {
        self.0.parts.as_ref()?.page.as_deref().map(std::path::Path::new)
    }

    /// Writes the HTML page of the failing execution (under `target/crosscheck/`, named after the
    /// test) and names it in the report. Failing to write is a note, not an error.
    pub(crate) fn write_page(&mut self) {
        let Some(mut page) = self.0.page.take() else { return };
        let Some(dir) = crate::html::pages_dir() else { return };
        let Some(parts) = self.0.parts.as_ref() else { return };
        let test = self.0.test.clone().or_else(test_name);
        let name = format!("{}-{}", test.unwrap_or_else(|| "check".into()), parts.resource);
        page.summary = self.to_string().lines().map(str::to_string).collect();
        match crate::html::write(&page, &dir, &name) {
            Ok(path) => {
                if let Some(parts) = self.0.parts.as_mut() {
                    parts.page = Some(path.display().to_string());
                }
            }
            Err(e) => self.add_note(format!("could not write the HTML page to {}: {e}", dir.display())),
        }
    }

    /// [`Failure::write_page`], for `map_err`.
    pub(crate) fn with_page(mut self) -> Self {
        self.write_page();
        self
    }

    /// Adds a line at the end of the report, before the replay instructions.
    pub(crate) fn add_note(&mut self, note: impl Into<String>) {
        if let Some(parts) = self.0.parts.as_mut() {
            let note = note.into();
            parts.note = Some(match parts.note.take() {
                Some(old) => format!("{old}\n{note}"),
                None => note,
            });
        }
    }
}

impl<Op> fmt::Display for Failure<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.parts, &self.0.kind) {
            (Some(parts), _) => f.write_str(&parts.render(&self.0.kind, self.0.schedules, self.0.test.as_deref())),
            (None, FailureKind::Usage { message }) => {
                writeln!(f, "crosscheck could not run this check (usage error): {message}")
            }
            (None, kind) => writeln!(f, "crosscheck: {kind:?}"),
        }
    }
}

impl<Op: fmt::Debug> std::error::Error for Failure<Op> {}

/// A passed check: how much ran.
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) resource: String,
    pub(crate) scheduler: String,
    pub(crate) scenarios: usize,
    pub(crate) schedules: usize,
    pub(crate) exhausted: usize,
    pub(crate) unknown: usize,
    pub(crate) regressions: usize,
    pub(crate) elapsed: Duration,
    /// For loom: why exploration stopped before it covered every interleaving (naming the bound).
    pub(crate) incomplete: Option<String>,
    pub(crate) lock_stats: Vec<crate::lock_stats::LockStats>,
}

impl Report {
    /// A report of nothing run yet, for resource type `type_name` under `scheduler`, timed from
    /// `started`.
    pub(crate) fn new(type_name: &str, scheduler: impl Into<String>, started: Instant) -> Self {
        Report {
            resource: short_name(type_name).to_string(),
            scheduler: scheduler.into(),
            scenarios: 0,
            schedules: 0,
            exhausted: 0,
            unknown: 0,
            regressions: 0,
            elapsed: started.elapsed(),
            incomplete: None,
            lock_stats: Vec::new(),
        }
    }

    /// Scenarios that ran at least one schedule.
    pub fn scenarios(&self) -> usize {
        self.scenarios
    }

    /// Schedules (executions) that ran.
    pub fn schedules(&self) -> usize {
        self.schedules
    }

    /// Scenarios whose every interleaving (within the scheduler's bound) was explored.
    pub fn exhausted_scenarios(&self) -> usize {
        self.exhausted
    }

    /// Histories the linearizability checker could not decide within its time budget. They are
    /// neither passed nor failed; a non-zero count means the check is weaker than it looks.
    pub fn unknown(&self) -> usize {
        self.unknown
    }

    /// Saved regressions that were replayed (and passed) before the check's own schedules.
    pub fn regressions(&self) -> usize {
        self.regressions
    }

    /// Wall-clock time of the check.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Under `Scheduler::Loom`: `None` when loom explored every execution of every scenario (within
    /// its preemption bound), else which bound stopped it. A pass with an incomplete exploration is
    /// weaker than it looks. Always `None` for the other schedulers, which do not claim coverage.
    pub fn incomplete(&self) -> Option<&str> {
        self.incomplete.as_deref()
    }

    /// How contended each lock was, over every execution of the check (one entry per lock class:
    /// creation site and name), in the order the locks were first taken. Counted in scheduling
    /// steps under the controlled schedulers; empty under `Scheduler::Stress`, whose std locks
    /// record nothing. `format!("{report:#}")` shows them as a table.
    pub fn lock_stats(&self) -> &[crate::lock_stats::LockStats] {
        &self.lock_stats
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: passed {} schedules over {} scenarios in {:.2} s ({})",
            self.resource,
            self.schedules,
            self.scenarios,
            self.elapsed.as_secs_f64(),
            self.scheduler
        )?;
        if self.regressions > 0 {
            write!(f, "; {} saved regressions replayed first", self.regressions)?;
        }
        if self.exhausted > 0 {
            write!(f, "; {} scenarios explored exhaustively", self.exhausted)?;
        }
        if let Some(why) = &self.incomplete {
            write!(f, "\n  exploration incomplete: {why}")?;
        }
        if self.unknown > 0 {
            write!(
                f,
                "\n  warning: {} histories were too large to check for linearizability in time (unknown, not passed)",
                self.unknown
            )?;
        }
        if f.alternate() {
            write!(f, "\nlock contention:\n{}", crate::lock_stats::Table(&self.lock_stats))?;
        }
        Ok(())
    }
}

/// The name of the test running on this thread (libtest names each test's thread after it).
fn test_name() -> Option<String> {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_string)
}
