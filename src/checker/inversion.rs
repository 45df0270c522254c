//! The lock settings (the lock-order analysis, the livelock bound) and, after a check that passed
//! every schedule but found a lock-order cycle, a short, targeted search of the scenario that
//! showed it for a schedule that really deadlocks, whose token then goes into the report.

use std::sync::Arc;

use super::Checker;
use crate::plan::Plan;
use crate::report::{Failure, FailureKind};
use crate::resource::Resource;
use crate::scheduler::Scheduler;

/// Scheduling steps without a completed operation after which an execution is examined for a
/// livelock (see [`Checker::livelock_steps`]).
pub const DEFAULT_LIVELOCK_STEPS: usize = 1_000;

impl<R: Resource> Checker<R> {
    /// Scheduling steps one execution may take without completing an operation before it is
    /// examined for a livelock: if two or more threads are inside operations and one keeps taking
    /// and releasing locks, the execution fails with [`FailureKind::Livelock`]; otherwise it goes on
    /// (up to `max_steps`).
    pub fn livelock_steps(mut self, steps: usize) -> Self {
        self.livelock_steps = steps;
        self
    }

    /// Turns the lock-order analysis on or off (on by default). While on, the order in which each
    /// thread takes locks is noted across all executions, and a cycle in it (A before B in one
    /// place, B before A in another) fails an otherwise passing check with
    /// [`FailureKind::LockOrderInversion`], even when no schedule deadlocked.
    pub fn lock_order(mut self, on: bool) -> Self {
        self.lock_order = on;
        self
    }
}

/// Schedules the search may run.
const SEARCH_BUDGET: usize = 2_000;

impl<R: Resource> Checker<R> {
    /// Adds to a `LockOrderInversion` failure the token of a deadlocking schedule of its scenario,
    /// if the default portfolio finds one within [`SEARCH_BUDGET`] schedules.
    /// (A replay runs exactly what it was given: nothing is searched.)
    pub(crate) fn seek_deadlock(&self, mut failure: Failure<R::Op>, seed: u64, replaying: bool) -> Failure<R::Op> {
        let Some(source) = failure.data().source.clone().filter(|_| !replaying) else {
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
        let make = move |i: usize| portfolio.strategy(seed, i);
        let found = self.clone().lock_order(false).execute(
            vec![plan],
            SEARCH_BUDGET,
            Box::new(make),
            "default portfolio".into(),
            Some(seed),
        );
        let token = match found {
            Err(deadlock) if matches!(deadlock.kind(), FailureKind::Deadlock { .. }) => {
                deadlock.schedule().map(String::from)
            }
            _ => None,
        };
        if let (Some(token), FailureKind::LockOrderInversion { deadlock, .. }) = (token, &mut failure.data_mut().kind) {
            *deadlock = Some(token);
        }
        failure
    }
}
