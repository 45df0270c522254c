//! After a check that passed every schedule but found a lock-order cycle: a short, targeted search
//! of the scenario that showed it for a schedule that really deadlocks, whose token then goes into
//! the report.

use std::sync::Arc;

use super::Checker;
use crate::plan::Plan;
use crate::report::{Failure, FailureKind};
use crate::resource::Resource;
use crate::scheduler::Scheduler;

/// Schedules the search may run.
const SEARCH_BUDGET: usize = 2_000;

impl<R: Resource> Checker<R> {
    /// Adds to a `LockOrderInversion` failure the token of a deadlocking schedule of its scenario,
    /// if the default portfolio finds one within [`SEARCH_BUDGET`] schedules.
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
