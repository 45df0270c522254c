//! A resource that panics, spins, or deadlocks where crosscheck cannot see the locks, and invalid
//! settings: each gets a clear failure, and nothing leaks into the next check.

use crosscheck::resources::*;
use crosscheck::sync::Mutex;
use crosscheck::{Checker, FailureKind, Resource, Scheduler};

#[path = "support/misbehaving.rs"]
mod misbehaving;
use misbehaving::{Nothing, Op, Spinner, Waiter};

/// Panics while holding a lock, so other threads then see it poisoned.
struct Panicky(Mutex<u32>);

impl Resource for Panicky {
    type Op = Op;
    type Output = ();
    type Model = Nothing;
    fn new() -> Self {
        Panicky(Mutex::new(0))
    }
    fn apply(&self, _: &Op) {
        let mut n = self.0.lock().unwrap();
        *n += 1;
        assert!(*n < 2, "the second poke found {}", *n);
    }
}

/// A correct counter that yields after its critical section, before it returns.
struct LateReturnCounter(LockedCounter);

impl Resource for LateReturnCounter {
    type Op = CounterOp;
    type Output = Option<u64>;
    type Model = CounterModel;
    fn new() -> Self {
        LateReturnCounter(LockedCounter::new())
    }
    fn apply(&self, op: &CounterOp) -> Option<u64> {
        let out = self.0.apply(op);
        crosscheck::thread::yield_now();
        out
    }
}

fn all_schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Random,
        Scheduler::Pct { depth: 3 },
        Scheduler::Dfs {
            max_iterations: Some(100),
        },
        Scheduler::Bounded { preemptions: 1 },
    ]
}

#[test]
fn a_panic_names_the_thread_and_the_op() {
    let failure = Checker::<Panicky>::new()
        .threads(2)
        .ops_per_thread(1)
        .run()
        .unwrap_err();
    match failure.kind() {
        FailureKind::Panicked { thread, op, message } => {
            assert!(thread.starts_with('T') || thread == "main", "{thread}");
            assert_eq!(op, "Poke");
            assert!(message.contains("the second poke found 2"), "{message}");
            assert!(message.contains("robustness.rs"), "the location is given: {message}");
        }
        other => panic!("expected a panic, got {other:?}\n{failure}"),
    }
}

#[test]
fn a_spin_loop_hits_the_step_limit_not_a_hang() {
    let failure = Checker::<Spinner>::new().max_steps(5_000).run().unwrap_err();
    assert!(
        matches!(failure.kind(), FailureKind::StepLimitExceeded { steps: 5_000 }),
        "{failure}"
    );
    assert!(
        failure.to_string().contains("spin"),
        "the report names the likely cause"
    );
}

#[test]
fn a_condvar_deadlock_is_reported_as_a_deadlock() {
    let failure = Checker::<Waiter>::new().run().unwrap_err();
    assert!(matches!(failure.kind(), FailureKind::Deadlock { .. }), "{failure}");
}

#[test]
fn one_checks_failure_never_leaks_into_the_next() {
    for scheduler in all_schedulers() {
        let c = |s: &Scheduler| s.clone();
        assert!(Checker::<Panicky>::new().scheduler(c(&scheduler)).run().is_err());
        Checker::<LockedCounter>::new()
            .scheduler(c(&scheduler))
            .iterations(300)
            .run()
            .unwrap();
        assert!(Checker::<Waiter>::new().scheduler(c(&scheduler)).run().is_err());
        Checker::<LockedMap>::new()
            .scheduler(c(&scheduler))
            .iterations(300)
            .run()
            .unwrap();
        assert!(Checker::<AbBaBank>::new().scheduler(c(&scheduler)).run().is_err());
        Checker::<OrderedBank>::new()
            .scheduler(c(&scheduler))
            .iterations(300)
            .run()
            .unwrap();
        assert!(Checker::<Spinner>::new()
            .scheduler(c(&scheduler))
            .max_steps(1_000)
            .run()
            .is_err());
        Checker::<LockedLog>::new()
            .scheduler(c(&scheduler))
            .iterations(300)
            .run()
            .unwrap();
    }
}

fn usage<R: Resource>(checker: Checker<R>) -> String {
    match checker.run() {
        Err(f) => match f.kind() {
            FailureKind::Usage { message } => {
                assert!(f.scenario().is_empty());
                assert!(f.token().is_none());
                message.clone()
            }
            other => panic!("expected a usage error, got {other:?}"),
        },
        Ok(r) => panic!("an invalid check ran: {r}"),
    }
}

#[test]
fn invalid_settings_get_clear_errors() {
    assert!(usage(Checker::<LockedCounter>::new().threads(0)).contains("threads"));
    assert!(usage(Checker::<LockedCounter>::new().iterations(0)).contains("iterations(0)"));
    assert!(usage(Checker::<LockedCounter>::new().ops_per_thread(0)).contains("ops_per_thread"));
    assert!(usage(Checker::<LockedCounter>::new().scenarios(0)).contains("scenarios(0)"));
    assert!(usage(Checker::<LockedCounter>::new().scheduler(Scheduler::Pct { depth: 0 })).contains("depth"));
    #[allow(clippy::reversed_empty_ranges)]
    let empty = 3..=2;
    assert!(usage(Checker::<LockedCounter>::new().threads(empty)).contains("empty"));
    assert!(usage(Checker::<LockedCounter>::new().scheduler(Scheduler::Replay("nope".into()))).contains("token"));
}

#[test]
fn check_panics_with_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("saved.txt");
    let result = std::panic::catch_unwind(|| {
        Checker::<RacyCounter>::new().seed(5).regression_file(&file).check();
    });
    let payload = result.expect_err("check() panics on a bug");
    let text = payload.downcast_ref::<String>().expect("the report is the payload");
    // The same report as run() gives, plus the line that says where check() saved it.
    let expected = Checker::<RacyCounter>::new().seed(5).run().unwrap_err().to_string();
    let saved_line = text
        .lines()
        .find(|l| l.starts_with("saved to"))
        .expect("check() says where it saved the failure");
    let without: String = text.replace(&format!("\n{saved_line}\n"), "");
    let timing = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("shrunk from"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(timing(&without), timing(&expected));
}

#[test]
fn the_facade_is_plain_std_outside_a_check() {
    let counter = std::sync::Arc::new(LockedCounter::new());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let c = counter.clone();
            crosscheck::thread::spawn(move || {
                for _ in 0..1000 {
                    c.apply(&CounterOp::Inc);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.apply(&CounterOp::Get), Some(4000));
}

#[test]
fn histories_too_large_to_check_in_time_are_unknown_not_passed() {
    // Histories whose operations, in the order they returned, fit the model are decided without a
    // search. This counter lets others run after its critical section, so its operations often
    // return out of order and need the checker, which has no time at all here.
    let report = Checker::<LateReturnCounter>::new()
        .scheduler(crosscheck::Scheduler::Random)
        .iterations(2_000)
        .check_budget(std::time::Duration::ZERO)
        .run()
        .expect("unknown is not a failure");
    assert!(report.unknown() > 0, "{report}");
    assert!(report.to_string().contains("unknown, not passed"), "{report}");
    // With time to search, the same histories are all decided, and none is a false alarm.
    let report = Checker::<LateReturnCounter>::new()
        .threads(3)
        .ops_per_thread(3)
        .scheduler(crosscheck::Scheduler::Random)
        .iterations(5_000)
        .run()
        .unwrap_or_else(|f| panic!("a correct counter is flagged:\n{f}"));
    assert_eq!(report.unknown(), 0, "{report}");
}
