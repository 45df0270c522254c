//! Fuzzing with cargo-fuzz: coverage guidance steers both which operations run and how the
//! threads interleave.
//!
//! A fuzz target is one line:
//!
//! ```ignore
//! #![no_main]
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| crosscheck::fuzz::run::<crosscheck::resources::RacyCounter>(data));
//! ```
//!
//! Take raw bytes rather than a typed input (`|input: FuzzInput<_>|`): libfuzzer-sys silently
//! skips inputs shorter than a type's minimum size, and decoding inside the library means the
//! fuzzer, `cargo test` (through [`check`]) and `./fuzz.sh repro` read an input the same way.
//!
//! [`run`] decodes the bytes into a [`FuzzInput`] (a scenario and a schedule), runs that one
//! execution under shuttle, checks it exactly as [`Checker`](crate::Checker) does, and on failure prints
//! crosscheck's report (with a replay token) to stderr and aborts, so that libFuzzer saves the
//! input as a crash. The token replays with [`Scheduler::Replay`](crate::Scheduler::Replay) in a
//! normal `cargo test`.
//!
//! ## Input layout
//!
//! ```text
//! [threads] [ops of T1] .. [ops of Tn] [init] [post]   counts, each taken modulo its limit
//! [op chunk] ...                                       Op::size_hint bytes per op: init, T1.., post
//! [schedule byte] ...                                  the rest: one byte per scheduling choice
//! ```
//!
//! Missing bytes read as 0, so every byte string decodes (short ones to one thread running one
//! operation sequentially). A count of 0 means the least (1 thread, 1 op, no init or post part),
//! and a schedule byte of 0 means "keep running the current thread": bytes that `cargo fuzz tmin`
//! zeroes make the scenario smaller and the schedule more sequential.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};

use crate::backend::shuttle::{self, RunSettings};
use crate::plan::{Plan, StrategyFactory};
use crate::record::short_name;
use crate::report::{Failure, FailureKind};
use crate::resource::Resource;
use crate::runtime::panics;
use crate::scenario::{self, Chunks, Scenario};
use crate::scheduler::{FuzzSchedule, Strategy};
use crate::token::TokenScenario;

/// The sizes a fuzz input can ask for. Each count byte is taken modulo its limit, so every byte
/// string stays within them.
///
/// ```
/// use crosscheck::fuzz::FuzzLimits;
/// let wide = FuzzLimits { max_threads: 4, ..FuzzLimits::default() };
/// assert_eq!((wide.max_threads, wide.max_ops_per_thread), (4, 3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuzzLimits {
    /// Threads in the parallel part: 1 to this many (at least 1, at most 255).
    pub max_threads: usize,
    /// Operations per thread: 1 to this many (at least 1, at most 255).
    pub max_ops_per_thread: usize,
    /// Operations before the threads start: 0 to this many (at most 255).
    pub max_init: usize,
    /// Operations after every thread has joined: 0 to this many (at most 255).
    pub max_post: usize,
}

impl Default for FuzzLimits {
    /// 1-3 threads x 1-3 operations, 0-2 init and post operations: small enough that a history is
    /// checked in microseconds, large enough for every built-in bug.
    fn default() -> Self {
        FuzzLimits {
            max_threads: 3,
            max_ops_per_thread: 3,
            max_init: 2,
            max_post: 2,
        }
    }
}

impl FuzzLimits {
    /// Limits picked by one byte (two bits each: 1-4 threads, 1-4 ops, 0-3 init, 0-3 post), for a
    /// target that fuzzes the limits too, such as crosscheck's `decode` target.
    pub fn from_byte(b: u8) -> Self {
        let field = |shift: u8| usize::from(b >> shift & 3);
        FuzzLimits {
            max_threads: 1 + field(0),
            max_ops_per_thread: 1 + field(2),
            max_init: field(4),
            max_post: field(6),
        }
    }
}

/// Why fuzz bytes do not make an input: an operation's `Arbitrary` implementation rejected its
/// bytes. The input is uninteresting, not a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the fuzz input does not decode to a scenario: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// One decoded fuzz input: a scenario, the same scenario in crosscheck's own byte layout (what a
/// replay token holds), and the scheduling bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct FuzzInput<Op> {
    scenario: Scenario<Op>,
    scenario_bytes: Vec<u8>,
    schedule: Vec<u8>,
}

impl<Op: for<'a> Arbitrary<'a>> FuzzInput<Op> {
    /// Decodes fuzz bytes (see the module documentation for the layout); everything after the
    /// scenario is the schedule.
    pub fn decode(data: &[u8], limits: &FuzzLimits) -> Result<Self, DecodeError> {
        let mut u = Unstructured::new(data);
        let (scenario, scenario_bytes) = read_scenario::<Op>(&mut u, limits)?;
        Ok(FuzzInput {
            scenario,
            scenario_bytes,
            schedule: u.take_rest().to_vec(),
        })
    }
}

impl<Op> FuzzInput<Op> {
    /// The scenario the input runs.
    pub fn scenario(&self) -> &Scenario<Op> {
        &self.scenario
    }

    /// The scenario in crosscheck's scenario layout: the bytes a replay token of it carries.
    pub fn scenario_bytes(&self) -> &[u8] {
        &self.scenario_bytes
    }

    /// The same input with another schedule (empty: run the threads one after another).
    pub fn with_schedule(mut self, schedule: Vec<u8>) -> Self {
        self.schedule = schedule;
        self
    }

    /// Fuzz bytes that [`FuzzInput::decode`] (under limits that admit this scenario) reads back to
    /// this input, with every padding byte written out: for writing corpus files.
    pub fn encode(&self) -> Vec<u8> {
        // The scenario bytes were laid out from this input, so they parse.
        let chunks = Chunks::parse(&self.scenario_bytes).expect("a decoded input's own layout");
        let mut bytes = vec![(chunks.threads.len() as u8).saturating_sub(1)];
        bytes.extend(chunks.threads.iter().map(|t| (t.len() as u8).saturating_sub(1)));
        bytes.extend([chunks.init.len() as u8, chunks.post.len() as u8]);
        let ops = chunks.init.iter().chain(chunks.threads.iter().flatten());
        for chunk in ops.chain(chunks.post.iter()) {
            bytes.extend_from_slice(chunk);
        }
        bytes.extend_from_slice(&self.schedule);
        bytes
    }

    /// The scheduling bytes, one per point where several threads can run (0: keep the current
    /// thread; `b`: the `(b - 1) % n`-th of the `n` other runnable threads); missing ones read as 0.
    pub fn schedule(&self) -> &[u8] {
        &self.schedule
    }
}

/// Reads the counts and the operations' bytes (zero-padded where the data ends), lays them out as
/// crosscheck's scenario bytes, and decodes those, so that the scenario that runs is exactly the
/// one a replay token of it names.
fn read_scenario<Op: for<'a> Arbitrary<'a>>(
    u: &mut Unstructured<'_>,
    limits: &FuzzLimits,
) -> Result<(Scenario<Op>, Vec<u8>), DecodeError> {
    let mut byte = || -> usize {
        let mut b = [0u8];
        // `fill_buffer` pads with zeros and never fails.
        let _ = u.fill_buffer(&mut b);
        usize::from(b[0])
    };
    let max_threads = limits.max_threads.clamp(1, 255);
    let max_ops = limits.max_ops_per_thread.clamp(1, 255);
    let threads = 1 + byte() % max_threads;
    let per_thread: Vec<usize> = (0..threads).map(|_| 1 + byte() % max_ops).collect();
    let init = byte() % (limits.max_init.min(255) + 1);
    let post = byte() % (limits.max_post.min(255) + 1);

    let bytes = scenario::lay_out(init, &per_thread, post, scenario::chunk_len::<Op>(), |chunk| {
        let _ = u.fill_buffer(chunk);
    });
    let scenario = scenario::decode::<Op>(&bytes).map_err(|e| DecodeError(e.to_string()))?;
    Ok((scenario, bytes))
}

/// With the default [`FuzzLimits`]. `arbitrary_take_rest` (what a typed fuzz target uses) takes
/// every remaining byte as the schedule; `arbitrary` takes a length-prefixed one.
impl<'a, Op: for<'b> Arbitrary<'b>> Arbitrary<'a> for FuzzInput<Op> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let (scenario, scenario_bytes) =
            read_scenario::<Op>(u, &FuzzLimits::default()).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        Ok(FuzzInput {
            scenario,
            scenario_bytes,
            schedule: Vec::<u8>::arbitrary(u)?,
        })
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        FuzzInput::decode(u.take_rest(), &FuzzLimits::default()).map_err(|_| arbitrary::Error::IncorrectFormat)
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        // Missing bytes read as zeros: even no bytes at all make an input.
        (0, None)
    }
}

/// Runs one fuzz input of `R` (default [`FuzzLimits`]) and checks it as [`Checker`](crate::Checker) does.
/// Bytes that do not decode are uninteresting and pass; only a failure of the resource (or of
/// crosscheck itself) is an `Err`, with the full report and a replay token.
///
/// ```
/// use crosscheck::resources::{LockedCounter, RacyCounter};
/// // Counts: 2 threads x 1 op, post 1. Ops (4 bytes each): Inc, Inc, Get. Schedule: keep going
/// // twice, then switch from T1 (between its load and its store) to T2.
/// let data = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 1];
/// assert!(crosscheck::fuzz::check::<LockedCounter>(&data).is_ok());
/// let failure = crosscheck::fuzz::check::<RacyCounter>(&data).unwrap_err();
/// assert!(failure.to_string().contains("not linearizable"));
/// ```
pub fn check<R: Resource>(data: &[u8]) -> Result<(), Failure<R::Op>> {
    check_with::<R>(data, &FuzzLimits::default())
}

/// [`check`] with chosen limits.
pub fn check_with<R: Resource>(data: &[u8], limits: &FuzzLimits) -> Result<(), Failure<R::Op>> {
    let Ok(input) = FuzzInput::<R::Op>::decode(data, limits) else {
        return Ok(());
    };
    match execute::<R>(input) {
        // No fuzz input configures anything, so a usage error cannot be the resource's bug.
        Err(failure) if matches!(failure.kind(), FailureKind::Usage { .. }) => Ok(()),
        other => other,
    }
}

/// [`check`], and a failure shrunk to the smallest scenario and schedule that still show the same
/// bug, as `Checker::run` would report it: what turns a crash saved by `cargo fuzz run` into a
/// minimal report and replay token (`./fuzz.sh repro`). Shrinking runs outside the fuzz process,
/// since it needs many executions.
pub fn explain<R: Resource>(data: &[u8]) -> Result<(), Failure<R::Op>> {
    explain_with::<R>(data, &FuzzLimits::default())
}

/// [`explain`] with chosen limits.
pub fn explain_with<R: Resource>(data: &[u8], limits: &FuzzLimits) -> Result<(), Failure<R::Op>> {
    let failure = match check_with::<R>(data, limits) {
        Ok(()) => return Ok(()),
        Err(failure) => failure,
    };
    let settings = crate::Checker::<R>::new().shrink_settings()?;
    Err(crate::shrink::shrink::<R>(
        failure,
        &crate::Scheduler::Random,
        0,
        &settings,
    ))
}

/// Runs a decoded input: one plan, one schedule (the engine keeps its threads' stacks between
/// inputs: a fresh stack for every thread cost most of an input's time).
fn execute<R: Resource>(input: FuzzInput<R::Op>) -> Result<(), Failure<R::Op>> {
    let (plans, make, settings) = prepare::<R>(input);
    shuttle::run::<R>(plans, make, settings).map(|_| ())
}

/// What a decoded input runs: its plan, its schedule, and the settings of a check.
fn prepare<R: Resource>(input: FuzzInput<R::Op>) -> (Vec<Plan<R::Op>>, StrategyFactory, RunSettings) {
    let FuzzInput {
        scenario,
        scenario_bytes,
        schedule,
    } = input;
    let plan = Plan {
        scenario: Arc::new(scenario),
        source: TokenScenario::Bytes(scenario_bytes),
    };
    let make: StrategyFactory =
        Box::new(move |_| -> Box<dyn Strategy> { Box::new(FuzzSchedule::new(schedule.clone())) });
    let settings = RunSettings {
        budget: 1,
        max_steps: crate::DEFAULT_MAX_STEPS,
        livelock_steps: crate::DEFAULT_LIVELOCK_STEPS,
        // One execution is judged on its own: the lock-order analysis, which reports what a set
        // of executions shows, is for checks.
        lock_order: false,
        check_budget: crate::checker::DEFAULT_CHECK_BUDGET,
        scheduler: "fuzz".to_string(),
        seed: None,
        keep_going: false,
        shares: None,
        spurious: true,
        short_writes: false,
    };
    (vec![plan], make, settings)
}

/// The fuzz target's body: [`check`], and on failure print the report to stderr and abort the
/// process, which is how libFuzzer learns of a crash.
pub fn run<R: Resource>(data: &[u8]) {
    run_with::<R>(data, &FuzzLimits::default())
}

/// [`run`] with chosen limits.
pub fn run_with<R: Resource>(data: &[u8], limits: &FuzzLimits) {
    // libfuzzer-sys's panic hook aborts at the first panic, before anything can report it; shuttle
    // reports deadlocks by panicking. crosscheck's quiet hook captures every panic while this
    // guard lives, so the run ends in a report here, or in a clear message if crosscheck itself
    // panicked.
    let quiet = panics::Quiet::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| check_with::<R>(data, limits)));
    let message = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(failure)) => failure.to_string(),
        Err(payload) => format!(
            "crosscheck itself panicked while running a fuzz input of {} (a bug in crosscheck): {}\n",
            short_name(std::any::type_name::<R>()),
            panics::message(&*payload)
        ),
    };
    drop(quiet);
    eprintln!("\n{message}\ncrosscheck::fuzz: aborting so that libFuzzer saves this input as a crash");
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::CounterOp;

    #[test]
    fn the_kept_runner_reports_what_a_new_runner_reports() {
        use crate::resources::{LockedCounter, RacyCounter};
        // Inputs of a buggy and a correct resource, interleaved on one thread: each kept runner
        // resumes after the other's runs and after its own failures.
        let mut state = 99_u64;
        let random = (0..120).map(|len| -> Vec<u8> {
            (0..len % 40)
                .map(|_| {
                    state = crate::scheduler::mix(state, 3);
                    state as u8
                })
                .collect()
        });
        // The race of `check`'s example, and a sequential run of the same scenario.
        let known = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 0, 0, 1];
        let inputs = [known.to_vec(), known[..16].to_vec(), known.to_vec()]
            .into_iter()
            .chain(random);
        let mut failures = 0;
        for data in inputs {
            let fresh = |data: &[u8]| {
                let input = FuzzInput::<CounterOp>::decode(data, &FuzzLimits::default()).unwrap();
                let (plans, make, settings) = prepare::<RacyCounter>(input);
                shuttle::run::<RacyCounter>(plans, make, settings)
                    .map(|_| ())
                    .map_err(|f| f.to_string())
            };
            let kept = check::<RacyCounter>(&data).map_err(|f| f.to_string());
            assert_eq!(kept, fresh(&data), "input {data:?}");
            failures += usize::from(kept.is_err());
            assert!(check::<LockedCounter>(&data).is_ok(), "input {data:?}");
        }
        assert!(failures >= 2, "only {failures} of the inputs found the race");
    }

    #[test]
    fn no_bytes_make_one_thread_running_one_op() {
        let input = FuzzInput::<CounterOp>::decode(&[], &FuzzLimits::default()).unwrap();
        assert_eq!(input.scenario().threads.len(), 1);
        assert_eq!(input.scenario().len(), 1);
        assert!(input.schedule().is_empty());
    }

    #[test]
    fn the_layout_decodes_to_the_same_scenario_within_the_limits() {
        let limits = FuzzLimits {
            max_threads: 2,
            max_ops_per_thread: 4,
            max_init: 1,
            max_post: 0,
        };
        let mut state = 0x1234_5678_u64;
        for len in 0..400 {
            let data: Vec<u8> = (0..len % 60)
                .map(|_| {
                    state = crate::scheduler::mix(state, len as u64);
                    state as u8
                })
                .collect();
            let input = FuzzInput::<CounterOp>::decode(&data, &limits).unwrap();
            let s = input.scenario();
            assert!((1..=2).contains(&s.threads.len()));
            assert!(s.threads.iter().all(|t| (1..=4).contains(&t.len())));
            assert!(s.init.len() <= 1 && s.post.is_empty());
            assert_eq!(&scenario::decode::<CounterOp>(input.scenario_bytes()).unwrap(), s);
        }
    }

    #[test]
    fn encode_gives_bytes_that_decode_to_the_same_input() {
        let mut state = 7_u64;
        for len in 0..300 {
            let data: Vec<u8> = (0..len % 70)
                .map(|_| {
                    state = crate::scheduler::mix(state, 1);
                    state as u8
                })
                .collect();
            let input = FuzzInput::<CounterOp>::decode(&data, &FuzzLimits::default()).unwrap();
            let bytes = input.encode();
            assert_eq!(FuzzInput::decode(&bytes, &FuzzLimits::default()).unwrap(), input);
            let sequential = input.clone().with_schedule(vec![]);
            assert_eq!(sequential.scenario(), input.scenario());
            assert!(sequential.schedule().is_empty());
        }
    }

    #[test]
    fn the_schedule_is_what_follows_the_scenario() {
        // 1 thread x 1 op, no init or post: 4 count bytes, one 4-byte op, then the schedule.
        let input = FuzzInput::<CounterOp>::decode(&[0, 0, 0, 0, 9, 9, 9, 9, 5, 6], &FuzzLimits::default()).unwrap();
        assert_eq!(input.schedule(), &[5, 6]);
        let typed = FuzzInput::<CounterOp>::arbitrary_take_rest(Unstructured::new(&[0, 0, 0, 0, 9, 9, 9, 9, 5, 6]));
        assert_eq!(typed.unwrap(), input);
    }
}
