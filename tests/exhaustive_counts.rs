//! Exhaustive search without reduction, run for real through shuttle, explores exactly the interleavings a
//! scenario's scheduling points allow: no more (no schedule twice), no fewer (none missed).
//!
//! Where the scheduling points of `AtomicCounter` scenarios are (each is a point where the
//! scheduler may switch threads, counted as a choice only when more than one thread can run):
//! - each worker thread has n + 1 segments for n `Inc`s: it runs up to its first `fetch_add`
//!   (shuttle switches before every atomic access), from each `fetch_add` to the next, and from
//!   the last one to its exit (a finished task hands control back to the scheduler);
//! - the harness's main thread spawns every worker without a switch (crosscheck keeps it running
//!   while it spawns), then blocks joining T1; once T1 has exited, main is runnable again and
//!   joins one thread per step (a join is a scheduling point even when its thread has finished);
//! - the post part runs on main alone, after every join: it adds steps but no choices.
//!
//! So the number of schedules is the number of ways to interleave the workers' segments with
//! main's join steps, each join after the exit of the thread it joins. For 2 threads x n that is
//! C(2n + 3, n + 1): T1's n + 1 segments followed by main's join of T2 form one chain of n + 2
//! steps, interleaved with T2's chain of n + 1. `expected` counts it for any shape by walking
//! that model (an independent count: no shuttle, no crosscheck).

use crosscheck::resources::{AtomicCounter, CounterOp};
use crosscheck::{Checker, Scenario, Scheduler};

/// Schedules the unreduced exhaustive search (`Scheduler::DfsUnreduced`, the reference that
/// `Scheduler::Dfs`'s partial-order reduction is tested against in tests/por.rs) runs on
/// `threads` threads of `n` increments (and a final `Get`).
fn explored(threads: usize, n: usize) -> usize {
    let report = Checker::<AtomicCounter>::new()
        .scenario(Scenario {
            init: vec![],
            threads: vec![vec![CounterOp::Inc; n]; threads],
            post: vec![CounterOp::Get],
        })
        .scheduler(Scheduler::DfsUnreduced { max_iterations: None })
        .iterations(1_000_000)
        .run()
        .expect("a correct counter passes");
    assert_eq!(report.exhausted_scenarios(), 1, "{report}");
    report.schedules()
}

/// The model in the module docs: maximal paths through (segments run per worker, threads main has
/// joined), branching wherever more than one thread can run.
fn expected(threads: usize, n: usize) -> usize {
    fn go(
        done: &mut Vec<usize>,
        joined: usize,
        segments: usize,
        memo: &mut std::collections::HashMap<(Vec<usize>, usize), usize>,
    ) -> usize {
        if let Some(&c) = memo.get(&(done.clone(), joined)) {
            return c;
        }
        let mut total = 0;
        let mut any = false;
        for t in 0..done.len() {
            if done[t] < segments {
                any = true;
                done[t] += 1;
                total += go(done, joined, segments, memo);
                done[t] -= 1;
            }
        }
        if joined < done.len() && done[joined] == segments {
            any = true;
            total += go(done, joined + 1, segments, memo);
        }
        let count = if any { total } else { 1 };
        memo.insert((done.clone(), joined), count);
        count
    }
    go(&mut vec![0; threads], 0, n + 1, &mut Default::default())
}

fn binomial(n: usize, k: usize) -> usize {
    (1..=k).fold(1, |acc, i| acc * (n + 1 - i) / i)
}

#[test]
fn the_model_matches_the_closed_form_for_two_threads() {
    for n in 1..=6 {
        assert_eq!(expected(2, n), binomial(2 * n + 3, n + 1), "2 x {n}");
    }
}

#[test]
fn dfs_explores_exactly_the_interleavings_of_2x1_2x2_and_3x1() {
    assert_eq!(explored(2, 1), 10); // C(5, 2)
    assert_eq!(explored(2, 2), 35); // C(7, 3)
    assert_eq!(explored(3, 1), 280);
    for (threads, n) in [(2, 1), (2, 2), (3, 1), (2, 3), (3, 2)] {
        assert_eq!(explored(threads, n), expected(threads, n), "{threads} x {n}");
    }
}
