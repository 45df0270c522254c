//! Where two backends meet: a failure found by loom or on real threads, asked of shuttle.
//!
//! A stress failure cannot be replayed: nothing controlled its threads. What the user can get is
//! the same bug under shuttle: the failing scenario is re-run under the shuttle schedulers,
//! smallest prefixes first, and when one reproduces it the shrinker takes that failure, so the
//! user gets the full minimal report and a replay token. A loom failure is re-run under shuttle's
//! exhaustive search to say whether it needs weak memory (then it replays only under loom).

use std::sync::Arc;

use super::Checker;
use crate::backend::shuttle;
use crate::backend::stress::{self, StressSettings};
use crate::plan::{Plan, StrategyFactory};
use crate::report::{Failure, FailureKind, Report};
use crate::resource::Resource;
use crate::scenario::Chunks;
use crate::scheduler::{self, Scheduler};
use crate::shrink::{self, ShrinkSettings};
use crate::token::TokenScenario;

/// Shuttle schedules tried on each candidate scenario.
const PER_CANDIDATE: usize = 300;
/// Shuttle schedules tried on the whole failing scenario when no prefix reproduces the bug.
const WHOLE: usize = 2_000;

/// Runs a stress check; a failure comes back shrunk under shuttle where shuttle reproduces it.
pub(super) fn stress_check<R: Resource>(
    checker: &Checker<R>,
    plans: Vec<Plan<R::Op>>,
    settings: StressSettings,
    seed: u64,
    shrink: &ShrinkSettings,
) -> Result<Report, Failure<R::Op>> {
    let (failure, iterations, p) = match stress::explore::<R>(&plans, &settings) {
        Ok(report) => return Ok(report),
        Err(found) => found,
    };
    let plan = &plans[p];
    if matches!(failure.judged.kind, FailureKind::LockOrderInversion { .. }) {
        // Every iteration passed: the order of the locks is the finding, and shuttle searches the
        // scenario for a schedule that deadlocks on it.
        let note = format!(
            "found by Stress on real threads: the threads of iteration {iterations} closed the cycle (every \
             iteration passed)"
        );
        let failure = stress::describe(plan, &settings, *failure, iterations, note);
        return Err(checker.seek_deadlock(failure, seed));
    }
    let found = format!(
        "found by Stress on real threads after {iterations} iteration(s) ({}, on {})",
        failure.judged.kind.title(),
        plan.scenario.shape()
    );
    match reproduce(checker, plan, &failure.judged.kind, seed) {
        Some(reproduced) => {
            let mut shrunk = shrink::shrink::<R>(reproduced, &Scheduler::default(), seed, shrink);
            shrunk.data_mut().schedules = iterations;
            if let Some(parts) = shrunk.data_mut().parts.as_mut() {
                parts.scheduler = format!(
                    "{}, reproduced under the controlled schedulers by {}",
                    settings.scheduler, parts.scheduler
                );
            }
            shrunk.add_note(format!(
                "{found}; the controlled schedulers reproduced it on the same scenario, so this report is \
                 theirs: its interleaving is one that shows the bug, and the token below replays it exactly"
            ));
            Err(shrunk)
        }
        None => {
            let note = format!(
                "{found}. Stress failures cannot be replayed exactly: real threads are not controlled, so there \
                 is no replay token. The controlled schedulers did not reproduce it on this scenario ({WHOLE} \
                 schedules): it may need weak memory or real timing; try Scheduler::Loom on a smaller scenario, \
                 or pin this one with Checker::scenario and run Stress again."
            );
            Err(stress::describe(plan, &settings, *failure, iterations, note))
        }
    }
}

/// The failing scenario's threads cut to their first `k` operations, for k = 1, 2, 4, ...: small
/// scenarios are fast to search and usually enough to show the bug.
fn prefixes(chunks: &Chunks) -> Vec<Chunks> {
    let longest = chunks.threads.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    let mut k = 1;
    while k < longest {
        let mut c = chunks.clone();
        c.threads.iter_mut().for_each(|t| t.truncate(k));
        out.push(c);
        k *= 2;
    }
    out
}

/// The first shuttle failure that is the same bug, on a prefix of the scenario or on all of it.
fn reproduce<R: Resource>(
    checker: &Checker<R>,
    plan: &Plan<R::Op>,
    want: &FailureKind,
    seed: u64,
) -> Option<Failure<R::Op>> {
    let mut candidates: Vec<(Plan<R::Op>, usize)> = Vec::new();
    if let TokenScenario::Bytes(bytes) = &plan.source {
        if let Ok(chunks) = Chunks::parse(bytes) {
            for c in prefixes(&chunks) {
                if let Ok(scenario) = c.decode::<R::Op>() {
                    let source = TokenScenario::Bytes(c.encode());
                    candidates.push((
                        Plan {
                            scenario: Arc::new(scenario),
                            source,
                        },
                        PER_CANDIDATE,
                    ));
                }
            }
        }
    }
    candidates.push((plan.clone(), WHOLE));
    for (candidate, budget) in candidates {
        let make: StrategyFactory = Box::new(move |i| Scheduler::default().strategy(seed, i));
        let settings = checker.run_settings(budget, Scheduler::default().label(), Some(seed));
        if let Err(f) = shuttle::run::<R>(vec![candidate], make, settings) {
            if f.kind().same_bug(want) {
                return Some(f);
            }
        }
    }
    None
}

/// Schedules shuttle may spend looking for a sequentially consistent reproduction of a loom failure.
const SC_BUDGET: usize = 5_000;

/// Reruns a loom failure's scenario under shuttle (every interleaving, up to [`SC_BUDGET`]) and
/// notes in the report whether it needs weak memory.
pub(super) fn cross_check<R: Resource>(checker: &Checker<R>, failure: &mut Failure<R::Op>) {
    let Some(source) = failure.data().source.clone() else {
        return;
    };
    let plan = Plan {
        scenario: Arc::new(failure.scenario().clone()),
        source,
    };
    let want = failure.kind().clone();
    let dfs: StrategyFactory =
        Box::new(|_| Box::new(scheduler::Capped::new(scheduler::Dfs::new(None), Some(SC_BUDGET))));
    let settings = checker.run_settings(SC_BUDGET, "Dfs (sequentially consistent cross-check)".into(), None);
    let note = match shuttle::run::<R>(vec![plan], dfs, settings) {
        Err(sc) if sc.kind().same_bug(&want) => match sc.token() {
            Some(token) => format!(
                "needs no weak memory: the controlled schedulers reproduce this failure on the same scenario \
                 with a sequentially consistent interleaving ({} preemption(s)); replay it anywhere with \
                 Scheduler::Replay(\"{token}\".into())",
                sc.preemptions()
            ),
            None => "needs no weak memory: the controlled schedulers reproduce this failure on the same scenario"
                .to_string(),
        },
        Ok(report) if report.exhausted_scenarios() > 0 => format!(
            "NEEDS WEAK MEMORY: none of the {} sequentially consistent interleavings of this scenario shows this \
             failure (the controlled schedulers explored them all), so it only replays under loom, with the token below",
            report.schedules()
        ),
        _ => format!(
            "probably needs weak memory: none of the first {SC_BUDGET} sequentially consistent interleavings of \
             this scenario shows this failure under the controlled schedulers, so replay it under loom, with the token below"
        ),
    };
    failure.add_note(note);
}
