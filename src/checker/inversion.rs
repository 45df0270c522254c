//! The lock settings (the lock-order analysis, the livelock bound) and, after a check that passed
//! every schedule but found a lock-order cycle, a short, targeted search of the scenario that
//! showed it for a schedule that really deadlocks, whose token then goes into the report.

use std::sync::Arc;

use super::Checker;
use crate::backend::shuttle;
use crate::plan::{Plan, StrategyFactory};
use crate::report::{Failure, FailureKind};
use crate::resource::Resource;
use crate::scheduler::Scheduler;

/// Scheduling steps without a completed operation after which an execution is examined for a
/// livelock (see [`Checker::livelock_steps`]).
pub const DEFAULT_LIVELOCK_STEPS: usize = 1_000;

/// The checker's lock settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LockSettings {
    pub livelock_steps: usize,
    pub lock_order: bool,
}

impl Default for LockSettings {
    fn default() -> Self {
        LockSettings {
            livelock_steps: DEFAULT_LIVELOCK_STEPS,
            lock_order: true,
        }
    }
}

impl<R: Resource> Checker<R> {
    /// Scheduling steps one execution may take without completing an operation before it is
    /// examined for a livelock: if two or more threads are inside operations and one keeps taking
    /// and releasing locks, the execution fails with [`FailureKind::Livelock`]; otherwise it goes on
    /// (up to `max_steps`, then `StepLimitExceeded`).
    pub fn livelock_steps(mut self, steps: usize) -> Self {
        self.locks.livelock_steps = steps;
        self
    }

    /// Turns the lock-order analysis on or off (on by default). While on, the order in which each
    /// thread takes locks is noted across all executions, and a cycle in it (A before B in one
    /// place, B before A in another) fails an otherwise passing check with
    /// [`FailureKind::LockOrderInversion`], even when no schedule deadlocked. Under every
    /// scheduler, `Stress` included.
    pub fn lock_order(mut self, on: bool) -> Self {
        self.locks.lock_order = on;
        self
    }
}

/// Schedules the search may run.
const SEARCH_BUDGET: usize = 2_000;

impl<R: Resource> Checker<R> {
    /// Adds to a `LockOrderInversion` failure the token of a deadlocking schedule of its scenario,
    /// if the default portfolio finds one within [`SEARCH_BUDGET`] schedules under shuttle.
    pub(crate) fn seek_deadlock(&self, mut failure: Failure<R::Op>, seed: u64) -> Failure<R::Op> {
        let Some(source) = failure.data().source.clone() else {
            return failure;
        };
        if failure.scenario().threads.len() < 2 {
            // One thread alone never waits for another.
            return failure;
        }
        let plan = Plan {
            scenario: Arc::new(failure.scenario().clone()),
            source,
        };
        let portfolio = Scheduler::recommended();
        let make: StrategyFactory = Box::new(move |i: usize| portfolio.strategy(seed, i));
        let mut settings = self.run_settings(SEARCH_BUDGET, "default portfolio".into(), Some(seed));
        settings.lock_order = false;
        let token = match shuttle::run::<R>(vec![plan], make, settings) {
            Err(deadlock) if matches!(deadlock.kind(), FailureKind::Deadlock { .. }) => {
                deadlock.token().map(String::from)
            }
            _ => None,
        };
        if let (Some(token), FailureKind::LockOrderInversion { deadlock, .. }) = (token, &mut failure.data_mut().kind) {
            *deadlock = Some(token);
        }
        failure
    }
}

impl<Op> Failure<Op> {
    /// Whether this is a lock-order cycle (not one execution's failure: nothing to shrink).
    pub(crate) fn is_inversion(&self) -> bool {
        matches!(self.kind(), FailureKind::LockOrderInversion { .. })
    }
}
