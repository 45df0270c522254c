//! Shrinking: the smallest scenario and the simplest schedule that still show the same bug.
//!
//! Both halves are searched together. A scenario candidate (a thread dropped, an operation dropped
//! or moved out of the parallel part, an operation's bytes made shorter or smaller, several
//! operations' bytes moved together: see `values`) keeps the old failing schedule where it still
//! fits, and otherwise gets a brief search of its own; once no candidate fails, a
//! preemption-bounded search (bound 0, 1, 2, ...) finds the fewest preemptions
//! that still show the bug. Everything is counted in schedules, so a seed shrinks the same way on
//! every machine; a wall-clock cap only stops a shrink that would take unreasonably long.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::shuttle::{self, RunSettings};
use crate::plan::{Plan, StrategyFactory};
use crate::report::{Failure, FailureKind};
use crate::resource::Resource;
use crate::scenario::Chunks;
use crate::scheduler::{self, Choice, Scheduler};
use crate::token::TokenScenario;

mod values;

/// The schedules shrinking may run when neither `shrink_budget` nor `CROSSCHECK_SHRINK_BUDGET`
/// says otherwise.
pub const DEFAULT_SHRINK_BUDGET: usize = 50_000;
/// The wall-clock cap on shrinking, for slow machines.
pub const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(30);

/// What shrinking may spend, and the limits each of its executions runs under.
#[derive(Clone, Debug)]
pub(crate) struct ShrinkSettings {
    /// Schedules in all (0 turns shrinking off).
    pub budget: usize,
    /// Wall-clock cap.
    pub time: Duration,
    pub max_steps: usize,
    pub livelock_steps: usize,
    pub check_budget: Duration,
    /// Whether the scenario may be shrunk: not a pinned one (`Checker::scenario`, or a proptest
    /// case, which proptest shrinks), only its schedule.
    pub scenario: bool,
    /// Whether the surprises std permits are choices (as in the check that found the failure).
    pub spurious: bool,
    /// Whether short file writes are choices (as in the check that found the failure).
    pub short_writes: bool,
}

struct Shrinker<'a, R: Resource> {
    settings: &'a ShrinkSettings,
    _resource: std::marker::PhantomData<fn() -> R>,
    scheduler: Scheduler,
    seed: u64,
    budget: usize,
    used: usize,
    deadline: Instant,
    stopped: Option<String>,
}

impl<R: Resource> Shrinker<'_, R> {
    fn out_of_budget(&mut self) -> bool {
        if self.stopped.is_none() {
            if self.used >= self.budget {
                self.stopped = Some(format!("its budget of {} schedules ran out", self.budget));
            } else if Instant::now() >= self.deadline {
                self.stopped = Some("its time limit ran out".to_string());
            }
        }
        self.stopped.is_some()
    }

    /// Runs `plan` under `make`, at most `budget` schedules; the failure, if it is the same bug.
    fn run(
        &mut self,
        plan: &Plan<R::Op>,
        make: StrategyFactory,
        budget: usize,
        want: &FailureKind,
    ) -> Option<Failure<R::Op>> {
        self.run_with(plan, make, budget, want, false)
    }

    /// Like `run`; with `keep_going`, runs the whole budget and returns the simplest failure.
    fn run_with(
        &mut self,
        plan: &Plan<R::Op>,
        make: StrategyFactory,
        budget: usize,
        want: &FailureKind,
        keep_going: bool,
    ) -> Option<Failure<R::Op>> {
        let budget = budget.min(self.budget.saturating_sub(self.used)).max(1);
        let settings = RunSettings {
            budget,
            max_steps: self.settings.max_steps,
            livelock_steps: self.settings.livelock_steps,
            // Shrinking looks for the failure it was given, not for lock orders.
            lock_order: false,
            check_budget: self.settings.check_budget,
            scheduler: String::new(),
            seed: None,
            keep_going,
            shares: None,
            spurious: self.settings.spurious,
            short_writes: self.settings.short_writes,
        };
        match shuttle::run::<R>(vec![plan.clone()], make, settings) {
            Ok(report) => {
                self.used += report.schedules();
                None
            }
            Err(f) => {
                self.used += f.schedules();
                f.kind().same_bug(want).then_some(f)
            }
        }
    }

    /// Looks for a failing schedule of `plan`: the old schedule carried over first, then a brief
    /// bounded search, then a few schedules of the scheduler that found the bug.
    fn attempt(&mut self, plan: &Plan<R::Op>, choices: &[Choice], want: &FailureKind) -> Option<Failure<R::Op>> {
        let old = choices.to_vec();
        let replay: StrategyFactory = Box::new(move |_| Box::new(scheduler::Replay::lenient(old.clone())));
        if let Some(f) = self.run(plan, replay, 1, want) {
            return Some(f);
        }
        for bound in 1..=2 {
            if self.out_of_budget() {
                return None;
            }
            let bounded: StrategyFactory = Box::new(move |_| Box::new(scheduler::Dfs::new(Some(bound))));
            if let Some(f) = self.run(plan, bounded, 250, want) {
                return Some(f);
            }
        }
        if self.out_of_budget() {
            return None;
        }
        let (scheduler, seed) = (self.scheduler.clone(), self.seed);
        let original: StrategyFactory = Box::new(move |i| scheduler.strategy(seed, i));
        self.run(plan, original, 100, want)
    }
}

/// A scenario's layout with any kind of item per operation: bytes here, value trees in
/// `crosscheck::proptest`, which shrinks with the same structural edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parts<T> {
    pub init: Vec<T>,
    pub threads: Vec<Vec<T>>,
    pub post: Vec<T>,
}

/// Every layout one structural edit smaller than `c`, most promising first: a thread dropped, an
/// operation dropped, an operation moved out of the parallel part.
pub(crate) fn structural<T: Clone>(c: &Parts<T>) -> Vec<Parts<T>> {
    let mut out = Vec::new();
    // Fewer threads.
    for t in 0..c.threads.len() {
        let mut n = c.clone();
        n.threads.remove(t);
        out.push(n);
    }
    // Fewer operations: in a thread (dropping the thread if it empties), in init, in post.
    for t in 0..c.threads.len() {
        for i in 0..c.threads[t].len() {
            let mut n = c.clone();
            n.threads[t].remove(i);
            if n.threads[t].is_empty() {
                n.threads.remove(t);
            }
            out.push(n);
        }
    }
    for i in 0..c.init.len() {
        let mut n = c.clone();
        n.init.remove(i);
        out.push(n);
    }
    for i in 0..c.post.len() {
        let mut n = c.clone();
        n.post.remove(i);
        out.push(n);
    }
    // Less in parallel: a thread's first operation into init, its last into post.
    for t in 0..c.threads.len() {
        if c.threads[t].is_empty() {
            continue;
        }
        let mut n = c.clone();
        let op = n.threads[t].remove(0);
        n.init.push(op);
        if n.threads[t].is_empty() {
            n.threads.remove(t);
        }
        out.push(n);
        let mut n = c.clone();
        let op = n.threads[t].pop().expect("checked non-empty");
        n.post.insert(0, op);
        if n.threads[t].is_empty() {
            n.threads.remove(t);
        }
        out.push(n);
    }
    out
}

/// Every scenario one edit smaller than `c`, most promising first.
pub(crate) fn candidates(c: &Chunks) -> Vec<Chunks> {
    let parts = Parts {
        init: c.init.clone(),
        threads: c.threads.clone(),
        post: c.post.clone(),
    };
    let mut out: Vec<Chunks> = structural(&parts)
        .into_iter()
        .map(|p| Chunks {
            init: p.init,
            threads: p.threads,
            post: p.post,
        })
        .collect();
    // Simpler values: one operation at a time, then several together.
    out.extend(values::candidates(c));
    out.retain(|n| n.size() < c.size());
    out
}

/// Adapts a schedule to a scenario without thread `t` (task `t + 1`): its thread choices go, later
/// threads' task ids move down by one. Alternatives stay: the lenient replay drops the ones that no
/// longer fit.
fn without_thread(choices: &[Choice], t: usize) -> Vec<Choice> {
    let gone = t + 1;
    choices
        .iter()
        .filter(|&&c| c != Choice::Thread(gone))
        .map(|&c| match c {
            Choice::Thread(c) if c > gone => Choice::Thread(c - 1),
            other => other,
        })
        .collect()
}

/// Shrinks `failure`, found by `scheduler` with `seed`, to the smallest scenario and schedule that
/// still fail the same way, within the settings' budget.
pub(crate) fn shrink<R: Resource>(
    failure: Failure<R::Op>,
    scheduler: &Scheduler,
    seed: u64,
    settings: &ShrinkSettings,
) -> Failure<R::Op> {
    let (budget, time) = (settings.budget, settings.time);
    let started = Instant::now();
    let data = failure.data();
    let (Some(source), Some(_)) = (data.source.clone(), data.parts.as_ref()) else {
        return failure;
    };
    if !data.kind.is_bug() || budget == 0 {
        return failure;
    }
    let want = data.kind.clone();
    let (from_shape, from_preemptions, found_after) =
        (failure.scenario().shape(), failure.preemptions(), data.schedules);
    let original_parts = data.parts.clone().expect("checked above");
    let mut s = Shrinker::<R> {
        settings,
        _resource: std::marker::PhantomData,
        scheduler: scheduler.clone(),
        seed,
        budget,
        used: 0,
        deadline: started + time,
        stopped: None,
    };
    let mut best = failure;
    let plan_of = |chunks: &Chunks| -> Option<Plan<R::Op>> {
        let scenario = chunks.decode::<R::Op>().ok()?;
        Some(Plan {
            scenario: Arc::new(scenario),
            source: TokenScenario::Bytes(chunks.encode()),
        })
    };

    // 1. The scenario (only a generated one: a pinned scenario has no byte form to edit).
    if let (TokenScenario::Bytes(bytes), true) = (&source, settings.scenario) {
        if let Ok(mut chunks) = Chunks::parse(bytes) {
            'improve: while !s.out_of_budget() {
                for candidate in candidates(&chunks) {
                    if s.out_of_budget() {
                        break 'improve;
                    }
                    let Some(plan) = plan_of(&candidate) else { continue };
                    let dropped = (0..chunks.threads.len()).find(|&t| {
                        candidate.threads.len() < chunks.threads.len()
                            && chunks
                                .threads
                                .iter()
                                .enumerate()
                                .filter(|&(u, _)| u != t)
                                .map(|(_, x)| x)
                                .eq(candidate.threads.iter())
                    });
                    let choices = match dropped {
                        Some(t) => without_thread(&best.data().choices, t),
                        None => best.data().choices.clone(),
                    };
                    if let Some(f) = s.attempt(&plan, &choices, &want) {
                        crate::progress::shrinking(f.scenario().shape());
                        best = f;
                        chunks = candidate;
                        continue 'improve;
                    }
                }
                break;
            }
        }
    }

    // 2. The schedule: the fewest preemptions and surprises that still show the bug (a bounded search
    // with bound 0, 1, 2, ... proves the minimum, counting a surprise like a preemption), then among
    // those the fewest preemptions, context switches and steps.
    let source = best.data().source.clone().expect("a failure from a run has a source");
    let plan = Plan {
        scenario: Arc::new(best.scenario().clone()),
        source,
    };
    for bound in 0..=best.preemptions() + best.data().surprises {
        if s.out_of_budget() {
            break;
        }
        let bounded: StrategyFactory = Box::new(move |_| Box::new(scheduler::Dfs::new(Some(bound))));
        if let Some(f) = s.run_with(&plan, bounded, 2_000, &want, true) {
            let cost = |f: &Failure<R::Op>| {
                let d = f.data();
                (d.preemptions + d.surprises, d.preemptions, d.switches, d.steps)
            };
            if cost(&f) <= cost(&best) && f.kind().same_bug(&want) {
                best = f;
            }
            break;
        }
    }

    let mut summary = format!(
        "shrunk from {from_shape}, {from_preemptions} preemption{} to {}, {} preemption{} in {:.2} s ({} schedules)",
        if from_preemptions == 1 { "" } else { "s" },
        best.scenario().shape(),
        best.preemptions(),
        if best.preemptions() == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64(),
        s.used
    );
    if let Some(why) = &s.stopped {
        summary += &format!("; shrinking stopped early because {why}, so a smaller case may exist");
    }
    let data = best.data_mut();
    data.schedules = found_after;
    if let Some(parts) = data.parts.as_mut() {
        parts.scheduler = original_parts.scheduler;
        parts.seed = original_parts.seed;
        parts.note = original_parts.note;
        parts.shrink = Some(summary);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks() -> Chunks {
        Chunks {
            init: vec![vec![1]],
            threads: vec![vec![vec![2, 2], vec![3]], vec![vec![4]]],
            post: vec![vec![5, 5]],
        }
    }

    #[test]
    fn every_candidate_is_strictly_smaller() {
        let c = chunks();
        let all = candidates(&c);
        assert!(!all.is_empty());
        assert!(all.iter().all(|n| n.size() < c.size()));
        assert!(all.iter().any(|n| n.threads.len() == 1), "a thread can go");
        assert!(all.iter().any(|n| n.post.len() == 2), "an op can move to post");
    }

    #[test]
    fn dropping_a_thread_renumbers_later_threads() {
        let t = Choice::Thread;
        let a = Choice::Alternative;
        assert_eq!(
            without_thread(&[t(1), a(2), t(2), t(3), t(2), a(1), t(1)], 1),
            vec![t(1), a(2), t(2), a(1), t(1)]
        );
    }
}
