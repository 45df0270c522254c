//! The rest of std's concurrency surface in the facade: atomics of every width with every
//! read-modify-write, `Barrier`, `Once`, `OnceLock` and `LazyLock`. Each is written against as a
//! user would write against std; each blocking type gets a deadlock test; the lazy-initialisation
//! race (check-then-init with two atomics) is caught and shrunk to its minimum, and the same
//! initialisation through `OnceLock` or `LazyLock` passes a large budget.

use crosscheck::sync::atomic::*;
use crosscheck::sync::{Barrier, LazyLock, Once, OnceLock};
use crosscheck::{Checker, FailureKind, Model, Resource, Scenario, Scheduler};

/// Every operation returns 1: the value of the one and only initialisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AlwaysOne;

impl Model for AlwaysOne {
    type Op = Get;
    type Output = u64;
    fn step(&mut self, _op: &Get) -> u64 {
        1
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub struct Get;

/// A value computed on first use: the number of initialisations run so far, plus one. If two
/// threads both initialise, one of them sees 2.
pub trait Lazy: Send + Sync + 'static {
    fn new() -> Self;
    fn get(&self, inits: &AtomicU32) -> u64;
}

pub struct LazyValue<L> {
    inits: AtomicU32,
    lazy: L,
}

impl<L: Lazy> Resource for LazyValue<L> {
    type Op = Get;
    type Output = u64;
    type Model = AlwaysOne;
    fn new() -> Self {
        LazyValue {
            inits: AtomicU32::new(0),
            lazy: L::new(),
        }
    }
    fn apply(&self, _op: &Get) -> u64 {
        self.lazy.get(&self.inits)
    }
}

fn init(inits: &AtomicU32) -> u64 {
    u64::from(inits.fetch_add(1, Ordering::SeqCst)) + 1
}

/// Check-then-init with two atomics: two threads can both see "not ready" and both initialise.
pub struct TwoAtomics {
    ready: AtomicBool,
    value: AtomicU64,
}
impl Lazy for TwoAtomics {
    fn new() -> Self {
        TwoAtomics {
            ready: AtomicBool::new(false),
            value: AtomicU64::new(0),
        }
    }
    fn get(&self, inits: &AtomicU32) -> u64 {
        if !self.ready.load(Ordering::Acquire) {
            self.value.store(init(inits), Ordering::SeqCst);
            self.ready.store(true, Ordering::Release);
        }
        self.value.load(Ordering::SeqCst)
    }
}

pub struct WithOnceLock(OnceLock<u64>);
impl Lazy for WithOnceLock {
    fn new() -> Self {
        WithOnceLock(OnceLock::new())
    }
    fn get(&self, inits: &AtomicU32) -> u64 {
        *self.0.get_or_init(|| init(inits))
    }
}

pub struct WithOnce {
    once: Once,
    value: AtomicU64,
}
impl Lazy for WithOnce {
    fn new() -> Self {
        WithOnce {
            once: Once::new(),
            value: AtomicU64::new(0),
        }
    }
    fn get(&self, inits: &AtomicU32) -> u64 {
        self.once.call_once(|| self.value.store(init(inits), Ordering::Relaxed));
        self.value.load(Ordering::Relaxed)
    }
}

/// `LazyLock` needs its initialiser at creation, so the counter lives beside it.
pub struct WithLazyLock {
    inits: std::sync::Arc<AtomicU32>,
    lazy: LazyLock<u64, Box<dyn FnOnce() -> u64 + Send>>,
}
impl Lazy for WithLazyLock {
    fn new() -> Self {
        let inits = std::sync::Arc::new(AtomicU32::new(0));
        let counter = std::sync::Arc::clone(&inits);
        WithLazyLock {
            inits,
            lazy: LazyLock::new(Box::new(move || init(&counter))),
        }
    }
    fn get(&self, _unused: &AtomicU32) -> u64 {
        let _ = &self.inits;
        *self.lazy
    }
}

#[test]
fn check_then_init_with_two_atomics_is_caught_and_shrunk_to_two_threads_and_one_preemption() {
    for seed in 0..3 {
        let f = Checker::<LazyValue<TwoAtomics>>::new()
            .seed(seed)
            .run()
            .expect_err("two threads both initialise");
        assert!(matches!(f.kind(), FailureKind::NotLinearizable { .. }), "{f}");
        let s = f.scenario();
        assert_eq!(s.threads.len(), 2, "two threads are enough:\n{f}");
        assert_eq!(s.threads.iter().map(Vec::len).sum::<usize>(), 2, "one Get each:\n{f}");
        assert!(s.init.is_empty() && s.post.is_empty(), "{f}");
        assert_eq!(
            f.preemptions(),
            1,
            "one preemption, between the check and the init:\n{f}"
        );
        let again = Checker::<LazyValue<TwoAtomics>>::new()
            .scheduler(Scheduler::Replay(f.token().expect("a token").to_string()))
            .run()
            .expect_err("the token replays it");
        assert_eq!(again.token(), f.token());
    }
}

#[test]
fn once_lock_once_and_lazy_lock_initialise_once_in_20_000_schedules() {
    fn passes<L: Lazy>(name: &str) {
        let report = Checker::<LazyValue<L>>::new()
            .iterations(20_000)
            .run()
            .unwrap_or_else(|f| panic!("{name} initialises once:\n{f}"));
        assert_eq!(report.schedules(), 20_000, "{name}");
    }
    passes::<WithOnceLock>("OnceLock");
    passes::<WithOnce>("Once");
    passes::<WithLazyLock>("LazyLock");
}

#[test]
fn the_lazy_initialisations_pass_exhaustively_and_under_loom_and_stress() {
    let two_by_two = Scenario {
        threads: vec![vec![Get, Get], vec![Get, Get]],
        ..Scenario::default()
    };
    fn all<L: Lazy>(name: &str, scenario: &Scenario<Get>) {
        for scheduler in [
            Scheduler::Dfs { max_iterations: None },
            Scheduler::Loom {
                preemption_bound: Some(2),
            },
        ] {
            Checker::<LazyValue<L>>::new()
                .scenario(scenario.clone())
                .scheduler(scheduler.clone())
                .run()
                .unwrap_or_else(|f| panic!("{name} under {scheduler:?}:\n{f}"));
        }
        Checker::<LazyValue<L>>::new()
            .threads(4)
            .iterations(200)
            .scheduler(Scheduler::Stress)
            .run()
            .unwrap_or_else(|f| panic!("{name} under stress:\n{f}"));
    }
    all::<WithOnceLock>("OnceLock", &two_by_two);
    all::<WithOnce>("Once", &two_by_two);
    all::<WithLazyLock>("LazyLock", &two_by_two);
    // And the racy one is found by loom too.
    let f = Checker::<LazyValue<TwoAtomics>>::new()
        .scenario(Scenario {
            threads: vec![vec![Get], vec![Get]],
            ..Scenario::default()
        })
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .run()
        .expect_err("loom finds the double init");
    assert!(matches!(f.kind(), FailureKind::NotLinearizable { .. }), "{f}");
}

/// Threads meet at a barrier for `N` and report whether they led their round.
pub struct Rendezvous<const N: usize> {
    barrier: Barrier,
    leaders: AtomicUsize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub struct Meet;

/// A round of `Meet`s has no sequential meaning beyond "returns"; the checks are the deadlock
/// detector and the leader count in `apply`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Returns;
impl Model for Returns {
    type Op = Meet;
    type Output = ();
    fn step(&mut self, _op: &Meet) {}
}

impl<const N: usize> Resource for Rendezvous<N> {
    type Op = Meet;
    type Output = ();
    type Model = Returns;
    fn new() -> Self {
        Rendezvous {
            barrier: Barrier::new(N),
            leaders: AtomicUsize::new(0),
        }
    }
    fn apply(&self, _op: &Meet) {
        if self.barrier.wait().is_leader() {
            self.leaders.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn meetings(threads: usize, rounds: usize) -> Scenario<Meet> {
    Scenario {
        threads: vec![vec![Meet; rounds]; threads],
        ..Scenario::default()
    }
}

#[test]
fn a_barrier_releases_every_round_under_every_backend() {
    for scheduler in [
        Scheduler::Dfs { max_iterations: None },
        Scheduler::Random,
        Scheduler::Loom {
            preemption_bound: Some(2),
        },
        Scheduler::Stress,
    ] {
        Checker::<Rendezvous<2>>::new()
            .scenario(meetings(2, 2))
            .iterations(300)
            .scheduler(scheduler.clone())
            .run()
            .unwrap_or_else(|f| panic!("{scheduler:?}:\n{f}"));
    }
    Checker::<Rendezvous<3>>::new()
        .scenario(meetings(3, 2))
        .iterations(2_000)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
}

#[test]
fn a_barrier_short_of_threads_is_a_deadlock_that_names_it() {
    let f = Checker::<Rendezvous<3>>::new()
        .scenario(meetings(2, 1))
        .scheduler(Scheduler::Dfs { max_iterations: None })
        .run()
        .expect_err("two threads wait for a third forever");
    assert!(matches!(f.kind(), FailureKind::Deadlock { .. }), "{f}");
    let text = f.to_string();
    assert!(
        text.contains("\"barrier\"") && text.contains("tests/std_surface.rs"),
        "{text}"
    );
}

/// An initialiser that needs its own `Once`: std deadlocks; crosscheck says so.
pub struct Reentrant(Once);
impl Resource for Reentrant {
    type Op = Meet;
    type Output = ();
    type Model = Returns;
    fn new() -> Self {
        Reentrant(Once::new())
    }
    fn apply(&self, _op: &Meet) {
        self.0.call_once(|| self.0.call_once(|| {}));
    }
}

#[test]
fn a_once_that_waits_for_itself_is_a_deadlock() {
    let f = Checker::<Reentrant>::new()
        .scenario(meetings(1, 1))
        .run()
        .expect_err("the initialiser waits for itself");
    assert!(matches!(f.kind(), FailureKind::Deadlock { .. }), "{f}");
    assert!(f.to_string().contains("\"once\""), "{f}");
}

#[test]
fn outside_a_check_the_types_are_std_s() {
    let b = Barrier::new(1);
    assert!(b.wait().is_leader());
    let once = Once::new();
    let mut runs = 0;
    once.call_once(|| runs += 1);
    once.call_once(|| runs += 1);
    assert!(once.is_completed());
    assert_eq!(runs, 1);
    let cell = OnceLock::new();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(3), Ok(()));
    assert_eq!(cell.set(4), Err(4));
    assert_eq!(*cell.get_or_init(|| 5), 3);
    let lazy: LazyLock<u32> = LazyLock::new(|| 7);
    assert_eq!(*lazy, 7);
}

#[test]
fn every_atomic_operation_returns_what_std_s_does() {
    macro_rules! int {
        ($ours:ident, $std:ident, $t:ty) => {{
            let a = $ours::new(6);
            let b = std::sync::atomic::$std::new(6);
            let o = Ordering::SeqCst;
            assert_eq!(a.fetch_add(3, o), b.fetch_add(3, o));
            assert_eq!(a.fetch_sub(1, o), b.fetch_sub(1, o));
            assert_eq!(a.fetch_and(12, o), b.fetch_and(12, o));
            assert_eq!(a.fetch_nand(5, o), b.fetch_nand(5, o));
            assert_eq!(a.fetch_or(2, o), b.fetch_or(2, o));
            assert_eq!(a.fetch_xor(7, o), b.fetch_xor(7, o));
            assert_eq!(a.fetch_max(9, o), b.fetch_max(9, o));
            assert_eq!(a.fetch_min(4, o), b.fetch_min(4, o));
            assert_eq!(a.swap(11, o), b.swap(11, o));
            assert_eq!(a.compare_exchange(11, 1, o, o), b.compare_exchange(11, 1, o, o));
            assert_eq!(a.compare_exchange(11, 2, o, o), b.compare_exchange(11, 2, o, o));
            let f = |x: $t| (x < 100).then(|| x + 10);
            assert_eq!(a.fetch_update(o, o, f), b.fetch_update(o, o, f));
            assert_eq!(a.load(o), b.load(o));
            assert_eq!(a.into_inner(), b.into_inner());
        }};
    }
    int!(AtomicI8, AtomicI8, i8);
    int!(AtomicI16, AtomicI16, i16);
    int!(AtomicI32, AtomicI32, i32);
    int!(AtomicI64, AtomicI64, i64);
    int!(AtomicIsize, AtomicIsize, isize);
    int!(AtomicU8, AtomicU8, u8);
    int!(AtomicU16, AtomicU16, u16);
    int!(AtomicU32, AtomicU32, u32);
    int!(AtomicU64, AtomicU64, u64);
    int!(AtomicUsize, AtomicUsize, usize);
    let flag = AtomicBool::new(true);
    let o = Ordering::SeqCst;
    assert!(flag.fetch_and(false, o));
    assert!(!flag.fetch_or(true, o));
    assert!(flag.fetch_xor(true, o));
    assert!(!flag.fetch_nand(true, o));
    assert!(flag.fetch_not(o));
    assert!(!flag.load(o));
    let mut x = 5;
    let p = AtomicPtr::new(std::ptr::null_mut());
    assert!(p.swap(&mut x, o).is_null());
    assert_eq!(p.load(o), &mut x as *mut i32);
    fence(o);
    compiler_fence(o);
}

/// The read-modify-writes are scheduled and recorded like the others: a `fetch_or` race on a
/// `u8` bit set is found, with the values in the interleaving.
pub struct Bits(AtomicU8);

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum BitOp {
    /// Sets bit `k % 8`; returns whether it was newly set (racy: load, then or).
    Set(u8),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BitsModel(u8);
impl Model for BitsModel {
    type Op = BitOp;
    type Output = bool;
    fn step(&mut self, op: &BitOp) -> bool {
        let BitOp::Set(k) = op;
        let bit = 1 << (k % 8);
        let new = self.0 & bit == 0;
        self.0 |= bit;
        new
    }
}

impl Resource for Bits {
    type Op = BitOp;
    type Output = bool;
    type Model = BitsModel;
    fn new() -> Self {
        Bits(AtomicU8::new(0))
    }
    fn apply(&self, op: &BitOp) -> bool {
        let BitOp::Set(k) = op;
        let bit = 1 << (k % 8);
        let new = self.0.load(Ordering::SeqCst) & bit == 0;
        self.0.fetch_or(bit, Ordering::SeqCst);
        new
    }
}

#[test]
fn a_u8_bit_set_race_is_found_with_its_values() {
    let f = Checker::<Bits>::new()
        .run()
        .expect_err("two threads both set the same bit");
    assert!(matches!(f.kind(), FailureKind::NotLinearizable { .. }), "{f}");
    let text = f.to_string();
    assert!(
        text.contains("loads atomic#0") && text.contains("updates atomic#0"),
        "{text}"
    );
    assert_eq!(f.preemptions(), 1, "{f}");
}
