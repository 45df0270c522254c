//! Locks as the seed teaches them: back-off with timeouts passes, its two classic mistakes are
//! caught with the right kinds, logical timeouts replay exactly.

use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Scheduler};

fn backoff_bank_passes(schedules: usize) {
    let report = Checker::<BackoffBank>::new().iterations(schedules).seed(1).run();
    match report {
        Ok(report) => assert!(report.schedules() >= schedules - 10, "{report}"),
        Err(failure) => panic!("a false alarm on BackoffBank:\n{failure}"),
    }
}

#[test]
fn backoff_bank_passes_the_default_portfolio() {
    backoff_bank_passes(2_000);
}

/// The systematic members spend ~3 ms a schedule on back-off loops (each explored loop runs to the
/// livelock bound and its fair tail), so the large budget is opt-in:
/// `cargo test --test locks -- --ignored` (about 25 s).
#[test]
#[ignore]
fn backoff_bank_passes_a_large_budget() {
    backoff_bank_passes(20_000);
}

#[test]
fn keeping_the_first_lock_on_timeout_is_a_deadlock() {
    let failure = Checker::<KeepLockBackoffBank>::new().seed(1).run().unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::Deadlock { .. }), "{failure}");
}

#[test]
fn retrying_without_backing_off_is_a_livelock() {
    let failure = Checker::<EagerBackoffBank>::new().seed(1).run().unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::Livelock { .. }), "{failure}");
    println!("{failure}");
}

#[test]
fn logical_timeouts_replay_exactly() {
    let failure = Checker::<KeepLockBackoffBank>::new().seed(2).run().unwrap_err();
    let token = failure.token().expect("a deadlock has a token").to_string();
    let replayed = Checker::<KeepLockBackoffBank>::new()
        .scheduler(Scheduler::Replay(token))
        .run()
        .unwrap_err();
    assert_eq!(replayed.kind(), failure.kind());
    let from_why = |text: String| text.split_once("why:").map(|(_, rest)| rest.to_string());
    assert_eq!(from_why(replayed.to_string()), from_why(failure.to_string()));
    assert!(failure.to_string().contains("(timed out)"), "{failure}");
}

#[path = "support/lockorder.rs"]
mod lockorder;

use crosscheck::Scenario;
use lockorder::{LockOp, ThreeLocks, TwoRwLocks};

/// One thread running `ops` in turn: nothing can deadlock.
fn alone(ops: Vec<LockOp>) -> Scenario<LockOp> {
    Scenario {
        init: vec![],
        threads: vec![ops],
        post: vec![],
    }
}

fn inversion_edges<R: crosscheck::Resource<Op = LockOp>>(checker: Checker<R>) -> Option<Vec<String>> {
    match checker.run() {
        Ok(_) => None,
        Err(failure) => match failure.kind() {
            FailureKind::LockOrderInversion { edges, deadlock } => {
                assert!(deadlock.is_none(), "one thread cannot deadlock:\n{failure}");
                Some(edges.clone())
            }
            _ => panic!("expected a lock-order inversion or a pass:\n{failure}"),
        },
    }
}

#[test]
fn a_two_lock_inversion_is_found_without_a_deadlock() {
    let checker = Checker::<ThreeLocks>::new()
        .scenario(alone(vec![LockOp::Nest(0, 1), LockOp::Nest(1, 0)]))
        .iterations(1);
    let edges = inversion_edges(checker.clone()).expect("a -> b and b -> a is a cycle");
    println!("{}", checker.run().unwrap_err());
    assert_eq!(edges.len(), 2, "{edges:?}");
    assert!(
        edges[0].contains("mutex \"a\"") && edges[0].contains("mutex \"b\""),
        "{edges:?}"
    );
    assert!(
        edges.iter().all(|e| e.contains("tests/support/lockorder.rs:")),
        "{edges:?}"
    );
}

#[test]
fn a_three_lock_cycle_is_found_from_one_execution() {
    let checker = Checker::<ThreeLocks>::new()
        .scenario(alone(vec![LockOp::Nest(0, 1), LockOp::Nest(1, 2), LockOp::Nest(2, 0)]))
        .iterations(1);
    let edges = inversion_edges(checker).expect("a -> b -> c -> a is a cycle");
    assert_eq!(edges.len(), 3, "{edges:?}");
}

/// The lock-order analysis under every backend: a two- and a three-lock cycle found from one
/// thread (nothing can deadlock), take-release-retake and a timed try not flagged.
fn under(scheduler: Scheduler, iterations: usize) {
    let check = |ops: Vec<LockOp>| {
        let checker = Checker::<ThreeLocks>::new()
            .scenario(alone(ops))
            .scheduler(scheduler.clone())
            .iterations(iterations);
        inversion_edges(checker)
    };
    let two = check(vec![LockOp::Nest(0, 1), LockOp::Nest(1, 0)]).expect("a -> b -> a");
    assert_eq!(two.len(), 2, "{scheduler:?}: {two:?}");
    let three = check(vec![LockOp::Nest(0, 1), LockOp::Nest(1, 2), LockOp::Nest(2, 0)]).expect("a -> b -> c -> a");
    assert_eq!(three.len(), 3, "{scheduler:?}: {three:?}");
    assert!(
        three.iter().all(|e| e.contains("tests/support/lockorder.rs:")),
        "{three:?}"
    );
    assert_eq!(
        check(vec![LockOp::Nest(0, 1), LockOp::Apart(1, 0)]),
        None,
        "{scheduler:?}"
    );
    assert_eq!(
        check(vec![LockOp::Nest(0, 1), LockOp::TryNest(1, 0)]),
        None,
        "{scheduler:?}"
    );
}

#[test]
fn inversions_are_found_under_loom() {
    under(
        Scheduler::Loom {
            preemption_bound: Some(2),
        },
        10,
    );
}

#[test]
fn inversions_are_found_under_stress() {
    under(Scheduler::Stress, 3);
    let reads = Checker::<TwoRwLocks>::new()
        .scenario(alone(vec![LockOp::ReadNest(0, 1), LockOp::ReadNest(1, 0)]))
        .scheduler(Scheduler::Stress)
        .iterations(3);
    assert!(inversion_edges(reads).is_some(), "read locks on real threads");
}

#[test]
fn a_stress_inversion_between_threads_gets_a_deadlocking_token_from_shuttle() {
    let two = Scenario {
        init: vec![],
        threads: vec![vec![LockOp::Nest(0, 1)], vec![LockOp::Nest(1, 0)]],
        post: vec![],
    };
    // Real threads almost never hit the deadlock window; the order shows it anyway.
    let failure = match Checker::<ThreeLocks>::new()
        .scenario(two)
        .scheduler(Scheduler::Stress)
        .iterations(20)
        .run()
    {
        Err(failure) => failure,
        Ok(report) => panic!("passed: {report}"),
    };
    match failure.kind() {
        FailureKind::LockOrderInversion { deadlock, .. } => {
            assert!(deadlock.is_some(), "shuttle finds the deadlock:\n{failure}")
        }
        // The rare iteration that really deadlocked (the stress timeout) is the same bug.
        FailureKind::Deadlock { .. } => {}
        _ => panic!("{failure}"),
    }
}

#[test]
fn backoff_bank_shows_no_inversion_under_stress_or_loom() {
    Checker::<BackoffBank>::new()
        .scheduler(Scheduler::Stress)
        .iterations(200)
        .run()
        .unwrap();
    Checker::<OrderedBank>::new()
        .scheduler(Scheduler::Stress)
        .iterations(200)
        .run()
        .unwrap();
    Checker::<OrderedBank>::new()
        .threads(2)
        .ops_per_thread(1)
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .iterations(200)
        .run()
        .unwrap();
}

#[test]
fn take_release_retake_and_try_locks_are_no_inversion() {
    for ops in [
        vec![LockOp::Nest(0, 1), LockOp::Apart(1, 0)],
        vec![LockOp::Nest(0, 1), LockOp::TryNest(1, 0)],
        vec![LockOp::Nest(0, 1), LockOp::Nest(0, 1), LockOp::Nest(1, 2)],
    ] {
        let checker = Checker::<ThreeLocks>::new().scenario(alone(ops.clone())).iterations(1);
        assert_eq!(inversion_edges(checker), None, "{ops:?}");
    }
}

#[test]
fn nested_reads_follow_the_write_rules() {
    let checker = Checker::<TwoRwLocks>::new()
        .scenario(alone(vec![LockOp::ReadNest(0, 1), LockOp::ReadNest(1, 0)]))
        .iterations(1);
    assert!(inversion_edges(checker).is_some(), "a read can wait behind a writer");
    let checker = Checker::<TwoRwLocks>::new()
        .scenario(alone(vec![LockOp::ReadNest(0, 1), LockOp::TryNest(1, 0)]))
        .iterations(1);
    assert_eq!(inversion_edges(checker), None);
}

#[test]
fn the_analysis_can_be_turned_off() {
    let report = Checker::<ThreeLocks>::new()
        .scenario(alone(vec![LockOp::Nest(0, 1), LockOp::Nest(1, 0)]))
        .iterations(1)
        .lock_order(false)
        .run();
    assert!(report.is_ok());
}

#[test]
fn an_inversion_that_can_deadlock_carries_a_deadlocking_token() {
    let two = Scenario {
        init: vec![],
        threads: vec![vec![LockOp::Nest(0, 1)], vec![LockOp::Nest(1, 0)]],
        post: vec![],
    };
    // One schedule, run without preemption: no deadlock, but both orders are seen.
    let failure = Checker::<ThreeLocks>::new()
        .scenario(two.clone())
        .scheduler(Scheduler::Bounded { preemptions: 0 })
        .iterations(1)
        .run()
        .unwrap_err();
    let FailureKind::LockOrderInversion { deadlock, .. } = failure.kind() else {
        panic!("{failure}");
    };
    let token = deadlock.clone().expect("the search finds the deadlock");
    let replayed = Checker::<ThreeLocks>::new()
        .scenario(two)
        .scheduler(Scheduler::Replay(token))
        .run()
        .unwrap_err();
    assert!(matches!(replayed.kind(), FailureKind::Deadlock { .. }), "{replayed}");
}

#[test]
fn correct_banks_show_no_inversion() {
    Checker::<OrderedBank>::new().iterations(2_000).run().unwrap();
    Checker::<BackoffBank>::new().iterations(500).run().unwrap();
}

/// Total acquisitions and contended acquisitions over every lock of a check.
fn totals(report: &crosscheck::Report) -> (u64, u64, usize) {
    let stats = report.lock_stats();
    (
        stats.iter().map(|s| s.acquisitions()).sum(),
        stats.iter().map(|s| s.contended()).sum(),
        stats.iter().map(|s| s.max_waiters()).max().unwrap_or(0),
    )
}

#[test]
fn contention_of_one_lock_and_a_lock_per_key() {
    let check = |report: crosscheck::Report| {
        println!("{report:#}");
        report
    };
    let coarse = check(
        Checker::<LockedMap>::new()
            .threads(4)
            .ops_per_thread(3)
            .iterations(2_000)
            .seed(1)
            .run()
            .unwrap(),
    );
    let sharded = check(
        Checker::<ShardedMap>::new()
            .threads(4)
            .ops_per_thread(3)
            .iterations(2_000)
            .seed(1)
            .run()
            .unwrap(),
    );
    assert_eq!(coarse.lock_stats().len(), 1, "one lock class");
    assert_eq!(
        sharded.lock_stats().len(),
        1,
        "four locks, one creation site: one class"
    );
    let (coarse_taken, coarse_waited, coarse_waiters) = totals(&coarse);
    let (sharded_taken, sharded_waited, sharded_waiters) = totals(&sharded);
    assert_eq!(coarse_taken, sharded_taken, "the same operations take one lock each");
    // Four threads on four keys still collide often; one lock makes every pair collide.
    assert!(
        2 * coarse_waited > 3 * sharded_waited,
        "a lock per key waits less: {coarse_waited} vs {sharded_waited}"
    );
    assert!(
        coarse_waiters >= 3,
        "four threads pile up on one lock: {coarse_waiters}"
    );
    assert!(sharded_waiters <= coarse_waiters);
    assert!(format!("{coarse:#}").contains("lock contention:"));
}

/// One lock class's figures after 50 stress iterations of 4 threads x 3 operations, each of which
/// takes the lock once: counted on real threads, in microseconds.
fn stress_figures<R: crosscheck::Resource>() -> String {
    let report = Checker::<R>::new()
        .threads(4)
        .ops_per_thread(3)
        .scheduler(Scheduler::Stress)
        .iterations(50)
        .seed(1)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    let stats = report.lock_stats();
    assert_eq!(stats.len(), 1, "one lock class:\n{report:#}");
    assert!(stats[0].in_time(), "{report:#}");
    assert!(
        stats[0].acquisitions() >= 50 * 12,
        "every operation takes the lock:\n{report:#}"
    );
    assert!(stats[0].contended() <= stats[0].acquisitions(), "{report:#}");
    let table = format!("{report:#}");
    assert!(table.contains("microseconds, on real threads"), "{table}");
    table
}

#[test]
fn contention_figures_under_stress_are_in_time() {
    stress_figures::<LockedMap>();
}

/// A counter behind one `RwLock`: `Inc` writes, `Get` reads.
pub struct RwCounter(crosscheck::sync::RwLock<u64>);

impl crosscheck::Resource for RwCounter {
    type Op = crosscheck::resources::CounterOp;
    type Output = Option<u64>;
    type Model = crosscheck::resources::CounterModel;
    fn new() -> Self {
        RwCounter(crosscheck::sync::RwLock::new(0))
    }
    fn apply(&self, op: &crosscheck::resources::CounterOp) -> Option<u64> {
        match op {
            crosscheck::resources::CounterOp::Inc => {
                *self.0.write().unwrap() += 1;
                None
            }
            crosscheck::resources::CounterOp::Get => Some(*self.0.read().unwrap()),
        }
    }
}

/// An `RwLock` on real threads has the same figures as a mutex: acquisitions, waits (read and
/// write acquisitions that found the lock taken), the longest wait and hold, in microseconds.
#[test]
fn rwlock_contention_figures_under_stress_are_in_time() {
    let table = stress_figures::<RwCounter>();
    assert!(table.contains("RwLock<u64>"), "{table}");
}
