//! A stress failure cannot be replayed: nothing controlled its threads. What the user can get is
//! the same bug under shuttle: this file re-runs the failing scenario under the shuttle schedulers,
//! smallest prefixes first, and when one reproduces it hands that failure to the shrinker, so the
//! user gets the full minimal report and a replay token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::stress::{self, StressSettings};
use crate::checker::Checker;
use crate::plan::{Plan, StrategyFactory};
use crate::report::{Failure, Report};
use crate::resource::Resource;
use crate::scenario::Chunks;
use crate::scheduler::Scheduler;
use crate::shrink;
use crate::token::TokenScenario;

/// Shuttle schedules tried on each candidate scenario.
const PER_CANDIDATE: usize = 300;
/// Shuttle schedules tried on the whole failing scenario when no prefix reproduces the bug.
const WHOLE: usize = 2_000;

/// Runs a stress check; a failure comes back shrunk under shuttle where shuttle reproduces it.
pub(crate) fn stress_check<R: Resource>(
    checker: &Checker<R>,
    plans: Vec<Plan<R::Op>>,
    settings: StressSettings,
    seed: u64,
    shrink: (usize, Duration),
) -> Result<Report, Failure<R::Op>> {
    let started = Instant::now();
    let (failure, iterations, p) = match stress::explore::<R>(&plans, &settings) {
        Ok((iterations, scenarios)) => return Ok(stress::report::<R>(&settings, iterations, scenarios, started)),
        Err(found) => found,
    };
    let plan = &plans[p];
    let found = format!(
        "found by Stress on real threads after {iterations} iteration(s) ({}, on {})",
        failure.kind.title(),
        plan.scenario.shape()
    );
    match reproduce(checker, plan, &failure.kind, seed) {
        Some(reproduced) => {
            let mut shrunk = shrink::shrink(checker, reproduced, &Scheduler::default(), seed, shrink.0, shrink.1);
            let data = shrunk.data_mut();
            data.schedules = iterations;
            if let Some(parts) = data.parts.as_mut() {
                parts.scheduler = format!(
                    "{}, reproduced under shuttle by {}",
                    settings.scheduler, parts.scheduler
                );
                let note = format!(
                    "{found}; shuttle reproduced it on the same scenario, so this report is shuttle's: its \
                     interleaving is one that shows the bug, and the token below replays it exactly"
                );
                parts.note = Some(match parts.note.take() {
                    Some(old) => format!("{old}\n{note}"),
                    None => note,
                });
            }
            Err(shrunk)
        }
        None => {
            let note = format!(
                "{found}. Stress failures cannot be replayed exactly: real threads are not controlled, so there \
                 is no replay token. shuttle's schedulers did not reproduce it on this scenario ({WHOLE} \
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
    want: &crate::report::FailureKind,
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
    candidates.push((
        Plan {
            scenario: Arc::clone(&plan.scenario),
            source: plan.source.clone(),
        },
        WHOLE,
    ));
    for (candidate, budget) in candidates {
        let make: StrategyFactory = Box::new(move |i| Scheduler::default().strategy(seed, i));
        let name = Scheduler::default().label();
        if let Err(f) = checker.execute(vec![candidate], budget, make, name, Some(seed)) {
            if f.kind().same_bug(want) {
                return Some(f);
            }
        }
    }
    None
}
