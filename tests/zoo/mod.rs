//! The bug zoo: small programs with known concurrency bugs, written as crosscheck resources from the
//! public descriptions of the SCTBench / PCT / RFF / SURW benchmarks. Each program is one resource
//! (its own file) and one pinned scenario; every bug makes an operation panic, a lock cycle, a
//! stuck condition variable, or a broken invariant.
//!
//! Shared by `tests/bug_zoo.rs` (the small programs, and the 100-thread ones behind `#[ignore]`)
//! and `examples/power.rs` (the figures table).

#![allow(dead_code)] // each includer uses a different part

pub mod cargill;
pub mod deadlock01;
pub mod pct_pattern;
pub mod reorder;
pub mod twostage;
pub mod uneven;

use crosscheck::{Checker, FailureKind, Resource, Scenario, Scheduler};

/// A specification that allows everything: the zoo's bugs show as panics, deadlocks and broken
/// invariants, not as wrong return values.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Anything<Op>(std::marker::PhantomData<Op>);

impl<Op> Default for Anything<Op> {
    fn default() -> Self {
        Anything(std::marker::PhantomData)
    }
}

impl<Op> Clone for Anything<Op> {
    fn clone(&self) -> Self {
        Anything(std::marker::PhantomData)
    }
}

impl<Op: Clone + std::fmt::Debug + Eq + std::hash::Hash + Send + Sync + 'static> crosscheck::Model for Anything<Op> {
    type Op = Op;
    type Output = ();
    fn step(&mut self, _: &Op) {}
}

/// What one check of a zoo program gave.
#[derive(Debug)]
pub enum Outcome {
    /// The bug, after this many schedules.
    Found(usize),
    /// Nothing within the budget.
    Missed,
    /// A failure that is not the program's bug (a false alarm or a harness error).
    Wrong(String),
}

/// A zoo program: its name, what its bug looks like, and how to check it.
pub struct Program {
    pub name: &'static str,
    /// Threads in the scenario.
    pub threads: usize,
    pub run: Box<dyn Fn(Scheduler, u64, usize) -> Outcome + Send + Sync>,
}

/// Checks `scenario` of `R` with `scheduler`, `iterations` schedules, shrinking off.
pub fn check<R: Resource>(
    scenario: Scenario<R::Op>,
    bug: fn(&FailureKind) -> bool,
    scheduler: Scheduler,
    seed: u64,
    iterations: usize,
) -> Outcome {
    let result = Checker::<R>::new()
        .scenario(scenario)
        .scheduler(scheduler)
        .iterations(iterations)
        .seed(seed)
        .shrink_budget(0)
        .run();
    match result {
        Ok(_) => Outcome::Missed,
        Err(f) if bug(f.kind()) => Outcome::Found(f.schedules()),
        Err(f) => Outcome::Wrong(f.to_string()),
    }
}

fn program<R: Resource>(name: &'static str, scenario: Scenario<R::Op>, bug: fn(&FailureKind) -> bool) -> Program
where
    R::Op: Send + Sync,
{
    Program {
        name,
        threads: scenario.threads.len(),
        run: Box::new(move |scheduler, seed, iterations| {
            check::<R>(scenario.clone(), bug, scheduler, seed, iterations)
        }),
    }
}

/// A scenario of `n` threads running `op` once each, then `m` threads running `other` once each.
pub fn threads_of<Op: Clone>(n: usize, op: Op, m: usize, other: Op) -> Scenario<Op> {
    let mut threads = vec![vec![op]; n];
    threads.extend(std::iter::repeat_n(vec![other], m));
    Scenario {
        threads,
        ..Scenario::default()
    }
}

pub fn panicked(kind: &FailureKind) -> bool {
    matches!(kind, FailureKind::Panicked { .. })
}

pub fn deadlocked(kind: &FailureKind) -> bool {
    matches!(kind, FailureKind::Deadlock { .. })
}

pub fn invariant_broken(kind: &FailureKind) -> bool {
    matches!(kind, FailureKind::InvariantViolated { .. })
}

/// Every program of the zoo; `large` adds the 40- and 100-thread ones.
pub fn programs(large: bool) -> Vec<Program> {
    let mut all = Vec::new();
    let reorders: &[(usize, usize)] = if large {
        &[(2, 1), (4, 1), (9, 1), (10, 10), (40, 10), (99, 1)]
    } else {
        &[(2, 1), (4, 1), (9, 1), (10, 10)]
    };
    for &(s, k) in reorders {
        let name: &'static str = Box::leak(format!("reorder_{}", s + k).into_boxed_str());
        all.push(program::<reorder::Reorder>(name, reorder::scenario(s, k), panicked));
    }
    let twostages: &[(usize, usize)] = if large {
        &[(1, 1), (10, 10), (40, 10), (99, 1)]
    } else {
        &[(1, 1)]
    };
    for &(a, b) in twostages {
        let name: &'static str = Box::leak(format!("twostage_{}", a + b).into_boxed_str());
        all.push(program::<twostage::TwoStage>(name, twostage::scenario(a, b), panicked));
    }
    all.push(program::<deadlock01::Deadlock01>(
        "deadlock01",
        deadlock01::scenario(),
        deadlocked,
    ));
    all.push(program::<pct_pattern::PctPattern>(
        "pct_pattern",
        pct_pattern::scenario(),
        panicked,
    ));
    all.push(program::<uneven::Uneven>(
        "uneven",
        uneven::scenario(),
        invariant_broken,
    ));
    all.push(program::<cargill::Cargill>("cargill", cargill::scenario(), deadlocked));
    all
}
