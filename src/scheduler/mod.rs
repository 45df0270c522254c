//! Which interleavings a check explores.
//!
//! [`Scheduler`] names a strategy; the strategies themselves are crosscheck's own (one file each),
//! driven by crosscheck's execution engine (`crate::engine`). Owning them keeps results independent
//! of any runtime's seeds, lets crosscheck bound preemptions, and turns a replay that no longer
//! fits into a clear error instead of a panic.
//!
//! # Choices that are not threads
//!
//! Besides which thread runs, a strategy decides the points where an operation itself can go
//! several ways ([`Alternatives`]: a wait that may return spuriously, a weak CAS that may fail; early
//! park returns and logical timeouts would plug in the same way). The facade asks through
//! `runtime::choose(kind, count)`, the driver hands the question to [`Strategy::choose`] and
//! records the answer as a [`Choice::Alternative`] in the same schedule as the thread choices, in
//! execution order. So, with no extra work per kind:
//!
//! - replay tokens replay the answers (a token lists which schedule entries are alternatives);
//! - `Random`/`Pct` draw them, `Dfs` explores every alternative as a branch, and `Bounded` counts
//!   every non-zero alternative against its bound like a preemption;
//! - shrinking drops the ones a failure does not need (its bounded search minimises preemptions
//!   plus surprises), and `Replay::lenient` falls back to alternative 0 where a recorded one no
//!   longer fits;
//! - `Checker::spurious(false)` (the record's `surprises_on`) makes every point answer 0 without
//!   asking, so nothing is recorded.
//!
//! Alternative 0 must be the behaviour a plain run has. A kind whose points can repeat without
//! progress (a retry loop) needs a bound so exhaustive searches stay finite: `runtime::choose` does
//! not offer a thread's next point of a kind right after one that took a surprise.

mod dfs;
mod dpor;
mod fuzz;
mod pct;
mod portfolio;
mod pos;
mod random;
mod replay;
mod rff;
mod surw;

pub(crate) use dfs::Dfs;
pub(crate) use dpor::Dpor;
pub(crate) use fuzz::FuzzSchedule;
pub(crate) use pct::Pct;
pub(crate) use portfolio::Portfolio;
pub(crate) use pos::Pos;
pub(crate) use random::Random;
pub(crate) use replay::Replay;
pub(crate) use rff::Rff;
pub(crate) use surw::Surw;

use crate::record::{Access, Event, Footprint};

/// How a check chooses which thread runs at each scheduling point, and on which backend.
///
/// Every budget is counted in schedules (executions), never in seconds, so a check does the same
/// work on a fast machine and a slow one.
///
/// The controlled schedulers (`Random`, `Pct`, `Dfs`, `Bounded`, `Portfolio` of them, `Replay`)
/// run on shuttle: deterministic, replayable, sequentially consistent. They also decide the
/// surprises std permits, spurious condition-variable wakeups and spurious weak-CAS failures
/// (see [`Checker::spurious`](crate::Checker::spurious)): `Random` and `Pct` at random, `Dfs` and
/// `Bounded` as extra branches (`Bounded` counting each against its bound like a preemption). `Loom` runs on loom:
/// exhaustive up to a preemption bound, with weak-memory outcomes. `Stress` runs on real OS threads:
/// no control at all, the real machine's behaviour. The resource is written once, against
/// [`crate::sync`], and runs under each of them in the same test binary.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheduler {
    /// At each scheduling point, pick a runnable thread uniformly at random.
    Random,
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random thread
    /// priorities with `depth - 1` priority change points per execution. Finds a bug that needs
    /// `depth - 1` preemptions with a probability that does not shrink with the program's length.
    Pct {
        /// The bug depth to target; 2 or 3 finds most races. At least 1.
        depth: usize,
    },
    /// Depth-first search of every interleaving of each scenario up to equivalence: dynamic
    /// partial-order reduction runs one schedule per class of schedules that differ only in the
    /// order of independent steps, where steps are independent when their accesses do not conflict
    /// and they cannot change the real-time order of two operations the model checks together
    /// (see `Model::partition`). Stops after `max_iterations` schedules of one scenario if given
    /// (the check's `iterations` budget applies too). The surprises std permits (spurious wakeups,
    /// weak-CAS failures, early park returns) are branches of the search: every alternative of
    /// every choice point is explored, and a thread is never offered two surprises of one kind in
    /// a row, which keeps the search finite.
    Dfs {
        /// Caps the exhaustive search of one scenario.
        max_iterations: Option<usize>,
    },
    /// Every interleaving of each scenario, without reduction: the reference the reduced `Dfs` is
    /// tested against.
    #[doc(hidden)]
    DfsUnreduced {
        /// Caps the exhaustive search of one scenario.
        max_iterations: Option<usize>,
    },
    /// Depth-first search of the interleavings with at most `preemptions` preemptions: most bugs
    /// need only one or two, and the search is then small. A surprise (a spurious wakeup, weak-CAS
    /// failure or early park return) counts against the bound like a preemption. Reduced like
    /// `Dfs` (bounded partial-order reduction, Coons et al. OOPSLA 2013): schedules that differ
    /// only in the order of independent steps run once, and every bug that a schedule within the
    /// bound shows is still found.
    Bounded {
        /// The most preemptions a schedule may have.
        preemptions: usize,
    },
    /// Every interleaving with at most `preemptions` preemptions, without reduction: the reference
    /// the reduced `Bounded` is tested against.
    #[doc(hidden)]
    BoundedUnreduced {
        /// The most preemptions a schedule may have.
        preemptions: usize,
    },
    /// Rerun exactly the scenario and schedule a replay token describes (see
    /// [`Failure::schedule`](crate::Failure::schedule)). No other setting is needed. A token from a
    /// `Loom` failure reruns under loom.
    Replay(String),
    /// Several controlled schedulers sharing each scenario's schedules in turn (an equal part each;
    /// a systematic member that finishes early passes its turns on). The default is one: see
    /// [`Scheduler::default`].
    Portfolio(Vec<Scheduler>),
    /// Every interleaving of each scenario under loom, up to `preemption_bound` preemptions (`None`:
    /// unbounded), including the values `Relaxed`, `Acquire` and `Release` atomics may read on weak
    /// memory, which the shuttle schedulers never produce. `iterations` caps the executions; the
    /// report says whether loom finished ([`Report::incomplete`](crate::Report::incomplete)).
    /// Loom models at most 4 scenario threads; keep scenarios small (2 threads, or a bound of 1-2).
    /// Loom produces no spurious wakeups or weak-CAS failures: check code that must survive them
    /// under a controlled scheduler too.
    Loom {
        /// The most preemptions an execution may have; 1-2 finds most bugs in tens of executions.
        preemption_bound: Option<usize>,
    },
    /// Real OS threads on the real cores, released together by a barrier, with `crate::sync`
    /// mapping to std: each iteration runs one scenario once and checks the history built from
    /// timestamps. Nothing is controlled, so a failure has no replay token; crosscheck re-runs its
    /// scenario under shuttle to offer a shrunk, replayable report. Give threads many operations
    /// (`ops_per_thread(100..=200)`) so that they overlap.
    Stress,
    /// Selectively uniform random walk (Wang et al., ASPLOS 2025): the next thread is drawn with
    /// probability proportional to the shared-object accesses it has left (estimated from the
    /// previous execution of the scenario), which samples interleavings of the accesses uniformly
    /// where `Random` favours those in which short threads finish first.
    Surw,
    /// Partial order sampling (Yuan et al., CAV 2018): random priorities on each thread's next
    /// event, re-drawn for the threads whose next event races with the one that just ran. Strong
    /// with many threads: a bug that needs one thread's access between two of another's is found
    /// about as often as the two orders of any race.
    Pos,
    /// Reads-from feedback in the spirit of RFF (Wolff et al., ASPLOS 2024): executions that show a
    /// new reads-from pair (which write an atomic load observed) are kept and mutated, each
    /// mutation moving one load before the write it read so that it observes an older value; the
    /// other executions are partial order sampling. The strongest on bugs where one thread must
    /// read between two writes of another among many threads.
    Rff,
}

impl Scheduler {
    /// The strategy a (non-replay) scheduler setting runs for plan `i`.
    pub(crate) fn strategy(&self, seed: u64, i: usize) -> Box<dyn Strategy> {
        let s = mix(seed, i as u64);
        match self {
            Scheduler::Random | Scheduler::Replay(_) => Box::new(Random::new(s)),
            Scheduler::Pct { depth } => Box::new(Pct::new(s, *depth)),
            Scheduler::Surw => Box::new(Surw::new(s)),
            Scheduler::Pos => Box::new(Pos::new(s)),
            Scheduler::Rff => Box::new(Rff::new(s)),
            Scheduler::Dfs { max_iterations } => Box::new(Capped::new(Dpor::new(None), *max_iterations)),
            Scheduler::DfsUnreduced { max_iterations } => Box::new(Capped::new(Dfs::new(None), *max_iterations)),
            Scheduler::Bounded { preemptions } => Box::new(Dpor::new(Some(*preemptions))),
            Scheduler::BoundedUnreduced { preemptions } => Box::new(Dfs::new(Some(*preemptions))),
            Scheduler::Portfolio(members) => self.strategy_part(seed, i, &(0..members.len()).collect::<Vec<_>>()),
            // Loom and stress failures are reproduced and shrunk under shuttle: the default portfolio.
            Scheduler::Loom { .. } | Scheduler::Stress => Scheduler::default().strategy(seed, i),
        }
    }

    /// The strategy for scenario `i` with only the portfolio members `keep` (indices into the
    /// portfolio), each seeded as in the whole portfolio, so that each runs the schedules it runs
    /// there: a shard's part of a scenario. Other schedulers have one member and ignore `keep`.
    pub(crate) fn strategy_part(&self, seed: u64, i: usize, keep: &[usize]) -> Box<dyn Strategy> {
        match self {
            Scheduler::Portfolio(members) => Box::new(Portfolio::new(
                keep.iter()
                    .map(|&k| {
                        let m = &members[k];
                        (format!("{m:?}"), m.strategy(mix(seed, 1_000 + k as u64), i))
                    })
                    .collect(),
            )),
            _ => self.strategy(seed, i),
        }
    }

    /// How many independent strategies share each scenario's schedules: a portfolio's members.
    pub(crate) fn members(&self) -> usize {
        match self {
            Scheduler::Portfolio(members) => members.len().max(1),
            _ => 1,
        }
    }

    /// The default portfolio: every member gets an equal part of each scenario's schedules.
    pub fn recommended() -> Scheduler {
        Scheduler::Portfolio(vec![
            Scheduler::Bounded { preemptions: 0 },
            Scheduler::Bounded { preemptions: 1 },
            Scheduler::Bounded { preemptions: 2 },
            Scheduler::Rff,
            Scheduler::Pct { depth: 2 },
            Scheduler::Pct { depth: 3 },
            Scheduler::Random,
        ])
    }

    /// How reports name this scheduler: its `Debug` form, except the default portfolio, whose
    /// members are listed in the docs.
    pub(crate) fn label(&self) -> String {
        if *self == Scheduler::recommended() {
            "default portfolio".to_string()
        } else {
            format!("{self:?}")
        }
    }

    /// Why this scheduler cannot run as given, if it cannot.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self {
            Scheduler::Pct { depth: 0 } => {
                Err("Pct { depth: 0 } is not a PCT depth: use 1 or more (2-3 finds most races)".into())
            }
            Scheduler::Portfolio(members) if members.is_empty() => Err(
                "Portfolio(vec![]) has no member to run: give it at least one scheduler (Scheduler::default() is a \
                 portfolio)"
                    .into(),
            ),
            Scheduler::Portfolio(members) => {
                if let Some(m) = members
                    .iter()
                    .find(|m| !m.is_controlled() || matches!(m, Scheduler::Replay(_)))
                {
                    return Err(format!(
                        "{m:?} cannot be a Portfolio member: members share each scenario's shuttle schedules, so \
                         they must be Random, Pct, Dfs, Bounded or Portfolio; run Loom and Stress as checks of \
                         their own"
                    ));
                }
                members.iter().try_for_each(Scheduler::validate)
            }
            _ => Ok(()),
        }
    }

    /// True for the schedulers that run on shuttle (everything but `Loom` and `Stress`).
    pub(crate) fn is_controlled(&self) -> bool {
        match self {
            Scheduler::Loom { .. } | Scheduler::Stress => false,
            Scheduler::Portfolio(members) => members.iter().all(Scheduler::is_controlled),
            _ => true,
        }
    }
}

impl Default for Scheduler {
    /// [`Scheduler::recommended`]: a portfolio of a preemption-bounded exhaustive pass (bounds 0,
    /// 1 and 2: on small scenarios it finishes and covers every schedule with few preemptions, where
    /// most bugs are), reads-from feedback (`Rff`: bugs among many threads, where one read must fall
    /// between two writes), PCT with depths 2 and 3 (probabilistic guarantees for deeper bugs and
    /// larger scenarios), and uniform random (no bias at all), taking turns on each scenario.
    fn default() -> Self {
        Scheduler::recommended()
    }
}

/// One entry of a schedule: a decision the strategy made where the execution could go several ways.
///
/// A schedule (what a replay token stores, what shrinking edits) is the sequence of these in the
/// order the execution asked for them. The execution is deterministic given its schedule, so a
/// replay meets the same kinds of decision in the same order; the tag lets a replay say where a
/// schedule stops fitting, and lets shrinking renumber threads without touching alternatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Choice {
    /// Which thread ran (a shuttle task id), at a point where several could.
    Thread(usize),
    /// Which of a point's [`Alternatives`] happened (0 is the unsurprising one).
    Alternative(usize),
}

/// What a non-thread choice decides. Each kind is a behaviour std permits but a plain controlled
/// run never shows; new kinds (logical timeouts, ...) are added here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ChoiceKind {
    /// `Condvar::wait`/`wait_timeout`: 1 returns without a notification.
    SpuriousWake,
    /// `compare_exchange_weak` whose value matched: 1 fails anyway.
    SpuriousCasFailure,
    /// `thread::park` with no token: 1 returns without an unpark.
    EarlyParkReturn,
    /// `fs::File`'s `write` (with `Checker::short_writes`): 1 writes only the first half.
    ShortWrite,
}

/// A point where the execution can go one of `count` ways that are not about which thread runs.
///
/// Alternative 0 is always the unsurprising one (the wait that waits for its notification, the
/// weak CAS that succeeds). Every other alternative is a *surprise*: the bounded exhaustive search
/// counts each one against its bound like a preemption, so bound 0 explores none and shrinking
/// (which searches bound 0, 1, 2, ...) keeps only the surprises a failure needs.
///
/// How to add a choice point (for a facade operation): call [`crate::runtime::choose`] with the
/// kind and the number of alternatives at the moment the behaviour forks; it returns the
/// alternative to follow (0 outside a controlled run, or when the check turned the kind off) and
/// records it in the schedule, so tokens replay it and shrinking can drop it. Record an event that
/// names the surprise, so the report marks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Alternatives {
    pub kind: ChoiceKind,
    /// At least 2.
    pub count: usize,
    /// The task at this point.
    pub thread: usize,
}

/// A strategy decides, at each point where an execution can go several ways, which way it goes:
/// which of several runnable threads runs (shuttle task ids, sorted ascending), and which of a
/// point's [`Alternatives`] happens. Both kinds of decision land in one schedule ([`Choice`]).
pub(crate) trait Strategy {
    /// Prepares the next execution; `false` when the strategy has nothing left to explore.
    fn new_execution(&mut self) -> bool;

    /// Picks the next thread. Only called when at least two threads can run. `current` is the
    /// thread that ran last, `can_continue` whether it may keep running without a preemption
    /// counted (it is runnable, did not yield, and is a scenario thread). `None` stops the
    /// execution.
    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize>;

    /// For a strategy whose pick depends only on how many threads can run (a uniform random
    /// walk): the index of the thread to run among `count` runnable ones, as [`Strategy::next`]
    /// would pick it. `None` (the default): the driver lists the runnable threads and calls
    /// [`Strategy::next`]. Wide scenarios have many runnable threads at each point, and listing
    /// them costs the driver a copy of every one at every point.
    fn next_index(&mut self, _count: usize) -> Option<usize> {
        None
    }

    /// Picks one of `point.count` alternatives (`< point.count`; 0 is the unsurprising one). Called
    /// between thread choices, in execution order. `None` stops the execution (a replay that does
    /// not fit).
    fn choose(&mut self, point: &Alternatives) -> Option<usize>;

    /// True once a systematic strategy has explored everything it was asked to.
    fn exhausted(&self) -> bool {
        false
    }

    /// For a portfolio: the member that chose the current execution's threads.
    fn describe(&self) -> Option<String> {
        None
    }

    /// For a replay: why the recorded schedule does not fit the execution that ran (checked after
    /// the execution ends, or when `next` returned `None`).
    fn divergence(&self) -> Option<String> {
        None
    }

    /// Whether the strategy wants to know what the runnable threads will do next: the driver then
    /// calls [`Strategy::upcoming`] before each [`Strategy::next`].
    fn wants_upcoming(&self) -> bool {
        false
    }

    /// What each runnable thread (aligned with `next`'s `runnable`) will do next.
    fn upcoming(&mut self, _upcoming: &Upcoming<'_>) {}

    /// After every scheduling point, chosen by the strategy or not (when it wants upcoming
    /// accesses): the task that runs now, and the access it makes in this step with its index
    /// among the task's accesses. A task blocked on a lock is told again when it is chosen again.
    fn ran(&mut self, _task: usize, _access: Option<(Access, usize)>) {}

    /// Whether the strategy wants each step's footprint: the driver then calls
    /// [`Strategy::stepped`] as each step ends (before the next `next`, and once more after the
    /// execution's last step).
    fn wants_steps(&self) -> bool {
        false
    }

    /// The footprint of the step that just ended.
    fn stepped(&mut self, _step: &Footprint) {}

    /// When an execution has ended (for a strategy that wants upcoming accesses): its events, which
    /// hold the value each atomic access read or wrote. Called before the next `new_execution`.
    fn finished(&mut self, _events: &[Event]) {}
}

/// What the runnable threads of a scheduling point will do next, each aligned with the runnable
/// list.
pub(crate) struct Upcoming<'a> {
    /// The access each runnable thread announced and will make as soon as it runs; `None` for a
    /// thread whose next step makes none (it has not started, yields, or is just past a release).
    pub accesses: &'a [Option<Access>],
    /// How many accesses each runnable thread has left, estimated from the previous execution of
    /// the same scenario (0 when unknown).
    pub remaining: &'a [usize],
}

/// The threads an exhaustive search can run at a new point, in the order it tries them (the
/// current thread first, so the first option never preempts), with whether each is a preemption.
pub(crate) fn thread_options(runnable: &[usize], current: Option<usize>, yielding: bool) -> (Vec<usize>, Vec<bool>) {
    let mut options: Vec<usize> = Vec::with_capacity(runnable.len());
    if let Some(c) = current.filter(|c| runnable.contains(c)) {
        options.push(c);
    }
    let first = options.first().copied();
    options.extend(runnable.iter().copied().filter(|&t| Some(t) != first));
    let preempts = options
        .iter()
        .map(|&t| is_preemption(runnable, current, yielding, t))
        .collect();
    (options, preempts)
}

/// Whether choosing `choice` preempts `current`: it could have continued, did not yield, and is not
/// the harness's main thread (task 0), whose spawns and joins are not the scenario's.
pub(crate) fn is_preemption(runnable: &[usize], current: Option<usize>, yielding: bool, choice: usize) -> bool {
    preempts(current, yielding, choice, |c| runnable.contains(&c))
}

/// [`is_preemption`] for a caller that can tell whether a thread is runnable without a list of
/// them (`can_run`, asked last and only about `current`).
pub(crate) fn preempts(
    current: Option<usize>,
    yielding: bool,
    choice: usize,
    can_run: impl FnOnce(usize) -> bool,
) -> bool {
    match current {
        Some(c) => c != 0 && c != choice && !yielding && can_run(c),
        None => false,
    }
}

/// A 64-bit mix of a seed and a stream index (splitmix64), for per-scenario seeds.
pub(crate) fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stops a strategy after `cap` executions of one scenario.
pub(crate) struct Capped<S> {
    inner: S,
    cap: Option<usize>,
    runs: usize,
}

impl<S> Capped<S> {
    pub(crate) fn new(inner: S, cap: Option<usize>) -> Self {
        Capped { inner, cap, runs: 0 }
    }
}

impl<S: Strategy> Strategy for Capped<S> {
    fn new_execution(&mut self) -> bool {
        if self.cap.is_some_and(|c| self.runs >= c) {
            return false;
        }
        self.runs += 1;
        self.inner.new_execution()
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        self.inner.next(runnable, current, yielding)
    }

    fn next_index(&mut self, count: usize) -> Option<usize> {
        self.inner.next_index(count)
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        self.inner.choose(point)
    }

    fn exhausted(&self) -> bool {
        self.inner.exhausted()
    }

    fn wants_upcoming(&self) -> bool {
        self.inner.wants_upcoming()
    }

    fn upcoming(&mut self, upcoming: &Upcoming<'_>) {
        self.inner.upcoming(upcoming)
    }

    fn ran(&mut self, task: usize, access: Option<(Access, usize)>) {
        self.inner.ran(task, access)
    }

    fn wants_steps(&self) -> bool {
        self.inner.wants_steps()
    }

    fn stepped(&mut self, step: &Footprint) {
        self.inner.stepped(step)
    }
}
