//! The stress backend: real threads find the races of the buggy built-ins within a bounded number
//! of iterations, never flag the correct ones, report a suspected deadlock without hanging, and
//! hand a failure to shuttle for a shrunk, replayable report. The same resource type also runs
//! under loom and shuttle in this binary, in parallel with these tests and with each other.

use std::time::Duration;

use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Model, Resource, Scheduler};

/// 2 real threads x 200 operations: enough for their operations to overlap (measured on 2 cores:
/// the counter's race shows within 1-33 iterations, the map's within 5-832; the budget leaves a
/// wide margin for a loaded machine, and an iteration takes well under a millisecond).
fn stress<R: Resource>(post: usize) -> Checker<R> {
    Checker::<R>::new()
        .threads(2)
        .ops_per_thread(200)
        .init_ops(0)
        .post_ops(post)
        .scheduler(Scheduler::Stress)
        .iterations(20_000)
        .seed(1)
}

fn data_race(kind: &FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::NotLinearizable { .. } | FailureKind::InvariantViolated { .. }
    )
}

fn caught<R: Resource>(post: usize) {
    let failure = stress::<R>(post).run().expect_err("stress finds the race");
    assert!(data_race(failure.kind()), "{failure}");
    let text = failure.to_string();
    assert!(text.contains("found by Stress on real threads"), "{text}");
    // shuttle reproduced it: the report is the shrunk one, with a token that replays it.
    assert!(text.contains("shrunk from"), "{text}");
    let token = failure.token().expect("shuttle's reproduction has a token").to_string();
    let replayed = Checker::<R>::new().scheduler(Scheduler::Replay(token)).run();
    assert!(replayed.is_err(), "the token replays the failure");
    assert_eq!(failure.scenario().threads.len(), 2);
    assert!(failure.scenario().threads.iter().all(|t| t.len() == 1), "{failure}");
}

#[test]
fn stress_finds_the_racy_counter() {
    caught::<RacyCounter>(1);
}

#[test]
fn stress_finds_the_check_then_insert_map() {
    caught::<CheckThenInsertMap>(0);
}

#[test]
fn stress_never_flags_the_correct_built_ins() {
    fn passes<R: Resource>() {
        let report = stress::<R>(1).iterations(300).run().unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(report.schedules(), 300);
    }
    passes::<LockedCounter>();
    passes::<AtomicCounter>();
    passes::<LockedMap>();
    passes::<OrderedBank>();
    passes::<ReleaseAcquireFlag>();
}

#[test]
fn a_stress_deadlock_is_suspected_after_the_timeout_not_a_hang() {
    let failure = Checker::<AbBaBank>::new()
        .threads(2)
        .ops_per_thread(200)
        .scheduler(Scheduler::Stress)
        .stress_timeout(Duration::from_millis(500))
        .iterations(5_000)
        // The lock-order analysis reports the inversion from the first iteration (see
        // tests/locks.rs); this test is about the timeout of a real deadlock.
        .lock_order(false)
        .run()
        .expect_err("opposite transfers deadlock on real threads");
    assert!(matches!(failure.kind(), FailureKind::Deadlock { .. }), "{failure}");
    assert!(failure.to_string().contains("found by Stress"), "{failure}");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
enum Op {
    Inc,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Count(u64);

impl Model for Count {
    type Op = Op;
    type Output = ();
    fn step(&mut self, _: &Op) {
        self.0 += 1;
    }
}

/// Races on a std atomic, bypassing `crosscheck::sync`: invisible to shuttle (no scheduling
/// point), visible on real threads.
struct Hidden(std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64);

impl Resource for Hidden {
    type Op = Op;
    type Output = ();
    type Model = Count;
    fn new() -> Self {
        Hidden(
            std::sync::atomic::AtomicU64::new(0),
            std::sync::atomic::AtomicU64::new(0),
        )
    }
    fn apply(&self, _: &Op) {
        use std::sync::atomic::Ordering::SeqCst;
        self.1.fetch_add(1, SeqCst);
        let seen = self.0.load(SeqCst);
        self.0.store(seen + 1, SeqCst);
    }
    fn invariant(&self) -> Result<(), String> {
        use std::sync::atomic::Ordering::SeqCst;
        let (counted, made) = (self.0.load(SeqCst), self.1.load(SeqCst));
        (counted == made)
            .then_some(())
            .ok_or(format!("{counted} increments counted, {made} made"))
    }
}

#[test]
fn a_failure_shuttle_cannot_reproduce_says_it_cannot_be_replayed() {
    let failure = Checker::<Hidden>::new()
        .threads(2)
        .ops_per_thread(200)
        .init_ops(0)
        .post_ops(0)
        .scheduler(Scheduler::Stress)
        .iterations(5_000)
        .run()
        .expect_err("the hidden race shows on real threads");
    assert!(
        matches!(failure.kind(), FailureKind::InvariantViolated { .. }),
        "{failure}"
    );
    assert_eq!(failure.token(), None);
    let text = failure.to_string();
    assert!(text.contains("cannot be replayed exactly"), "{text}");
    assert!(!text.contains("replay this exact execution"), "{text}");
}

/// The same resource type under every backend, at once, from several threads of this test (and
/// in parallel with the other tests of this binary): each check keeps to its own backend.
#[test]
fn one_resource_under_every_backend_in_parallel() {
    let checks: Vec<std::thread::JoinHandle<()>> = vec![
        std::thread::spawn(|| caught::<RacyCounter>(1)),
        std::thread::spawn(|| {
            let f = Checker::<RacyCounter>::new()
                .threads(2)
                .ops_per_thread(1..=2)
                .post_ops(1)
                .scheduler(Scheduler::Loom {
                    preemption_bound: Some(2),
                })
                .run()
                .expect_err("loom finds it");
            assert!(data_race(f.kind()), "{f}");
        }),
        std::thread::spawn(|| {
            let f = Checker::<RacyCounter>::new()
                .run()
                .expect_err("the default portfolio finds it");
            assert!(data_race(f.kind()), "{f}");
        }),
        std::thread::spawn(|| {
            Checker::<LockedCounter>::new()
                .threads(2)
                .ops_per_thread(1..=2)
                .scheduler(Scheduler::Loom {
                    preemption_bound: Some(2),
                })
                .run()
                .unwrap_or_else(|f| panic!("{f}"));
        }),
        std::thread::spawn(|| {
            stress::<LockedCounter>(1)
                .iterations(200)
                .run()
                .unwrap_or_else(|f| panic!("{f}"));
        }),
        std::thread::spawn(|| {
            Checker::<LockedCounter>::new()
                .iterations(2_000)
                .run()
                .unwrap_or_else(|f| panic!("{f}"));
        }),
    ];
    for c in checks {
        c.join().expect("every check gave its own backend's answer");
    }
}
