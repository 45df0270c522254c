//! `crosscheck::thread::park`, `park_timeout` and `Thread::unpark`: a thread that parks once and
//! trusts that it was unparked is caught by an early return the scheduler chooses, with no
//! preemption, and marked in the report; the same code in a loop passes; a park nobody ends is a
//! deadlock; a timed park never is. (The signal has one waiter slot and `Wait` has no answer
//! without a `Raise`, so the checks pin their scenarios instead of generating them.)

use crosscheck::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crosscheck::sync::Mutex;
use crosscheck::thread::{self, Thread};
use crosscheck::{Checker, FailureKind, Model, Resource, Scenario, Scheduler};

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum Op {
    /// Waits until the flag is raised; returns what it saw.
    Wait,
    /// Raises the flag and unparks the waiter.
    Raise,
}

/// How `Wait` waits.
pub trait Waiting: Send + Sync + 'static {
    fn wait(flag: &AtomicBool);
}

/// A one-shot signal: the waiter registers its handle, then parks until the flag is up.
pub struct Signal<W> {
    flag: AtomicBool,
    waiter: Mutex<Option<Thread>>,
    waiting: std::marker::PhantomData<W>,
}

impl<W: Waiting> Resource for Signal<W> {
    type Op = Op;
    type Output = bool;
    type Model = SignalModel;
    fn new() -> Self {
        Signal {
            flag: AtomicBool::new(false),
            waiter: Mutex::new(None),
            waiting: std::marker::PhantomData,
        }
    }
    fn apply(&self, op: &Op) -> bool {
        match op {
            Op::Wait => {
                *self.waiter.lock().unwrap() = Some(thread::current());
                W::wait(&self.flag);
                self.flag.load(SeqCst)
            }
            Op::Raise => {
                self.flag.store(true, SeqCst);
                if let Some(t) = self.waiter.lock().unwrap().as_ref() {
                    t.unpark();
                }
                true
            }
        }
    }
}

/// Every operation returns true: a `Wait` returns once the flag is up, so it linearizes after a
/// `Raise`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SignalModel;

impl Model for SignalModel {
    type Op = Op;
    type Output = bool;
    fn step(&mut self, _op: &Op) -> bool {
        true
    }
}

/// Parks once and trusts it: std lets `park` return without an unpark.
pub struct ParkOnce;
impl Waiting for ParkOnce {
    fn wait(flag: &AtomicBool) {
        if !flag.load(SeqCst) {
            thread::park();
        }
    }
}

/// Parks until the flag is up.
pub struct ParkLoop;
impl Waiting for ParkLoop {
    fn wait(flag: &AtomicBool) {
        while !flag.load(SeqCst) {
            thread::park();
        }
    }
}

/// Parks with a timeout until the flag is up.
pub struct ParkTimeoutLoop;
impl Waiting for ParkTimeoutLoop {
    fn wait(flag: &AtomicBool) {
        while !flag.load(SeqCst) {
            thread::park_timeout(std::time::Duration::from_secs(3600));
        }
    }
}

fn one_waiter_one_raiser() -> Scenario<Op> {
    Scenario {
        threads: vec![vec![Op::Wait], vec![Op::Raise]],
        ..Scenario::default()
    }
}

#[test]
fn parking_once_is_caught_by_an_early_return_and_shrunk_to_it() {
    for seed in 0..3 {
        let f = Checker::<Signal<ParkOnce>>::new()
            .seed(seed)
            .scenario(one_waiter_one_raiser())
            .run()
            .expect_err("an early return shows the bug");
        assert!(matches!(f.kind(), FailureKind::NotLinearizable { .. }), "{f}");
        assert_eq!(f.preemptions(), 0, "the early return alone is enough:\n{f}");
        assert!(f.to_string().contains("T1's park returned early"), "{f}");
        let token = f.token().expect("a token").to_string();
        let again = Checker::<Signal<ParkOnce>>::new()
            .scenario(one_waiter_one_raiser())
            .scheduler(Scheduler::Replay(token.clone()))
            .run()
            .expect_err("the token replays the early return");
        assert_eq!(again.token(), Some(token.as_str()));
    }
}

#[test]
fn without_surprises_parking_once_looks_correct() {
    Checker::<Signal<ParkOnce>>::new()
        .spurious(false)
        .scenario(one_waiter_one_raiser())
        .scheduler(Scheduler::DfsUnreduced { max_iterations: None })
        .run()
        .unwrap_or_else(|f| panic!("only an early return shows this bug:\n{f}"));
}

#[test]
fn every_exhaustive_search_finds_the_early_return() {
    for scheduler in [
        Scheduler::Dfs { max_iterations: None },
        Scheduler::DfsUnreduced { max_iterations: None },
        Scheduler::Bounded { preemptions: 1 },
    ] {
        let f = Checker::<Signal<ParkOnce>>::new()
            .scenario(one_waiter_one_raiser())
            .scheduler(scheduler.clone())
            .run()
            .expect_err("found");
        assert!(f.to_string().contains("park returned early"), "{scheduler:?}:\n{f}");
    }
}

#[test]
fn a_park_loop_passes_with_the_surprises_on() {
    let report = Checker::<Signal<ParkLoop>>::new()
        .scenario(one_waiter_one_raiser())
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("a park loop is correct:\n{f}"));
    assert_eq!(report.schedules(), 20_000);
    Checker::<Signal<ParkLoop>>::new()
        .scenario(one_waiter_one_raiser())
        .scheduler(Scheduler::Dfs { max_iterations: None })
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
}

/// A park nobody ends: with no `Raise`, both waiters park forever.
#[test]
fn a_park_nobody_ends_is_a_deadlock() {
    let f = Checker::<Signal<ParkLoop>>::new()
        .scenario(Scenario {
            threads: vec![vec![Op::Wait], vec![Op::Wait]],
            ..Scenario::default()
        })
        .scheduler(Scheduler::Dfs { max_iterations: None })
        .run()
        .expect_err("nobody raises the flag: both waiters park forever");
    assert!(matches!(f.kind(), FailureKind::Deadlock { .. }), "{f}");
}

/// A timed park loop whose flag is raised with nobody registered to unpark still ends: the
/// timeout is logical, and never a deadlock.
#[test]
fn a_timed_park_never_deadlocks_and_never_sleeps() {
    let report = Checker::<Signal<ParkTimeoutLoop>>::new()
        .scenario(one_waiter_one_raiser())
        .scheduler(Scheduler::Dfs { max_iterations: None })
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.exhausted_scenarios(), 1, "{report}");
    Checker::<Signal<ParkTimeoutLoop>>::new()
        .scenario(one_waiter_one_raiser())
        .iterations(5_000)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
}

/// Outside a check the facade is std's.
#[test]
fn outside_a_check_park_and_unpark_are_stds() {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f2 = flag.clone();
    let h = thread::spawn(move || {
        while !f2.load(std::sync::atomic::Ordering::SeqCst) {
            thread::park();
        }
    });
    flag.store(true, std::sync::atomic::Ordering::SeqCst);
    h.thread().unpark();
    h.join().unwrap();
}

#[test]
#[ignore]
fn show_report() {
    let f = Checker::<Signal<ParkOnce>>::new()
        .scenario(one_waiter_one_raiser())
        .run()
        .expect_err("found");
    println!("{f}");
}
