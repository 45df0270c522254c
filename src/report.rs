//! What a check hands back: a [`Report`] when it passed, a [`Failure`] when it found a bug (or
//! could not run), and the text a person reads.

use std::fmt;
use std::time::Duration;

use crate::record::{thread_label, Event, EventKind, Label, ObjectInfo, ObjectName};
use crate::scenario::Scenario;

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// No sequential order of the operations explains what they returned.
    NotLinearizable {
        /// Which operation could not be placed, and what the model expected instead.
        explanation: String,
    },
    /// [`Resource::invariant`](crate::Resource::invariant) failed after all threads joined.
    InvariantViolated {
        /// The invariant's own message.
        message: String,
    },
    /// Threads waited for each other forever.
    Deadlock {
        /// The wait-for cycle, one line per thread ("T1 holds mutex \"a\" (src/bank.rs:14) and waits
        /// for mutex \"b\" (src/bank.rs:15) ..."),
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
    /// retry loop that never backs off).
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
    /// crosscheck itself failed: a bug in crosscheck, not in the resource.
    Internal {
        /// What happened.
        message: String,
    },
}

impl FailureKind {
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
            | (LockOrderInversion { .. }, LockOrderInversion { .. }) => true,
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
            FailureKind::Usage { .. } => "usage error",
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
    /// How the failing execution's scenario is named (bytes or a pinned fingerprint) and the
    /// thread chosen at each decision: what shrinking starts from.
    pub(crate) source: Option<crate::token::TokenScenario>,
    pub(crate) choices: Vec<usize>,
    /// Context switches between scenario threads, and scheduling steps, of the failing schedule.
    pub(crate) switches: usize,
    pub(crate) steps: usize,
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
    pub fn schedule(&self) -> Option<&str> {
        self.0.token.as_deref()
    }

    /// Preemptions in the reported schedule.
    pub fn preemptions(&self) -> usize {
        self.0.preemptions
    }

    /// How many schedules ran until this failure was found, this one included.
    pub fn schedules(&self) -> usize {
        self.0.schedules
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        let message = message.into();
        Failure::new(FailureData {
            kind: FailureKind::Usage { message },
            scenario: Scenario::default(),
            token: None,
            preemptions: 0,
            schedules: 0,
            parts: None,
            source: None,
            choices: Vec::new(),
            switches: 0,
            steps: 0,
        })
    }

    pub(crate) fn data(&self) -> &FailureData<Op> {
        &self.0
    }

    pub(crate) fn data_mut(&mut self) -> &mut FailureData<Op> {
        &mut self.0
    }
}

impl<Op> fmt::Display for Failure<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.parts, &self.0.kind) {
            (Some(parts), _) => f.write_str(&parts.render(&self.0.kind, self.0.schedules, test_name().as_deref())),
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

/// One operation of the scenario as the report shows it.
#[derive(Clone, Debug)]
pub(crate) struct OpLine {
    pub op: String,
    pub output: Option<String>,
    pub expected: Option<String>,
}

impl OpLine {
    fn cell(&self) -> String {
        let output = self.output.as_deref().unwrap_or("(did not return)");
        format!("{} -> {output}", self.op)
    }
}

/// Everything the report text is made of, already rendered to strings.
#[derive(Clone, Debug)]
pub(crate) struct ReportParts {
    pub resource: String,
    pub scheduler: String,
    pub seed: Option<u64>,
    pub preemptions: usize,
    pub shape: String,
    pub init: Vec<OpLine>,
    pub threads: Vec<Vec<OpLine>>,
    pub post: Vec<OpLine>,
    pub interleaving: Vec<String>,
    pub token: Option<String>,
    pub note: Option<String>,
    /// "shrunk from ... to ... in ..."
    pub shrink: Option<String>,
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

impl ReportParts {
    pub(crate) fn render(&self, kind: &FailureKind, schedules: usize, test: Option<&str>) -> String {
        let mut out = String::new();
        if let FailureKind::Internal { .. } = kind {
            out += &format!(
                "crosscheck itself failed while checking {} (a bug in crosscheck, not in your resource): {}\n",
                self.resource,
                kind.title()
            );
        } else {
            out += &format!("crosscheck found a bug in {}: {}\n", self.resource, kind.title());
        }
        let seed = self.seed.map(|s| format!(", seed {s}")).unwrap_or_default();
        out += &format!(
            "  found after {} ({}{seed})\n",
            plural(schedules, "schedule"),
            self.scheduler
        );
        if let Some(shrink) = &self.shrink {
            out += &format!("  {shrink}\n");
        }
        out += "\n";
        out += &match kind {
            FailureKind::NotLinearizable { explanation } => format!("why: {explanation}\n"),
            FailureKind::InvariantViolated { message } => format!("why: the invariant failed: {message}\n"),
            FailureKind::Deadlock { cycle } => {
                let mut s = "why: the threads wait for each other forever:\n".to_string();
                for line in cycle {
                    s += &format!("  {line}\n");
                }
                s
            }
            FailureKind::Panicked { thread, op, message } => format!("why: {thread} panicked in {op}: {message}\n"),
            FailureKind::StepLimitExceeded { steps } => format!(
                "why: an execution took more than {steps} scheduling steps without finishing: probably a spin \
                 loop that waits for progress no other thread makes (a loop that waits must yield or sleep, \
                 and something must end the wait), or a livelock (raise the limit with Checker::max_steps if \
                 the resource really needs that many)\n"
            ),
            FailureKind::Livelock { steps, threads } => {
                let mut s = format!(
                    "why: livelock: no operation completed in {steps} scheduling steps while the threads kept \
                     running; each undoes what the other needs (a retry loop needs a back-off: release, yield or \
                     sleep, then retry):\n"
                );
                for line in threads {
                    s += &format!("  {line}\n");
                }
                s
            }
            FailureKind::LockOrderInversion { edges, deadlock } => {
                let mut s = "why: the locks are taken in orders that form a cycle, so some schedule can deadlock \
                             (lockdep's rule: take locks in one global order):\n"
                    .to_string();
                for line in edges {
                    s += &format!("  {line}\n");
                }
                match deadlock {
                    Some(token) => s += &format!("a schedule that deadlocks on them: {token}\n"),
                    None => s += "no explored schedule deadlocked on them (the order is still a bug waiting for one)\n",
                }
                s
            }
            FailureKind::Usage { message } | FailureKind::Internal { message } => format!("why: {message}\n"),
        };
        out += &format!("\nscenario ({}), each operation -> what it returned:\n", self.shape);
        out += &self.table();
        if !self.interleaving.is_empty() {
            out += &format!("\ninterleaving ({}):\n", plural(self.preemptions, "preemption"));
            for line in &self.interleaving {
                out += &format!("  {line}\n");
            }
        }
        if let Some(note) = &self.note {
            out += &format!("\n{note}\n");
        }
        if let Some(token) = &self.token {
            let test = test.unwrap_or("<test name>");
            out += &format!(
                "\nreplay this exact execution:\n  CROSSCHECK_REPLAY={token} cargo test {test}\n  \
                 or in a test: Checker::<{}>::new().scheduler(Scheduler::Replay(\"{token}\".into())).check();\n",
                self.resource
            );
        }
        out
    }

    /// The scenario as a table: init above, one column per thread, post below; each operation
    /// with its output, and what the model allows where no order explains it.
    fn table(&self) -> String {
        let mut out = String::new();
        let annotated = |line: &OpLine| match &line.expected {
            Some(e) => format!("{}   <- the model allows {e}", line.cell()),
            None => line.cell(),
        };
        for line in &self.init {
            out += &format!("  init  {}\n", annotated(line));
        }
        let columns: Vec<Vec<String>> = self
            .threads
            .iter()
            .map(|ops| {
                let mut cells = Vec::new();
                for op in ops {
                    cells.push(op.cell());
                    if let Some(e) = &op.expected {
                        cells.push(format!("  ^ the model allows {e}"));
                    }
                }
                cells
            })
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(t, c)| {
                c.iter()
                    .map(|s| s.len())
                    .chain([format!("T{}", t + 1).len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let row = |cells: Vec<String>| -> String {
            let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, &w)| format!("{c:w$}")).collect();
            format!("  | {} |\n", padded.join(" | "))
        };
        let rule = format!(
            "  +{}+\n",
            widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("+")
        );
        out += &rule;
        out += &row((1..=columns.len()).map(|t| format!("T{t}")).collect());
        out += &rule;
        let depth = columns.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..depth {
            out += &row(columns.iter().map(|c| c.get(i).cloned().unwrap_or_default()).collect());
        }
        out += &rule;
        for line in &self.post {
            out += &format!("  post  {}\n", annotated(line));
        }
        out
    }
}

/// Renders the recorded events as one line each, with each preemption marked.
pub(crate) fn interleaving(
    events: &[Event],
    labels: &[(usize, Label)],
    objects: &[ObjectInfo],
    op_names: &[String],
    op_outputs: &[Option<String>],
) -> Vec<String> {
    let label = |t: usize| thread_label(labels, t);
    let width = events.iter().map(|e| label(e.thread).len()).max().unwrap_or(4).max(4);
    let obj = |o: usize| ObjectName(objects, o).to_string();
    let op = |i: usize| op_names.get(i).cloned().unwrap_or_else(|| format!("op {i}"));
    let mut lines = Vec::new();
    for e in events {
        let who = label(e.thread);
        let text = match &e.kind {
            EventKind::SwitchedTo { from, preempted } => {
                if *preempted {
                    lines.push(format!("{:-<width$}  preempted {}: {} runs", "", label(*from), who));
                }
                continue;
            }
            EventKind::OpBegin { op: i } => format!("{} begins", op(*i)),
            EventKind::OpEnd { op: i } => format!(
                "{} returns {}",
                op(*i),
                op_outputs.get(*i).cloned().flatten().unwrap_or_else(|| "?".into())
            ),
            EventKind::LockBlocked { obj: o, holder } => match holder {
                Some(h) => format!("  blocks on {} (held by {})", obj(*o), label(*h)),
                None => format!("  blocks on {}", obj(*o)),
            },
            EventKind::LockAcquired { obj: o, shared } => {
                format!("  {} {}", if *shared { "read-locks" } else { "locks" }, obj(*o))
            }
            EventKind::LockReleased { obj: o } => format!("  unlocks {}", obj(*o)),
            EventKind::LockTimedOut { obj: o } => format!("  gives up on {} (timed out)", obj(*o)),
            EventKind::WaitTimedOut { obj: o } => format!("  stops waiting on {} (timed out)", obj(*o)),
            EventKind::Wait { obj: o } => format!("  waits on {}", obj(*o)),
            EventKind::Notify { obj: o, all } => {
                format!(
                    "  {} {}",
                    if *all { "notifies all on" } else { "notifies one on" },
                    obj(*o)
                )
            }
            EventKind::Load { obj: o, value } => format!("  loads {} -> {value}", obj(*o)),
            EventKind::Store { obj: o, value } => format!("  stores {} <- {value}", obj(*o)),
            EventKind::Rmw { obj: o, old, new } => format!("  updates {}: {old} -> {new}", obj(*o)),
            EventKind::CasFailed { obj: o, current } => {
                format!("  compare-exchange on {} fails (it holds {current})", obj(*o))
            }
            EventKind::FileWrite { obj: o, bytes } => {
                format!("  writes {:?} to {}", String::from_utf8_lossy(bytes), obj(*o))
            }
            EventKind::FileRead { obj: o, len } => format!("  reads {len} bytes of {}", obj(*o)),
        };
        lines.push(format!("{who:width$}  {text}"));
    }
    lines
}
