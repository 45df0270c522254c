//! `crosscheck::cell::UnsafeCell`: a counter kept in a cell with no lock is a data race, found
//! under the controlled schedulers from happens-before (with no preemption needed) and under loom,
//! naming both accesses' sites and threads; the same cell behind a `Mutex` passes; a value
//! published through a release store and an acquire load passes, through `Relaxed` ones it is a
//! race, and fences restore the order, as loom judges them; a spawned thread's write is ordered
//! before its joiner's read.

use crosscheck::cell::UnsafeCell;
use crosscheck::sync::atomic::{fence, AtomicBool, Ordering};
use crosscheck::sync::Mutex;
use crosscheck::{thread, Checker, FailureKind, Model, Resource, Scenario, Scheduler};

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum Op {
    Inc,
    Get,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Count(u64);
impl Model for Count {
    type Op = Op;
    type Output = u64;
    fn step(&mut self, op: &Op) -> u64 {
        if *op == Op::Inc {
            self.0 += 1;
        }
        self.0
    }
}

/// A counter in a cell, guarded by a lock or not.
pub struct CellCounter<const LOCKED: bool> {
    lock: Mutex<()>,
    value: UnsafeCell<u64>,
}

// SAFETY: with LOCKED, every access holds `lock`; without, the accesses race, which is the bug the
// check must report (the test never runs this type outside a check).
unsafe impl<const LOCKED: bool> Sync for CellCounter<LOCKED> {}

impl<const LOCKED: bool> Resource for CellCounter<LOCKED> {
    type Op = Op;
    type Output = u64;
    type Model = Count;
    fn new() -> Self {
        CellCounter {
            lock: Mutex::new(()),
            value: UnsafeCell::new(0).named("count"),
        }
    }
    fn apply(&self, op: &Op) -> u64 {
        let _held = LOCKED.then(|| self.lock.lock().unwrap());
        // SAFETY: see the `Sync` impl.
        let now = self.value.with(|p| unsafe { *p });
        if *op == Op::Inc {
            // SAFETY: as above.
            self.value.with_mut(|p| unsafe { *p = now + 1 });
            return now + 1;
        }
        now
    }
}

fn race_parts(f: &crosscheck::Failure<Op>) -> (String, String, String) {
    match f.kind() {
        FailureKind::DataRace { cell, first, second } => (cell.clone(), first.clone(), second.clone()),
        other => panic!("expected a data race, got {other:?}:\n{f}"),
    }
}

#[test]
fn an_unlocked_cell_is_a_data_race_naming_both_sites_with_no_preemption() {
    for seed in 0..3 {
        let f = Checker::<CellCounter<false>>::new()
            .seed(seed)
            .run()
            .expect_err("two threads access the cell with nothing between them");
        let (cell, first, second) = race_parts(&f);
        assert!(cell.starts_with("cell \"count\" (tests/data_race.rs:"), "{cell}");
        for access in [&first, &second] {
            assert!(access.contains(" it at tests/data_race.rs:"), "{access}");
        }
        assert!(
            first.contains("writes") || second.contains("writes"),
            "{first} / {second}"
        );
        assert_ne!(
            first.split(' ').next(),
            second.split(' ').next(),
            "two threads: {first} / {second}"
        );
        let s = f.scenario();
        assert_eq!(s.threads.len(), 2, "{f}");
        assert_eq!(s.threads.iter().map(Vec::len).sum::<usize>(), 2, "{f}");
        assert_eq!(f.preemptions(), 0, "happens-before needs no overlap:\n{f}");
        let text = f.to_string();
        assert!(text.contains("data race on cell \"count\""), "{text}");
        let again = Checker::<CellCounter<false>>::new()
            .scheduler(Scheduler::Replay(f.token().expect("a token").to_string()))
            .run()
            .expect_err("the token replays the race");
        assert_eq!(race_parts(&again), (cell, first, second));
    }
}

#[test]
fn loom_finds_the_race_too() {
    let f = Checker::<CellCounter<false>>::new()
        .scenario(Scenario {
            threads: vec![vec![Op::Inc], vec![Op::Inc]],
            ..Scenario::default()
        })
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .run()
        .expect_err("loom sees the causality violation");
    let (_, first, second) = race_parts(&f);
    assert!(
        second.contains("tests/data_race.rs:") && second.contains("loom:"),
        "{second}"
    );
    assert!(first.contains("tests/data_race.rs:"), "{first}");
}

#[test]
fn the_same_cell_behind_a_mutex_passes() {
    let report = Checker::<CellCounter<true>>::new()
        .iterations(20_000)
        .run()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.schedules(), 20_000);
    Checker::<CellCounter<true>>::new()
        .threads(2)
        .ops_per_thread(2)
        .iterations(2_000)
        .scheduler(Scheduler::Loom {
            preemption_bound: Some(2),
        })
        .run()
        .unwrap_or_else(|f| panic!("loom: {f}"));
}

/// How the writer publishes the cell and how the reader looks for it.
pub trait Publish: Send + Sync + 'static {
    fn publish(flag: &AtomicBool);
    fn published(flag: &AtomicBool) -> bool;
}

pub struct ReleaseAcquire;
impl Publish for ReleaseAcquire {
    fn publish(flag: &AtomicBool) {
        flag.store(true, Ordering::Release);
    }
    fn published(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Acquire)
    }
}

pub struct RelaxedOnly;
impl Publish for RelaxedOnly {
    fn publish(flag: &AtomicBool) {
        flag.store(true, Ordering::Relaxed);
    }
    fn published(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Relaxed)
    }
}

pub struct Fenced;
impl Publish for Fenced {
    fn publish(flag: &AtomicBool) {
        fence(Ordering::Release);
        flag.store(true, Ordering::Relaxed);
    }
    fn published(flag: &AtomicBool) -> bool {
        let seen = flag.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        seen
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, crosscheck::arbitrary::Arbitrary)]
pub enum PubOp {
    Write,
    Read,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AnyValue;
impl Model for AnyValue {
    type Op = PubOp;
    type Output = ();
    fn step(&mut self, _op: &PubOp) {}
}

pub struct Published<P> {
    ready: AtomicBool,
    value: UnsafeCell<u64>,
    publish: std::marker::PhantomData<P>,
}

// SAFETY: the value is written once, before `ready` is published, and read only after `ready` is
// seen; whether that orders them is what the checks judge.
unsafe impl<P> Sync for Published<P> {}

impl<P: Publish> Resource for Published<P> {
    type Op = PubOp;
    type Output = ();
    type Model = AnyValue;
    fn new() -> Self {
        Published {
            ready: AtomicBool::new(false),
            value: UnsafeCell::new(0),
            publish: std::marker::PhantomData,
        }
    }
    fn apply(&self, op: &PubOp) {
        match op {
            PubOp::Write => {
                // SAFETY: see the `Sync` impl.
                self.value.with_mut(|p| unsafe { *p = 42 });
                P::publish(&self.ready);
            }
            PubOp::Read => {
                if P::published(&self.ready) {
                    // SAFETY: see the `Sync` impl.
                    let v = self.value.with(|p| unsafe { *p });
                    assert_eq!(v, 42);
                }
            }
        }
    }
}

fn writer_and_reader() -> Scenario<PubOp> {
    Scenario {
        threads: vec![vec![PubOp::Write], vec![PubOp::Read]],
        ..Scenario::default()
    }
}

fn verdicts<P: Publish>() -> [bool; 2] {
    let race = |scheduler: Scheduler| match Checker::<Published<P>>::new()
        .scenario(writer_and_reader())
        .scheduler(scheduler.clone())
        .run()
    {
        Ok(_) => false,
        Err(f) if matches!(f.kind(), FailureKind::DataRace { .. }) => true,
        Err(f) => panic!("{scheduler:?}: not a race:\n{f}"),
    };
    [
        race(Scheduler::Dfs { max_iterations: None }),
        race(Scheduler::Loom { preemption_bound: None }),
    ]
}

#[test]
fn publication_is_judged_as_loom_judges_it() {
    assert_eq!(
        verdicts::<ReleaseAcquire>(),
        [false, false],
        "release/acquire orders the accesses"
    );
    assert_eq!(
        verdicts::<RelaxedOnly>(),
        [true, true],
        "relaxed accesses order nothing"
    );
    assert_eq!(
        verdicts::<Fenced>(),
        [false, false],
        "fences around relaxed accesses order them"
    );
}

/// Each operation spawns a thread that writes the cell, joins it, and reads the cell: the join
/// orders the write before the read; two operations at once still race.
pub struct Shared(UnsafeCell<u64>);

// SAFETY: accesses race only across operations, which the check is expected to report.
unsafe impl Sync for Shared {}

pub struct SpawnJoin(std::sync::Arc<Shared>);

impl Resource for SpawnJoin {
    type Op = PubOp;
    type Output = ();
    type Model = AnyValue;
    fn new() -> Self {
        SpawnJoin(std::sync::Arc::new(Shared(UnsafeCell::new(0))))
    }
    fn apply(&self, _op: &PubOp) {
        let shared = std::sync::Arc::clone(&self.0);
        // SAFETY: see `Shared`.
        let writer = thread::spawn(move || shared.0.with_mut(|p| unsafe { *p += 1 }));
        writer.join().unwrap();
        // SAFETY: the writer was joined above.
        self.0 .0.with(|p| unsafe { *p });
    }
}

#[test]
fn a_join_orders_the_joined_thread_s_write_before_the_joiner_s_read() {
    let one = |threads: Vec<Vec<PubOp>>| {
        Checker::<SpawnJoin>::new()
            .scenario(Scenario {
                threads,
                ..Scenario::default()
            })
            .scheduler(Scheduler::Dfs { max_iterations: None })
            .run()
    };
    one(vec![vec![PubOp::Write, PubOp::Write]]).unwrap_or_else(|f| panic!("spawn and join order it:\n{f}"));
    let f = one(vec![vec![PubOp::Write], vec![PubOp::Write]]).expect_err("two operations race");
    assert!(matches!(f.kind(), FailureKind::DataRace { .. }), "{f}");
    assert!(
        f.to_string().contains("T1's thread") || f.to_string().contains("T2's thread"),
        "{f}"
    );
}
