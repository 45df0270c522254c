//! `crosscheck::thread::{scope, Builder}` and `crosscheck::thread_local!` under every backend: a
//! named thread is named in `current()`, and its id is its handle's; each scheduled thread has its own thread-local value
//! (std's `thread_local!` would share one between all of them, since shuttle and loom run every
//! thread on one OS thread); scoped threads that borrow a counter from their operation's stack lose
//! an update with `load` then `store` (caught, shrunk to one `AddTwice` and a `Get`) and do not
//! with `fetch_add` (20,000 schedules, loom, stress).

use std::cell::{Cell, RefCell};

use crosscheck::sync::atomic::{AtomicU64, Ordering::SeqCst};
use crosscheck::thread;
use crosscheck::{Checker, Model, Resource, Scenario, Scheduler};

crosscheck::thread_local! {
    static CALLS: Cell<u64> = Cell::new(0);
    static SEEN: RefCell<Vec<u64>> = RefCell::new(Vec::new());
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub struct Call;

/// Each operation counts its thread's calls in a thread-local and returns the count. A thread's
/// k-th call returns k whatever the others do, so the model is per thread; here the scenarios
/// give each thread one call, so every call returns 1.
pub struct PerThread(AtomicU64);

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct One;
impl Model for One {
    type Op = Call;
    type Output = u64;
    fn step(&mut self, _op: &Call) -> u64 {
        1
    }
}

impl Resource for PerThread {
    type Op = Call;
    type Output = u64;
    type Model = One;
    fn new() -> Self {
        PerThread(AtomicU64::new(0))
    }
    fn apply(&self, _op: &Call) -> u64 {
        self.0.fetch_add(1, SeqCst);
        CALLS.set(CALLS.get() + 1);
        SEEN.with_borrow_mut(|v| v.push(CALLS.get()));
        CALLS.get()
    }
}

#[test]
fn every_scheduled_thread_has_its_own_thread_local() {
    let scenario = Scenario {
        threads: vec![vec![Call], vec![Call], vec![Call]],
        ..Scenario::default()
    };
    for scheduler in [
        Scheduler::Random,
        Scheduler::Dfs {
            max_iterations: Some(500),
        },
        Scheduler::Loom {
            preemption_bound: Some(1),
        },
        Scheduler::Stress,
    ] {
        Checker::<PerThread>::new()
            .scenario(scenario.clone())
            .iterations(200)
            .scheduler(scheduler.clone())
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?}: a thread saw another's count:\n{f}"));
    }
}

#[test]
fn outside_a_check_the_thread_local_is_std_s() {
    CALLS.set(5);
    assert_eq!(CALLS.replace(6), 5);
    assert_eq!(CALLS.take(), 6);
    let other = thread::spawn(|| CALLS.get()).join().unwrap();
    assert_eq!(other, 0, "another OS thread has its own");
    SEEN.set(vec![1, 2]);
    assert_eq!(SEEN.with_borrow(|v| v.len()), 2);
    assert_eq!(SEEN.take(), [1, 2]);
}

/// Spawns a named helper thread per operation and returns the name it saw for itself (checking that
/// its id is its handle's, and not the spawner's).
pub struct Named;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NameModel;
impl Model for NameModel {
    type Op = Call;
    type Output = Option<String>;
    fn step(&mut self, _op: &Call) -> Option<String> {
        Some("worker".into())
    }
}

impl Resource for Named {
    type Op = Call;
    type Output = Option<String>;
    type Model = NameModel;
    fn new() -> Self {
        Named
    }
    fn apply(&self, _op: &Call) -> Option<String> {
        let h = thread::Builder::new()
            .name("worker".into())
            .stack_size(256 * 1024)
            .spawn(|| (thread::current().name().map(str::to_owned), thread::current().id()))
            .expect("spawned");
        assert_eq!(h.thread().name(), Some("worker"));
        let spawned = h.thread().id();
        let (name, id) = h.join().unwrap();
        assert_eq!(id, spawned, "the handle and the thread itself agree on its id");
        assert_ne!(id, thread::current().id(), "two threads, two ids");
        assert_eq!(thread::current().id(), thread::current().id());
        name
    }
}

#[test]
fn a_builder_names_its_thread_under_every_backend() {
    for scheduler in [
        Scheduler::Random,
        Scheduler::Loom {
            preemption_bound: Some(1),
        },
        Scheduler::Stress,
    ] {
        // Two scenario threads, each spawning one: five threads with main, as many as loom models.
        Checker::<Named>::new()
            .scenario(Scenario {
                threads: vec![vec![Call], vec![Call]],
                ..Scenario::default()
            })
            .iterations(50)
            .scheduler(scheduler.clone())
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?}:\n{f}"));
    }
    let h = thread::Builder::new()
        .name("outside".into())
        .spawn(|| (thread::current().name().map(str::to_owned), thread::current().id()))
        .unwrap();
    let spawned = h.thread().id();
    let (name, id) = h.join().unwrap();
    assert_eq!(name.as_deref(), Some("outside"));
    assert_eq!(id, spawned);
    assert_ne!(id, thread::current().id());
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum SumOp {
    /// Adds 1 from each of two scoped threads.
    AddTwice,
    Get,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sum(u64);
impl Model for Sum {
    type Op = SumOp;
    type Output = u64;
    fn step(&mut self, op: &SumOp) -> u64 {
        match op {
            SumOp::AddTwice => {
                self.0 += 2;
                0
            }
            SumOp::Get => self.0,
        }
    }
}

/// A total to which `AddTwice` adds what two scoped threads counted, each adding 1 to a counter on
/// the operation's own stack that they borrow (and returns 0); `Get` returns the total.
pub struct ScopedSum<const ATOMIC: bool>(AtomicU64);

impl<const ATOMIC: bool> Resource for ScopedSum<ATOMIC> {
    type Op = SumOp;
    type Output = u64;
    type Model = Sum;
    fn new() -> Self {
        ScopedSum(AtomicU64::new(0))
    }
    fn apply(&self, op: &SumOp) -> u64 {
        if *op == SumOp::Get {
            return self.0.load(SeqCst);
        }
        let counted = AtomicU64::new(0);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    if ATOMIC {
                        counted.fetch_add(1, SeqCst);
                    } else {
                        counted.store(counted.load(SeqCst) + 1, SeqCst);
                    }
                });
            }
        });
        self.0.fetch_add(counted.load(SeqCst), SeqCst);
        0
    }
}

#[test]
fn a_scoped_lost_update_is_caught_and_shrunk_to_one_operation() {
    for seed in 0..3 {
        let f = Checker::<ScopedSum<false>>::new()
            .seed(seed)
            .run()
            .expect_err("the two scoped threads lose an update");
        let s = f.scenario();
        let ops: Vec<_> = s.init.iter().chain(s.threads.iter().flatten()).chain(&s.post).collect();
        assert_eq!(
            ops,
            [&SumOp::AddTwice, &SumOp::Get],
            "one AddTwice, then a Get that sees 1:\n{f}"
        );
        assert_eq!(f.preemptions(), 1, "{f}");
    }
}

#[test]
fn scoped_threads_with_fetch_add_pass_20_000_schedules_and_every_backend() {
    let report = Checker::<ScopedSum<true>>::new()
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.schedules(), 20_000);
    for scheduler in [
        Scheduler::Loom {
            preemption_bound: Some(2),
        },
        Scheduler::Stress,
    ] {
        Checker::<ScopedSum<true>>::new()
            .scenario(Scenario {
                threads: vec![vec![SumOp::AddTwice]],
                post: vec![SumOp::Get],
                ..Scenario::default()
            })
            .iterations(100)
            .scheduler(scheduler.clone())
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?}:\n{f}"));
    }
}

#[test]
fn outside_a_check_scope_is_std_s() {
    let mut data = vec![1, 2, 3];
    let total = thread::scope(|s| {
        let h = s.spawn(|| data.iter().sum::<i32>());
        assert!(h.thread().name().is_none());
        h.join().unwrap()
    });
    data.push(total);
    assert_eq!(data, [1, 2, 3, 6]);
    let panicked = std::panic::catch_unwind(|| {
        thread::scope(|s| {
            s.spawn(|| panic!("scoped"));
        })
    });
    assert!(panicked.is_err(), "an unjoined panicking thread makes scope panic");
    let joined = thread::scope(|s| s.spawn(|| panic!("scoped")).join().is_err());
    assert!(joined, "a panic joined through the handle is the joiner's");
}
