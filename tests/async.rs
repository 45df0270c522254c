//! Async resources (`AsyncResource`) and `crosscheck::future`: the async counter's bug is caught by
//! every scheduler family and shrunk to its minimum, the correct counter passes, tokens replay,
//! regressions are saved, tasks spawned inside an operation are scheduled, an async lock held
//! forever is a deadlock naming it, and outside a check the executor is a plain one.

use std::sync::atomic::{AtomicUsize, Ordering};

use crosscheck::arbitrary;
use crosscheck::cell::UnsafeCell;
use crosscheck::future::{self, Mutex};
use crosscheck::resources::*;
use crosscheck::sync::Arc;
use crosscheck::{AsyncResource, Checker, FailureKind, Model, Resource, Scheduler};

fn lost_update(kind: &FailureKind) -> bool {
    matches!(kind, FailureKind::NotLinearizable { .. })
}

#[test]
fn racy_async_counter_is_caught_by_every_shuttle_scheduler() {
    for scheduler in [
        Scheduler::Random,
        Scheduler::Pct { depth: 2 },
        Scheduler::Dfs { max_iterations: None },
        Scheduler::Pos,
    ] {
        let failure = Checker::<RacyAsyncCounter>::new()
            .scheduler(scheduler.clone())
            .iterations(10_000)
            .seed(3)
            .run()
            .expect_err("the lost update is found");
        assert!(lost_update(failure.kind()), "{scheduler:?}:\n{failure}");
        assert!(failure.token().is_some(), "{scheduler:?}: a found bug has a token");
    }
}

#[test]
fn racy_async_counter_shrinks_to_two_incs_and_a_get_and_its_token_replays() {
    // Each seed shrinks in about a second; `CROSSCHECK_SHRINK_SEEDS` tries more.
    let seeds = std::env::var("CROSSCHECK_SHRINK_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3u64);
    for seed in 0..seeds {
        let failure = Checker::<RacyAsyncCounter>::new()
            .seed(seed)
            .run()
            .expect_err("the lost update is found");
        let s = failure.scenario();
        assert_eq!(
            s.threads,
            vec![vec![CounterOp::Inc], vec![CounterOp::Inc]],
            "seed {seed}:\n{failure}"
        );
        assert!(s.init.is_empty(), "seed {seed}:\n{failure}");
        assert_eq!(s.post, vec![CounterOp::Get], "seed {seed}:\n{failure}");
        // The `.await` on `yield_now` is where the other task runs: no preemption is needed.
        assert_eq!(failure.preemptions(), 0, "seed {seed}:\n{failure}");
        assert!(lost_update(failure.kind()), "seed {seed}:\n{failure}");
        let text = failure.to_string();
        assert!(text.contains("locks async-mutex \"count\""), "{text}");
        assert!(text.contains("yields (future::yield_now)"), "{text}");
        assert!(
            !text.contains("count state"),
            "the lock's own state stays out of the interleaving:\n{text}"
        );

        let token = failure.token().expect("a token").to_string();
        let replayed = Checker::<RacyAsyncCounter>::new()
            .scheduler(Scheduler::Replay(token))
            .run()
            .expect_err("the token replays the failure");
        assert_eq!(replayed.kind(), failure.kind());
        assert_eq!(replayed.scenario(), failure.scenario());
        assert_eq!(
            replayed
                .to_string()
                .lines()
                .filter(|l| l.contains("async-mutex"))
                .count(),
            text.lines().filter(|l| l.contains("async-mutex")).count(),
            "the same interleaving"
        );
    }
}

#[test]
fn locked_async_counter_passes_20_000_schedules() {
    let report = Checker::<LockedAsyncCounter>::new()
        .iterations(20_000)
        .seed(11)
        .run()
        .unwrap_or_else(|f| panic!("false alarm:\n{f}"));
    assert_eq!(report.schedules(), 20_000, "{report}");
}

#[test]
fn locked_async_counter_passes_an_exhaustive_search() {
    let report = Checker::<LockedAsyncCounter>::new()
        .threads(2)
        .ops_per_thread(1)
        .post_ops(1)
        .scheduler(Scheduler::Dfs { max_iterations: None })
        .scenarios(4)
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("false alarm:\n{f}"));
    println!("{report}");
    assert_eq!(report.exhausted_scenarios(), 4, "{report}");
}

fn loom(bound: Option<usize>) -> Scheduler {
    Scheduler::Loom {
        preemption_bound: bound,
    }
}

#[test]
fn loom_finds_the_lost_update_and_passes_the_locked_counter() {
    let failure = Checker::<RacyAsyncCounter>::new()
        .threads(2)
        .ops_per_thread(1)
        .post_ops(1)
        .scheduler(loom(Some(2)))
        .iterations(3_000)
        .seed(1)
        .run()
        .expect_err("loom finds the lost update");
    assert!(lost_update(failure.kind()), "{failure}");
    assert!(failure.to_string().contains("found by loom"), "{failure}");
    let token = failure.token().expect("a loom token").to_string();
    let replayed = Checker::<RacyAsyncCounter>::new()
        .scheduler(Scheduler::Replay(token))
        .run()
        .expect_err("the loom token replays");
    assert_eq!(replayed.kind(), failure.kind());

    let report = Checker::<LockedAsyncCounter>::new()
        .threads(2)
        .ops_per_thread(1..=2)
        .post_ops(1)
        .scheduler(loom(Some(2)))
        .iterations(3_000)
        .scenarios(5)
        .run()
        .unwrap_or_else(|f| panic!("loom false alarm:\n{f}"));
    assert!(report.schedules() > 0, "{report}");
}

#[test]
fn stress_runs_async_resources_on_real_threads() {
    let report = Checker::<LockedAsyncCounter>::new()
        .threads(2)
        .ops_per_thread(100)
        .post_ops(1)
        .scheduler(Scheduler::Stress)
        .iterations(50)
        .run()
        .unwrap_or_else(|f| panic!("stress false alarm:\n{f}"));
    assert_eq!(report.schedules(), 50, "{report}");
    // The racy one loses updates on real threads too: its yield is a real one.
    let failure = Checker::<RacyAsyncCounter>::new()
        .threads(2)
        .ops_per_thread(200)
        .post_ops(1)
        .scheduler(Scheduler::Stress)
        .iterations(20_000)
        .seed(1)
        .run()
        .expect_err("stress finds the lost update");
    assert!(lost_update(failure.kind()), "{failure}");
    assert!(failure.to_string().contains("found by Stress"), "{failure}");
}

#[test]
fn a_found_async_bug_is_saved_as_a_regression_and_replayed_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("async.txt");
    let first = std::panic::catch_unwind({
        let path = path.clone();
        move || Checker::<RacyAsyncCounter>::new().regression_file(path).check()
    });
    assert!(first.is_err(), "the check fails");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.lines().any(|l| l.starts_with("cc1_")), "{saved}");
    // One schedule would not find it: the saved token does, first.
    let again = std::panic::catch_unwind(move || {
        Checker::<RacyAsyncCounter>::new()
            .regression_file(&path)
            .iterations(1)
            .seed(999)
            .check()
    });
    let text = *again
        .expect_err("the saved regression fails first")
        .downcast::<String>()
        .expect("the report is the payload");
    assert!(text.contains("saved regression"), "{text}");
}

/// Each `Inc` hands the increment to a task of its own; `await_it` says whether the operation
/// awaits that task before it returns.
struct Delegating<const AWAIT: bool> {
    count: Arc<Mutex<u64>>,
}

impl<const AWAIT: bool> AsyncResource for Delegating<AWAIT> {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        Delegating {
            count: Arc::new(Mutex::new(0)),
        }
    }

    async fn apply(&self, op: &CounterOp) -> Option<u64> {
        match op {
            CounterOp::Inc => {
                let count = Arc::clone(&self.count);
                let task = future::spawn(async move {
                    *count.lock().await += 1;
                    7
                });
                if AWAIT {
                    assert_eq!(task.await.expect("the task ends"), 7);
                }
                None
            }
            CounterOp::Get => Some(*self.count.lock().await),
        }
    }
}

#[test]
fn an_operation_spawns_a_task_and_awaits_it() {
    Checker::<Delegating<true>>::new()
        .iterations(5_000)
        .seed(5)
        .run()
        .unwrap_or_else(|f| panic!("false alarm:\n{f}"));
    // Loom models 4 threads besides main: 2 scenario threads, and a task each.
    Checker::<Delegating<true>>::new()
        .threads(2)
        .ops_per_thread(1)
        .init_ops(0)
        .post_ops(1)
        .scheduler(loom(Some(2)))
        .iterations(2_000)
        .run()
        .unwrap_or_else(|f| panic!("loom false alarm:\n{f}"));
    // Not awaiting the task: a `Get` after the `Inc` returned may not see it yet.
    let failure = Checker::<Delegating<false>>::new()
        .seed(5)
        .run()
        .expect_err("the unawaited task is caught");
    assert!(lost_update(failure.kind()), "{failure}");
    let s = failure.scenario();
    let ops: usize = s.init.len() + s.threads.iter().map(Vec::len).sum::<usize>() + s.post.len();
    assert_eq!(ops, 2, "one Inc and one Get:\n{failure}");
}

/// Accesses an `UnsafeCell` under an async lock, or in a task it spawned and awaited: both are
/// ordered (no data race), through the async lock's release and acquisition and through the join.
struct CellBehindAsyncLock {
    lock: Mutex<()>,
    cell: Arc<SharedCell>,
}

struct SharedCell(UnsafeCell<u64>);

// SAFETY: every access is made under the async lock, or by a task the lock holder awaits; the
// data-race check is what this test asks to agree.
unsafe impl Sync for SharedCell {}

impl AsyncResource for CellBehindAsyncLock {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;

    fn new() -> Self {
        CellBehindAsyncLock {
            lock: Mutex::new(()),
            cell: Arc::new(SharedCell(UnsafeCell::new(0))),
        }
    }

    async fn apply(&self, op: &CounterOp) -> Option<u64> {
        let _guard = self.lock.lock().await;
        match op {
            CounterOp::Inc => {
                let cell = Arc::clone(&self.cell);
                // SAFETY (of the test): the async lock is held; the task is awaited before it drops.
                let task = future::spawn(async move { cell.0.with_mut(|n| unsafe { *n += 1 }) });
                task.await.unwrap();
                None
            }
            CounterOp::Get => Some(self.cell.0.with(|n| unsafe { *n })),
        }
    }
}

#[test]
fn the_async_lock_and_a_join_order_accesses_for_the_data_race_check() {
    Checker::<CellBehindAsyncLock>::new()
        .iterations(5_000)
        .seed(2)
        .run()
        .unwrap_or_else(|f| panic!("false alarm:\n{f}"));
}

#[derive(Clone, Debug, arbitrary::Arbitrary)]
enum LeakOp {
    /// Takes the lock and never lets it go.
    Leak,
    Get,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct LeakModel;

impl Model for LeakModel {
    type Op = LeakOp;
    type Output = ();
    fn step(&mut self, _: &LeakOp) {}
}

/// BUGGY: `Leak` forgets its guard, so the lock is never released.
struct LeakyLock(Mutex<u8>);

impl AsyncResource for LeakyLock {
    type Op = LeakOp;
    type Output = ();
    type Model = LeakModel;

    fn new() -> Self {
        LeakyLock(Mutex::new(0).named("leaky"))
    }

    async fn apply(&self, op: &LeakOp) {
        let guard = self.0.lock().await;
        if let LeakOp::Leak = op {
            std::mem::forget(guard);
        }
    }
}

#[test]
fn an_async_lock_nobody_releases_is_a_deadlock_naming_it() {
    for scheduler in [Scheduler::Random, Scheduler::Dfs { max_iterations: None }] {
        let failure = Checker::<LeakyLock>::new()
            .scheduler(scheduler.clone())
            .iterations(2_000)
            .run()
            .expect_err("the deadlock is found");
        let FailureKind::Deadlock { cycle } = failure.kind() else {
            panic!("{scheduler:?}: not a deadlock:\n{failure}")
        };
        assert!(
            cycle[0].contains("awaits async-mutex \"leaky\"") && cycle[0].contains("(held by"),
            "{scheduler:?}: {cycle:#?}"
        );
        let s = failure.scenario();
        let ops: usize = s.init.len() + s.threads.iter().map(Vec::len).sum::<usize>() + s.post.len();
        assert_eq!(ops, 2, "a Leak and one more operation:\n{failure}");
    }
    let failure = Checker::<LeakyLock>::new()
        .threads(2)
        .ops_per_thread(1)
        .post_ops(1)
        .scheduler(loom(Some(2)))
        .iterations(2_000)
        .run()
        .expect_err("loom finds the deadlock");
    let FailureKind::Deadlock { cycle } = failure.kind() else {
        panic!("loom: not a deadlock:\n{failure}")
    };
    assert!(
        cycle.iter().any(|l| l.contains("awaits async-mutex \"leaky\"")),
        "{cycle:#?}"
    );
}

#[test]
fn outside_a_check_the_executor_is_a_plain_one() {
    let count = Arc::new(Mutex::new(0u64));
    let polls = Arc::new(AtomicUsize::new(0));
    let total = future::block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let count = Arc::clone(&count);
                let polls = Arc::clone(&polls);
                future::spawn(async move {
                    for _ in 0..100 {
                        let mut n = count.lock().await;
                        let seen = *n;
                        future::yield_now().await;
                        *n = seen + 1;
                        polls.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("no task panics");
        }
        *count.lock().await
    });
    assert_eq!(total, 400);
    assert_eq!(polls.load(Ordering::Relaxed), 400);
    assert_eq!(future::spawn(async { 6 * 7 }).join().unwrap(), 42);
    let count = Arc::try_unwrap(count).expect("every task is done");
    assert_eq!(count.into_inner(), 400);

    let panicked = future::spawn(async { panic!("task failed on purpose") }).join();
    let err = panicked.expect_err("the panic is the handle's error");
    assert!(err.is_panic() && !err.is_cancelled());
    assert_eq!(err.to_string(), "task panicked: task failed on purpose");
}

#[test]
fn async_resources_are_resources() {
    fn sync_face<R: Resource>(r: &R, op: &R::Op) -> R::Output {
        r.apply(op)
    }
    let counter = <LockedAsyncCounter as AsyncResource>::new();
    assert_eq!(sync_face(&counter, &CounterOp::Inc), None);
    assert_eq!(sync_face(&counter, &CounterOp::Get), Some(1));
}

/// BUGGY: `Leak` panics with the async lock held (its guard drops while unwinding).
struct PanicsHoldingTheLock(Mutex<u8>);

impl AsyncResource for PanicsHoldingTheLock {
    type Op = LeakOp;
    type Output = ();
    type Model = LeakModel;

    fn new() -> Self {
        PanicsHoldingTheLock(Mutex::new(0))
    }

    async fn apply(&self, op: &LeakOp) {
        let _guard = self.0.lock().await;
        future::yield_now().await;
        if let LeakOp::Leak = op {
            panic!("gave up holding the lock");
        }
    }
}

#[test]
fn a_panic_with_the_async_lock_held_is_reported_under_every_backend() {
    for scheduler in [Scheduler::Random, loom(Some(2))] {
        let failure = Checker::<PanicsHoldingTheLock>::new()
            .threads(2)
            .ops_per_thread(1)
            .post_ops(1)
            .scheduler(scheduler.clone())
            .iterations(500)
            .run()
            .expect_err("the panic is found");
        assert!(
            matches!(failure.kind(), FailureKind::Panicked { message, .. } if message.contains("gave up holding")),
            "{scheduler:?}:\n{failure}"
        );
    }
}
