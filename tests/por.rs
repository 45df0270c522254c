//! The partial-order reduction of `Scheduler::Dfs`: pinned counts of the schedules it runs against
//! the unreduced search, and a differential test over many small generated resources (buggy and
//! correct, with and without conflicting accesses) where both searches give the same verdict.

use crosscheck::arbitrary;
use crosscheck::sync::atomic::{AtomicU64, Ordering::SeqCst};
use crosscheck::{Checker, Model, Resource, Scenario, Scheduler};

#[derive(Clone, Debug, PartialEq, Eq, Hash, arbitrary::Arbitrary)]
pub enum Op {
    /// Increment counter `0` or `1`.
    Inc(u8),
}

/// Two atomic counters; `Inc(k)` is a `fetch_add` on counter `k % 2`.
pub struct Counters([AtomicU64; 2]);

impl Resource for Counters {
    type Op = Op;
    type Output = u64;
    type Model = CountersModel;
    fn new() -> Self {
        Counters([AtomicU64::new(0), AtomicU64::new(0)])
    }
    fn apply(&self, op: &Op) -> u64 {
        let Op::Inc(k) = op;
        self.0[usize::from(k % 2)].fetch_add(1, SeqCst)
    }
}

/// Each counter is its own partition: increments of different counters are checked separately.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CountersModel([u64; 2]);

impl Model for CountersModel {
    type Op = Op;
    type Output = u64;
    fn step(&mut self, op: &Op) -> u64 {
        let Op::Inc(k) = op;
        let c = &mut self.0[usize::from(k % 2)];
        *c += 1;
        *c - 1
    }
    fn partition(op: &Op) -> Option<u64> {
        let Op::Inc(k) = op;
        Some(u64::from(k % 2))
    }
}

/// Schedules an exhaustive search runs on `threads` (every scenario's search finishes).
fn schedules(scheduler: Scheduler, threads: Vec<Vec<Op>>) -> usize {
    let report = Checker::<Counters>::new()
        .scenario(Scenario {
            threads,
            ..Scenario::default()
        })
        .scheduler(scheduler)
        .iterations(100_000)
        .run()
        .expect("the counters are correct");
    assert_eq!(report.exhausted_scenarios(), 1, "the search finished");
    report.schedules()
}

fn reduced(threads: Vec<Vec<Op>>) -> usize {
    schedules(Scheduler::Dfs { max_iterations: None }, threads)
}

fn unreduced(threads: Vec<Vec<Op>>) -> usize {
    schedules(Scheduler::DfsUnreduced { max_iterations: None }, threads)
}

#[test]
fn one_counter_two_threads_runs_one_schedule_per_order_of_the_increments() {
    let threads = vec![vec![Op::Inc(0); 5]; 2];
    assert_eq!(unreduced(threads.clone()), 1716);
    // Every increment conflicts with every other: C(10, 5) orders.
    assert_eq!(reduced(threads), 252);
}

#[test]
fn counters_in_different_partitions_need_one_schedule() {
    let threads = vec![vec![Op::Inc(0); 5], vec![Op::Inc(1); 5]];
    assert_eq!(unreduced(threads.clone()), 1716);
    assert_eq!(reduced(threads), 1);
}

#[test]
fn one_counter_three_threads() {
    let threads = vec![vec![Op::Inc(0); 2]; 3];
    assert_eq!(unreduced(threads.clone()), 5775);
    // 6! / (2! 2! 2!) orders of the increments.
    assert_eq!(reduced(threads), 90);
}
