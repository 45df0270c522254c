//! crosscheck inside `proptest!`: strategies that generate [`Scenario`]s of a checker's shape, and
//! [`check_scenario`], which runs one scenario under the checker's scheduler and budget and fails
//! the proptest case with crosscheck's full report.
//!
//! ```
//! use crosscheck::proptest::{check_scenario, scenarios};
//! use crosscheck::resources::LockedCounter;
//! use crosscheck::{Checker, Scheduler};
//! use proptest::prelude::*;
//!
//! // In a test file: `proptest! { #[test] fn counter(s in scenarios(..)) { .. } }`.
//! proptest!(ProptestConfig::with_cases(8), |(s in scenarios(Checker::<LockedCounter>::new().threads(2..=3)))| {
//!     check_scenario(Checker::<LockedCounter>::new().scheduler(Scheduler::Pct { depth: 3 }).iterations(100), &s)?;
//! });
//! ```
//!
//! Who shrinks what: proptest shrinks the scenario (its `ValueTree` makes crosscheck's own edits:
//! threads first, then operations, then operation values), and every case proptest tries is run by
//! crosscheck, which shrinks the schedule (the fewest preemptions). The case proptest reports is
//! therefore crosscheck's report of the minimal scenario, with its replay token.
//!
//! Scenarios of [`scenarios`] are crosscheck's own byte encoding underneath (the layout that replay
//! tokens and fuzzing use), so the token of a failure found inside `proptest!` replays with a plain
//! `Checker::<R>::new().scheduler(Scheduler::Replay(token))` or `CROSSCHECK_REPLAY`, like one found
//! by [`Checker::run`]. Operations drawn from a proptest strategy ([`scenarios_with`],
//! [`state_machine`]) have no byte form: their token replays with the same `.scenario(..)`, and
//! proptest's own `proptest-regressions/` file replays the case.

mod state_machine;
mod tree;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use ::proptest::prelude::Rng as _;
use ::proptest::strategy::{NewTree, Strategy};
use ::proptest::test_runner::{Reason, TestCaseError, TestRunner};
use rand::SeedableRng;

use crate::checker::Checker;
use crate::report::Report;
use crate::resource::Resource;
use crate::scenario::{self, Scenario, Shape};
use crate::token::fnv64;

pub use state_machine::{state_machine, StateMachine};
pub use tree::{BytesTree, OpsTree};

/// Runs `scenario` under `checker`'s scheduler, budget and seed; a bug fails the proptest case with
/// crosscheck's report (shrunk to the fewest preemptions, with a replay token).
///
/// The checker's own scenario settings (threads, operations, `scenario`) are ignored: the case is
/// the scenario. A usage error (bad settings) fails the case with its message.
pub fn check_scenario<R: Resource>(checker: Checker<R>, scenario: &Scenario<R::Op>) -> Result<Report, TestCaseError> {
    let bytes = generated_bytes(scenario);
    checker
        .generated_scenario(scenario.clone(), bytes)
        .run()
        .map_err(|failure| TestCaseError::fail(failure.to_string()))
}

/// Scenarios of `checker`'s shape (threads, operations per thread, init, post), each operation
/// decoded with `arbitrary` from crosscheck's scenario bytes. The value tree shrinks with
/// crosscheck's shrinker's edits: threads, then operations, then the bytes of operation values.
///
/// # Panics
/// If the checker's shape is unusable (an empty range, 0 threads); the message says which setting.
pub fn scenarios<R: Resource>(checker: Checker<R>) -> Scenarios<R> {
    Scenarios {
        shape: usable_shape(&checker),
        _resource: PhantomData,
    }
}

/// Scenarios of `checker`'s shape whose operations come from the proptest strategy `ops`; shrinks
/// threads, then operations, then each operation with `ops`' own shrinking.
///
/// # Panics
/// If the checker's shape is unusable, as [`scenarios`].
pub fn scenarios_with<R: Resource, S: Strategy<Value = R::Op>>(checker: Checker<R>, ops: S) -> ScenariosWith<R, S> {
    ScenariosWith {
        shape: usable_shape(&checker),
        ops,
        _resource: PhantomData,
    }
}

/// The strategy [`scenarios`] returns.
pub struct Scenarios<R: Resource> {
    shape: Shape,
    _resource: PhantomData<fn() -> R>,
}

impl<R: Resource> fmt::Debug for Scenarios<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenarios").field("shape", &self.shape).finish()
    }
}

impl<R: Resource> Strategy for Scenarios<R> {
    type Tree = BytesTree<R::Op>;
    type Value = Scenario<R::Op>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        // proptest's generator seeds crosscheck's, so proptest's persisted seed replays the case.
        let seed = runner.rng().next_u64();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let bytes = scenario::generate(&mut rng, &self.shape, scenario::chunk_len::<R::Op>());
        BytesTree::new(&bytes).map_err(|e| {
            Reason::from(format!(
                "the operation type's Arbitrary implementation cannot decode random bytes ({e})"
            ))
        })
    }
}

/// The strategy [`scenarios_with`] returns.
pub struct ScenariosWith<R: Resource, S> {
    shape: Shape,
    ops: S,
    _resource: PhantomData<fn() -> R>,
}

impl<R: Resource, S: fmt::Debug> fmt::Debug for ScenariosWith<R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScenariosWith")
            .field("shape", &self.shape)
            .field("ops", &self.ops)
            .finish()
    }
}

impl<R: Resource, S: Strategy<Value = R::Op>> Strategy for ScenariosWith<R, S> {
    type Tree = OpsTree<S::Tree>;
    type Value = Scenario<R::Op>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let counts = draw_counts(runner, &self.shape);
        let mut slots = Vec::new();
        let mut next = |runner: &mut TestRunner| -> Result<usize, Reason> {
            slots.push(self.ops.new_tree(runner)?);
            Ok(slots.len() - 1)
        };
        let init = (0..counts.init).map(|_| next(runner)).collect::<Result<_, _>>()?;
        let mut threads = Vec::new();
        for &n in &counts.threads {
            threads.push((0..n).map(|_| next(runner)).collect::<Result<_, _>>()?);
        }
        let post = (0..counts.post).map(|_| next(runner)).collect::<Result<_, _>>()?;
        let parts = crate::shrink::Parts { init, threads, post };
        Ok(OpsTree::new(slots, parts, None))
    }
}

/// How many operations each part of one scenario gets.
pub(crate) struct Counts {
    pub init: usize,
    pub threads: Vec<usize>,
    pub post: usize,
}

/// Draws a scenario's sizes from `shape` with proptest's generator.
pub(crate) fn draw_counts(runner: &mut TestRunner, shape: &Shape) -> Counts {
    let mut pick = |r: &std::ops::RangeInclusive<usize>| {
        let span = (r.end() - r.start()) as u64 + 1;
        r.start() + (runner.rng().next_u64() % span) as usize
    };
    let init = pick(&shape.init);
    let threads = pick(&shape.threads);
    let threads = (0..threads).map(|_| pick(&shape.ops_per_thread)).collect();
    Counts {
        init,
        threads,
        post: pick(&shape.post),
    }
}

/// The checker's shape, or a panic naming the setting that makes it unusable.
fn usable_shape<R: Resource>(checker: &Checker<R>) -> Shape {
    if let Err(failure) = checker.validate() {
        panic!("crosscheck::proptest: {failure}");
    }
    checker.shape().clone()
}

thread_local! {
    /// The bytes of scenarios the value trees handed out on this thread, by fingerprint, so that
    /// [`check_scenario`] can give a generated scenario a token that replays without it.
    static GENERATED: RefCell<HashMap<u64, Vec<u8>>> = RefCell::new(HashMap::new());
}

/// Generated scenarios remembered per thread; a shrink run hands out a few hundred.
const REMEMBERED: usize = 4096;

fn fingerprint<Op: fmt::Debug>(scenario: &Scenario<Op>) -> u64 {
    fnv64(format!("{scenario:?}").as_bytes())
}

pub(crate) fn remember<Op: fmt::Debug>(scenario: &Scenario<Op>, bytes: Vec<u8>) {
    GENERATED.with(|g| {
        let mut g = g.borrow_mut();
        if g.len() >= REMEMBERED {
            g.clear();
        }
        g.insert(fingerprint(scenario), bytes);
    });
}

fn generated_bytes<Op: fmt::Debug>(scenario: &Scenario<Op>) -> Option<Vec<u8>> {
    GENERATED.with(|g| g.borrow().get(&fingerprint(scenario)).cloned())
}
